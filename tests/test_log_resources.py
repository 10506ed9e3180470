"""Running out of file descriptors is logged as one line per loop every few seconds, with no
traceback: under a connection flood the video workers, maintenance and the change feed all
retried and each retry logged a SQLAlchemy traceback ("unable to open database file")."""

from __future__ import annotations

import errno
import io
import logging
import subprocess
import sys
import textwrap
from pathlib import Path

from core.logsetup import OutageLogFilter, quiet_outage_tracebacks

ROOT = Path(__file__).resolve().parents[1]


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _logger_with_two_handlers(name: str) -> tuple[logging.Logger, io.StringIO, io.StringIO]:
    log = logging.getLogger(name)
    log.propagate = False
    log.handlers.clear()
    outs = io.StringIO(), io.StringIO()
    for out in outs:
        handler = logging.StreamHandler(out)
        handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
        log.addHandler(handler)
    return log, *outs


def _fail_with(exc: BaseException) -> None:
    try:
        try:
            raise exc
        except OSError as inner:  # as SQLAlchemy wraps the driver's error
            raise RuntimeError("could not connect") from inner
    except RuntimeError:
        logging.getLogger("test.resources.loop").exception("Worker %s failed to run a job", "w#0")


def test_out_of_descriptors_is_one_line_per_interval_without_traceback() -> None:
    log, first, second = _logger_with_two_handlers("test.resources.loop")
    clock = _Clock()
    shared = OutageLogFilter(interval=5.0, clock=clock)
    for handler in log.handlers:
        handler.addFilter(shared)
    emfile = OSError(errno.EMFILE, "Too many open files")
    for _ in range(6):
        _fail_with(emfile)
        clock.now += 0.5
    clock.now += 5
    _fail_with(emfile)
    for out in (first, second):  # both handlers: the same lines
        lines = out.getvalue().splitlines()
        assert "Traceback" not in out.getvalue()
        assert len(lines) == 2, lines
        assert lines[0].startswith("test.resources.loop: Worker w#0 failed to run a job")
        assert "Too many open files; 1 such failures" in lines[0]
        assert "6 such failures since the last report" in lines[1]


def test_other_errors_keep_their_traceback_every_time() -> None:
    log, out, _ = _logger_with_two_handlers("test.resources.loop")
    quiet_outage_tracebacks(log)
    quiet_outage_tracebacks(log)  # twice: still one filter, shared
    filters = {id(f) for h in log.handlers for f in h.filters}
    assert len(filters) == 1
    for _ in range(3):
        _fail_with(PermissionError(errno.EACCES, "Permission denied"))
    assert out.getvalue().count("RuntimeError: could not connect") == 3
    assert out.getvalue().count("PermissionError: [Errno 13]") == 3
    assert "out of system resources" not in out.getvalue()


def test_sqlite_refused_at_the_descriptor_limit_is_told_from_a_missing_folder(
    tmp_path: Path,
) -> None:
    # SQLite says only "unable to open database file": at the limit it is the limit, with
    # descriptors free it is the path (a missing folder), and keeps its traceback
    script = textwrap.dedent(
        f"""
        import os, resource, sqlite3, sys
        sys.path.insert(0, {str(ROOT)!r})
        from core.logsetup import out_of_resources
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))
        hoard = []
        try:
            while True:
                hoard.append(os.open(os.devnull, os.O_RDONLY))
        except OSError:
            pass
        try:
            sqlite3.connect({str(tmp_path / "catalog.db")!r}).execute("select 1")
        except sqlite3.OperationalError as exc:
            at_limit = exc
        print("at-limit", out_of_resources(at_limit))
        for fd in hoard:
            os.close(fd)
        try:
            sqlite3.connect({str(tmp_path / "missing" / "catalog.db")!r}).execute("select 1")
        except sqlite3.OperationalError as exc:
            print("missing", exc, "|", out_of_resources(exc))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    lines = run.stdout.splitlines()
    assert lines[0] == "at-limit Too many open files", run.stdout + run.stderr
    assert lines[1] == "missing unable to open database file | None", run.stdout
