"""/upload-demo reloaded while an upload is still running (a phone on a slow link), then the
same file chosen again: the page goes on with the same pending file, not a new one from 0 %
that left the first pending until the presign expired. Real Chromium, the real server, and a
loopback TCP proxy between them that holds the upload's body part-way."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.browser import chromium_path
from tests.conftest import make_settings
from tests.resumable_client import noise_png
from tests.server_fixtures import make_tokens, server_config
from tests.test_demo_phone import Phone, _open, _wait_status, statuses

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.timeout(120),
]


class HeldUpload:
    """A TCP proxy to the server that lets the first PUT of bytes (/signed/…) through up to
    `allow` bytes, then forwards nothing more of it: the page sees an upload under way, its
    bar part-filled, for as long as the test wants, as on a stalled phone link. Throttling
    with DevTools' network emulation did not slow uploads in every Chromium; this does."""

    def __init__(self, allow: int) -> None:
        self.port = 0  # the server's, once it listens (its URLs name the proxy)
        self.allow = allow
        self.held = asyncio.Event()
        self._cut = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.url = ""

    async def __aenter__(self) -> HeldUpload:
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._cut.set()
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def cut(self) -> None:
        """The held connection dies (the phone's link after the page went away): the server
        sees the body cut short."""
        self._cut.set()

    async def _connection(
        self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            await asyncio.gather(
                self._up(client_r, server_w, client_w), self._pipe(server_r, client_w)
            )
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            for writer in (client_w, server_w):
                writer.transport.abort()
            self._tasks.discard(task)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()

    async def _up(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        client: asyncio.StreamWriter,
    ) -> None:
        put_at: int | None = None  # bytes forwarded since this connection's PUT began
        while data := await reader.read(65536):
            if put_at is None and not self.held.is_set() and b"PUT /signed/" in data:
                put_at = -data.index(b"PUT /signed/")
            if put_at is not None:
                room = self.allow - put_at
                if room <= len(data):
                    writer.write(data[: max(room, 0)])
                    await writer.drain()
                    # not read any more: the kernel's buffers fill and the browser waits
                    self.held.set()
                    await self._cut.wait()
                    raise ConnectionResetError
                put_at += len(data)
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()


async def test_a_reload_mid_upload_and_the_same_file_resumes_the_same_upload(
    data_dir: Path, tmp_path: Path
) -> None:
    picture = noise_png(tmp_path / "clip.png", 1000)  # ~3 MB, held after 1 MB
    data = picture.read_bytes()
    async with HeldUpload(allow=1_000_000) as proxy:
        # the server's own URLs (the presigned PUT's) name the proxy, as behind a real one
        library = Library.open(make_settings(data_dir, public_base_url=proxy.url))
        server = EmbeddedServer(library, config=server_config(library))
        try:
            server.start()
            proxy.port = int(server.url.rsplit(":", 1)[1])
            file_id = await _reload_and_choose_again(proxy, library, picture)
            # no second pending file left behind until its presign expires
            assert statuses(library) == {"ready": 1}, statuses(library)
            record = library.get_ready(file_id)
            assert record.sha256 == hashlib.sha256(data).hexdigest()
            stored = b"".join(library.open_range(record, 0, None))
            assert hashlib.sha256(stored).digest() == hashlib.sha256(data).digest()
        finally:
            server.stop()
            library.close()


async def _reload_and_choose_again(proxy: HeldUpload, library: Library, picture: Path) -> int:
    """The file chosen, the page reloaded while its bytes are held part-way, the same file
    chosen again: the id of the file stored."""
    token = make_tokens(library).upload
    async with Phone(chromium_path() or "") as phone:
        await phone.start("en")
        await _open(phone, proxy.url, token)
        await phone.choose(picture)
        await asyncio.wait_for(proxy.held.wait(), 30)
        assert await phone.wait_for("document.getElementById('bar').value > 0", 10)
        state = await phone.page()
        # still uploading as far as the page knows: no error, no Retry yet
        assert state["status"] == "Uploading…" and not state["retry"], state
        await phone.send("Page.reload")
        assert await phone.wait_for(
            "document.readyState === 'complete' && !document.getElementById('status').value", 30
        )
        proxy.cut()
        await phone.evaluate(f"document.getElementById('token').value = {json.dumps(token)}")
        start = len(phone.requests)
        await phone.choose(picture)
        status = await _wait_status(phone, ("Stored", "Refused", "Not stored"), 60)
        assert status.startswith("Stored as #"), status
        presigns = [u for m, u in phone.requests if m == "POST" and u.endswith("/presigned")]
        renews = [u for m, u in phone.requests[start:] if u.endswith("/upload/renew")]
        # one presign in all (it was two: the second a new file from 0 %), and the reloaded
        # page renewed the first one's URL
        assert len(presigns) == 1, phone.requests
        file_id = int(status.removeprefix("Stored as #"))
        assert renews == [f"{proxy.url}/files/{file_id}/upload/renew"], phone.requests[start:]
        # stored: nothing is kept to resume
        assert await phone.evaluate("localStorage.length") == 0
        return file_id


async def test_a_refused_upload_is_not_kept_to_resume(library: Library, tmp_path: Path) -> None:
    """The pending id is kept from the presign on; a refusal for good at the confirm (a damaged
    picture) forgets it, as a stored upload does: nothing is left to resume."""
    damaged = tmp_path / "damaged.png"
    damaged.write_bytes(noise_png(tmp_path / "whole.png", 200).read_bytes()[:40_000])
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        async with Phone(chromium_path() or "") as phone:
            await phone.start("en")
            await _open(phone, server.url, make_tokens(library).upload)
            await phone.choose(damaged)
            status = await _wait_status(phone, ("Stored", "Refused", "Not stored"), 30)
            assert status.startswith("Refused:"), status
            assert [u for m, u in phone.requests if u.endswith("/confirm-upload")]
            kept = "Object.keys(localStorage).filter((k) => k.startsWith('mediadesk-upload'))"
            assert await phone.evaluate(kept) == []
    finally:
        server.stop()
