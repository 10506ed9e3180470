"""The protocol edge: requests aiohttp's parser refuses get our JSON error, not plain text.

aiohttp answers a request it cannot parse (a header line over 8 KB, too many headers, a broken
request line) before any middleware runs, with a plain-text 400, and logs a traceback for each.
It has no hook for that answer, so this module overrides the one method that makes it,
`RequestHandler.handle_error`, and installs the subclass through the runner. Only parser
errors are changed; everything else still goes to aiohttp's own handling.
"""

from __future__ import annotations

import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.web_protocol import RequestHandler

from server.errors import error_response, new_request_id

logger = logging.getLogger(__name__)

MAX_FIELD_SIZE = 8190  # aiohttp's limit for one header line and for the request line

HEADER_TOO_LARGE = 431  # RFC 6585 "Request Header Fields Too Large"


def _too_large(exc: HttpProcessingError) -> bool:
    return isinstance(exc, LineTooLong) or "too many headers" in str(exc).lower()


class JsonErrorRequestHandler(RequestHandler):
    """Parser errors answered as `{"error": {...}}` with one warning line, no traceback."""

    def handle_error(
        self,
        request: Any,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if not isinstance(exc, HttpProcessingError) or request.writer.output_size > 0:
            return super().handle_error(request, status, exc, message)
        rid = new_request_id()
        if _too_large(exc):
            status, code = HEADER_TOO_LARGE, "header_too_large"
            text = (
                f"A request header or the request line is longer than {MAX_FIELD_SIZE} bytes, "
                "or the request has too many headers"
            )
        else:
            status, code, text = 400, "bad_request", "The request could not be parsed"
        # Never the header's text: it may be a token.
        logger.warning(
            "Refused a request from %s [%s]: %s (%s)",
            request.remote,
            rid,
            code,
            type(exc).__name__,
        )
        response = error_response(status, code, text, rid, headers={"X-Request-ID": rid})
        response.force_close()
        return response


class ApiServer(web.Server):
    def __call__(self) -> RequestHandler:
        return JsonErrorRequestHandler(self, loop=self._loop, **self._kwargs)


class ApiRunner(web.AppRunner):
    """web.AppRunner whose connections use JsonErrorRequestHandler."""

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # Application._make_handler builds a plain Server with private state; its class is
        # swapped rather than the construction copied (ApiServer adds no state).
        server.__class__ = ApiServer
        return server
