"""Client.download on a link that drops: a live server behind a TCP proxy that cuts the answer
of the download's GET after some bytes, once or twice. A retry asks for the rest (Range from
the bytes kept, If-Range the first answer's ETag) instead of the whole file again: on a link
that drops every few MB a large download restarted from byte 0 each time and never finished."""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.library import Library
from server.client import Client
from server.client.api import CHUNK
from server.entry import EmbeddedServer
from tests.faults import Interposer
from tests.server_fixtures import make_tokens

pytestmark = pytest.mark.timeout(30)
MiB = 1024 * 1024
SIZE = 3 * MiB


class CutProxy(Interposer):
    """A TCP proxy in front of a live server. The answers to the first `cuts` requests whose
    bytes hold `marker` are cut (both connections closed) after `after` bytes of answer;
    `stale_etag` also changes the ETag the first of them carries, as if the file had changed
    since. `heads` keeps each such request's text, `passed` the answer bytes let through."""

    def __init__(
        self, url: str, marker: bytes, after: int, cuts: int = 1, stale_etag: bool = False
    ) -> None:
        self.marker, self.after, self.cuts, self.stale_etag = marker, after, cuts, stale_etag
        self.heads: list[str] = []
        self.passed: list[int] = []
        self.answers: list[str] = []  # the start of each answer to them, as the client got it
        self._lock = threading.Lock()
        super().__init__(url)

    def relay(self, client: socket.socket, upstream: socket.socket) -> None:
        # [index in heads of the request now answered on this connection, doomed]
        state: list[Any] = [None, False]
        threading.Thread(target=self._up, args=(client, upstream, state), daemon=True).start()
        threading.Thread(target=self._down, args=(upstream, client, state), daemon=True).start()

    def _up(self, src: socket.socket, dst: socket.socket, state: list[Any]) -> None:
        with contextlib.suppress(OSError):
            while chunk := src.recv(65536):
                if self.marker in chunk:
                    with self._lock:
                        self.heads.append(chunk.decode("latin-1"))
                        self.passed.append(0)
                        state[1] = self.cuts > 0
                        self.cuts -= 1
                        state[0] = len(self.heads) - 1
                dst.sendall(chunk)
        self._close(src, dst)

    def _down(self, src: socket.socket, dst: socket.socket, state: list[Any]) -> None:
        with contextlib.suppress(OSError):
            while chunk := src.recv(65536):
                at = state[0]
                if at is not None:
                    if state[1]:
                        chunk = chunk[: self.after - self.passed[at]]
                        if self.stale_etag and at == 0:
                            chunk = chunk.replace(b'ETag: "', b'ETag: "old-', 1)
                    if not self.passed[at]:
                        self.answers.append(chunk[:2048].decode("latin-1"))
                    self.passed[at] += len(chunk)
                dst.sendall(chunk)
                if at is not None and state[1] and self.passed[at] >= self.after:
                    break
        self._close(src, dst)


@contextlib.contextmanager
def cut_proxy(url: str, **kwargs: Any) -> Iterator[CutProxy]:
    proxy = CutProxy(url, **kwargs)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def stored(library: Library, media_dir: Any, tmp_path: Path) -> tuple[int, bytes]:
    """A 3 MiB photo (a JPEG followed by noise) in the catalog: its id and bytes."""
    photo = tmp_path / "big.jpg"
    shutil.copy(media_dir.jpeg, photo)
    with open(photo, "ab") as fh:
        fh.write(os.urandom(SIZE - photo.stat().st_size))
    record = library.uploads.ingest(photo, "image", original_filename="big.jpg")
    return record.id, photo.read_bytes()


def header_of(head: str, wanted: str) -> str | None:
    for line in head.split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == wanted.lower():
            return value.strip()
    return None


def resumed_from(head: str) -> int | None:
    """The offset of a request's `Range: bytes=N-`, None without one."""
    asked = header_of(head, "Range")
    return None if asked is None else int(asked.removeprefix("bytes=").removesuffix("-"))


class Via(httpx.HTTPTransport):
    """Sends every request through `proxy`: the server's signed links name its own address."""

    def __init__(self, proxy: CutProxy) -> None:
        super().__init__()
        self._port = int(proxy.url.rsplit(":", 1)[1])

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(port=self._port)
        return super().handle_request(request)


def download(
    live: EmbeddedServer, library: Library, file_id: int, folder: Path, **proxy: Any
) -> tuple[Path, CutProxy, list[str], list[tuple[int, int]]]:
    notes: list[str] = []
    seen: list[tuple[int, int]] = []
    with (
        cut_proxy(live.url, marker=b"sig=", **proxy) as cut,
        Client(
            live.url,
            make_tokens(library).read,
            transport=Via(cut),
            on_retry=notes.append,
            sleep=lambda s: None,
        ) as client,
    ):
        saved = client.download(file_id, folder, progress=lambda d, t: seen.append((d, t)))
    return saved, cut, notes, seen


def test_a_cut_download_resumes_from_the_bytes_it_kept(
    live: EmbeddedServer, library: Library, stored: tuple[int, bytes], tmp_path: Path
) -> None:
    file_id, data = stored
    saved, cut, notes, seen = download(live, library, file_id, tmp_path / "out", after=MiB)
    assert saved.read_bytes() == data
    assert len(cut.heads) == 2 and len(notes) == 1, (cut.heads, notes)
    assert resumed_from(cut.heads[0]) is None
    kept = resumed_from(cut.heads[1])
    # what came through the proxy (headers included) before the cut, less at most a chunk the
    # client had not written yet and one read: only bytes in flight are sent again
    assert kept is not None and MiB - CHUNK - 64 * 1024 <= kept < MiB, kept
    etag = header_of(cut.answers[0], "ETag")
    assert etag and etag.startswith('"') and header_of(cut.heads[1], "If-Range") == etag
    assert cut.answers[1].startswith("HTTP/1.1 206 ")
    assert header_of(cut.answers[1], "Content-Range") == f"bytes {kept}-{SIZE - 1}/{SIZE}"
    assert cut.passed[1] < SIZE - kept + 4096  # the rest only, with its headers
    # progress never goes back: the retry goes on from the bytes kept
    done = [d for d, _ in seen]
    assert done == sorted(done) and seen[-1] == (SIZE, SIZE), seen[-3:]
    assert [p.name for p in saved.parent.iterdir()] == ["big.jpg"]  # no .part left


def test_a_download_cut_twice_resumes_twice(
    live: EmbeddedServer, library: Library, stored: tuple[int, bytes], tmp_path: Path
) -> None:
    file_id, data = stored
    saved, cut, notes, seen = download(live, library, file_id, tmp_path / "out", after=MiB, cuts=2)
    assert saved.read_bytes() == data
    assert len(cut.heads) == 3 and len(notes) == 2, notes
    none, first, second = (resumed_from(head) for head in cut.heads)
    assert none is None and first and second, cut.heads
    assert 0 < first < second < SIZE and second - first > MiB - CHUNK - 64 * 1024
    assert sum(cut.passed) < SIZE + 2 * (CHUNK + 64 * 1024), cut.passed
    done = [d for d, _ in seen]
    assert done == sorted(done) and seen[-1] == (SIZE, SIZE)


def test_a_file_changed_between_attempts_is_downloaded_again_from_its_start(
    live: EmbeddedServer, library: Library, stored: tuple[int, bytes], tmp_path: Path
) -> None:
    """The first answer's ETag is no longer the file's: the server ignores the Range (If-Range
    fails) and sends the whole file, which replaces the bytes kept rather than following them."""
    file_id, data = stored
    saved, cut, notes, seen = download(
        live, library, file_id, tmp_path / "out", after=MiB, stale_etag=True
    )
    assert saved.read_bytes() == data  # and so its SHA-256 is the catalog's
    assert len(cut.heads) == 2
    assert resumed_from(cut.heads[1]) and header_of(cut.heads[1], "If-Range") == (
        header_of(cut.answers[0], "ETag")
    )
    assert (header_of(cut.answers[0], "ETag") or "").startswith('"old-')
    assert cut.answers[1].startswith("HTTP/1.1 200 ")
    assert cut.passed[1] > SIZE  # the whole file again, with its headers
    assert seen[-1] == (SIZE, SIZE)


class _CutStream(httpx.SyncByteStream):
    def __init__(self, data: bytes) -> None:
        self.data = data

    def __iter__(self) -> Iterator[bytes]:
        yield self.data
        raise httpx.ReadError("connection reset by peer")


def test_a_416_to_the_resumed_range_starts_over(tmp_path: Path) -> None:
    """A store that refuses the range (416: it no longer knows those bytes) gets asked for the
    whole file again, which replaces the bytes kept, in the same attempt."""
    data = os.urandom(3 * CHUNK)
    asked: list[str | None] = []

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/files/7":
            sha = hashlib.sha256(data).hexdigest()
            return httpx.Response(
                200, json={"id": 7, "original_filename": "a.bin", "size": len(data), "sha256": sha}
            )
        if request.url.path == "/files/7/presigned-url":
            return httpx.Response(200, json={"url": "/signed/a.bin?sig=x"})
        asked.append(request.headers.get("Range"))
        head = {"ETag": '"v1"', "Content-Length": str(len(data))}
        if len(asked) == 1:
            return httpx.Response(200, headers=head, stream=_CutStream(data[:CHUNK]))
        if request.headers.get("Range"):
            return httpx.Response(416, headers={"Content-Range": f"bytes */{len(data)}"})
        return httpx.Response(200, headers=head, content=data)

    notes: list[str] = []
    with Client(
        "http://md.test",
        "t",
        transport=httpx.MockTransport(answer),
        on_retry=notes.append,
        sleep=lambda s: None,
    ) as client:
        saved = client.download(7, tmp_path)
    assert saved.read_bytes() == data
    assert asked == [None, f"bytes={CHUNK}-", None], asked
    assert len(notes) == 1 and f"{CHUNK} bytes kept" in notes[0], notes
