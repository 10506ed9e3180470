"""Server-sent events: the catalog change feed, live, with catch-up and heartbeats.

Each event is `id: <change id>` (catalog-wide, the same on every process sharing the catalog),
`event: <kind>` and `data: {"id", "kind", "file_id", "at", "file"}`. A client that reconnects
with `Last-Event-ID` (EventSource does it by itself) first gets what it missed from the change
log, in order, then the live stream. If what it missed is older than the change log keeps, it
gets one `reset` event: reload everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import web

from core.events import ChangeEvent, EventKind
from core.library import Library
from server.auth import requires
from server.hub import Item, event_item, streamed
from server.params import as_int
from server.state import CONFIG, HUB, LIBRARY, METRICS, run_blocking

routes = web.RouteTableDef()
RETRY_MS = 3000
MAX_CATCH_UP = 10000  # more than this behind: a reset is quicker than a replay


def _missed(lib: Library, after: int, upto: int) -> tuple[list[Item], int, bool]:
    """Changes after `after` up to `upto` (exclusive of later ones), and whether to reset."""
    if after < lib.changes_pruned_through():
        return [], upto, True
    items: list[Item] = []
    cursor = after
    while cursor < upto:
        batch: list[ChangeEvent] = lib.feed.since(cursor)
        if not batch:
            break
        for ev in batch:
            if ev.change_id is None or ev.change_id > upto:
                return items, upto, False
            cursor = ev.change_id
            if streamed(ev):
                items.append(event_item(ev))
                if len(items) > MAX_CATCH_UP:
                    return [], upto, True
    return items, upto, False


def _frame(item: Item) -> bytes:
    event_id, kind, data = item
    return f"id: {event_id}\nevent: {kind}\ndata: {data}\n\n".encode()


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
    queue = hub.connect()
    current = hub.last_id  # everything after this reaches the queue
    metrics = request.app[METRICS]
    metrics.sse_clients += 1
    try:
        backlog: list[Item] = []
        reset = False
        if last is not None and last < current:
            backlog, _, reset = await run_blocking(
                request, _missed, request.app[LIBRARY], last, current
            )
        await response.prepare(request)
        await response.write(f"retry: {RETRY_MS}\n: connected\n\n".encode())
        if reset:
            data = json.dumps({"kind": EventKind.RESET, "id": current, "after": last})
            await response.write(f"id: {current}\nevent: reset\ndata: {data}\n\n".encode())
        for missed in backlog:
            await response.write(_frame(missed))
        # an id without data moves the client's Last-Event-ID without dispatching an event
        await response.write(f"id: {current}\n\n".encode())
        sent = current
        while True:
            try:
                item = await asyncio.wait_for(queue.get(), heartbeat)
            except TimeoutError:
                await response.write(b": heartbeat\n\n")
                continue
            if item is None:
                break
            if item[0] <= sent:
                continue
            sent = item[0]
            await response.write(_frame(item))
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
    except ConnectionError:
        pass
    finally:
        hub.disconnect(queue)
        metrics.sse_clients -= 1
    return response
