"""A SQLite catalog held locked by a real second process, and `mediadesk` run as a real process
given a cut busy timeout: tests/test_catalog_locked_start.py's and test_doctor_catalog_locked.py's
shared pieces."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

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


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "R2_"))}


def mediadesk(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _MEDIADESK, str(BUSY_MS), *args],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )


def start_mediadesk(busy_ms: int, *args: str) -> subprocess.Popen[str]:
    """`mediadesk ARGS...` started, with the catalog's busy timeout set to `busy_ms`."""
    return subprocess.Popen(
        [sys.executable, "-c", _MEDIADESK, str(busy_ms), *args],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.fixture
def catalog(data_dir: Path) -> Path:
    """The data folder's catalog, made and migrated by a first open."""
    lib = Library.open(make_settings(data_dir))
    lib.close()
    path = data_dir / "mediadesk.sqlite3"
    assert path.is_file()
    return path
