"""The files of server/static/ (pages, scripts) and the answers that send them."""

from __future__ import annotations

from collections.abc import Mapping
from importlib import resources

from aiohttp import web


def static_file(name: str) -> bytes:
    return resources.files("server").joinpath(f"static/{name}").read_bytes()


def static_response(
    name: str, content_type: str, cache_control: str, headers: Mapping[str, str] | None = None
) -> web.Response:
    """A UTF-8 file of server/static/ as the answer, with its caching and any other headers."""
    return web.Response(
        body=static_file(name),
        content_type=content_type,
        charset="utf-8",
        headers={**(headers or {}), "Cache-Control": cache_control},
    )


def static_page(name: str, csp: str) -> web.Response:
    """An HTML page of server/static/, revalidated on each load, under its own
    Content-Security-Policy (each page allows only what its scripts need), never framed by
    another site: /docs and /upload-demo, framed by any origin, could be clicked through
    (a token typed, a file chosen) under a page of the framer's. Only the watch page is
    made to be embedded (server/watch_page.py: frame-ancestors *)."""
    headers = {
        "Content-Security-Policy": f"{csp}; frame-ancestors 'none'",
        "X-Frame-Options": "DENY",  # browsers that predate frame-ancestors
    }
    return static_response(name, "text/html", "no-cache", headers)
