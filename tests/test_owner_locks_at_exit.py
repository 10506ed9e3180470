"""A process's owner lock (core/partials.py) goes with the process that exits normally.

`mediadesk doctor` writes a probe through the local storage, so it takes an owner lock; the
lock file stayed after it exited, one more `.tmp-owners/<token>.lock` per run, though the
folder holds one lock file per process writing partial files while it lives. A killed process
still leaves its file to the next sweep (tests/test_faults_crash.py)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_MEDIADESK = "import sys; from server.cli import run; sys.exit(run(sys.argv[1:]))"


def _doctor(data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "R2_"))}
    return subprocess.run(
        [sys.executable, "-c", _MEDIADESK, "doctor", "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_doctor_leaves_no_owner_lock_behind(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    for _ in range(3):
        done = _doctor(data_dir)
        assert "Traceback" not in done.stderr, done.stderr
        assert "bucket: local folder" in done.stdout, done.stdout + done.stderr
    owners = data_dir / ".tmp-owners"
    left = sorted(p.name for p in owners.iterdir()) if owners.is_dir() else []
    assert left == []


_LIVE = """
import sys
from pathlib import Path
from core import partials
partials.register(Path(sys.argv[1]))
print(partials.TOKEN, flush=True)
sys.stdin.readline()
"""


def test_a_live_process_keeps_its_owner_lock_until_it_exits(tmp_path: Path) -> None:
    registry = tmp_path / "tmp"
    child = subprocess.Popen(
        [sys.executable, "-c", _LIVE, str(registry)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    token = child.stdout.readline().strip()
    lock = tmp_path / ".tmp-owners" / f"{token}.lock"
    assert lock.is_file()
    child.communicate("\n", timeout=30)
    assert child.returncode == 0
    assert not lock.exists()
