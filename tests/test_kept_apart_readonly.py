"""The check at every start for a catalog kept apart from the data folder's SQLite library
(core/db/left_behind.py, warn_kept_apart) only reads that catalog: it neither waits for another
program holding it nor makes anything beside it. It opened the file read-write with a 5 s busy
timeout: a start waited 5 s behind a program holding the catalog, and SQLite made -wal and -shm
files beside someone's catalog (and, as their last user, checkpointed into it).

Both catalogs are SQLite files here (DATABASE_URL naming another one): the check is the same
for a PostgreSQL catalog in use, and runs in this process."""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

from core.library import Library
from tests.conftest import make_settings

# mtime given to the data folder before the start: a file made or removed in it sets it to now
LONG_AGO = 946_684_800_000_000_000  # 2000-01-01, in nanoseconds
TOLD = "Run `mediadesk doctor` for what to do."


def _apart(tmp_path: Path) -> tuple[Path, str]:
    """A data folder whose SQLite catalog holds a library, closed cleanly (no -wal, no -shm),
    and the URL of another catalog set up apart from it (a first start elsewhere)."""
    data = tmp_path / "data"
    lib = Library.open(make_settings(data))
    try:
        lib.create_athlete("Ana")
        lib.tokens.create("club admin", "admin")
    finally:
        lib.close()
    other = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    Library.open(make_settings(tmp_path / "elsewhere", database_url=other)).close()
    assert not [p for p in data.glob("mediadesk.sqlite3-*") if p.name.endswith(("-wal", "-shm"))]
    return data, other


def _warned(data: Path, url: str, caplog: pytest.LogCaptureFixture) -> list[str]:
    """The kept-apart warnings of a start on `url` in `data`."""
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="core.db.left_behind"):
        Library.open(make_settings(data, database_url=url)).close()
    return [r.getMessage() for r in caplog.records if r.getMessage().endswith(TOLD)]


def _folder(data: Path) -> dict[str, int]:
    return {p.name: p.lstat().st_mode for p in data.iterdir()}


@contextmanager
def _held(catalog: Path, shared_index: bool) -> Iterator[sqlite3.Connection]:
    """Another program's write transaction on `catalog`, in SQLite's exclusive locking mode
    (readers are kept out). `shared_index`: it opened the catalog as MediaDesk does first
    (-wal and -shm files), else in that mode from the start (a -wal only)."""
    with closing(sqlite3.connect(catalog, isolation_level=None)) as holder:
        if shared_index:
            holder.execute("SELECT count(*) FROM athletes").fetchone()
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE held_by_another_program (x)")
        yield holder
        assert holder.in_transaction  # held across the whole start
        holder.execute("ROLLBACK")


def test_the_check_makes_nothing_beside_the_data_folders_catalog(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    data, other = _apart(tmp_path)
    before = _folder(data)
    os.utime(data, ns=(LONG_AGO, LONG_AGO))
    assert len(_warned(data, other, caplog)) == 1  # the catalog was read
    # before: SQLite made mediadesk.sqlite3-wal and -shm and removed them as it closed
    assert data.stat().st_mtime_ns == LONG_AGO
    assert _folder(data) == before


def test_the_check_reads_the_wal_of_a_catalog_in_use_and_leaves_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The data folder's own MediaDesk running (its -wal and -shm there): read as they are."""
    data, other = _apart(tmp_path)
    catalog = data / "mediadesk.sqlite3"
    with closing(sqlite3.connect(catalog, isolation_level=None)) as running:
        running.execute(
            "INSERT INTO athletes (name, created_at) VALUES ('Bea', '2026-01-01 00:00:00')"
        )  # in the -wal only
        before = _folder(data)
        assert f"{catalog.name}-shm" in before
        (told,) = _warned(data, other, caplog)
        assert "2 athletes" in told, told
        assert _folder(data) == before


@pytest.mark.timeout(60)
def test_a_start_reads_a_catalog_another_program_holds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Held in SQLite's exclusive locking mode from its first statement: no -shm, so the
    committed catalog is read without a lock. Before: the start waited 5 s, then said nothing."""
    data, other = _apart(tmp_path)
    with _held(data / "mediadesk.sqlite3", shared_index=False):
        assert len(_warned(data, other, caplog)) == 1


# Under the 5 s the check waited for the catalog before: past it, the test fails
@pytest.mark.timeout(4, method="signal")
def test_a_start_does_not_wait_for_a_catalog_another_program_holds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Held with a -shm (readers wait for it): the check is given up at once, silently."""
    data, other = _apart(tmp_path)
    with _held(data / "mediadesk.sqlite3", shared_index=True):
        assert _warned(data, other, caplog) == []


def _killed_mid_library(catalog: Path) -> None:
    """A MediaDesk killed with its last commits in the -wal only, its -shm then deleted (a
    backup that skips it, a clean-up of temporary files)."""
    import subprocess
    import sys

    script = (
        "import os, sqlite3, sys\n"
        "c = sqlite3.connect(sys.argv[1])\n"
        "c.execute('PRAGMA wal_autocheckpoint=0')\n"
        "c.execute(\"INSERT INTO athletes (name, created_at) VALUES ('Bea', '2026-01-01')\")\n"
        "c.commit()\n"
        "os._exit(0)  # as a kill: no checkpoint, the -wal stays\n"
    )
    subprocess.run([sys.executable, "-c", script, str(catalog)], check=True, timeout=60)
    Path(f"{catalog}-shm").unlink()
    assert Path(f"{catalog}-wal").stat().st_size > 0


def test_a_wal_without_its_shm_is_read(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """immutable=1 read the file alone and missed what was in the -wal: a library whose
    commits were all there read as empty, and a start on a new catalog set up an empty
    library beside it instead of refusing (regression hunter)."""
    data, other = _apart(tmp_path)
    _killed_mid_library(data / "mediadesk.sqlite3")
    (told,) = _warned(data, other, caplog)
    assert "2 athletes" in told, told
    new = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    with pytest.raises(Exception, match="holds a library"):
        Library.open(make_settings(data, database_url=new)).close()
