"""A tus PATCH body under rawbody.TAKE_MIN is read through aiohttp and written a batch (2 MiB)
at a time; cut short (the client gone, the server stopped), the bytes held in memory are
written too, so the upload resumes from every byte that arrived (the README's promise, kept
before only by bodies of 4 MiB or more). With Upload-Checksum the chunk is all-or-nothing."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import signal
import socket
import struct
import termios
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from server.rawbody import TAKE_MIN
from tests.conftest import make_settings
from tests.faults import start_serve, wait_for
from tests.resumable_client import MiB, create, head, padded_mp4, patch, raw_patch
from tests.server_fixtures import make_tokens, server_config
from tests.test_ops_tus_stop import QUICK_STOP

pytestmark = pytest.mark.timeout(60)

BODY = 3_000_000  # under TAKE_MIN: read through aiohttp
SENT = 1_000_000  # under a batch: held in memory only when the body is cut


@pytest.fixture
def lib(data_dir: Path) -> Iterator[Library]:
    library = Library.open(make_settings(data_dir, max_file_size=300 * MiB))
    yield library
    library.close()


def _offset(url: str, token: str) -> int:
    return int(head(url, token).headers["Upload-Offset"])


def _settled(url: str, token: str, want: int) -> None:
    """HEAD answers `want` (the cut request records its offset a moment after the cut)."""
    wait_for(lambda: _offset(url, token) == want, timeout=10, what=f"offset {want}")


def _finish(url: str, token: str, offset: int, data: bytes) -> int:
    """The rest, sent once the cut request let the upload go (423 until then); the file id."""
    done = patch(url, token, offset, data[offset:])
    deadline = time.monotonic() + 10
    while done.status == 423 and b"upload_locked" in done.body:
        assert time.monotonic() < deadline, done.body
        time.sleep(0.05)
        done = patch(url, token, offset, data[offset:])
    assert done.status == 204, done.body
    return int(done.headers["MediaDesk-File-Id"])


def test_a_small_body_cut_by_its_client_keeps_every_byte_that_arrived(
    lib: Library, tmp_path: Path
) -> None:
    assert BODY < TAKE_MIN
    token = make_tokens(lib).upload
    data = padded_mp4(tmp_path / "m.mp4", BODY).read_bytes()
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url = server.url + create(server.url, token, len(data)).headers["Location"]
        conn = raw_patch(url, token, 0, len(data))
        conn.sendall(data[:SENT])
        _delivered(conn, server.port)
        conn.close()
        _settled(url, token, SENT)  # was 0: the bytes held for the next batch were dropped
        file_id = _finish(url, token, SENT, data)
    assert lib.get_file(file_id).sha256 == hashlib.sha256(data).hexdigest()


def test_a_small_body_with_a_checksum_cut_short_keeps_nothing(lib: Library, tmp_path: Path) -> None:
    """The tus checksum extension: a chunk whose checksum cannot be checked is not kept."""
    token = make_tokens(lib).upload
    data = padded_mp4(tmp_path / "m.mp4", BODY).read_bytes()
    digest = base64.b64encode(hashlib.sha1(data).digest()).decode()  # noqa: S324 - tus's sha1
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        url = server.url + create(server.url, token, len(data)).headers["Location"]
        conn = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        conn.sendall(
            (
                f"PATCH {urlsplit(url).path} HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n"
                "Content-Type: application/offset+octet-stream\r\nUpload-Offset: 0\r\n"
                f"Upload-Checksum: sha1 {digest}\r\nContent-Length: {len(data)}\r\n\r\n"
            ).encode()
            + data[:SENT]
        )
        _delivered(conn, server.port)
        conn.close()
        # the upload let go by the cut request (a PATCH is taken again), at 0
        file_id = _finish(url, token, 0, data)
    assert lib.get_file(file_id).sha256 == hashlib.sha256(data).hexdigest()


def test_a_small_body_cut_by_a_stop_keeps_every_byte_that_arrived(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    served = start_serve(data_dir, wrapper=QUICK_STOP)  # the stop's grace shortened
    try:
        assert served.token is not None
        token = served.token
        data = padded_mp4(tmp_path / "m.mp4", BODY).read_bytes()
        made = create(served.url, token, len(data), filename="a.mp4")
        assert made.status == 201, made.body
        path = made.headers["Location"]
        port = urlsplit(served.url).port
        assert port is not None
        conn = raw_patch(served.url + path, token, 0, len(data))
        with conn:
            conn.sendall(data[:SENT])
            _delivered(conn, port)
            served.proc.send_signal(signal.SIGTERM)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
        assert served.proc.wait(60) == 0
    finally:
        served.stop()
    assert answer.startswith(b"HTTP/1.1 503 ") and b'"server_stopping"' in answer, answer
    log = "".join(served.stderr)
    assert f"ended by a stop after {SENT} bytes (kept)" in log, log
    again = start_serve(data_dir)
    try:
        assert _offset(again.url + path, token) == SENT  # was 0
        file_id = _finish(again.url + path, token, SENT, data)
    finally:
        again.stop()
    lib = Library.open(make_settings(data_dir))
    try:
        assert lib.get_file(file_id).sha256 == hashlib.sha256(data).hexdigest()
    finally:
        lib.close()


def _delivered(conn: socket.socket, server_port: int) -> None:
    """Every byte sent on `conn` is out of the kernel: acknowledged by the server's end and read
    by the server from its socket (its receive queue in /proc/net/tcp is empty)."""
    local = conn.getsockname()[1]

    def drained() -> bool:
        unsent = struct.unpack("i", fcntl.ioctl(conn, termios.TIOCOUTQ, b"\0" * 4))[0]
        if unsent:
            return False
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            here, there = fields[1], fields[2]
            if int(here.split(":")[1], 16) == server_port and int(there.split(":")[1], 16) == local:
                return int(fields[4].split(":")[1], 16) == 0
        return False

    wait_for(drained, timeout=10, what="the body's bytes read by the server")
