"""Derived files made by a process whose active storage is not the one holding the file: a
video `mediadesk storage migrate --to r2 --save-keys` moved to the bucket, reprocessed by a
server started on the local folder, had its new job's files (web copy, HLS rungs, sprites)
uploaded to that server's local folder. Another team member's server, active on the bucket,
answered 404 for the renditions the catalog named, and reconcile listed them as objects
without rows on the local folder. A photo's thumbnail and variants made there went the same
way. They now go to the storage the file's row names (built from the saved settings)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core import keys
from core.errors import StorageUnavailable
from core.jobs import JobState, current_derivatives
from core.library import Library
from core.maintenance import reconcile
from core.settings import Settings
from core.video import service
from tests import media
from tests.conftest import make_settings
from tests.internals import storage_of
from tests.r2_migrate import bucket_keys, migrate_to_r2, r2_environment, r2_settings, saved_local
from tests.s3_server import S3Target
from tests.video_helpers import process_all

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def local_saved(data_dir: Path) -> Settings:
    return saved_local(data_dir, hls_ladder="120")


def _migrate(settings: Settings, bucket: S3Target, monkeypatch: pytest.MonkeyPatch) -> None:
    migrate_to_r2(settings, r2_environment(bucket), monkeypatch, "--save-keys")


def _teammate(settings: Settings, bucket: S3Target, folder: Path) -> Library:
    """Another team member's server: active on the bucket, the same catalog, its own folder."""
    folder.mkdir()
    url = settings.effective_database_url
    return Library.open(
        make_settings(folder, database_url=url, **r2_settings(bucket)), migrate=False
    )


def _clean(lib: Library) -> None:
    report = reconcile(lib)
    assert report.clean and not report.objects_without_rows_by_backend, report.as_dict()
    assert not report.unreachable_backends, report.as_dict()


def test_a_reprocess_on_a_local_server_writes_the_renditions_to_the_bucket(
    local_saved: Settings,
    s3_bucket: S3Target,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lib = Library.open(local_saved)
    try:
        fid = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video").id
        photo = lib.uploads.ingest(media.make_jpeg(tmp_path / "p.jpg", size=(900, 600)), "image").id
        process_all(lib)
    finally:
        lib.close()
    _migrate(local_saved, s3_bucket, monkeypatch)

    # A server started on the local folder: reprocesses the video, makes the photo's images
    lib = Library.open(local_saved)
    try:
        service.reprocess(lib, fid)
        process_all(lib)
        record = lib.get_file(fid)
        now = current_derivatives(lib.jobs.latest_for_file(fid))
        assert {j.state for j in now.values()} == {JobState.DONE}
        photo_key = lib.thumbnail_remaker.remake(photo).storage_key
        variant, _ = lib.variant(lib.get_file(photo), 320)
        local_derived = sorted(
            str(p.relative_to(local_saved.paths.objects_dir))
            for p in (local_saved.paths.objects_dir / "_derived").rglob("*")
            if p.is_file()
        )
        # a variant is the serving process's cache (core/maintenance.py `_without_rows`)
        assert local_derived == [variant], local_derived  # was: the jobs' files, the thumbnail
        _clean(lib)
    finally:
        lib.close()
    assert keys.thumbnail_key(photo_key) in bucket_keys(s3_bucket, keys.THUMBNAIL_PREFIX)

    # A server started on the local folder without the bucket's keys (settings read before
    # the migration saved them) reads them from the bucket too, built from the saved settings
    lib = Library.open(local_saved)
    try:
        assert storage_of(lib).backend_names() == ["local"]  # type: ignore[attr-defined]
        web = now["web"]
        assert lib.read_object(
            service.derived_key(record, "web", web.result["files"][0], web.result)
        )  # was: NotFound
    finally:
        lib.close()

    # Another team member's server (active on the bucket) serves what the catalog names
    mate = _teammate(local_saved, s3_bucket, tmp_path / "mate")
    try:
        web = now["web"]
        web_key = service.derived_key(record, "web", web.result["files"][0], web.result)
        assert mate.read_object(web_key)  # was: NotFound
        hls = now["hls"]
        master = service.derived_key(record, "hls", "master.m3u8", hls.result)
        assert b"#EXTM3U" in mate.read_object(master)
        segment = next(n for n in hls.result["files"] if n.endswith((".ts", ".m4s", ".mp4")))
        assert mate.read_object(service.derived_key(record, "hls", segment, hls.result))
        assert mate.read_object(keys.thumbnail_key(photo_key))
        assert mate.variant(mate.get_file(photo), 320)[0] == variant
        _clean(mate)
    finally:
        mate.close()


def test_a_backend_that_cannot_be_built_postpones_the_job(
    local_saved: Settings,
    s3_bucket: S3Target,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lib = Library.open(local_saved)
    try:
        fid = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video").id
        process_all(lib)
    finally:
        lib.close()
    _migrate(local_saved, s3_bucket, monkeypatch)
    lib = Library.open(local_saved)
    try:
        service.reprocess(lib, fid)
        # the bucket readable for the original, but its backend not buildable for the writes
        routing: Any = lib.backends._storage  # noqa: SLF001
        r2 = routing.backend("r2")
        source = tmp_path / "source.avi"
        r2.download_to(lib.get_file(fid).storage_key, source)
        monkeypatch.setattr(lib, "local_path", lambda record: source)
        with routing._lock:  # noqa: SLF001
            routing._backends.pop("r2")  # noqa: SLF001

        def unbuildable(name: str) -> Any:
            raise StorageUnavailable("not configured here", reason="storage_not_configured")

        routing.resolve = unbuildable
        job = process_all(lib, limit=1)[0]
        again = lib.jobs.get(job.id)
        assert again.state == JobState.QUEUED, again  # put back, not failed nor written locally
        assert again.attempts == 0, again
        assert not any((local_saved.paths.objects_dir / "_derived").rglob("*.m3u8"))
    finally:
        lib.close()
