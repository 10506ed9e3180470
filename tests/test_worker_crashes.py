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


def _run(
    folder: Path, *, always: bool, other_passes: bool, files: int = 0, tests: int = 1
) -> subprocess.CompletedProcess[str]:
    folder.mkdir()
    (folder / "conftest.py").write_text(CONFTEST)
    test = CRASHING.format(
        when="always" if always else "once", always=always, other_passes=other_passes
    )
    (folder / "test_native.py").write_text(test)
    for n in range(files):  # other files of `tests` tests each
        body = "".join(f"def test_fine_{t}():\n    pass\n\n\n" for t in range(tests))
        (folder / f"test_other_{n}.py").write_text(body)
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
        timeout=60,
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


@pytest.mark.parametrize("tests", [1, 3])
def test_a_replaced_worker_goes_on_to_the_end(tmp_path: Path, tests: int) -> None:
    """Two stalls of xdist's scheduler after a replacement (tests/worker_crashes.py), each
    a run waiting for ever (a CI-like run hung at 97 % after a worker's native crash at 49 %).
    Files run longest first: with files of one test the crash comes first and the replacement
    was given one file of one test, which it held waiting for a next one; with files of three
    the crash comes after them and they were given out again, finished, running nothing."""
    run = _run(tmp_path / "finished", always=False, other_passes=True, files=6, tests=tests)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "the run passes" in run.stdout
    assert f"{6 * tests + 2} passed" in run.stdout, run.stdout
