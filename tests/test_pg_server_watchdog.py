"""A test process killed outright (a native crash of an xdist worker) leaves no PostgreSQL behind:
its fixtures' teardown never runs, so tests/pg_server.py's watchdog stops the cluster."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pg_server import PG_BIN

ROOT = Path(__file__).resolve().parent.parent

# Both fixtures: the session's shared server and a test's own cluster. The child prints where
# its cluster lives, then dies as a segfaulting worker does: no teardown, no atexit.
CHILD = """
import os, signal
from pathlib import Path
from tests.pg_server import pg_cluster, postgres_url  # noqa: F401


def test_die(postgres_url, pg_cluster):
    port = int(postgres_url.rsplit(":", 1)[1].split("/")[0])
    # the shared server's folder holds its socket (-k)
    (shared,) = Path("/tmp").glob(f"mediadesk-pg-*/.s.PGSQL.{port}")
    print("CLUSTER", port, shared.parent, flush=True)
    print("CLUSTER", pg_cluster.port, pg_cluster.root, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def _listening(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


@pytest.mark.skipif(not PG_BIN, reason="PostgreSQL server not installed")
def test_killed_test_process_leaves_no_postgres(tmp_path: Path) -> None:
    (tmp_path / "test_child.py").write_text(CHILD)
    child = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "-p", "no:xdist"]
        + ["--rootdir", str(tmp_path), str(tmp_path / "test_child.py")],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stdout + child.stderr
    made = [line.split()[1:] for line in child.stdout.splitlines() if line.startswith("CLUSTER")]
    assert len(made) == 2, child.stdout
    ports = [int(port) for port, _ in made]
    roots = [Path(root) for _, root in made]
    assert all(r.name.startswith("mediadesk-pg-") for r in roots), child.stdout
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (
        any(_listening(p) for p in ports) or any(r.exists() for r in roots)
    ):
        time.sleep(0.2)
    assert not [p for p in ports if _listening(p)], "a killed test process left PostgreSQL running"
    assert not [r for r in roots if r.exists()], "a killed test process left its cluster's folder"
