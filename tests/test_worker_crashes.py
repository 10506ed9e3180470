"""tests/worker_crashes.py, with real pytest-xdist runs of a small test file whose test kills
its worker with SIGSEGV (once, or every time) beside a test that fails or passes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.faults import ROOT

pytestmark = pytest.mark.timeout(120)

CONFTEST = "from tests.worker_crashes import pytest_runtest_logreport, pytest_sessionfinish\n"
CRASHING = """
import os, signal
from pathlib import Path

def test_crashes_{when}():
    marker = Path(__file__).with_name("crashed-once")
    if {always} or not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGSEGV)

def test_other():
    assert {other_passes}
"""


def _run(folder: Path, *, always: bool, other_passes: bool) -> subprocess.CompletedProcess[str]:
    folder.mkdir()
    (folder / "conftest.py").write_text(CONFTEST)
    test = CRASHING.format(
        when="always" if always else "once", always=always, other_passes=other_passes
    )
    (folder / "test_native.py").write_text(test)
    # xdist alone: the suite's other plugins (Qt, aiohttp, timeouts) cost seconds a worker
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "xdist.plugin"]
        + ["-n", "1", "--dist", "loadfile", "--max-worker-restart=2"]
        + ["--rootdir", str(folder), str(folder)],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=100,
    )


def test_a_crash_whose_test_then_passes_fails_no_run(tmp_path: Path) -> None:
    run = _run(tmp_path / "once", always=False, other_passes=True)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "crashed (a native fault) while running test_native.py::test_crashes_once" in run.stdout
    assert "the run passes" in run.stdout


def test_a_crash_beside_a_real_failure_or_twice_fails_the_run(tmp_path: Path) -> None:
    beside = _run(tmp_path / "beside", always=False, other_passes=False)
    assert beside.returncode == 1, beside.stdout + beside.stderr
    assert "the run passes" not in beside.stdout
    twice = _run(tmp_path / "twice", always=True, other_passes=True)
    assert twice.returncode == 1, twice.stdout + twice.stderr
    assert "A test worker crashed while running" in twice.stdout
