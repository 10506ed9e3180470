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

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.errors import catalog_locked
from core.library import Library
from tests.conftest import make_settings

ROOT = Path(__file__).resolve().parents[1]
BUSY_MS = 300

# Holds the catalog file until a line on stdin; says "locked" once it does. In WAL (the
# catalog's mode) BEGIN EXCLUSIVE keeps writers out and lets readers in; in exclusive locking
# mode it keeps readers out too.
_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2] == "readers-out":
    conn.execute("PRAGMA locking_mode=EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
"""
# `mediadesk ARGS...` with the catalog's busy timeout set to argv[1] milliseconds
_MEDIADESK = """
import sys
from core.db import engine
engine.BUSY_TIMEOUT_MS = int(sys.argv[1])
from server.cli import run
sys.exit(run(sys.argv[2:]))
"""
LOCKS = ["writers-out", "readers-out"]


@contextmanager
def held(catalog: Path, kind: str) -> Iterator[None]:
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(catalog), kind],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        said = holder.stdout.readline().strip()
        assert said == "locked", f"the second process did not lock the catalog: {said!r}"
        yield
    finally:
        holder.communicate("\n", timeout=30)
    assert holder.returncode == 0


def _mediadesk(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "R2_"))}
    return subprocess.run(
        [sys.executable, "-c", _MEDIADESK, str(BUSY_MS), *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def catalog(data_dir: Path) -> Path:
    """The data folder's catalog, made and migrated by a first open."""
    lib = Library.open(make_settings(data_dir))
    lib.close()
    path = data_dir / "mediadesk.sqlite3"
    assert path.is_file()
    return path


@pytest.mark.parametrize("kind", LOCKS)
def test_a_start_on_a_catalog_held_locked_says_so_in_one_line(catalog: Path, kind: str) -> None:
    with held(catalog, kind):
        done = _mediadesk("serve", "--port", "0", "--data-dir", str(catalog.parent))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    assert done.stderr.splitlines()[-1] == f"mediadesk: {catalog_locked(catalog).message}"


def test_doctor_on_a_catalog_held_locked_says_so(catalog: Path) -> None:
    # its catalog check opens the catalog as a start does: a lock keeping readers out is met
    # there (one letting them in is met by a later check, in that check's words)
    with held(catalog, "readers-out"):
        done = _mediadesk("doctor", "--data-dir", str(catalog.parent))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr, done.stderr
    [line] = [line for line in done.stdout.splitlines() if line.startswith("FAIL  catalog: ")]
    assert f"Another program holds the catalog ({catalog}) locked" in line, done.stdout
