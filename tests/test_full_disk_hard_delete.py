"""A hard delete on a disk so full that the catalog cannot grow its -wal (a real small tmpfs
holding the whole data folder, root only; real HTTP over loopback): it goes through and frees
the file's bytes, in the room of the catalog's reserve (core/reserve.py), which comes back once
there is room for it. Other writes still answer 507."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import SQLAlchemyError

from core.library import Library
from core.reserve import RESERVE_BYTES
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.faults import assert_healthy, fill_disk, small_tmpfs
from tests.internals import db_of
from tests.resumable_client import noise_png
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body, server_config

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def full_library(tmp_path: Path) -> Iterator[Library]:
    """A library whose whole data folder (catalog, objects, logs) is a 16 MiB tmpfs."""
    with small_tmpfs(tmp_path / "data", "16m") as data_dir:
        lib = Library.open(make_settings(data_dir))
        try:
            yield lib
        finally:
            lib.close()


def _fill(lib: Library) -> Path:
    """Cuts the catalog's -wal to nothing (its next write needs new room) and fills the disk."""
    with db_of(lib).engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    filler = lib.paths.data_dir / "filler"
    fill_disk(filler)
    return filler


def _direct(url: str, token: str, data: bytes) -> Any:
    body, ctype = multipart_body({"file_type": "image"}, {"file": ("p.png", data, "image/png")})
    return http_call(
        f"{url}/files/upload/direct", "POST", body, {**bearer(token), "Content-Type": ctype}
    )


def _reserve(lib: Library) -> Path:
    return lib.paths.database_file.with_name(f"{lib.paths.database_file.name}-reserve")


def test_a_hard_delete_on_a_full_disk_frees_the_bytes(
    full_library: Library, tmp_path: Path, media_dir: Any
) -> None:
    """Was 507: the claim written before any byte goes could not be written."""
    lib = full_library
    tokens = make_tokens(lib)
    big = noise_png(tmp_path / "big.png", 1000).read_bytes()  # about 3 MB
    png = media_dir.png.read_bytes()
    assert _reserve(lib).stat().st_size == RESERVE_BYTES  # made at the opening
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        stored = _direct(server.url, tokens.upload, big)
        assert stored.status == 201, stored.body
        file_id = stored.json()["id"]
        key = lib.get_file(file_id).storage_key
        assert (lib.paths.objects_dir / key).exists()
        kept = _direct(server.url, tokens.upload, png)
        assert kept.status == 201, kept.body
        filler = _fill(lib)
        assert _direct(server.url, tokens.upload, png + b"x").status == 507  # really full
        edit = http_call(
            f"{server.url}/files/{kept.json()['id']}",
            "PATCH",
            b'{"description": "x"}',
            {**bearer(tokens.upload), "Content-Type": "application/json"},
        )
        assert edit.status == 507, edit.body  # other writes do not get the reserve

        gone = http_call(
            f"{server.url}/files/{file_id}?hard_delete=true", "DELETE", headers=bearer(tokens.admin)
        )
        assert gone.status == 200, gone.body
        assert not (lib.paths.objects_dir / key).exists()
        missing = http_call(f"{server.url}/files/{file_id}", headers=bearer(tokens.read))
        assert missing.status == 404
        # the bytes it freed hold the reserve again, and uploads that fit work
        assert _reserve(lib).stat().st_size == RESERVE_BYTES
        again = _direct(server.url, tokens.upload, png + b"y")
        assert again.status in (201, 200), again.body
        filler.unlink()
        assert_healthy(lib, {kept.json()["id"]: png}, server.url, tokens.read)


def test_a_deletion_on_a_full_disk_without_the_reserve_still_says_507(
    full_library: Library, tmp_path: Path
) -> None:
    """The reserve goes to one deletion; while it cannot be made again (no room), the next
    deletion that needs room is refused as before, its file left whole in the trash or live."""
    lib = full_library
    first = lib.uploads.ingest(noise_png(tmp_path / "a.png", 300), "image")
    _reserve(lib).unlink()  # used up, and no room to make it again
    _fill(lib)
    with pytest.raises(SQLAlchemyError, match="database or disk is full"):
        lib.delete_permanently(first.id)
    record = lib.get_file(first.id)
    assert record.status == "ready" and not record.is_trashed
    assert lib.read_object(first.storage_key)
    assert not _reserve(lib).exists()
