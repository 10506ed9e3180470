"""A processed video whose HLS segment or web copy is gone (deleted by hand, left out of a
backup): players met 404 while /stream/{id}/info said processing done, and reconcile stayed
clean, so nothing told anyone to run `mediadesk reprocess ID`. Real clip, real worker, local
storage."""

from __future__ import annotations

from pathlib import Path

from core.doctor import check_reconcile
from core.jobs import current_derivatives
from core.library import Library
from core.maintenance import reconcile
from core.video import service
from tests import media
from tests.conftest import make_settings
from tests.internals import db_of, storage_of
from tests.video_helpers import TEST_LADDER, process_all


def test_a_videos_lost_derivatives_are_listed_until_it_is_reprocessed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, hls_ladder=TEST_LADDER))
    try:
        record = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video")
        process_all(lib)
        assert reconcile(lib).missing_derivatives == []
        done = current_derivatives(lib.jobs.latest_for_file(record.id))
        segment = next(
            k for k in service.stored_files(record.storage_key, done["hls"]) if k.endswith(".ts")
        )
        (web,) = service.stored_files(record.storage_key, done["web"])
        storage_of(lib).delete(segment)
        storage_of(lib).delete(web)

        found = reconcile(lib)
        assert found.missing_derivatives == [
            {"file_id": record.id, "kinds": ["hls", "web"], "missing": 2, "keys": [segment, web]}
        ]
        assert found.clean  # the original is whole: a warning, not a failure
        summary = found.summary()
        assert summary["missing_derivatives"] == [record.id]
        assert summary["missing_derivatives_count"] == 1
        lib.remember_reconcile(summary)
        check = check_reconcile(db_of(lib))
        assert check.ok and check.warning, check
        assert f"web copy, HLS, scrub thumbnails): 1 (ids {record.id})" in check.detail, check
        assert f"`mediadesk reprocess {record.id}`" in check.fix, check

        # the advice mends it
        service.reprocess(lib, record.id)
        process_all(lib)
        assert reconcile(lib).missing_derivatives == []
    finally:
        lib.close()
