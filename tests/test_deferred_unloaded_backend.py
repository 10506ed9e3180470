"""The deferred deletion of a moved file's old key, run by a process that never loaded the
bucket the file is on: a file `mediadesk storage migrate --to r2 --save-keys` moved to R2,
then given another athlete (its object copied to a new key on the bucket, the old key queued)
by a server started on the local folder. The deletion ran once due in the next process (a
restart, `mediadesk maintenance`): it tried the local folder and the backends that process
had loaded, found no row naming the key, dropped the entry and left the old object on the
bucket for good. Now the entry names the file's backend and the deletion reaches it (built
from the saved settings, as the other deletions do); when it cannot be built the entry stays
for a later run."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from core import keys
from core.db.models import DeferredDeletion
from core.errors import StorageUnavailable
from core.library import Library
from core.records import FileRecord
from core.settings import Settings
from core.storage.routing import RoutingStorage
from tests.internals import db_of, storage_of
from tests.media_fixtures import MediaSet
from tests.r2_migrate import bucket_keys, migrate_to_r2, r2_environment, saved_local
from tests.s3_server import S3Target

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def local_saved(data_dir: Path) -> Settings:
    return saved_local(data_dir)


@pytest.fixture
def renamed_on_bucket(
    local_saved: Settings,
    s3_bucket: S3Target,
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[FileRecord, FileRecord]]:
    """(the file before, after) its move to another athlete's key on the bucket, by a process
    started on the local folder; that process closed before the old key's deletion was due."""
    lib = Library.open(local_saved)
    try:
        record = lib.uploads.ingest(media_dir.png, "image")
        migrate_to_r2(local_saved, r2_environment(s3_bucket), monkeypatch, "--save-keys")
        athlete = lib.create_athlete("Moved")
        moved = lib.update_file(record.id, {"athlete_id": athlete.id})
    finally:
        lib.close()
    assert moved.storage_key != record.storage_key
    assert {record.storage_key, moved.storage_key} <= bucket_keys(s3_bucket)
    yield record, moved


def _later() -> datetime:
    return datetime.now(UTC) + timedelta(days=1)


def _queued(lib: Library, key: str) -> bool:
    with db_of(lib).read() as s:
        found = s.scalar(select(DeferredDeletion.id).where(DeferredDeletion.storage_key == key))
    return found is not None


def test_a_moved_files_old_key_is_deleted_from_a_bucket_this_process_never_loaded(
    local_saved: Settings, s3_bucket: S3Target, renamed_on_bucket: tuple[FileRecord, FileRecord]
) -> None:
    before, after = renamed_on_bucket
    lib = Library.open(local_saved)
    try:
        routing = storage_of(lib)
        assert isinstance(routing, RoutingStorage) and "r2" not in routing.backend_names()
        lib.deferred.run(now=_later())
        left = bucket_keys(s3_bucket)
        # was: the entry dropped, the old object and its thumbnail left on the bucket
        assert before.storage_key not in left
        assert keys.thumbnail_key(before.storage_key) not in left
        assert after.storage_key in left
        assert not _queued(lib, before.storage_key)
        assert b"".join(lib.open_range(lib.get_file(after.id), 0, None))
    finally:
        lib.close()


def test_a_moved_files_old_key_waits_while_its_bucket_cannot_be_built(
    local_saved: Settings, s3_bucket: S3Target, renamed_on_bucket: tuple[FileRecord, FileRecord]
) -> None:
    before, _after = renamed_on_bucket
    lib = Library.open(local_saved)
    try:
        routing = storage_of(lib)
        assert isinstance(routing, RoutingStorage)
        resolve = routing.resolve

        def unconfigured(name: str) -> RoutingStorage:
            raise StorageUnavailable("not configured here", reason="storage_not_configured")

        routing.resolve = unconfigured  # type: ignore[assignment]
        assert lib.deferred.run(now=_later()) == []
        assert _queued(lib, before.storage_key)  # was: dropped, the object left for good
        assert before.storage_key in bucket_keys(s3_bucket)
        routing.resolve = resolve
        assert lib.deferred.run(now=_later()) == [before.storage_key]
        assert before.storage_key not in bucket_keys(s3_bucket)
        assert not _queued(lib, before.storage_key)
    finally:
        lib.close()
