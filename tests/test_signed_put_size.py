"""A PUT to a signed upload URL (local storage) with a body of another size than the URL is
signed for is 403 content_length_mismatch (README's error table, the OpenAPI of /signed),
whether the size comes in Content-Length or only at the end of a chunked body, and nothing of
it is kept. Sent chunked it answered 400 size_mismatch, the confirm-upload code for stored
bytes that are not the size announced. Real HTTP over loopback, raw requests."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.internals import storage_of
from tests.media import make_jpeg
from tests.server_fixtures import bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(60)


def _put(server: EmbeddedServer, url: str, data: bytes, *, chunked: bool) -> tuple[int, dict]:
    """The status and JSON answer of a PUT of `data`, chunked or with its Content-Length."""
    parts = urlsplit(url)
    framing = "Transfer-Encoding: chunked" if chunked else f"Content-Length: {len(data)}"
    body = f"{len(data):x}\r\n".encode() + data + b"\r\n0\r\n\r\n" if chunked else data
    request = (
        f"PUT {parts.path}?{parts.query} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        f"Content-Type: image/jpeg\r\n{framing}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    reply = b""
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):  # the server closes: Connection: close
            reply += chunk
    head, _, payload = reply.partition(b"\r\n\r\n")
    assert b"Transfer-Encoding: chunked" not in head, head  # a JSON answer with its length
    return int(head.split(b" ", 2)[1]), json.loads(payload)


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_body_of_another_size_than_signed_is_403_and_not_kept(
    library: Library, live: EmbeddedServer, tmp_path: Path, chunked: bool
) -> None:
    token = make_tokens(library).upload
    data = make_jpeg(tmp_path / "p.jpg", size=(64, 48), color=(10, 140, 200)).read_bytes()
    grant = http_call(
        f"{live.url}/files/upload/presigned",
        "POST",
        json.dumps(
            {"original_filename": "p.jpg", "file_type": "image", "size": len(data)}
        ).encode(),
        {**bearer(token), "Content-Type": "application/json"},
    )
    assert grant.status == 201, grant.body
    signed = grant.json()
    for wrong in (data + b"X", data[:-1]):
        status, answer = _put(live, signed["upload_url"], wrong, chunked=chunked)
        assert (status, answer["error"]["code"]) == (403, "content_length_mismatch"), answer
        assert str(len(data)) in answer["error"]["message"]
        assert not storage_of(library).exists(signed["file_key"])
        kept = [p for p in library.paths.objects_dir.rglob("*") if p.is_file()]
        assert kept == []  # no partial or staged object either
        assert [p for p in library.paths.tmp_dir.rglob("*") if p.is_file()] == []
    # the URL still takes the right bytes, sent either way
    status, answer = _put(live, signed["upload_url"], data, chunked=chunked)
    assert status == 200 and answer["size"] == len(data), answer
    done = http_call(
        f"{live.url}/files/{signed['file_id']}/confirm-upload", "POST", b"", bearer(token)
    )
    assert done.status == 200, done.body
    assert done.json()["size"] == len(data)
