"""The aiohttp application: create_app wires the library, middlewares, routes and tasks."""

from __future__ import annotations

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
    ReadStreams,
    cut_reads,
    follow_reads,
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
    READ_STREAMS,
    RECORDS,
    REQUEST_ID,
    RESPONDING,
    SIGNED_PUTS,
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
    app[LIMITER] = RateLimiter(config.upload_rate_limit, setting=library.settings.upload_rate_limit)
    app[FAILED_AUTH] = FailedAuthLimit(config.auth_failure_limit, config.auth_failure_window)
    app[RECORDS] = RecordCache()
    app[STREAMS] = ActiveStreams()
    app[READ_STREAMS] = ReadStreams()
    app[SIGNED_PUTS] = {}
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
