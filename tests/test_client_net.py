"""The client (and `mediadesk upload`) on a bad network: a live server behind a TCP proxy that
loses one answer, cuts one request or freezes one connection, as pitch-side Wi-Fi does."""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.library import Library
from server.client import Client, ClientError, cli
from server.client.api import _created_since
from server.entry import EmbeddedServer
from tests.faults import Interposer
from tests.server_fixtures import library_served, make_tokens

pytestmark = pytest.mark.timeout(60)
MiB = 1024 * 1024


class OnceProxy(Interposer):
    """A TCP proxy in front of a live server. The first request whose bytes hold `marker` meets
    `fate`, once: "lose" (sent whole, its answer dropped and the connection closed), "cut"
    (the connection closed after `after` bytes of it) or "stall" (after `after` bytes nothing
    more goes either way, the connection left open, until `release()` closes it)."""

    def __init__(self, url: str, marker: bytes, fate: str, after: int = 0) -> None:
        self.marker, self.fate, self.after = marker, fate, after
        self.fired = threading.Event()
        self._released = threading.Event()
        super().__init__(url)

    def relay(self, client: socket.socket, upstream: socket.socket) -> None:
        doomed = threading.Event()  # set once this connection carries the lost answer's request
        for pump, ends in ((self._up, (client, upstream)), (self._down, (upstream, client))):
            threading.Thread(target=pump, args=(*ends, doomed), daemon=True).start()

    def _up(self, src: socket.socket, dst: socket.socket, doomed: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while chunk := src.recv(65536):
                at = chunk.find(self.marker) if not self.fired.is_set() else -1
                if at < 0:
                    dst.sendall(chunk)
                    continue
                self.fired.set()
                if self.fate == "lose":
                    doomed.set()
                    dst.sendall(chunk)
                    continue
                dst.sendall(chunk[: at + self.after])
                if self.fate == "stall":
                    self._released.wait()
                break
        self._close(src, dst)

    def _down(self, src: socket.socket, dst: socket.socket, doomed: threading.Event) -> None:
        with contextlib.suppress(OSError):
            while (chunk := src.recv(65536)) and not doomed.is_set():
                dst.sendall(chunk)
        self._close(src, dst)

    def release(self) -> None:
        """Ends the stall: the frozen connection is closed, as a dead link finally is."""
        self._released.set()

    def close(self) -> None:
        self.release()
        super().close()


@contextlib.contextmanager
def proxied(url: str, marker: bytes, fate: str, after: int = 0) -> Iterator[OnceProxy]:
    proxy = OnceProxy(url, marker, fate, after)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture
def tus_server(tmp_path: Path) -> Iterator[tuple[EmbeddedServer, str]]:
    """Local storage where a file above the presign threshold (10 MiB) goes through tus."""
    data = tmp_path / "data"
    data.mkdir()
    with library_served(data, multipart_threshold=5 * MiB, multipart_chunk_size=5 * MiB) as (
        lib,
        live,
    ):
        yield live, make_tokens(lib).upload


def big_video(source: Path, path: Path, size: int = 11 * MiB) -> Path:
    """`source` (an MP4) padded to `size` bytes of noise by a top-level `free` box: a tus upload
    on these servers, never a duplicate of another test's."""
    shutil.copy(source, path)
    pad = size - path.stat().st_size
    with open(path, "ab") as fh:
        fh.write((1).to_bytes(4, "big") + b"free" + pad.to_bytes(8, "big"))
        fh.write(os.urandom(pad - 16))
    return path


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    return cli.run(list(argv), out, err), out.getvalue(), err.getvalue()


def test_a_new_file_whose_answer_was_lost_is_uploaded_not_a_duplicate(
    live: EmbeddedServer, library: Library, media_dir: Any
) -> None:
    """The server stored the photo and the answer was lost: the client sent it again, the server
    answered 200 duplicate, and `mediadesk upload` said "already stored as id 1" and "Uploaded
    0, duplicates 1" of a file that was not on the server before it ran."""
    token = make_tokens(library).upload
    with proxied(live.url, b"POST /files/upload/direct", "lose") as proxy:
        code, out, err = run("upload", str(media_dir.jpeg), "--server", proxy.url, "--token", token)
        assert proxy.fired.is_set()
    assert code == 0 and "Uploaded 1, duplicates 0, refused 0, failed 0" in out, out + err
    assert "retrying in" in err and "already stored" not in err, err
    assert library.list_files().total == 1


def test_a_duplicate_is_ours_when_created_after_the_lost_attempt_began() -> None:
    """On the server's clock (Date, whole seconds) when it gives one, else on this machine's."""
    record = {"created_at": "2030-01-01T12:00:05.400000+00:00"}
    answer = httpx.Response(200, headers={"Date": "Tue, 01 Jan 2030 12:00:10 GMT"})
    assert _created_since(record, answer, 5.0)  # the lost attempt began at :05 at the latest
    assert not _created_since(record, answer, 4.0)  # stored before it began: someone else's
    assert not _created_since({}, answer, 5.0)
    # a time no UTC datetime holds (core.instants.client_instant refuses it) is nobody's upload
    assert not _created_since({"created_at": "9999-12-31T23:59:59-05:00"}, answer, 5.0)
    created = {"created_at": datetime.now(UTC).isoformat()}
    assert _created_since(created, httpx.Response(200), 5.0)
    old = {"created_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat()}
    assert not _created_since(old, httpx.Response(200), 5.0)


def test_a_cut_tus_patch_is_said_and_resumed(
    tus_server: tuple[EmbeddedServer, str], media_dir: Any, tmp_path: Path
) -> None:
    """README: each retry is shown on stderr. A tus PATCH cut mid-body was retried in silence
    (the direct, presigned and parts flows said theirs)."""
    live, token = tus_server
    video = big_video(media_dir.mp4, tmp_path / "match.mp4")
    with proxied(live.url, b"PATCH ", "cut", after=MiB) as proxy:
        code, out, err = run("upload", str(video), "--server", proxy.url, "--token", token)
        assert proxy.fired.is_set()
    assert code == 0 and "Uploaded 1, duplicates 0" in out, out + err
    said = [line for line in err.splitlines() if line.startswith("mediadesk: PATCH ")]
    assert len(said) == 1 and "; retrying in 0.5 s (1 of 5)" in said[0], err


def test_a_stalled_tus_patch_waits_out_the_423_of_its_own_request(
    tus_server: tuple[EmbeddedServer, str], media_dir: Any, tmp_path: Path
) -> None:
    """The client's PATCH froze (a half-open connection) and timed out; the server still held
    the upload for that request, so the next PATCH got 423 upload_locked, which the client
    counted as a failure: 15 s of back-off, then "kept failing (connection_failed)" while the
    server holds such a request up to its 120 s body timeout. Now 423 is waited out (Retry-After,
    each wait said) until the upload is let go."""
    live, token = tus_server
    video = big_video(media_dir.mp4, tmp_path / "stall.mp4")
    notes: list[str] = []
    with proxied(live.url, b"PATCH ", "stall", after=MiB) as proxy:

        def wait(seconds: float) -> None:
            if any(" 423 " in note for note in notes):
                proxy.release()  # the dead link ends: the server lets the upload go
            threading.Event().wait(min(seconds, 0.1))

        with Client(proxy.url, token, timeout=1.0, on_retry=notes.append, sleep=wait) as client:
            result = client.upload(video)
    assert result.flow == "tus" and not result.duplicate
    assert result.file["size"] == video.stat().st_size
    locked = [n for n in notes if "answered 423 (the upload is held by another request)" in n]
    assert locked and "retrying in" in locked[0] and "of 150 s)" in locked[0], notes


def test_a_tus_upload_held_by_another_request_fails_after_its_patience(
    tus_server: tuple[EmbeddedServer, str], media_dir: Any, tmp_path: Path
) -> None:
    """When the upload is never let go, the client gives up after `locked_patience` seconds of
    waits, saying the upload is held (upload_locked), not that the connection failed."""
    live, token = tus_server
    video = big_video(media_dir.mp4, tmp_path / "held.mp4")
    waits: list[float] = []
    with (
        proxied(live.url, b"PATCH ", "stall", after=MiB) as proxy,
        Client(proxy.url, token, timeout=1.0, locked_patience=3.0, sleep=waits.append) as client,
        pytest.raises(ClientError) as held,
    ):
        client.upload(video)
    assert (held.value.code, held.value.status) == ("upload_locked", 423), held.value
    assert "held by another request" in held.value.message
    assert sum(waits[1:]) == pytest.approx(3.0) and len(waits) >= 2, waits


def test_a_retry_after_not_in_ascii_digits_is_the_clients_own_wait() -> None:
    """ "²" (a proxy's latin-1 byte) passed str.isdigit() and crashed float(): a ValueError
    traceback from `mediadesk upload` instead of a retry."""
    client = Client("http://127.0.0.1:9", token="t", backoff=0.5)
    for said in (b"\xb2", "١".encode(), b" 7 ", b"-1", b"1e3"):
        answer = httpx.Response(503, headers={"Retry-After": said})
        expected = 7.0 if said.strip() == b"7" else 0.5
        assert client._wait(0, answer) == expected, said
