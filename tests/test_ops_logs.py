"""A daemon's log files: SIGHUP (logrotate's postrotate `kill -HUP`) reopens them and the
server goes on serving; a log file renamed or deleted under a running process is reopened by
its name (WatchedFileHandler's rule)."""

from __future__ import annotations

import logging
import signal
import urllib.request
from pathlib import Path

from core.logsetup import LogFile, TextFormatter
from tests.faults import start_serve, wait_for


def test_sighup_reopens_the_log_file_and_serve_goes_on(tmp_path: Path) -> None:
    served = start_serve(tmp_path / "data")
    try:
        log = tmp_path / "data" / "logs" / "server.log"
        wait_for(lambda: "listening on" in (log.read_text() if log.exists() else ""))
        rotated = log.with_name("server.log.1")
        log.rename(rotated)  # what logrotate does before its postrotate
        served.proc.send_signal(signal.SIGHUP)

        def reopened() -> bool:
            assert served.proc.poll() is None, "SIGHUP ended serve"
            return log.exists() and "SIGHUP: reopening" in log.read_text()

        wait_for(reopened, what="the log file reopened")
        with urllib.request.urlopen(served.url + "/health", timeout=10) as reply:
            assert reply.status == 200
        assert "SIGHUP" not in rotated.read_text()
    finally:
        served.stop()
    assert served.proc.returncode == 0
    assert "MediaDesk API stopped" in log.read_text()


def test_a_renamed_log_file_is_reopened_by_its_name(tmp_path: Path) -> None:
    path = tmp_path / "server.log"
    handler = LogFile(path)
    handler.setFormatter(TextFormatter())
    named = logging.getLogger("tests.ops.renamed")
    named.propagate = False
    named.addHandler(handler)
    try:
        named.warning("before the rename")
        handler.flush()
        path.rename(tmp_path / "server.log.1")
        named.warning("after the rename")
        handler.flush()
        assert "after the rename" in path.read_text()
        assert "after" not in (tmp_path / "server.log.1").read_text()
        path.unlink()  # deleted, not renamed: a new file too
        named.warning("after the deletion")
        handler.flush()
        assert "after the deletion" in path.read_text()
    finally:
        named.removeHandler(handler)
        handler.close()
