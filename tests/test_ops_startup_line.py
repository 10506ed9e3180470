"""A start-up error is one line on stderr, exit status 2, whatever its cause's own text holds."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

from tests.faults import ENTRY, ROOT


def test_a_postgresql_nobody_answers_is_one_line(tmp_path: Path) -> None:
    with socket.socket() as probe:  # a loopback port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    env["DATABASE_URL"] = f"postgresql+psycopg://md:pw@127.0.0.1:{port}/md"
    done = subprocess.run(
        [sys.executable, "-c", ENTRY, "maintenance", "--data-dir", str(tmp_path / "data")],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    # libpq's refusal runs over two lines ("\n\tIs the server running on that host…")
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("mediadesk: The catalog could not be opened")
    assert "Connection refused" in done.stderr and "Is the server running" in done.stderr
