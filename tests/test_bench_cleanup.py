"""The benchmark scripts leave nothing running or on disk when they fail or are terminated
(SIGTERM: a CI step's timeout, `kill PID`), and run on a catalog smaller than one page."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.resumable_client import ServeProcess, free_port

ROOT = Path(__file__).resolve().parent.parent


def group(pgid: int) -> list[int]:
    """The live processes of a process group: the bench runs in a session of its own, so these
    are the bench and what it started (a `mediadesk serve`, a listener). Read from stat, not
    cmdline: reading the cmdline of a process stuck in the kernel blocks."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        if int(fields[2]) == pgid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def kill_group(pgid: int) -> None:
    for pid in group(pgid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def bench(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmp_path), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def wait_for(found: Callable[[], object], what: str) -> None:
    for _ in range(600):
        if found():
            return
        time.sleep(0.1)
    raise AssertionError(f"never saw {what}")


def test_catalog_http_runs_on_fifty_files(tmp_path: Path) -> None:
    proc = bench(tmp_path, "bench/catalog.py", "--files", "50", "--mode", "http", "--rounds", "2")
    try:
        out, _ = proc.communicate(timeout=100)
        assert proc.returncode == 0, out
        assert "worst p50 over the cases" in out
        assert group(proc.pid) == []
    finally:
        kill_group(proc.pid)


def test_catalog_library_runs_on_fifty_files(tmp_path: Path) -> None:
    proc = bench(tmp_path, "bench/catalog.py", "--files", "50")
    out, _ = proc.communicate(timeout=100)
    assert proc.returncode == 0, out
    assert "last page" in out


def test_sigterm_to_catalog_http_stops_its_server(tmp_path: Path) -> None:
    proc = bench(
        tmp_path, "bench/catalog.py", "--files", "50", "--mode", "http", "--rounds", "1000000"
    )
    try:
        assert proc.stdout is not None
        for line in proc.stdout:  # printed once the server answers
            if "files through HTTP" in line:
                break
        assert len(group(proc.pid)) == 2  # the bench and its `mediadesk serve`
        proc.send_signal(signal.SIGTERM)  # to the bench alone, as `kill PID` does
        proc.communicate(timeout=60)
        assert group(proc.pid) == []
        assert list(tmp_path.iterdir()) == []  # the data folder went too
    finally:
        kill_group(proc.pid)


def test_sigterm_to_feed_stops_its_listener_and_removes_its_folder(tmp_path: Path) -> None:
    proc = bench(tmp_path, "bench/feed.py", "--only", "sqlite", "--changes", "1000000")
    try:
        wait_for(lambda: len(group(proc.pid)) == 2, "the listener process")
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
        assert group(proc.pid) == []
        assert list(tmp_path.iterdir()) == []
    finally:
        kill_group(proc.pid)


def test_a_server_that_did_not_start_in_time_is_killed(tmp_path: Path) -> None:
    server = ServeProcess(tmp_path, free_port(), max_size=1024 * 1024)
    with pytest.raises(RuntimeError, match="did not start"):
        server.start(timeout=0)
    assert server.proc is not None
    assert server.proc.poll() is not None


def test_feed_counts_edits_missing_heard_twice_or_late() -> None:
    from bench.feed import order_faults

    assert order_faults([(0, 0.1), (1, 0.1), (2, 0.1)], 3) == (0, 0, 0)
    # 3 never heard, 1 heard twice, 1 heard after 2
    assert order_faults([(0, 0.1), (2, 0.1), (1, 0.1), (1, 0.1)], 4) == (1, 1, 1)
