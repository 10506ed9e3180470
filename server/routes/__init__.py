"""The API's routes, one module per area; `setup_routes` adds them all."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import ModuleType

from aiohttp import web

from server.routes import (
    athletes,
    audit,
    config,
    events,
    files,
    hls,
    jobs,
    meta,
    signed,
    stream,
    tus,
    uploads,
    usage,
    watch,
)

# Every route table (server.openapi reads them to check and complete the document).
MODULES: tuple[ModuleType, ...] = (
    uploads,
    tus,
    files,
    stream,
    signed,
    athletes,
    events,
    audit,
    meta,
    config,
)
MODULES += (hls, jobs, watch)  # the video pipeline (issue 10)
MODULES += (usage,)  # storage usage (issue 13)

_ExpectHandler = Callable[[web.Request], Awaitable[web.StreamResponse | None]]


def setup_routes(app: web.Application, *, expect_handler: _ExpectHandler) -> None:
    """Adds every route, each with `expect_handler` for its `Expect` header (server/expect.py)."""
    for module in MODULES:
        for route in module.routes:
            assert isinstance(route, web.RouteDef), route
            kwargs = {**route.kwargs, "expect_handler": expect_handler}
            app.router.add_routes([web.RouteDef(route.method, route.path, route.handler, kwargs)])
