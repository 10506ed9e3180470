"""The aiohttp application: create_app wires the library, middlewares, routes and tasks."""

from __future__ import annotations

import asyncio
import logging
import time

from aiohttp import web, web_app

from core.library import Library
from server.auditing import AuditSink, audit_ctx
from server.auth import Authenticator, auth_ctx, auth_middleware
from server.config import ServerConfig
from server.cors import add_cors_headers, cors_middleware
from server.errors import error_middleware
from server.expect import close_unless_continued, continue_middleware, defer_continue
from server.hub import EventHub, close_hub, hub_ctx
from server.live_streams import (
    ActiveStreams,
    reset_connection,
    streams_ctx,
    streams_middleware,
)
from server.metrics import Metrics, method_label, route_label
from server.ratelimit import FailedAuthLimit, RateLimiter
from server.rawbody import close_when_body_taken
from server.record_cache import RecordCache, record_cache_ctx
from server.routes import setup_routes
from server.routes.usage import usage_ctx
from server.schedule import maintenance_ctx
from server.state import (
    AUDIT,
    AUTH,
    CONFIG,
    FAILED_AUTH,
    HUB,
    LIBRARY,
    LIMITER,
    METRICS,
    NGINX_CHECK,
    RECORDS,
    REQUEST_ID,
    RESPONDING,
    STARTED,
    STREAMS,
    THREADS,
    Threads,
    threads_ctx,
)
from server.streaming import nginx_check_middleware

logger = logging.getLogger(__name__)

CLIENT_MAX_SIZE = 1024 * 1024  # forms and JSON; uploads are streamed and limited separately


async def on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    """Final status is known here (not in a middleware): headers and request metrics."""
    request[RESPONDING] = True  # server/live_streams.py: a cut from now on drops the connection
    rid = request.get(REQUEST_ID)
    if rid:
        response.headers["X-Request-ID"] = rid
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    add_cors_headers(request, response)
    close_when_body_taken(request, response)
    started = request.get(STARTED)
    metrics = request.app[METRICS]
    route, method = route_label(request), method_label(request, request.get(NGINX_CHECK, False))
    metrics.requests.inc(method=method, route=route, status=str(response.status))
    if started is not None:
        metrics.request_latency.observe(time.perf_counter() - started, method=method, route=route)


# Methods whose answers carry no state to save: a stop ends them (ReadStreams)
READ_METHODS = frozenset({"GET", "HEAD"})


class ReadStreams:
    """The answers to reads being sent right now (originals, streams, downloads, HLS segments,
    thumbnails), by the task that sends each; a stop ends them at once (cut_reads).

    aiohttp's shutdown waits SHUTDOWN_TIMEOUT (server/entry.py) for every request in progress,
    then cancels what is left and waits as long again: a phone streaming a video from the
    desktop (a slow reader: its bytes go out as it reads them) held Quit ~10 s. Such an answer
    loses nothing when cut: its client asks the rest again with a Range. Requests that write
    (uploads, tus PATCH, edits) are not here: they keep the grace to finish and record what
    came (server/bodystream.py, ServerStopping). Event streams are ended by the hub
    (close_hub), cleanly, and are not here either."""

    def __init__(self) -> None:
        # the task of each answer under way (aiohttp runs each request in a task of its own,
        # to its last byte handed to the socket) and its connection
        self._sending: dict[asyncio.Task[object], asyncio.BaseTransport] = {}
        self._cut_tasks: set[asyncio.Task[object]] = set()  # cancelled by a stop: reset when done
        self.stopping = False

    def follow(self, request: web.Request, response: web.StreamResponse) -> None:
        if request.method not in READ_METHODS or response.content_type == "text/event-stream":
            return
        task, transport = asyncio.current_task(), request.transport
        if task is None or transport is None or task in self._sending:
            return
        self._sending[task] = transport
        task.add_done_callback(self._forget)
        if self.stopping:  # begun while the server stops (its lookup was under way): ended too
            asyncio.get_running_loop().call_soon(self._cut, task)

    def _forget(self, task: asyncio.Task[object]) -> None:
        transport = self._sending.pop(task, None)
        if transport is not None and task in self._cut_tasks:
            self._cut_tasks.discard(task)
            # A reset, not a close: a close sends what the kernel holds first (up to 4 MiB,
            # long for a slow phone) and ends as a whole answer would; the client is told at
            # once instead. Made once the task is done: aiohttp has closed the transport by
            # then (a close still to happen, which this makes a reset), and a reset under a
            # sendfile still awaiting the socket breaks asyncio's connection_lost (3.11:
            # InvalidStateError on its waiter), as server/live_streams.py's cut knows.
            reset_connection(transport)

    def _cut(self, task: asyncio.Task[object]) -> None:
        if task.done() or task not in self._sending:
            return
        # the cancel ends a handler awaiting the socket or a read of the file at once
        self._cut_tasks.add(task)
        task.cancel()

    def cut_all(self) -> int:
        self.stopping = True
        sending = list(self._sending)
        for task in sending:
            self._cut(task)
        return len(sending)


READ_STREAMS: web.AppKey[ReadStreams] = web.AppKey("read_streams", ReadStreams)


async def follow_reads(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: an answer to a read is under way (ReadStreams)."""
    request.app[READ_STREAMS].follow(request, response)


async def cut_reads(app: web.Application) -> None:
    """on_shutdown (the listeners closed, idle keep-alive connections closed by aiohttp's
    pre_shutdown): ends the answers to reads, so that the stop waits for writes alone."""
    cut = app[READ_STREAMS].cut_all()
    if cut:
        logger.info("Ended %d answer(s) being sent: the server stops", cut)


async def forget_built_handlers(_app: web.Application) -> None:
    """aiohttp keeps the middleware chains it builds in a process-wide cache (up to 1,024, keyed
    by handler and apps) that holds an ended app, and through it its Library with the engine and
    caches: a desktop that restarted its server or opened another library kept the old ones.
    Emptied as an app ends (other running apps only build their chains again)."""
    cache = getattr(web_app, "_cached_build_middleware", None)  # private: absent, nothing kept
    if cache is not None:
        cache.cache_clear()


def create_app(library: Library, *, config: ServerConfig) -> web.Application:
    """The API over one library; run it with an AppRunner (see server.entry)."""
    # continue_middleware last: the 100 goes out once the token is checked (server/expect.py)
    middlewares = [
        streams_middleware,
        error_middleware,
        cors_middleware,
        auth_middleware,
        continue_middleware,
    ]
    if config.accel_redirect:  # behind nginx: its check subrequests (server/nginx_conf.py)
        middlewares.insert(0, nginx_check_middleware)
    app = web.Application(middlewares=middlewares, client_max_size=CLIENT_MAX_SIZE)
    app[LIBRARY] = library
    app[CONFIG] = config
    app[THREADS] = Threads(config.executor_workers, long_calls=config.body_threads)
    app[AUTH] = Authenticator(library.tokens)
    app[METRICS] = Metrics()
    app[HUB] = EventHub()
    app[AUDIT] = AuditSink(library.audit)
    app[LIMITER] = RateLimiter(config.upload_rate_limit)
    app[FAILED_AUTH] = FailedAuthLimit(config.auth_failure_limit, config.auth_failure_window)
    app[RECORDS] = RecordCache()
    app[STREAMS] = ActiveStreams()
    app[READ_STREAMS] = ReadStreams()
    setup_routes(app, expect_handler=defer_continue)
    app.on_response_prepare.append(on_prepare)
    app.on_response_prepare.append(close_unless_continued)
    app.on_response_prepare.append(follow_reads)
    app.on_shutdown.append(close_hub)
    app.on_shutdown.append(cut_reads)
    app.on_cleanup.append(forget_built_handlers)
    app.cleanup_ctx.extend(
        [threads_ctx, audit_ctx, hub_ctx, maintenance_ctx, record_cache_ctx, auth_ctx]
    )
    app.cleanup_ctx.append(streams_ctx)  # ends streams of files trashed anywhere
    app.cleanup_ctx.append(usage_ctx)  # the periodic store listing behind /usage
    return app
