"""/health while the SQLite catalog's disk is full (a real small tmpfs holding the catalog
alone, root only; real HTTP over loopback): 503 degraded, database.ok false with reason
insufficient_storage, as a full storage disk is told, and ok again once there is room.

Before, its check only read the catalog, which a full disk lets through: /health said 200 ok
while every write answered 507."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.faults import catalog_on_tmpfs, fill_disk, small_ext4
from tests.internals import db_of
from tests.resumable_client import noise_png
from tests.server_fixtures import bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def catalog_full(tmp_path: Path) -> Iterator[Library]:
    with catalog_on_tmpfs(tmp_path, "4m") as lib:
        yield lib


def test_health_says_the_catalogs_full_disk(catalog_full: Library, tmp_path: Path) -> None:
    lib = catalog_full
    tokens = make_tokens(lib)
    file_id = lib.uploads.ingest(noise_png(tmp_path / "a.png", 40), "image").id
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        assert http_call(f"{server.url}/health").status == 200
        with db_of(lib).engine.connect() as conn:  # its next write needs new room
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        filler = tmp_path / "catalog" / "filler"
        fill_disk(filler)
        edit = http_call(
            f"{server.url}/files/{file_id}",
            "PATCH",
            b'{"description": "x"}',
            {**bearer(tokens.upload), "Content-Type": "application/json"},
        )
        assert edit.status == 507, edit.body  # really full

        admin = http_call(f"{server.url}/health", headers=bearer(tokens.admin))
        assert admin.status == 503, admin.body
        body = admin.json()
        assert body["status"] == "degraded"
        assert body["storage"]["ok"] is True  # the objects' disk has room
        database = body["database"]
        assert database["ok"] is False and database["reason"] == "insufficient_storage"
        assert "catalog" in database["error"] and "full" in database["error"]
        assert "Retry-After" not in admin.headers  # waiting frees no space

        reader = http_call(f"{server.url}/health", headers=bearer(tokens.read)).json()
        assert reader["database"]["reason"] == "insufficient_storage"
        assert str(tmp_path) not in reader["database"]["error"]  # no folder for non-admins
        assert "administrator" in reader["database"]["error"]
        anonymous = http_call(f"{server.url}/health")
        assert anonymous.status == 503
        assert anonymous.json()["database"] == {"ok": False, "reason": "insufficient_storage"}

        filler.unlink()
        again = http_call(f"{server.url}/health", headers=bearer(tokens.admin))
        assert again.status == 200, again.body
        assert again.json()["database"] == {"ok": True}


def test_a_root_server_writing_into_reserved_blocks_is_not_called_full(tmp_path: Path) -> None:
    """An ext4 keeps blocks for root; a server running as root (a container's) writes into
    them. /health read the room left to other users, and said 503 insufficient_storage while
    this server's uploads were stored (the regression hunter's repro: 5.4 MB left to root)."""
    with small_ext4(tmp_path / "catalog", 24, reserved_percent=20) as folder:
        url = f"sqlite:///{folder / 'catalog.sqlite3'}"
        lib = Library.open(make_settings(tmp_path / "data", database_url=url))
        try:
            tokens = make_tokens(lib)
            file_id = lib.uploads.ingest(noise_png(tmp_path / "b.png", 40), "image").id
            with EmbeddedServer(lib, config=server_config(lib)) as server:
                st = os.statvfs(folder)
                with open(folder / "filler", "wb") as fh:  # all but 256 KiB of the others' room
                    fh.write(b"\0" * (st.f_bavail * st.f_frsize - 256 * 1024))
                assert os.statvfs(folder).f_bfree * st.f_frsize > 2 * 1024 * 1024  # root's
                edit = http_call(
                    f"{server.url}/files/{file_id}",
                    "PATCH",
                    b'{"description": "' + b"x" * 900 + b'"}',
                    {**bearer(tokens.upload), "Content-Type": "application/json"},
                )
                assert edit.status == 200, edit.body  # room for this process
                health = http_call(f"{server.url}/health", headers=bearer(tokens.admin))
                assert health.status == 200, health.body
        finally:
            lib.close()
