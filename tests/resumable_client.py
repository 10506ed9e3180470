"""Client helpers for resumable uploads (tus and presigned parts), shared by the tests and
bench/resumable.py: plain http.client requests, a streamed file slice, a `mediadesk serve`
subprocess that can be SIGKILLed, and the test pictures that do not compress.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from PIL import Image

from tests.media import make_mp4
from tests.server_fixtures import Reply, bearer

MiB = 1024 * 1024
ROOT = Path(__file__).resolve().parent.parent
TUS = {"Tus-Resumable": "1.0.0"}
OCTETS = {"Content-Type": "application/offset+octet-stream"}
JSON = {"Content-Type": "application/json"}


def raw_patch(url: str, token: str, offset: int, length: int, timeout: float = 30) -> socket.socket:
    """A PATCH to the upload at `url` whose headers announce `length` bytes, on a socket of its
    own: the caller sends the body (or withholds it, as a half-open connection does)."""
    parts = urlsplit(url)
    conn = socket.create_connection(("127.0.0.1", parts.port), timeout=timeout)
    conn.sendall(
        (
            f"PATCH {parts.path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Upload-Offset: {offset}\r\nContent-Length: {length}\r\n\r\n"
        ).encode()
    )
    return conn


def noise_png(path: Path, side: int = 2000) -> Path:
    """A PNG of random pixels: about side²×3 bytes that do not compress (12 MB at 2000)."""
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path, compress_level=1)
    return path


def padded_mp4(path: Path, size: int) -> Path:
    """A valid MP4 (two seconds of H.264) padded to `size` bytes by a top-level `free` box, so
    validation, hashing and cataloguing run as for a real recording of that size."""
    make_mp4(path, seconds=2)
    pad = size - path.stat().st_size - 16
    block = os.urandom(MiB)
    with open(path, "ab") as fh:
        fh.write((1).to_bytes(4, "big") + b"free" + (pad + 16).to_bytes(8, "big"))
        while pad > 0:
            fh.write(block[: min(pad, MiB)])
            pad -= MiB
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def call(
    url: str,
    method: str = "GET",
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Reply:
    """One request with http.client; a file-like body is streamed in 1 MiB reads."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(
        parts.hostname or "127.0.0.1", parts.port, timeout=timeout, blocksize=MiB
    )
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, dict(resp.getheaders()), resp.read())
    finally:
        conn.close()


# ---- tus -------------------------------------------------------------------------------------
def meta(**values: str) -> str:
    """An Upload-Metadata header."""
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


def create(url: str, token: str, length: int, **metadata: str) -> Reply:
    """POST /files/upload/tus on the server at `url` (no body)."""
    headers = {**bearer(token), **TUS, "Upload-Length": str(length)}
    if metadata:
        headers["Upload-Metadata"] = meta(**metadata)
    return call(f"{url}/files/upload/tus", "POST", headers=headers)


def patch(url: str, token: str, offset: int, data: Any, **extra: str) -> Reply:
    """PATCH the upload at `url`; `data` is bytes or a file-like body (send Content-Length)."""
    headers = {**bearer(token), **TUS, **OCTETS, "Upload-Offset": str(offset), **extra}
    return call(url, "PATCH", body=data, headers=headers, timeout=600)


def head(url: str, token: str) -> Reply:
    return call(url, "HEAD", headers={**bearer(token), **TUS})


class Slice:
    """[start, end) of a file, sent as one PATCH; `sent` counts what left the client."""

    def __init__(self, path: Path, start: int, end: int) -> None:
        self.fh = open(path, "rb")  # noqa: SIM115 - closed by patch()
        self.left = end - start
        self.sent = start

    def patch(self, url: str, token: str) -> Reply:
        """Streams the slice as one PATCH, the body with sendfile(): no copy through Python,
        so the client takes half the CPU it did, which on a small box the server gets
        (bench/resumable.py)."""
        parts = urlsplit(url)
        conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=600)
        try:
            conn.putrequest("PATCH", parts.path, skip_accept_encoding=True)
            headers = {**bearer(token), **TUS, **OCTETS, "Upload-Offset": str(self.sent)}
            for name, value in {**headers, "Content-Length": str(self.left)}.items():
                conn.putheader(name, value)
            conn.endheaders()
            assert conn.sock is not None
            while self.left:  # in pieces, so that `sent` follows the bytes as they go
                n = conn.sock.sendfile(self.fh, self.sent, min(self.left, 4 * MiB))
                if not n:
                    raise ConnectionError("the server stopped reading the body")
                self.left -= n
                self.sent += n
            resp = conn.getresponse()
            return Reply(resp.status, dict(resp.getheaders()), resp.read())
        finally:
            conn.close()
            self.fh.close()


def tus_send(
    base: str,
    token: str,
    path: Path,
    chunk: int,
    location: str | None = None,
    stop_before: int | None = None,
) -> tuple[str, int, Slice | None]:
    """Creates (or resumes, from HEAD's offset) and PATCHes `path` in `chunk`-byte pieces.

    Returns (upload URL, catalogued file id, None); with `stop_before`, returns (URL, -1, slice)
    instead of sending the chunk that would cross that offset, for the caller to stream.
    """
    size = path.stat().st_size
    if location is None:
        created = create(base, token, size)
        assert created.status == 201, created.body
        location = base + created.headers["Location"]
    offset = int(head(location, token).headers["Upload-Offset"])
    reply = None
    while offset < size:
        end = min(offset + chunk, size)
        piece = Slice(path, offset, end)
        if stop_before is not None and end > stop_before:
            return location, -1, piece
        reply = piece.patch(location, token)
        assert reply.status == 204, (reply.status, reply.body)
        offset = int(reply.headers["Upload-Offset"])
    if reply is None:
        reply = head(location, token)
    return location, int(reply.headers["MediaDesk-File-Id"]), None


class ServeProcess:
    """`mediadesk serve` in a subprocess on a fixed port, so that it can be SIGKILLed."""

    def __init__(
        self, data_dir: Path, port: int, max_size: int, env: dict[str, str] | None = None
    ) -> None:
        self.data_dir, self.port, self.max_size = data_dir, port, max_size
        self.env = env or {}  # more settings (MEDIADESK_*), over the defaults below
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
        env.update(MAX_FILE_SIZE=str(self.max_size), MEDIADESK_UPLOAD_RATE_LIMIT="0", **self.env)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from server.entry import main; sys.exit(main(sys.argv[1:]))",
                "serve",
                "--port",
                str(self.port),
                "--data-dir",
                str(self.data_dir),
                "--log-level",
                "WARNING",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break  # it exited (a port taken, a bad setting): no use waiting on
                try:
                    if call(f"{self.url}/health", timeout=2).status < 500:
                        return
                except OSError:
                    time.sleep(0.1)
        except BaseException:
            self.kill()  # interrupted (Ctrl-C, SIGTERM): the child must not outlive the caller
            raise
        # a child still starting (or stuck) would go on serving the data folder unseen
        self.kill()
        raise RuntimeError("the server did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


# ---- presigned uploads in parts --------------------------------------------------------------
def presign(url: str, token: str, size: int, **extra: Any) -> Reply:
    """POST /files/upload/presigned for a PNG of `size` bytes."""
    body = {"original_filename": "match.png", "file_type": "image", "size": size, **extra}
    return call(
        f"{url}/files/upload/presigned",
        "POST",
        body=json.dumps(body).encode(),
        headers={**bearer(token), **JSON},
    )


def put_part(url: str, data: bytes) -> str:
    """PUTs one part to its signed URL; its ETag."""
    reply = call(url, "PUT", body=data, headers={"Content-Type": "application/octet-stream"})
    assert reply.status == 200, reply.body
    return reply.headers["ETag"]


def confirm(url: str, token: str, file_id: int, parts: Any = None) -> Reply:
    body = json.dumps({"parts": parts}).encode() if parts is not None else None
    headers = {**bearer(token), **(JSON if body else {})}
    return call(f"{url}/files/{file_id}/confirm-upload", "POST", body=body, headers=headers)
