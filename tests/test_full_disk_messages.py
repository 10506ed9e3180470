"""What a 507 says on a full disk (a real small tmpfs holding the whole data folder, root
only; real HTTP over loopback): "the file" where a file was sent, "the change" for an edit, a
move to the trash, a presign; the code insufficient_storage either way.

Before, every 507 said "There is not enough free storage space to save the file", a metadata
edit's and a trash's too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.errors import NO_SPACE_FOR_CHANGE, NO_SPACE_FOR_FILE
from core.library import Library
from server.entry import EmbeddedServer
from tests.faults import fill_disk, library_on_tmpfs
from tests.internals import db_of
from tests.resumable_client import noise_png
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body, server_config

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def full_library(tmp_path: Path) -> Iterator[Library]:
    with library_on_tmpfs(tmp_path / "data", "16m") as lib:
        yield lib


def _said(reply: Any) -> tuple[int, str, str]:
    error = reply.json()["error"]
    return reply.status, error["code"], error["message"]


def test_a_507_says_what_could_not_be_saved(full_library: Library, tmp_path: Path) -> None:
    lib = full_library
    tokens = make_tokens(lib)
    file_id = lib.uploads.ingest(noise_png(tmp_path / "a.png", 40), "image").id
    png = noise_png(tmp_path / "b.png", 60).read_bytes()
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        with db_of(lib).engine.connect() as conn:  # the catalog's next write needs new room
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        fill_disk(lib.paths.data_dir / "filler")
        json_type = {"Content-Type": "application/json"}
        edit = http_call(
            f"{server.url}/files/{file_id}",
            "PATCH",
            b'{"description": "x"}',
            {**bearer(tokens.upload), **json_type},
        )
        assert _said(edit) == (507, "insufficient_storage", NO_SPACE_FOR_CHANGE)
        trash = http_call(f"{server.url}/files/{file_id}", "DELETE", headers=bearer(tokens.upload))
        assert _said(trash) == (507, "insufficient_storage", NO_SPACE_FOR_CHANGE)
        form = json.dumps({"original_filename": "c.png", "file_type": "image", "size": 100})
        presign = http_call(
            f"{server.url}/files/upload/presigned",
            "POST",
            form.encode(),
            {**bearer(tokens.upload), **json_type},
        )
        assert _said(presign) == (507, "insufficient_storage", NO_SPACE_FOR_CHANGE)
        body, ctype = multipart_body({"file_type": "image"}, {"file": ("b.png", png, "image/png")})
        direct = http_call(
            f"{server.url}/files/upload/direct",
            "POST",
            body,
            {**bearer(tokens.upload), "Content-Type": ctype},
        )
        assert _said(direct) == (507, "insufficient_storage", NO_SPACE_FOR_FILE)
