"""Credentials and numbers spelled outside ASCII, from a client that asks for no authority.

A signature (signed URL, file grant) or bearer token holding a non-ASCII character, or header
bytes that are not UTF-8, is a wrong credential: 403 invalid_signature / 401 invalid_token,
counted towards the failed-authentication limit like any other guess, without an error logged
(it answered 500 with a traceback a request: an anonymous way to flood the log). A tus
Upload-Metadata value or Upload-Checksum digest that is not base64 because it holds non-ASCII
text is a 400 invalid_input, as any value that is not base64 is. Numbers in tus headers and
query parameters are ASCII digits (RFC 9110 and tus: 1*DIGIT): int() and str.isdigit() also
read other scripts' digits ("١٢" is 12), which no client sends on purpose.

Real server over loopback; raw sockets where http.client would refuse to send the bytes.
"""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from server.state import FAILED_AUTH
from tests.conftest import make_settings
from tests.media import make_jpeg
from tests.server_fixtures import Reply, Tokens, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(120)

ARABIC_12 = "\u0661\u0662"  # "١٢"
ARABIC_0 = "\u0660"


@dataclass
class Site:
    url: str
    port: int
    file_id: int
    tokens: Tokens
    now: list[float]  # the failed-authentication limit's clock

    def get(self, path: str, headers: dict[str, str] | None = None) -> Reply:
        return http_call(f"{self.url}{path}", headers=headers)

    def raw(self, request: bytes) -> tuple[int, dict[str, str], bytes]:
        """Sends `request` as it is; the status, headers and body of the answer."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=30) as sock:
            sock.sendall(request)
            out = b""
            while chunk := sock.recv(65536):
                out += chunk
        head, _, body = out.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        return int(lines[0].split()[1]), headers, body

    def raw_get(self, target: bytes, *headers: bytes) -> tuple[int, dict[str, str], bytes]:
        extra = b"".join(h + b"\r\n" for h in headers)
        return self.raw(b"GET " + target + b" HTTP/1.1\r\nHost: x\r\n" + extra + CLOSE)

    def tus(
        self, method: bytes, target: bytes, *headers: bytes, body: bytes = b""
    ) -> tuple[int, dict[str, str], bytes]:
        lines = [
            method + b" " + target + b" HTTP/1.1",
            b"Host: x",
            b"Authorization: Bearer " + self.tokens.upload.encode(),
            b"Tus-Resumable: 1.0.0",
            *headers,
            b"Content-Length: " + str(len(body)).encode(),
        ]
        return self.raw(b"\r\n".join(lines) + b"\r\n" + CLOSE + body)


CLOSE = b"Connection: close\r\n\r\n"


@pytest.fixture
def site(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Iterator[Site]:
    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data))
    tokens = make_tokens(lib)
    record = lib.uploads.ingest(make_jpeg(tmp_path / "p.jpg", size=(64, 48)), "image")
    assert not record.is_public
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    assert server.app is not None
    limit = server.app[FAILED_AUTH]
    now = [1000.0]
    limit.clock = lambda: now[0]
    caplog.set_level(logging.WARNING)
    try:
        yield Site(server.url, urlsplit(server.url).port or 0, record.id, tokens, now)
    finally:
        server.stop()
        lib.close()
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def _code(body: bytes) -> str:
    """The error code of an answer; its start when it is not an error (a 201 of tus)."""
    try:
        return str(json.loads(body)["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return repr(body[:80])


def _limit_reached(site: Site, failures: int) -> None:
    """`failures` wrong credentials were counted: the limit (20 a minute) is reached exactly
    when the count says so, and blocks a valid token then."""
    image = f"/stream/{site.file_id}/image"
    for _ in range(20 - failures):
        assert site.get(image, bearer("mdk_guess")).status == 401
    blocked = site.get(image, bearer(site.tokens.read))
    assert blocked.status == 429, blocked.body
    assert "failed authentications" in blocked.json()["error"]["message"]


def test_a_non_ascii_signature_is_a_bad_signature(site: Site) -> None:
    signed = site.get(f"/files/{site.file_id}/presigned-url", bearer(site.tokens.read)).json()
    parts = urlsplit(signed["url"])
    query = dict(q.split("=", 1) for q in parts.query.split("&"))
    assert site.get(f"{parts.path}?{parts.query}").status == 200
    grant = "exp=9999999999&sig="
    targets = [
        f"{parts.path}?{urlencode({**query, 'sig': 'é' * 64})}",  # é: UTF-8, percent-encoded
        f"{parts.path}?" + "&".join(f"{k}={v}" for k, v in {**query, "sig": "%FF"}.items()),
        f"/stream/{site.file_id}/image?{grant}%C3%A9",
        f"/stream/{site.file_id}/raw?{grant}%FF",
        f"/watch/{site.file_id}?{grant}{quote('é' * 64)}",
        f"/stream/{site.file_id}/image?exp={quote(ARABIC_12)}&sig=" + "0" * 64,
    ]
    for target in targets:
        reply = site.get(target)
        assert reply.status == 403, (target, reply.status, reply.body[:300])
        assert _code(reply.body) == "invalid_signature", target
    _limit_reached(site, len(targets))


def test_a_bearer_token_that_is_not_ascii_is_an_invalid_token(site: Site) -> None:
    path = f"/files/{site.file_id}".encode()
    for token in (b"mdk_\xff", b"mdk_\xc3\xa9", b"\xff" * 40):
        status, headers, body = site.raw_get(path, b"Authorization: Bearer " + token)
        assert (status, _code(body)) == (401, "invalid_token"), (token, status, body[:300])
        assert headers["WWW-Authenticate"] == 'Bearer realm="mediadesk"'
    # ?access_token= where it is read (media players send no headers)
    stream = f"/stream/{site.file_id}/image?access_token=".encode()
    for token in (b"mdk_%FF", b"mdk_%C3%A9"):
        status, _, body = site.raw_get(stream + token)
        assert (status, _code(body)) == (401, "invalid_token"), (token, status, body[:300])
    _limit_reached(site, 5)


def test_tus_metadata_and_checksums_not_in_base64_are_invalid_input(site: Site) -> None:
    for meta in (b"filename Jos\xc3\xa9.jpg", b"filename \xff\xfe", b"filetype " + "é".encode()):
        status, headers, body = site.tus(
            b"POST", b"/files/upload/tus", b"Upload-Length: 10", b"Upload-Metadata: " + meta
        )
        assert (status, _code(body)) == (400, "invalid_input"), (meta, status, body[:300])
        assert headers["Tus-Resumable"] == "1.0.0"
        assert "Upload-Metadata" in body.decode()

    status, headers, _ = site.tus(b"POST", b"/files/upload/tus", b"Upload-Length: 10")
    assert status == 201
    location = urlsplit(headers["Location"]).path.encode()
    for digest in ("\xc3\xa9\xc3\xa9".encode("latin-1"), "é".encode() * 14):
        status, _, body = site.tus(
            b"PATCH",
            location,
            b"Content-Type: application/offset+octet-stream",
            b"Upload-Offset: 0",
            b"Upload-Checksum: sha1 " + digest,
            body=b"0123456789",
        )
        assert (status, _code(body)) == (400, "invalid_input"), (digest, status, body[:300])
        assert "Upload-Checksum" in body.decode()
    # nothing was taken: the upload is where it was
    status, headers, _ = site.tus(b"HEAD", location)
    assert (status, headers["Upload-Offset"]) == (200, "0")


def test_numbers_are_ascii_digits(site: Site) -> None:
    """Upload-Length, Upload-Offset and the query's whole numbers; ASCII ones still work."""
    for length in (ARABIC_12, "\uff11\uff12", "1\u0662", "+12", " 1_2"):
        status, _, body = site.tus(
            b"POST", b"/files/upload/tus", b"Upload-Length: " + length.encode()
        )
        assert (status, _code(body)) == (400, "invalid_input"), (length, status, body[:300])
        assert "Upload-Length" in body.decode()
    status, headers, _ = site.tus(b"POST", b"/files/upload/tus", b"Upload-Length: 10")
    assert (status, headers["Upload-Length"]) == (201, "10")
    location = urlsplit(headers["Location"]).path.encode()
    for offset in (ARABIC_0, "\uff10"):
        status, _, body = site.tus(
            b"PATCH",
            location,
            b"Content-Type: application/offset+octet-stream",
            b"Upload-Offset: " + offset.encode(),
            body=b"0123456789",
        )
        assert (status, _code(body)) == (400, "invalid_input"), (offset, status, body[:300])
    status, headers, _ = site.tus(b"HEAD", location)
    assert (status, headers["Upload-Offset"]) == (200, "0")

    read = bearer(site.tokens.read)
    for path in (
        f"/files/{site.file_id}/presigned-url?expires_in=",
        "/files?limit=",
        f"/stream/{site.file_id}/image?w=",
        "/files?offset=",
    ):
        for number in (ARABIC_12, "\uff11\uff12", "1_2"):
            reply = site.get(path + quote(number), read)
            assert reply.status == 400, (path, number, reply.status, reply.body[:300])
            assert _code(reply.body) == "invalid_input"
        assert site.get(path + "60", read).status == 200, path
    assert site.get("/files?offset=-1", read).status == 400
    assert site.get("/files?limit=12", read).json()["items"][0]["id"] == site.file_id


def test_numbers_with_spaces_are_refused(site: Site) -> None:
    """README: spaces in a number are 400 invalid_input, as other scripts' digits are; an
    empty value is a number left out. as_int stripped them first, so `?athlete_id=%207`,
    `?limit=5%20` and `?offset=%200` answered 200."""
    read = bearer(site.tokens.read)
    for path in (
        "/files?athlete_id=",
        "/files?limit=",
        "/files?offset=",
        f"/files/{site.file_id}/presigned-url?expires_in=",
        f"/stream/{site.file_id}/image?w=",
        "/audit?limit=",
    ):
        for number in (" 7", "5 ", " 0", "6 0", " ", "\t60"):
            reply = site.get(path + quote(number), bearer(site.tokens.admin))
            assert reply.status == 400, (path, number, reply.status, reply.body[:300])
            assert _code(reply.body) == "invalid_input"
        assert site.get(path, bearer(site.tokens.admin)).status == 200, path
    assert site.get("/files?limit=5&offset=0", read).status == 200

    # form fields: the presign's size and athlete_id, urlencoded and multipart alike
    upload = {**bearer(site.tokens.upload), "Content-Type": "application/x-www-form-urlencoded"}
    url = f"{site.url}/files/upload/presigned"
    for field in ("size", "athlete_id"):
        for number in (" 7", "7 "):
            form = urlencode({"original_filename": "a.jpg", "file_type": "image", field: number})
            reply = http_call(url, "POST", form.encode(), upload)
            assert reply.status == 400, (field, number, reply.status, reply.body[:300])
            assert _code(reply.body) == "invalid_input"
            assert field in reply.json()["error"]["message"]
    form = urlencode({"original_filename": "a.jpg", "file_type": "image", "size": "7"})
    assert http_call(url, "POST", form.encode(), upload).status == 201
