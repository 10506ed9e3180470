"""What importing a photo costs a slow disk: on a share or a FUSE mount every fsync waited
~0.3 s, and the original and its folder are the only ones an import needs (README, *Crashes*:
an object is fsynced before the row that names it). The thumbnail and the ?w= variants are
made again from the original: written atomically, not fsynced (core/storage/local.py)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from core import keys
from core.errors import NotFound
from core.library import Library
from core.storage.local import LocalStorage
from core.thumbnail_cache import ThumbnailCache
from tests.media import make_jpeg

PHOTOS = 8


@pytest.fixture
def fsynced(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, int]]]:
    """The (device, inode) of every file and folder os.fsync is called on from now on."""
    seen: list[tuple[int, int]] = []
    real = os.fsync

    def fsync(fd: int) -> None:
        st = os.fstat(fd)
        seen.append((st.st_dev, st.st_ino))
        real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    yield seen


def _inode(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


def test_an_imported_photo_fsyncs_its_original_and_folder_only(
    library: Library, tmp_path: Path, fsynced: list[tuple[int, int]]
) -> None:
    photos = [
        make_jpeg(tmp_path / f"p{i}.jpg", size=(64, 48), color=(20 * i, 90, 140))
        for i in range(PHOTOS)
    ]
    records = [library.uploads.ingest(photo, "image") for photo in photos]
    assert all(r.has_thumbnail and not r.duplicate for r in records)
    # 4 a photo before: the thumbnail and its folder were fsynced too. (2 to spare for a
    # background thread's own write; one more a photo still fails.)
    assert len(fsynced) <= 2 * PHOTOS + 2, len(fsynced) / PHOTOS
    for record in records:
        original = library.local_path(record)
        assert original is not None
        # the guarantee kept: the original's bytes and its name are on the disk (a rename keeps
        # the inode that was fsynced under its temporary name)
        assert _inode(original) in fsynced and _inode(original.parent) in fsynced
        assert library.thumbnail_bytes(record.id)


DAMAGES = {
    "empty": lambda data: b"",
    "zero-filled": lambda data: bytes(len(data)),
    "cut-short": lambda data: data[: len(data) // 2],
}


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_damaged_thumbnail_or_variant_is_missing_and_a_variant_is_made_again(
    library: Library, tmp_path: Path, damage: str
) -> None:
    """What a power cut can leave of a file written without fsync: an empty one, one
    zero-filled at its full size (its data blocks allocated, not yet written back) or one cut
    short."""
    record = library.uploads.ingest(make_jpeg(tmp_path / "p.jpg", size=(800, 600)), "image")
    storage = LocalStorage(library.paths.objects_dir)
    thumb = keys.thumbnail_key(record.storage_key)
    key, stat = library.variant(record, 320)
    assert stat.size > 0
    for derived in (thumb, key):
        path = storage.local_path(derived)
        assert path is not None
        path.write_bytes(DAMAGES[damage](path.read_bytes()))
        assert not storage.exists(derived)
        with pytest.raises(NotFound):
            storage.stat(derived)
    # no cached copy here: the store's empty thumbnail would have been answered as a picture
    ThumbnailCache(library.paths.cache_dir / "thumbnails").path(record).unlink()
    assert library.thumbnail_bytes(record.id)  # made again from the original (4b38804)
    assert storage.exists(thumb)
    again, stat = library.variant(record, 320)
    assert again == key and stat.size > 0
    with Image.open(io.BytesIO(b"".join(storage.open_range(key, 0, None)))) as made:
        assert made.format == "WEBP" and made.width == 320
    # an empty original is not "missing": the catalog's size check reports it as damaged
    original = library.local_path(record)
    assert original is not None
    original.write_bytes(b"")
    assert storage.exists(record.storage_key)


@pytest.mark.parametrize("damage", DAMAGES)
def test_a_deleted_photos_damaged_thumbnail_and_variant_go_with_it(
    library: Library, tmp_path: Path, damage: str
) -> None:
    """A damaged remade object is "missing" to readers only: a deletion by prefix (how a
    photo's variants go) and listings still see it, else it stayed on disk for good."""
    record = library.uploads.ingest(make_jpeg(tmp_path / "p.jpg", size=(800, 600)), "image")
    storage = LocalStorage(library.paths.objects_dir)
    key, _stat = library.variant(record, 320)
    paths = [storage.local_path(k) for k in (key, keys.thumbnail_key(record.storage_key))]
    for path in paths:
        assert path is not None
        path.write_bytes(DAMAGES[damage](path.read_bytes()))
    listed = {s.key for s in storage.list_keys(keys.variant_prefix(record.storage_key))}
    assert listed == {key}
    library.trash(record.id)
    library.delete_permanently(record.id, only_trashed=True)
    assert [p for p in paths if p is not None and p.exists()] == []
