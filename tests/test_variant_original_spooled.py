"""A `?w=` variant of a big photo is not decoded from the original's bytes joined in memory:
those were outside the decode budget (a 40 MB JPEG made the server hold 40 MB more for each
variant made at once). A local store's original is a file already and is decoded in place;
an S3 original is copied into the data folder's tmp/ chunk by chunk and decoded there. The
memory is measured as Python's own allocations (tracemalloc) on the local folder only: the
tests' moto server runs in this process, and its own copy of the object would be counted;
what is written into tmp/ is seen on both stores through the kernel (inotify)."""

from __future__ import annotations

import contextlib
import ctypes
import io
import os
import struct
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from core.library import Library
from core.partials import PART_MARK
from core.records import FileRecord
from core.storage.base import OpenedObject
from tests.faults import fill_disk, small_tmpfs

SIZE = (5000, 4000)  # random pixels at quality 100: ≈ 40 MB of JPEG


def _big_jpeg(path: Path) -> int:
    noise = Image.frombytes("RGB", SIZE, os.urandom(SIZE[0] * SIZE[1] * 3))
    noise.save(path, "JPEG", quality=100)
    return path.stat().st_size


def _photo(tmp_path: Path, library: Library) -> FileRecord:
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (1600, 1200), (40, 120, 200)).save(photo, "JPEG", quality=90)
    return library.uploads.ingest(photo, "image")


# <sys/inotify.h>
IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE, IN_DELETE = 0x2, 0x8, 0x80, 0x100, 0x200
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then len bytes of NUL-padded name


@contextlib.contextmanager
def _entries_changed(folder: Path) -> Iterator[list[tuple[str, int]]]:
    """The (name, mask) inotify events of the files in `folder` made, written, closed after
    writing or removed during the block, filled in when it ends. The kernel queues each event
    in the system call that causes it, so once the block returns every one is there: read
    without waiting, nothing to poll."""
    if not sys.platform.startswith("linux"):
        pytest.skip("inotify is Linux's")
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        raise OSError(ctypes.get_errno(), "inotify_init1")
    events: list[tuple[str, int]] = []
    try:
        mask = IN_CREATE | IN_MOVED_TO | IN_MODIFY | IN_CLOSE_WRITE | IN_DELETE
        if libc.inotify_add_watch(fd, os.fsencode(folder), mask) < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {folder}")
        yield events
        queued = b""
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(fd, 1 << 16):
                queued += chunk
        at = 0
        while at < len(queued):
            _, event, _, size = _EVENT.unpack_from(queued, at)
            at += _EVENT.size
            events.append((queued[at : at + size].rstrip(b"\0").decode(), event))
            at += size
    finally:
        os.close(fd)


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
    # the decoder reads the store's file under its budget; the whole original was 40 MB
    assert peak < size // 4, (peak, size)
    assert width == 320
    _made(library, opened)


def test_a_local_original_is_read_in_place_and_a_remote_one_copied_into_tmp(
    tmp_path: Path, any_library: Library
) -> None:
    """Seen from the kernel (inotify on tmp/): a local store's original is a file already and
    is decoded where it is, nothing is written into tmp/; an S3 original is written into a
    copy there, then the copy goes."""
    record = _photo(tmp_path, any_library)
    with _entries_changed(any_library.paths.tmp_dir) as events:
        width, opened = any_library.open_variant(record, 320)
    assert width == 320
    _made(any_library, opened)
    if any_library.local_path(record) is not None:
        assert events == [], events
        return
    copies = {name for name, _ in events if PART_MARK in name}
    assert len(copies) == 1, events
    (copy,) = copies
    done = [mask for name, mask in events if name == copy]
    assert [m for m in done if m & (IN_CREATE | IN_CLOSE_WRITE | IN_DELETE)] == [
        IN_CREATE,
        IN_CLOSE_WRITE,
        IN_DELETE,
    ], events
    assert any(m & IN_MODIFY for m in done), events  # written into, not only made


def test_a_variant_of_an_s3_original_is_made_on_a_full_disk(
    tmp_path: Path, s3_library: Library
) -> None:
    """The copy into tmp/ needs room: on a full disk the resize answered 507
    insufficient_storage ("not enough free storage space to save the file") to a GET, where
    README says a full disk keeps serving resized images. The original is read into memory
    then, as before the copy."""
    record = _photo(tmp_path, s3_library)
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
