"""A video job storing its renditions while its file moves to a new name keeps them served.

A public file made private (or trashed) with R2_PUBLIC_DOMAIN moves to a key under a new file
name, and its video folder (named by the file name, keys.video_prefix) is copied to the new
name's folder, the old one deleted after the grace period (Library._update_locked). A job
running meanwhile uploaded under the old name's folder, after the copy had been made: it was
recorded done and its renditions were gone with the old folder (HLS 404, no web copy) until a
`mediadesk reprocess`. A real library on moto's S3 with a public-read bucket standing in for
the public domain, real encodes by a real worker; the move itself is the real one, started
from the worker's first upload (or held between its copy and its commit)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core import keys
from core.jobs import JobState, current_derivatives
from core.library import Library
from core.records import FileRecord
from core.settings import Settings
from core.video import service
from tests import media
from tests.s3_server import S3Target, public_domain, s3_client
from tests.video_helpers import process_all

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def lib(s3_settings: Settings, s3_bucket: S3Target) -> Iterator[Library]:
    library = Library.open(
        s3_settings.replace(
            r2_public_domain=public_domain(s3_bucket), hls_ladder=("120",), hls_segment_seconds=2
        )
    )
    # the old name's folder goes at _settle's run, not under the worker: a grace of 0 let the
    # background deleter remove a file the worker had just put there before its size check
    # read it (NotFound instead of following the move, on a loaded CI-like run)
    yield library
    library.close()


def _public_video(lib: Library, tmp_path: Path) -> FileRecord:
    clip = media.make_mp4(tmp_path / "match.mp4", seconds=2, size=(160, 120))
    return lib.uploads.ingest(clip, "video", is_public=True)


def _on_first_rendition(
    lib: Library, monkeypatch: pytest.MonkeyPatch, act: Callable[[], None]
) -> list[str]:
    """`act` runs when the worker stores the first file of its HLS job, before it lands."""
    real = lib.put_object_file
    fired: list[str] = []

    def put(key: str, path: Path, content_type: str, **kw: Any) -> Any:
        if not fired and "/hls-" in key:
            fired.append(key)
            act()
        return real(key, path, content_type, **kw)

    monkeypatch.setattr(lib, "put_object_file", put)
    return fired


def _settle(lib: Library) -> None:
    lib.deferred.run(datetime.now(UTC) + timedelta(seconds=lib.deferred.grace + 1))


def _keys_under(bucket: S3Target, prefix: str) -> list[str]:
    listed = s3_client(bucket).list_objects_v2(Bucket=bucket.bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def _served_at(lib: Library, record: FileRecord) -> dict[str, int]:
    """Each done job's files read at the file's current key (the way players get them)."""
    current = lib.get_file(record.id)
    served = current_derivatives(lib.jobs.list(file_id=record.id)[0])
    assert {"hls", "thumbnails"} <= served.keys(), served
    sizes = {}
    for kind, job in served.items():
        for name in job.result.get("files", []):
            key = service.derived_key(current, kind, name, job.result)
            sizes[key] = len(lib.read_object(key))  # NotFound: the rendition is gone
    return sizes


def test_a_job_storing_when_its_public_link_ends_stores_at_the_new_name(
    lib: Library, s3_bucket: S3Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = _public_video(lib, tmp_path)
    old = record.storage_key
    fired = _on_first_rendition(
        lib, monkeypatch, lambda: lib.update_file(record.id, {"is_public": False})
    )
    jobs = process_all(lib)
    assert fired and {j.state for j in jobs} <= {JobState.DONE, JobState.SKIPPED}, jobs
    moved = lib.get_file(record.id)
    assert keys.video_prefix(moved.storage_key) != keys.video_prefix(old)
    _settle(lib)
    served = _served_at(lib, record)
    assert any(k.endswith(".m3u8") for k in served)
    # and nothing of it at the old name, which the public domain served
    assert _keys_under(s3_bucket, keys.video_prefix(old)) == []


def test_a_move_between_its_copy_and_its_commit_is_waited_for(
    lib: Library, s3_bucket: S3Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The move has copied the old folder (without the job's files) but not committed the new
    key when the worker checks the key: recorded done then, its files stayed at the old name."""
    record = _public_video(lib, tmp_path)
    old = record.storage_key
    copied, go = threading.Event(), threading.Event()
    real_copy = lib._copy_video_derivatives

    def copy_then_wait(src: str, dst: str) -> None:
        real_copy(src, dst)
        copied.set()
        # the commit waits for the job's recording, or until the worker has waited for the
        # move's lock to check the key (5 s at most)
        go.wait(5)

    monkeypatch.setattr(lib, "_copy_video_derivatives", copy_then_wait)
    worker_thread = threading.current_thread()  # process_all runs the jobs on this thread
    real_hold = lib.deferred.object_locks.hold

    def hold(key: str) -> Any:
        if copied.is_set() and threading.current_thread() is worker_thread:
            # the worker asks for the lock the move holds to check the key: it waits a second
            # in it, then the move commits. Before, the commit always waited out the 5 s.
            threading.Timer(1.0, go.set).start()
        return real_hold(key)

    monkeypatch.setattr(lib.deferred.object_locks, "hold", hold)
    mover = threading.Thread(target=lambda: lib.update_file(record.id, {"is_public": False}))

    def move() -> None:
        mover.start()
        assert copied.wait(30)

    _on_first_rendition(lib, monkeypatch, move)
    real_finish = lib.jobs.finish

    def finish(*args: Any, **kw: Any) -> bool:
        if copied.is_set():  # the HLS job checked the key: the move may commit
            go.set()
        return real_finish(*args, **kw)

    monkeypatch.setattr(lib.jobs, "finish", finish)
    jobs = process_all(lib)
    mover.join(30)
    assert {j.state for j in jobs} <= {JobState.DONE, JobState.SKIPPED}, jobs
    assert lib.get_file(record.id).storage_key != old
    _settle(lib)
    _served_at(lib, record)
    assert _keys_under(s3_bucket, keys.video_prefix(old)) == []


def test_a_job_storing_when_its_athlete_changes_keeps_its_renditions(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An athlete move keeps the file name, so the video folder stays put: nothing to store
    again, and nothing of the job deleted with the old key."""
    library.apply_settings(hls_ladder=("120",), hls_segment_seconds=2)
    library.deferred.grace = 0.0
    record = _public_video(library, tmp_path)
    library.create_athlete("Runner", 7)
    fired = _on_first_rendition(
        library, monkeypatch, lambda: library.update_file(record.id, {"athlete_id": 7})
    )
    jobs = process_all(library)
    assert fired and {j.state for j in jobs} <= {JobState.DONE, JobState.SKIPPED}, jobs
    assert library.get_file(record.id).storage_key.startswith("athletes/7/")
    _settle(library)
    _served_at(library, record)


def test_a_job_whose_file_keeps_moving_fails_to_run_again_and_leaves_nothing(
    lib: Library, s3_bucket: S3Target, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new name at every upload round: followed three times, the fourth fails the job (not
    for good: it runs again), and none of its files stay under any of the names."""
    record = _public_video(lib, tmp_path)
    real = lib.put_object_file
    rounds: list[str] = []

    def put(key: str, path: Path, content_type: str, **kw: Any) -> Any:
        folder = keys.video_owner_name(key) or ""
        if "/hls-" in key and folder not in rounds:
            rounds.append(folder)
            lib.update_file(record.id, {"is_public": True})
            lib.update_file(record.id, {"is_public": False})  # a new name each time
        return real(key, path, content_type, **kw)

    monkeypatch.setattr(lib, "put_object_file", put)
    process_all(lib)
    hls = next(j for j in lib.jobs.list(file_id=record.id)[0] if j.kind == "hls")
    assert (hls.state, hls.attempts, hls.error_code) == (JobState.QUEUED, 1, "internal"), hls
    assert "moved 4 times" in (hls.error or "")
    assert len(rounds) == 4
    _settle(lib)
    assert [k for k in _keys_under(s3_bucket, keys.VIDEO_PREFIX) if f"/hls-{hls.id}/" in k] == []
