"""Headless Chromium driven over the DevTools protocol, for end-to-end tests of the HTTP API."""

from __future__ import annotations

import asyncio
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
    "--mute-audio",
]


def chromium_path() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


class Browser:
    """One Chromium process and one page; `evaluate` runs JavaScript and awaits its promise."""

    def __init__(self, executable: str) -> None:
        self.profile = Path(tempfile.mkdtemp(prefix="mediadesk-chromium-"))
        self.proc = subprocess.Popen(
            [
                executable,
                *FLAGS,
                "--remote-debugging-port=0",
                f"--user-data-dir={self.profile}",
                "about:blank",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None

    async def __aenter__(self) -> Browser:
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError("Chromium did not start")
            await asyncio.sleep(0.05)
        port = int(port_file.read_text().split()[0])
        self._session = aiohttp.ClientSession()
        async with self._session.get(f"http://127.0.0.1:{port}/json/list") as resp:
            pages = [t for t in await resp.json() if t["type"] == "page"]
        self._ws = await self._session.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._ws is not None:
            await self._ws.close()
        if self._session is not None:
            await self._session.close()
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        assert self._ws is not None
        msg_id = next(self._ids)
        await self._ws.send_json({"id": msg_id, "method": method, "params": params})
        while True:
            reply = json.loads((await self._ws.receive(timeout=60)).data)
            if reply.get("id") == msg_id:
                if "error" in reply:
                    raise RuntimeError(reply["error"])
                return reply["result"]
            self.on_event(reply)

    def on_event(self, message: dict[str, Any]) -> None:
        """An event that arrived while a reply was awaited (dropped here; subclasses keep
        what they need)."""

    async def goto(self, url: str) -> None:
        await self.send("Page.navigate", url=url)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            state = await self.evaluate("document.readyState + ' ' + location.href")
            if state.startswith("complete") and url.split("#")[0] in state:
                return
            await asyncio.sleep(0.05)
        raise TimeoutError(f"{url} did not load")

    async def evaluate(self, expression: str) -> Any:
        result = await self.send(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(
                result["exceptionDetails"]
                .get("exception", {})
                .get("description", result["exceptionDetails"])
            )
        return result["result"].get("value")

    async def wait_for(self, condition: str, timeout: float) -> bool:
        """Polls the JavaScript expression `condition` until it is truthy; False on timeout."""
        deadline = time.monotonic() + timeout
        while not await self.evaluate(f"Boolean({condition})"):
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.05)
        return True


_PLAY_AND_SEEK = """
(async (to) => {
  const v = document.getElementById('video');
  v.muted = true;
  await v.play();
  const wait = (cond, ms) => new Promise((resolve) => {
    const t0 = Date.now();
    const tick = () => cond() ? resolve(true)
      : Date.now() - t0 > ms ? resolve(false) : setTimeout(tick, 50);
    tick();
  });
  const played = await wait(() => v.currentTime > 0.5, 20000);
  v.currentTime = to;
  const seeked = await wait(() => !v.seeking && v.currentTime >= to, 20000);
  const moved = await wait(() => v.currentTime > to + 0.2, 20000);
  return {mode: window.mediadesk.mode, error: window.mediadesk.error, played, seeked, moved,
          t: v.currentTime};
})
"""


async def play_and_seek_on_watch_page(
    browser: Browser, link: str, to: float = 4.2
) -> dict[str, Any]:
    """Opens a /watch/{id} link, plays its video, seeks to `to` s and lets it play on.

    Returns the page's player mode and error, whether it played, finished the seek and moved
    past it (each waited up to 20 s), and the time reached; the page stays open for more checks.
    """
    await browser.goto(link)
    state: dict[str, Any] = await browser.evaluate(f"({_PLAY_AND_SEEK})({json.dumps(to)})")
    return state
