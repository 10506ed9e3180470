"""An HTTP proxy in front of moto that answers as S3 and R2 do for a vanished multipart upload.

moto 5.2.5's server answers UploadPart and CompleteMultipartUpload on an aborted upload id with
500 (a KeyError inside moto), where S3 and R2 answer 404 `NoSuchUpload`, as moto itself does
for ListParts and AbortMultipartUpload. The proxy forwards every request to moto unchanged; when
moto answers 500 to a request on an upload id that moto's own ListParts reports as
`NoSuchUpload`, the client gets that 404 `NoSuchUpload` answer instead. Nothing is injected:
the upload is really aborted in moto; only moto's wrong status is put right.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, urlsplit

_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "expect"}


class NoSuchUploadProxy:
    """`url` forwards to moto at `host:port`; see the module docstring."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.corrected = 0  # moto 500s answered as S3's 404 NoSuchUpload
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def _forward(self) -> None:
                assert "chunked" not in self.headers.get("Transfer-Encoding", "")
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                if body is not None:
                    headers["Content-Length"] = str(len(body))
                status, reply_headers, reply = proxy._call(self.command, self.path, body, headers)
                uid = parse_qs(urlsplit(self.path).query).get("uploadId", [None])[0]
                if status == 500 and uid:
                    listed = proxy._call("GET", f"{urlsplit(self.path).path}?uploadId={quote(uid)}")
                    if listed[0] == 404 and b"<Code>NoSuchUpload</Code>" in listed[2]:
                        proxy.corrected += 1
                        status, reply_headers, reply = listed
                self.send_response(status)
                for name, value in reply_headers:
                    if name.lower() not in _HOP:
                        self.send_header(name, value)
                if self.command == "HEAD":
                    upstream_length = dict((k.lower(), v) for k, v in reply_headers)
                    self.send_header("Content-Length", upstream_length.get("content-length", "0"))
                    self.end_headers()
                    return
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _forward

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def _call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        conn = http.client.HTTPConnection(*self.upstream, timeout=60)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            answer = conn.getresponse()
            return answer.status, answer.getheaders(), answer.read()
        finally:
            conn.close()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
