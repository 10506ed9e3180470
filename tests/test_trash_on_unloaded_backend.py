"""Deleting for good, from a process that started on the local folder, files the catalog has on
R2 (`mediadesk storage migrate --to r2 --save-keys` run by another process, or a team member's
process storing there): the deletion reaches the bucket through the backend the saved settings
build (RoutingStorage.resolve). Without them the file stays in the trash and the failure says
storage_not_configured: a row never goes while its object lives where nobody would find it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from core import keys
from core.db.models import MediaFile, utcnow
from core.errors import StorageUnavailable, StorageUnusable, never_sent
from core.library import CLAIM_LEASE, Library
from core.maintenance import purge_trash, reconcile, run_maintenance
from core.records import FileRecord
from core.settings import Settings
from core.storage.local import LocalStorage
from tests.conftest import make_settings
from tests.internals import db_of
from tests.media_fixtures import MediaSet
from tests.r2_migrate import bucket_keys, migrate_to_r2, r2_environment, saved_local
from tests.s3_server import S3Target

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def local_saved(data_dir: Path) -> Settings:
    return saved_local(data_dir)


@pytest.fixture
def r2_env(s3_bucket: S3Target) -> dict[str, str]:
    return r2_environment(s3_bucket)


@pytest.fixture
def running(local_saved: Settings) -> Iterator[Library]:
    lib = Library.open(local_saved)
    yield lib
    lib.close()


def _moved(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    mp: pytest.MonkeyPatch,
    s3_bucket: S3Target,
    *flags: str,
) -> FileRecord:
    record = running.uploads.ingest(media_dir.png, "image")
    migrate_to_r2(local_saved, r2_env, mp, *flags)
    on_bucket = bucket_keys(s3_bucket)
    assert {record.storage_key, keys.thumbnail_key(record.storage_key)} <= on_bucket
    local = running.settings.paths.objects_dir
    assert not [p for p in local.rglob("*") if p.is_file() and record.storage_key in str(p)]
    return record


def _row(lib: Library, file_id: int) -> MediaFile | None:
    with db_of(lib).read() as s:
        row = s.get(MediaFile, file_id)
        if row is not None:
            s.expunge(row)
        return row


def _still_trashed(lib: Library, file_id: int) -> None:
    row = _row(lib, file_id)
    assert row is not None, "the row went while its object lives on the bucket"
    assert row.deleted_at is not None and row.purging_since is None


# ---- settings saved: the bucket's objects go with the rows -----------------------------------


def test_emptying_the_trash_deletes_the_objects_on_a_bucket_this_process_never_loaded(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    s3_bucket: S3Target,
) -> None:
    record = _moved(running, local_saved, r2_env, media_dir, monkeypatch, s3_bucket, "--save-keys")
    running.trash(record.id)
    assert running.empty_trash() == [record.id]
    assert _row(running, record.id) is None
    left = {k for k in bucket_keys(s3_bucket) if record.storage_key.rsplit(".", 1)[0] in k}
    assert not left, f"orphans on the bucket: {left}"


def test_a_hard_delete_deletes_the_object_on_a_bucket_this_process_never_loaded(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    s3_bucket: S3Target,
) -> None:
    record = _moved(running, local_saved, r2_env, media_dir, monkeypatch, s3_bucket, "--save-keys")
    running.delete_permanently(record.id)
    assert _row(running, record.id) is None
    left = {k for k in bucket_keys(s3_bucket) if record.storage_key.rsplit(".", 1)[0] in k}
    assert not left, f"orphans on the bucket: {left}"


def test_the_retention_purge_deletes_the_object_on_a_bucket_this_process_never_loaded(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    s3_bucket: S3Target,
) -> None:
    record = _moved(running, local_saved, r2_env, media_dir, monkeypatch, s3_bucket, "--save-keys")
    running.trash(record.id)
    later = datetime.now(UTC) + timedelta(days=running.settings.trash_retention_days + 1)
    assert purge_trash(running, now=later) == [record.id]
    assert _row(running, record.id) is None
    left = {k for k in bucket_keys(s3_bucket) if record.storage_key.rsplit(".", 1)[0] in k}
    assert not left, f"orphans on the bucket: {left}"


def test_reconcile_checks_the_bucket_the_catalog_names(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    s3_bucket: S3Target,
) -> None:
    record = _moved(running, local_saved, r2_env, media_dir, monkeypatch, s3_bucket, "--save-keys")
    report = reconcile(running)
    assert record.id not in report.rows_without_objects
    assert not report.unreachable_backends


# ---- settings not saved: the files stay in the trash, storage_not_configured -----------------


def test_emptying_the_trash_keeps_files_whose_bucket_cannot_be_reached(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    s3_bucket: S3Target,
) -> None:
    record = _moved(running, local_saved, r2_env, media_dir, monkeypatch, s3_bucket)
    running.trash(record.id)
    with pytest.raises(StorageUnavailable) as caught:
        running.empty_trash()
    assert caught.value.reason == "storage_not_configured"
    _still_trashed(running, record.id)
    assert record.storage_key in bucket_keys(s3_bucket)
    # once the keys are saved, the same process empties it
    migrate_to_r2(local_saved, r2_env, monkeypatch, "--save-keys")
    assert running.empty_trash() == [record.id]
    assert record.storage_key not in bucket_keys(s3_bucket)


def test_a_hard_delete_keeps_a_file_whose_bucket_cannot_be_reached(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    s3_bucket: S3Target,
) -> None:
    record = _moved(running, local_saved, r2_env, media_dir, monkeypatch, s3_bucket)
    running.trash(record.id)
    with pytest.raises(StorageUnavailable) as caught:
        running.delete_permanently(record.id, only_trashed=True)
    assert caught.value.reason == "storage_not_configured"
    _still_trashed(running, record.id)
    assert record.storage_key in bucket_keys(s3_bucket)


def test_a_hard_delete_of_a_live_file_whose_bucket_cannot_be_reached_leaves_it_live(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    s3_bucket: S3Target,
) -> None:
    record = _moved(running, local_saved, r2_env, media_dir, monkeypatch, s3_bucket)
    with pytest.raises(StorageUnavailable) as caught:
        running.delete_permanently(record.id)
    assert caught.value.reason == "storage_not_configured"
    row = _row(running, record.id)
    assert row is not None and row.deleted_at is None and row.purging_since is None
    assert record.storage_key in bucket_keys(s3_bucket)


def test_the_retention_purge_keeps_files_whose_bucket_cannot_be_reached(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    s3_bucket: S3Target,
) -> None:
    record = _moved(running, local_saved, r2_env, media_dir, monkeypatch, s3_bucket)
    running.trash(record.id)
    later = datetime.now(UTC) + timedelta(days=running.settings.trash_retention_days + 1)
    report = run_maintenance(running, now=later, only=frozenset({"purge_trash"}))
    assert report.purged == []
    assert report.errors and "Restart MediaDesk" in report.errors[0]
    _still_trashed(running, record.id)
    assert record.storage_key in bucket_keys(s3_bucket)


def test_a_stale_claim_on_a_bucket_that_cannot_be_reached_is_not_finished(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    s3_bucket: S3Target,
) -> None:
    """A deletion that died leaves a claim; maintenance finishes it only when the object is
    known gone. Unknown (the bucket out of reach) is not gone: the row stays."""
    record = _moved(running, local_saved, r2_env, media_dir, monkeypatch, s3_bucket)
    running.trash(record.id)
    with db_of(running).write() as s:
        s.execute(
            update(MediaFile)
            .where(MediaFile.id == record.id)
            .values(purging_since=utcnow() - CLAIM_LEASE - timedelta(minutes=1))
            .execution_options(synchronize_session=False)
        )
    report = run_maintenance(running, only=frozenset({"stale_claims"}))
    assert record.id not in report.finished_deletions
    assert _row(running, record.id) is not None
    assert record.storage_key in bucket_keys(s3_bucket)


def test_reconcile_says_the_bucket_cannot_be_checked_rather_than_the_bytes_are_lost(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    s3_bucket: S3Target,
) -> None:
    record = _moved(running, local_saved, r2_env, media_dir, monkeypatch, s3_bucket)
    report = reconcile(running)
    assert record.id not in report.rows_without_objects
    assert "started without" in report.unreachable_backends["r2"]


def test_emptying_the_trash_still_deletes_the_files_it_can_reach(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    s3_bucket: S3Target,
) -> None:
    """One file on a bucket this process cannot reach does not keep the rest of the trash:
    the others go, it stays, and the emptying says why."""
    moved = _moved(running, local_saved, r2_env, media_dir, monkeypatch, s3_bucket)
    here = running.uploads.ingest(media_dir.jpeg, "image")  # this process writes locally
    running.trash(moved.id)
    running.trash(here.id)
    with pytest.raises(StorageUnavailable) as caught:
        running.empty_trash()
    assert caught.value.reason == "storage_not_configured"
    assert _row(running, here.id) is None
    assert running.object_path(here.storage_key) is None
    _still_trashed(running, moved.id)
    assert moved.storage_key in bucket_keys(s3_bucket)


def test_the_retention_purge_still_deletes_the_files_it_can_reach(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    s3_bucket: S3Target,
) -> None:
    moved = _moved(running, local_saved, r2_env, media_dir, monkeypatch, s3_bucket)
    here = running.uploads.ingest(media_dir.jpeg, "image")
    running.trash(moved.id)
    running.trash(here.id)
    later = datetime.now(UTC) + timedelta(days=running.settings.trash_retention_days + 1)
    report = run_maintenance(running, now=later, only=frozenset({"purge_trash"}))
    assert report.purged == [here.id]
    assert report.errors and "Restart MediaDesk" in report.errors[0]
    assert _row(running, here.id) is None
    _still_trashed(running, moved.id)
    assert moved.storage_key in bucket_keys(s3_bucket)


def test_a_partly_configured_bucket_does_not_keep_local_files_in_the_trash(
    data_dir: Path, media_dir: MediaSet
) -> None:
    """R2 half set up (a bucket name, no endpoint or keys: "partly configured") on a library
    whose files are all local: the trash of local files empties, the unusable bucket is not
    asked to delete what the catalog never put there."""
    settings = make_settings(data_dir, r2_bucket_name="half-set-up", allow_incomplete_storage=True)
    assert settings.storage_problem and settings.backend_name == "local"
    lib = Library.open(settings)
    try:
        record = lib.uploads.ingest(media_dir.png, "image")
        lib.trash(record.id)
        assert lib.empty_trash() == [record.id]
        assert _row(lib, record.id) is None
        other = lib.uploads.ingest(media_dir.jpeg, "image")
        lib.delete_permanently(other.id)
        assert _row(lib, other.id) is None
    finally:
        lib.close()


def test_a_partly_configured_bucket_does_not_keep_a_stale_claim_of_a_local_file(
    data_dir: Path, media_dir: MediaSet
) -> None:
    """A deletion that died after the local bytes went: maintenance finishes it (the bytes
    are known gone from the only backend the catalog names), the half set-up bucket is not
    asked whether it holds them."""
    settings = make_settings(data_dir, r2_bucket_name="half-set-up", allow_incomplete_storage=True)
    lib = Library.open(settings)
    try:
        record = lib.uploads.ingest(media_dir.png, "image")
        lib.trash(record.id)
        with db_of(lib).write() as s:
            s.execute(
                update(MediaFile)
                .where(MediaFile.id == record.id)
                .values(purging_since=utcnow() - CLAIM_LEASE - timedelta(minutes=1))
                .execution_options(synchronize_session=False)
            )
        path = lib.object_path(record.storage_key)
        assert path is not None
        path.unlink()
        report = run_maintenance(lib, only=frozenset({"stale_claims"}))
        assert report.errors == []
        assert report.finished_deletions == [record.id]
        assert _row(lib, record.id) is None
    finally:
        lib.close()


# ---- R2 half set up (its secret missing) over files already on it ---------------------------


@pytest.fixture
def half_set_up(
    s3_settings: Settings, media_dir: MediaSet, s3_bucket: S3Target
) -> Iterator[tuple[Library, FileRecord, FileRecord]]:
    """A file on the local folder and one on R2, then the library opened as the desktop opens
    it with R2's secret gone (allow_incomplete_storage): R2 still the storage chosen."""
    lib = Library.open(s3_settings.replace(storage_backend="local"))
    here = lib.uploads.ingest(media_dir.jpeg, "image")
    lib.close()
    assert LocalStorage(s3_settings.paths.objects_dir).exists(here.storage_key)
    lib = Library.open(s3_settings.replace(storage_backend="r2"))
    there = lib.uploads.ingest(media_dir.png, "image")
    lib.close()
    assert there.storage_key in bucket_keys(s3_bucket)
    half = make_settings(
        s3_settings.paths.data_dir,
        r2_endpoint_url=s3_bucket.endpoint_url,
        r2_bucket_name=s3_bucket.bucket,
        r2_access_key_id=s3_bucket.access_key_id,
        r2_region="us-east-1",
        storage_backend="r2",
        allow_incomplete_storage=True,
    )
    assert half.storage_problem
    lib = Library.open(half)
    try:
        yield lib, here, there
    finally:
        lib.close()


def test_a_hard_delete_on_a_partly_configured_bucket_leaves_the_live_file_live(
    half_set_up: tuple[Library, FileRecord, FileRecord], s3_bucket: S3Target
) -> None:
    """No DELETE can be sent to a bucket without its secret: the file stays live, also after
    maintenance (was: moved to the trash under a back-dated claim, kept there for good)."""
    lib, _, there = half_set_up
    with pytest.raises(StorageUnusable) as refused:
        lib.delete_permanently(there.id)
    assert never_sent(refused.value)
    assert not lib.get_file(there.id).is_trashed
    run_maintenance(lib, only=frozenset({"stale_claims"}))
    row = _row(lib, there.id)
    assert row is not None and row.deleted_at is None and row.purging_since is None
    assert there.storage_key in bucket_keys(s3_bucket)


def test_emptying_the_trash_past_a_partly_configured_bucket_deletes_the_local_files(
    half_set_up: tuple[Library, FileRecord, FileRecord], s3_bucket: S3Target
) -> None:
    """The local file goes, bytes and row; the bucket's stays in the trash untouched (was:
    the local bytes deleted, then the bucket refused and the row stayed without them)."""
    lib, here, there = half_set_up
    lib.trash(here.id)
    lib.trash(there.id)
    with pytest.raises(StorageUnusable):
        lib.empty_trash()
    assert _row(lib, here.id) is None
    assert not LocalStorage(lib.settings.paths.objects_dir).exists(here.storage_key)
    _still_trashed(lib, there.id)
    assert there.storage_key in bucket_keys(s3_bucket)


def test_the_retention_purge_past_a_partly_configured_bucket_deletes_the_local_files(
    half_set_up: tuple[Library, FileRecord, FileRecord], s3_bucket: S3Target
) -> None:
    """The bucket's file first: the local one is still purged (was: the purge stopped there,
    or the local bytes went and their row stayed)."""
    lib, here, there = half_set_up
    lib.trash(there.id)
    lib.trash(here.id)
    later = datetime.now(UTC) + timedelta(days=lib.settings.trash_retention_days + 1)
    purged: list[int] = []
    with pytest.raises(StorageUnusable):
        purge_trash(lib, now=later, purged=purged)
    assert purged == [here.id]
    assert _row(lib, here.id) is None
    assert not LocalStorage(lib.settings.paths.objects_dir).exists(here.storage_key)
    _still_trashed(lib, there.id)
    assert there.storage_key in bucket_keys(s3_bucket)
