"""Maintenance: trash purge, pending expiry, stale multipart abort and the reconcile report."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core import keys
from core.library import Library
from core.maintenance import expire_pending, purge_trash, reconcile, run_maintenance
from tests.internals import storage_of
from tests.s3_server import s3_client


def test_purge_respects_retention(any_library: Library, media_dir) -> None:
    old = any_library.uploads.ingest(media_dir.jpeg, "image")
    recent = any_library.uploads.ingest(media_dir.png, "image")
    any_library.trash(old.id)
    any_library.trash(recent.id)
    later = datetime.now(UTC) + timedelta(days=31)
    assert purge_trash(any_library, retention_days=30) == []
    assert sorted(purge_trash(any_library, retention_days=30, now=later)) == sorted(
        [old.id, recent.id]
    )
    assert not storage_of(any_library).exists(old.storage_key)
    assert not storage_of(any_library).exists(keys.thumbnail_key(old.storage_key))
    assert reconcile(any_library).clean


def test_expired_pending_uploads_are_removed(any_library: Library, media_dir) -> None:
    up = any_library.uploads.create_presigned_upload("a.jpg", "image")
    storage_of(any_library).put_bytes(up.file_key, media_dir.jpeg.read_bytes(), "image/jpeg")
    assert expire_pending(any_library) == []  # not expired yet
    after = up.expires_at + timedelta(seconds=1)
    assert expire_pending(any_library, now=after) == [up.file.id]
    assert not storage_of(any_library).exists(up.file_key)
    assert any_library.list_files(status=None).total == 0


def test_reconcile_finds_both_kinds_of_drift(any_library: Library, media_dir) -> None:
    rec = any_library.uploads.ingest(media_dir.jpeg, "image")
    storage_of(any_library).put_bytes("general/2020/01/stray.jpg", b"x", "image/jpeg")
    storage_of(any_library).delete(rec.storage_key)
    report = reconcile(any_library)
    assert report.objects_without_rows == ["general/2020/01/stray.jpg"]
    assert report.rows_without_objects == [rec.id]


def test_run_maintenance_aborts_stale_multipart(
    s3_library: Library, s3_bucket, monkeypatch
) -> None:
    client = s3_client(s3_bucket)
    client.create_multipart_upload(Bucket=s3_bucket.bucket, Key="general/2020/01/big.mp4")
    monkeypatch.setattr("core.maintenance.STALE_MULTIPART_SECONDS", 0)
    report = run_maintenance(s3_library)
    assert report.aborted_multipart == 1 and not report.errors
    assert not client.list_multipart_uploads(Bucket=s3_bucket.bucket).get("Uploads")


def test_reconcile_knows_an_upload_catalogued_while_it_lists_the_store(
    library: Library, media_dir, monkeypatch
) -> None:
    """`mediadesk maintenance` while staff upload (two servers of a team took uploads all the
    while): an upload catalogued after reconcile read the catalog but before it listed the
    store was reported a stray in objects_without_rows, the run's exit status 1 and doctor
    failing until the next run. The upload is made at that moment, between the reads."""
    made = []
    left_behind = library.deferred.left_behind

    def uploaded_meanwhile() -> list[tuple[str, str]]:
        found = left_behind()
        if not made:  # the last of reconcile's catalog reads before its listing
            made.append(library.uploads.ingest(media_dir.jpeg, "image"))
        return found

    monkeypatch.setattr(library.deferred, "left_behind", uploaded_meanwhile)
    report = reconcile(library)
    assert made and storage_of(library).exists(made[0].storage_key)
    assert report.objects_without_rows == [] and report.clean, report


def test_reconcile_knows_a_file_deleted_for_good_while_it_lists_the_store(
    library: Library, media_dir, monkeypatch
) -> None:
    """`mediadesk maintenance` while staff deleted files for good on the team's servers: a
    file deleted after reconcile read the catalog but before it listed the store was reported
    in rows_without_objects, a file whose bytes are lost (exit status 1, doctor failing). The
    deletion is made at that moment, between the reads."""
    rec = library.uploads.ingest(media_dir.jpeg, "image")
    kept = library.uploads.ingest(media_dir.png, "image")
    claimed = library.claimed_deletions
    deleted: list[int] = []

    def deleted_meanwhile() -> dict[int, datetime]:
        found = claimed()
        if not deleted:  # the last of reconcile's catalog reads of files before its listing
            deleted.append(library.delete(rec.id, hard=True).id)
        return found

    monkeypatch.setattr(library, "claimed_deletions", deleted_meanwhile)
    report = reconcile(library)
    assert deleted == [rec.id] and not storage_of(library).exists(rec.storage_key)
    assert report.rows_without_objects == [] and report.clean, report
    # a file whose bytes are lost is still said
    storage_of(library).delete(kept.storage_key)
    assert reconcile(library).rows_without_objects == [kept.id]
