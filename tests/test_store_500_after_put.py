"""A store that answers a PUT 500 InternalError after storing the object: the upload's object is
left to its noted deletion, never forgotten.

S3 says a 500 InternalError may come after the work is done ("retry; outcome unknown"), as a
timeout may. core.errors.store_answered read it as the store's refusal, so a failed upload's
noted deletion (core/deferred.py collect_unless_recorded) was dropped as if nothing were at
the key, and the object the bucket had stored stayed there with no row and no note: reconcile
listed it as an object without a row for good. Now a 500 counts as an outcome unknown, like a
timeout: the note stays (reconcile lists the object as a pending deletion) and deletes it once
due. Real HTTP over loopback; moto's bucket behind a proxy that passes every request on and
answers a PUT 500 once the bucket has taken it.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import socket
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from core.library import Library
from core.maintenance import reconcile
from core.settings import Settings
from server.entry import EmbeddedServer
from tests.s3_server import S3Target, s3_client
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body, server_config

pytestmark = pytest.mark.timeout(90)

INTERNAL_ERROR = (
    b'<?xml version="1.0" encoding="UTF-8"?>'
    b"<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try "
    b"again.</Message></Error>"
)
# hop-by-hop: this proxy frames each answer itself, one a connection
_HOP = {b"connection", b"keep-alive", b"transfer-encoding", b"expect"}


class FailsAfterPut:
    """A proxy in front of the bucket that passes every request on and, while `failing`, answers
    each PUT 500 InternalError once the bucket has answered it (its answer dropped): a store
    whose front end fails after its back end stored the object. `stored`: the PUTs so answered."""

    def __init__(self, url: str) -> None:
        target = urlsplit(url)
        self._target = (target.hostname or "127.0.0.1", target.port or 80)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self.failing = False
        self.stored = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        """One request a connection (each answer says Connection: close)."""
        with contextlib.suppress(OSError), client, client.makefile("rb") as incoming:
            method, target, _ = incoming.readline().split(b" ", 2)
            fields: list[tuple[bytes, bytes]] = []
            while (line := incoming.readline()) not in (b"\r\n", b"\n", b""):
                name, _, value = line.partition(b":")
                fields.append((name.strip(), value.strip()))
            named = {name.lower(): value for name, value in fields}
            assert b"chunked" not in named.get(b"transfer-encoding", b""), named
            if named.get(b"expect", b"").lower() == b"100-continue":
                client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
            body = incoming.read(int(named.get(b"content-length", b"0")))
            upstream = http.client.HTTPConnection(*self._target, timeout=10)
            try:
                upstream.putrequest(
                    method.decode(), target.decode(), skip_host=True, skip_accept_encoding=True
                )
                for name, value in fields:
                    if name.lower() not in _HOP:
                        upstream.putheader(name.decode("latin-1"), value)
                upstream.endheaders(body)
                answer = upstream.getresponse()
                data = answer.read()
                head = [f"HTTP/1.1 {answer.status} {answer.reason}".encode()]
                for name_s, value_s in answer.getheaders():
                    if name_s.lower().encode() not in _HOP | {b"content-length"}:
                        head.append(f"{name_s}: {value_s}".encode("latin-1"))
                # a HEAD's answer says the object's length and has no body
                length = answer.getheader("Content-Length") if method == b"HEAD" else None
                ok = 200 <= answer.status < 300
            finally:
                upstream.close()
            if method == b"PUT" and self.failing and ok:
                self.stored += 1
                head = [b"HTTP/1.1 500 Internal Server Error", b"Content-Type: application/xml"]
                data = INTERNAL_ERROR
            head.append(b"Content-Length: " + str(length or len(data)).encode())
            head.append(b"Connection: close")
            client.sendall(b"\r\n".join(head) + b"\r\n\r\n" + data)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() (Linux)
        self._listener.close()


@pytest.fixture
def behind(s3_settings: Settings) -> Iterator[tuple[FailsAfterPut, Library, EmbeddedServer]]:
    proxy = FailsAfterPut(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url, usage_scan_interval=0))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield proxy, lib, server
    finally:
        server.stop()
        lib.close()
        proxy.close()


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 90, 30)).save(out, "JPEG")
    return out.getvalue()


def test_an_upload_answered_500_after_the_store_took_it_is_left_to_its_noted_deletion(
    behind: tuple[FailsAfterPut, Library, EmbeddedServer], s3_bucket: S3Target
) -> None:
    proxy, lib, server = behind
    token = make_tokens(lib).upload
    bucket = s3_client(s3_bucket)
    before = {o["Key"] for o in bucket.list_objects_v2(Bucket=s3_bucket.bucket).get("Contents", [])}
    proxy.failing = True
    body, ctype = multipart_body({"file_type": "image"}, {"file": ("p.jpg", _jpeg(), "image/jpeg")})
    reply = http_call(
        f"{server.url}/files/upload/direct", "POST", body, {**bearer(token), "Content-Type": ctype}
    )
    proxy.failing = False
    assert reply.status == 500, reply.body
    error = reply.json()["error"]
    assert (error["code"], error.get("reason")) == ("storage_unavailable", "storage_server_error")
    assert proxy.stored >= 1  # the bucket took the PUT its answer said failed
    listed: list[dict[str, Any]] = bucket.list_objects_v2(Bucket=s3_bucket.bucket)["Contents"]
    stored = {o["Key"] for o in listed} - before
    assert len(stored) == 1, stored  # the object, no thumbnail: the upload stopped there
    report = reconcile(lib)
    # before: the note dropped, the object listed without a row, and no deletion to come
    assert report.objects_without_rows == [], report.as_dict()
    assert stored <= set(report.pending_deletions), report.as_dict()
    assert http_call(f"{server.url}/files/", headers=bearer(token)).json()["total"] == 0
