"""A video job a full disk stopped whose put-back the catalog could not record (its disk is the
same full disk, the default layout): kept by its worker and recorded once there is room, its
attempt not spent; "not counted" is logged only once it is recorded.

Before, the worker logged "job N put back, its attempt not counted" and swallowed the
catalog's "database or disk is full": the job stayed running under its lease until it lapsed,
and the next claim took it again, spending the attempt (with one attempt allowed it failed
for good, 'interrupted')."""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.db.models import utcnow
from core.jobs import JobRecord, JobState
from core.library import Library
from core.video import worker as worker_module
from core.video.worker import VideoWorker
from tests import media
from tests.conftest import make_settings
from tests.faults import fill_disk, small_tmpfs
from tests.video_helpers import TEST_LADDER

pytestmark = pytest.mark.timeout(180)

# seconds: shorter than the settings allow (5 s; set on the library's job queue), so that it
# lapses within the test soon; the worker renews it every second until the disk is full
LEASE = 2
ROOM = 128 * 1024  # left free for the claim and the start of the encode (~240 KB), which fills it


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough that its encode writes past ROOM; read only (each test ingests a copy)."""
    return media.make_avi(tmp_path_factory.mktemp("clip") / "a.avi", seconds=10, size=(640, 480))


def _web_job(lib: Library, clip: Path) -> JobRecord:
    record = lib.uploads.ingest(clip, "video")
    for job in lib.jobs.list(file_id=record.id)[0]:
        if job.kind != "web":
            lib.jobs.cancel(job.id)
    (web,) = [j for j in lib.jobs.latest_for_file(record.id) if j.kind == "web"]
    return web


def _leave_room(filler: Path) -> None:
    """The disk filled but for ROOM bytes: a real encode runs out of space in it."""
    fill_disk(filler)
    os.truncate(filler, max(filler.stat().st_size - ROOM, 0))


def _wait(lib: Library, job_id: int, done: Any, seconds: float) -> JobRecord:
    deadline = time.monotonic() + seconds
    job = lib.jobs.get(job_id)
    while not done(job) and time.monotonic() < deadline:
        time.sleep(0.2)
        job = lib.jobs.get(job_id)
    return job


def _lapsed(job: JobRecord) -> bool:
    """Whether the job's lease ended a second ago, by the catalog's clock (SQLite's: this
    machine's; a renewal that got through pushes it on): a claim would take it from then on."""
    ends = job.lease_expires_at
    return ends is None or _naive(utcnow()) > _naive(ends) + timedelta(seconds=1)


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None)


def test_a_put_back_the_full_catalog_could_not_record_waits_for_room_without_spending_the_attempt(
    tmp_path: Path, clip: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The encode fills the disk of the data folder (a real tmpfs: catalog, work folder and
    store on it), and the disk stays full past the job's lease: what the job's work files
    free is taken at once (another writer). The job is put back once room is freed."""
    monkeypatch.setattr(worker_module, "BACKOFF_BASE", 0.5)
    # the put-back's wait once there is room again (2 s before): it still grows past BACKOFF_BASE
    monkeypatch.setattr(worker_module, "OUTAGE_BACKOFF_MAX", 1.0)
    with small_tmpfs(tmp_path / "mnt", "24m") as mnt:
        lib = Library.open(
            make_settings(
                mnt / "data", hls_ladder=TEST_LADDER, job_max_attempts=1, job_lease_seconds=5
            )
        )
        monkeypatch.setattr(lib.jobs, "lease_seconds", LEASE)
        worker = None
        try:
            job = _web_job(lib, clip)
            filler, rest = mnt / "filler", mnt / "rest"
            _leave_room(filler)
            postpone, taken = lib.jobs.postpone, threading.Event()

            def on_a_full_disk(*args: Any, **kwargs: Any) -> JobRecord | None:
                if not taken.is_set():  # the room the stopped encode freed is taken again
                    taken.set()
                    fill_disk(rest)
                return postpone(*args, **kwargs)

            monkeypatch.setattr(lib.jobs, "postpone", on_a_full_disk)
            caplog.set_level(logging.INFO, logger="core.video.worker")
            worker = VideoWorker(lib, name="full", poll_interval=0.2, nice=0).start()
            deadline = time.monotonic() + 60
            while not taken.is_set() and time.monotonic() < deadline:
                time.sleep(0.2)
            assert taken.is_set(), "the encode did not run out of space"
            _wait(lib, job.id, _lapsed, 2 * LEASE + 1)  # the disk stays full past the lease
            held = lib.jobs.get(job.id)
            freed = time.time()
            rest.unlink()
            filler.unlink()  # room again: the put-back is recorded, then the job runs
            done = _wait(lib, job.id, lambda j: j.state in (JobState.DONE, JobState.FAILED), 90)
            assert (done.state, done.attempts) == (JobState.DONE, 1), done
            assert (held.state, held.attempts) == (JobState.RUNNING, 1), held
            records = [r for r in caplog.records if r.name == worker_module.__name__]
            counted = [r for r in records if "not counted" in r.getMessage()]
            assert counted and all(r.created >= freed for r in counted), [
                (r.created - freed, r.getMessage()) for r in counted
            ]
            storm = [r.getMessage() for r in records if r.exc_info or r.levelno >= logging.ERROR]
            assert storm == [], storm[:3]
        finally:
            if worker is not None:
                worker.stop()
            lib.close()


def test_the_encodes_files_are_removed_before_the_put_back_that_needs_their_room(
    tmp_path: Path, clip: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The encode fills the disk of the data folder (catalog on it) and nothing else writes:
    its files removed, the catalog has the room to record the put-back at once. Before, the
    put-back was tried with the encode's files still there, failed, and was dropped."""
    monkeypatch.setattr(worker_module, "BACKOFF_BASE", 0.5)
    monkeypatch.setattr(worker_module, "OUTAGE_BACKOFF_MAX", 2.0)
    # no progress written during the encode (nor a heartbeat, within a 30 s lease): it is the
    # encode's own write that meets the full disk, not the catalog's
    monkeypatch.setattr(worker_module, "PUBLISH_EVERY", 600.0)
    with small_tmpfs(tmp_path / "mnt", "24m") as mnt:
        lib = Library.open(make_settings(mnt / "data", hls_ladder=TEST_LADDER, job_max_attempts=1))
        worker = None
        try:
            job = _web_job(lib, clip)
            _leave_room(mnt / "filler")
            caplog.set_level(logging.INFO, logger="core.video.worker")
            worker = VideoWorker(lib, name="full", poll_interval=0.2, nice=0).start()
            back = _wait(lib, job.id, lambda j: j.reason == "insufficient_storage", 30)
            worker.stop()
            assert (back.state, back.attempts, back.reason) == (
                JobState.QUEUED,
                0,
                "insufficient_storage",
            ), back
            records = [r for r in caplog.records if r.name == worker_module.__name__]
            full = [r.getMessage() for r in records if "No space left" in r.getMessage()]
            assert full and "job 1 put back, its attempt not counted" in full[0], full
            assert "OSError: No space left on device" in full[0], full  # the encode's
        finally:
            if worker is not None:
                worker.stop()
            lib.close()
