"""Clients that start a request and go quiet are let go, over real HTTP on loopback.

A head pipelined behind a request in the same packet is held to the header timeout like any
next head on a kept-alive connection; a body that stops arriving gets 408 request_timeout
after rawbody.IDLE_TIMEOUT seconds whatever its size and framing, and frees what it held (a
signed PUT's body thread, one of MEDIADESK_UPLOAD_BODIES). IDLE_TIMEOUT is patched to a
second here, the header timeout set to one.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

import server.rawbody
from core.library import Library
from server.config import ServerConfig
from server.entry import EmbeddedServer
from tests.faults import open_request, put_stalled, wait_bodies_held, wait_for
from tests.resumable_client import create, head
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body

pytestmark = pytest.mark.timeout(90)
QUIET = 1.0  # seconds: the header timeout and the body idle timeout of these tests


@pytest.fixture
def quiet_server(library: Library, monkeypatch: Any) -> Iterator[EmbeddedServer]:
    monkeypatch.setattr(server.rawbody, "IDLE_TIMEOUT", QUIET)
    settings = dataclasses.replace(library.settings, upload_bodies=1)
    config = ServerConfig.from_settings(
        settings,
        host="127.0.0.1",
        port=0,
        executor_workers=4,
        maintenance_interval=0,
        upload_rate_limit=0,
        header_timeout=QUIET,
    )
    with EmbeddedServer(library, config=config) as served:
        yield served


def _closed_after(conn: socket.socket, within: float) -> tuple[float, bytes]:
    """Seconds until the server closed the connection, and all it sent (fails past `within`)."""
    started = time.monotonic()
    conn.settimeout(within)
    answer = b""
    try:
        while chunk := conn.recv(65536):
            answer += chunk
    except ConnectionResetError:
        pass
    return time.monotonic() - started, answer


def _still_open(conn: socket.socket, after: float) -> bytes:
    """What the server sent within `after` seconds; fails if it closed the connection."""
    conn.settimeout(0.2)
    answer = b""
    deadline = time.monotonic() + after
    while time.monotonic() < deadline:
        try:
            chunk = conn.recv(65536)
        except TimeoutError:
            continue
        assert chunk, f"closed: {answer!r}"
        answer += chunk
    return answer


def _raw(srv: EmbeddedServer, data: bytes) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", srv.port), timeout=10)
    conn.sendall(data)
    return conn


GET = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
PARTIAL = b"GET /health HTTP/1.1\r\nHost: x\r\n"


def test_a_partial_head_pipelined_in_the_same_packet_is_held_to_the_header_timeout(
    quiet_server: EmbeddedServer,
) -> None:
    # behind a request with a body whose bytes hold a blank line of their own too
    body = b"a\r\n\r\nb"
    head = f"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()

    def closed(sent: bytes) -> tuple[float, bytes]:
        conn = _raw(quiet_server, sent)
        try:
            return _closed_after(conn, within=15)
        finally:
            conn.close()

    # the two connections side by side: each waits out a header timeout of its own
    with ThreadPoolExecutor(2) as pool:
        plain, behind_body = (
            pool.submit(closed, GET + PARTIAL),
            pool.submit(closed, head + body + PARTIAL),
        )
        (took, answer), (took_behind, answer_behind) = plain.result(), behind_body.result()
    assert answer.startswith(b"HTTP/1.1 200"), answer
    assert took < QUIET + 4, took
    assert answer_behind.startswith(b"HTTP/1.1 405"), answer_behind
    assert took_behind < QUIET + 4, took_behind


def test_a_kept_alive_connection_without_a_next_head_stays_open(
    quiet_server: EmbeddedServer,
) -> None:
    """Idle keep-alive is aiohttp's keepalive_timeout, not the header timeout: a request
    ending its packet (a body's blank lines included) leaves nothing to time."""
    body = b"x\r\n\r\n"
    head = f"POST /health HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n\r\n".encode()

    def kept_open(sent: bytes) -> None:
        conn = _raw(quiet_server, sent)
        try:
            answer = _still_open(conn, after=QUIET * 3)
            assert answer.count(b"HTTP/1.1 ") == sent.count(b"HTTP/1.1\r\n"), answer
            conn.sendall(GET)  # still usable
            assert b"HTTP/1.1 200" in _still_open(conn, after=0.5)
        finally:
            conn.close()

    # the three connections side by side: each waits out three header timeouts of its own
    with ThreadPoolExecutor(3) as pool:
        for done in [pool.submit(kept_open, sent) for sent in (GET, GET + GET, head + body)]:
            done.result()


def _is_request_timeout(answer: bytes) -> None:
    text = answer.decode("latin-1")
    assert text.startswith("HTTP/1.1 408"), text
    assert '"code": "request_timeout"' in text and "Connection: close" in text, text
    assert f"No byte of the body arrived for {QUIET:g} s" in text, text


def test_a_quiet_small_tus_patch_is_answered_408_and_its_bytes_kept(
    quiet_server: EmbeddedServer, library: Library
) -> None:
    token = make_tokens(library).upload

    def quiet_patch(chunked: bool) -> None:
        url = quiet_server.url + create(quiet_server.url, token, 100_000).headers["Location"]
        framing = "Transfer-Encoding: chunked" if chunked else "Content-Length: 100000"
        line = f"PATCH /{url.split('/', 3)[3]} HTTP/1.1\r\n"
        conn = open_request(
            quiet_server.url,
            line + f"Host: x\r\nAuthorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n"
            f"Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
            f"{framing}\r\n\r\n",
            b"4\r\nabcd\r\n" if chunked else b"abcd",
        )
        took, answer = _closed_after(conn, within=20)
        conn.close()
        _is_request_timeout(answer)
        assert "Tus-Resumable: 1.0.0" in answer.decode("latin-1")
        assert took < QUIET + 8, took
        assert head(url, token).headers["Upload-Offset"] == "4"

    # both framings side by side (an upload each): each waits out an idle timeout of its own
    with ThreadPoolExecutor(2) as pool:
        for done in [pool.submit(quiet_patch, chunked) for chunked in (False, True)]:
            done.result()


def _presign(srv: EmbeddedServer, token: str) -> dict[str, Any]:
    form, form_type = multipart_body(
        {"original_filename": "q.jpg", "file_type": "image", "content_type": "image/jpeg"}
    )
    reply = http_call(
        f"{srv.url}/files/upload/presigned",
        "POST",
        form,
        {**bearer(token), "Content-Type": form_type},
    )
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]


def _body_threads() -> int:
    return sum(t.name.endswith("-long") for t in threading.enumerate())


def test_a_quiet_signed_put_is_answered_408_and_frees_its_body_slot(
    quiet_server: EmbeddedServer, library: Library, media_dir: Any
) -> None:
    """MEDIADESK_UPLOAD_BODIES is 1: a stalled PUT held it, and every other signed upload got
    503 server_busy until its client closed the socket."""
    token = make_tokens(library).upload
    data = media_dir.jpeg.read_bytes()
    grant = _presign(quiet_server, token)
    conn = put_stalled(grant["upload_url"], data, sent=4)
    wait_bodies_held(1)
    took, answer = _closed_after(conn, within=20)
    conn.close()
    _is_request_timeout(answer)
    assert took < QUIET + 8, took
    wait_for(lambda: _body_threads() == 0, what="the body thread let go")
    # nothing half-written: the same URL takes the whole file, and the slot is free for it
    put = http_call(grant["upload_url"], "PUT", data, {"Content-Type": "image/jpeg"})
    assert put.status in (200, 201), put.body
    done = http_call(
        f"{quiet_server.url}/files/{grant['file_id']}/confirm-upload", "POST", b"", bearer(token)
    )
    assert done.status in (200, 201), done.body
    assert done.json()["size"] == len(data)


def test_a_quiet_direct_upload_is_answered_408_and_leaves_no_spool_file(
    quiet_server: EmbeddedServer, library: Library
) -> None:
    token = make_tokens(library).upload
    boundary = "XyZ"
    start = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file_type"\r\n\r\nimage\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode() + b"\xff\xd8\xff"
    conn = open_request(
        quiet_server.url,
        f"POST /files/upload/direct HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        "Content-Length: 100000\r\n\r\n",
        start,
    )
    took, answer = _closed_after(conn, within=20)
    conn.close()
    _is_request_timeout(answer)
    assert took < QUIET + 8, took
    tmp = library.paths.tmp_dir
    wait_for(lambda: not [p for p in tmp.rglob("*") if p.is_file()], what="no spool file left")
    listed = http_call(f"{quiet_server.url}/files/", headers=bearer(make_tokens(library).read))
    assert listed.status == 200 and not listed.json()["items"], listed.body


@pytest.mark.parametrize(
    "content_type, start",
    [("application/json", b'{"filename": "a'), ("application/x-www-form-urlencoded", b"file")],
)
def test_a_quiet_small_body_of_fields_is_answered_408(
    quiet_server: EmbeddedServer, library: Library, content_type: str, start: bytes
) -> None:
    """The bodies of fields (a presign's JSON or form, a PATCH's JSON) were read whole by
    aiohttp with no limit in time: a client that stopped after a few bytes kept its connection
    for as long as it kept the socket open."""
    token = make_tokens(library).upload
    conn = open_request(
        quiet_server.url,
        f"POST /files/upload/presigned HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: 500\r\n\r\n",
        start,
    )
    took, answer = _closed_after(conn, within=20)
    conn.close()
    _is_request_timeout(answer)
    assert took < QUIET + 8, took


@pytest.mark.parametrize(
    "content_type, body",
    [
        ("application/json", b'{"name": "Slow phone"}'),
        ("application/x-www-form-urlencoded", b"name=Slow+phone+x"),
    ],
)
def test_a_small_body_of_fields_that_keeps_arriving_is_not_cut(
    quiet_server: EmbeddedServer, library: Library, content_type: str, body: bytes
) -> None:
    """The limit is on silence, not on the whole body: a phone on a slow link sends a JSON or
    form body for longer than the idle timeout, a byte at a time, and it is taken (the first
    version timed the whole read and answered 408 'No byte … arrived' to it)."""
    token = make_tokens(library).admin
    conn = _raw(
        quiet_server,
        f"POST /athletes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n".encode(),
    )
    gap = QUIET * 2.5 / len(body)  # the whole body takes 2.5× the limit, no pause near it
    for byte in body:
        conn.sendall(bytes([byte]))
        time.sleep(gap)
    _took, answer = _closed_after(conn, within=20)
    conn.close()
    assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
