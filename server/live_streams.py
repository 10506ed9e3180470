"""Responses sending a file's bytes right now, by file and by token: the change feed ends them.

New requests of a trashed file get 404 as soon as the feed drops its cached record, but a
response already under way (a long video, a download, a multi-range answer) would run to its
end. Each streaming handler registers here while it sends; when any process trashes or deletes
the file (or makes it private, for anonymous streams of a public file) the feed's event cancels
the handler's task and resets the connection, so the client gets a body shorter than its
Content-Length, within the feed's delay; a response cut before its headers went out answers
404. A handler that looked its record up before such an event and registers after it answers
404 instead of starting. Bytes handed to nginx with
X-Accel-Redirect are nginx's to send: they are not cut.

A token revoked by any process ends the same way every response registered here that was
asked with it (originals, renditions, `?w=` variants, HLS segments, sprites) and the tus PATCH
bodies and direct uploads' forms received under it (`receiving`), within the delay in which
/events tells its streams `unauthorized`: refusing new requests only left a long video running
to its end (README: a revoked token is refused everywhere). Cut before its headers, such a
response answers 401 `invalid_token`. Streams opened through a signed URL or a file grant
carry no token: a revoke does not touch them. Answers sent whole from memory (thumbnails,
playlists) are not registered.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import socket
import struct
import termios
import time
from collections.abc import AsyncIterator, Callable, Iterator

from aiohttp import web
from aiohttp.typedefs import Handler

from core.errors import NotFound
from core.events import ChangeEvent, EventKind
from core.records import FileRecord
from server.auth import unauthorized
from server.errors import ApiError
from server.state import LIBRARY, LOOKED_UP, READ_STREAMS, RESPONDING, STREAMS, TOKEN

logger = logging.getLogger(__name__)

ENDING_KINDS = (EventKind.TRASHED, EventKind.DELETED)
REMEMBER_ENDINGS = 1024  # recent ending events kept for the registration check
REVOKED_MESSAGE = "The token is unknown or revoked"  # server/auth.py's answer to a new request
# How often a finished response still in the kernel's send buffer is looked at (_watch_drain)
DRAIN_LOOK = 0.1
# struct tcp_info's tcpi_bytes_acked (Linux 4.1 and later), a u64
_TCPI_BYTES_ACKED = 120


def _unsent(transport: asyncio.BaseTransport) -> int:
    """Bytes of a connection not yet sent: asyncio's buffer and the kernel's (SIOCOUTQ)."""
    waiting = 0
    if isinstance(transport, asyncio.WriteTransport):
        waiting = transport.get_write_buffer_size()
    sock = transport.get_extra_info("socket")
    if sock is None:
        return waiting
    try:
        held = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except OSError:
        return waiting
    return waiting + int(struct.unpack("i", held)[0])


def _handed(transport: asyncio.BaseTransport) -> int | None:
    """Bytes written to a connection so far: the ones its peer acknowledged (TCP_INFO), the
    kernel's queue (SIOCOUTQ) and asyncio's buffer; None where the kernel does not say (not
    TCP on Linux). The acknowledged count is read first: an ack landing between the two reads
    makes the sum smaller, never larger, so an answer is never taken for whole too early."""
    sock = transport.get_extra_info("socket")
    if sock is None:
        return None
    try:
        info = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, _TCPI_BYTES_ACKED + 8)
        held = fcntl.ioctl(sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0")
    except (OSError, AttributeError):  # AttributeError: no socket.TCP_INFO on this system
        return None
    if len(info) < _TCPI_BYTES_ACKED + 8:
        return None
    acked = int(struct.unpack_from("Q", info, _TCPI_BYTES_ACKED)[0])
    waiting = 0
    if isinstance(transport, asyncio.WriteTransport):
        waiting = transport.get_write_buffer_size()
    return acked + int(struct.unpack("i", held)[0]) + waiting


def _reset(transport: asyncio.BaseTransport) -> None:
    """Ends a connection at once, what the kernel still holds for it included: abort() drops
    asyncio's buffer and closes the socket, but the kernel went on sending its own (up to
    4 MiB here, minutes of a video at a low bitrate) and then closed cleanly. SO_LINGER with
    no time makes the close a reset that discards it."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()  # type: ignore[attr-defined]


class _Stream:
    """One response in progress: the task that sends it and its connection."""

    __slots__ = ("anonymous", "ended", "revoked", "task", "token", "transport", "whole_at")

    def __init__(
        self,
        task: asyncio.Task[object] | None,
        transport: asyncio.BaseTransport | None,
        anonymous: bool,
        token: int | None,
    ) -> None:
        self.task = task
        self.transport = transport
        self.anonymous = anonymous
        self.token = token  # the id of the token it was asked with, None without one
        self.ended = False
        self.revoked = False  # ended by its token's revocation (else by the file's change)
        # _handed(transport) once its last byte is written (ActiveStreams.whole_after), None unknown
        self.whole_at: int | None = None

    def whole(self) -> bool:
        """Its handler has written its last byte (it may still be in its last awaits)."""
        if self.whole_at is None:
            return False
        if self.whole_at < 0:
            return True
        handed = None if self.transport is None else _handed(self.transport)
        return handed is not None and handed >= self.whole_at


def _token_id(request: web.Request) -> int | None:
    info = request.get(TOKEN)
    return None if info is None else info.id


# the registered answer of a request (ActiveStreams.track), for whole_after
_ENTRY: web.RequestKey[_Stream] = web.RequestKey("live_stream")


def _refused() -> ApiError:
    return unauthorized(REVOKED_MESSAGE, "invalid_token")


class BodyEnding:
    """Ends the handler's task, from any thread, while its body is being received (a revoke:
    ActiveStreams.receiving; a tus upload's takeover: ResumableUploads.end_stalled); once the
    body is over (`over`), it does nothing."""

    def __init__(self) -> None:
        self._task = asyncio.current_task()
        self._loop = asyncio.get_running_loop()
        self._receiving = True

    def end(self) -> None:
        self._loop.call_soon_threadsafe(self._cancel)

    def _cancel(self) -> None:
        # on the loop, as over() is: a body that ended before this ran is not cut
        if self._receiving and self._task is not None:
            self._task.cancel()

    def over(self) -> None:
        self._receiving = False


class ActiveStreams:
    """file id → the responses sending it; used on the server's event loop only."""

    def __init__(self) -> None:
        self._by_file: dict[int, set[_Stream]] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        # file id → when its streams last had to end: (all of them, anonymous ones)
        self._ended: dict[int, tuple[float, float]] = {}
        # token id → when its revocation was heard: a request whose token was checked (from
        # the cache) just before it registers after it; a revocation is for good
        self._revoked: dict[int, float] = {}
        # token id → the ends of the request bodies being received under it (tus PATCH)
        self._receiving: dict[int, set[Callable[[], None]]] = {}
        self._draining: set[asyncio.Task[None]] = set()  # _watch_drain
        # connection → the watch of its last response (one at a time: a client asks its next
        # request once the last answer is whole with it)
        self._drain_of: dict[asyncio.BaseTransport, asyncio.Task[None]] = {}

    def count(self, file_id: int | None = None) -> int:
        if file_id is not None:
            return len(self._by_file.get(file_id, ()))
        return sum(len(s) for s in self._by_file.values())

    @contextlib.contextmanager
    def track(
        self, request: web.Request, record: FileRecord, anonymous: bool | None = None
    ) -> Iterator[None]:
        """Held around the sending of a response. `anonymous`: the stream rests on the file
        being public (no token, no grant); default: worked out from the request."""
        if anonymous is None:
            anonymous = (
                record.is_public and request.get(TOKEN) is None and "sig" not in request.query
            )
        token = _token_id(request)
        if token is not None and token in self._revoked:
            raise _refused()
        ended = self._ended.get(record.id)
        looked_up = request.get(LOOKED_UP)
        if ended is not None and looked_up is not None:
            last = max(ended) if anonymous else ended[0]
            if last >= looked_up:  # the record predates a change that ends its streams
                raise NotFound("This file is no longer available")
        entry = _Stream(asyncio.current_task(), request.transport, anonymous, token)
        streams = self._by_file.setdefault(record.id, set())
        streams.add(entry)
        request[_ENTRY] = entry
        drained_later = False
        try:
            yield
            drained_later = self._watch_drain(entry, record.id, streams)
        except asyncio.CancelledError:
            if entry.ended and not request.get(RESPONDING):
                # Cut before any header went out (e.g. while the object opened): the usual answer.
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
                if entry.revoked:
                    raise _refused() from None
                raise NotFound("This file is no longer available") from None
            if entry.ended:  # cut by a change: reset now, not after the buffered bytes drain
                transport = entry.transport
                if transport is not None and not transport.is_closing():
                    _reset(transport)
            raise
        finally:
            if not drained_later:
                self._forget(entry, record.id, streams)

    @staticmethod
    def whole_after(request: web.Request, more: int) -> None:
        """The answer of a request registered here is whole once `more` more bytes are written
        to its connection: its Content-Length after its headers went out, or 0 right before a
        write that hands all the rest over (aiohttp writes before its first await, and a cut
        only runs while the handler awaits). A cut landing after that, in the handler's last
        awaits (a sendfile waiting for the socket, a drain, an upstream's close), treats it as
        the drain watch does: its client may have it all and have asked its next request on
        the connection, which a cancel and a reset would lose."""
        entry = request.get(_ENTRY)
        if entry is None or entry.transport is None:
            return
        if more <= 0:
            entry.whole_at = -1
            return
        handed = _handed(entry.transport)
        if handed is not None:
            entry.whole_at = handed + more

    def _forget(self, entry: _Stream, file_id: int, streams: set[_Stream]) -> None:
        streams.discard(entry)
        if not streams and self._by_file.get(file_id) is streams:
            del self._by_file[file_id]

    def _watch_drain(self, entry: _Stream, file_id: int, streams: set[_Stream]) -> bool:
        """A response whose handler is done may still be on its way: what it wrote last sits in
        the kernel's send buffer (up to 4 MiB here: a whole HLS segment, most photos), which a
        slow client reads for seconds to minutes. Untracked once its handler ended, a revoke or
        a trash then let it arrive whole. It stays tracked until that buffer is empty: a cut
        meanwhile resets the connection. True when it is watched (the watch forgets it)."""
        transport = entry.transport
        if transport is None or transport.is_closing() or _unsent(transport) == 0:
            return False
        entry.task = None  # a cut now resets the connection (_cut), the handler is done
        task = asyncio.get_running_loop().create_task(self._drain(entry, file_id, streams))
        self._draining.add(task)
        task.add_done_callback(self._draining.discard)
        self._drain_of[transport] = task
        return True

    def next_request(self, transport: asyncio.BaseTransport | None) -> None:
        """A new request on a connection (streams_middleware): its last response is whole with
        the client, which asked this one after it. Still watched, a cut of that response reset
        the connection and this request with it (the new one's bytes kept the buffer full)."""
        task = self._drain_of.pop(transport, None) if transport is not None else None
        if task is not None:
            task.cancel()

    async def _drain(self, entry: _Stream, file_id: int, streams: set[_Stream]) -> None:
        transport = entry.transport
        try:
            while (
                transport is not None
                and not entry.ended
                and not transport.is_closing()
                and _unsent(transport) > 0
            ):
                await asyncio.sleep(DRAIN_LOOK)
        finally:
            self._forget(entry, file_id, streams)
            if transport is not None and self._drain_of.get(transport) is asyncio.current_task():
                del self._drain_of[transport]

    async def close(self) -> None:
        """Stops the drain watches (the server stops)."""
        for task in list(self._draining):
            task.cancel()
        if self._draining:
            await asyncio.gather(*self._draining, return_exceptions=True)

    @contextlib.contextmanager
    def receiving(self, request: web.Request, end: Callable[[], None]) -> Iterator[None]:
        """Held while a request body is received under the request's token: `end()` (called
        on the loop) stops taking it when the token is revoked. A token revoked already: 401."""
        token = _token_id(request)
        if token is None:
            yield
            return
        if token in self._revoked:
            raise _refused()
        ends = self._receiving.setdefault(token, set())
        ends.add(end)
        try:
            yield
        finally:
            ends.discard(end)
            if not ends and self._receiving.get(token) is ends:
                del self._receiving[token]

    @staticmethod
    def _cut(entry: _Stream) -> None:
        entry.ended = True
        transport = entry.transport
        if (entry.task is None or entry.whole()) and (transport is None or _unsent(transport) == 0):
            # Its last byte written (its handler ended, or is in its last awaits) and sent: it
            # is whole with its client, which may have asked its next request on this
            # connection already; a cancel or a reset would lose that one. Left alone.
            return
        if entry.task is not None:
            # (whole too when its client lags: the handler may still await the socket, which a
            # reset under it would leave awaiting; its track resets the connection)
            entry.task.cancel()
        elif transport is not None:
            _reset(transport)

    def end(self, file_id: int, only_anonymous: bool = False) -> int:
        """Ends the file's streams (on the loop); returns how many."""
        ended = 0
        for entry in list(self._by_file.get(file_id, ())):
            if entry.ended or (only_anonymous and not entry.anonymous):
                continue
            self._cut(entry)
            ended += 1
        if ended:
            logger.info("Ended %d stream(s) of file %d: it changed elsewhere", ended, file_id)
        return ended

    def revoke(self, token_id: int) -> int:
        """Ends the streams sent and the bodies received under the token (on the loop);
        returns how many."""
        ended = 0
        for streams in list(self._by_file.values()):
            for entry in list(streams):
                if entry.ended or entry.token != token_id:
                    continue
                entry.revoked = True
                self._cut(entry)
                ended += 1
        for end in list(self._receiving.pop(token_id, ())):
            end()
            ended += 1
        if ended:
            logger.info("Ended %d request(s) of token %d: it was revoked", ended, token_id)
        return ended

    def on_event(self, event: ChangeEvent) -> None:
        """A feed event (any thread, any process's change): hop to the loop if it ends streams."""
        if event.kind == EventKind.TOKEN:
            self._on_token(event)
            return
        if event.file_id is None:
            return
        if event.kind in ENDING_KINDS:
            only_anonymous = False
        elif event.kind == EventKind.UPDATED and event.data.get("is_public") is False:
            only_anonymous = True
        else:
            return
        now = time.monotonic()
        if len(self._ended) >= REMEMBER_ENDINGS:  # keep the last minute's (a lookup is quicker)
            self._ended = {k: v for k, v in self._ended.items() if max(v) > now - 60}
        before = self._ended.get(event.file_id, (0.0, 0.0))
        self._ended[event.file_id] = (before[0], now) if only_anonymous else (now, before[1])
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self.end, event.file_id, only_anonymous)

    def _on_token(self, event: ChangeEvent) -> None:
        # core/feed.py logs {"id", "active", "scope"}: a token is never deleted, only revoked
        token_id = event.data.get("id", event.entity_id)
        if event.data.get("active") is not False or not isinstance(token_id, int):
            return
        if len(self._revoked) >= REMEMBER_ENDINGS:  # the race it guards lasts a lookup
            now = time.monotonic()
            self._revoked = {k: t for k, t in self._revoked.items() if t > now - 60}
        self._revoked[token_id] = time.monotonic()
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self.revoke, token_id)

    def attach(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop


@web.middleware
async def streams_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Tells the registry a connection carries a new request (ActiveStreams.next_request)."""
    request.app[STREAMS].next_request(request.transport)
    return await handler(request)


# Methods whose answers carry no state to save: a stop ends them (ReadStreams)
READ_METHODS = frozenset({"GET", "HEAD"})


class ReadStreams:
    """The answers to reads being sent right now (originals, streams, downloads, HLS segments,
    thumbnails), by the task that sends each; a stop ends them at once (cut_reads).

    aiohttp's shutdown waits SHUTDOWN_TIMEOUT (server/entry.py) for every request in progress,
    then cancels what is left and waits as long again: a phone streaming a video from the
    desktop (a slow reader: its bytes go out as it reads them) held Quit ~10 s. Such an answer
    loses nothing when cut: its client asks the rest again with a Range. Requests that write
    (uploads, tus PATCH, edits) are not here: they keep the grace to finish and record what
    came (server/bodystream.py, ServerStopping). Event streams are ended by the hub
    (close_hub), cleanly, and are not here either."""

    def __init__(self) -> None:
        # the task of each answer under way (aiohttp runs each request in a task of its own,
        # to its last byte handed to the socket) and its connection
        self._sending: dict[asyncio.Task[object], asyncio.BaseTransport] = {}
        self._cut_tasks: set[asyncio.Task[object]] = set()  # cancelled by a stop: reset when done
        self.stopping = False

    def follow(self, request: web.Request, response: web.StreamResponse) -> None:
        if request.method not in READ_METHODS or response.content_type == "text/event-stream":
            return
        task, transport = asyncio.current_task(), request.transport
        if task is None or transport is None or task in self._sending:
            return
        self._sending[task] = transport
        task.add_done_callback(self._forget)
        if self.stopping:  # begun while the server stops (its lookup was under way): ended too
            asyncio.get_running_loop().call_soon(self._cut, task)

    def _forget(self, task: asyncio.Task[object]) -> None:
        transport = self._sending.pop(task, None)
        if transport is not None and task in self._cut_tasks:
            self._cut_tasks.discard(task)
            # A reset, not a close: a close sends what the kernel holds first (up to 4 MiB,
            # long for a slow phone) and ends as a whole answer would; the client is told at
            # once instead. Made once the task is done: aiohttp has closed the transport by
            # then (a close still to happen, which this makes a reset), and a reset under a
            # sendfile still awaiting the socket breaks asyncio's connection_lost (3.11:
            # InvalidStateError on its waiter), as ActiveStreams._cut knows.
            _reset(transport)

    def _cut(self, task: asyncio.Task[object]) -> None:
        if task.done() or task not in self._sending:
            return
        # the cancel ends a handler awaiting the socket or a read of the file at once
        self._cut_tasks.add(task)
        task.cancel()

    def cut_all(self) -> int:
        self.stopping = True
        sending = list(self._sending)
        for task in sending:
            self._cut(task)
        return len(sending)


async def follow_reads(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: an answer to a read is under way (ReadStreams)."""
    request.app[READ_STREAMS].follow(request, response)


async def cut_reads(app: web.Application) -> None:
    """on_shutdown (the listeners closed, idle keep-alive connections closed by aiohttp's
    pre_shutdown): ends the answers to reads, so that the stop waits for writes alone."""
    cut = app[READ_STREAMS].cut_all()
    if cut:
        logger.info("Ended %d answer(s) being sent: the server stops", cut)


async def streams_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the registry hears the change feed while the app runs."""
    streams = app[STREAMS]
    streams.attach(asyncio.get_running_loop())
    unsubscribe = app[LIBRARY].events.subscribe(streams.on_event)
    yield
    unsubscribe()
    await streams.close()
