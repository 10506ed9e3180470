"""Size limits (413 without reading the body) and the local backend's signed URLs (403)."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

import pytest

from core.library import Library
from core.storage.factory import SIGNING_KEY_FILE
from core.storage.signing import LocalPresigner, load_or_create_secret
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.internals import storage_of
from tests.server_fixtures import bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(60)
LIMIT = 1_000_000


@pytest.fixture
def small(data_dir: Path) -> Iterator[EmbeddedServer]:
    """A live server whose MAX_FILE_SIZE is 1 MB."""
    lib = Library.open(make_settings(data_dir, max_file_size=LIMIT))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    yield server
    server.stop()
    lib.close()


def _read_response(sock: socket.socket, timeout: float = 5.0) -> bytes:
    sock.settimeout(timeout)
    data = b""
    try:
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    return data


def _head(path: str, port: int, token: str, extra: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {token}\r\n{extra}\r\n"
    ).encode()


def test_413_at_once_from_content_length(small: EmbeddedServer) -> None:
    token = make_tokens(small.library).upload
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", small.port)) as sock:
        sock.sendall(
            _head(
                "/files/upload/direct",
                small.port,
                token,
                "Content-Type: multipart/form-data; boundary=xyz\r\nContent-Length: 500000000\r\n",
            )
        )
        sock.sendall(
            b'--xyz\r\nContent-Disposition: form-data; name="file_type"\r\n\r\n'
            b"image\r\n" + b"x" * 2000
        )
        reply = _read_response(sock)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b'"too_large"' in reply and b"Connection: close" in reply
    assert time.monotonic() - started < 3


def _stream_until_answer(
    sock: socket.socket, first: bytes, chunk: bytes, cap: int, chunked: bool = True
) -> int:
    """Sends body chunks until the server answers; returns how many body bytes were sent."""
    sock.sendall(first)
    sent = 0
    while sent < cap:
        readable, _, _ = select.select([sock], [], [], 0)
        if readable:
            break
        piece = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n" if chunked else chunk
        try:
            sock.sendall(piece)
        except (BrokenPipeError, ConnectionResetError):
            break
        sent += len(chunk)
    return sent


def test_413_while_streaming_a_chunked_upload(small: EmbeddedServer) -> None:
    token = make_tokens(small.library).upload
    with socket.create_connection(("127.0.0.1", small.port)) as sock:
        sock.settimeout(5)
        head = _head(
            "/files/upload/direct",
            small.port,
            token,
            "Content-Type: multipart/form-data; boundary=xyz\r\nTransfer-Encoding: chunked\r\n",
        )
        part = (
            b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"'
            b"\r\nContent-Type: image/jpeg\r\n\r\n"
        )
        first = head + f"{len(part):x}\r\n".encode() + part + b"\r\n"
        sent = _stream_until_answer(sock, first, b"\xff" * 65536, 40 * LIMIT)
        reply = _read_response(sock)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert sent < 20 * LIMIT  # the server answered long before the body ended
    leftovers = [p for p in small.library.paths.tmp_dir.rglob("*") if p.is_file()]
    assert leftovers == []


def _presign(server: EmbeddedServer, token: str, **fields: str) -> dict[str, Any]:
    body = urlencode({"original_filename": "p.jpg", "file_type": "image", **fields}).encode()
    resp = http_call(
        f"{server.url}/files/upload/presigned",
        "POST",
        body,
        {"Content-Type": "application/x-www-form-urlencoded", **bearer(token)},
    )
    assert resp.status == 201, resp.body
    return resp.json()


def _with_query(url: str, **changes: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    query.update(changes)
    return parts._replace(query=urlencode(query)).geturl()


def test_signed_put_limits(small: EmbeddedServer, media_dir: Any) -> None:
    token = make_tokens(small.library).upload
    upload = _presign(small, token)
    path = urlsplit(upload["upload_url"])
    target = path.path + "?" + path.query
    with socket.create_connection(("127.0.0.1", small.port)) as sock:
        sock.sendall(
            (
                f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
                "Content-Length: 900000000\r\n\r\n"
            ).encode()
            + b"\xff" * 1000
        )
        reply = _read_response(sock)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    with socket.create_connection(("127.0.0.1", small.port)) as sock:
        sock.settimeout(5)
        first = (
            f"PUT {target} HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\n"
            "Transfer-Encoding: chunked\r\n\r\n"
        ).encode()
        sent = _stream_until_answer(sock, first, b"\xff" * 65536, 40 * LIMIT)
        reply = _read_response(sock)
    assert reply.startswith(b"HTTP/1.1 413") and sent < 20 * LIMIT
    assert not storage_of(small.library).exists(upload["file_key"])
    objects = small.library.paths.objects_dir
    assert [p for p in objects.rglob("*") if p.is_file()] == []  # no partial object either

    sized = _presign(small, token, size=str(media_dir.jpeg.stat().st_size))
    assert sized["headers"]["Content-Length"] == str(media_dir.jpeg.stat().st_size)
    wrong = http_call(
        sized["upload_url"],
        "PUT",
        media_dir.jpeg.read_bytes() + b"xx",
        {"Content-Type": "image/jpeg"},
    )
    assert wrong.status == 403 and wrong.json()["error"]["code"] == "content_length_mismatch"
    ok = http_call(
        sized["upload_url"], "PUT", media_dir.jpeg.read_bytes(), {"Content-Type": "image/jpeg"}
    )
    assert ok.status == 200


def test_tampered_and_expired_signed_urls(live: EmbeddedServer, media_dir: Any) -> None:
    lib = live.library
    token = make_tokens(lib).upload
    upload = _presign(live, token, content_type="image/jpeg")  # a named type is signed
    url, data = upload["upload_url"], media_dir.jpeg.read_bytes()
    jpeg = {"Content-Type": "image/jpeg"}
    sig = dict(parse_qsl(urlsplit(url).query))["sig"]
    cases = {
        "signature": _with_query(url, sig=("0" if sig[0] != "0" else "1") + sig[1:]),
        "content type": _with_query(url, ct="image/png"),
        "size limit": _with_query(url, max="999999999999"),
        "expiry": _with_query(url, expires=str(int(time.time()) + 999999)),
        "key": url.replace("/signed/general/", "/signed/athletes/1/"),
    }
    for what, bad in cases.items():
        resp = http_call(bad, "PUT", data, jpeg)
        assert resp.status == 403, what
        assert resp.json()["error"]["code"] == "invalid_signature", what
    mismatch = http_call(url, "PUT", data, {"Content-Type": "image/png"})
    assert mismatch.status == 403 and mismatch.json()["error"]["code"] == "content_type_mismatch"
    assert mismatch.json()["error"]["message"] == (
        "The URL is signed for Content-Type 'image/jpeg', not 'image/png'"
    )
    # without a Content-Type the message says so, not "not None" (a Python value)
    untyped = http_call(url, "PUT", data)
    assert untyped.status == 403 and untyped.json()["error"]["code"] == "content_type_mismatch"
    assert untyped.json()["error"]["message"] == (
        "The URL is signed for Content-Type 'image/jpeg', but the request has no Content-Type"
    )
    assert http_call(url, "GET").status == 403  # signed for PUT only
    assert not storage_of(lib).exists(upload["file_key"])

    secret = load_or_create_secret(lib.paths.secrets_dir / SIGNING_KEY_FILE)
    past = LocalPresigner(secret, live.url, clock=lambda: time.time() - 7200)
    expired_put = past.presign_put(upload["file_key"], "image/jpeg", 60).url
    resp = http_call(expired_put, "PUT", data, jpeg)
    assert resp.status == 403 and resp.json()["error"]["code"] == "signature_expired"

    # the signature is the credential: a stray Authorization header is ignored
    assert http_call(url, "PUT", data, {**jpeg, **bearer("mdk_junk")}).status == 200
    confirmed = http_call(
        f"{live.url}/files/{upload['file_id']}/confirm-upload", "POST", b"", bearer(token)
    )
    assert confirmed.status == 200
    key = confirmed.json()["file_key"]
    expired_get = past.presign_get(key, 60, download_name="p.jpg").url
    resp = http_call(expired_get)
    assert resp.status == 403 and resp.json()["error"]["code"] == "signature_expired"
    good = LocalPresigner(secret, live.url).presign_get(key, 60, download_name='año "x".jpg')
    assert http_call(_with_query(good.url, name="other.jpg")).status == 403
    fetched = http_call(good.url, headers={"Range": "bytes=0-99"})
    assert fetched.status == 206 and fetched.body == data[:100]
    disposition = fetched.headers["Content-Disposition"]
    assert disposition == (
        "attachment; filename=\"ano _x_.jpg\"; filename*=UTF-8''a%C3%B1o%20%22x%22.jpg"
    )
