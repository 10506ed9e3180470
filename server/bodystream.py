"""A blocking file-like view of a request body, for storage writers running in worker threads."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
from collections.abc import Awaitable
from typing import TypeVar

from aiohttp import StreamReader

from core.errors import SizeMismatch
from core.spool import too_large
from server import rawbody
from server.errors import ApiError, ServerStopping

CHUNK = 256 * 1024

T = TypeVar("T")
SEND_AGAIN = "send the whole file again"
SEND_REQUEST_AGAIN = "send the request again"


def body_quiet(then: str) -> ApiError:
    """The 408 for a client that sent no byte of its body for rawbody.IDLE_TIMEOUT seconds,
    whichever way the body is read; `then` says what the client does next."""
    return ApiError(408, "request_timeout", rawbody.quiet_sentence(then))


async def idle_timed(read: Awaitable[T], then: str) -> T:
    """One read of a request body, given up after rawbody.IDLE_TIMEOUT seconds without a byte.

    Without it a client that stops sending holds its connection (and a signed PUT's body
    thread, one of MEDIADESK_UPLOAD_BODIES) for as long as it keeps the socket open. The 408
    answer closes the connection (server/errors.py _finish: the body is not read to its end).
    """
    try:
        async with asyncio.timeout(rawbody.IDLE_TIMEOUT):
            return await read
    except TimeoutError:
        raise body_quiet(then) from None


async def idle_watched(read: Awaitable[T], content: StreamReader, then: str) -> T:
    """A read of a whole (small) request body that aiohttp does in one call (request.post(),
    request.read()), given up once no byte has arrived for rawbody.IDLE_TIMEOUT seconds: the
    body's byte count is watched, so a slow phone trickling a JSON body is not cut as
    idle_timed on the whole read would (a limit in total time, not between bytes)."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(read)
    seen, quiet_since = content.total_bytes, loop.time()
    try:
        while True:
            limit = rawbody.IDLE_TIMEOUT
            done, _ = await asyncio.wait({task}, timeout=min(1.0, limit / 4))
            if done:
                return task.result()
            now = loop.time()
            if content.total_bytes != seen:
                seen, quiet_since = content.total_bytes, now
            elif now - quiet_since >= limit:
                raise body_quiet(then)
    finally:
        if not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def ended_by_stop(content: StreamReader, exc: BaseException) -> bool:
    """Whether `exc`, raised by a read of the request body in the handler's own task, is the
    server stopping: after its shutdown grace aiohttp sets a CancelledError on the body stream
    of the requests still open (a lost connection sets a ConnectionResetError instead) without
    cancelling their handlers, so the client can still be told to send the request again. A
    cancellation of the task itself (aiohttp's last resort, or a lost client) stays one."""
    task = asyncio.current_task()
    return (
        isinstance(exc, asyncio.CancelledError)
        and isinstance(content.exception(), asyncio.CancelledError)
        and not (task is not None and task.cancelling())
    )


class BodyStream:
    """`read(n)` from a worker thread pulls the next bytes of the body from the event loop.

    Raises TooLarge once more than `limit` bytes arrived (reading stops there),
    SizeMismatch at the end when `expected` bytes were announced and a different count came,
    and the 408 of idle_timed when the client goes quiet (the writer drops what it had).
    """

    def __init__(
        self,
        content: StreamReader,
        loop: asyncio.AbstractEventLoop,
        limit: int,
        expected: int | None = None,
    ) -> None:
        self._content = content
        self._loop = loop
        self._limit = limit
        self._expected = expected
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        want = size if 0 < size <= 4 * CHUNK else CHUNK
        try:
            chunk = asyncio.run_coroutine_threadsafe(
                idle_timed(self._content.read(want), SEND_AGAIN), self._loop
            ).result()
        except concurrent.futures.CancelledError as exc:
            # aiohttp cancels the body stream when the server stops (a lost connection sets a
            # ConnectionResetError on it instead): the client is still there to be told so
            raise ServerStopping("The read of the request body was ended by a stop") from exc
        self.count += len(chunk)
        if self.count > self._limit:
            raise too_large(self._limit)
        expected = self._expected
        if expected is not None and (
            self.count > expected or (not chunk and self.count != expected)
        ):
            raise SizeMismatch(
                f"The body has {'more' if chunk else self.count} bytes but "
                f"the signed URL is for {expected}"
            )
        return chunk
