"""The same bytes for another athlete or other flags: a file of its own sharing the stored object
by reference (issue 13). The object stays while any file references it, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import update

from core import keys
from core import library as core_library
from core.db.models import MediaFile
from core.library import Library
from core.maintenance import expire_pending, purge_trash
from core.records import FileRecord
from tests.internals import db_of, storage_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(120)


def originals(lib: Library) -> list[str]:
    """Keys of the stored originals (derivatives and thumbnails aside)."""
    return sorted(o.key for o in lib.list_objects() if not o.key.startswith("_derived/"))


def read(lib: Library, record: FileRecord) -> bytes:
    return b"".join(lib.open_range(record, 0, None))


def test_two_athletes_share_one_object_until_both_are_deleted(
    any_library: Library, media_dir: Any
) -> None:
    lib, data = any_library, media_dir.jpeg.read_bytes()
    a = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=1)
    b = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=2, original_filename="b.jpg")
    assert a.id != b.id and not b.duplicate and b.athlete_id == 2
    assert b.storage_key == a.storage_key and b.has_thumbnail == a.has_thumbnail
    assert originals(lib) == [a.storage_key]  # no second upload
    lib.delete_permanently(a.id)
    assert read(lib, lib.get_file(b.id)) == data  # the other still streams
    assert lib.thumbnail_bytes(b.id)
    lib.delete_permanently(b.id)
    assert originals(lib) == []
    assert keys.thumbnail_key(a.storage_key) not in {o.key for o in lib.list_objects()}


def test_a_confirmed_upload_of_known_bytes_references_the_object(
    any_library: Library, media_dir: Any
) -> None:
    lib, data = any_library, media_dir.jpeg.read_bytes()
    a = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=1)
    upload = lib.uploads.create_presigned_upload("c.jpg", "image", is_public=True, athlete_id=1)
    # the client's PUT to the presigned URL
    storage_of(lib).put_file(upload.file_key, media_dir.jpeg, "image/jpeg")
    c = lib.uploads.confirm_upload(upload.file.id)
    assert c.id == upload.file.id and not c.duplicate and c.is_public
    assert c.storage_key == a.storage_key
    assert originals(lib) == [a.storage_key]  # the uploaded copy is gone
    # the trash purge of one keeps the object of the other
    lib.trash(a.id)
    assert purge_trash(lib, retention_days=0, now=datetime.now(UTC) + timedelta(seconds=1)) == [
        a.id
    ]
    assert read(lib, lib.get_file(c.id)) == data
    lib.delete_permanently(c.id)
    assert originals(lib) == []


def test_failed_upload_cleanup_keeps_a_shared_object(library: Library, media_dir: Any) -> None:
    lib, data = library, media_dir.jpeg.read_bytes()
    a = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=1)
    upload = lib.uploads.create_presigned_upload("d.jpg", "image", athlete_id=2)
    # an expired upload whose row names the shared key (a confirm cut short by a crash)
    with db_of(lib).write() as s:
        s.execute(
            update(MediaFile)
            .where(MediaFile.id == upload.file.id)
            .values(storage_key=a.storage_key, upload_expires_at=datetime.now(UTC))
        )
    assert expire_pending(lib, datetime.now(UTC) + timedelta(seconds=1)) == [upload.file.id]
    assert read(lib, lib.get_file(a.id)) == data
    assert originals(lib) == [a.storage_key]


def test_a_storage_migration_moves_a_shared_object_for_every_file(
    s3_settings: Any, media_dir: Any
) -> None:
    lib = Library.open(s3_settings.replace(storage_backend="local"))
    try:
        a = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=1)
        b = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=2)
        assert b.storage_key == a.storage_key
        data = read(lib, a)
        report = lib.backends.migrate("r2")
        assert report.complete
        assert lib.backends.counts_by_backend() == {"r2": 2}  # both rows follow the object
        local = storage_of(lib).backend("local")  # type: ignore[attr-defined]
        assert not local.exists(a.storage_key)
        assert read(lib, lib.get_file(a.id)) == read(lib, lib.get_file(b.id)) == data
    finally:
        lib.close()


def test_shared_objects_on_postgres(pg_library: Library, media_dir: Any) -> None:
    """PostgreSQL's storage_key is no longer unique either (migration 0010)."""
    lib, data = pg_library, media_dir.jpeg.read_bytes()
    a = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=1)
    b = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=2)
    assert b.storage_key == a.storage_key and originals(lib) == [a.storage_key]
    lib.delete_permanently(a.id)
    assert read(lib, lib.get_file(b.id)) == data
    c = lib.uploads.ingest(media_dir.png, "image")
    lib.trash_many([b.id, c.id])
    # the batch's object locks on one connection of their own
    assert sorted(lib.empty_trash()) == sorted([b.id, c.id])
    assert originals(lib) == []


def test_video_derivatives_stay_with_a_moved_file_that_shared_the_object(
    library: Library, media_dir: Any
) -> None:
    """Derivatives are named by the key's file name, which a move to another athlete keeps."""
    lib = library
    a = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=1)
    b = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=2)
    rendition = keys.video_prefix(a.storage_key) + "720p.mp4"
    storage_of(lib).put_bytes(rendition, b"rendition", "video/mp4")
    moved = lib.update_file(b.id, {"athlete_id": 3})
    assert moved.storage_key != a.storage_key
    assert keys.video_prefix(moved.storage_key) == keys.video_prefix(a.storage_key)
    lib.delete_permanently(a.id)
    assert rendition in {o.key for o in lib.list_objects()}
    lib.delete_permanently(b.id)
    assert rendition not in {o.key for o in lib.list_objects()}


def test_emptying_the_trash_deletes_a_batch_of_objects_per_request(
    s3_library: Library, media_dir: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """2,458 files took 6 minutes to empty: a request per object and per thumbnail, and two
    commits per file. Now a batch of files costs one DeleteObjects for their originals and one
    for their thumbnails; an object another file keeps stays."""
    monkeypatch.setattr(core_library, "BULK_BATCH", 4)
    lib = s3_library
    photos = []
    for i in range(6):
        path = tmp_path / f"photo-{i}.jpg"
        Image.new("RGB", (32, 24), (i * 40, 90, 200)).save(path, "JPEG")
        photos.append(lib.uploads.ingest(path, "image"))
    a = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=1)
    b = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=2, original_filename="b.jpg")
    trashed = [*photos, a]
    lib.trash_many([r.id for r in trashed])
    calls: list[str] = []
    client = storage_of(lib).active.client  # type: ignore[attr-defined]
    client.meta.events.register("before-call.s3", lambda model, **_: calls.append(model.name))

    assert sorted(lib.empty_trash()) == sorted(r.id for r in trashed)

    assert "DeleteObject" not in calls
    # batches of 4, 3 (a's object is kept): originals and thumbnails, one request each
    assert calls.count("DeleteObjects") == 4
    assert originals(lib) == [b.storage_key]
    assert read(lib, lib.get_file(b.id)) == media_dir.jpeg.read_bytes()
    assert lib.thumbnail_bytes(b.id)
    assert lib.counts()["trash"] == 0
