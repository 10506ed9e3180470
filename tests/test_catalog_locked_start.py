"""A SQLite catalog another program holds locked (a script's `sqlite3 mediadesk.sqlite3` with
`BEGIN EXCLUSIVE;`, a tool in exclusive locking mode, another MediaDesk's long write), met by a
start rather than by a request (tests/test_catalog_busy.py).

A start (`mediadesk serve`, Library.open as the app does it) on a catalog whose lock keeps
readers out too ended in "The catalog could not be opened: database is locked", read as a
fault of ours, and doctor said so with the same words; now both say in one line that another
program holds that file locked, exit 2 (doctor fails its catalog line). A start meeting a lock
that lets readers in was already said so since 2dc2cc3 (its first write met it): kept so here.

The lock is taken by a real second process on the real catalog file; the start and doctor are
real processes, given the cut busy timeout (30 s) on their command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.errors import catalog_locked
from tests.catalog_lock_helpers import LOCKS, catalog, held, mediadesk  # noqa: F401 (a fixture)


@pytest.mark.parametrize("kind", LOCKS)
def test_a_start_on_a_catalog_held_locked_says_so_in_one_line(
    catalog: Path,  # noqa: F811
    kind: str,
) -> None:
    with held(catalog, kind):
        done = mediadesk("serve", "--port", "0", "--data-dir", str(catalog.parent))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines()[-1] == f"mediadesk: {catalog_locked(catalog).message}"


def test_doctor_on_a_catalog_held_locked_says_so(catalog: Path) -> None:  # noqa: F811
    # its catalog check opens the catalog as a start does: a lock keeping readers out is met
    # there (one letting them in is met by a later check, in that check's words)
    with held(catalog, "readers-out"):
        done = mediadesk("doctor", "--data-dir", str(catalog.parent))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.startswith("FAIL  catalog: ")]
    assert f"Another program holds the catalog ({catalog}) locked" in line, done.stdout
