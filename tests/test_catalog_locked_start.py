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

import signal
import time
from pathlib import Path

import pytest

from core.errors import catalog_locked
from tests.catalog_lock_helpers import (  # noqa: F401 (a fixture)
    LOCKS,
    catalog,
    held,
    mediadesk,
    start_mediadesk,
)


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


@pytest.mark.parametrize("kind", LOCKS)
def test_ctrl_c_while_waiting_for_the_lock_is_heard_at_once(
    catalog: Path,  # noqa: F811
    kind: str,
) -> None:
    # SQLite's busy handler sleeps in C, where Python runs no signal handler: `token list`
    # waiting on a catalog a database browser held heard Ctrl+C only when its busy timeout
    # (30 s; 20 s here) was over: at its first write (writers-out) or its first read of the
    # catalog (readers-out). The waits are in slices now (core/db/engine.py).
    with held(catalog, kind):
        command = start_mediadesk(20_000, "token", "list", "--data-dir", str(catalog.parent))
        try:
            fds = Path(f"/proc/{command.pid}/fd")
            # the catalog open, then a moment for the command to be waiting for the lock
            deadline = time.monotonic() + 30
            while not any(fd.resolve() == catalog for fd in _fds(fds)):
                assert command.poll() is None and time.monotonic() < deadline, command.poll()
                time.sleep(0.05)
            time.sleep(1.0)
            assert command.poll() is None
            command.send_signal(signal.SIGINT)
            started = time.monotonic()
            _out, err = command.communicate(timeout=60)
            took = time.monotonic() - started
        finally:
            command.kill()
            command.wait()
    assert command.returncode == 130, err
    assert err.splitlines()[-1] == "mediadesk: interrupted", err
    assert took < 5, f"Ctrl+C heard after {took:.1f} s"


def _fds(folder: Path) -> list[Path]:
    try:
        return list(folder.iterdir())
    except OSError:  # the process ended meanwhile: said by the caller's poll()
        return []
