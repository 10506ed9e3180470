"""The protocol edge: requests aiohttp's parser refuses get our JSON error, not plain text.

aiohttp answers a request it cannot parse (a header line over 8 KB, too many headers, a broken
request line) before any middleware runs, with a plain-text 400, and logs a traceback for each.
It has no hook for that answer, so this module overrides the one method that makes it,
`RequestHandler.handle_error`, and installs the subclass through the runner. Only parser
errors are changed; everything else still goes to aiohttp's own handling.

The same handler puts a deadline on a request's head (request line and headers), which aiohttp
lacks: each connection costs a file descriptor, and a few hundred clients sending a request
line byte by byte (or half of one, then nothing) would otherwise hold them all and lock every
other client out. Like Go's ReadHeaderTimeout: a new connection has HEAD_TIMEOUT seconds to
send its first head; on a kept-alive connection the clock starts at the next request's first
byte, so idle keep-alive is left to aiohttp's keepalive_timeout. Bodies are not timed here
(slow phone uploads are legitimate; server/rawbody.py has their idle timeout).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import EMPTY_PAYLOAD
from aiohttp.web_protocol import RequestHandler, _ErrInfo

from core.records import MAX_DESCRIPTION
from core.settings import HEADER_TIMEOUT
from server.errors import error_response, new_request_id

logger = logging.getLogger(__name__)

MAX_FIELD_SIZE = 8190  # one header line (but LONG_FIELDS) and the request line

# tus carries a file's description in Upload-Metadata, base64: MAX_DESCRIPTION characters of
# UTF-8 (4 bytes each at most) are 53,336 bytes of it, and the other keys may take what any
# header may. aiohttp's limit is one for every header, so the parser is given this one and
# every other header is held to MAX_FIELD_SIZE here (JsonErrorRequestHandler._check_heads).
MAX_METADATA_SIZE = 4 * -(-4 * MAX_DESCRIPTION // 3) + MAX_FIELD_SIZE
LONG_FIELDS = frozenset({b"upload-metadata"})
# A whole head, complete or not: the parser alone would hold 128 headers of MAX_METADATA_SIZE.
MAX_HEAD_SIZE = 128 * 1024

HEADER_TOO_LARGE = 431  # RFC 6585 "Request Header Fields Too Large"

# seconds for a complete request head (MEDIADESK_HEADER_TIMEOUT, ServerConfig.header_timeout)
HEAD_TIMEOUT = float(HEADER_TIMEOUT)


def _too_large(exc: HttpProcessingError) -> bool:
    return isinstance(exc, LineTooLong) or "too many headers" in str(exc).lower()


class JsonErrorRequestHandler(RequestHandler):
    """Parser errors answered as `{"error": {...}}` with one warning line, no traceback; a
    connection that does not send a complete request head in time is closed."""

    def __init__(self, *args: Any, head_timeout: float = HEAD_TIMEOUT, **kwargs: Any) -> None:
        super().__init__(*args, **{**kwargs, "max_field_size": MAX_METADATA_SIZE})
        self._head_timeout = head_timeout
        self._head_handle: asyncio.TimerHandle | None = None
        self._in_request = False  # a head was parsed and its request is not answered yet
        self._head_bytes = 0  # received of a head not complete yet
        self._refused = False  # a head too large was answered: the rest is not read

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_head_deadline()  # a connection that never sends a byte is timed as well

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        heads = self._request_count
        super().data_received(data)
        if self._request_count != heads:  # a head (or a parse error) came in whole
            self._in_request = True
            self._head_bytes = 0
            self._disarm_head_deadline()
            self._check_heads(self._request_count - heads)
        elif data and not self._in_request and not self._messages:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_SIZE:
                self._refuse(LineTooLong(b"", MAX_HEAD_SIZE))
            else:
                self._arm_head_deadline()  # the first bytes of the next request on this connection

    def _check_heads(self, count: int) -> None:
        """The limits the parser (given MAX_METADATA_SIZE for every header) does not keep:
        a parsed head is answered 431 as the parser would have."""
        for i in range(len(self._messages) - count, len(self._messages)):
            message = self._messages[i][0]
            if not isinstance(message, RawRequestMessage):
                continue
            total = 0
            for name, value in message.raw_headers:
                size = len(name) + len(value)
                total += size
                if size > MAX_FIELD_SIZE and name.lower() not in LONG_FIELDS:
                    exc = LineTooLong(name, MAX_FIELD_SIZE)
                    break
            else:
                if total <= MAX_HEAD_SIZE:
                    continue
                exc = LineTooLong(b"", MAX_HEAD_SIZE)
            self._messages[i] = (_ErrInfo(status=400, exc=exc, message=exc.message), EMPTY_PAYLOAD)

    def _refuse(self, exc: HttpProcessingError) -> None:
        """Answers a head still coming in as a parser error; the rest is never read."""
        self._refused = True
        self._in_request = True
        self._disarm_head_deadline()
        self._messages.append((_ErrInfo(status=400, exc=exc, message=exc.message), EMPTY_PAYLOAD))
        self._request_count += 1
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _handle_request(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return await super()._handle_request(*args, **kwargs)
        finally:
            # a pipelined request already parsed is still "in request": its body may be slow
            self._in_request = bool(self._messages)

    def _arm_head_deadline(self) -> None:
        if self._head_handle is not None or self._head_timeout <= 0 or self._upgraded:
            return
        self._head_handle = self._loop.call_later(self._head_timeout, self._head_expired)

    def _disarm_head_deadline(self) -> None:
        if self._head_handle is not None:
            self._head_handle.cancel()
            self._head_handle = None

    def _head_expired(self) -> None:
        self._head_handle = None
        if self._in_request or self._messages or self.transport is None:
            return
        # debug only: this is what an attack looks like, one line each would flood the log
        logger.debug(
            "Closed a connection from %s: no complete request head within %s s",
            self.peername,
            self._head_timeout,
        )
        self.force_close()  # closes the transport too

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
                f"A request header or the request line is longer than {MAX_FIELD_SIZE} bytes "
                f"(Upload-Metadata: {MAX_METADATA_SIZE}), the headers take more than "
                f"{MAX_HEAD_SIZE} bytes, or the request has too many headers"
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
    head_timeout = HEAD_TIMEOUT  # set per server by ApiRunner

    def __call__(self) -> RequestHandler:
        return JsonErrorRequestHandler(
            self, loop=self._loop, head_timeout=self.head_timeout, **self._kwargs
        )


class ApiRunner(web.AppRunner):
    """web.AppRunner whose connections use JsonErrorRequestHandler."""

    def __init__(self, app: web.Application, *, head_timeout: float = HEAD_TIMEOUT, **kw: Any):
        super().__init__(app, **kw)
        self._head_timeout = head_timeout

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # Application._make_handler builds a plain Server with private state; its class is
        # swapped rather than the construction copied (ApiServer adds one plain attribute).
        server.__class__ = ApiServer
        server.head_timeout = self._head_timeout  # type: ignore[attr-defined]
        return server
