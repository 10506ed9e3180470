"""A stop (the desktop's Quit, `serve` on SIGTERM) ends the answers to reads at once, and keeps
its grace for requests that write.

Before, aiohttp's shutdown waited server.entry.SHUTDOWN_TIMEOUT for every request in progress,
then cancelled what was left and waited as long again: a phone streaming a video from the
desktop held Quit ~10 s (a slow reader: the bytes go out as it reads them). A stream carries no
state to save (its client asks the rest again with a Range): it is now cut as the stop begins
(server/live_streams.py ReadStreams). An upload still gets the grace and keeps what arrived.

The order of events is what is checked, not times: the grace is shortened here, and the stream
must end before the upload held by that grace is answered (before, the stream ran one grace
longer than the upload); the idle keep-alive connection is closed before stop() returns.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import server.entry
from server.entry import EmbeddedServer
from tests.faults import wait_for
from tests.resumable_client import MiB, create, head, padded_mp4, raw_patch
from tests.server_fixtures import Tokens, bearer, http_call, library_served, make_tokens, tus_upload

pytestmark = pytest.mark.timeout(120)

GRACE = 2.0  # server.entry.SHUTDOWN_TIMEOUT for these stops (5 s in the product)
VIDEO = 40 * MiB
UPLOAD = 3 * MiB  # read through aiohttp (under rawbody.TAKE_MIN): its stop is answered 503
SENT = UPLOAD * 5 // 6  # of it, before the stop; the rest never comes


class Events:
    """What each party saw, in the order it saw it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.seen: list[str] = []

    def add(self, what: str) -> None:
        with self._lock:
            self.seen.append(what)

    def index(self, what: str) -> int:
        with self._lock:
            assert what in self.seen, self.seen
            return self.seen.index(what)


@pytest.fixture
def served(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedServer]:
    monkeypatch.setattr(server.entry, "SHUTDOWN_TIMEOUT", GRACE)  # read as the server starts
    with library_served(data_dir) as (_lib, live):
        yield live


def _slow_stream(
    url: str, path: str, token: str, events: Events
) -> tuple[socket.socket, list[int]]:
    """A GET of `path` (the whole file) read a little at a time, as a phone's player does;
    returns the socket and [bytes received]."""
    sock = socket.create_connection(("127.0.0.1", urlsplit(url).port), timeout=60)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 * 1024)
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
        "Range: bytes=0-\r\n\r\n".encode()
    )
    got = [0]

    def read() -> None:
        while True:
            try:
                chunk = sock.recv(8192)
            except OSError:  # the reset of a cut
                chunk = b""
            if not chunk:
                events.add("stream closed")
                return
            got[0] += len(chunk)
            time.sleep(0.01)

    threading.Thread(target=read, daemon=True).start()
    return sock, got


def _idle_keep_alive(url: str, events: Events) -> socket.socket:
    """A connection that asked one thing, had its answer and stays open (HTTP/1.1)."""
    sock = socket.create_connection(("127.0.0.1", urlsplit(url).port), timeout=60)
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += sock.recv(65536)
    head_, _, body = answer.partition(b"\r\n\r\n")
    assert head_.startswith(b"HTTP/1.1 200"), head_
    length = int(
        next(h for h in head_.split(b"\r\n") if h.lower().startswith(b"content-length")).split(
            b":"
        )[1]
    )
    while len(body) < length:
        body += sock.recv(65536)

    def watch() -> None:
        with_more = sock.recv(1)  # b"" once the server closes it
        events.add("idle closed" if with_more == b"" else "idle got bytes")

    threading.Thread(target=watch, daemon=True).start()
    return sock


def _stalled_upload(
    url: str, tokens: Tokens, data: Path, events: Events
) -> tuple[str, list[bytes]]:
    """A tus PATCH whose body stops coming after SENT bytes, its first bytes on disk; returns
    its upload URL and [the answer]."""
    made = create(url, tokens.upload, UPLOAD, filename="b.mp4")
    assert made.status == 201, made.body
    upload = url + made.headers["Location"]
    sock = raw_patch(upload, tokens.upload, 0, UPLOAD, timeout=60)
    sock.sendall(b"\0" * SENT)
    wait_for(
        lambda: sum(p.stat().st_size for p in data.rglob("*.part") if p.is_file()) > 0,
        what="the PATCH's first bytes written",
    )
    answer = [b""]

    def read() -> None:
        with sock:
            while chunk := sock.recv(65536):
                answer[0] += chunk
        events.add("upload answered")

    threading.Thread(target=read, daemon=True).start()
    return upload, answer


@pytest.mark.parametrize("kind", ["video stream", "signed download"])
def test_a_stop_cuts_a_slow_stream_and_keeps_an_uploads_grace(
    served: EmbeddedServer, data_dir: Path, tmp_path: Path, kind: str
) -> None:
    tokens, url = make_tokens(served.library), served.url
    video = padded_mp4(tmp_path / "clip.mp4", VIDEO).read_bytes()
    record = tus_upload(served.url, tokens.upload, video, {"filename": "clip.mp4"})
    path = f"/stream/{record['id']}/video"
    if kind == "signed download":
        moved = http_call(
            f"{served.url}/files/{record['id']}/download", headers=bearer(tokens.read)
        )
        assert moved.status in (302, 307), moved.body
        location = urlsplit(moved.headers["Location"])
        path = f"{location.path}?{location.query}"
    events = Events()
    stream, got = _slow_stream(served.url, path, tokens.read, events)
    idle = _idle_keep_alive(served.url, events)
    upload, answer = _stalled_upload(served.url, tokens, data_dir, events)
    wait_for(lambda: got[0] > 64 * 1024, what="the stream under way")

    served.stop()
    events.add("stop returned")

    wait_for(lambda: "stream closed" in events.seen, what="the stream's end")
    wait_for(lambda: "upload answered" in events.seen, what="the upload's answer")
    with stream, idle:
        # the stream was cut short, at the stop's start: the upload's grace had not run out
        assert 0 < got[0] < VIDEO
        assert events.index("stream closed") < events.index("upload answered"), events.seen
        assert events.index("stream closed") < events.index("stop returned"), events.seen
        # the idle keep-alive connection held nothing
        assert events.index("idle closed") < events.index("stop returned"), events.seen
    # the upload kept its grace, was told the server stops, and what arrived is kept
    assert answer[0].startswith(b"HTTP/1.1 503 ") and b'"server_stopping"' in answer[0], answer
    with library_served(data_dir) as (_lib, again):
        offset = head(upload.replace(url, again.url), tokens.upload).headers["Upload-Offset"]
        assert int(offset) > 0
