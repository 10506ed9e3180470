"""`Expect: 100-continue`: the 100 goes out only once the request would be read.

aiohttp's own expect handler answers 100 before any middleware runs, so a client was told to
send a body the server then refused (401/403/413): curl sends large uploads this way. Every
route gets `defer_continue` instead, and `continue_middleware`, the innermost, sends the 100
after auth_middleware has checked the token (and counted a failure) and once the declared size
passes and the upload routes' own checks of their headers (server/routes/signed.py check_put,
server/routes/tus.py check_creation and patch_checked) pass; a refusal is the house JSON error,
with `Connection: close`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager

from aiohttp import hdrs, web
from aiohttp.http import HttpVersion11
from aiohttp.typedefs import Handler

from core.spool import too_large
from server.auth import SIGNED, scope_of
from server.receive import form_too_long
from server.routes import signed, tus, uploads
from server.state import library, run_blocking

# set once the 100 is sent: the body is the handler's to read (or aiohttp's to drain)
CONTINUED: web.RequestKey[bool] = web.RequestKey("continued")


def _expects_continue(request: web.BaseRequest) -> bool:
    return (
        request.version == HttpVersion11
        and request.headers.get(hdrs.EXPECT, "").lower() == "100-continue"
    )


async def defer_continue(request: web.Request) -> None:
    """Every route's expect handler: other expectations are refused as aiohttp refuses them;
    100-continue is continue_middleware's to answer."""
    expect = request.headers.get(hdrs.EXPECT, "")
    if request.version == HttpVersion11 and expect.lower() != "100-continue":
        raise web.HTTPExpectationFailed(text=f"Unknown Expect: {expect}")


@contextlib.asynccontextmanager
async def _put_checked(request: web.Request) -> AsyncIterator[None]:
    request[signed.CHECKED] = await signed.check_put(request)
    yield


@contextlib.asynccontextmanager
async def _creation_checked(request: web.Request) -> AsyncIterator[None]:
    tus.check_creation(request)
    yield


# The upload routes' checks of a request's headers, held (a tus PATCH's writer) until the
# route runs; each route makes them again or takes what they hold: one home for each rule.
_ROUTE_CHECKS: dict[object, Callable[[web.Request], AbstractAsyncContextManager[None]]] = {
    signed.signed_put: _put_checked,
    tus.tus_create: _creation_checked,
    tus.tus_patch: tus.patch_checked,
}


async def _check_before_body(request: web.Request) -> None:
    max_size = library(request).settings.max_file_size
    match = request.match_info
    # no route takes more than a file of MAX_FILE_SIZE in the direct upload's form; each route
    # still checks its own, narrower limit once it runs. The routes with checks of their own
    # make them below, before the 100: a signed PUT far past the limit refused here was never
    # noted on its pending file, so its confirm answered 400 upload_not_received, not 413
    if match.handler is uploads.direct_upload:
        uploads.refuse_unread(request, max_size)  # logged and counted as the route does
    elif match.handler not in _ROUTE_CHECKS and form_too_long(request, max_size):
        raise too_large(max_size)
    if scope_of(match.handler) == SIGNED and "key" in match and match.handler not in _ROUTE_CHECKS:
        # the signature is a signed URL's credential, as the token is the other routes' (the
        # signed PUT's own checks verify it first)
        await run_blocking(
            request, library(request).verify_signed_url, request.method, match["key"], request.query
        )


@web.middleware
async def continue_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Innermost: answers the expectation once the request passed every check made before
    its body (auth_middleware's token and scope, the declared size, a signature, the route's
    own checks of its headers)."""
    if not _expects_continue(request):
        return await handler(request)
    await _check_before_body(request)
    route_checks = _ROUTE_CHECKS.get(request.match_info.handler)
    async with contextlib.AsyncExitStack() as held:
        if route_checks is not None:
            await held.enter_async_context(route_checks(request))
        await request.writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.writer.output_size = 0  # as aiohttp's: the 100 is not the answer's size
        request[CONTINUED] = True
        return await handler(request)


async def close_unless_continued(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """on_response_prepare: an answer sent before the 100 says the connection ends, so the
    client knows the body it held back is not awaited (RFC 9110 10.1.1)."""
    if _expects_continue(request) and not request.get(CONTINUED):
        response.force_close()
