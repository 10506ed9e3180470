"""Several storage backends behind one Storage: new objects go to the active one, reads find
an object wherever it is.

After the user switches storage (Settings ▸ Storage, `mediadesk storage migrate`), files not
yet moved — or that the user chose to keep where they are — stay readable: reads, streams,
copies and deletes try the backend the catalog names for the key first (`locate`), then the
others. `media_files.storage_backend` says where each file is; core/storage_migration.py moves
files between backends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO

from core.errors import NotFound
from core.storage.base import ObjectStat, ProgressCallback, Storage

Locator = Callable[[str], str | None]


class RoutingStorage:
    """`active` receives every write; `backends` maps "local"/"r2" to a Storage."""

    def __init__(self, active: str, backends: dict[str, Storage]) -> None:
        if active not in backends:
            raise ValueError(f"no storage for the active backend {active!r}")
        self.active_name = active
        self._backends = dict(backends)
        self._lock = threading.Lock()
        self.locate: Locator = lambda key: None

    # ---- backends -----------------------------------------------------------------------------
    @property
    def active(self) -> Storage:
        return self._backends[self.active_name]

    @property
    def name(self) -> str:  # type: ignore[override]
        return str(self.active.name)

    @name.setter
    def name(self, value: str) -> None:
        raise AttributeError("the active backend's name cannot be set")

    def backend(self, name: str) -> Storage:
        with self._lock:
            found = self._backends.get(name)
        if found is None:
            raise NotFound(f"The {name} storage is not configured")
        return found

    def add_backend(self, name: str, storage: Storage) -> None:
        with self._lock:
            self._backends.setdefault(name, storage)

    def backend_names(self) -> list[str]:
        with self._lock:
            return list(self._backends)

    def _order(self, key: str) -> list[Storage]:
        with self._lock:
            backends = dict(self._backends)
        first = self.locate(key) or self.active_name
        ordered = [backends[first]] if first in backends else []
        return ordered + [s for n, s in backends.items() if n != first]

    def _first(self, key: str, call: Callable[[Storage], Any]) -> Any:
        missing: NotFound | None = None
        for storage in self._order(key):
            try:
                return call(storage)
            except NotFound as exc:
                missing = missing or exc
        raise missing or NotFound(f"No object {key!r}")

    # ---- reads: wherever the object is ---------------------------------------------------------
    def stat(self, key: str) -> ObjectStat:
        return self._first(key, lambda s: s.stat(key))  # type: ignore[no-any-return]

    def exists(self, key: str) -> bool:
        return any(s.exists(key) for s in self._order(key))

    def open_range(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> Iterator[bytes]:
        storage = self._holder(key)
        return storage.open_range(key, start, end, chunk_size)

    def download_to(
        self, key: str, destination: Path, progress: ProgressCallback | None = None
    ) -> None:
        self._holder(key).download_to(key, destination, progress)

    def local_path(self, key: str) -> Path | None:
        for storage in self._order(key):
            if storage.exists(key):
                return storage.local_path(key)
        return None

    def _holder(self, key: str) -> Storage:
        order = self._order(key)
        if len(order) == 1:
            return order[0]
        for storage in order:
            if storage.exists(key):
                return storage
        raise NotFound(f"No object {key!r} in any storage")

    # ---- writes: the active backend, or where the source is ------------------------------------
    def put_file(self, key: str, path: Path, content_type: str, *a: Any, **k: Any) -> ObjectStat:
        return self.active.put_file(key, path, content_type, *a, **k)

    def put_stream(
        self, key: str, stream: BinaryIO, content_type: str, *a: Any, **k: Any
    ) -> ObjectStat:
        return self.active.put_stream(key, stream, content_type, *a, **k)

    def put_bytes(self, key: str, data: bytes, content_type: str) -> ObjectStat:
        return self.active.put_bytes(key, data, content_type)

    def copy(self, src: str, dst: str, *, content_type: str | None = None) -> ObjectStat:
        # A file keeps living on its own backend when it is renamed or refiled.
        return self._holder(src).copy(src, dst, content_type=content_type)

    def move(self, src: str, dst: str, *, content_type: str | None = None) -> ObjectStat:
        return self._holder(src).move(src, dst, content_type=content_type)

    def delete(self, key: str) -> None:
        for storage in self._order(key):
            storage.delete(key)

    # Deletes reach every backend, in any order: no catalog read of where the key is first
    # (a read per object made emptying a large trash slow).
    def delete_many(self, keys: Sequence[str]) -> None:
        for storage in self._all():
            storage.delete_many(keys)

    def delete_prefix(self, prefix: str) -> int:
        return sum(s.delete_prefix(prefix) for s in self._all())

    def _all(self) -> list[Storage]:
        with self._lock:
            return list(self._backends.values())

    def list_keys(self, prefix: str = "") -> Iterator[ObjectStat]:
        return self.active.list_keys(prefix)

    def check(self) -> None:
        self.active.check()

    def __getattr__(self, name: str) -> Any:
        # Multipart uploads, sweeps, usage scans...: capabilities of the active backend.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.active, name)
