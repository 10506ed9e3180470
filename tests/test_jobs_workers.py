"""Workers as real processes: SIGKILL mid-encode, cancel, hard delete during an encode, and two
`mediadesk worker` processes sharing a PostgreSQL catalog and an S3 bucket."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from core import keys
from core.jobs import JobRecord
from core.library import Library
from core.records import FileRecord
from core.video import service
from core.video.worker import VideoWorker
from tests import media
from tests.conftest import make_settings
from tests.internals import storage_of
from tests.pg_server import postgres_url  # noqa: F401
from tests.video_helpers import TEST_LADDER

LEASE = 5


def wait_for(check: Callable[[], object], timeout: float = 60.0, every: float = 0.1) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout} s")


def only(lib: Library, file_id: int, kind: str) -> JobRecord:
    """Cancels the file's other queued jobs; returns the one of `kind`."""
    keep = None
    for job in lib.jobs.list(file_id=file_id)[0]:
        if job.kind == kind:
            keep = job
        elif job.state == "queued":
            lib.jobs.cancel(job.id)
    assert keep is not None
    return keep


def worker_env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "R2_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        MEDIADESK_DATA_DIR=str(data),
        MEDIADESK_CONFIG_FILE=str(data / "settings.toml"),
        MEDIADESK_HLS_LADDER=TEST_LADDER,
        MEDIADESK_HLS_SEGMENT_SECONDS="2",
        MEDIADESK_JOB_LEASE_SECONDS=str(LEASE),
        **extra,
    )
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "desktop_app", "worker", "--log-level", "INFO", "--nice", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        cwd=str(Path(__file__).resolve().parents[1]),
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def runner_processes(lib: Library) -> list[str]:
    """Encode processes of this library's jobs (their spec names its tmp folder)."""
    out = subprocess.run(["ps", "-eo", "pid,args"], capture_output=True, text=True).stdout
    mine = str(lib.paths.tmp_dir)
    return [ln for ln in out.splitlines() if "core.video.runner" in ln and mine in ln]


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Long enough that an encode is still running when the test acts on it."""
    path = tmp_path_factory.mktemp("long") / "long.mp4"
    return media.make_mp4(path, seconds=10, size=(480, 272), audio=False)


@pytest.fixture
def lib(tmp_path: Path) -> Iterator[Library]:
    data = tmp_path / "data"
    data.mkdir()
    library = Library.open(
        make_settings(data, hls_ladder=TEST_LADDER, hls_segment_seconds=2, job_lease_seconds=LEASE)
    )
    yield library
    library.close()


def test_a_worker_killed_mid_encode_loses_its_job_to_another_which_finishes_it_once(
    lib: Library, long_clip: Path, tmp_path: Path
) -> None:
    record = lib.uploads.ingest(long_clip, "video")
    job = only(lib, record.id, "hls")
    env = worker_env(tmp_path / "data")
    first = start_worker(env, tmp_path / "first.log")
    try:
        running = wait_for(
            lambda: (j := lib.jobs.get(job.id)).state == "running" and j.progress > 0 and j
        )
        assert isinstance(running, JobRecord)
        owner = running.lease_owner
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        # its encode notices the dead parent and stops too (no orphan encoding for nobody)
        wait_for(lambda: not runner_processes(lib), timeout=5)
        assert lib.jobs.get(job.id).state == "running"  # until the lease runs out
        second = start_worker(env, tmp_path / "second.log")
        try:
            done = wait_for(lambda: (j := lib.jobs.get(job.id)).state == "done" and j, 90)
        finally:
            stop(second)
    finally:
        if first.poll() is None:
            first.kill()
    assert isinstance(done, JobRecord)
    assert done.attempts == 2 and done.lease_owner is None
    assert owner != lib.jobs.get(job.id).lease_owner
    jobs = lib.jobs.list(file_id=record.id)[0]
    assert [j.state for j in jobs if j.kind == "hls"] == ["done"]  # once
    prefix = service.job_prefix(record, "hls", done.result)
    stored = sorted(o.key[len(prefix) :] for o in storage_of(lib).list_keys(prefix))
    assert stored == sorted(done.result["files"])  # exactly one set of derivatives
    # the killed worker's work folder was swept by the next worker to start
    assert list((lib.paths.tmp_dir / "jobs").iterdir()) == []


def test_cancel_stops_the_encode_within_a_second_and_keeps_nothing(
    lib: Library, long_clip: Path
) -> None:
    record = lib.uploads.ingest(long_clip, "video")
    job = only(lib, record.id, "hls")
    worker = VideoWorker(lib, name="cancel-test", nice=0)
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    try:
        wait_for(lambda: (j := lib.jobs.get(job.id)).state == "running" and j.progress > 0)
        asked = time.monotonic()
        lib.jobs.cancel(job.id)
        thread.join(10)
        stopped = time.monotonic() - asked
    finally:
        thread.join(30)
    final = lib.jobs.get(job.id)
    assert final.state == "cancelled"
    assert stopped < 5.0  # it polls twice a second; the bound is loose for a busy machine
    assert not runner_processes(lib)
    assert list(storage_of(lib).list_keys(keys.video_prefix(record.storage_key))) == []
    assert list((lib.paths.tmp_dir / "jobs").iterdir()) == []


def test_a_hard_delete_during_an_encode_leaves_nothing_behind(
    lib: Library, long_clip: Path
) -> None:
    record = lib.uploads.ingest(long_clip, "video")
    job = only(lib, record.id, "hls")
    worker = VideoWorker(lib, name="delete-test", nice=0)
    thread = threading.Thread(target=worker.run_once)
    thread.start()
    try:
        wait_for(lambda: (j := lib.jobs.get(job.id)).state == "running" and j.progress > 0)
        lib.delete_permanently(record.id)
        thread.join(30)
    finally:
        thread.join(30)
    assert list(lib.list_objects()) == []  # no original, no derivative
    assert lib.jobs.list(file_id=record.id)[1] == 0
    assert not runner_processes(lib)


class _DeletedAsItFetches(VideoWorker):
    """Its file is hard-deleted after the worker read the file's row, as it fetches the
    original: on a bucket the object is gone by the download (team mode)."""

    def _source(self, record: FileRecord, work: Path) -> contextlib.AbstractContextManager[Path]:
        self.lib.delete_permanently(record.id)
        return super()._source(record, work)


def _job_records(caplog: pytest.LogCaptureFixture, job_id: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if f"Job {job_id} " in r.getMessage()]


def test_a_hard_delete_as_the_original_is_fetched_logs_one_line_and_no_error(
    lib: Library, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """README: a hard delete during a job is a normal outcome (its rows go, nothing stays), so
    the missing original it causes is no failure: no ERROR, no traceback, one line saying so."""
    caplog.set_level(logging.DEBUG, "core.video")
    record = lib.uploads.ingest(media.make_mp4(tmp_path / "a.mp4", seconds=1), "video")
    job = only(lib, record.id, "web")
    _DeletedAsItFetches(lib, name="fetch-delete", nice=0).run_once()
    assert lib.jobs.list(file_id=record.id)[1] == 0  # no row left, not even a failed one
    assert list(lib.list_objects()) == []
    assert [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info] == []
    stopped = [r for r in _job_records(caplog, job.id) if "the file was deleted" in r.message]
    assert [(r.levelno, r.message) for r in stopped] == [
        (logging.INFO, f"Job {job.id} of file {record.id} stopped: the file was deleted")
    ]


def test_a_missing_original_of_a_listed_file_still_logs_an_error(
    lib: Library, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The counterpart: the original gone while the file is still listed is a real failure."""
    caplog.set_level(logging.DEBUG, "core.video")
    record = lib.uploads.ingest(media.make_mp4(tmp_path / "b.mp4", seconds=1), "video")
    job = only(lib, record.id, "web")
    stored = lib.local_path(record)
    assert stored is not None
    stored.unlink()
    VideoWorker(lib, name="missing", nice=0).run_once()
    assert lib.jobs.get(job.id).error_code == "original_missing"
    errors = [r for r in _job_records(caplog, job.id) if r.levelno >= logging.ERROR]
    assert [(r.message, bool(r.exc_info)) for r in errors] == [(f"Job {job.id} failed", True)]


def test_mediadesk_reprocess_queues_the_videos_again(lib: Library, tmp_path: Path) -> None:
    import json

    video = lib.uploads.ingest(media.make_avi(tmp_path / "r.avi", seconds=1), "video")
    photo = lib.uploads.ingest(media.make_jpeg(tmp_path / "p.jpg"), "image")
    first = {j.id for j in lib.jobs.list(file_id=video.id)[0]}
    env = worker_env(tmp_path / "data")
    cmd = [sys.executable, "-m", "desktop_app", "reprocess"]
    done = subprocess.run([*cmd, "--all"], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    queued = json.loads(done.stdout)["queued"]
    assert list(queued) == [str(video.id)] and len(queued[str(video.id)]) == 3
    jobs = lib.jobs.list(file_id=video.id)[0]
    assert {j.id for j in jobs if j.state == "queued"}.isdisjoint(first)
    assert all(j.state == "cancelled" for j in jobs if j.id in first)
    # a photo's id makes its thumbnail again (tests/test_thumbnail_remake.py); no job
    remade = subprocess.run(
        [*cmd, str(photo.id)], env=env, capture_output=True, text=True, timeout=60
    )
    assert remade.returncode == 0, remade.stderr
    assert json.loads(remade.stdout) == {"queued": {}, "remade": [photo.id]}
    assert lib.jobs.list(file_id=photo.id)[1] == 0
    nothing = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert nothing.returncode == 2 and "--all" in nothing.stderr
