"""Several storage backends behind one Storage: new objects go to the active one, reads find
an object wherever it is.

After the user switches storage (Settings ▸ Storage, `mediadesk storage migrate`), files not
yet moved — or that the user chose to keep where they are — stay readable: reads, streams,
copies and deletes try the backend the catalog names for the key first (`locate`), then the
others. `media_files.storage_backend` says where each file is; core/storage_migration.py moves
files between backends.

A process may hear of a backend after it started: `mediadesk storage migrate --to r2
--save-keys` run elsewhere moves files to R2 while a server opened on the local folder keeps
running. When the catalog names a backend this storage has none for, `resolve` is asked for it
(core/storage_migration.py reads the saved settings again) and what it builds is kept. When it
cannot be built, reads that find the object nowhere else raise its StorageUnavailable: the
bytes exist where this process cannot reach, so "no such object" (a 404) would be a lie.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any, BinaryIO, cast

from core.errors import NotFound, StorageUnavailable, StorageUnusable, object_missing
from core.storage.base import ObjectStat, ProgressCallback, Storage

Locator = Callable[[str], str | None]
# The backends the catalog names for any of these keys (one read for many)
ManyLocator = Callable[[Sequence[str]], set[str]]
# Builds the backend of that name, or raises StorageUnavailable saying why it cannot
Resolver = Callable[[str], Storage]
# Given each backend's name and storage as it joins (RoutingStorage.prepare_backends)
Preparer = Callable[[str, Storage], None]


class _Unreachable:
    """Stands last in a read's order for a backend the catalog names that this process cannot
    build: every call raises why (after the other backends had no object)."""

    def __init__(self, error: StorageUnavailable) -> None:
        self._error = error

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        error = self._error

        def refuse(*_: object, **__: object) -> Any:
            # nothing is sent: a hard delete refused here leaves a live file live
            raise StorageUnusable(error.message, reason=error.reason, details=error.details)

        return refuse


class Unusable:
    """A backend configured too incompletely to be used (core/storage/factory.py): deletions
    ask it only for keys the catalog says it holds, so a half set-up bucket does not keep
    the local folder's files in the trash; for those keys `reach` refuses before any byte
    goes. Every call of it raises why (StorageUnusable: nothing was sent)."""

    def __init__(self, problem: str) -> None:
        self.problem = problem

    def refuse(self, *_: object, **__: object) -> Any:
        raise StorageUnusable(f"The storage cannot be used: {self.problem}")


def home_of(storage: Storage, key: str) -> Storage:
    """`RoutingStorage.home` of a routing storage; any other storage is its files' only home."""
    return storage.home(key) if isinstance(storage, RoutingStorage) else storage


def refusing(error: StorageUnavailable) -> Storage:
    """A stand-in for a backend that cannot be built: every call raises `error` again."""
    return cast(Storage, _Unreachable(error))


class RoutingStorage:
    """`active` receives every write; `backends` maps "local"/"r2" to a Storage."""

    def __init__(self, active: str, backends: dict[str, Storage]) -> None:
        if active not in backends:
            raise ValueError(f"no storage for the active backend {active!r}")
        self.active_name = active
        self._backends = dict(backends)
        self._lock = threading.Lock()
        self.locate: Locator = lambda key: None
        self.locate_many: ManyLocator = lambda keys: set()
        self.resolve: Resolver | None = None
        # The backend the catalog names for the file a derived key (a thumbnail, a variant, a
        # video's rendition) is of, asked when no backend this process has holds the key
        self.locate_owner: Locator = lambda key: None
        self._prepare: Preparer | None = None

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
        if found is not None:
            return found
        if self.resolve is None:
            raise NotFound(f"The {name} storage is not configured")
        built = self.resolve(name)
        return self._join(name, built)

    def prepare_backends(self, prepare: Preparer) -> None:
        """Calls `prepare(name, storage)` for each backend, now and as each later one joins
        (built from the saved settings, or added): the library's set-up of them (a bucket's
        aborts kept for later, core/deferred.py)."""
        with self._lock:
            self._prepare = prepare
            backends = dict(self._backends)
        for name, storage in backends.items():
            prepare(name, storage)

    def _join(self, name: str, storage: Storage) -> Storage:
        """`storage` as the backend `name` unless one joined meanwhile; the one that stays."""
        with self._lock:
            kept = self._backends.setdefault(name, storage)
            prepare = self._prepare
        if kept is storage and prepare is not None:
            prepare(name, storage)
        return kept

    def reach(self, keys: Sequence[str]) -> set[str]:
        """Builds now every backend the catalog names for `keys` that this process has none
        for, and returns the names; raises StorageUnusable when one cannot be built
        (storage_not_configured) or is set up too incompletely to be used (`Unusable`).
        Deletions call it before any byte goes: a delete that only reached the backends this
        process started with dropped the rows and left the objects on a bucket nobody would
        look in, and one that deleted the local bytes before a half set-up bucket refused
        left their rows in the trash without them."""
        with self._lock:
            known = set(self._backends)
        named = self.locate_many(keys)
        for name in sorted(named):
            if name not in known and self.resolve is None:
                raise StorageUnusable(
                    f"Files of this library are on the {name} storage, which is not configured",
                    reason="storage_not_configured",
                )
            try:
                storage = self.backend(name)
            except StorageUnusable:
                raise
            except StorageUnavailable as exc:  # building one sends nothing to any store
                raise StorageUnusable(exc.message, reason=exc.reason, details=exc.details) from exc
            if isinstance(storage, Unusable):
                storage.refuse()
        return named

    def home(self, key: str) -> Storage:
        """The backend the catalog names for the file stored at `key` (the active one when it
        names none), built from the saved settings if this process has none: where that
        file's derivatives are written and read. Writing them to the active backend left a
        video moved to R2 by another process with renditions only this machine's folder had.
        Raises StorageUnavailable (storage_not_configured) when it cannot be built: nothing
        is written elsewhere."""
        name = self.locate(key) or self.active_name
        if name == self.active_name:  # this storage's writes and listings go there already
            return cast(Storage, self)
        try:
            return self.backend(name)
        except NotFound as exc:  # no resolver: this process cannot build it
            raise StorageUnavailable(exc.message, reason="storage_not_configured") from exc

    def add_backend(self, name: str, storage: Storage) -> None:
        self._join(name, storage)

    def backend_names(self) -> list[str]:
        with self._lock:
            return list(self._backends)

    def _order(self, key: str, first: str | None = None) -> list[Storage]:
        with self._lock:
            backends = dict(self._backends)
        first = first or self.locate(key) or self.active_name
        if first in backends or self.resolve is None:
            ordered = [backends[first]] if first in backends else []
            return ordered + [s for n, s in backends.items() if n != first]
        try:
            return [self.backend(first), *backends.values()]
        except StorageUnavailable as exc:
            # an old copy may still be where the file was: asked first, the reason last
            return [*backends.values(), cast(Storage, _Unreachable(exc))]

    def _first(self, key: str, call: Callable[[Storage], Any]) -> Any:
        missing: NotFound | None = None
        for storage in self._order(key):
            try:
                return call(storage)
            except NotFound as exc:
                missing = missing or exc
        home = self._owner_home(key)
        if home is not None:
            return call(home)
        raise missing or object_missing(f"No object {key!r}")

    def _owner_home(self, key: str) -> Storage | None:
        """The backend of the file the derived `key` is of, when this process had none for it
        (the derived key names no row, so `locate` cannot tell): a server started on the local
        folder answered 404 for the renditions of a video another process moved to R2. Built
        from the saved settings, or StorageUnavailable: the bytes exist where this process
        cannot reach. None: no other backend to ask."""
        if self.resolve is None:
            return None
        name = self.locate_owner(key)
        with self._lock:
            if not name or name in self._backends:
                return None
        return self.backend(name)

    # ---- reads: wherever the object is ---------------------------------------------------------
    def stat(self, key: str) -> ObjectStat:
        return self._first(key, lambda s: s.stat(key))  # type: ignore[no-any-return]

    def exists(self, key: str) -> bool:
        # an unusable backend the catalog does not name for the key is no "cannot tell": a
        # stale claim's settle must learn the bytes are gone (core/library.py)
        named = self.locate(key) or self.active_name
        usable = self._all({named})
        return any(
            s.exists(key)
            for s in self._order(key, named)
            if s in usable or isinstance(s, _Unreachable)
        )

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
        if len(order) == 1 and self.resolve is None:  # nowhere else to look
            return order[0]
        for storage in order:
            if storage.exists(key):
                return storage
        home = self._owner_home(key)
        if home is not None:
            return home
        if len(order) == 1:  # its own words (a lost file's object: the key, the backend)
            return order[0]
        raise object_missing(f"No object {key!r} in any storage")

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
        named = self.locate(key) or self.active_name
        order = self._order(key, named)
        for storage in order:
            if isinstance(storage, _Unreachable):
                # before any copy goes: the object lives where this process cannot delete it
                storage.delete(key)
        usable = self._all({named})
        asked = False
        for storage in order:
            if storage in usable:
                try:
                    storage.delete(key)
                except StorageUnavailable as exc:
                    # one backend's request never sent, another's before it may have deleted
                    # the object: not "nothing done" (core.errors.never_sent)
                    exc.sent = exc.sent or asked
                    raise
                asked = True

    # Deletes reach every backend, in any order: one catalog read for the batch says which
    # backends hold them (a read per object made emptying a large trash slow).
    def delete_many(self, keys: Sequence[str]) -> None:
        named = self.reach(keys)
        for storage in self._all(named):
            storage.delete_many(keys)

    def delete_prefix(self, prefix: str) -> int:
        return sum(s.delete_prefix(prefix) for s in self._all())

    def _all(self, named: Collection[str] = ()) -> list[Storage]:
        """Every backend, but an unusable one only when the catalog names it (`named`)."""
        with self._lock:
            return [
                s for n, s in self._backends.items() if n in named or not isinstance(s, Unusable)
            ]

    def list_keys(self, prefix: str = "") -> Iterator[ObjectStat]:
        return self.active.list_keys(prefix)

    def check(self) -> None:
        self.active.check()

    def __getattr__(self, name: str) -> Any:
        # Multipart uploads, sweeps, usage scans...: capabilities of the active backend.
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.active, name)
