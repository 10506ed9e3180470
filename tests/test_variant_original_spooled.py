"""A `?w=` variant of a big photo is decoded from a copy of the original in the data folder's
tmp/, not from the original's bytes joined in memory: those were outside the decode budget
(a 40 MB JPEG made the server hold 40 MB more for each variant made at once). Measured as
Python's own allocations (tracemalloc) while the variant is made, on the local folder; on
S3 (moto) the variant is made and its copy removed, unmeasured: the tests' moto server runs
in this process, and its own copy of the object would be counted."""

from __future__ import annotations

import io
import os
import tracemalloc
from pathlib import Path

from PIL import Image

from core.library import Library
from core.partials import PART_MARK
from core.storage.base import OpenedObject
from tests.faults import fill_disk, small_tmpfs

SIZE = (5000, 4000)  # random pixels at quality 100: ≈ 40 MB of JPEG


def _big_jpeg(path: Path) -> int:
    noise = Image.frombytes("RGB", SIZE, os.urandom(SIZE[0] * SIZE[1] * 3))
    noise.save(path, "JPEG", quality=100)
    return path.stat().st_size


def _made(library: Library, opened: OpenedObject) -> None:
    with Image.open(io.BytesIO(library.read_object(opened.key))) as variant:
        assert variant.format == "WEBP" and variant.width == 320
    tmp = library.paths.tmp_dir
    assert not [p for p in tmp.rglob(f"*{PART_MARK}")], list(tmp.rglob("*"))  # copy removed


def test_a_variant_of_a_big_original_does_not_hold_the_original_in_memory(
    tmp_path: Path, library: Library
) -> None:
    size = _big_jpeg(tmp_path / "big.jpg")
    assert size > 30_000_000, size
    record = library.uploads.ingest(tmp_path / "big.jpg", "image")

    tracemalloc.start()
    try:
        width, opened = library.open_variant(record, 320)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # copied in the store's chunks (256 KiB); the whole original was 40 MB
    assert peak < size // 4, (peak, size)
    assert width == 320
    _made(library, opened)


def test_a_variant_of_a_big_original_on_s3_is_made_from_a_copy(
    tmp_path: Path, s3_library: Library
) -> None:
    _big_jpeg(tmp_path / "big.jpg")
    record = s3_library.uploads.ingest(tmp_path / "big.jpg", "image")
    width, opened = s3_library.open_variant(record, 320)
    assert width == 320
    _made(s3_library, opened)


def test_a_variant_of_an_s3_original_is_made_on_a_full_disk(
    tmp_path: Path, s3_library: Library
) -> None:
    """The copy into tmp/ needs room: on a full disk the resize answered 507
    insufficient_storage ("not enough free storage space to save the file") to a GET, where
    README says a full disk keeps serving resized images. The original is read into memory
    then, as before the copy."""
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (1600, 1200), (40, 120, 200)).save(photo, "JPEG", quality=90)
    record = s3_library.uploads.ingest(photo, "image")
    tmp = s3_library.paths.tmp_dir
    with small_tmpfs(tmp, "1m"):
        fill_disk(tmp / "filler")
        try:
            width, opened = s3_library.open_variant(record, 640)
            data = s3_library.read_object(opened.key)
        finally:
            (tmp / "filler").unlink()
    assert width == 640
    with Image.open(io.BytesIO(data)) as variant:
        assert variant.format == "WEBP" and variant.width == 640


def test_a_local_original_is_read_in_place(tmp_path: Path, library: Library) -> None:
    """A local store's original is a file already: no copy of it is written into tmp/."""
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (1600, 1200), (40, 120, 200)).save(photo, "JPEG", quality=90)
    record = library.uploads.ingest(photo, "image")
    tmp = library.paths.tmp_dir
    with small_tmpfs(tmp, "1m"):
        fill_disk(tmp / "filler")
        try:
            width, opened = library.open_variant(record, 640)
        finally:
            (tmp / "filler").unlink()
    assert width == 640 and opened.stat.size > 0
