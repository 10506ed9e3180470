"""A desktop upload in parts to R2/S3 over a slow link that never goes silent.

Before: the socket took a part's last bytes long before they reached the store (the system's
send buffer held ~3.7 MiB of it), the store's 10 s read timeout started then, and at ~300 KiB/s
the tail still draining outlasted it: every part failed "did not answer in time", the file never
finished and the storage counted as silent for every other row. Now the answer is timed from
when the body has left (core/storage/s3_send.py), so a link that keeps moving bytes is never
failed for slowness, while a store that stops taking the body, or takes it all and never
answers, is still failed within the read timeout.

Real HTTP to moto's S3 server through an asyncio proxy in this file that passes requests on at
a set rate (answers at full speed), with the timeouts scaled down (2 s to answer instead of 10)
and 5 MiB parts, so the same drain outlasts them within a few seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.errors import StorageUnavailable
from core.library import Library
from core.settings import Settings
from core.storage import s3
from core.storage.s3 import Timeouts
from desktop_app.controllers.upload_controller import UploadController
from desktop_app.models.upload_queue_model import SENDING_SETTLE, UploadState
from tests.resumable_client import noise_png

pytestmark = pytest.mark.timeout(90)

MiB = 1024 * 1024
READ = 2.0  # seconds the store has to answer (10 in production)
SHORT = Timeouts(connect=2, read=READ, attempts=2)
RATE = 768 * 1024  # bytes per second towards the store: the 3.7 MiB tail takes ~5 s


class ThrottlingProxy:
    """Passes each connection's request bytes on to the store at `rate` bytes per second
    (None: at once), its answers back at full speed, on an event loop of its own.

    `answer=False`: the store's answers are dropped (a store that takes the body and never
    answers). `stop_at`: after that many bytes of a connection it reads no more (a store that
    stops taking the body); `stopped` records when."""

    def __init__(
        self,
        target: str,
        rate: float | None,
        answer: bool = True,
        stop_at: int | None = None,
    ) -> None:
        parts = urlsplit(target)
        self._target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.rate, self.answer, self.stop_at = rate, answer, stop_at
        self.stopped: float | None = None  # monotonic time the store stopped reading
        self.forwarded = 0  # request bytes passed on, all connections
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        self.url = f"http://127.0.0.1:{self.port}"

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        listener = socket.socket()
        # What a slow link has not carried waits unacknowledged in the sender's queue; a proxy
        # with the system's receive buffer (autotuned to megabytes) would acknowledge what it
        # has not passed on, which no sender can tell from bytes that reached the store
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 128 * 1024)
        listener.bind(("127.0.0.1", 0))
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._connected, sock=listener, limit=32 * 1024)
        )
        self.port = listener.getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _connected(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(*self._target)
        with contextlib.suppress(asyncio.CancelledError):  # the proxy closing
            await asyncio.gather(
                self._requests(reader, up_writer),
                self._answers(up_reader, writer),
                return_exceptions=True,
            )
        for w in (writer, up_writer):
            w.close()

    async def _requests(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        # 1/20 s of the rate at a time: the proxy itself holds little (StreamReader's limit)
        chunk = max(1024, int(self.rate / 20)) if self.rate else 65536
        read = 0
        while True:
            if self.stop_at is not None and read >= self.stop_at:
                self.stopped = time.monotonic()
                await asyncio.sleep(3600)  # reads no more, never closes
            data = await src.read(chunk)
            if not data:
                dst.write_eof()
                return
            read += len(data)
            dst.write(data)
            await dst.drain()
            self.forwarded += len(data)
            if self.rate:
                await asyncio.sleep(len(data) / self.rate)

    async def _answers(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        while data := await src.read(65536):
            if self.answer:
                dst.write(data)
                await dst.drain()

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _stop(self) -> None:
        self._server.close()
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


@contextlib.contextmanager
def library_behind(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, **proxy: object
) -> Iterator[tuple[Library, ThrottlingProxy]]:
    monkeypatch.setattr(s3, "REQUESTS", SHORT)
    throttle = ThrottlingProxy(settings.r2_endpoint_url, **proxy)  # type: ignore[arg-type]
    lib = Library.open(
        settings.replace(
            r2_endpoint_url=throttle.url,
            usage_scan_interval=0,
            upload_part_size=5 * MiB,
            resumable_threshold=MiB,
        )
    )
    try:
        yield lib, throttle
    finally:
        lib.close()
        throttle.close()


def test_a_slow_link_that_keeps_moving_finishes_the_upload(
    s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = noise_png(tmp_path / "match.png", 1450)  # ~6 MiB: a 5 MiB part and the rest
    size = source.stat().st_size
    reported: list[tuple[str, int]] = []
    with library_behind(s3_settings, monkeypatch, rate=RATE) as (lib, throttle):
        started = time.monotonic()
        # before: StorageUnavailable "… did not answer in time" on the first part
        record = lib.resumable.send_file(
            source, "image", progress=lambda stage, done, _total: reported.append((stage, done))
        )
        took = time.monotonic() - started
        assert record.status == "ready" and record.size == size
        assert record.sha256 == hashlib.sha256(source.read_bytes()).hexdigest()
        # the link really was slow: every byte went through the throttle at its rate
        assert throttle.forwarded >= size and took >= size / RATE * 0.9
        # the store is not taken for a silent one: it is asked at once, and answers
        assert lib.read_object(record.storage_key) == source.read_bytes()
    assert reported[-1] == ("finishing", size)


@pytest.mark.parametrize("silence", ["never answers", "stops reading"])
def test_a_silent_store_still_fails_the_part_within_the_read_timeout(
    s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, silence: str
) -> None:
    source = noise_png(tmp_path / "match.png", 1450)
    if silence == "never answers":  # takes every byte at once, answers nothing
        proxy: dict[str, object] = {"rate": None, "answer": False}
    else:  # takes 4 of the part's 5 MiB at the slow link's rate, then reads no more: the
        # rest of the body is already in the socket, waiting
        proxy = {"rate": 2 * MiB, "stop_at": 4 * MiB}
    with library_behind(s3_settings, monkeypatch, **proxy) as (lib, throttle):
        with pytest.raises(StorageUnavailable) as failed:
            lib.resumable.send_file(source, "image")
        failed_at = time.monotonic()
        assert failed.value.reason == "endpoint_unreachable"
        if throttle.stop_at is not None:
            assert throttle.stopped is not None
            # found silent within the read timeout of the last byte moving (and some slack
            # for a loaded machine), not after the whole timeout of a try more
            assert failed_at - throttle.stopped < 2 * READ + 1.5
            # the whole body was handed to the socket: its wait for the answer found it stuck
            assert "took none of the last" in " ".join(map(str, causes(failed.value)))
        assert "did not answer in time" in failed.value.message


def causes(exc: BaseException | None) -> Iterator[BaseException]:
    while exc is not None:
        yield exc
        exc = exc.__cause__ or exc.__context__


def test_a_rows_speed_and_time_left_follow_what_the_store_took(
    qtbot: Any, s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The upload queue's row (controller and model, no window) while its parts go over the
    slow link. Before: a part's first 3.7 MiB counted as sent the moment the socket took them
    (right after a resume too: each part starts from an empty socket), so the row showed
    several times the link's speed and too short a time left, then stood still for the ~5 s
    those bytes took to drain. Now the row follows what the store's side acknowledged."""
    source = noise_png(tmp_path / "match.png", 1450)
    size = source.stat().st_size
    with library_behind(s3_settings, monkeypatch, rate=RATE) as (lib, _throttle):
        controller = UploadController(lib, persist=False)
        try:
            controller.add_paths([source])
            seen: list[tuple[float, float, float, float | None]] = []  # (time, done, speed, eta)
            sending_since: float | None = None

            def finished() -> bool:
                nonlocal sending_since
                if not controller.model.items():
                    return False  # the drop is still being read
                item = controller.model.items()[0]
                if item.state == UploadState.UPLOADING and item.stage == "sending":
                    now = time.monotonic()
                    sending_since = sending_since or now
                    done = (item.stage_fraction or 0.0) * size
                    seen.append((now - sending_since, done, item.speed, item.eta))
                return item.state.finished

            qtbot.waitUntil(finished, timeout=60_000)
            assert controller.model.items()[0].state == UploadState.DONE
        finally:
            controller.shutdown()
    assert seen and seen[-1][0] > 4  # the row was watched while its bytes went
    for at, done, speed, eta in seen:
        # never ahead of the link by more than its first half second (the model's settle time)
        assert done <= RATE * (at + SENDING_SETTLE) + 0.5 * MiB, (at, done / MiB)
        if speed:
            assert speed <= 2 * RATE, (at, speed / MiB)
        if eta is not None:
            assert eta >= (size - done) / RATE / 2 - 1, (at, eta, done / MiB)
    # and it never stands still while the link carries bytes: what the row shows moves at
    # least every second until the last byte is stored (a part's tail drains, the next part
    # starts) and the row goes on to "finishing"
    moves = [at for (_, before, *_), (at, done, *_) in itertools.pairwise(seen) if done > before]
    gaps = [b - a for a, b in itertools.pairwise([0.0, *moves, seen[-1][0]])]
    assert max(gaps) < 1.0, gaps
