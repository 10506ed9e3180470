"""The API's routes, one module per area; `setup_routes` adds them all."""

from __future__ import annotations

from aiohttp import web

from server.routes import athletes, audit, events, files, meta, signed, stream, uploads


def setup_routes(app: web.Application) -> None:
    for module in (uploads, files, stream, signed, athletes, events, audit, meta):
        app.router.add_routes(module.routes)
