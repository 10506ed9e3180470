"""The API's routes, one module per area; `setup_routes` adds them all."""

from __future__ import annotations

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


def setup_routes(app: web.Application) -> None:
    for module in MODULES:
        app.router.add_routes(module.routes)
