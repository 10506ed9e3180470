"""A cut (trash, revoke, made private) that lands after an answer's last byte went out, while
its handler is still in its last awaits (a sendfile waiting for the socket, a drain, an
upstream's close), left the answer whole with its client, but reset the connection: the
client's next request on it failed (a tight trash/restore loop: 4 of 2,300 keep-alive
requests). A cut before the last byte still stops the answer with a reset.

A real aiohttp server on loopback sends a real file through stream_object inside
ActiveStreams.track; the test's handler holds its last await open until the client says what
it read, so that the cut lands exactly there.
"""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from server.live_streams import ActiveStreams
from server.state import RESPONDING, STREAMS, THREADS, Threads
from server.streaming import stream_object
from tests.test_live_streams import _record

pytestmark = pytest.mark.timeout(60)
RECORD = _record(public=False)


async def _on_prepare(request: web.Request, response: web.StreamResponse) -> None:
    request[RESPONDING] = True  # as server/app.py's on_prepare


def _no_range(start: int, end: int | None) -> Iterator[bytes]:
    raise AssertionError("a local file is sent with sendfile")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[TestServer, ActiveStreams, asyncio.Event]]:
    data = os.urandom(200 * 1024)  # over INLINE_READ_MAX: sendfile, whole at Content-Length
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    streams = ActiveStreams()
    last_await = asyncio.Event()

    async def stream(request: web.Request) -> web.StreamResponse:
        with streams.track(request, RECORD, anonymous=False):
            resp = await stream_object(
                request,
                size=len(data),
                etag='"e"',
                last_modified=RECORD.created_at,
                content_type="application/octet-stream",
                local_path=path,
                open_range=_no_range,
                cache_control="no-store",
            )
            await last_await.wait()  # the handler's last awaits, after its last byte
        return resp

    async def other(request: web.Request) -> web.Response:
        return web.Response(text="other")

    app = web.Application()
    app[STREAMS] = streams
    app[THREADS] = Threads(2)
    app.on_response_prepare.append(_on_prepare)
    app.router.add_get("/stream", stream)
    app.router.add_get("/other", other)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    streams.attach(asyncio.get_running_loop())
    try:
        yield server, streams, last_await
    finally:
        last_await.set()
        await server.close()


async def _answer(reader: asyncio.StreamReader, read_body: bool = True) -> tuple[int, int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    length = next(
        int(v) for k, _, v in (h.partition(":") for h in lines[1:]) if k.lower() == "content-length"
    )
    body = await reader.readexactly(length) if read_body else b""
    return int(lines[0].split()[1]), length, body


async def test_a_cut_after_the_last_byte_leaves_the_next_request_on_the_connection(
    served: tuple[TestServer, ActiveStreams, asyncio.Event],
) -> None:
    server, streams, last_await = served
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    try:
        writer.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        status, length, body = await _answer(reader)
        assert (status, len(body)) == (200, length)
        assert streams.end(RECORD.id) == 1  # the file trashed: its handler is in its last await
        last_await.set()
        writer.write(b"GET /other HTTP/1.1\r\nHost: x\r\n\r\n")
        status, _, body = await _answer(reader)  # before the fix: ConnectionResetError
        assert (status, body) == (200, b"other")
    finally:
        writer.close()


async def test_a_cut_before_the_client_has_the_last_byte_still_resets(
    served: tuple[TestServer, ActiveStreams, asyncio.Event],
) -> None:
    """The same cut while the answer waits in the kernel for a client that does not read: the
    client gets a short body and a reset, not the rest."""
    server, streams, _ = served
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", server.port))
    reader, writer = await asyncio.open_connection(sock=sock)
    try:
        writer.write(b"GET /stream HTTP/1.1\r\nHost: x\r\n\r\n")
        status, length, _ = await _answer(reader, read_body=False)
        assert status == 200
        assert streams.end(RECORD.id) == 1
        received = 0
        with pytest.raises((ConnectionResetError, asyncio.IncompleteReadError)):
            while True:
                piece = await reader.read(65536)
                if not piece:
                    raise asyncio.IncompleteReadError(b"", None)
                received += len(piece)
        assert received < length
    finally:
        writer.close()
