"""Issue 8, item 4: a full disk answers 507 `insufficient_storage`, leaves no partial file and
the server keeps serving; through an injected ENOSPC always, and a real small tmpfs as root."""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.errors import InsufficientStorage
from core.library import Library
from core.maintenance import reconcile
from core.spool import SpoolWriter
from core.storage.local import LocalStorage
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.faults import assert_healthy, fill_disk, partial_files, small_tmpfs
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body, server_config

pytestmark = pytest.mark.timeout(90)


class FullDisk:
    """A file object that fails like a full disk once `room` bytes were written."""

    def __init__(self, inner: Any, room: int) -> None:
        self._inner = inner
        self._room = room

    def write(self, data: bytes) -> int:
        self._room -= len(data)
        if self._room < 0:
            raise OSError(errno.ENOSPC, "No space left on device")
        return int(self._inner.write(data))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> FullDisk:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()


def _direct(url: str, token: str, name: str, data: bytes, kind: str, ctype: str) -> Any:
    body, form_type = multipart_body({"file_type": kind}, {"file": (name, data, ctype)})
    return http_call(
        f"{url}/files/upload/direct", "POST", body, {**bearer(token), "Content-Type": form_type}
    )


def _signed_put(url: str, token: str, data: bytes) -> Any:
    form, ctype = multipart_body(
        {"original_filename": "big.mp4", "file_type": "video", "content_type": "video/mp4"}
    )
    presigned = http_call(
        f"{url}/files/upload/presigned", "POST", form, {**bearer(token), "Content-Type": ctype}
    )
    assert presigned.status == 201, presigned.body
    return http_call(
        presigned.json()["upload_url"], "PUT", data, {"Content-Type": "video/mp4"}
    ), presigned.json()["file_id"]


def _assert_507(reply: Any) -> None:
    assert reply.status == 507, reply.body
    error = reply.json()["error"]
    assert error["code"] == "insufficient_storage"
    assert error["request_id"] == reply.headers["X-Request-ID"]
    assert "/" not in error["message"]  # no path


def test_injected_enospc_everywhere(
    library: Library, media_dir: Any, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    tokens = make_tokens(library)
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        kept = _direct(
            server.url, tokens.upload, "kept.png", media_dir.png.read_bytes(), "image", "image/png"
        )
        assert kept.status == 201
        video = media_dir.mp4.read_bytes()

        # 1. The temp folder fills while a direct upload is spooled.
        original_init = SpoolWriter.__init__

        def small_tmp(self: SpoolWriter, *args: Any, **kwargs: Any) -> None:
            original_init(self, *args, **kwargs)
            self._fh = FullDisk(self._fh, 1024)  # type: ignore[assignment]

        with monkeypatch.context() as m:
            m.setattr(SpoolWriter, "__init__", small_tmp)
            _assert_507(_direct(server.url, tokens.upload, "a.mp4", video, "video", "video/mp4"))
        assert partial_files(data_dir) == []

        # 2. The object folder fills while a local signed PUT is written.
        original_temp = LocalStorage._create_temp

        def small_objects(self: LocalStorage, key: str, path: Path) -> Any:
            tmp, out = original_temp(self, key, path)
            return tmp, FullDisk(out, 1024)

        with monkeypatch.context() as m:
            m.setattr(LocalStorage, "_create_temp", small_objects)
            reply, pending_id = _signed_put(server.url, tokens.upload, video)
            _assert_507(reply)
            assert partial_files(data_dir) == []
            # 3. A direct upload is not copied into the store: its fsynced spool file is
            #    renamed into place (a copy only across file systems: the tmpfs test below).
            jpeg = media_dir.jpeg.read_bytes()
            renamed = _direct(server.url, tokens.upload, "b.jpg", jpeg, "image", "image/jpeg")
            assert renamed.status == 201, renamed.body
        assert partial_files(data_dir) == []

        # 4. Anything else that meets ENOSPC, below the core's own translation.
        def full(*_: Any, **__: Any) -> Any:
            raise OSError(errno.ENOSPC, f"No space left on device: '{data_dir}/x'")

        with monkeypatch.context() as m:
            m.setattr(Library, "get_file", full)
            _assert_507(http_call(f"{server.url}/files/1", headers=bearer(tokens.read)))

        # The server kept serving: the same uploads now succeed.
        again = _direct(server.url, tokens.upload, "a.mp4", video, "video", "video/mp4")
        assert again.status == 201, again.body
        library.deferred.run()
        expire = http_call(
            f"{server.url}/files/{pending_id}?hard_delete=true",
            "DELETE",
            headers=bearer(tokens.admin),
        )
        assert expire.status == 200
        ready = {kept.json()["id"]: media_dir.png.read_bytes(), again.json()["id"]: video}
        ready[renamed.json()["id"]] = jpeg
        assert_healthy(library, ready, server.url, tokens.read)
    finally:
        server.stop()


@pytest.fixture
def small_disk(data_dir: Path) -> Iterator[Path]:
    """data_dir/tmp and data_dir/objects on 1 MiB tmpfs mounts (root only)."""
    with small_tmpfs(data_dir / "tmp", "1m"), small_tmpfs(data_dir / "objects", "1m"):
        yield data_dir


def test_real_full_tmpfs(small_disk: Path, media_dir: Any) -> None:
    library = Library.open(make_settings(small_disk))
    tokens = make_tokens(library)
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        big = os.urandom(3 * 1024 * 1024)  # three times the room of each mount
        _assert_507(_direct(server.url, tokens.upload, "big.mp4", big, "video", "video/mp4"))
        assert partial_files(small_disk) == []
        reply, pending_id = _signed_put(server.url, tokens.upload, big)
        _assert_507(reply)
        assert partial_files(small_disk) == []
        # still serving, and a file that fits is stored
        png = media_dir.png.read_bytes()
        kept = _direct(server.url, tokens.upload, "kept.png", png, "image", "image/png")
        assert kept.status == 201, kept.body
        assert http_call(f"{server.url}/health").status == 200
        gone = http_call(
            f"{server.url}/files/{pending_id}?hard_delete=true",
            "DELETE",
            headers=bearer(tokens.admin),
        )
        assert gone.status == 200, gone.body
        assert_healthy(library, {kept.json()["id"]: png}, server.url, tokens.read)
        assert json.loads(http_call(f"{server.url}/health").body)
    finally:
        server.stop()
        library.close()


def test_the_desktop_says_the_disk_is_full_in_both_languages(qapp: Any) -> None:
    pytest.importorskip("PySide6.QtWidgets")
    from core.errors import InsufficientStorage
    from desktop_app.errors import describe_error
    from desktop_app.i18n import install_translations

    full = InsufficientStorage("There is not enough free storage space to save the file")
    assert describe_error(full).text.startswith("There is not enough free space to store the file")
    install_translations("es")
    try:
        assert describe_error(full).text.startswith(
            "No hay espacio libre suficiente para guardar el archivo"
        )
    finally:
        install_translations("en")


def test_a_move_refused_by_a_full_disk_leaves_no_pending_deletion(
    data_dir: Path, media_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file moved to another athlete while the disk is full: the copy is refused (507) and
    nothing was stored at its key, so the deletion noted before the copy goes with it (it
    was listed by reconcile as pending for 6 hours after every refused move). The copy of a
    file system without hard links (a share): a linked copy needs no room and succeeds."""

    def no_link(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.EPERM, os.strerror(errno.EPERM))

    with small_tmpfs(data_dir / "objects", "1m"):
        library = Library.open(make_settings(data_dir))
        try:
            record = library.uploads.ingest(media_dir.png, "image")
            filler = data_dir / "objects" / "filler"
            fill_disk(filler)
            monkeypatch.setattr(os, "link", no_link)
            with pytest.raises(InsufficientStorage):
                library.update_file(record.id, {"athlete_id": 9})
            monkeypatch.undo()
            filler.unlink()
            assert library.deferred.pending_keys() == set()  # was: the copy's key
            assert library.get_file(record.id).storage_key == record.storage_key
            check = reconcile(library)
            assert check.clean and check.pending_deletions == [], check.as_dict()
        finally:
            library.close()
