"""`mediadesk maintenance` right after a crash lists the partial file the crash left, although
its own Library's opening is what removed it (Library.open sweeps partials at start-up): the
report said `removed_partials: []` of a file that was gone."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from core.db.models import DeferredDeletion
from core.library import Library
from core.maintenance import run_maintenance
from tests.conftest import make_settings
from tests.faults import ROOT, cli
from tests.internals import db_of, storage_of

# A direct upload being spooled in tmp/ when its server is killed
SPOOLING = """
import sys, time
from pathlib import Path
from core.spool import SpoolWriter
writer = SpoolWriter(Path(sys.argv[1]), 10**9)
writer.write(b"x" * 1000)
print(writer.path, flush=True)
time.sleep(60)
"""


def _crashed_spool(tmp: Path) -> Path:
    """The partial file of a writer SIGKILLed mid-way."""
    child = subprocess.Popen(
        [sys.executable, "-c", SPOOLING, str(tmp)], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        path = Path(child.stdout.readline().strip())
    finally:
        child.kill()
        child.wait(15)
    assert path.is_file() and path.parent == tmp
    return path


def test_maintenance_after_a_crash_reports_the_partial_its_start_up_removed(
    data_dir: Path,
) -> None:
    Library.open(make_settings(data_dir)).close()  # a data folder as the server made it
    left = _crashed_spool(data_dir / "tmp")

    result = cli("maintenance", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert not left.exists()
    report = json.loads(result.stdout)
    assert report["maintenance"]["removed_partials"] == [str(left)], report["maintenance"]
    assert report["reconcile"]["orphan_partials"] == []

    # said once: the next run has nothing more to report
    again = json.loads(cli("maintenance", "--data-dir", str(data_dir)).stdout)
    assert again["maintenance"]["removed_partials"] == []


def test_a_process_reports_its_start_up_sweep_in_its_first_maintenance_only(
    data_dir: Path,
) -> None:
    """The server's scheduled runs too: the first lists what the opening removed, once, with
    what the run itself finds (each file once)."""
    Library.open(make_settings(data_dir)).close()
    before = _crashed_spool(data_dir / "tmp")
    lib = Library.open(make_settings(data_dir))
    try:
        assert not before.exists()
        after = _crashed_spool(data_dir / "tmp")  # a crash while this process runs
        first = run_maintenance(lib, only=frozenset({"sweep_partials"}))
        assert first.removed_partials == sorted([str(before), str(after)])
        assert run_maintenance(lib, only=frozenset({"sweep_partials"})).removed_partials == []
    finally:
        lib.close()


def test_maintenance_reports_the_deferred_deletions_its_start_up_made(data_dir: Path) -> None:
    """A lifecycle hunt: a server moved two files to another athlete and stopped before their
    old keys' grace passed; `mediadesk maintenance` later deleted both (its Library's opening
    runs the due deferred deletions) and reported `deferred_deletions: []`."""
    lib = Library.open(make_settings(data_dir))
    try:
        keys = ["athletes/1/2026/12/old-a.jpg", "athletes/1/2026/12/old-b.jpg"]
        for key in keys:
            storage_of(lib).put_bytes(key, b"old bytes", "image/jpeg")
        with db_of(lib).write() as s:
            for key in keys:
                s.add(
                    DeferredDeletion(
                        storage_key=key,
                        is_prefix=False,
                        backend="local",
                        reason="move",
                        # due (rows added here schedule no run in this process)
                        not_before=datetime.now(UTC) - timedelta(seconds=1),
                    )
                )
    finally:
        lib.close()
    result = cli("maintenance", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["maintenance"]
    assert sorted(report["deferred_deletions"]) == keys, report
    assert not any((data_dir / "objects" / key).exists() for key in keys)
    again = json.loads(cli("maintenance", "--data-dir", str(data_dir)).stdout)
    assert again["maintenance"]["deferred_deletions"] == []
