"""The server reaches threads one way: its app-owned pool (server/state.py `Threads`, started
and shut down by `threads_ctx` in server/app.py), through `Threads.run` or `run_blocking`."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from core.library import Library
from server.app import create_app
from server.config import ServerConfig
from server.state import THREADS, run_blocking
from tests.server_fixtures import bearer, make_tokens

ROOT = Path(__file__).resolve().parents[1]
HELPER = ROOT / "server" / "state.py"
# Every other way to a thread: the loop's default pool, asyncio's to_thread, a pool of one's own
OTHER_WAYS = re.compile(r"run_in_executor\(|to_thread\(|ThreadPoolExecutor\(|set_default_executor")


def other_ways(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if OTHER_WAYS.search(line)]


def test_no_thread_pool_outside_the_helper() -> None:
    found = {
        str(path.relative_to(ROOT)): hits
        for path in sorted((ROOT / "server").rglob("*.py"))
        if path != HELPER and (hits := other_ways(path.read_text(encoding="utf-8")))
    }
    assert found == {}
    assert other_ways(HELPER.read_text(encoding="utf-8"))  # the helper itself is found
    assert other_ways("await loop.run_in_executor(None, f)")
    assert other_ways("await asyncio.to_thread(thread.join, 30)")


async def test_blocking_calls_run_in_the_apps_pool(library: Library, aiohttp_client: Any) -> None:
    async def where(request: web.Request) -> web.Response:
        name = await run_blocking(request, lambda: threading.current_thread().name)
        return web.Response(text=name)

    app = create_app(library, config=ServerConfig())
    app.router.add_get("/test-thread", where)
    client = await aiohttp_client(app)
    resp = await client.get("/test-thread", headers=bearer(make_tokens(library).read))
    assert (await resp.text()).startswith("mediadesk-api")
    await client.close()
    # the pool ends with the app: nothing runs in it afterwards
    with pytest.raises(RuntimeError, match="only while the app runs"):
        await app[THREADS].run(print)
