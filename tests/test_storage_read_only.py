"""A local storage folder that refuses writes (its disk remounted read-only, a card's lock
switch, rights taken away): storage_unavailable with reason storage_read_only, a fault of the
set-up (an administrator mends it; no client retries it), in words that point at the folder.

Before (an outside tester of the desktop under faults): the error had no reason, and the
desktop's upload rows said "The storage cannot be reached. Check the connection and the
storage settings." to a user whose storage is a folder on this machine; a server's client read
"The storage is not available right now; try again later". The folder is made immutable
(chattr +i) here: root, as the tests run, is refused too, as on a read-only remount."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from core.errors import SETUP_FAULT_REASONS, STORAGE_READ_ONLY, StorageUnavailable
from core.library import Library
from desktop_app.errors import describe_error
from server.entry import EmbeddedServer
from server.errors import UNAVAILABLE_MESSAGES
from tests.faults import immutable, partial_files
from tests.media import make_jpeg
from tests.server_fixtures import (
    bearer,
    direct_upload,
    http_call,
    make_tokens,
    multipart_body,
    server_config,
)

pytestmark = pytest.mark.timeout(60)


def test_a_refused_write_is_storage_read_only_in_core_over_http_and_in_the_desktop(
    library: Library, tmp_path: Path, qtbot: QtBot
) -> None:
    assert STORAGE_READ_ONLY in SETUP_FAULT_REASONS  # said as "ask the administrator"
    objects = library.settings.paths.objects_dir
    data_dir = str(library.settings.paths.data_dir)
    photo = make_jpeg(tmp_path / "sprint.jpg")
    tokens = make_tokens(library)
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        with immutable(objects):
            with pytest.raises(StorageUnavailable) as refused:
                library.uploads.ingest(photo, "image")
            exc = refused.value
            assert exc.reason == STORAGE_READ_ONLY, (exc.reason, exc.message)
            assert str(exc.details["path"]).startswith(str(objects)), exc.details

            # the desktop's sentence names the folder and what to do, not the connection
            said = describe_error(exc).text
            assert said.startswith("MediaDesk may not write in its storage folder ("), said
            assert str(objects) in said and "connection" not in said, said

            # a server's client reads the reason and the administrator's sentence, no path
            body, content_type = multipart_body(
                {"file_type": "image"}, {"file": ("sprint.jpg", photo.read_bytes(), "image/jpeg")}
            )
            headers = {**bearer(tokens.upload), "Content-Type": content_type}
            reply = http_call(f"{server.url}/files/upload/direct", "POST", body, headers)
            error = reply.json()["error"]
            assert (reply.status, error["code"], error.get("reason")) == (
                500,
                "storage_unavailable",
                STORAGE_READ_ONLY,
            ), reply.body
            assert error["message"] == UNAVAILABLE_MESSAGES[STORAGE_READ_ONLY], error
            assert not error["message"].endswith("try again later"), error
            assert data_dir not in reply.body.decode(), reply.body
        # nothing half-written, and writable again the next upload is stored
        assert partial_files(library.settings.paths.data_dir) == []
        stored = direct_upload(server.url, tokens.upload, body, content_type)
        assert stored["status"] == "ready", stored
    finally:
        server.stop()
