"""A bucket shared with other applications (a website's files, a database's backups): reconcile
called their objects MediaDesk strays, `mediadesk doctor` failed for good with the advice to
move them out of the storage (another application's data), and maintenance aborted every
multipart upload in the bucket older than a day, whoever had started it. Real moto and local
storage."""

from __future__ import annotations

from typing import Any

import pytest

from core.doctor import check_reconcile
from core.library import Library
from core.maintenance import reconcile, run_maintenance
from tests.internals import db_of, storage_of
from tests.s3_server import S3Target, s3_client

THEIRS = ["backups/db.sql", "index.html", "website/index.html"]


def test_objects_outside_mediadesks_folders_are_counted_not_judged(
    any_library: Library, media_dir: Any
) -> None:
    lib = any_library
    store = storage_of(lib)
    for key in THEIRS:
        store.put_bytes(key, b"another application's", "text/plain")
    lib.uploads.ingest(media_dir.jpeg, "image")
    stray = f"general/2020/01/{'cd' * 16}.jpg"
    store.put_bytes(stray, b"x", "image/jpeg")

    found = reconcile(lib)
    assert found.objects_without_rows == [stray]  # MediaDesk's own folders are still judged
    assert (found.foreign_objects, found.foreign_examples) == (3, THEIRS)
    store.delete(stray)
    found = reconcile(lib)
    assert found.clean and found.objects_without_rows == []  # was: the three, for good
    summary = found.summary()
    assert (summary["foreign_objects"], summary["foreign_examples"]) == (3, THEIRS)
    lib.remember_reconcile(summary)
    check = check_reconcile(db_of(lib))
    assert check.ok and not check.warning, check
    assert check.detail.endswith(
        "; 3 objects outside MediaDesk's folders (e.g. backups/db.sql, index.html, "
        "website/index.html): another application's, they are left alone"
    ), check.detail
    assert all(store.exists(key) for key in THEIRS)


@pytest.mark.usefixtures("s3_library")
def test_stale_multipart_uploads_of_other_applications_are_left_alone(
    s3_library: Library, s3_bucket: S3Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = s3_client(s3_bucket)
    bucket = s3_bucket.bucket
    for key in ("backups/nightly.tar", "general/2020/01/big.mp4", "_derived/video/x/web.mp4"):
        client.create_multipart_upload(Bucket=bucket, Key=key)
    monkeypatch.setattr("core.maintenance.STALE_MULTIPART_SECONDS", 0)
    report = run_maintenance(s3_library, only=frozenset({"abort_multipart"}))
    assert report.aborted_multipart == 2 and not report.errors  # was 3
    left = client.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["Key"] for u in left] == ["backups/nightly.tar"]
