"""Typed application and request keys, and helpers to reach them from a handler."""

from __future__ import annotations

import asyncio
import contextvars
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, TypeVar

from aiohttp import web

if TYPE_CHECKING:
    from core.library import Library
    from core.tokens import TokenInfo
    from server.auditing import AuditSink
    from server.auth import Authenticator
    from server.config import ServerConfig
    from server.hub import EventHub
    from server.live_streams import ActiveStreams
    from server.metrics import Metrics
    from server.ratelimit import RateLimiter
    from server.record_cache import RecordCache

T = TypeVar("T")

LIBRARY: web.AppKey[Library] = web.AppKey("library")
CONFIG: web.AppKey[ServerConfig] = web.AppKey("config")
EXECUTOR: web.AppKey[ThreadPoolExecutor] = web.AppKey("executor")
AUTH: web.AppKey[Authenticator] = web.AppKey("auth")
METRICS: web.AppKey[Metrics] = web.AppKey("metrics")
HUB: web.AppKey[EventHub] = web.AppKey("hub")
AUDIT: web.AppKey[AuditSink] = web.AppKey("audit")
LIMITER: web.AppKey[RateLimiter] = web.AppKey("limiter")
RECORDS: web.AppKey[RecordCache] = web.AppKey("records")
STREAMS: web.AppKey[ActiveStreams] = web.AppKey("streams")

REQUEST_ID: web.RequestKey[str] = web.RequestKey("request_id")
STARTED: web.RequestKey[float] = web.RequestKey("started")
TOKEN: web.RequestKey[TokenInfo | None] = web.RequestKey("token")


def library(request: web.Request) -> Library:
    return request.app[LIBRARY]


async def run_blocking(request: web.Request, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Runs a blocking core call in the server's thread pool."""
    loop = asyncio.get_running_loop()
    call = functools.partial(fn, *args, **kwargs) if kwargs else functools.partial(fn, *args)
    # the request's context (its request id for the logs) goes with it into the thread
    context = contextvars.copy_context()
    return await loop.run_in_executor(request.app[EXECUTOR], context.run, call)


def remote_address(request: web.Request) -> str:
    """The client's address (the first X-Forwarded-For hop when the config trusts proxies)."""
    if request.app[CONFIG].trust_forwarded:
        forwarded = request.headers.get("X-Forwarded-For", "")
        if forwarded:
            return forwarded.split(",", 1)[0].strip()[:64]
    return (request.remote or "unknown")[:64]
