"""`Expect: 100-continue` on the upload routes, over raw sockets to the real server: a request
the server refuses (no or a bad token or signature, a declared size past the limit) gets its
final answer instead of `100 Continue`, so the client never sends the body (RFC 9110 10.1.1)."""

from __future__ import annotations

import json
import socket
from typing import Any
from urllib.parse import urlsplit

import pytest

from server.entry import EmbeddedServer
from tests.resumable_client import confirm, create, presign
from tests.server_fixtures import Tokens, bearer, multipart_body

pytestmark = pytest.mark.timeout(60)

EXPECT = {"Expect": "100-continue"}
HUGE = 999_999_999_999  # past any MAX_FILE_SIZE
TUS = {"Tus-Resumable": "1.0.0", "Content-Type": "application/offset+octet-stream"}


class Conversation:
    """One HTTP/1.1 connection spoken byte by byte: what a client waiting for 100 reads."""

    def __init__(self, live: EmbeddedServer) -> None:
        port = urlsplit(live.url).port
        assert port is not None
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffer = b""

    def close(self) -> None:
        self.sock.close()

    def send_head(self, method: str, target: str, headers: dict[str, str]) -> None:
        lines = [f"{method} {target} HTTP/1.1", "Host: mediadesk.test"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        """The next answer: status, headers (lower-case names), body (by Content-Length)."""
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, f"connection closed after {self.buffer!r}"
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *fields = head.decode("latin-1").split("\r\n")
        headers = {}
        for field in fields:
            name, _, value = field.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        while len(self.buffer) < length:
            chunk = self.sock.recv(65536)
            assert chunk, "connection closed within the body"
            self.buffer += chunk
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return int(status_line.split()[1]), headers, body


def _refused(
    live: EmbeddedServer, method: str, target: str, headers: dict[str, str]
) -> tuple[int, str, dict[str, str]]:
    talk = Conversation(live)
    try:
        talk.send_head(method, target, {**EXPECT, **headers})
        status, got, body = talk.answer()
    finally:
        talk.close()
    assert status != 100, f"{method} {target}: 100 Continue to a request it then refuses"
    return status, json.loads(body)["error"]["code"], got


def test_refusals_are_answered_instead_of_100_continue(
    live: EmbeddedServer, tokens: Tokens
) -> None:
    signed = presign(live.url, tokens.upload, 1000).json()["upload_url"]
    signed_path = urlsplit(signed).path + "?" + urlsplit(signed).query
    sig = signed_path.split("sig=")[1][:1]
    tampered = signed_path.replace("sig=" + sig, "sig=" + ("1" if sig == "0" else "0"))
    tus = create(live.url, tokens.upload, 1000).headers["Location"]
    form = {"Content-Type": "multipart/form-data; boundary=a"}
    png = {"Content-Type": "image/png"}
    cases: list[tuple[str, str, dict[str, str], int, str]] = [
        # (method, target, headers, status, code): the repro's two first
        ("POST", "/files/upload/direct", {**form, "Content-Length": "50000"}, 401, "unauthorized"),
        (
            "POST",
            "/files/upload/direct",
            {**form, **bearer(tokens.upload), "Content-Length": str(HUGE)},
            413,
            "too_large",
        ),
        (
            "POST",
            "/files/upload/direct",
            {**form, **bearer("mdk_not_a_token"), "Content-Length": "5000"},
            401,
            "invalid_token",
        ),
        (
            "POST",
            "/files/upload/direct",
            {**form, **bearer(tokens.read), "Content-Length": "5000"},
            403,
            "insufficient_scope",
        ),
        ("PUT", tampered, {**png, "Content-Length": "1000"}, 403, "invalid_signature"),
        ("PUT", signed_path, {**png, "Content-Length": str(HUGE)}, 413, "too_large"),
        (
            "POST",
            "/files/upload/tus",
            {**TUS, "Upload-Length": "1000", "Content-Length": "1000"},
            401,
            "unauthorized",
        ),
        (
            "POST",
            "/files/upload/tus",
            {**TUS, **bearer(tokens.upload), "Upload-Length": "10", "Content-Length": str(HUGE)},
            413,
            "too_large",
        ),
        (
            "PATCH",
            urlsplit(tus).path,
            {**TUS, "Upload-Offset": "0", "Content-Length": "1000"},
            401,
            "unauthorized",
        ),
        (
            "PATCH",
            urlsplit(tus).path,
            {**TUS, **bearer(tokens.upload), "Upload-Offset": "0", "Content-Length": str(HUGE)},
            413,
            "too_large",
        ),
    ]
    for method, target, headers, status, code in cases:
        got_status, got_code, got = _refused(live, method, target, headers)
        assert (got_status, got_code) == (status, code), (method, target, headers)
        # the body it announced is not read: the client is told the connection ends
        assert got.get("connection", "").lower() == "close", (method, target, got)
        assert got.get("x-request-id"), got


def _continued(
    live: EmbeddedServer, method: str, target: str, headers: dict[str, str], body: bytes
) -> tuple[int, Any]:
    talk = Conversation(live)
    try:
        talk.send_head(method, target, {**EXPECT, **headers, "Content-Length": str(len(body))})
        first, _, _ = talk.answer()
        assert first == 100, (method, target, first)
        talk.sock.sendall(body)
        status, _, answer = talk.answer()
    finally:
        talk.close()
    return status, json.loads(answer) if answer else None


def test_accepted_uploads_get_100_continue_then_their_answer(
    live: EmbeddedServer, tokens: Tokens, media_dir: Any
) -> None:
    jpeg = media_dir.jpeg.read_bytes()
    body, ctype = multipart_body({"file_type": "image"}, {"file": ("a.jpg", jpeg, "image/jpeg")})
    status, made = _continued(
        live,
        "POST",
        "/files/upload/direct",
        {"Content-Type": ctype, **bearer(tokens.upload)},
        body,
    )
    assert status == 201 and made["file_type"] == "image", made

    png = media_dir.png.read_bytes()
    signed = urlsplit(presign(live.url, tokens.upload, len(png)).json()["upload_url"])
    status, put = _continued(
        live,
        "PUT",
        f"{signed.path}?{signed.query}",
        {"Content-Type": "image/png"},
        png,
    )
    assert status == 200 and put["size"] == len(png), put

    gif = media_dir.gif.read_bytes()
    tus = create(live.url, tokens.upload, len(gif), filename="a.gif", file_type="image")
    status, _ = _continued(
        live,
        "PATCH",
        urlsplit(tus.headers["Location"]).path,
        {**TUS, **bearer(tokens.upload), "Upload-Offset": "0"},
        gif,
    )
    assert status == 204


def test_declared_headers_the_route_refuses_are_answered_instead_of_100(
    live: EmbeddedServer, tokens: Tokens, media_dir: Any
) -> None:
    """The route's own checks of the headers (a signed URL's size and type, tus's lengths,
    offset and content type) run before the 100: a client is not told to send a body that a
    403/409/413/415 then refuses (an outside tester: curl sent 2.6 MB of it)."""
    # a presign that names its type binds the PUT to it (without one any type is taken)
    signed = presign(live.url, tokens.upload, 1000, content_type="image/png").json()
    signed = urlsplit(signed["upload_url"])
    signed_path = f"{signed.path}?{signed.query}"
    png = media_dir.png.read_bytes()
    presigned = presign(live.url, tokens.upload, len(png)).json()
    used = urlsplit(presigned["upload_url"])
    used_path = f"{used.path}?{used.query}"
    status, _ = _continued(live, "PUT", used_path, {"Content-Type": "image/png"}, png)
    assert status == 200
    assert confirm(live.url, tokens.upload, presigned["file_id"]).status == 200
    tus = urlsplit(create(live.url, tokens.upload, 5_000_000).headers["Location"]).path
    upload = {**TUS, **bearer(tokens.upload)}
    cases: list[tuple[str, str, dict[str, str], int, str]] = [
        (
            "PUT",
            signed_path,
            {"Content-Type": "image/png", "Content-Length": "5000000"},
            403,
            "content_length_mismatch",
        ),
        (
            "PUT",
            signed_path,
            {"Content-Type": "image/jpeg", "Content-Length": "1000"},
            403,
            "content_type_mismatch",
        ),
        (
            "PUT",
            used_path,
            {"Content-Type": "image/png", "Content-Length": str(len(png))},
            409,
            "conflict",
        ),
        (
            "POST",
            "/files/upload/tus",
            {**upload, "Upload-Length": "100", "Content-Length": "50000000"},
            413,
            "too_large",
        ),
        (
            "POST",
            "/files/upload/tus",
            {**upload, "Upload-Length": str(HUGE), "Content-Length": "10"},
            413,
            "too_large",
        ),
        (
            "POST",
            "/files/upload/tus",
            {**upload, "Content-Type": "image/png", "Upload-Length": "100", "Content-Length": "10"},
            415,
            "unsupported_media_type",
        ),
        (
            "PATCH",
            tus,
            {**upload, "Upload-Offset": "0", "Content-Length": "60000000"},
            413,
            "too_large",
        ),
        (
            "PATCH",
            tus,
            {**upload, "Upload-Offset": "77", "Content-Length": "1000"},
            409,
            "offset_mismatch",
        ),
        (
            "PATCH",
            tus,
            {**upload, "Content-Type": "image/png", "Upload-Offset": "0", "Content-Length": "10"},
            415,
            "unsupported_media_type",
        ),
        (
            "PATCH",
            "/files/upload/tus/" + "0" * 32,
            {**upload, "Upload-Offset": "0", "Content-Length": "10"},
            404,
            "not_found",
        ),
    ]
    for method, target, headers, status, code in cases:
        got_status, got_code, got = _refused(live, method, target, headers)
        assert (got_status, got_code) == (status, code), (method, target, headers)
        assert got.get("connection", "").lower() == "close", (method, target, got)
        if target.startswith("/files/upload/tus"):
            assert got.get("tus-resumable") == "1.0.0", got  # as the route's own errors

    # the refused PATCHes held the upload only while checked: the next one is taken
    status, _ = _continued(live, "PATCH", tus, {**upload, "Upload-Offset": "0"}, b"x" * 1000)
    assert status == 204
