"""A video worker whose data folder's disk is full (a real tmpfs: the work folder and the
catalog on it) waits for room instead of spinning.

Before, it took a job, could not record its end (SQLite's "database or disk is full"), logged
an ERROR with a traceback, waited a second and took the next, for as long as the disk stayed
full; no job was ever marked insufficient_storage."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import pytest

from core.jobs import JobState
from core.library import Library
from core.video import worker as worker_module
from core.video.worker import VideoWorker
from tests import media
from tests.conftest import make_settings
from tests.faults import fill_disk, small_tmpfs
from tests.video_helpers import TEST_LADDER

pytestmark = pytest.mark.timeout(180)


def test_a_full_data_disk_holds_the_worker_back_without_a_traceback_storm(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a quicker back-off than production's (5 s doubling): the same rule in a short test
    monkeypatch.setattr(worker_module, "BACKOFF_BASE", 0.5)
    monkeypatch.setattr(worker_module, "OUTAGE_BACKOFF_MAX", 2.0)
    clips = [
        media.make_avi(tmp_path / f"c{n}.avi", seconds=1, size=(320 + 16 * n, 240))
        for n in range(3)
    ]
    with small_tmpfs(tmp_path / "mnt", "6m") as mnt:
        lib = Library.open(make_settings(mnt / "data", hls_ladder=TEST_LADDER, job_max_attempts=2))
        worker = None
        try:
            ids = []
            for clip in clips:
                record = lib.uploads.ingest(clip, "video")
                for job in lib.jobs.list(file_id=record.id)[0]:
                    if job.kind != "web":
                        lib.jobs.cancel(job.id)
                ids.append(record.id)
            filler = mnt / "filler"
            fill_disk(filler)
            caplog.set_level(logging.INFO, logger="core.video.worker")
            # every try to take a job (with the catalog's disk full, the claim itself fails
            # before the worker could log it "claimed")
            claims: list[float] = []
            claim = lib.jobs.claim
            monkeypatch.setattr(
                lib.jobs, "claim", lambda *a, **k: claims.append(time.monotonic()) or claim(*a, **k)
            )
            worker = VideoWorker(lib, name="full", poll_interval=0.2, nice=0).start()
            time.sleep(4)
            records = [r for r in caplog.records if r.name == "core.video.worker"]
            storm = [r.getMessage() for r in records if r.exc_info or r.levelno >= logging.ERROR]
            assert storm == [], storm[:3]
            warnings = [r.getMessage() for r in records if r.levelno == logging.WARNING]
            assert 1 <= len(warnings) <= 3, warnings
            assert "No space left" in warnings[0], warnings
            # 4 s at a claim every 0.2 s is 20; held back 0.5, 1, 2 s it is a handful
            assert len(claims) <= 7, len(claims)
            filler.unlink()  # room again: the jobs are done, none failed for good
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                jobs = [j for f in ids for j in lib.jobs.latest_for_file(f) if j.kind == "web"]
                if all(j.state == JobState.DONE for j in jobs):
                    break
                time.sleep(0.5)
            assert [j.state for j in jobs] == [JobState.DONE] * 3, jobs
        finally:
            if worker is not None:
                worker.stop()
            lib.close()
