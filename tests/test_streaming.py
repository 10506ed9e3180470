"""stream_object over a real aiohttp app: local files (sendfile) and "remote" objects."""

from __future__ import annotations

import asyncio
import http.client
import json
import random
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from core.errors import NotFound, StorageUnavailable
from server import streaming
from server.state import THREADS, Threads, threads_ctx
from server.streaming import stream_object

PAYLOAD = random.Random(7).randbytes(100_000)
ETAG = '"v1"'
LM = datetime(2024, 3, 1, 12, 0, 0, 250_000, tzinfo=UTC)
LM_HTTP = "Fri, 01 Mar 2024 12:00:00 GMT"
CT = "video/mp4"
KiB = 1024
MiB = 1024 * KiB


@dataclass
class Obj:
    """One object served at /{name}: from `path` (local) or from memory through open_range."""

    data: bytes | None  # None: `size` zero bytes produced lazily (huge objects)
    size: int
    path: Path | None = None
    piece: int = 64 * KiB
    missing: bool = False
    calls: list[tuple[int, int | None]] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    closed: threading.Event = field(default_factory=threading.Event)
    generators: list[Iterator[bytes]] = field(default_factory=list)  # no close by GC
    handled: int = 0
    threads: set[str] = field(default_factory=set)
    fail_at: int | None = None  # the generator raises StorageUnavailable at this offset

    def open_range(self, start: int, end: int | None) -> Iterator[bytes]:
        if self.path is not None:
            raise AssertionError("a local object must not be read through open_range")
        if self.missing:
            raise NotFound("gone")
        self.calls.append((start, end))
        self.threads.add(threading.current_thread().name)
        generator = self._chunks(start, self.size - 1 if end is None else end)
        self.generators.append(generator)
        return generator

    def _chunks(self, start: int, end: int) -> Iterator[bytes]:
        try:
            for offset in range(start, end + 1, self.piece):
                if self.fail_at is not None and offset >= self.fail_at:
                    raise StorageUnavailable("the store went away")
                stop = min(offset + self.piece, end + 1)
                if self.data is None:
                    yield bytes(stop - offset)
                else:
                    yield self.data[offset:stop]
        finally:
            self.closed.set()


OBJECTS = web.AppKey("objects", dict[str, Obj])


async def handler(request: web.Request) -> web.StreamResponse:
    obj = request.app[OBJECTS][request.match_info["name"]]
    try:
        return await stream_object(
            request,
            size=obj.size,
            etag=ETAG,
            last_modified=LM,
            content_type=CT,
            local_path=obj.path,
            open_range=obj.open_range,
            cache_control="private, max-age=60",
            extra_headers={"X-Extra": "yes"},
            on_bytes=obj.sent.append,
        )
    except NotFound as exc:
        return web.json_response({"error": {"code": "not_found", "message": str(exc)}}, status=404)
    finally:
        obj.handled += 1


def make_app(
    tmp_path: Path, kind: str, objects: dict[str, bytes | int], threads: str = "mediadesk-api"
) -> web.Application:
    """`objects`: name -> content, or a size for lazily produced zeros."""
    table: dict[str, Obj] = {}
    for name, content in objects.items():
        data = content if isinstance(content, bytes) else None
        size = len(content) if isinstance(content, bytes) else content
        obj = Obj(data, size)
        if kind == "local":
            obj.path = tmp_path / f"{name}.bin"
            with open(obj.path, "wb") as out:
                if data is not None:
                    out.write(data)
                else:
                    out.truncate(size)  # sparse: instant, reads as zeros
        table[name] = obj
    app = web.Application()
    app[OBJECTS] = table
    app[THREADS] = Threads(4, name=threads)  # the server's one pool, as server/app.py makes it
    app.cleanup_ctx.append(threads_ctx)
    app.router.add_get("/{name}", handler)
    return app


ClientFactory = Callable[[web.Application], Awaitable[TestClient]]


@pytest.fixture(params=["local", "remote"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def served(
    kind: str, tmp_path: Path, aiohttp_client: ClientFactory
) -> tuple[TestClient, dict[str, Obj]]:
    app = make_app(tmp_path, kind, {"data": PAYLOAD, "empty": b"", "big": 2 * MiB})
    client = await aiohttp_client(app)
    return client, app[OBJECTS]


def check_common(resp: aiohttp.ClientResponse) -> None:
    assert resp.headers["Accept-Ranges"] == "bytes"
    assert resp.headers["ETag"] == ETAG
    assert resp.headers["Last-Modified"] == LM_HTTP
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["X-Extra"] == "yes"


# --- whole and single ranges -----------------------------------------------------------------


async def test_whole(served: tuple[TestClient, dict[str, Obj]]) -> None:
    client, objects = served
    resp = await client.get("/data")
    assert resp.status == 200
    check_common(resp)
    assert resp.headers["Content-Type"] == CT
    assert resp.headers["Cache-Control"] == "private, max-age=60"
    assert resp.headers["Content-Length"] == str(len(PAYLOAD))
    assert "Content-Range" not in resp.headers
    assert await resp.read() == PAYLOAD
    assert sum(objects["data"].sent) == len(PAYLOAD)


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-499", 0, 499),
        ("bytes=-500", 99_500, 99_999),
        ("bytes=99000-", 99_000, 99_999),
        ("bytes=-200000", 0, 99_999),
        ("bytes=1000-1000", 1000, 1000),
        ("bytes=10-20,15-30", 10, 30),  # coalesced into one range: not multipart
    ],
)
async def test_single_range(
    served: tuple[TestClient, dict[str, Obj]], kind: str, header: str, start: int, end: int
) -> None:
    client, objects = served
    resp = await client.get("/data", headers={"Range": header})
    assert resp.status == 206
    check_common(resp)
    assert resp.headers["Content-Type"] == CT
    assert resp.headers["Content-Range"] == f"bytes {start}-{end}/{len(PAYLOAD)}"
    assert resp.headers["Content-Length"] == str(end - start + 1)
    assert await resp.read() == PAYLOAD[start : end + 1]
    assert sum(objects["data"].sent) == end - start + 1
    if kind == "remote":
        assert objects["data"].calls == [(start, end)]


@pytest.mark.parametrize("header", ["bytes=100000-", "bytes=200000-300000", "bytes=-0"])
async def test_unsatisfiable(served: tuple[TestClient, dict[str, Obj]], header: str) -> None:
    client, objects = served
    resp = await client.get("/data", headers={"Range": header})
    assert resp.status == 416
    assert resp.headers["Content-Range"] == f"bytes */{len(PAYLOAD)}"
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    body = await resp.json()
    assert body["error"]["code"] == "range_not_satisfiable"
    assert body["error"]["message"]
    assert objects["data"].calls == []


@pytest.mark.parametrize(
    "header", ["bytes=abc", "bytes=5-2", "items=0-10", "bytes=0-1,x", "bytes=0-10,5-20,8-30"]
)
async def test_ignored_range(served: tuple[TestClient, dict[str, Obj]], header: str) -> None:
    client, _ = served
    resp = await client.get("/data", headers={"Range": header})
    assert resp.status == 200
    assert "Content-Range" not in resp.headers
    assert await resp.read() == PAYLOAD


# --- multipart/byteranges --------------------------------------------------------------------


async def test_multipart(served: tuple[TestClient, dict[str, Obj]], kind: str) -> None:
    client, objects = served
    resp = await client.get("/data", headers={"Range": "bytes=50000-50099, 0-9,-10"})
    assert resp.status == 206
    check_common(resp)
    assert "Content-Range" not in resp.headers
    ctype = resp.headers["Content-Type"]
    assert ctype.startswith("multipart/byteranges; boundary=")
    reader = aiohttp.MultipartReader.from_response(resp)
    expected = [(0, 9), (50_000, 50_099), (99_990, 99_999)]  # sorted by offset
    for start, end in expected:
        part = await reader.next()
        assert isinstance(part, aiohttp.BodyPartReader)
        assert part.headers["Content-Type"] == CT
        assert part.headers["Content-Range"] == f"bytes {start}-{end}/{len(PAYLOAD)}"
        assert await part.read() == PAYLOAD[start : end + 1]
    assert await reader.next() is None
    if kind == "remote":
        assert objects["data"].calls == expected
    assert sum(objects["data"].sent) == 10 + 100 + 10


async def test_multipart_boundary_is_random(served: tuple[TestClient, dict[str, Obj]]) -> None:
    client, _ = served
    seen = set()
    for _ in range(3):
        resp = await client.get("/data", headers={"Range": "bytes=0-0,1000-1000"})
        seen.add(resp.headers["Content-Type"])
        await resp.read()
    assert len(seen) == 3


# --- validators ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("if_range", "status"),
    [
        (ETAG, 206),
        ('"stale"', 200),
        ('W/"v1"', 200),
        (LM_HTTP, 206),
        ("Fri, 01 Mar 2024 11:00:00 GMT", 200),
    ],
)
async def test_if_range(
    served: tuple[TestClient, dict[str, Obj]], if_range: str, status: int
) -> None:
    client, _ = served
    resp = await client.get("/data", headers={"Range": "bytes=10-19", "If-Range": if_range})
    assert resp.status == status
    body = await resp.read()
    assert body == (PAYLOAD[10:20] if status == 206 else PAYLOAD)


@pytest.mark.parametrize(
    "headers",
    [
        {"If-None-Match": ETAG},
        {"If-None-Match": 'W/"v1", "other"'},
        {"If-None-Match": "*"},
        {"If-Modified-Since": LM_HTTP},
        {"If-None-Match": ETAG, "Range": "bytes=0-1"},
    ],
)
async def test_not_modified(
    served: tuple[TestClient, dict[str, Obj]], headers: dict[str, str]
) -> None:
    client, objects = served
    resp = await client.get("/data", headers=headers)
    assert resp.status == 304
    assert resp.headers["ETag"] == ETAG
    assert resp.headers["Cache-Control"] == "private, max-age=60"
    assert await resp.read() == b""
    assert objects["data"].calls == []


async def test_modified(served: tuple[TestClient, dict[str, Obj]]) -> None:
    client, _ = served
    resp = await client.get(
        "/data", headers={"If-None-Match": '"old"', "If-Modified-Since": LM_HTTP}
    )
    assert resp.status == 200  # If-None-Match present: If-Modified-Since is not looked at
    resp = await client.get("/data", headers={"If-Modified-Since": "Fri, 01 Mar 2024 11:00:00 GMT"})
    assert resp.status == 200
    assert await resp.read() == PAYLOAD


async def test_precondition_failed(served: tuple[TestClient, dict[str, Obj]]) -> None:
    client, _ = served
    resp = await client.get("/data", headers={"If-Match": '"other"'})
    assert resp.status == 412
    assert (await resp.json())["error"]["code"] == "precondition_failed"
    resp = await client.get("/data", headers={"If-Match": ETAG})
    assert resp.status == 200


# --- HEAD, empty objects, errors -------------------------------------------------------------


async def test_head(served: tuple[TestClient, dict[str, Obj]]) -> None:
    client, objects = served
    resp = await client.head("/data")
    assert resp.status == 200
    check_common(resp)
    assert resp.headers["Content-Length"] == str(len(PAYLOAD))
    assert resp.headers["Content-Type"] == CT
    assert await resp.read() == b""
    resp = await client.head("/data", headers={"Range": "bytes=5-9"})
    assert resp.status == 206
    assert resp.headers["Content-Length"] == "5"
    assert resp.headers["Content-Range"] == f"bytes 5-9/{len(PAYLOAD)}"
    assert objects["data"].calls == []
    assert objects["data"].sent == []


@pytest.mark.parametrize("headers", [{}, {"Range": "bytes=0-10"}, {"Range": "bytes=-5"}])
async def test_empty(served: tuple[TestClient, dict[str, Obj]], headers: dict[str, str]) -> None:
    client, _ = served
    resp = await client.get("/empty", headers=headers)
    assert resp.status == 200
    assert resp.headers["Content-Length"] == "0"
    assert resp.headers["Content-Type"] == CT
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert await resp.read() == b""


async def test_open_errors_raise_before_headers(
    served: tuple[TestClient, dict[str, Obj]], kind: str
) -> None:
    client, objects = served
    if kind == "local":
        assert objects["data"].path is not None
        objects["data"].path.unlink()
    else:
        objects["data"].missing = True
    resp = await client.get("/data")
    assert resp.status == 404
    assert (await resp.json())["error"]["code"] == "not_found"


async def test_short_object_drops_the_connection(
    served: tuple[TestClient, dict[str, Obj]], kind: str
) -> None:
    client, objects = served
    obj = objects["data"]
    if kind == "local":
        assert obj.path is not None
        obj.path.write_bytes(PAYLOAD[:60_000])
        # the file opened is measured first: refused before any header (no cut 200)
        assert (await client.get("/data")).status == 500
        return
    obj.data = PAYLOAD[:60_000]
    resp = await client.get("/data")
    assert resp.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()


async def test_short_local_file_small_range_fails_before_headers(
    tmp_path: Path, aiohttp_client: ClientFactory
) -> None:
    app = make_app(tmp_path, "local", {"data": PAYLOAD})
    obj = app[OBJECTS]["data"]
    assert obj.path is not None
    obj.path.write_bytes(PAYLOAD[:60_000])
    client = await aiohttp_client(app)
    resp = await client.get("/data", headers={"Range": "bytes=59990-60009"})
    assert resp.status == 500  # StorageUnavailable reached the handler: nothing was sent yet
    # a range the short file still holds is refused too: the file is not the one recorded
    resp = await client.get("/data", headers={"Range": "bytes=0-9"})
    assert resp.status == 500


async def test_upstream_failure_mid_body(
    tmp_path: Path, aiohttp_client: ClientFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(tmp_path, "remote", {"big": 2 * MiB})
    obj = app[OBJECTS]["big"]
    obj.fail_at = MiB
    client = await aiohttp_client(app)
    resp = await client.get("/big")
    assert resp.status == 200
    with pytest.raises(aiohttp.ClientPayloadError):
        await resp.read()
    assert obj.closed.is_set()
    assert "Reading failed while sending /big" in caplog.text


async def test_small_reads_without_pread(
    tmp_path: Path, aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "_pread", streaming._seek_read)  # as on Windows
    app = make_app(tmp_path, "local", {"data": PAYLOAD})
    client = await aiohttp_client(app)
    for start in (0, 5000, 99_990):
        resp = await client.get("/data", headers={"Range": f"bytes={start}-{start + 9}"})
        assert await resp.read() == PAYLOAD[start : start + 10]
    assert app[OBJECTS]["data"].sent == [10, 10, 10]


async def test_remote_reads_big_chunks(tmp_path: Path, aiohttp_client: ClientFactory) -> None:
    data = random.Random(3).randbytes(2 * MiB)
    app = make_app(tmp_path, "remote", {"big": data})
    obj = app[OBJECTS]["big"]
    obj.piece = 16 * KiB  # the store yields small pieces: they are joined before writing
    client = await aiohttp_client(app)
    resp = await client.get("/big")
    assert await resp.read() == data
    assert obj.calls == [(0, len(data) - 1)]
    assert sum(obj.sent) == len(data)
    assert all(256 * KiB <= n < 512 * KiB for n in obj.sent[:-1])
    assert len(obj.sent) >= 4  # streamed, never buffered whole
    for _ in range(100):  # closed by the reader thread just after the last write
        if obj.closed.is_set():
            break
        await asyncio.sleep(0.05)
    assert obj.closed.is_set()


async def test_remote_reads_in_the_apps_threads(
    tmp_path: Path, aiohttp_client: ClientFactory
) -> None:
    app = make_app(tmp_path, "remote", {"data": PAYLOAD}, threads="streams")
    client = await aiohttp_client(app)
    resp = await client.get("/data", headers={"Range": "bytes=0-9,50000-50009"})
    assert resp.status == 206
    await resp.read()
    obj = app[OBJECTS]["data"]
    assert len(obj.calls) == 2
    assert obj.threads and all(name.startswith("streams") for name in obj.threads)


async def test_local_fallback_without_sendfile(
    tmp_path: Path, aiohttp_client: ClientFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(streaming, "SENDFILE", False)
    data = random.Random(5).randbytes(700 * KiB)
    client = await aiohttp_client(make_app(tmp_path, "local", {"f": data}))
    resp = await client.get("/f")
    assert await resp.read() == data
    resp = await client.get("/f", headers={"Range": "bytes=1-2,300000-600000"})
    raw = await resp.read()
    assert data[300_000:600_001] in raw
    assert resp.headers["Content-Length"] == str(len(raw))


# --- a real server on a loopback port, raw clients -------------------------------------------


@pytest.fixture
async def real_server(
    kind: str, tmp_path: Path
) -> AsyncIterator[tuple[TestServer, dict[str, Obj]]]:
    app = make_app(tmp_path, kind, {"data": PAYLOAD, "empty": b""})
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield server, app[OBJECTS]
    await server.close()


def raw_exchange(port: int, request: bytes, limit: int | None = None) -> bytes:
    """Sends a raw request; returns everything until the server closes (or `limit` bytes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        received = bytearray()
        while limit is None or len(received) < limit:
            chunk = sock.recv(65536)
            if not chunk:
                break
            received += chunk
    return bytes(received)


def split_response(raw: bytes) -> tuple[str, dict[str, str], bytes]:
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return lines[0], headers, body


def get(path: str, *headers: str, method: str = "GET") -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: t", "Connection: close", *headers, "", ""]
    return "\r\n".join(lines).encode()


async def test_raw_single_range(real_server: tuple[TestServer, dict[str, Obj]]) -> None:
    server, _ = real_server
    assert server.port is not None
    raw = await asyncio.to_thread(raw_exchange, server.port, get("/data", "Range: bytes=7-16"))
    status, headers, body = split_response(raw)
    assert status == "HTTP/1.1 206 Partial Content"
    assert headers["content-range"] == "bytes 7-16/100000"
    assert headers["content-length"] == "10"
    assert "transfer-encoding" not in headers
    assert body == PAYLOAD[7:17]


async def test_raw_multipart_bytes(real_server: tuple[TestServer, dict[str, Obj]]) -> None:
    server, _ = real_server
    assert server.port is not None
    raw = await asyncio.to_thread(raw_exchange, server.port, get("/data", "Range: bytes=0-4,-3"))
    status, headers, body = split_response(raw)
    assert status == "HTTP/1.1 206 Partial Content"
    boundary = headers["content-type"].split("boundary=")[1]
    expected = (
        f"--{boundary}\r\nContent-Type: {CT}\r\nContent-Range: bytes 0-4/100000\r\n\r\n".encode()
        + PAYLOAD[:5]
        + f"\r\n--{boundary}\r\nContent-Type: {CT}\r\n"
        f"Content-Range: bytes 99997-99999/100000\r\n\r\n".encode()
        + PAYLOAD[-3:]
        + f"\r\n--{boundary}--\r\n".encode()
    )
    assert body == expected
    assert headers["content-length"] == str(len(expected))


async def test_raw_416_and_head(real_server: tuple[TestServer, dict[str, Obj]]) -> None:
    server, _ = real_server
    assert server.port is not None
    raw = await asyncio.to_thread(raw_exchange, server.port, get("/data", "Range: bytes=100000-"))
    status, headers, body = split_response(raw)
    assert status == "HTTP/1.1 416 Range Not Satisfiable"
    assert headers["content-range"] == "bytes */100000"
    assert json.loads(body)["error"]["code"] == "range_not_satisfiable"

    raw = await asyncio.to_thread(raw_exchange, server.port, get("/data", method="HEAD"))
    status, headers, body = split_response(raw)
    assert status == "HTTP/1.1 200 OK"
    assert headers["content-length"] == "100000"
    assert body == b""


async def test_http_client_keepalive(real_server: tuple[TestServer, dict[str, Obj]]) -> None:
    """Several responses on one connection: every body is exactly its Content-Length."""
    server, _ = real_server
    assert server.port is not None

    def exchange() -> list[tuple[int, bytes]]:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        out = []
        for headers in (
            {"Range": "bytes=0-9"},
            {},
            {"Range": "bytes=1-1,99-99"},
            {"If-None-Match": ETAG},
            {"Range": "bytes=-1"},
        ):
            conn.request("GET", "/data", headers=headers)
            resp = conn.getresponse()
            out.append((resp.status, resp.read()))
        conn.request("GET", "/empty")
        resp = conn.getresponse()
        out.append((resp.status, resp.read()))
        conn.close()
        return out

    results = await asyncio.to_thread(exchange)
    assert [status for status, _ in results] == [206, 200, 206, 304, 206, 200]
    assert results[0][1] == PAYLOAD[:10]
    assert results[1][1] == PAYLOAD
    assert results[3][1] == b""
    assert results[4][1] == PAYLOAD[-1:]
    assert results[5][1] == b""


@pytest.mark.parametrize("cancel", [False, True], ids=["plain", "handler_cancellation"])
async def test_disconnect_stops_upstream(tmp_path: Path, kind: str, cancel: bool) -> None:
    """A client leaving mid-body ends the handler and closes the upstream generator promptly.

    aiohttp's default (`handler_cancellation=False`) sees the reset on the next write; with
    cancellation on, the handler is cancelled mid-await. Both must close the generator.
    """
    app = make_app(tmp_path, kind, {"huge": 256 * MiB, "data": PAYLOAD})
    huge = app[OBJECTS]["huge"]
    runner = web.AppRunner(app, handler_cancellation=cancel)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = runner.addresses[0][1]
        raw = await asyncio.to_thread(raw_exchange, port, get("/huge"), 1 * MiB)
        assert raw.startswith(b"HTTP/1.1 200 OK")
        for _ in range(200):
            if huge.handled and (kind != "remote" or huge.closed.is_set()):
                break
            await asyncio.sleep(0.05)
        assert huge.handled == 1, "the handler did not end after the client left"
        if kind == "remote":
            assert huge.closed.is_set(), "upstream generator not closed"
            assert huge.calls == [(0, 256 * MiB - 1)]
        assert 1 * MiB <= sum(huge.sent) < 64 * MiB
        # the server is still fine
        raw = await asyncio.to_thread(raw_exchange, port, get("/data", "Range: bytes=0-1"))
        assert split_response(raw)[2] == PAYLOAD[:2]
    finally:
        await runner.cleanup()
