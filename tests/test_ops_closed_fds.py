"""Started with stdout or stderr closed (`cmd >&-`, `2>&-`, some daemonisers), a command does
its work: a report printed to nowhere, not a traceback or a silent exit 1."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.faults import ENTRY, ROOT, wait_for


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}


def test_maintenance_with_stdout_closed(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, "maintenance", "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        env=_env(),
        stdout=None,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
        preexec_fn=lambda: os.close(1),
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 0, done.stderr


def test_serve_with_stderr_closed(tmp_path: Path) -> None:
    command = [sys.executable, "-c", ENTRY, "serve", "--port", "0"]
    proc = subprocess.Popen(
        [*command, "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        preexec_fn=lambda: os.close(2),
    )
    log = tmp_path / "data" / "logs" / "server.log"
    try:

        def listening() -> bool:
            assert proc.poll() is None, "serve ended"
            return log.exists() and "listening on" in log.read_text()

        wait_for(listening, what="serve listening")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "MediaDesk API stopped" in log.read_text()
