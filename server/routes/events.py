"""Server-sent events: the core's change events, live, with heartbeats."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from server.auth import requires
from server.params import as_int
from server.state import CONFIG, HUB, METRICS

routes = web.RouteTableDef()
RETRY_MS = 3000


@routes.get("/events", allow_head=False)
@requires("read")
async def events(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    last = as_int("Last-Event-ID", request.headers.get("Last-Event-ID"), minimum=0)
    heartbeat = request.app[CONFIG].heartbeat_interval
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache, no-store",
            "X-Accel-Buffering": "no",
        }
    )
    queue = hub.connect(last)
    metrics = request.app[METRICS]
    metrics.sse_clients += 1
    try:
        await response.prepare(request)
        await response.write(f"retry: {RETRY_MS}\n: connected\n\n".encode())
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), heartbeat)
            except TimeoutError:
                await response.write(b": heartbeat\n\n")
                continue
            if item is None:
                break
            event_id, kind, data = item
            await response.write(f"id: {event_id}\nevent: {kind}\ndata: {data}\n\n".encode())
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
    except ConnectionError:
        pass
    finally:
        hub.disconnect(queue)
        metrics.sse_clients -= 1
    return response
