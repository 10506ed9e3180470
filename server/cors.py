"""CORS for the configured origins: preflight answers and headers on every response."""

from __future__ import annotations

from aiohttp import web
from aiohttp.typedefs import Handler

from core.settings import origin_key
from server.errors import error_response
from server.state import CONFIG, REQUEST_ID

ALLOW_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOW_HEADERS = (
    "authorization",
    "content-type",
    "range",
    "if-range",
    "if-none-match",
    "if-modified-since",
    "if-match",
    "x-request-id",
    "last-event-id",
    "cache-control",
    # tus 1.0.0 (server/routes/tus.py)
    "tus-resumable",
    "upload-length",
    "upload-offset",
    "upload-metadata",
    "upload-checksum",
    "upload-concat",
    "upload-defer-length",
    "x-http-method-override",
)
EXPOSE_HEADERS = (
    "Content-Range, Accept-Ranges, ETag, Content-Length, Content-Disposition, "
    "Location, Retry-After, X-Request-ID, Last-Modified, "
    "Upload-Offset, Upload-Length, Upload-Expires, Upload-Metadata, Tus-Resumable, "
    "Tus-Version, Tus-Max-Size, Tus-Extension, Tus-Checksum-Algorithm, MediaDesk-File-Id, "
    "MediaDesk-Duplicate, X-MediaDesk-Rendition, X-MediaDesk-Width, Content-Location, "
    "WWW-Authenticate, Allow, X-Accel-Buffering"
)
MAX_AGE = "600"


def allowed_origin(request: web.Request) -> str | None:
    """The value for Access-Control-Allow-Origin, or None when the origin is not allowed."""
    return _allowed(request.app[CONFIG].cors_origins, request.headers.get("Origin"))


def _allowed(origins: tuple[str, ...], origin: str | None) -> str | None:
    if not origin:
        return None
    # as browsers write an Origin (core.settings.origin_key): a configured https://Club.Example
    # or https://club.example:443 never matched the https://club.example a browser sends
    key = origin_key(origin)
    if key is not None and key in {origin_key(o) for o in origins if o != "*"}:
        return origin  # the browser's own spelling: it compares the answer with it
    if "*" in origins:
        return origin  # echo it (not "*") so that requests with Authorization work too
    return None


def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
    apply_cors_headers(request.app[CONFIG].cors_origins, request.headers.get("Origin"), response)


def apply_cors_headers(
    origins: tuple[str, ...], origin: str | None, response: web.StreamResponse
) -> None:
    """The CORS headers of an answer to a request from `origin` (its Origin header, if any);
    also for the answers server/protocol.py writes before any middleware or signal runs."""
    if not origins:
        return  # no answer ever names an origin: none differs by it
    # Every answer, with an allowed Origin, another one or none (and 304s, errors): the copy
    # a shared cache keeps from a request without ACAO must not be served to an allowed page.
    _vary_on_origin(response)
    allowed = _allowed(origins, origin)
    if allowed is None:
        return
    response.headers["Access-Control-Allow-Origin"] = allowed
    response.headers["Access-Control-Expose-Headers"] = EXPOSE_HEADERS


def _vary_on_origin(response: web.StreamResponse) -> None:
    """Adds Origin to the answer's Vary, once, next to what it already names."""
    named = [v.strip() for v in ",".join(response.headers.getall("Vary", [])).split(",")]
    named = [v for v in named if v]
    if "*" in named or "origin" in (v.lower() for v in named):
        return  # "*" already varies on everything
    response.headers["Vary"] = ", ".join([*named, "Origin"])


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answers preflight requests before routing, authentication or rate limiting."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return await handler(request)
    origin = allowed_origin(request)
    if origin is None:
        return error_response(
            403,
            "cors_forbidden",
            "This origin is not in the allowed CORS origins",
            request.get(REQUEST_ID, ""),
        )
    wanted = request.headers.get("Access-Control-Request-Headers", "")
    asked = [h.strip().lower() for h in wanted.split(",") if h.strip()]
    headers = [h for h in asked if h in ALLOW_HEADERS] or list(ALLOW_HEADERS)
    response = web.Response(
        status=204,
        headers={
            "Access-Control-Allow-Methods": ALLOW_METHODS,
            "Access-Control-Allow-Headers": ", ".join(headers),
            "Access-Control-Max-Age": MAX_AGE,
        },
    )
    return response
