"""A video job's failure: its `error` never names a local path, and FFmpeg refusing what a
damaged original decodes to is the original's fault (undecodable_media, not retried).

Before, an HLS job of a phone clip with a damaged block failed as `encoder_failed` after 3
attempts with back-off, and its error read `ArgumentError: Invalid argument:
'/…/data/tmp/jobs/job-152-…/out/360/index.m3u8' returned 22` in GET /jobs and in
/stream/{id}/info (README: error answers never carry a local path; bad input is not retried).
"""

from __future__ import annotations

import random
import subprocess
from pathlib import Path
from typing import Any

import av.error
import pytest
from sqlalchemy import update

from core.db.models import Job, utcnow
from core.jobs import JobState
from core.library import Library
from core.settings import Settings
from core.video import runner
from core.video import worker as worker_module
from core.video.failures import failure_message, without_paths
from server.entry import EmbeddedServer
from tests import media
from tests.conftest import make_settings
from tests.s3_server import S3Target, s3_client
from tests.server_fixtures import Tokens, bearer, http_call
from tests.video_helpers import TEST_LADDER, process_all

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return make_settings(data_dir, hls_ladder=TEST_LADDER, job_max_attempts=3)


def _damaged_clip(folder: Path) -> Path:
    """A phone-like clip (H.264 + AAC, fast start) with its middle half overwritten by noise."""
    good, bad = folder / "good.mp4", folder / "damaged.mp4"
    subprocess.run(
        ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"]
        + ["-f", "lavfi", "-i", "testsrc2=s=640x360:r=30:d=6", "-f", "lavfi", "-i", "sine=d=6"]
        + ["-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
        + ["-movflags", "+faststart", str(good)],
        check=True,
        timeout=60,
    )
    data = bytearray(good.read_bytes())
    noise = random.Random(1)
    for i in range(int(len(data) * 0.4), int(len(data) * 0.9)):
        data[i] = noise.randrange(256)
    bad.write_bytes(bytes(data))
    return bad


def _answered(live: EmbeddedServer, tokens: Tokens, file_id: int) -> tuple[dict[str, Any], str]:
    """The file's jobs by kind as GET /jobs answers them, and /stream/{id}/info's
    processing.error, to an admin token: the words as kept (others read a sentence for the
    reason, tests/test_job_error_scopes.py), which name no local path either."""
    jobs = http_call(f"{live.url}/jobs?file_id={file_id}", headers=bearer(tokens.admin))
    assert jobs.status == 200, jobs.body
    info = http_call(f"{live.url}/stream/{file_id}/info", headers=bearer(tokens.admin))
    assert info.status == 200, info.body
    by_kind = {j["kind"]: j for j in jobs.json()["items"]}
    return by_kind, info.json()["processing"]["error"] or ""


def _no_local_path(text: str, *folders: Path) -> None:
    for folder in folders:
        assert str(folder) not in text, text
    assert "/tmp/" not in text and "/jobs/" not in text and "/out/" not in text, text


def _only(lib: Library, file_id: int, kind: str) -> None:
    for job in lib.jobs.list(file_id=file_id)[0]:
        if job.kind != kind:
            lib.jobs.cancel(job.id)


def test_a_runner_failure_answers_no_local_path(
    library: Library,
    live: EmbeddedServer,
    tokens: Tokens,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A real encode failing in its runner with PyAV's error naming the file it could not
    write (the rung's playlist is a folder: EISDIR): the job's error, over HTTP, says the
    failure and the output's own name, not where the work folder is."""
    made = worker_module.work_folder

    def blocked(lib: Library, job: Any) -> Path:
        work = made(lib, job)
        (work / "out" / "120" / "index.m3u8").mkdir(parents=True)
        return work

    monkeypatch.setattr(worker_module, "work_folder", blocked)
    clip = media.make_mp4(tmp_path / "clip.mp4", seconds=1)
    record = library.uploads.ingest(clip, "video")
    _only(library, record.id, "hls")
    process_all(library)
    jobs, processing = _answered(live, tokens, record.id)
    hls = jobs["hls"]
    assert hls["error"], hls
    _no_local_path(hls["error"], tmp_path, library.paths.data_dir)
    _no_local_path(processing, tmp_path, library.paths.data_dir)
    # still says what failed, and on which of its files
    assert "Is a directory" in hls["error"] and "120/index.m3u8" in hls["error"], hls
    assert hls["reason"] == "storage_unavailable", hls


def test_a_worker_side_failure_answers_no_local_path(
    library: Library, live: EmbeddedServer, tokens: Tokens, tmp_path: Path
) -> None:
    """A failure in the worker itself (its work folder cannot be made: a file stands where
    the jobs' folder goes) fails the job with OSError's words, not its path."""
    clip = media.make_mp4(tmp_path / "clip.mp4", seconds=1)
    record = library.uploads.ingest(clip, "video")
    _only(library, record.id, "web")
    jobs_root = library.paths.tmp_dir / "jobs"
    if jobs_root.is_dir():
        jobs_root.rmdir()
    jobs_root.write_bytes(b"in the way")
    try:
        process_all(library)
    finally:
        jobs_root.unlink()
    jobs, processing = _answered(live, tokens, record.id)
    web = jobs["web"]
    assert web["error"] and "File exists" in web["error"], web
    _no_local_path(web["error"], tmp_path, library.paths.data_dir)
    _no_local_path(processing, tmp_path, library.paths.data_dir)


def test_a_damaged_clip_is_bad_input_not_retried_and_names_no_path(
    library: Library, live: EmbeddedServer, tokens: Tokens, tmp_path: Path
) -> None:
    """The outside tester's clip: its HLS job is made (frames the damage sent back in time
    dropped), or fails at once as undecodable_media; never retried as an encoder fault, and
    its error names no local path."""
    record = library.uploads.ingest(_damaged_clip(tmp_path), "video")
    _only(library, record.id, "hls")
    process_all(library)
    jobs, processing = _answered(live, tokens, record.id)
    hls = jobs["hls"]
    assert hls["state"] in (JobState.DONE, JobState.FAILED), hls
    if hls["state"] == JobState.FAILED:
        assert hls["reason"] == "undecodable_media" and hls["attempts"] == 1, hls
        assert "the original is still served" in hls["error"], hls
        _no_local_path(hls["error"], tmp_path, library.paths.data_dir)
        _no_local_path(processing, tmp_path, library.paths.data_dir)


def test_a_cut_original_in_a_bucket_fails_its_job_as_on_a_local_disk(
    s3_library: Library, s3_bucket: S3Target, tmp_path: Path
) -> None:
    """An original cut short in the bucket (a bad restore, a lost tail) fails its job as a
    local one does: undecodable_media, the read's "it is damaged". Before, the worker
    downloaded it without a size check and made a shorter web copy of what was left (an AVI
    cut at 70% still decodes), served as the video."""
    clip = media.make_avi(tmp_path / "clip.avi", seconds=2)
    whole = clip.read_bytes()
    cut = whole[: int(len(whole) * 0.7)]
    local = Library.open(make_settings(tmp_path / "local", hls_ladder=TEST_LADDER))
    try:
        jobs = {}
        for lib in (local, s3_library):
            record = lib.uploads.ingest(clip, "video")
            _only(lib, record.id, "web")
            stored = lib.local_path(record)
            if stored is not None:
                stored.write_bytes(cut)
            else:
                s3_client(s3_bucket).put_object(
                    Bucket=s3_bucket.bucket, Key=record.storage_key, Body=cut
                )
            process_all(lib)
            web = {j.kind: j for j in lib.jobs.latest_for_file(record.id)}["web"]
            assert "it is damaged" in (web.error or ""), web
            jobs[lib.storage_name] = (web.state, web.error_code, web.attempts)
    finally:
        local.close()
    assert jobs["r2"] == jobs["local"], jobs
    assert jobs["r2"][1] == "undecodable_media", jobs


def test_ffmpeg_refusing_a_damaged_originals_pictures_is_the_originals_fault(
    tmp_path: Path,
) -> None:
    """The rule alone, with PyAV's own errors as its muxer raises them: EINVAL over an
    original whose decode reports damage is permanent undecodable_media; over a sound
    original it stays a retried encoder_failed, and so does running out of memory."""
    damaged = _damaged_clip(tmp_path)
    sound = tmp_path / "good.mp4"
    out = tmp_path / "work" / "out"
    refused = av.error.ArgumentError(22, "Invalid argument", str(out / "120" / "index.m3u8"))

    said = runner.failed(refused, damaged, out)
    assert said["permanent"] is True and said["reason"] == "undecodable_media", said
    assert "damaged" in said["error"] and "the original is still served" in said["error"]
    _no_local_path(said["error"], tmp_path)

    said = runner.failed(refused, sound, out)
    assert said["permanent"] is False and said["reason"] == "encoder_failed", said
    assert said["error"] == "ArgumentError: Invalid argument (120/index.m3u8)", said

    memory = av.error.MemoryError(12, "Cannot allocate memory")
    said = runner.failed(memory, damaged, out)
    assert said["permanent"] is False and said["reason"] == "encoder_failed", said


def test_the_words_of_a_failure_name_no_local_path() -> None:
    out = Path("/srv/media desk/data/tmp/jobs/job-152-own-ab12-x9/out")
    src = Path("/srv/media desk/data/objects/general/2024/01/0123abcd.mp4")
    places = {out: "the output folder", src: "the original"}
    exc = av.error.ArgumentError(22, "Invalid argument", str(out / "360" / "index.m3u8"))
    assert failure_message(exc, places) == "ArgumentError: Invalid argument (360/index.m3u8)"
    unreadable = "Invalid data found when processing input"
    exc = av.error.InvalidDataError(1094995529, unreadable, str(src))
    assert failure_message(exc, places) == (
        "InvalidDataError: Invalid data found when processing input (the original)"
    )
    assert failure_message(RuntimeError(f"cannot write {out}"), places) == (
        "RuntimeError: cannot write the output folder"
    )
    # an unknown path: its file name only, quoted or not, with spaces when quoted
    said = without_paths("open '/home/ann/My Clips/a b.mp4' and /var/lib/x/y.log failed")
    assert said == "open 'a b.mp4' and y.log failed", said
    # no path: the words as they were (a ratio, a URL, a fraction of seconds)
    for text in ("16/9 at 1.2 s/4.0 s", "see https://example.com/a/b", "N/A", "x /y"):
        assert without_paths(text) == text


def test_a_job_failed_for_good_is_a_warning_in_the_log(
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The soak tester's jobs that failed three times left only INFO lines ('Job N error:
    fetch 0.0 s, …'), so an operator watching warnings saw nothing: the attempts to be tried
    again are INFO, the one that gives up is a WARNING naming the job, the file, the reason and
    the first line of the error."""
    made = worker_module.work_folder

    def blocked(lib: Library, job: Any) -> Path:
        work = made(lib, job)
        (work / "out" / "120" / "index.m3u8").mkdir(parents=True)
        return work

    monkeypatch.setattr(worker_module, "work_folder", blocked)
    clip = media.make_mp4(tmp_path / "clip.mp4", seconds=1)
    record = library.uploads.ingest(clip, "video")
    _only(library, record.id, "hls")
    [hls] = [j for j in library.jobs.list(file_id=record.id)[0] if j.kind == "hls"]
    with caplog.at_level("INFO", logger=worker_module.logger.name):
        for _ in range(hls.max_attempts):
            with library.jobs.db.write() as s:  # its back-off passed
                s.execute(update(Job).where(Job.id == hls.id).values(run_after=utcnow()))
            process_all(library)
    [hls] = [j for j in library.jobs.list(file_id=record.id)[0] if j.kind == "hls"]
    assert hls.state == JobState.FAILED, hls
    said = [r for r in caplog.records if f"Job {hls.id} (hls of file {record.id})" in r.message]
    warnings = [r for r in said if r.levelname == "WARNING"]
    assert len(warnings) == 1, [r.message for r in said]
    assert "failed for good" in warnings[0].message, warnings[0].message
    assert hls.error_code and hls.error_code in warnings[0].message, warnings[0].message
    assert "Is a directory" in warnings[0].message, warnings[0].message
    retried = [r for r in said if r.levelname == "INFO" and "tried again" in r.message]
    assert len(retried) == hls.attempts - 1, [r.message for r in said]
