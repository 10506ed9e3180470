"""The Storage contract, once, on both backends: local folder and S3 (moto over real HTTP).

Backend-specific behaviour (atomic temp files, traversal, multipart and checksums, presigning,
error translation) stays in test_storage_local.py and test_storage_s3.py.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import pytest

from core.errors import InvalidInput, NotFound
from core.storage.base import Storage
from core.storage.local import LocalStorage
from core.storage.s3 import S3Storage
from tests.s3_server import S3Target

KEY = "athletes/3/2025/02/abc.jpg"
MiB = 1024 * 1024


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    if request.param == "local":
        return LocalStorage(tmp_path / "objects", tmp_path / "tmp")
    target: S3Target = request.getfixturevalue("s3_bucket")
    return S3Storage(
        target.bucket,
        target.endpoint_url,
        target.access_key_id,
        target.secret_access_key,
        region="auto",
        multipart_threshold=5 * MiB,
        multipart_chunk_size=5 * MiB,
    )


def _keys(store: Storage, prefix: str = "") -> list[str]:
    return sorted(s.key for s in store.list_keys(prefix))


def test_put_stat_read_delete(store: Storage) -> None:
    assert isinstance(store, Storage)
    data = bytes(range(256)) * 40
    put = store.put_bytes(KEY, data, "image/jpeg")
    assert put.key == KEY and put.size == len(data)
    assert put.etag.startswith('"') and put.etag.endswith('"') and len(put.etag) > 10
    stat = store.stat(KEY)
    assert (stat.size, stat.etag) == (put.size, put.etag)
    assert store.exists(KEY)
    assert b"".join(store.open_range(KEY)) == data
    store.delete(KEY)
    assert not store.exists(KEY)
    store.delete(KEY)  # deleting a missing key is not an error
    with pytest.raises(NotFound):
        store.stat(KEY)
    with pytest.raises(NotFound):
        store.open_range(KEY)


def test_etag_changes_when_content_changes(store: Storage) -> None:
    first = store.put_bytes(KEY, b"one", "image/jpeg").etag
    assert store.put_bytes(KEY, b"two", "image/jpeg").etag != first
    assert b"".join(store.open_range(KEY)) == b"two"


def test_ranges(store: Storage) -> None:
    data = os.urandom(1000)
    store.put_bytes(KEY, data, "image/jpeg")
    assert b"".join(store.open_range(KEY, 10, 19)) == data[10:20]
    assert b"".join(store.open_range(KEY, 990)) == data[990:]
    assert b"".join(store.open_range(KEY, 900, 5000)) == data[900:]
    assert [len(c) for c in store.open_range(KEY, 0, 999, chunk_size=300)] == [300, 300, 300, 100]
    with pytest.raises(InvalidInput):
        store.open_range(KEY, 1000)
    with pytest.raises(InvalidInput):
        store.put_bytes("../x.jpg", b"x", "image/jpeg")


def test_put_file_stream_download_with_progress(store: Storage, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    data = os.urandom(6 * MiB + 123)  # above the S3 multipart threshold
    src.write_bytes(data)
    seen: list[int] = []
    assert store.put_file(KEY, src, "video/mp4", seen.append).size == len(data)
    assert sum(seen) == len(data)
    seen.clear()
    other = "general/2025/01/s.bin"
    assert store.put_stream(other, io.BytesIO(data), "video/mp4", seen.append).size == len(data)
    assert sum(seen) == len(data)
    out = tmp_path / "out.bin"
    seen.clear()
    store.download_to(other, out, seen.append)
    assert out.read_bytes() == data and sum(seen) == len(data)


class _Broken(io.RawIOBase):
    """Yields one MiB, then fails like a dropped connection."""

    def __init__(self) -> None:
        self.sent = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.sent:
            raise ConnectionResetError("client went away")
        self.sent = True
        return b"x" * MiB


def test_failed_stream_keeps_the_old_object_and_adds_nothing(store: Storage) -> None:
    store.put_bytes(KEY, b"old", "image/jpeg")
    with pytest.raises(ConnectionResetError):
        store.put_stream(KEY, _Broken(), "image/jpeg")  # type: ignore[arg-type]
    assert b"".join(store.open_range(KEY)) == b"old"
    with pytest.raises(ConnectionResetError):
        store.put_stream("general/2025/01/new.mp4", _Broken(), "video/mp4")  # type: ignore[arg-type]
    assert _keys(store) == [KEY]


def test_copy_move_list_delete_prefix(store: Storage) -> None:
    store.put_bytes(KEY, b"abc", "image/jpeg")
    assert store.copy(KEY, "general/2025/02/abc.jpg").size == 3 and store.exists(KEY)
    moved = store.move(KEY, "athletes/4/2025/02/abc.jpg")
    assert moved.key == "athletes/4/2025/02/abc.jpg" and not store.exists(KEY)
    assert b"".join(store.open_range(moved.key)) == b"abc"
    assert _keys(store) == ["athletes/4/2025/02/abc.jpg", "general/2025/02/abc.jpg"]
    assert _keys(store, "general/") == ["general/2025/02/abc.jpg"]
    assert _keys(store, "athletes/4/2025/02/ab") == [moved.key]
    assert _keys(store, "athletes/5/") == []
    with pytest.raises(NotFound):
        store.move(KEY, "general/x.jpg")
    with pytest.raises(InvalidInput):
        store.delete_prefix("")
    assert store.delete_prefix("athletes/") == 1
    assert _keys(store) == ["general/2025/02/abc.jpg"]
    store.put_bytes("general/2025/02/def.jpg", b"d", "image/jpeg")
    store.delete_many(["general/2025/02/abc.jpg", "general/2025/02/gone.jpg"])  # gone: no error
    assert _keys(store) == ["general/2025/02/def.jpg"]
