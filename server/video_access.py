"""Who may read a video's renditions, ladder, thumbnails and watch page, and the URLs to them.

Public files are open. A private file needs a read token, or a file grant (`exp` + `sig`, see
core.storage.signing) for players that cannot send headers: `<video>`, hls.js, an iframe.
Every URL the server writes for a private file (info, the watch page, playlists, the VTT
track) carries a grant: the very grant that opened the request when one did, so that what a
signed watch link hands out ends with that link (no sooner: a long match keeps playing under
a link good for days; no later: no privilege extension), else (a read token) a fresh grant
that lives PRESIGNED_URL_EXPIRY seconds.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from urllib.parse import urlencode

from aiohttp import web

from core.errors import NotFound, StorageUnavailable, catalog_unreachable
from core.events import ChangeEvent, EventKind
from core.jobs import JobRecord
from core.library import Library
from core.links import check_grant, sign_grant
from core.records import FileRecord
from core.storage.base import OpenedObject
from core.tokens import TRUSTED_THROUGH_OUTAGE
from server.auth import actor_of, check_scope
from server.record_cache import ready_record
from server.state import (
    AUDIT,
    CONFIG,
    METRICS,
    STREAMS,
    TOKEN,
    library,
    remote_address,
    run_blocking,
    store_blocking,
)
from server.streaming import REMOTE_CHUNK_SIZE, stream_object


async def ready_file(request: web.Request, asked: int) -> FileRecord:
    """A ready, untrashed file by any id it has (NotFound otherwise).

    Through a duplicate's alias id: the file's own record seen under the alias id (`id` the
    alias, `duplicate_of` the file), so that the URLs and grants of the answer name the id the
    client holds. The alias's cached record only says which file it names (for good); whether
    that file is public, trashed or gone comes from the file's own cache entry, which its
    changes drop at once (the alias's entry would keep the old state until its TTL).
    """
    record = await ready_record(request, asked)
    target = record.duplicate_of
    if target is None or target == record.id:
        return record
    try:
        owner = await ready_record(request, target)
    except NotFound:
        raise NotFound(f"File {asked} not found") from None  # the message names the id asked
    return dataclasses.replace(owner, id=asked, duplicate=True, duplicate_of=owner.id)


def owner_of(record: FileRecord) -> FileRecord:
    """The file a record shows, under its own id: the id its jobs, derivatives' events and
    live streams are filed under (server/live_streams.py ends them by that id)."""
    target = record.duplicate_of
    if target is None or target == record.id:
        return record
    return dataclasses.replace(record, id=target, duplicate=False, duplicate_of=None)


# The verified file grant (`exp`, `sig`) that opened this request, if one did
_OPENED_BY: web.RequestKey[tuple[int, str]] = web.RequestKey("opened_by_grant")


def grant_query(request: web.Request, record: FileRecord) -> str:
    """`exp=…&sig=…` for a private file, "" for a public one: the grant that opened the
    request when one did (the links handed out end with it), else a fresh one."""
    if record.is_public:
        return ""
    held = request.get(_OPENED_BY)
    if held is not None:
        return urlencode({"exp": str(held[0]), "sig": held[1]})
    return sign_grant(library(request), record)


def grant_until(request: web.Request) -> int | None:
    """When the grant that opened the request ends (epoch seconds), None if none did."""
    held = request.get(_OPENED_BY)
    return None if held is None else held[0]


def private_cache_control(request: web.Request) -> str:
    """`private, max-age=…` for a private file's answer. A browser keeps it by URL alone: one
    opened by a file grant is kept no longer than the grant lives, or the link would go on
    opening (from the cache, for the hour a private answer is kept) after it expired."""
    most = request.app[CONFIG].private_max_age
    until = grant_until(request)
    if until is not None:
        most = max(0, min(most, until - int(time.time())))
    return f"private, max-age={most}"


def with_query(url: str, query: str) -> str:
    if not query:
        return url
    return f"{url}{'&' if '?' in url else '?'}{query}"


def ensure_video_access(request: web.Request, record: FileRecord, action: str) -> None:
    """Public: open. Private: a valid grant in the query, else a read token; audited.

    The grant must be one signed for `record.id`, the id in the path: a grant of a file does
    not open its alias ids, nor one of an alias id the file's own id, nor, once the id names
    other bytes (an older backup put back hands ids out again), those (core.links)."""
    if record.is_public:
        return
    audit = request.app[AUDIT]
    if "sig" in request.query and request[TOKEN] is None:
        check_grant(library(request), record, request.query)
        request[_OPENED_BY] = (int(request.query["exp"]), request.query["sig"])
        audit.add("signed-url", action, record.id, remote_address(request), None)
        return
    info = check_scope(request[TOKEN], "read")
    audit.add(actor_of(info), action, record.id, remote_address(request), None)


class JobsCache:
    """A file's newest jobs, kept until a `processing` (or delete) event names the file.

    Every `/stream/{id}/video` request needs them to choose the rendition; this keeps range
    requests from paying a catalog query each.
    """

    TTL = 30.0  # also bounds staleness should an event be lost; the catalog out: see get()

    def __init__(self, lib: Library) -> None:
        self.jobs = lib.jobs  # not the library: the cache must not keep it alive
        self._items: dict[int, tuple[list[JobRecord], float]] = {}  # id → jobs, read at
        self._generation: dict[int, int] = {}
        # owner → files showing its jobs (the same stored object: JobStore.latest_for_file)
        self._sharers: dict[int, set[int]] = {}
        self._lock = threading.Lock()
        lib.events.subscribe(self._on_event)

    def _on_event(self, event: ChangeEvent) -> None:
        if event.file_id is not None and event.kind in (EventKind.PROCESSING, EventKind.DELETED):
            with self._lock:
                for file_id in (event.file_id, *self._sharers.pop(event.file_id, ())):
                    self._items.pop(file_id, None)
                    self._generation[file_id] = self._generation.get(file_id, 0) + 1

    def peek(self, file_id: int) -> list[JobRecord] | None:
        """The cached jobs when fresh, else None: no catalog query (fine on the event loop)."""
        with self._lock:
            hit = self._items.get(file_id)
            return hit[0] if hit is not None and time.monotonic() - hit[1] < self.TTL else None

    def get(self, file_id: int) -> list[JobRecord]:
        now = time.monotonic()
        with self._lock:
            hit = self._items.get(file_id)
            if hit is not None and now - hit[1] < self.TTL:
                return hit[0]
            generation = self._generation.get(file_id, 0)
        try:
            jobs = self.jobs.latest_for_file(file_id)
        except StorageUnavailable as exc:
            # as the file's record (server/record_cache.py): jobs read within the window go on
            # choosing what a player's seeks get while the catalog cannot be reached; an event
            # heard since dropped them
            with self._lock:
                hit = self._items.get(file_id)
            if hit is None or not catalog_unreachable(exc):
                raise
            if time.monotonic() - hit[1] >= TRUSTED_THROUGH_OUTAGE:
                raise
            return hit[0]
        with self._lock:
            if self._generation.get(file_id, 0) == generation:  # no event while we read
                if len(self._items) > 10_000:
                    self._items.clear()
                    self._sharers.clear()
                self._items[file_id] = (jobs, now)
                if jobs and jobs[0].file_id != file_id:  # another file's: its events count too
                    self._sharers.setdefault(jobs[0].file_id, set()).add(file_id)
        return jobs


_CACHES: weakref.WeakKeyDictionary[Library, JobsCache] = weakref.WeakKeyDictionary()
_CACHES_LOCK = threading.Lock()


def jobs_cache(lib: Library) -> JobsCache:
    with _CACHES_LOCK:
        cache = _CACHES.get(lib)
        if cache is None:
            cache = _CACHES[lib] = JobsCache(lib)
        return cache


async def file_jobs(request: web.Request, record: FileRecord) -> list[JobRecord]:
    """The newest jobs of the file `record` shows (an alias id has none of its own)."""
    cache = jobs_cache(library(request))
    fid = owner_of(record).id
    jobs = cache.peek(fid)  # a range request of a playing video: no thread hop
    return jobs if jobs is not None else await run_blocking(request, cache.get, fid)


def cache_control(
    request: web.Request, record: FileRecord, immutable: bool = False, public_max_age: int = 60
) -> str:
    """A private file's bytes are cached by the caller only; an immutable object (a variant, a
    segment) for the configured time; other public answers for `public_max_age` seconds."""
    config = request.app[CONFIG]
    if not record.is_public:
        return private_cache_control(request)
    if immutable:
        return f"public, max-age={config.public_max_age}, immutable"
    return f"public, max-age={public_max_age}"


async def send_derived(
    request: web.Request,
    record: FileRecord,
    key: str,
    content_type: str,
    *,
    etag: str | None = None,
    immutable: bool = False,
    extra_headers: dict[str, str] | None = None,
    cache: str | None = None,
) -> web.StreamResponse:
    """One derivative object with ranges, validators and the file's cache policy (`cache`
    instead, for a copy that stands in while another is made).

    Held as read while it is sent: the deferred deletion of a replaced job's files (a
    reprocess) waits for the end of a long download of its web rendition."""
    lib = library(request)
    metrics = request.app[METRICS]

    def count(n: int) -> None:
        metrics.bytes_served.inc(n, file_type=record.file_type)

    with lib.reading(key):
        opened = await store_blocking(request, lib.open_object, key)
        return await send_opened(
            request,
            record,
            opened,
            content_type,
            cache if cache is not None else cache_control(request, record, immutable),
            count,
            etag=etag,
            extra_headers=extra_headers,
        )


async def send_opened(
    request: web.Request,
    record: FileRecord,
    opened: OpenedObject,
    content_type: str,
    cache: str,
    on_bytes: Callable[[int], None],
    *,
    etag: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> web.StreamResponse:
    """An object of `record` already opened (a rendition, a variant): ranges, validators (its
    own ETag unless `etag`), registered so that a trash or delete of the file ends it."""
    stat = opened.stat

    def open_range(start: int, end: int | None) -> Iterator[bytes]:
        return opened.open_range(start, end, REMOTE_CHUNK_SIZE)

    with request.app[STREAMS].track(request, owner_of(record)):
        return await stream_object(
            request,
            size=stat.size,
            etag=etag or stat.etag,
            last_modified=stat.last_modified,
            content_type=content_type,
            local_path=opened.local_path,
            open_range=open_range,
            cache_control=cache,
            extra_headers=extra_headers,
            on_bytes=on_bytes,
        )


async def read_text(request: web.Request, key: str) -> str:
    lib = library(request)

    def read() -> str:
        return lib.open_object(key).read_all().decode("utf-8")

    return await store_blocking(request, read)
