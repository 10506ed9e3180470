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
byte (or, for a head begun while the request before it was answered, pipelined in the same
packet, when that answer is done), so idle keep-alive is left to aiohttp's keepalive_timeout.
Bodies are not timed here (slow phone uploads are legitimate; each has an idle timeout,
rawbody.IDLE_TIMEOUT: server/rawbody.py and server/bodystream.py idle_timed).

MAX_HEAD_SIZE bounds every byte a connection holds that is not a body: a head still coming in
between requests, and as well one pipelined behind a request still being answered (an event
stream never ends, and aiohttp's parser would hold 128 headers of MAX_METADATA_SIZE for it).
The trailer section of a chunked body is held to MAX_FIELD_SIZE, as one header line.

An answer given before its request's body was read (a 413 on Content-Length, a 401, a 409 at a
wrong tus offset: server/errors.py `_finish` says `Connection: close` on those) ends with a
lingering close, as nginx does: the write side is shut after the answer (the client reads its
end), then what the client still sends is read and dropped until it closes, goes quiet for
LINGER_IDLE seconds, or LINGER_TOTAL seconds have passed, and only then is the socket closed.
Closing it at once with the body's bytes unread resets the connection, and a client that
sends its whole body before reading (http.client, many simple clients) got a reset instead of
the answer; aiohttp's own lingering read the body into the parser for 10 s, then reset it.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import HttpVersion11, web
from aiohttp.http_exceptions import HttpProcessingError, LineTooLong
from aiohttp.http_parser import RawRequestMessage
from aiohttp.streams import EMPTY_PAYLOAD, StreamReader
from aiohttp.web_protocol import RequestHandler, _ErrInfo

from core.records import MAX_DESCRIPTION
from core.settings import HEADER_TIMEOUT
from server.access_log import EscapedAccessLogger
from server.cors import apply_cors_headers
from server.errors import error_response, new_request_id
from server.state import CONFIG

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

# Where a chunked body may end (and in a head, which a chunked body may follow in the same
# read), the parser is fed this many bytes at a time, so that the bytes after the body's last
# byte (the last chunk's line and the trailers) are counted to within a slice: in a whole
# socket read they could be 256 KiB, with the body's end anywhere in it.
CHUNKED_SLICE = 1024

# seconds for a complete request head (MEDIADESK_HEADER_TIMEOUT, ServerConfig.header_timeout)
HEAD_TIMEOUT = float(HEADER_TIMEOUT)

# A lingering close (see above) ends after LINGER_TOTAL seconds, or LINGER_IDLE seconds without
# a byte: nginx's lingering_time and lingering_timeout. Long enough for a client on a LAN to
# send a few hundred MB more; short enough that a refused client holds its descriptor a
# bounded time (a server shutdown closes lingering connections at once).
LINGER_TOTAL = 30.0
LINGER_IDLE = 5.0


def _too_large(exc: HttpProcessingError) -> bool:
    return isinstance(exc, LineTooLong) or "too many headers" in str(exc).lower()


class TrailersTooLarge(LineTooLong):
    """Raised to the reader of a chunked body whose trailers pass MAX_FIELD_SIZE; the error
    middleware answers an HttpProcessingError with its code: 431 header_too_large."""

    code = HEADER_TOO_LARGE


def _after_last_message(data: bytes, last: Any) -> int:
    """How many bytes of `data`, the read in which the head of `last` (the last message
    parsed, with its body if it has one) ended, come after that message: the start of a next
    head. llhttp keeps a partial head to itself, so it is found here.

    The message's head ends at a blank line, and what follows the message holds none (else it
    would be a message too). A Content-Length body that ended in the same read is its last
    bytes but for those: the blank line is looked for before it, so a body's own bytes never
    count (an idle kept-alive connection keeps keepalive_timeout); a chunked one ends with the
    last chunk's blank line. When bytes do follow a body, blank lines in it may make this
    count fewer of them: never more.
    """
    length = 0
    if last is not None:
        message, payload = last
        if isinstance(message, RawRequestMessage) and payload is not EMPTY_PAYLOAD:
            value = "" if message.chunked else message.headers.get("Content-Length", "")
            length = int(value) if value.isdigit() else 0
    end = len(data) - length
    if end <= 0:
        return 0
    crlf, lf = data.rfind(b"\n\r\n", 0, end), data.rfind(b"\n\n", 0, end)
    if crlf < 0 and lf < 0:
        return 0
    return end - max(crlf + 3 if crlf >= 0 else 0, lf + 2 if lf >= 0 else 0)


class JsonErrorRequestHandler(RequestHandler):
    """Parser errors answered as `{"error": {...}}` with one warning line, no traceback; a
    connection that does not send a complete request head in time is closed."""

    def __init__(
        self,
        *args: Any,
        head_timeout: float = HEAD_TIMEOUT,
        cors_origins: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **{**kwargs, "max_field_size": MAX_METADATA_SIZE})
        self._head_timeout = head_timeout
        self._cors_origins = cors_origins
        # the Origin of a head parsed whole but refused here (_check_heads), by its error: the
        # request handle_error answers is aiohttp's stand-in, without the client's headers
        self._refused_origins: dict[BaseException, str] = {}
        self._head_handle: asyncio.TimerHandle | None = None
        self._in_request = False  # a head was parsed and its request is not answered yet
        self._head_bytes = 0  # received of a head not complete yet
        self._refused = False  # a head too large was answered: the rest is not read
        self._body: StreamReader | None = None  # the body the parser is filling, if any
        self._chunked = False  # that body is chunked
        self._sized = 0  # else its Content-Length
        self._framing = 0  # bytes of a chunked body since its last body byte (and its slice)
        self._held = 0  # bytes of the body's connection the parser kept back, not counted yet
        # the rest of a read not fed while the body's reader was full, and where it starts in
        # it (after the byte before it, which the slicing looks at)
        self._pending = b""
        self._pending_at = 0
        # a lingering close: (when it ends at the latest, when its last byte came), its timer
        self._linger: tuple[float, float] | None = None
        self._linger_handle: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self._arm_head_deadline()  # a connection that never sends a byte is timed as well

    def connection_lost(self, exc: BaseException | None) -> None:
        self._disarm_head_deadline()
        if self._linger_handle is not None:
            self._linger_handle.cancel()
            self._linger_handle = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._linger is not None:
            # dropped, counted nowhere; only the time of the last byte matters
            self._linger = (self._linger[0], self._loop.time())
            return
        start = 0
        if self._pending and self._reading_paused:
            self._pending += data  # a transport that hands over a read while paused
            return
        if self._pending:
            # reading resumed (data is b""): what the parser kept back of the last slice is
            # parsed first, then the rest of that read is sliced as it would have been
            data, start = self._pending + data, self._pending_at
            self._pending, self._pending_at = b"", 0
            self._received(b"")
        elif len(data) <= CHUNKED_SLICE:
            self._received(data)
            return
        view = memoryview(data)
        while start < len(data) and not (self._refused or self._close or self._force_close):
            if self._reading_paused and not self._upgraded:  # resumed by data_received(b"")
                # The body's reader is full: the parser keeps back the rest of its slice, and
                # would add every later slice to it, to be parsed in one piece on resuming,
                # body, last chunk and trailers together. The rest waits here instead.
                self._pending_at = 1 if start else 0
                self._pending = data[start - self._pending_at :]
                return
            end = start + CHUNKED_SLICE
            if self._body is not None and not self._chunked:
                end = start + max(self._sized - self._body.total_bytes, CHUNKED_SLICE)
            elif self._body is not None and start:
                # the last chunk's line ("0" at a line's start) begins after the next "\n0"
                # at the earliest: what comes before it is body and chunk lines, one piece
                last = data.find(b"\n0", start - 1)
                end = len(data) if last < 0 else max(last + 1, end)
            self._received(data if start == 0 and end >= len(data) else bytes(view[start:end]))
            start = end

    def _received(self, data: bytes) -> None:
        if self._refused:
            return
        heads = self._request_count
        body = self._body
        fed = body.total_bytes if body is not None else 0
        super().data_received(data)
        if self._request_count != heads:  # a head (or a parse error) came in whole
            self._in_request = True
            self._disarm_head_deadline()
            self._follow_body()  # before _check_heads: a refused head's body still comes
            # the start of a next head sent in the same read (pipelined, then quiet): its
            # clock starts once the request before it is answered (_handle_request)
            self._head_bytes = (
                0
                if self._body is not None
                else _after_last_message(data, self._messages[-1] if self._messages else None)
            )
            self._check_heads(self._request_count - heads)
            return
        if self._upgraded or not (data or self._held):
            return
        if body is None:
            rest = len(data)
        else:
            # what did not go into the body: framing and trailers, or the next request's head;
            # while the body's reader is full, the parser keeps back the rest (it is parsed
            # again when reading resumes), so nothing is counted then
            moved = body.total_bytes - fed
            rest, self._held = max(len(data) + self._held - moved, 0), 0
            if self._reading_paused:
                self._held = rest
                return
        if body is not None and self._chunked:
            # A slice (or what the parser kept back of one) that moved body bytes either holds
            # no line starting with "0" (no last chunk yet: the bytes after its last body byte
            # are at most the next chunk's line), or is one of CHUNKED_SLICE bytes: its bytes
            # past the body's end are at most that. All its other bytes are the lines and
            # CRLFs of the chunks before, which are no trailers.
            self._framing = self._framing + rest if moved == 0 else min(rest, CHUNKED_SLICE)
            if self._framing > MAX_FIELD_SIZE:
                self._refuse_trailers(body)
                return
        if body is not None:
            if not body.is_eof():
                return  # bytes of the body (aiohttp's flow control bounds those)
            self._body = None  # what came after the body's end counts toward the next head
        self._head_bytes += rest
        if self._head_bytes <= MAX_HEAD_SIZE:
            if not self._in_request and not self._messages:
                self._arm_head_deadline()  # the first bytes of the next request
        elif self._in_request:
            # Pipelined behind a request still being answered: a 431 could only follow that
            # answer, which may never end (an event stream), so the connection ends now.
            logger.debug(
                "Closed a connection from %s: a pipelined request head over %s bytes",
                self.peername,
                MAX_HEAD_SIZE,
            )
            self.force_close()
        else:
            self._refuse(LineTooLong(b"", MAX_HEAD_SIZE))

    def _follow_body(self) -> None:
        """Notes the body of the last request parsed, when the parser is still filling it."""
        self._body, self._chunked, self._framing, self._held = None, False, 0, 0
        if not self._messages:
            return
        message, payload = self._messages[-1]
        if isinstance(message, RawRequestMessage) and isinstance(payload, StreamReader):
            if payload.is_eof():
                return
            self._body = payload
            self._chunked = bool(message.chunked)
            length = "" if self._chunked else message.headers.get("Content-Length", "")
            self._sized = int(length) if length.isdigit() else 0

    def _refuse_trailers(self, body: StreamReader) -> None:
        """The body's reader gets the error (its handler answers 431), and the connection
        closes after that answer; the rest is never read."""
        self._refused = True
        self._body = None
        body.set_exception(TrailersTooLarge(b"trailers", MAX_FIELD_SIZE))
        body.feed_eof()  # ended: aiohttp does not linger over the rest after the answer
        self.close()

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
            origin = message.headers.get("Origin")
            if origin:
                self._refused_origins[exc] = origin
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
            if not self._in_request and self._head_bytes:
                # the next head began while this request was answered (or in its last read),
                # and its clock was held while this one ran: it starts now
                self._arm_head_deadline()

    async def finish_response(self, request: Any, resp: Any, start_time: float | None) -> Any:
        resp, reset = await super().finish_response(request, resp, start_time)
        if not reset and resp.keep_alive is False and not request.content.is_eof():
            self._start_linger()
        return resp, reset

    def _start_linger(self) -> None:
        """The answer was written and its request's body is still coming: the write side is
        shut after the answer, the rest is dropped until the client is done (see above)."""
        transport = self.transport
        if transport is None or transport.is_closing() or self._force_close or self._upgraded:
            return
        # Set without force_close(), which would close the transport: aiohttp's start() then
        # neither lingers itself (reading the body into the parser) nor closes the transport,
        # and its data_received, shutdown and keep-alive timer see a connection that is ending.
        self._force_close = True
        self._disarm_head_deadline()
        self._pending, self._pending_at = b"", 0
        now = self._loop.time()
        self._linger = (now + LINGER_TOTAL, now)
        if transport.can_write_eof():  # TLS cannot half-close: its answer ends at its length
            try:
                transport.write_eof()  # after what is still buffered of the answer
            except OSError:  # the client is gone already
                self.force_close()
                return
        # the body's reader was full (nobody reads it): the transport may be paused; aiohttp's
        # flow control never touches it again (nothing reaches its parser now)
        transport.resume_reading()
        self._linger_handle = self._loop.call_at(now + LINGER_IDLE, self._linger_check)

    def _linger_check(self) -> None:
        self._linger_handle = None
        if self._linger is None or self.transport is None:
            return
        end, last = self._linger
        due = min(end, last + LINGER_IDLE)
        if self._loop.time() < due:  # a byte came since: one timer, moved only when it fires
            self._linger_handle = self._loop.call_at(due, self._linger_check)
            return
        self.force_close()  # still sending at LINGER_TOTAL: the reset is its own

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
        # What app.py's on_prepare adds to every other answer (no signal runs for this one).
        # A head the parser refused has no headers to read: such an answer still varies on
        # Origin, but names none.
        response.headers["X-Content-Type-Options"] = "nosniff"
        apply_cors_headers(self._cors_origins, self._refused_origins.pop(exc, None), response)
        # aiohttp's stand-in request is HTTP/1.0, and the answer's status line takes the
        # request's version; the client's own version is not known past a parse error.
        request._version = HttpVersion11  # noqa: V101 (aiohttp reads it)
        response.force_close()
        return response


class ApiServer(web.Server):
    head_timeout = HEAD_TIMEOUT  # set per server by ApiRunner
    cors_origins: tuple[str, ...] = ()  # likewise (handle_error's answers)

    def __call__(self) -> RequestHandler:
        return JsonErrorRequestHandler(
            self,
            loop=self._loop,
            head_timeout=self.head_timeout,
            cors_origins=self.cors_origins,
            **self._kwargs,
        )


class ApiRunner(web.AppRunner):
    """web.AppRunner whose connections use JsonErrorRequestHandler, and whose access log
    escapes what the client sent (server.access_log)."""

    def __init__(self, app: web.Application, *, head_timeout: float = HEAD_TIMEOUT, **kw: Any):
        kw.setdefault("access_log_class", EscapedAccessLogger)
        super().__init__(app, **kw)
        self._head_timeout = head_timeout

    async def _make_server(self) -> web.Server:
        server = await super()._make_server()
        # Application._make_handler builds a plain Server with private state; its class is
        # swapped rather than the construction copied (ApiServer adds plain attributes).
        server.__class__ = ApiServer
        server.head_timeout = self._head_timeout  # type: ignore[attr-defined]
        config = self.app.get(CONFIG)
        server.cors_origins = config.cors_origins if config else ()  # type: ignore[attr-defined]
        return server
