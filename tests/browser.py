"""Headless Chromium driven over the DevTools protocol, for end-to-end tests of the HTTP API."""

from __future__ import annotations

import asyncio
import atexit
import itertools
import json
import shutil
import subprocess
import sys
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
    """One Chromium process and one page; `evaluate` runs JavaScript and awaits its promise.

    A subclass with `shared` True (Tab) starts no process: its page is in a browser context of
    its own (storage, cache, cookies, connections: what a fresh Chromium starts without) in this
    test process's one Chromium, made on entry and disposed of, with the page, on exit."""

    shared = False

    def __init__(self, executable: str) -> None:
        self._ids = itertools.count(1)
        self._session: aiohttp.ClientSession | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._browser_ws: aiohttp.ClientWebSocketResponse | None = None
        self._context = ""
        self._unawaited: set[asyncio.Task[None]] = set()
        if self.shared:
            self._executable = executable
            return
        self.profile = Path(tempfile.mkdtemp(prefix="mediadesk-chromium-"))
        self.proc = _start_chromium(executable, self.profile)

    async def __aenter__(self) -> Browser:
        if self.shared:
            return await self._open_tab()
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

    async def _open_tab(self) -> Browser:
        port = await _shared_chromium(self._executable)
        self._session = aiohttp.ClientSession()
        devtools = f"127.0.0.1:{port}"
        async with self._session.get(f"http://{devtools}/json/version") as resp:
            browser_url = (await resp.json())["webSocketDebuggerUrl"]
        self._ws = self._browser_ws = await self._session.ws_connect(browser_url, max_msg_size=0)
        self._context = (await self.send("Target.createBrowserContext"))["browserContextId"]
        target = await self.send(
            "Target.createTarget", url="about:blank", browserContextId=self._context
        )
        self._ws = await self._session.ws_connect(
            f"ws://{devtools}/devtools/page/{target['targetId']}", max_msg_size=0
        )
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.shared:
            await self._close_tab()
            return
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

    async def _close_tab(self) -> None:
        if self._ws is not None and self._ws is not self._browser_ws:
            await self._ws.close()
        if self._browser_ws is not None:
            self._ws = self._browser_ws
            if self._context:
                await self.send("Target.disposeBrowserContext", browserContextId=self._context)
            await self._browser_ws.close()
        if self._session is not None:
            await self._session.close()

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

    def send_later(self, method: str, **params: Any) -> None:
        """`method` sent from on_event (a paused request's answer), its reply not awaited: the
        send() in progress reads the socket, and hands that reply to on_event, which drops it."""
        assert self._ws is not None
        message = {"id": next(self._ids), "method": method, "params": params}
        task = asyncio.get_running_loop().create_task(self._ws.send_json(message))
        self._unawaited.add(task)
        task.add_done_callback(self._unawaited.discard)

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


def _start_chromium(executable: str, profile: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            executable,
            *FLAGS,
            "--remote-debugging-port=0",
            f"--user-data-dir={profile}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


async def _devtools_port(proc: subprocess.Popen[bytes], profile: Path) -> int:
    port_file = profile / "DevToolsActivePort"
    deadline = time.monotonic() + 30
    while not port_file.exists() or not port_file.read_text().strip():
        if time.monotonic() > deadline or proc.poll() is not None:
            raise RuntimeError("Chromium did not start")
        await asyncio.sleep(0.05)
    return int(port_file.read_text().split()[0])


# Ends the shared Chromium and deletes its profile once the test process that started it is
# gone, however it ended (a worker killed by a native crash runs no atexit): it holds the read
# end of a pipe whose write end only that process has (as tests/pg_server.py's watchdog).
_WATCHDOG = """
import os, shutil, signal, sys, time
sys.stdin.buffer.read()
pid, profile = int(sys.argv[1]), sys.argv[2]
try:
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        os.kill(pid, 0)
        time.sleep(0.1)
    os.kill(pid, signal.SIGKILL)
except ProcessLookupError:
    pass
shutil.rmtree(profile, ignore_errors=True)
"""

_shared: tuple[subprocess.Popen[bytes], Path, subprocess.Popen[bytes]] | None = None


async def _shared_chromium(executable: str) -> int:
    """The DevTools port of this test process's one Chromium, started on first use (again if
    it ended): starting one for each test cost ~1 s of it (more on a loaded machine)."""
    global _shared
    if _shared is None or _shared[0].poll() is not None:
        if _shared is None:
            atexit.register(_stop_shared)
        else:  # it ended (a crash): its watchdog deletes its profile now
            _release(_shared[2])
        profile = Path(tempfile.mkdtemp(prefix="mediadesk-chromium-"))
        proc = _start_chromium(executable, profile)
        watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(proc.pid), str(profile)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl+C to the run's process group is not for it
        )
        _shared = (proc, profile, watchdog)
    return await _devtools_port(_shared[0], _shared[1])


def _release(watchdog: subprocess.Popen[bytes]) -> None:
    assert watchdog.stdin is not None
    watchdog.stdin.close()


def _stop_shared() -> None:
    """At the test process's normal end: Chromium stopped here, its profile by the watchdog."""
    if _shared is not None:
        proc, _, watchdog = _shared
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        _release(watchdog)


class Tab(Browser):
    """A page in a browser context of its own in the test process's one Chromium."""

    shared = True


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
