"""Found by an outside fault run: `mediadesk doctor` misread a catalog it cannot write. On a full
disk it said the objects folder "is not writable: [Errno 28] No space left on device" with the
fix "Check the data folder's permissions", called the catalog reachable, and its change-feed
check printed SQLAlchemy's raw "OperationalError: (sqlite3.OperationalError) database or disk is
full"; on a catalog file that cannot be written (chattr +i, the SQLITE_READONLY of a disk
remounted read-only) it said "reachable" and "migrations ok", then the same raw error. And
`mediadesk maintenance` on a full disk exited 0 though it could not record its reconcile, which
a cron job's status must show. Real SQLite files, a real full tmpfs, chattr, the real CLI."""

from __future__ import annotations

import contextlib
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.doctor import check_other_storages
from core.library import Library
from tests.conftest import make_s3_settings, make_settings
from tests.faults import cli, fill_disk, immutable, small_tmpfs
from tests.internals import db_of
from tests.s3_server import S3Target

pytestmark = pytest.mark.timeout(120)


def _checks(result: subprocess.CompletedProcess[str]) -> dict[str, dict[str, Any]]:
    assert result.returncode == 1, result.stdout + result.stderr
    return {c["name"]: c for c in json.loads(result.stdout)["checks"]}


@contextlib.contextmanager
def _crashed_on_a_full_disk(data_dir: Path, media_dir: Any) -> Iterator[Library]:
    """A library with one file, still open (a crashed server's or the desktop's: the -wal and
    -shm files are there, so the catalog opens), its disk then filled: the next catalog write
    needs room the disk no longer has."""
    lib = Library.open(make_settings(data_dir))
    try:
        lib.uploads.ingest(media_dir.png, "image")
        with db_of(lib).engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        fill_disk(data_dir / "filler")
        yield lib
    finally:
        lib.close()


def test_doctor_names_a_full_disk(tmp_path: Path, media_dir: Any) -> None:
    with (
        small_tmpfs(tmp_path / "data", "16m") as data_dir,
        _crashed_on_a_full_disk(data_dir, media_dir),
    ):
        result = cli("doctor", "--json", "--data-dir", str(data_dir))
    checks = _checks(result)
    said = result.stdout
    assert "OperationalError" not in said and "database or disk is full" not in said
    assert "permissions" not in said and "Errno" not in said

    catalog = checks["catalog"]
    assert not catalog["ok"]
    assert (
        f"The disk holding the catalog ({data_dir}) is full: free some space" in (catalog["detail"])
    )
    # the catalog's findings end there: nothing is written to test the feed on a full disk
    assert checks["change feed"]["detail"] == "not checked: fix the catalog first"

    bucket = checks["bucket"]
    assert not bucket["ok"]
    # not a request's "not enough free storage space to save the file": nothing was saved
    assert bucket["detail"] == f"local folder {data_dir / 'objects'}: its disk is full"
    assert bucket["fix"].startswith("Free some space on the disk holding the data folder")


def test_doctor_names_a_catalog_file_that_cannot_be_written(tmp_path: Path, media_dir: Any) -> None:
    data_dir = tmp_path / "data"
    lib = Library.open(make_settings(data_dir))
    try:
        lib.uploads.ingest(media_dir.png, "image")
    finally:
        lib.close()
    catalog = data_dir / "mediadesk.sqlite3"
    locked = [f for f in (catalog, Path(f"{catalog}-wal")) if f.exists()]
    with immutable(*locked):
        result = cli("doctor", "--json", "--data-dir", str(data_dir))
    checks = _checks(result)
    assert "OperationalError" not in result.stdout and "readonly" not in result.stdout
    found = checks["catalog"]
    assert not found["ok"], found
    assert "cannot be written" in found["detail"] and "writable" in found["fix"], found
    assert checks["change feed"]["detail"] == "not checked: fix the catalog first"
    assert checks["bucket"]["ok"]  # the objects folder is fine: only the catalog is said


def test_maintenance_that_cannot_record_its_reconcile_fails(tmp_path: Path, media_dir: Any) -> None:
    with (
        small_tmpfs(tmp_path / "data", "16m") as data_dir,
        _crashed_on_a_full_disk(data_dir, media_dir),
    ):
        result = cli("maintenance", "--data-dir", str(data_dir))
    assert "Could not record the maintenance run" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr and "sqlalche.me" not in result.stderr
    assert "the catalog's disk is full" in result.stderr  # one line, not SQLAlchemy's two
    report = json.loads(result.stdout)
    assert report["reconcile"]["clean"], report  # the store matches: only the record failed
    assert result.returncode == 1, result.stderr  # was 0: a cron job heard nothing


def test_doctor_names_a_full_disk_under_files_left_on_the_local_folder(
    tmp_path: Path, media_dir: Any, s3_bucket: S3Target
) -> None:
    """Found moving a library back from R2 onto a disk that filled: R2 still active, the files
    left on the local folder failed "local storage" with the disk full, and the fix said to
    check the data folder's permissions."""
    with small_tmpfs(tmp_path / "data", "16m") as data_dir:
        lib = Library.open(make_settings(data_dir))
        try:
            lib.uploads.ingest(media_dir.png, "image")
        finally:
            lib.close()
        lib = Library.open(make_s3_settings(data_dir, s3_bucket))
        try:
            fill_disk(data_dir / "filler")
            found = check_other_storages(lib.settings, db_of(lib))
        finally:
            lib.close()
    (local,) = [c for c in found if c.name == "local storage"]
    assert not local.ok
    assert "full" in local.detail, local
    assert local.fix.startswith("Free some space on the disk holding the data folder"), local
    assert "permissions" not in local.fix
