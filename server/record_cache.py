"""An in-memory cache of servable file records, cleared by the change feed (any process).

With each record it keeps where the record's bytes are (a local file or none): finding that
asks the catalog which backend holds the key and stats the file, which a stream request
should not pay each time (and must not do on the event loop). An edit that moves the object
changes the record's key, and a storage migration changes the row: both come through the feed
and drop the entry, like a trash does.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from pathlib import Path

from aiohttp import web

from core.events import FILE_KINDS, ChangeEvent, EventKind
from core.library import Library
from core.records import FileRecord
from server.state import LIBRARY, LOOKED_UP, RECORDS, run_blocking

TTL_SECONDS = 2.0  # bounds staleness if the change feed is down
MAX_ENTRIES = 4096


class RecordCache:
    """Saves the catalog lookup (and its thread-pool hop) on repeated stream requests."""

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, tuple[float, FileRecord]] = OrderedDict()
        self._paths: dict[int, tuple[str, float, Path | None]] = {}  # id → key, expiry, path

    def get(self, file_id: int) -> FileRecord | None:
        with self._lock:
            entry = self._entries.get(file_id)
            if entry is None:
                return None
            if entry[0] < time.monotonic():
                del self._entries[file_id]
                return None
            self._entries.move_to_end(file_id)
            return entry[1]

    def put(self, record: FileRecord) -> None:
        with self._lock:
            self._entries[record.id] = (time.monotonic() + self.ttl, record)
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

    def put_path(self, record: FileRecord, path: Path | None) -> None:
        with self._lock:
            if len(self._paths) >= self.max_entries:
                self._paths.clear()
            self._paths[record.id] = (record.storage_key, time.monotonic() + self.ttl, path)

    def forget(self, file_id: int | None) -> None:
        with self._lock:
            if file_id is None:
                self._entries.clear()
                self._paths.clear()
            else:
                self._entries.pop(file_id, None)
                self._paths.pop(file_id, None)


async def ready_record(request: web.Request, file_id: int) -> FileRecord:
    """A ready, untrashed file (NotFound otherwise), from the cache when it is fresh."""
    request[LOOKED_UP] = time.monotonic()  # a stream of it checks for a trash since then
    cache = request.app[RECORDS]
    record = cache.get(file_id)
    if record is None:
        record = await run_blocking(request, request.app[LIBRARY].get_ready, file_id)
        cache.put(record)
    return record


async def local_path(request: web.Request, record: FileRecord) -> Path | None:
    """The record's object as a local file (None on R2), from the cache when it is fresh."""
    cache = request.app[RECORDS]
    known, path = cache.path(record)
    if not known:
        path = await run_blocking(request, request.app[LIBRARY].local_path, record)
        cache.put_path(record, path)
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
