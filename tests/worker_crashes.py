"""A test worker killed by a native crash, its test run again and passed, fails no run.

Two full CI-like runs in about twenty (s39, s43) lost a pytest-xdist worker to a segfault in a
thread with no Python frame (Qt's or FFmpeg's own), between two tests of ours that passed
alone and in every other run; with `--max-worker-restart=0` the whole run stopped there, half
of the suite never ran, and the work did not land. Now (controller side) xdist reports the
test that was running as failed, a new worker takes the rest of its file with that test (the
load-file scheduler gives back what was not finished), and a run whose every failure is such a
crash of a test that then passed succeeds, saying so on the terminal and in its exit line. A
test that crashes again, or any other failure, fails the run as before.
"""

from __future__ import annotations

import pytest

# controller-side state (one pytest process drives the workers)
_crashed: set[str] = set()
_passed_after: set[str] = set()
_failed: set[str] = set()

_CRASH = "crashed while running"


def _is_crash(report: pytest.TestReport) -> bool:
    return str(report.when) == "???" and _CRASH in str(report.longrepr)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed and _is_crash(report):
        if report.nodeid in _crashed:
            _failed.add(report.nodeid)  # crashed twice: no longer the odd native fault
        _crashed.add(report.nodeid)
        _passed_after.discard(report.nodeid)
    elif report.failed:
        _failed.add(report.nodeid)
    elif report.passed and report.when == "call" and report.nodeid in _crashed:
        _passed_after.add(report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if hasattr(session.config, "workerinput") or not _crashed:
        return  # a worker, or a run without a crash
    said = ", ".join(sorted(_crashed))
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if exitstatus == pytest.ExitCode.TESTS_FAILED and not _failed and _crashed <= _passed_after:
        session.exitstatus = pytest.ExitCode.OK
        line = (
            f"A test worker crashed (a native fault) while running {said}; that test ran again "
            "in a new worker and passed: the run passes"
        )
    else:
        line = f"A test worker crashed while running {said}"
    if reporter is not None:
        reporter.write_sep("!", line, yellow=True)
