"""The files a reprocess replaced (the old job's HLS folder, web rendition, sprites, poster), on
the bucket of a video `mediadesk storage migrate --to r2 --save-keys` moved there, reprocessed
by a server started on the local folder. Their deletion was queued under the active backend's
name ("local"), and ran once due (six hours later: a restart, `mediadesk maintenance`) in a
process that never loaded the bucket: it emptied the folders on the local disk, dropped the
entries and left the old files on the bucket for good. The entries now name the file's backend,
which the deletion reaches (built from the saved settings, core/deferred.py `_stores`)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core import keys
from core.jobs import current_derivatives
from core.library import Library
from core.maintenance import reconcile
from core.settings import Settings
from core.storage.routing import RoutingStorage
from core.video import service
from tests import media
from tests.internals import storage_of
from tests.r2_migrate import bucket_keys, migrate_to_r2, r2_environment, saved_local
from tests.s3_server import S3Target
from tests.video_helpers import process_all

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def local_saved(data_dir: Path) -> Settings:
    return saved_local(data_dir, hls_ladder="120")


def test_a_reprocess_on_a_local_server_deletes_the_replaced_files_from_the_bucket(
    local_saved: Settings,
    s3_bucket: S3Target,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lib = Library.open(local_saved)
    try:
        fid = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video").id
        process_all(lib)
        record = lib.get_file(fid)
        first = current_derivatives(lib.jobs.latest_for_file(fid))
    finally:
        lib.close()
    migrate_to_r2(local_saved, r2_environment(s3_bucket), monkeypatch, "--save-keys")
    prefix = keys.video_prefix(record.storage_key)
    old_dirs = {service.job_prefix(record, kind, job.result) for kind, job in first.items()}
    replaced = bucket_keys(s3_bucket, prefix)
    # every derivative moved with the file, under the first jobs' folders
    assert replaced and all(any(k.startswith(d) for d in old_dirs) for k in replaced)

    # A server started on the local folder reprocesses the video (its replaced files queued,
    # due at once), then closes before their deletion runs.
    lib = Library.open(local_saved)
    try:
        lib.deferred.grace = lib.deferred.replaced_grace = 0.0
        lib.deferred.schedule = lambda: None  # type: ignore[method-assign]  # the next process's
        service.reprocess(lib, fid)
        process_all(lib)
        assert set(current_derivatives(lib.jobs.latest_for_file(fid))) == set(first)
    finally:
        lib.close()

    # The next process on the local folder (a restart, maintenance) runs them.
    lib = Library.open(local_saved)
    try:
        routing = storage_of(lib)
        assert isinstance(routing, RoutingStorage)
        lib.deferred.run()
        left = bucket_keys(s3_bucket, prefix)
        assert not left & replaced, sorted(left & replaced)  # was: every one of them left
        # none is left pending nor unseen on the bucket (the new job's files went to the
        # active backend, the local folder: reconcile's word on those is another matter)
        report = reconcile(lib)
        assert not report.pending_deletions, report.as_dict()
        assert "r2" not in report.objects_without_rows_by_backend, report.as_dict()
        assert not report.unreachable_backends, report.as_dict()
        assert b"".join(lib.open_range(lib.get_file(fid), 0, None))  # the original stays
    finally:
        lib.close()
