"""Reads a big request body straight from the socket, past aiohttp's parser.

Why: a tus PATCH of a recording is gigabytes of plain bytes, and through aiohttp each MiB
costs a pass through the event loop, the HTTP parser (which copies the body out of the bytes
it was given), the body stream's pause/resume bookkeeping, and a hand-over to a writer
thread. bench/resumable.py measured that path at 0.3–0.37× `cp` with the server's CPU the
limit. Here one thread of its own reads the body with recv_into() into a few reused buffers
and hands each to the sink (the upload's writer) itself: one copy out of the kernel, no
allocation, no event loop. Not a pool thread (Threads.run_long): a body lasts as long as
its client takes, and sixteen slow phones would hold every worker of the pool; past
Threads.long_calls bodies at once, the next ones go through aiohttp, holding no thread.

How, and the rules it keeps:
- only a plain TCP socket transport (asyncio's, not SSL, not uvloop), a Content-Length body
  (not chunked) of at least TAKE_MIN bytes; anything else goes through aiohttp as before;
- the transport stops reading first, then what aiohttp already holds of the body (its body
  stream, and bytes its parser kept back while the stream was full — reading the stream
  makes it parse them) goes to the sink first, in order; the thread then reads exactly the
  rest of the body and not a byte more, so nothing of a next request is taken;
- aiohttp's parser still counts the body as unread, so the connection cannot carry another
  request: the answer says `Connection: close`, and aiohttp closes it after the answer once
  its body stream is marked ended (it would otherwise wait up to 10 s for the rest);
- a client that closes early ends the read with BodyCutShort, one that goes quiet for
  IDLE_TIMEOUT seconds gets a 408 (the caller keeps or drops what arrived, as for any cut
  body); a server shutdown (aiohttp tells the request through its body stream after its
  grace period) or a cancelled handler shuts the socket's read side, so that the thread ends
  before the caller touches the sink again;
- after the body, bytes still coming are read and dropped until aiohttp closes the
  connection after the answer: closing a socket with unread bytes would reset it, and the
  client could lose the answer; for the same reason, when the sink fails mid-body (a full
  disk) the rest of the body is read and dropped (LINGER seconds at most) before the error
  is answered.
"""

from __future__ import annotations

import asyncio
import contextlib
import mmap
import os
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from aiohttp import web

from core.appender import HASH_QUEUE
from server.errors import ApiError
from server.state import THREADS
from server.streaming import plain_socket

# Smaller bodies are cheap enough through aiohttp, and a body this big is never wholly
# buffered by aiohttp before the handler runs (its stream holds 2 × 64 KiB, its parser keeps
# back at most one socket read), so what is left to read is always more than nothing.
TAKE_MIN = 4 * 1024 * 1024
IDLE_TIMEOUT = 120.0
# what a client whose tus PATCH body went quiet does next (the bytes that came are kept)
SEND_REST = "send the rest from the upload's offset"


def quiet_sentence(then: str) -> str:
    """The one sentence of a body that went quiet, however it is read (here, or through
    aiohttp: server/bodystream.py); `then` says what the client does next."""
    return f"No byte of the body arrived for {IDLE_TIMEOUT:g} s; {then}"


# How long the rest of a body is read and dropped after its sink failed (aiohttp's
# lingering_time for unread bodies is the same).
LINGER = 10.0
# Buffers in rotation: the sink may still hash the last HASH_QUEUE of them in another thread
# after it returns (core/appender.py), so a buffer is refilled only after that many more.
RING = HASH_QUEUE + 2

CLOSE_AFTER: web.RequestKey[bool] = web.RequestKey("close_after")

Sink = Callable[[Sequence[bytes | memoryview]], None]
T = TypeVar("T")


class BodyCutShort(ConnectionResetError):
    """The client closed the connection or went quiet before the whole body arrived."""

    def __init__(self, message: str, received: int, quiet: bool = False) -> None:
        super().__init__(message)
        self.received, self.quiet = received, quiet


def can_take(request: web.Request) -> bool:
    """True when take_body can read this request's body from the socket itself."""
    transport = request.transport
    if transport is None or (request.content_length or 0) < TAKE_MIN:
        return False
    if request.headers.get("Transfer-Encoding") or request.content.is_eof():
        return False
    # asyncio's own socket transport (its pause_reading takes the socket out of the selector),
    # and a thread free for it (past the limit, bodies go through aiohttp, holding no thread)
    return (
        plain_socket(transport)
        and transport.get_extra_info("socket") is not None
        and request.app[THREADS].can_run_long()
    )


async def take_body(
    request: web.Request, sink: Sink, batch: int, heard: Callable[[], None] | None = None
) -> int:
    """Feeds the whole body to `sink` (from a pool thread), `batch` bytes at a time at most.

    Returns the body's length. Call only when can_take(request). The sink must be done with
    a view once RING more calls have returned (it is reused then). A quiet client gets a 408.
    `heard` (from the thread) is told of every arrival, however small.
    """
    transport = request.transport
    assert transport is not None and request.content_length is not None
    length = request.content_length
    transport.pause_reading()
    held: list[bytes] = []
    # read_nowait may make aiohttp parse bytes its parser kept back, and resume the transport
    # (it cannot read before this coroutine yields): pause it again afterwards
    while chunk := request.content.read_nowait():
        held.append(chunk)
    transport.pause_reading()
    request[CLOSE_AFTER] = True  # aiohttp's parser still expects the body: no next request
    taken = sum(len(c) for c in held)
    if taken >= length:  # cannot happen with TAKE_MIN (see above); never read past the body
        raise RuntimeError("aiohttp buffered the whole body of a request taken from the socket")
    raw = transport.get_extra_info("socket")
    sock = socket.socket(fileno=os.dup(raw.fileno()))  # closed here; the transport keeps its fd
    # aiohttp tells a request that the server is stopping, or that the connection is gone,
    # through its body stream: that ends the read too
    told = asyncio.ensure_future(request.content.wait_eof())
    try:
        sock.settimeout(IDLE_TIMEOUT)
        # a thread of its own: the body takes as long as the client does
        job = request.app[THREADS].run_long(_pump, sock, held, length - taken, sink, batch, heard)
        try:
            await asyncio.wait([job, told], return_when=asyncio.FIRST_COMPLETED)
        finally:
            if not job.done():  # cancelled, or told to stop: end the thread's recv now
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RD)
                await until_done(job)
        try:
            job.result()
        except BodyCutShort as exc:
            if exc.quiet:
                raise ApiError(408, "request_timeout", str(exc)) from exc
            raise
        return length
    finally:
        if told.done() and not told.cancelled():
            told.exception()  # seen (a connection lost): not "never retrieved" in the log
        told.cancel()
        sock.close()
        # What follows the body (a request sent right behind it) is read and dropped, so that
        # closing the connection does not reset it under the answer; marking aiohttp's body
        # stream ended stops it waiting up to 10 s after the answer for the body it never saw
        protocol = transport.get_protocol()
        if isinstance(protocol, asyncio.Protocol) and not transport.is_closing():
            transport.set_protocol(_Discard(protocol))
        request.content.feed_eof()  # resumes reading


async def until_done(job: asyncio.Future[Any]) -> None:
    """Waits for a thread's job even if this task is cancelled meanwhile (the cancellation is
    not raised), so that the caller never touches what the job touches while it runs: a
    thread cannot be stopped (here, the body's socket was shut down, so it ends soon)."""
    while not job.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait([job])
    if not job.cancelled():
        job.exception()  # seen: a cancelled caller never reads it ("never retrieved" in the log)


async def whole(job: asyncio.Future[T]) -> T:
    """The outcome of a thread's job; cancelled meanwhile, this task waits for the job to end
    (until_done), then the cancellation goes on. Awaiting the job itself would cancel it, and
    the asyncio side of a pool call is cancelled at once while its thread goes on: what the
    caller does next (a tus writer's abort cuts the file back and lets the upload go) ran
    beside the thread still writing."""
    try:
        await asyncio.wait([job])
    except asyncio.CancelledError:
        await until_done(job)
        raise
    return job.result()


class _Discard(asyncio.Protocol):
    """Stands in for aiohttp's protocol after a taken body: drops incoming bytes, passes the
    rest (write flow control, the end of the connection) on."""

    def __init__(self, inner: asyncio.Protocol) -> None:
        self.inner = inner

    def data_received(self, data: bytes) -> None:
        pass

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()

    def connection_lost(self, exc: Exception | None) -> None:
        self.inner.connection_lost(exc)


_NO_BUFFER = memoryview(b"")


def _pump(
    sock: socket.socket,
    held: list[bytes],
    remaining: int,
    sink: Sink,
    batch: int,
    heard: Callable[[], None] | None,
) -> None:
    if held:
        sink(held)
    done = sum(len(c) for c in held)
    # Anonymous maps, not bytearrays: glibc serves a freed multi-MiB block again from the arena
    # of the thread that freed it (its mmap threshold rises after the first free), so bodies
    # read by ever new threads left RING × batch bytes resident per arena; a map goes back to
    # the system when its last view (the hasher's) is released.
    ring = [memoryview(mmap.mmap(-1, min(batch, remaining))) for _ in range(RING)]
    turn = 0
    buf = _NO_BUFFER
    left = remaining  # bytes of the body still in the socket (or still to come)
    try:
        while remaining:
            buf = ring[turn % RING]
            turn += 1
            want = min(len(buf), remaining)
            filled = 0
            while filled < want:
                try:
                    n = sock.recv_into(buf[filled:want])
                except TimeoutError:
                    n = -1
                except OSError as exc:
                    if filled:
                        sink([buf[:filled]])
                    raise BodyCutShort(
                        f"The connection failed mid-body: {exc}", done + filled
                    ) from exc
                if n <= 0:
                    if filled:
                        sink([buf[:filled]])
                    if n < 0:
                        raise BodyCutShort(
                            quiet_sentence(SEND_REST),
                            done + filled,
                            quiet=True,
                        )
                    raise BodyCutShort("The client closed the connection mid-body", done + filled)
                filled += n
                left -= n
                if heard is not None:
                    heard()
            sink([buf[:filled]])
            done += filled
            remaining -= filled
    except BodyCutShort:
        raise
    except Exception:  # the sink failed (a full disk): its error is the answer, once sent
        _drain(sock, left)
        raise
    finally:
        # The error raised here keeps this frame alive (its traceback, the ApiError chained to
        # it) until the cycle collector runs: a cut PATCH held its RING maps resident that
        # long, ~28 MB per five cuts on a long-running server. What the sink still holds of
        # them (the hasher's views) keeps only those maps.
        ring.clear()
        buf = _NO_BUFFER


def _drain(sock: socket.socket, left: int) -> None:
    """Reads and drops the rest of a body whose sink failed, for LINGER seconds at most:
    closing a socket with bytes unread (or still coming) resets the connection, and the
    client would lose the answer that says why (aiohttp lingers the same way over bodies its
    handlers leave unread)."""
    deadline = time.monotonic() + LINGER
    scratch = memoryview(bytearray(256 * 1024))
    while left > 0:
        wait = deadline - time.monotonic()
        if wait <= 0:
            return
        sock.settimeout(wait)
        try:
            n = sock.recv_into(scratch[: min(len(scratch), left)])
        except OSError:  # quiet past the deadline, or gone
            return
        if not n:
            return
        left -= n


def close_when_body_taken(request: web.Request, response: web.StreamResponse) -> None:
    """Says `Connection: close` on answers to requests whose body was taken (server/app.py)."""
    if request.get(CLOSE_AFTER):
        response.force_close()  # for aiohttp: no next request on this connection
        response.headers["Connection"] = "close"  # for the client (the header is built already)
