"""mediadesk.js when the link goes silent mid-request (Wi-Fi gone, a NAT that dropped the
connection: no reset, no bytes either way), through a TCP proxy that plays that dead link once.

An XMLHttpRequest or fetch has no timeout of its own: the upload's promise neither resolved
nor rejected, and /upload-demo sat on a frozen bar with no Retry, where the Python client
gives up after its 60 s timeout and retries."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.browser import Tab, chromium_path
from tests.server_fixtures import http_call, make_tokens

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.timeout(60),
]


class DeadLink:
    """A TCP proxy in front of a server that plays a dead link once: the connection that
    sends `marker` goes silent `after` bytes past it (nothing more of it is read or forwarded,
    either way: no reset, no bytes), while every other connection, and every later one, works."""

    def __init__(self, upstream_port: int, marker: bytes, after: int) -> None:
        self.upstream_port = upstream_port
        self.marker = marker
        self.after = after
        self.dead = asyncio.Event()
        self._writers: list[asyncio.StreamWriter] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        server_r, server_w = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        self._writers += [client_w, server_w]
        silent = asyncio.Event()

        async def up() -> None:
            count = 0  # bytes of this connection before `data`
            seen: int | None = None  # where the marker starts in this connection's bytes
            while data := await client_r.read(65536):
                if seen is None and not self.dead.is_set() and (at := data.find(self.marker)) >= 0:
                    seen = count + at
                if seen is not None and count + len(data) >= seen + self.after:
                    server_w.write(data[: seen + self.after - count])
                    silent.set()
                    self.dead.set()
                    return  # read no more: the client's buffers fill, its progress stops
                count += len(data)
                server_w.write(data)
                await server_w.drain()

        async def down() -> None:
            while (data := await server_r.read(65536)) and not silent.is_set():
                client_w.write(data)
                await client_w.drain()

        with contextlib.suppress(OSError):
            await asyncio.gather(up(), down())

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        listener = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        try:
            yield f"http://127.0.0.1:{listener.sockets[0].getsockname()[1]}"
        finally:
            # the dead connection too: the server's held PUT ends before the server stops
            for writer in self._writers:
                writer.close()
            listener.close()
            if self._tasks:
                await asyncio.wait(self._tasks, timeout=5)


STALL = 0.4  # the page's stallTimeout, seconds (the module's own is 60)
SLOW = 250_000  # bytes per second while the first PUT goes (throttled by Chromium)


async def test_a_silent_link_is_given_up_after_the_stall_window_and_sent_again(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    """The PUT goes silent part-way, after sending slowly for longer than the stall window
    (its progress keeps it alive): it is aborted once nothing moved for `stallTimeout` and
    sent again, and the file is stored byte for byte. Meanwhile a request to a server that
    never answered this page goes silent before any answer: it rejects with network_error,
    reason "stalled", after the window (not retried: nothing says that server exists)."""
    from PIL import Image

    noise = tmp_path / "noise.png"  # ~240 KB that do not compress
    Image.frombytes("RGB", (300, 270), os.urandom(300 * 270 * 3)).save(noise, compress_level=0)
    data = noise.read_bytes()
    token = make_tokens(library).upload
    # dead ~0.7 s into the PUT's body at SLOW: longer than the window, with progress all along
    put_link = DeadLink(live.port, b"PUT /signed/", 170_000)
    never = DeadLink(live.port, b"GET /config", 0)
    async with (
        put_link.running() as url,
        never.running() as silent_url,
        Tab(chromium_path() or "") as browser,
    ):
        library.apply_settings(public_base_url=url)  # the signed PUT goes through it too
        await browser.goto(f"{url}/upload-demo")
        await browser.send("Network.enable")
        await browser.send(
            "Network.emulateNetworkConditions",
            offline=False,
            latency=0,
            downloadThroughput=-1,
            uploadThroughput=SLOW,
        )
        await browser.evaluate(
            f"""(async () => {{
              const {{ uploadFile, getConfig }} = await import("/static/mediadesk.js");
              const b64 = {json.dumps(base64.b64encode(data).decode())};
              const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
              const file = new File([bytes], "stall.png", {{type: "image/png"}});
              const settled = (promise) => promise.then((value) => ({{value}}),
                (err) => ({{error: {{code: err.code, reason: err.reason, message: err.message}}}}));
              window.__progress = [];
              window.__done = settled(uploadFile(file, {{
                token: {json.dumps(token)}, isPublic: true, stallTimeout: {STALL},
                onProgress: (sent) => window.__progress.push([performance.now(), sent]),
              }}));
              const asked = performance.now();
              window.__never = settled(getConfig({{
                baseUrl: {json.dumps(silent_url)}, stallTimeout: {STALL},
              }})).then((result) => ({{...result, after: performance.now() - asked}}));
              return true;
            }})()"""
        )
        await asyncio.wait_for(put_link.dead.wait(), 10)
        # the retry at full speed: the test's time is the stall window, not a slow link
        await browser.send(
            "Network.emulateNetworkConditions",
            offline=False,
            latency=0,
            downloadThroughput=-1,
            uploadThroughput=-1,
        )
        result = await asyncio.wait_for(browser.evaluate("window.__done"), 10)
        progress = await browser.evaluate("window.__progress")
        never_answered = await asyncio.wait_for(browser.evaluate("window.__never"), 10)
    assert "error" not in result, result
    stored = result["value"]
    assert stored["size"] == len(data)
    assert http_call(f"{live.url}{stored['urls']['raw']}").body == data
    # the first PUT sent slowly for longer than the window without being cut (its progress
    # kept it alive), and was given up only once silent: a reset to 0, then the retry's
    first = progress[: next(i for i, (_, sent) in enumerate(progress) if sent == 0)]
    assert first[-1][0] - first[0][0] > 1.5 * STALL * 1000, first
    assert progress[-1][1] == len(data)

    assert never.dead.is_set()
    assert never_answered["error"]["code"] == "network_error", never_answered
    assert never_answered["error"]["reason"] == "stalled"
    assert f"no progress for {STALL:g} s" in never_answered["error"]["message"]
    assert STALL * 1000 <= never_answered["after"] < STALL * 1000 + 400
