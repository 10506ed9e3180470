"""The command line's commands other than serve and maintenance say a catalog upgrade as it
starts: an outside tester's `mediadesk token list` on a big catalog from v0.1 ran 1 min 44 s
with nothing on stderr (its INFO line reached only Python's last resort, which shows warnings
and worse), and an admin taking it for hung presses Ctrl+C, which undoes the upgrade."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.faults import ENTRY, ROOT
from tests.test_migration_interrupt import _old_catalog

UPGRADING = "Upgrading the catalog's schema from 0001"


def _run(data_dir: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *command, "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_token_list_says_the_upgrade_it_runs(tmp_path: Path) -> None:
    _old_catalog(tmp_path, files=20)
    first = _run(tmp_path, "token", "list")
    assert first.returncode == 0, first.stderr
    assert f"mediadesk: {UPGRADING}" in first.stderr, first.stderr
    # once: a current catalog's start says nothing (no "Catalog schema at head" either)
    again = _run(tmp_path, "token", "list")
    assert again.returncode == 0 and again.stderr == "", again.stderr


def test_a_json_command_says_it_as_a_json_line(tmp_path: Path) -> None:
    _old_catalog(tmp_path, files=20)
    done = _run(tmp_path, "storage", "status")
    assert done.returncode == 0, done.stderr
    said = [json.loads(line) for line in done.stderr.splitlines()]
    assert any(UPGRADING in line["message"] for line in said), said
    assert json.loads(done.stdout)["files"], done.stdout
