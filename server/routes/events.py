"""Server-sent events: the catalog change feed, live, with catch-up and heartbeats.

Each event is `id: <change id>` (catalog-wide, the same on every process sharing the catalog),
`event: <kind>` and `data: {"id", "kind", "file_id", "at", "file"}`, a file's `file` being its
record as GET /files/{id} answers it (server.presenters.event_body). A client that reconnects
with `Last-Event-ID` (EventSource does it by itself) first gets what it missed from the change
log, in order, then the live stream. If what it missed is older than the change log keeps, or
its id is one the catalog never gave (the catalog was put back from a backup since), it gets
one `reset` event: reload everything.

The token is checked again before each event is sent, and at once when any token changes: a
stream opened with a token that was revoked since gets one `unauthorized` event (no `id:`, so
the client's Last-Event-ID stays) and ends; EventSource then reconnects, is answered 401 and
gives up. A replay the catalog cannot answer (it is out) does not refuse the stream: EventSource
never retries after a non-200 answer, so the stream opens and the replay waits for the catalog.
"""

from __future__ import annotations

import asyncio
import contextlib
import json

from aiohttp import web

from core.errors import StorageUnavailable, catalog_unreachable
from core.events import ChangeEvent, EventKind
from core.library import Library
from server.auth import authenticate, check_scope, requires
from server.errors import ApiError, tell_catalog_failures_now
from server.hub import RECHECK, Item, event_item, streamed
from server.params import as_int
from server.presenters import event_json, reads_job_details
from server.state import CONFIG, HUB, LIBRARY, METRICS, TOKEN, run_blocking

routes = web.RouteTableDef()
RETRY_MS = 3000
MAX_CATCH_UP = 10000  # more than this behind: a reset is quicker than a replay
SCOPE = "read"
WAIT_SECONDS = 1.0  # how often a replay or a token check the catalog could not answer is retried
Missed = tuple[list[Item], int, bool]  # a replay: the items, up to which id, whether to reset


def _missed(lib: Library, after: int, upto: int) -> Missed:
    """Changes after `after` up to `upto` (exclusive of later ones), and whether to reset."""
    if after < lib.changes_pruned_through():
        return [], upto, True
    if after > upto and after > lib.feed.newest_id():
        # an id this catalog never gave: it was put back from a backup (or replaced) since
        # the client's last event, and the ids after the backup's are given again to other
        # changes. Replayed from there, the client took them for its own later ones: files
        # it listed stayed listed, gone, and new ones under reused ids looked known.
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
                items.append(event_item(ev, lib))
                if len(items) > MAX_CATCH_UP:
                    return [], upto, True
    return items, upto, False


async def _replay(request: web.Request, last: int, current: int) -> Missed | None:
    """What the client missed after `last`, or None while the catalog is out of reach (the
    stream then waits for it); any other failure is raised."""
    try:
        return await run_blocking(request, _missed, request.app[LIBRARY], last, current)
    except StorageUnavailable as exc:
        if not catalog_unreachable(exc):
            raise
        return None
    finally:
        # the stream may last hours: what its sessions met (an event's public link too,
        # which the replay goes on without) is told now, not when it ends
        tell_catalog_failures_now(request)


def _frame(item: Item, detailed: bool) -> bytes:
    """`detailed`: a job's error as stored (server/presenters.py reads_job_details)."""
    event_id, kind, data = item
    data = event_json(kind, data, detailed)
    return f"id: {event_id}\nevent: {kind}\ndata: {data}\n\n".encode()


async def _refusal(request: web.Request, response: web.StreamResponse) -> ApiError | None:
    """Why the stream's token no longer allows it (revoked, or its scope), or None.

    The check every request makes (server/auth.py: its cache is dropped when any process
    changes a token); while the catalog can neither check the token nor vouch for it (trusted
    within TRUSTED_THROUGH_OUTAGE), nothing is sent until it can.
    """
    while True:
        try:
            check_scope(await authenticate(request), SCOPE)
            return None
        except ApiError as exc:
            return exc
        except StorageUnavailable as exc:
            if not catalog_unreachable(exc):
                raise
            tell_catalog_failures_now(request)  # the stream may last hours
        await response.write(b": heartbeat\n\n")  # a client gone ends the wait here
        await asyncio.sleep(WAIT_SECONDS)


async def _end(response: web.StreamResponse, refusal: ApiError) -> None:
    data = json.dumps(
        {"kind": EventKind.UNAUTHORIZED, "code": refusal.code, "message": refusal.message}
    )
    await response.write(f"event: {EventKind.UNAUTHORIZED}\ndata: {data}\n\n".encode())


@routes.get("/events", allow_head=False)
@requires(SCOPE)
async def events(request: web.Request) -> web.StreamResponse:
    hub = request.app[HUB]
    last = as_int("Last-Event-ID", request.headers.get("Last-Event-ID"), minimum=0)
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
        missed: Missed | None = ([], current, False)
        if last is not None and last != current:
            # asked before the answer starts: any other failure is answered as before
            missed = await _replay(request, last, current)
        await response.prepare(request)
        await response.write(f"retry: {RETRY_MS}\n: connected\n\n".encode())
        with contextlib.suppress(StorageUnavailable):  # not an outage: the reconnect is told
            await _stream(request, response, queue, last, current, missed)
        with contextlib.suppress(ConnectionError):
            await response.write_eof()
    except ConnectionError:
        pass
    finally:
        hub.disconnect(queue)
        metrics.sse_clients -= 1
    return response


async def _stream(
    request: web.Request,
    response: web.StreamResponse,
    queue: asyncio.Queue[Item | None],
    last: int | None,
    current: int,
    missed: Missed | None,
) -> None:
    """The replay after `last` (waited for while the catalog is out), then the live events."""
    while missed is None:  # the live events wait in the queue meanwhile
        await asyncio.sleep(WAIT_SECONDS)
        await response.write(b": heartbeat\n\n")
        missed = await _replay(request, last or 0, current)
    backlog, _, reset = missed
    detailed = reads_job_details(request[TOKEN])
    refusal = await _refusal(request, response)
    if refusal is not None:
        await _end(response, refusal)
        return
    if reset:
        data = json.dumps({"kind": EventKind.RESET, "id": current, "after": last})
        await response.write(f"id: {current}\nevent: reset\ndata: {data}\n\n".encode())
    for item in backlog:
        await response.write(_frame(item, detailed))
    # an id without data moves the client's Last-Event-ID without dispatching an event
    await response.write(f"id: {current}\n\n".encode())
    sent = current
    heartbeat = request.app[CONFIG].heartbeat_interval
    while True:
        try:
            next_item = await asyncio.wait_for(queue.get(), heartbeat)
        except TimeoutError:
            await response.write(b": heartbeat\n\n")
            continue
        if next_item is None:
            return
        if next_item is not RECHECK and next_item[0] <= sent:
            continue
        refusal = await _refusal(request, response)
        if refusal is not None:
            await _end(response, refusal)
            return
        if next_item is not RECHECK:
            sent = next_item[0]
            await response.write(_frame(next_item, detailed))
