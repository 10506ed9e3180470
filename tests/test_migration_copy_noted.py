"""A storage move's copy at the target is tracked before it is written. `storage migrate` copied
a file's object, thumbnail and video files to the target before anything in the catalog named
them: killed (-9) between the copy and the switch of its row, or after a store that stalled
made it give up on a file whose PUT landed later, it left objects on the target that no row
named and no pending deletion tracked. Unless the same move ran again, `mediadesk maintenance`
stayed unclean (exit 1, objects_without_rows_by_backend) for good and never removed them."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import select, update

from core import keys
from core.db.models import DeferredDeletion, MediaFile
from core.deferred import LEFT_BEHIND
from core.errors import StorageUnavailable
from core.library import Library
from core.maintenance import reconcile
from core.settings import Settings, save_settings
from core.storage.base import Storage
from tests.faults import ROOT, cli
from tests.internals import db_of, storage_of
from tests.media_fixtures import MediaSet

pytestmark = pytest.mark.timeout(120)

# `mediadesk storage migrate --to TARGET` whose store calls are the real ones, except that the
# first copy of a video file (after the original and its thumbnail) stalls once it is stored,
# printing its key, so the parent kills the command exactly there: copied, not switched.
CHILD = """
import sys, time
from core import keys
from core.storage.local import LocalStorage
from core.storage.s3 import S3Storage
from server.entry import main

def stalling(real):
    def put_file(self, key, *args, **kwargs):
        done = real(self, key, *args, **kwargs)
        if key.startswith(keys.VIDEO_PREFIX):
            print(key, flush=True)
            time.sleep(60)
        return done
    return put_file

for store in (LocalStorage, S3Storage):
    store.put_file = stalling(store.put_file)
sys.exit(main(["storage", "migrate", "--to", sys.argv[2], "--data-dir", sys.argv[1]]))
"""


def _video_with_derivatives(lib: Library, media_dir: MediaSet) -> tuple[int, list[str]]:
    """A video on the active backend with a thumbnail and its renditions, HLS and sprite (as
    its job left them): its id and every object of it."""
    record = lib.uploads.ingest(media_dir.mp4, "video")
    key = record.storage_key
    store = storage_of(lib).backend(lib.settings.backend_name)  # type: ignore[attr-defined]
    folder = keys.video_prefix(key)
    derived = {
        keys.thumbnail_key(key): _webp(),
        f"{folder}hls/7/master.m3u8": b"#EXTM3U\n",
        f"{folder}hls/7/v0/seg0.ts": b"\x47" * 1880,
        f"{folder}web/8/web.mp4": b"mp4" * 100,
    }
    for name, data in derived.items():
        store.put_bytes(name, data, "application/octet-stream")
    with db_of(lib).write() as s:
        s.execute(update(MediaFile).where(MediaFile.id == record.id).values(has_thumbnail=True))
    return record.id, [key, *derived]


def _webp() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 6), "green").save(out, "WEBP")
    return out.getvalue()


def _killed_after_a_copy(data_dir: Path, target: str) -> str:
    """Runs CHILD, SIGKILLs it once a video file's copy is stored; that copy's key."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(data_dir), target],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert child.stdout is not None
    try:
        line = child.stdout.readline().strip()
    finally:
        child.kill()
        child.wait(15)
    assert line.startswith(keys.VIDEO_PREFIX), line
    return line


def _maintained(data_dir: Path) -> dict[str, Any]:
    """`mediadesk maintenance`, its exit 0 (clean) asserted; its reconcile report."""
    result = cli("maintenance", "--data-dir", str(data_dir))
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    assert result.returncode == 0, (result.returncode, report.get("reconcile"), result.stderr)
    assert report["maintenance"]["errors"] == []
    found: dict[str, Any] = report["reconcile"]
    return found


def _hours_pass(settings: Settings) -> None:
    """The queued deletions come due (their delay is hours)."""
    lib = Library.open(settings)
    try:
        with db_of(lib).write() as s:
            due = datetime.now(UTC) - timedelta(minutes=1)
            s.execute(update(DeferredDeletion).values(not_before=due))
    finally:
        lib.close()


def _queued(lib: Library) -> list[tuple[str, str, str]]:
    """(backend, key, reason) of every queued deletion."""
    with db_of(lib).read() as s:
        rows = s.execute(
            select(DeferredDeletion.backend, DeferredDeletion.storage_key, DeferredDeletion.reason)
        ).all()
    return sorted((str(backend), str(key), str(reason)) for backend, key, reason in rows)


def _holds(store: Storage, names: list[str]) -> list[str]:
    return [name for name in names if store.exists(name)]


@pytest.mark.parametrize(("source", "target"), [("local", "r2"), ("r2", "local")])
def test_a_migration_killed_after_a_copy_leaves_it_to_maintenance(
    s3_settings: Settings, media_dir: MediaSet, source: str, target: str
) -> None:
    settings = s3_settings.replace(storage_backend=source)
    save_settings(settings, settings.config_file)  # what the commands open
    data_dir = settings.paths.data_dir
    lib = Library.open(settings)
    try:
        file_id, objects = _video_with_derivatives(lib, media_dir)
        key = objects[0]
    finally:
        lib.close()

    stalled = _killed_after_a_copy(data_dir, target)
    lib = Library.open(settings)
    try:
        there = storage_of(lib).backend(target)  # type: ignore[attr-defined]
        # the kill came between the copy and the switch: the copies landed, the row did not
        assert key in _holds(there, objects) and stalled in _holds(there, objects)
        assert keys.thumbnail_key(key) in _holds(there, objects)
        assert lib.get_file(file_id).storage_key == key
        assert lib.backends.backend_of_key(key) == source
    finally:
        lib.close()

    # was: exit 1, objects_without_rows_by_backend {target: [the copies]}, for good
    check = _maintained(data_dir)
    assert check["clean"] and check["objects_without_rows_by_backend"] == {}, check
    assert check["pending_deletions"] == [key]

    _hours_pass(settings)
    check = _maintained(data_dir)  # the real command deletes them once due
    assert check["clean"] and check["pending_deletions"] == [], check
    lib = Library.open(settings)
    try:
        assert _holds(storage_of(lib).backend(target), objects) == []  # type: ignore[attr-defined]
        here = storage_of(lib).backend(source)  # type: ignore[attr-defined]
        assert _holds(here, objects) == objects  # the file never left
        record = lib.get_file(file_id)
        assert b"".join(lib.open_range(record, 0, None)) == media_dir.mp4.read_bytes()
        assert _queued(lib) == []

        # The move run again moves it and leaves no deletion queued (the tests' sources go at
        # once: conftest's SOURCE_KEPT_SECONDS), none on the target above all.
        report = lib.backends.migrate(target)
        assert report.complete and report.moved == 1
        assert _queued(lib) == []
        assert _holds(storage_of(lib).backend(target), objects) == objects  # type: ignore[attr-defined]
        assert _holds(here, objects) == []
        assert reconcile(lib).clean
    finally:
        lib.close()


def test_a_copy_that_lands_after_the_move_gave_up_on_it_is_tracked(
    s3_settings: Settings, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store that stalls: the move says the file was not moved, but the PUT it sent lands
    (here: stored, then the answer lost). Its copy is a known pending deletion; a run of the
    same move later switches the file onto that copy and takes the deletion back, so a copy a
    retrying move depends on is never deleted under it."""
    settings = s3_settings.replace(storage_backend="local")
    lib = Library.open(settings)
    try:
        file_id, objects = _video_with_derivatives(lib, media_dir)
        key = objects[0]
        bucket = storage_of(lib).backend("r2")  # type: ignore[attr-defined]
        real_put = type(bucket).put_file

        def lost_answer(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
            real_put(self, name, *args, **kwargs)
            raise StorageUnavailable("timed out", reason="endpoint_unreachable")

        with monkeypatch.context() as scoped:
            scoped.setattr(type(bucket), "put_file", lost_answer)
            report = lib.backends.migrate("r2")
        assert report.moved == 0 and [f.file_id for f in report.failed] == [file_id]
        assert bucket.exists(key) and lib.backends.backend_of_key(key) == "local"
        found = reconcile(lib)
        assert found.clean and found.objects_without_rows == [], found.as_dict()
        # LEFT_BEHIND: deleted only while no row names the key on r2
        assert _queued(lib) == [("r2", key, LEFT_BEHIND)]

        # the same move again, once the store answers: switched, the note taken back
        report = lib.backends.migrate("r2")
        assert report.complete and report.moved == 1
        assert _queued(lib) == []
        lib.deferred.run(datetime.now(UTC) + timedelta(days=1))
        assert _holds(bucket, objects) == objects
        record = lib.get_file(file_id)
        assert b"".join(lib.open_range(record, 0, None)) == media_dir.mp4.read_bytes()
        assert reconcile(lib).as_dict()["clean"]
    finally:
        lib.close()


def test_a_failed_copy_nobody_retries_goes_once_due(
    s3_settings: Settings, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The user gives up on the move: the copy the failed run left goes once its deletion is
    due, and the file stays whole where it is."""
    settings = s3_settings.replace(storage_backend="local")
    lib = Library.open(settings)
    try:
        file_id, objects = _video_with_derivatives(lib, media_dir)
        key = objects[0]
        bucket = storage_of(lib).backend("r2")  # type: ignore[attr-defined]
        real_put = type(bucket).put_file

        def lost_answer(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
            real_put(self, name, *args, **kwargs)
            if name.startswith(keys.VIDEO_PREFIX):  # the original and thumbnail copied first
                raise StorageUnavailable("timed out", reason="endpoint_unreachable")

        with monkeypatch.context() as scoped:
            scoped.setattr(type(bucket), "put_file", lost_answer)
            assert lib.backends.migrate("r2").moved == 0
        assert len(_holds(bucket, objects)) == 3  # the original, the thumbnail, one video file
        # not yet: a PUT still on its way must not land after its deletion ran
        assert lib.deferred.run(datetime.now(UTC) + timedelta(minutes=30)) == []
        assert lib.deferred.run(datetime.now(UTC) + timedelta(days=1)) == [key]
        assert _holds(bucket, objects) == []
        local = storage_of(lib).backend("local")  # type: ignore[attr-defined]
        assert _holds(local, objects) == objects
        assert reconcile(lib).clean and _queued(lib) == []
        record = lib.get_file(file_id)
        assert b"".join(lib.open_range(record, 0, None)) == media_dir.mp4.read_bytes()
    finally:
        lib.close()


def test_files_sharing_one_object_share_its_copy_and_its_note(
    s3_settings: Settings, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same bytes for two athletes are one object: one note for its copy, which the
    switch of both rows takes back, and the source's old copy queued apart from it."""
    lib = Library.open(s3_settings.replace(storage_backend="local"))
    try:
        one = lib.uploads.ingest(media_dir.png, "image", athlete_id=7)
        two = lib.uploads.ingest(media_dir.png, "image", athlete_id=8)
        key = one.storage_key
        assert two.storage_key == key and two.id != one.id
        bucket = storage_of(lib).backend("r2")  # type: ignore[attr-defined]
        real_put = type(bucket).put_file

        def lost_answer(self: Any, name: str, *args: Any, **kwargs: Any) -> Any:
            real_put(self, name, *args, **kwargs)
            raise StorageUnavailable("timed out", reason="endpoint_unreachable")

        with monkeypatch.context() as scoped:
            scoped.setattr(type(bucket), "put_file", lost_answer)
            report = lib.backends.migrate("r2")
        assert sorted(f.file_id for f in report.failed) == [one.id, two.id]
        assert _queued(lib) == [("r2", key, LEFT_BEHIND)]  # one note, however many tries
        assert reconcile(lib).clean

        report = lib.backends.migrate("r2")
        assert report.complete and report.moved == 2
        assert _queued(lib) == []
        lib.deferred.run(datetime.now(UTC) + timedelta(days=1))
        assert bucket.exists(key) and bucket.exists(keys.thumbnail_key(key))
        for record in (one, two):
            file = lib.get_file(record.id)
            assert b"".join(lib.open_range(file, 0, None)) == media_dir.png.read_bytes()
        assert reconcile(lib).clean
    finally:
        lib.close()
