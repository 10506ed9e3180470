"""An S3-compatible store whose HEAD answers leave out Content-Length (RFC 9110 9.3.2 lets a
HEAD's answer do so, and a gateway in front of a store does): S3Storage.stat read the size from
it, and every confirm answered 500 internal_error (KeyError: 'ContentLength'). Real moto behind
a proxy that drops the header from HEAD answers only."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from core.settings import Settings
from core.storage.factory import build_storage

pytestmark = pytest.mark.timeout(60)

_DROPPED = {"content-length", "etag", "last-modified"}


def _proxy_dropping_head_fields(target: str) -> ThreadingHTTPServer:
    """Passes every request on to `target`; a HEAD's answer comes back without _DROPPED."""
    where = urlsplit(target)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _pass_on(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            upstream = http.client.HTTPConnection(where.hostname, where.port, timeout=10)
            try:
                upstream.request(self.command, self.path, body, dict(self.headers.items()))
                answer = upstream.getresponse()
                data = answer.read()
            finally:
                upstream.close()
            self.send_response_only(answer.status, answer.reason)
            for name, value in answer.getheaders():
                if name.lower() in ("transfer-encoding", "connection"):
                    continue
                if self.command == "HEAD" and name.lower() in _DROPPED:
                    continue
                self.send_header(name, value)
            if self.command != "HEAD" and answer.getheader("Content-Length") is None:
                self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _pass_on

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def behind_gateway(s3_settings: Settings) -> Iterator[Settings]:
    proxy = _proxy_dropping_head_fields(s3_settings.r2_endpoint_url)
    try:
        yield s3_settings.replace(
            r2_endpoint_url=f"http://127.0.0.1:{proxy.server_address[1]}", usage_scan_interval=0
        )
    finally:
        proxy.shutdown()
        proxy.server_close()


def test_a_head_answer_without_its_size_is_completed_by_the_first_bytes_get(
    behind_gateway: Settings,
) -> None:
    storage, _ = build_storage(behind_gateway)
    stored = storage.put_bytes("2026/12/sprint.jpg", b"x" * 12_345, "image/jpeg")
    assert stored.size == 12_345
    assert stored.etag.strip('"')  # the GET's ETag
    again = storage.stat("2026/12/sprint.jpg")
    assert (again.size, again.etag, again.last_modified) == (
        stored.size,
        stored.etag,
        stored.last_modified,
    )
