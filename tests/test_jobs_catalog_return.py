"""A job that the catalog's passing outage stopped never spends an attempt, whichever process
claims next once the catalog is back: a lapsed lease of a job the outage cut off is not taken
until the catalog has been back a lease, by the catalog's own clock (its worker puts the job
back meanwhile, core/video/worker.py); a worker really killed still has its attempt counted,
a lease later.

SQLite: the disk under the catalog goes (a USB disk pulled out, a NAS gone) and comes back, the
fault being SQLite's own SQLITE_IOERR from the real engine (tests/test_catalog_disk_gone.py),
with two Library instances on one catalog file, as the desktop and `mediadesk serve` sharing a
data folder. PostgreSQL: a throwaway server restarted, the worker's clock off by ten minutes."""

from __future__ import annotations

import contextlib
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from core import jobs as jobs_module
from core.db.engine import Database
from core.db.migrate import upgrade
from core.db.models import utcnow
from core.jobs import JobQueue, JobRecord, JobState
from core.library import Library
from core.video import worker as worker_module
from tests import media
from tests.conftest import make_settings
from tests.internals import db_of
from tests.pg_server import Cluster, pg_cluster  # noqa: F401
from tests.test_catalog_disk_gone import DiskGone
from tests.video_helpers import TEST_LADDER

LEASE = 5  # the shortest lease the settings allow
# the SQLite test's lease, set on the libraries' queues after they open: shorter than the
# settings allow, to keep the suite's time (as test_video_worker_outage does); a lease renewed
# every second still outlives every step but the outage
QUICK_LEASE = 2
# A JobQueue made by the test takes any lease: the clock's skew (10 minutes) dwarfs either
PG_LEASE = 2


def _library(data: Path) -> Library:
    return Library.open(
        make_settings(data, hls_ladder=TEST_LADDER, job_lease_seconds=LEASE, job_max_attempts=3)
    )


def _claim_once_back(queue: JobQueue, owner: str) -> JobRecord | None:
    """The first claim the catalog answers (a connection opened on the disk that went fails
    once, and the pool is emptied)."""
    for _ in range(20):
        with contextlib.suppress(Exception):
            return queue.claim(owner)
        time.sleep(0.01)
    raise AssertionError("the catalog did not answer")


def test_a_job_a_sqlite_disk_outage_stopped_is_not_taken_by_another_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, the other process's first claim once the disk was back took the job whose lease
    had lapsed during the outage, spending an attempt (three such outages failed it
    'interrupted'): the grace of 36a12bc was PostgreSQL's only."""
    monkeypatch.setattr(worker_module, "BACKOFF_BASE", 0.5)
    data = tmp_path / "data"
    lib_a, lib_b = _library(data), _library(data)
    for lib in (lib_a, lib_b):
        monkeypatch.setattr(lib.jobs, "lease_seconds", QUICK_LEASE)
    disks = [DiskGone(db_of(lib), monkeypatch) for lib in (lib_a, lib_b)]
    worker = worker_module.VideoWorker(lib_a, name="a", poll_interval=0.2, nice=0)
    try:
        record = lib_a.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video")
        for job in lib_a.jobs.list(file_id=record.id)[0]:
            if job.kind != "web":
                lib_a.jobs.cancel(job.id)
        (job,) = [j for j in lib_a.jobs.latest_for_file(record.id) if j.kind == "web"]
        # a killed worker's job, claimed before the outage: counted, a lease after it
        dead = lib_b.jobs.enqueue(record.id, ["hls"])[0]
        encoding, gone = threading.Event(), threading.Event()
        should_stop = lib_a.jobs.should_stop

        def first_check_waits(job_id: int, owner: str) -> bool:
            if not encoding.is_set():
                encoding.set()
                gone.wait(30)
            return should_stop(job_id, owner)

        monkeypatch.setattr(lib_a.jobs, "should_stop", first_check_waits)
        worker.start()
        assert encoding.wait(30)
        taken = lib_b.jobs.claim("killed")
        assert taken is not None and taken.id == dead.id
        for disk in disks:
            disk.go()
        gone.set()
        time.sleep(QUICK_LEASE + 1)  # both leases lapse while the disk is away
        for disk in disks:
            disk.come_back()
        back = time.monotonic()
        # the other process is first: it takes neither yet
        assert _claim_once_back(lib_b.jobs, "b") is None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(Exception):
                if lib_b.jobs.get(job.id).state == JobState.DONE:
                    break
            time.sleep(0.2)
        done = lib_b.jobs.get(job.id)
        assert (done.state, done.attempts) == (JobState.DONE, 1)  # the outage's not spent
        worker.stop()
        # the killed worker's job is taken a lease after the disk came back, counted
        while time.monotonic() < back + QUICK_LEASE + 5:
            again = lib_b.jobs.claim("b", ("hls",))
            if again is not None:
                break
            time.sleep(0.2)
        assert again is not None and (again.id, again.attempts) == (dead.id, 2)
        assert time.monotonic() - back >= QUICK_LEASE - 0.5
    finally:
        worker.stop()
        lib_a.close()
        lib_b.close()


def test_a_lease_lapsed_before_the_outage_is_taken_at_once(tmp_path: Path) -> None:
    """A worker killed well before the outage (its lease lapsed while others claimed): taken by
    the first claim after it, as before."""
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    db = Database(url)
    upgrade(db.engine)
    queue = JobQueue(db, lease_seconds=2)
    try:
        dead = queue.enqueue(1, ["web"])[0]
        assert queue.claim("killed") is not None
        deadline = time.monotonic() + 2.5
        while time.monotonic() < deadline:  # another worker polls: the catalog answers
            assert queue.claim("other", ("hls",)) is None
            time.sleep(0.2)
        # then nobody reaches the catalog for longer than half a lease (1 s): what a claim takes
        # for an outage, whose grace must not hold back a lease that lapsed before it
        time.sleep(1.5)
        taken = queue.claim("other")
        assert taken is not None and (taken.id, taken.attempts) == (dead.id, 2)
    finally:
        db.dispose()


@pytest.mark.parametrize("skew", [timedelta(minutes=10), -timedelta(minutes=10)])
def test_the_restart_grace_is_by_the_catalogs_clock(
    pg_cluster: Cluster,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
    skew: timedelta,
) -> None:
    """A worker machine whose clock is off: the lease of grace after a PostgreSQL restart is
    the same. Before, a machine 10 minutes ahead wrote its jobs' started_at after the
    server's start time, so the first claim after a restart took them (no grace)."""

    def skewed() -> datetime:
        return utcnow() + skew

    monkeypatch.setattr(jobs_module, "utcnow", skewed)
    db = Database(pg_cluster.url)
    upgrade(db.engine)
    queue = JobQueue(db, lease_seconds=PG_LEASE)
    try:
        kept = queue.enqueue(1, ["web"])[0]
        dead = queue.enqueue(2, ["web"])[0]
        assert queue.claim("a") is not None and queue.claim("dead") is not None
        pg_cluster.stop()
        time.sleep(PG_LEASE + 0.5)  # both leases lapse while the catalog is away
        pg_cluster.start()
        db.engine.dispose()  # the pool's connections died with the server
        back = time.monotonic()
        assert _claim_once_back(queue, "b") is None  # neither is taken yet
        put = queue.postpone(kept.id, "a", "The catalog cannot be reached", "internal", 0)
        assert put is not None and put.attempts == 0
        again = queue.claim("b")
        assert again is not None and (again.id, again.attempts) == (kept.id, 1)
        assert queue.finish(kept.id, "b")
        while time.monotonic() < back + PG_LEASE + 5:  # a killed worker's: a lease later
            taken = queue.claim("c")
            if taken is not None:
                break
            time.sleep(0.2)
        assert taken is not None and (taken.id, taken.attempts) == (dead.id, 2)
        assert time.monotonic() - back < PG_LEASE + 2
    finally:
        db.dispose()
