"""Maintenance at its edges: a retention past the calendar, more missing files than the
summary keeps ids of, two runs at once, a remake that races another writer."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from core import leader, maintenance
from core.db.models import MediaFile
from core.doctor import check_reconcile
from core.errors import LostRace
from core.library import Library
from core.maintenance import purge_time, reconcile, run_maintenance
from core.thumbnail_remake import ThumbnailRemaker
from server import cli
from tests.conftest import make_settings
from tests.internals import db_of, storage_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401


def _photos(lib: Library, folder: Path, n: int) -> list[int]:
    ids = []
    for i in range(n):
        path = folder / f"p{i}.jpg"
        Image.new("RGB", (40, 30), (10 * i % 256, 80, 160)).save(path)
        ids.append(lib.uploads.ingest(path, "image").id)
    return ids


# ---- a retention past the calendar -----------------------------------------------------------
def test_a_retention_of_a_million_days_keeps_the_trash(data_dir: Path, tmp_path: Path) -> None:
    lib = Library.open(make_settings(data_dir, trash_retention_days=1_000_000))
    try:
        (file_id,) = _photos(lib, tmp_path, 1)
        lib.trash(file_id)
        # every run died on OverflowError (now - 1e6 days is before year 1), no task ran
        report = run_maintenance(lib)
        assert not report.errors and report.purged == []
        assert lib.get_file(file_id, include_trashed=True).deleted_at is not None
        deleted_at = datetime.now(UTC)
        assert purge_time(deleted_at, 1_000_000).year > 4000
        assert purge_time(deleted_at, 10**10).year == 9999  # past timedelta's own bound
    finally:
        lib.close()


# ---- doctor's count of files without their object --------------------------------------------
def test_doctor_counts_every_file_without_its_object(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(maintenance, "SUMMARY_IDS", 3)  # 100 in real life: 5 files say it
    ids = _photos(library, tmp_path, 5)
    for file_id in ids:
        storage_of(library).delete(library.get_file(file_id).storage_key)
    found = reconcile(library)
    assert found.rows_without_objects == ids
    summary = found.summary()
    assert summary["rows_without_objects"] == ids[:3]
    assert summary["rows_without_objects_count"] == 5
    library.remember_reconcile(summary)
    check = check_reconcile(db_of(library))
    assert not check.ok
    # said "3" (the length of the ids kept)
    assert "files without their object: 5 (ids " in check.detail, check.detail


# ---- two runs at once --------------------------------------------------------------------------
RUN_PG_LOCK = 0x4D444B52  # core.leader's, the lock of one full run on PostgreSQL
HOLD_FLOCK = """
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def holder(data_dir: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding this data folder's maintenance run lock."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_FLOCK, str(data_dir / leader.RUN_LOCK)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline() == "held\n"
        yield proc
    finally:
        proc.kill()
        proc.wait()


def _cli_env(monkeypatch: pytest.MonkeyPatch, data_dir: Path, url: str | None = None) -> None:
    monkeypatch.setenv("MEDIADESK_DATA_DIR", str(data_dir))
    monkeypatch.setenv("MEDIADESK_CONFIG_FILE", str(data_dir / "settings.toml"))
    monkeypatch.setenv("MEDIADESK_WORKERS", "0")
    if url is None:
        monkeypatch.delenv("DATABASE_URL", raising=False)
    else:
        monkeypatch.setenv("DATABASE_URL", url)
    # full_run's `wait` took RUN_WAIT's value when it was defined: patching the constant left
    # each refusal waiting the whole 10 s; the command's own wait, a second, shows the same
    monkeypatch.setattr(leader.full_run.__wrapped__, "__defaults__", (1.0,))  # type: ignore[attr-defined]


def test_maintenance_waits_then_refuses_while_another_run_holds_the_folder(
    library: Library,
    data_dir: Path,
    holder: subprocess.Popen[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _cli_env(monkeypatch, data_dir)
    assert cli.run(["maintenance"]) == 2  # ran in full beside the other: 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "Maintenance is already running in process" in err and f":{holder.pid} " in err, err
    holder.kill()
    holder.wait()
    assert cli.run(["maintenance"]) == 0, capsys.readouterr()


def test_maintenance_refuses_while_another_node_runs_it_on_postgresql(
    pg_library: Library,  # noqa: F811
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each node of a team has its own data folder: only the catalog can tell of the other's
    run (the leader's scheduled one holds the same lock, core/leader.py _run_task)."""
    import psycopg
    from sqlalchemy.engine import make_url

    from core.db.schema_guard import libpq_url, process_name

    other = tmp_path / "node2"
    other.mkdir()
    _cli_env(monkeypatch, other, postgres_url)
    conninfo = libpq_url(make_url(postgres_url))
    with psycopg.connect(conninfo, autocommit=True) as run:  # the other node's run
        run.execute("SELECT pg_advisory_lock(%s)", (RUN_PG_LOCK,))
        assert cli.run(["maintenance"]) == 2  # ran in full beside the other: 0
        err = capsys.readouterr().err
        assert f"already running in process {process_name()} " in err, err
    assert cli.run(["maintenance"]) == 0, capsys.readouterr()
    with psycopg.connect(conninfo, autocommit=True) as conn:
        left = conn.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid::bigint = %s",
            (RUN_PG_LOCK,),
        ).fetchone()
        assert left == (0,)  # released at the end of the run
    assert leader.RUN_PG_LOCK == RUN_PG_LOCK


# ---- a remake racing another writer ----------------------------------------------------------
def test_a_remake_that_races_another_writer_skips_that_photo_only(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _photos(library, tmp_path, 3)
    with db_of(library).write() as s:  # made by an older rendering
        for file_id in ids:
            row = s.get(MediaFile, file_id)
            assert row is not None
            row.thumbnail_generation = None
    real = ThumbnailRemaker.remake_told
    raced = {ids[1]}

    def remake(self: ThumbnailRemaker, file_id: int):  # type: ignore[no-untyped-def]
        if file_id in raced:
            raced.discard(file_id)  # the other writer's change is done: next time it works
            raise LostRace()
        return real(self, file_id)

    monkeypatch.setattr(ThumbnailRemaker, "remake_told", remake)
    report = run_maintenance(library, only=frozenset({"remake_thumbnails"}))
    # one LostRace ended the batch: "remake_thumbnails: The file was changed by someone else…"
    assert not report.errors, report.errors
    assert report.remade_thumbnails == [ids[0], ids[2]]
    assert report.skipped_thumbnails == [ids[1]]
    again = run_maintenance(library, only=frozenset({"remake_thumbnails"}))
    assert again.remade_thumbnails == [ids[1]] and again.skipped_thumbnails == []


def test_the_scheduled_run_waits_for_a_run_on_another_node(
    pg_library: Library,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    """The leader's run takes the catalog-wide run lock `mediadesk maintenance` holds: due
    again next tick, not run beside it."""
    import psycopg
    from sqlalchemy.engine import make_url

    from core.db.schema_guard import libpq_url

    ran: list[int] = []
    participant = pg_library.maintenance_leader(3600.0, task=lambda lib: ran.append(1))
    with psycopg.connect(libpq_url(make_url(postgres_url)), autocommit=True) as run:
        run.execute("SELECT pg_advisory_lock(%s)", (RUN_PG_LOCK,))
        participant.running_task = True
        participant._run_task()
        assert ran == [] and not participant.running_task
    participant.running_task = True
    participant._run_task()
    assert ran == [1] and not participant.running_task
