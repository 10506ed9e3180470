"""LocalStorage: atomic writes, ranges, listing, moves, traversal and clean-up."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from core.errors import Conflict, InvalidInput, NotFound, StorageUnavailable
from core.settings import Settings
from core.storage.base import Presigner, Storage
from core.storage.factory import build_storage
from core.storage.local import LocalStorage
from core.storage.signing import LocalPresigner

KEY = "athletes/3/2025/02/abc.jpg"
MiB = 1024 * 1024


@pytest.fixture
def store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "objects", tmp_path / "tmp")


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_put_stat_read_delete(store: LocalStorage) -> None:
    assert isinstance(store, Storage)
    data = bytes(range(256)) * 40
    put = store.put_bytes(KEY, data, "image/jpeg")
    assert put.size == len(data) and put.content_type is None
    assert put.etag.startswith('"') and put.etag.endswith('"') and len(put.etag) > 10
    assert store.stat(KEY) == put
    assert store.exists(KEY)
    assert b"".join(store.open_range(KEY)) == data
    assert store.local_path(KEY) == store.root / KEY
    store.delete(KEY)
    assert not store.exists(KEY)
    assert not (store.root / "athletes").exists()  # empty folders pruned, root kept
    assert store.root.is_dir()
    store.delete(KEY)  # missing is fine
    with pytest.raises(NotFound):
        store.stat(KEY)
    with pytest.raises(NotFound):
        store.open_range(KEY)


def test_etag_changes_when_content_changes(store: LocalStorage) -> None:
    first = store.put_bytes(KEY, b"one", "image/jpeg").etag
    assert store.put_bytes(KEY, b"two", "image/jpeg").etag != first


def test_ranges(store: LocalStorage) -> None:
    data = os.urandom(1000)
    store.put_bytes(KEY, data, "image/jpeg")
    assert b"".join(store.open_range(KEY, 10, 19)) == data[10:20]
    assert b"".join(store.open_range(KEY, 990)) == data[990:]
    assert b"".join(store.open_range(KEY, 900, 5000)) == data[900:]
    chunks = list(store.open_range(KEY, 0, 999, chunk_size=300))
    assert [len(c) for c in chunks] == [300, 300, 300, 100]
    with pytest.raises(InvalidInput) as info:
        store.open_range(KEY, 1000)
    assert info.value.details == {"size": 1000}
    with pytest.raises(InvalidInput):
        store.open_range(KEY, 5, 4)
    store.put_bytes("general/2025/01/empty.txt", b"", "text/plain")
    assert b"".join(store.open_range("general/2025/01/empty.txt")) == b""


@pytest.mark.parametrize(
    "key", ["../x.jpg", "a/../../x.jpg", "/etc/passwd", "a\\b.jpg", "", "a/.x.123.part"]
)
def test_traversal_and_bad_keys_refused(store: LocalStorage, key: str) -> None:
    with pytest.raises(InvalidInput):
        store.put_bytes(key, b"x", "image/jpeg")
    with pytest.raises(InvalidInput):
        store.stat(key)
    assert not store.root.exists() or _files(store.root) == []


def test_put_file_and_stream_progress(store: LocalStorage, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    data = os.urandom(2 * MiB + 123)
    src.write_bytes(data)
    seen: list[int] = []
    assert store.put_file(KEY, src, "image/jpeg", seen.append).size == len(data)
    assert sum(seen) == len(data) and max(seen) <= MiB
    seen.clear()
    store.put_stream("general/2025/01/s.bin", io.BytesIO(data), "video/mp4", seen.append)
    assert sum(seen) == len(data)
    assert (store.root / "general/2025/01/s.bin").read_bytes() == data
    out = tmp_path / "out.bin"
    seen.clear()
    store.download_to(KEY, out, seen.append)
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


def test_failed_stream_leaves_nothing(store: LocalStorage) -> None:
    store.put_bytes(KEY, b"old", "image/jpeg")
    with pytest.raises(ConnectionResetError):
        store.put_stream(KEY, _Broken(), "image/jpeg")  # type: ignore[arg-type]
    assert (store.root / KEY).read_bytes() == b"old"  # the old object is intact
    with pytest.raises(ConnectionResetError):
        store.put_stream("general/2025/01/new.mp4", _Broken(), "video/mp4")  # type: ignore[arg-type]
    assert _files(store.root) == [KEY]
    assert not (store.root / "general").exists()


def test_cancel_from_progress_leaves_nothing(store: LocalStorage) -> None:
    def cancel(_: int) -> None:
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        store.put_stream(KEY, io.BytesIO(b"x" * 3 * MiB), "image/jpeg", cancel)
    assert not store.root.exists() or _files(store.root) == []


def test_copy_move_list_delete_prefix(store: LocalStorage) -> None:
    store.put_bytes(KEY, b"abc", "image/jpeg")
    copy = store.copy(KEY, "general/2025/02/abc.jpg")
    assert copy.size == 3 and store.exists(KEY)
    moved = store.move(KEY, "athletes/4/2025/02/abc.jpg")
    assert moved.key == "athletes/4/2025/02/abc.jpg" and not store.exists(KEY)
    assert not (store.root / "athletes/3").exists()
    (store.root / "general/2025/02/.abc.jpg.dead.part").write_bytes(b"junk")
    keys = [s.key for s in store.list_keys()]
    assert keys == ["athletes/4/2025/02/abc.jpg", "general/2025/02/abc.jpg"]
    assert [s.key for s in store.list_keys("general/")] == ["general/2025/02/abc.jpg"]
    assert [s.key for s in store.list_keys("athletes/4/2025/02/ab")] == [moved.key]
    assert list(store.list_keys("athletes/5/")) == []
    with pytest.raises(NotFound):
        store.move(KEY, "general/x.jpg")
    with pytest.raises(InvalidInput):
        store.delete_prefix("")
    assert store.delete_prefix("athletes/") == 1
    assert [s.key for s in store.list_keys()] == ["general/2025/02/abc.jpg"]


def test_abort_stale_temp_files(store: LocalStorage) -> None:
    store.put_bytes(KEY, b"abc", "image/jpeg")
    folder = store.root / "athletes/3/2025/02"
    old = folder / ".abc.jpg.1111.part"
    fresh = folder / ".abc.jpg.2222.part"
    old.write_bytes(b"x")
    fresh.write_bytes(b"x")
    past = time.time() - 7200
    os.utime(old, (past, past))
    assert store.abort_stale_multipart(3600) == 1
    assert not old.exists() and fresh.exists()
    assert store.abort_stale_multipart(0) == 1
    assert _files(store.root) == [KEY]


def test_check(tmp_path: Path) -> None:
    LocalStorage(tmp_path / "new" / "objects").check()  # created when missing
    assert (tmp_path / "new" / "objects").is_dir()
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(StorageUnavailable, match="not a folder"):
        LocalStorage(tmp_path / "file").check()
    if os.name != "nt" and os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir(mode=0o500)
        with pytest.raises(StorageUnavailable, match="not writable"):
            LocalStorage(ro).check()


def test_factory_local(tmp_path: Path) -> None:
    settings = Settings(data_dir=str(tmp_path / "data"), server_port=9999)
    storage, presigner = build_storage(settings)
    assert isinstance(storage, LocalStorage) and isinstance(presigner, LocalPresigner)
    assert isinstance(presigner, Presigner)
    assert storage.root == settings.paths.objects_dir
    assert (settings.paths.secrets_dir / "url-signing.key").stat().st_size == 32
    assert presigner.presign_get(KEY, 60).url.startswith("http://127.0.0.1:9999/signed/")


def test_key_through_an_object_conflicts(store: LocalStorage) -> None:
    store.put_bytes("general/2025/01/a", b"x", "text/plain")
    with pytest.raises(Conflict):
        store.put_bytes("general/2025/01/a/b.jpg", b"x", "image/jpeg")
    with pytest.raises(Conflict):
        store.put_bytes("general/2025/01", b"x", "image/jpeg")
    assert [s.key for s in store.list_keys()] == ["general/2025/01/a"]
