"""An in-memory cache of servable file records, cleared by the change feed (any process).

With each record it keeps where the record's bytes are (a local file or none): finding that
asks the catalog which backend holds the key and stats the file, which a stream request
should not pay each time (and must not do on the event loop). An edit that moves the object
changes the record's key, and a storage migration changes the row: both come through the feed
and drop the entry, like a trash does.

While the catalog cannot be reached, an entry read within TRUSTED_THROUGH_OUTAGE still serves
(a player's seeks, a clip opened again), as a token verified within it is still trusted
(server/auth.py): what the feed or this server's own writes dropped is not there to serve.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from core.errors import StorageUnavailable, catalog_unreachable
from core.events import FILE_KINDS, ChangeEvent, EventKind
from core.library import Library
from core.records import FileRecord
from core.tokens import TRUSTED_THROUGH_OUTAGE
from server.state import (
    LIBRARY,
    LOOKED_UP,
    RECORDS,
    catalog_known_out,
    run_blocking,
    store_blocking,
)

TTL_SECONDS = 2.0  # bounds staleness if the change feed is down
MAX_ENTRIES = 4096


class RecordCache:
    """Saves the catalog lookup (and its thread-pool hop) on repeated stream requests.

    Entries are kept past `ttl` (up to `max_entries`) for `get(..., seconds)` during an outage.
    A lookup that started before the feed dropped its file is not kept: it may have read the
    row before the change that dropped it (a trash), and would serve it for the whole window.
    """

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, tuple[float, FileRecord]] = OrderedDict()  # id → read at
        self._paths: dict[int, tuple[str, float, Path | None]] = {}  # id → key, expiry, path
        self._forgotten: dict[int, float] = {}  # id → when the feed last dropped it
        self._all_forgotten = float("-inf")  # when the feed last dropped every entry

    def get(self, file_id: int, seconds: float | None = None) -> FileRecord | None:
        """The record if it was read within `seconds` (default: the fresh `ttl`)."""
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(file_id)
            if entry is None:
                return None
            age = now - entry[0]
            if age >= TRUSTED_THROUGH_OUTAGE:
                del self._entries[file_id]
                return None
            if age >= (self.ttl if seconds is None else seconds):
                return None
            self._entries.move_to_end(file_id)
            return entry[1]

    def put(self, record: FileRecord, looked_up: float) -> None:
        """Keeps a record read by a lookup that started at `looked_up` (monotonic)."""
        with self._lock:
            if self._dropped_since(record.id, looked_up):
                return
            self._entries[record.id] = (time.monotonic(), record)
            self._entries.move_to_end(record.id)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def path(self, record: FileRecord) -> tuple[bool, Path | None]:
        """(known, local path or None) of the record's object."""
        with self._lock:
            entry = self._paths.get(record.id)
        if entry is None or entry[0] != record.storage_key or entry[1] < time.monotonic():
            return False, None
        return True, entry[2]

    def put_path(self, record: FileRecord, path: Path | None, looked_up: float) -> None:
        with self._lock:
            if self._dropped_since(record.id, looked_up):
                return
            if len(self._paths) >= self.max_entries:
                self._paths.clear()
            self._paths[record.id] = (record.storage_key, time.monotonic() + self.ttl, path)

    def _dropped_since(self, file_id: int, looked_up: float) -> bool:
        dropped = self._forgotten.get(file_id, self._all_forgotten)
        return max(dropped, self._all_forgotten) >= looked_up

    def forget(self, file_id: int | None) -> None:
        now = time.monotonic()
        with self._lock:
            if file_id is None or len(self._forgotten) >= self.max_entries:
                self._all_forgotten = now  # also what the dropped times said, and more
                self._forgotten.clear()
            if file_id is None:
                self._entries.clear()
                self._paths.clear()
            else:
                self._forgotten[file_id] = now
                self._entries.pop(file_id, None)
                self._paths.pop(file_id, None)


async def ready_record(request: web.Request, file_id: int) -> FileRecord:
    """A ready, untrashed file (NotFound otherwise), from the cache when it is fresh, or
    when it is recent and the catalog cannot be reached (at once while that is known)."""
    looked_up = request[LOOKED_UP] = time.monotonic()  # a stream of it checks for a trash since
    cache = request.app[RECORDS]
    record = cache.get(file_id)
    if record is None:
        trusted = cache.get(file_id, TRUSTED_THROUGH_OUTAGE)
        if trusted is not None and catalog_known_out(request):
            return trusted
        try:
            record = await run_blocking(request, request.app[LIBRARY].get_ready, file_id)
        except StorageUnavailable as exc:
            if not catalog_unreachable(exc):
                raise
            record = cache.get(file_id, TRUSTED_THROUGH_OUTAGE)
            if record is None:
                raise
            return record
        cache.put(record, looked_up)
    return record


async def local_path(request: web.Request, record: FileRecord) -> Path | None:
    """The record's object as a local file (None on R2), from the cache when it is fresh.
    During an outage the storage is asked without the catalog (core/storage_migration.py)."""
    cache = request.app[RECORDS]
    known, path = cache.path(record)
    if not known:
        looked_up = time.monotonic()
        # asks the store which holds the key (core/storage/routing.py): the store's pool
        path = await store_blocking(request, request.app[LIBRARY].local_path, record)
        cache.put_path(record, path, looked_up)
    return path


def _invalidate(cache: RecordCache, event: ChangeEvent) -> None:
    """Change events of every process (the feed) drop what they touch; a trashed file stops
    being served on the next request, wherever it was trashed."""
    if event.kind in FILE_KINDS:
        cache.forget(event.file_id)
    elif event.kind == EventKind.ATHLETE:  # names in records
        cache.forget(None)


async def record_cache_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: keeps the cache subscribed to change events while the app runs."""
    library: Library = app[LIBRARY]
    cache = app[RECORDS]
    unsubscribe = library.events.subscribe(lambda event: _invalidate(cache, event))
    yield
    unsubscribe()
