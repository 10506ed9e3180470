"""Found by a fault run on a small tmpfs: `mediadesk serve` could not start on a full disk. Start-up
runs the deferred deletions that came due while it was stopped, and the catalog write of one
of them failed with SQLite's "database or disk is full", which ended the process with a
traceback instead of leaving the entry for the next run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core import keys
from core.library import Library
from tests.conftest import make_settings
from tests.faults import cli, fill_disk, small_tmpfs, start_serve
from tests.internals import db_of, storage_of
from tests.server_fixtures import bearer, http_call

pytestmark = pytest.mark.timeout(90)


def test_serve_starts_on_a_full_disk_with_a_deletion_due(tmp_path: Path, media_dir: Any) -> None:
    with small_tmpfs(tmp_path / "data", "16m") as data_dir:
        settings = make_settings(data_dir)
        made = cli("token", "create", "--data-dir", str(data_dir), "--name", "t", "--scope", "read")
        assert made.returncode == 0, made.stderr
        lib = Library.open(settings)
        lib.deferred.grace = 0.0  # the moved file's old key is due at once
        lib.deferred.close()  # ...and left for the next start, as by a stop
        record = lib.uploads.ingest(media_dir.png, "image")
        moved = lib.update_file(record.id, {"athlete_id": 3})
        # killed between deleting the old object and dropping its entry: only the entry is left
        for key in (record.storage_key, *keys.derivative_keys(record.storage_key)):
            storage_of(lib).delete(key)  # (nothing the start-up deletion frees: no room)
        filler = data_dir / "filler"
        # `lib` stays open, as a crashed server's or the desktop's: SQLite's -wal and -shm files
        # are there (on a full disk it could not make them)
        with db_of(lib).engine.connect() as conn:  # the next catalog write needs new room
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        fill_disk(filler)

        server = start_serve(data_dir)  # was: exited 1 on "database or disk is full"
        try:
            assert server.token is None  # not a first start
            token = made.stdout.strip().splitlines()[-1]
            listed = http_call(f"{server.url}/files/", headers=bearer(token))
            assert listed.status == 200, listed.body  # it serves: reads need no room
            assert [f["id"] for f in listed.json()["items"]] == [moved.id]
        finally:
            server.stop()
            lib.close()

        filler.unlink()
        result = cli("maintenance", "--data-dir", str(data_dir))
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert report["maintenance"]["errors"] == []
        assert report["reconcile"]["clean"] and report["reconcile"]["pending_deletions"] == []
        again = Library.open(settings)
        try:
            data = b"".join(again.open_range(again.get_file(moved.id), 0, None))
            assert data == media_dir.png.read_bytes()
        finally:
            again.close()


def test_serve_on_a_full_disk_that_cannot_open_the_catalog_says_so(tmp_path: Path) -> None:
    """A catalog closed cleanly has no -shm file; SQLite makes one as it opens, which on a full
    disk fails with a bare "disk I/O error": start-up ended with a SQLAlchemy traceback. Now
    one line names the folder whose disk is full, and the exit status is 2."""
    with small_tmpfs(tmp_path / "data", "16m") as data_dir:
        made = cli("token", "create", "--data-dir", str(data_dir), "--name", "t", "--scope", "read")
        assert made.returncode == 0, made.stderr
        assert not (data_dir / "mediadesk.sqlite3-shm").exists()  # closed cleanly
        fill_disk(data_dir / "filler")
        result = cli("serve", "--port", "0", "--data-dir", str(data_dir), timeout=30)
        assert result.returncode == 2, result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("mediadesk: ") and "full" in last and str(data_dir) in last, last
        (data_dir / "filler").unlink()
        listed = cli("token", "list", "--data-dir", str(data_dir))  # and it opens again
        assert listed.returncode == 0 and "t" in listed.stdout, listed.stderr
