"""Typed application and request keys, and helpers to reach them from a handler."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import ipaddress
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

from core.db.engine import CATALOG_DEADLINE, catalog_deadline
from core.errors import first_of_outage, meet_catalog_failures
from core.links import Arrival
from core.outage import NotNow

if TYPE_CHECKING:
    from core.library import Library
    from core.tokens import TokenInfo
    from server.auditing import AuditSink
    from server.auth import Authenticator
    from server.config import ServerConfig
    from server.hub import EventHub
    from server.live_streams import ActiveStreams, ReadStreams
    from server.metrics import Metrics
    from server.ratelimit import FailedAuthLimit, RateLimiter
    from server.record_cache import RecordCache
    from server.routes.signed import SignedPutBody

T = TypeVar("T")

logger = logging.getLogger(__name__)

LIBRARY: web.AppKey[Library] = web.AppKey("library")
CONFIG: web.AppKey[ServerConfig] = web.AppKey("config")
THREADS: web.AppKey[Threads] = web.AppKey("threads")
AUTH: web.AppKey[Authenticator] = web.AppKey("auth")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
HUB: web.AppKey[EventHub] = web.AppKey("hub")
AUDIT: web.AppKey[AuditSink] = web.AppKey("audit")
LIMITER: web.AppKey[RateLimiter] = web.AppKey("limiter")
FAILED_AUTH: web.AppKey[FailedAuthLimit] = web.AppKey("failed_auth")
RECORDS: web.AppKey[RecordCache] = web.AppKey("records")
STREAMS: web.AppKey[ActiveStreams] = web.AppKey("streams")
# the answers to reads under way, which a stop cuts (server/live_streams.py ReadStreams)
READ_STREAMS: web.AppKey[ReadStreams] = web.AppKey("read_streams")
# storage key → the signed PUT whose body is being received for it (server/routes/signed.py)
SIGNED_PUTS: web.AppKey[dict[str, SignedPutBody]] = web.AppKey("signed_puts")

REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id")
STARTED: web.RequestKey[float] = web.RequestKey("started")
TOKEN: web.RequestKey[TokenInfo | None] = web.RequestKey("token")
# when the handler started looking up its file record (server/live_streams.py compares it)
LOOKED_UP: web.RequestKey[float] = web.RequestKey("looked_up")
# set when a response to the request starts (its headers are prepared): after that a stream cut
# by a trash can only drop the connection; before it, the client gets a 404
RESPONDING: web.RequestKey[bool] = web.RequestKey("responding")
# set by server/streaming.py's nginx_check_middleware: the request is nginx's check subrequest
NGINX_CHECK: web.RequestKey[bool] = web.RequestKey("nginx_check")


def library(request: web.Request) -> Library:
    return request.app[LIBRARY]


# How long shutdown waits for the long calls still running (their sockets were shut by then).
LONG_JOIN = 5.0


class Threads:
    """The server's thread pools: every blocking call (core calls, spooling uploads, audit
    writes, joins at shutdown) goes through `run`, and every call that waits on the store
    (opening and reading objects, thumbnails, putting and checking uploads) through
    `run_store`, a pool of its own. server/app.py's `threads_ctx` starts them with the app and
    shuts them down last; tests/test_server_threads.py keeps raw run_in_executor/to_thread out
    of server/.

    Two pools, because a hung store holds each call that asks it for its timeouts (10 s) until
    the first ones fail and the store's quiet window (core/storage/s3.py _Outage) refuses the
    rest at once: in one pool twenty players' reads held every worker for that long, and a
    listing, an edit or /health waited behind them. Store calls beyond `store_workers` wait in
    their own queue (for as long as the calls ahead of them take, bounded by the store's
    timeouts, then refused at once by its quiet window); the other pool stays free."""

    def __init__(
        self,
        workers: int,
        name: str = "mediadesk-api",
        long_calls: int = 16,
        store_workers: int | None = None,
    ) -> None:
        self.workers, self.name = workers, name
        self.store_workers = store_workers or workers
        self._pool: ThreadPoolExecutor | None = None
        self._store: ThreadPoolExecutor | None = None
        self.long_calls = long_calls  # at most this many run_long calls at once
        self._long: set[threading.Thread] = set()

    def start(self) -> None:
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix=self.name)
        store = f"{self.name}-store"
        self._store = ThreadPoolExecutor(self.store_workers, thread_name_prefix=store)

    def shutdown(self) -> None:
        pools, self._pool, self._store = (self._pool, self._store), None, None
        for pool in pools:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)
        deadline = time.monotonic() + LONG_JOIN
        for thread in list(self._long):  # ended by their callers (server/rawbody.py)
            thread.join(max(0.0, deadline - time.monotonic()))

    def can_run_long(self) -> bool:
        """True while run_long has room (called on the event loop, as run_long is)."""
        return self._pool is not None and len(self._long) < self.long_calls

    def run_long(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """`fn(*args)` in a thread of its own, for a call that waits on a client for as long as
        the client takes (a big upload body read from the socket): in the pool, sixteen slow
        phones would hold every worker and stall every other request. At most `long_calls`
        at once (check can_run_long first); the caller must see the call end."""
        if not self.can_run_long():
            raise RuntimeError("No room for another long call; check can_run_long first")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        context = contextvars.copy_context()

        def settle(thread: threading.Thread, result: Any, error: BaseException | None) -> None:
            self._long.discard(thread)
            if done.cancelled():
                return
            if error is not None:
                done.set_exception(error)
            else:
                done.set_result(result)

        def body() -> None:
            result: Any = None
            error: BaseException | None = None
            try:
                # under the deadline of pool calls too: the body's sink writes to the catalog
                # (a tus part recorded), and a hung catalog held the request and its upload
                result = context.run(_bounded, functools.partial(fn, *args))
            except BaseException as exc:  # handed to the awaiting coroutine
                error = exc
            with contextlib.suppress(RuntimeError):  # the loop is gone (shutdown)
                loop.call_soon_threadsafe(settle, thread, result, error)

        thread = threading.Thread(target=body, name=f"{self.name}-long", daemon=True)
        self._long.add(thread)
        thread.start()
        return done

    def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> asyncio.Future[T]:
        """`fn(*args, **kwargs)` in a pool thread, started now (so reads can run ahead)."""
        return self._submit(self._pool, fn, args, kwargs)

    def run_store(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> asyncio.Future[T]:
        """As `run`, for a call that waits on the store: in the store's own pool, so a hung
        store never holds the threads of calls that need no store."""
        return self._submit(self._store, fn, args, kwargs)

    @staticmethod
    def _submit(
        pool: ThreadPoolExecutor | None,
        fn: Callable[..., T],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> asyncio.Future[T]:
        if pool is None:
            raise RuntimeError("The server's thread pool runs only while the app runs")
        call = functools.partial(fn, *args, **kwargs) if kwargs else functools.partial(fn, *args)
        # the caller's context (a request's id for the logs) goes with it into the thread
        context = contextvars.copy_context()
        return asyncio.get_running_loop().run_in_executor(pool, context.run, _bounded, call)


def _bounded(call: Callable[[], T]) -> T:
    """A pool call whose catalog statements wait CATALOG_DEADLINE for PostgreSQL at most: a
    hung catalog held every worker, and so every request, the health check too, for as long
    as it hung."""
    with catalog_deadline(CATALOG_DEADLINE):
        return call()


async def threads_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx (first in server/app.py, so shut down last): the app's thread pool."""
    threads = app[THREADS]
    threads.start()
    yield
    threads.shutdown()


def catalog_known_out(request: web.Request) -> bool:
    """The catalog was found out of reach and has not answered since (core/db/engine.py
    CatalogOutage). A caller holding an answer read within TRUSTED_THROUGH_OUTAGE (a record, a
    token's check) uses it at once rather than wait for the catalog again: each seek of a player
    waited 15–20 s. Starts the probe that asks the catalog in the background when none does;
    its first answer ends the outage, and fresh reads resume."""
    lib = request.app[LIBRARY]
    try:
        probe = lib.catalog_outage.admit()
    except NotNow:  # another call asks it, or nobody does for a while (it was silent)
        return True
    if probe:
        request.app[THREADS].run(_probe, lib).add_done_callback(_told)
    return probe


def _probe(lib: Library) -> None:
    """The outage's probe, its failure told by _told: kept out of the request's list of the
    catalog's failures (meet_catalog_failures), which nobody reads once its answer is done,
    and the probe often ends after it."""
    meet_catalog_failures()  # this thread's copy of the request's context only
    lib.probe_catalog()


def _told(probe: asyncio.Future[None]) -> None:
    """The background probe's failure is what the outage state already says; but when it
    met the outage first (it asked in the moment between another session's failure and that
    one's claim), it is the episode's one ERROR line: dropped, the outage had none."""
    if probe.cancelled():
        return
    exc = probe.exception()
    if exc is not None and first_of_outage(exc, lambda: False):
        cause = getattr(exc, "cause", None)
        logger.error("The catalog's probe failed: %s%s", exc, f" ({cause})" if cause else "")


async def run_blocking(request: web.Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Runs a blocking core call in the server's thread pool."""
    return await request.app[THREADS].run(fn, *args, **kwargs)


async def store_blocking(
    request: web.Request, fn: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    """Runs a blocking core call that waits on the store in the store's pool (Threads)."""
    return await request.app[THREADS].run_store(fn, *args, **kwargs)


def arrival(request: web.Request) -> Arrival:
    """Where the request was sent, for the links answering it (core.links.link_origin)."""
    transport = request.transport
    local = transport.get_extra_info("sockname") if transport is not None else None
    return Arrival(request.headers.get("Host", ""), str(local[0]) if local else "")


def link_origin(request: web.Request) -> str:
    """The origin of the absolute links answering `request` (watch pages); local signed
    download links take the same (StorageBackends.link_origin)."""
    return library(request).backends.link_origin(arrival(request))


def remote_address(request: web.Request) -> str:
    """The client's address, for audit entries and per-address rate limits.

    Behind a trusted proxy (MEDIADESK_TRUSTED_PROXIES) it is the nearest X-Forwarded-For hop
    that is not itself a trusted proxy, read from the right: each proxy appends the address it
    saw (nginx's $proxy_add_x_forwarded_for), and anything to the left of the first untrusted
    hop was written by the client and proves nothing. From any other peer the header is
    ignored.

    Every X-Forwarded-For line counts, joined in order (RFC 9110 5.3: one list): a proxy that
    adds a line of its own instead of appending to the client's (HAProxy's `option
    forwardfor`) leaves the client's line first, and that line alone named whom it pleased.
    """
    peer = request.remote or "unknown"
    trusted = request.app[CONFIG].trusted_proxies
    if trusted and _is_trusted(peer, trusted):
        lines = request.headers.getall("X-Forwarded-For", [])
        hops = [h.strip() for h in ",".join(lines).split(",")]
        for hop in reversed([h for h in hops if h]):
            if not _is_trusted(hop, trusted):
                return hop[:64]
    return peer[:64]


def _is_trusted(address: str, trusted: tuple[Any, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:  # a name or garbage: never a trusted proxy
        return False
    return any(ip in network for network in trusted)
