"""A video job whose files are stored while a storage move copies its video: found moving a
club's library to R2 while videos were processed. The job stored its files on the local
folder after the move had copied the video folder, and before the move switched the file;
it was then recorded done on the file now on R2, where its files never arrived (the HLS
ladder, the scrub sprites: 404), and the local ones went with the old copy's deletion."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest

from core import storage_migration
from core.jobs import JobRecord
from core.library import Library
from core.storage.factory import build_r2
from core.video import service
from core.video import worker as worker_module
from tests import media
from tests.conftest import make_s3_settings, make_settings
from tests.s3_server import S3Target
from tests.video_helpers import TEST_LADDER

pytestmark = pytest.mark.timeout(120)


def test_a_job_stored_during_the_move_of_its_video_keeps_its_files(
    data_dir: Path, s3_bucket: S3Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = Library.open(make_settings(data_dir, storage_backend="local", hls_ladder=TEST_LADDER))
    try:
        record = lib.uploads.ingest(media.make_mp4(tmp_path / "a.mp4", seconds=1), "video")
        for job in lib.jobs.list(file_id=record.id)[0]:
            if job.kind != "thumbnails":
                lib.jobs.cancel(job.id)
        local_job_files = data_dir / "objects" / "_derived"
        real_copy = storage_migration._copy_video  # noqa: SLF001
        done: list[JobRecord | None] = []
        worker = worker_module.VideoWorker(lib, name="w", nice=0)

        def job_stored_meanwhile(*args: Any) -> list[str]:
            copied = real_copy(*args)  # the video folder is copied: the job's files come now
            before = set(local_job_files.rglob("*"))
            runner = threading.Thread(target=lambda: done.append(worker.run_once()))
            runner.start()
            # its files stored on the local folder (the file is still there), before the switch
            for _ in range(600):
                if {p for p in local_job_files.rglob("*.vtt")} - before or not runner.is_alive():
                    break
                threading.Event().wait(0.05)
            job_threads.append(runner)
            return copied

        job_threads: list[threading.Thread] = []
        monkeypatch.setattr(storage_migration, "_copy_video", job_stored_meanwhile)
        bucket = build_r2(make_s3_settings(data_dir, s3_bucket))
        report = lib.backends.migrate("r2", bucket)
        assert report.complete, report
        for runner in job_threads:
            runner.join(60)
        assert done and done[0] is not None, done
        assert (done[0].kind, done[0].state) == ("thumbnails", "done"), (done[0].state, done[0])
        stored = service.stored_files(record.storage_key, done[0])
        assert stored
        missing = [key for key in stored if not bucket.exists(key)]
        assert not missing, missing  # the job's files are where its file is now
    finally:
        lib.close()
