"""What clients need before they upload: GET /config, the JS module and its demo page."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from core import mediatypes
from core.errors import InvalidInput
from core.library import Library
from core.records import MAX_LIMIT
from core.settings import MAX_EXPIRY, MIN_EXPIRY, PRESIGN_THRESHOLD, Settings
from server.auth import PUBLIC, requires
from server.openapi import version
from server.params import MAX_FORM
from server.state import LIMITER, library
from server.static_files import static_page, static_response

routes = web.RouteTableDef()

# Routes of the resumable-upload endpoints; /config advertises the ones this server has
# (`parts` only where presigned uploads in parts work: see _presigned_parts).
RESUMABLE_ROUTES = {
    "tus": "/files/upload/tus",
    "parts": "/files/{file_id}/upload/parts",
    "renew": "/files/{file_id}/upload/renew",
}


def allowed_types(settings: Settings) -> dict[str, list[str]]:
    """Canonical MIME types accepted per kind, as core checks an upload against them
    (Settings.allowed_types): an empty setting is none accepted. /config listed every known
    type for it, and clients sent files the server then refused."""
    return {
        kind: list(settings.allowed_types(kind))
        for kind in (mediatypes.FileKind.IMAGE, mediatypes.FileKind.VIDEO)
    }


def _route_paths(app: web.Application) -> set[str]:
    return {
        info.get("formatter") or info.get("path", "")
        for info in (r.get_info() for r in app.router.resources())
    }


def _presigned_parts(lib: Library) -> bool:
    """Whether a presign may ask for an upload in parts (multipart=true): the presign's own
    check, which needs a store that takes parts and signs their PUTs (R2/S3, not local)."""
    try:
        return lib.resumable.wants_multipart(1, True)
    except InvalidInput:
        return False


def _upload_rate_limit(app: web.Application, lib: Library) -> int:
    """The limit uploads meet now (a change of the setting is followed: server/ratelimit.py)."""
    limiter = app[LIMITER]
    limiter.follow(lib.settings.upload_rate_limit)
    return limiter.per_minute


def client_config(app: web.Application, lib: Library) -> dict[str, Any]:
    settings = lib.settings
    paths = _route_paths(app)
    allowed = allowed_types(settings)
    resumable = {name: path in paths for name, path in RESUMABLE_ROUTES.items()}
    resumable["parts"] = resumable["parts"] and _presigned_parts(lib)
    return {
        "version": version(),
        "storage": "r2" if settings.uses_r2 else "local",
        "max_file_size": settings.max_file_size,
        "max_form_size": MAX_FORM,
        "presign_threshold": PRESIGN_THRESHOLD,
        "presigned_url_expiry": settings.presigned_url_expiry,
        "expires_in": {"minimum": MIN_EXPIRY, "maximum": MAX_EXPIRY},
        "list_limit_max": MAX_LIMIT,
        "upload_rate_limit": _upload_rate_limit(app, lib),
        "sniff_bytes": mediatypes.SNIFF_BYTES,
        "allowed_types": allowed,
        "extensions": {
            t.mime: mediatypes.extensions_of(t.mime)
            for t in mediatypes.ALL_TYPES
            if t.mime in allowed[t.kind]
        },
        "aliases": dict(mediatypes.ALIASES),
        "resumable": {
            **resumable,
            "multipart_threshold": settings.multipart_threshold,
            "part_size": getattr(settings, "upload_part_size", settings.multipart_chunk_size),
        },
    }


@routes.get("/config")
@requires(PUBLIC)
async def get_config(request: web.Request) -> web.Response:
    body = client_config(request.app, library(request))
    return web.json_response(body, headers={"Cache-Control": "no-cache"})


@routes.get("/static/mediadesk.js")
@requires(PUBLIC)
async def get_js_module(request: web.Request) -> web.Response:
    # Loaded by pages of other origins as <script type="module">: the CORS middleware adds
    # Access-Control-Allow-Origin for the configured origins, which module scripts require.
    return static_response("mediadesk.js", "text/javascript", "no-cache")


@routes.get("/upload-demo")
@requires(PUBLIC)
async def get_upload_demo(request: web.Request) -> web.Response:
    # its own <style> sizes the controls for a finger on a phone
    return static_page(
        "upload-demo.html",
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
        "connect-src *; img-src 'self' data: blob:; media-src *",
    )
