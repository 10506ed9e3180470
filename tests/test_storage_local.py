"""LocalStorage: atomic writes, ranges, listing, moves, traversal and clean-up."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest

from core.errors import Conflict, InvalidInput, StorageUnavailable
from core.settings import Settings
from core.storage.base import Presigner
from core.storage.factory import build_storage
from core.storage.local import LocalStorage
from core.storage.signing import LocalPresigner
from tests.test_storage_contract import _Broken  # one dropped-connection stream for both

KEY = "athletes/3/2025/02/abc.jpg"
MiB = 1024 * 1024


@pytest.fixture
def store(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "objects", tmp_path / "tmp")


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_local_specifics_path_no_content_type_pruned_folders(store: LocalStorage) -> None:
    """The shared contract is in test_storage_contract.py; this is what only a folder does."""
    put = store.put_bytes(KEY, b"abc", "image/jpeg")
    assert put.content_type is None  # a folder keeps no content type; the catalog does
    assert store.local_path(KEY) == store.root / KEY
    store.delete(KEY)
    assert not (store.root / "athletes").exists()  # empty folders pruned, root kept
    assert store.root.is_dir()
    store.put_bytes(KEY, b"x" * 1000, "image/jpeg")
    with pytest.raises(InvalidInput) as info:
        store.open_range(KEY, 1000)
    assert info.value.details == {"size": 1000}  # the server's 416 Content-Range needs it
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


def test_writes_in_bounded_chunks(store: LocalStorage, tmp_path: Path) -> None:
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(2 * MiB + 123))
    seen: list[int] = []
    store.put_file(KEY, src, "image/jpeg", seen.append)
    assert sum(seen) == src.stat().st_size and max(seen) <= MiB


def test_failed_stream_leaves_nothing(store: LocalStorage) -> None:
    store.put_bytes(KEY, b"old", "image/jpeg")
    with pytest.raises(ConnectionResetError):
        store.put_stream(KEY, _Broken(), "image/jpeg")  # type: ignore[arg-type]
    with pytest.raises(ConnectionResetError):
        store.put_stream("general/2025/01/new.mp4", _Broken(), "video/mp4")  # type: ignore[arg-type]
    assert _files(store.root) == [KEY]  # no temp file either
    assert not (store.root / "general").exists()


def test_cancel_from_progress_leaves_nothing(store: LocalStorage) -> None:
    def cancel(_: int) -> None:
        raise RuntimeError("cancelled")

    with pytest.raises(RuntimeError):
        store.put_stream(KEY, io.BytesIO(b"x" * 3 * MiB), "image/jpeg", cancel)
    assert not store.root.exists() or _files(store.root) == []


def test_move_prunes_folders_and_listing_skips_temp_files(store: LocalStorage) -> None:
    store.put_bytes(KEY, b"abc", "image/jpeg")
    store.move(KEY, "athletes/4/2025/02/abc.jpg")
    assert not (store.root / "athletes/3").exists()
    (store.root / "athletes/4/2025/02/.abc.jpg.dead.part").write_bytes(b"junk")
    assert [s.key for s in store.list_keys()] == ["athletes/4/2025/02/abc.jpg"]


def test_abort_stale_temp_files(store: LocalStorage) -> None:
    """Ownership, not age, decides: a live writer's file stays, a dead one's goes at once."""
    from core import partials

    store.put_bytes(KEY, b"abc", "image/jpeg")
    folder = store.root / "athletes/3/2025/02"
    old = folder / ".abc.jpg.1111.part"
    fresh = folder / ".abc.jpg.2222.part"  # no owner: written before ownership existed
    ours = folder / f".abc.jpg.{partials.tag()}.3333.part"  # this live process's
    for path in (old, fresh, ours):
        path.write_bytes(b"x")
    past = time.time() - 7200
    os.utime(old, (past, past))
    os.utime(ours, (past, past))
    assert store.abort_stale_multipart(3600) == 2
    assert not old.exists() and not fresh.exists() and ours.exists()
    ours.unlink()
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
    assert isinstance(storage.active, LocalStorage) and isinstance(presigner, LocalPresigner)
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
