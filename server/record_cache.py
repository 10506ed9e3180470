"""An in-memory cache of servable file records, cleared by the change feed (any process)."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator

from aiohttp import web

from core.events import FILE_KINDS, ChangeEvent
from core.library import Library
from core.records import FileRecord
from server.state import LIBRARY, RECORDS, run_blocking

TTL_SECONDS = 2.0  # bounds staleness if the change feed is down
MAX_ENTRIES = 4096


class RecordCache:
    """Saves the catalog lookup (and its thread-pool hop) on repeated stream requests."""

    def __init__(self, ttl: float = TTL_SECONDS, max_entries: int = MAX_ENTRIES) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._entries: OrderedDict[int, tuple[float, FileRecord]] = OrderedDict()

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

    def forget(self, file_id: int | None) -> None:
        with self._lock:
            if file_id is None:
                self._entries.clear()
            else:
                self._entries.pop(file_id, None)


async def ready_record(request: web.Request, file_id: int) -> FileRecord:
    """A ready, untrashed file (NotFound otherwise), from the cache when it is fresh."""
    cache = request.app[RECORDS]
    record = cache.get(file_id)
    if record is None:
        record = await run_blocking(request, request.app[LIBRARY].get_ready, file_id)
        cache.put(record)
    return record


def _invalidate(cache: RecordCache, event: ChangeEvent) -> None:
    """Change events of every process (the feed) drop what they touch; a trashed file stops
    being served on the next request, wherever it was trashed."""
    if event.kind in FILE_KINDS:
        cache.forget(event.file_id)
    elif event.kind == "athlete":  # names in records
        cache.forget(None)


async def record_cache_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: keeps the cache subscribed to change events while the app runs."""
    library: Library = app[LIBRARY]
    cache = app[RECORDS]
    unsubscribe = library.events.subscribe(lambda event: _invalidate(cache, event))
    yield
    unsubscribe()
