"""Two processes on one SQLite catalog (the desktop and `mediadesk serve` on one data folder):
when one of them opened the catalog a second time (a second Library, doctor), make_engine
opened and closed a descriptor of the file to create it with MediaDesk's mode, and closing any
descriptor of a file drops every POSIX lock the process holds on it, SQLite's included. The
other process, closing the catalog, could then take itself for its last user and remove the
-wal under this one's readers: "database disk image is malformed" (seen by an outside tester
with a second process trashing and restoring files). The file is now made only when missing.

Checked on the locks themselves (/proc/locks): the shared lock SQLite holds on the catalog
file while this process uses it is still held after a second open."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.library import Library
from core.records import FileQuery
from tests.conftest import make_settings

LOCKS = Path("/proc/locks")


def _held_on(path: Path) -> list[str]:
    """This process's POSIX locks on `path`: their kinds and byte ranges."""
    inode, pid = os.stat(path).st_ino, str(os.getpid())
    held = []
    for line in LOCKS.read_text().splitlines():
        fields = line.split()
        # "1: POSIX  ADVISORY  READ 1234 08:01:5678 1073741826 1073742335"
        if fields[1] == "POSIX" and fields[4] == pid and fields[5].endswith(f":{inode}"):
            held.append(" ".join(fields[3:4] + fields[6:8]))
    return sorted(held)


@pytest.mark.skipif(not LOCKS.exists(), reason="needs Linux's /proc/locks")
def test_a_second_open_keeps_this_processs_locks_on_the_catalog(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    lib = Library.open(settings)
    try:
        lib.list_files(FileQuery(limit=5))
        catalog = tmp_path / "data" / "mediadesk.sqlite3"
        before = _held_on(catalog)
        assert before, "SQLite holds a shared lock on a WAL catalog in use"
        Library.open(settings).close()  # as doctor, or a second window, in this process
        assert _held_on(catalog) == before  # dropped before: []
        lib.list_files(FileQuery(limit=5))
    finally:
        lib.close()


def test_a_missing_catalog_is_still_made_with_mediadesks_mode(tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data")
    Library.open(settings).close()
    assert (tmp_path / "data" / "mediadesk.sqlite3").stat().st_mode & 0o777 == 0o640
