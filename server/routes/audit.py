"""The audit log of private-file accesses, for admins."""

from __future__ import annotations

import asyncio
import contextlib

from aiohttp import web

from core.instants import client_instant
from server.auth import requires
from server.params import as_id, as_int
from server.state import AUDIT, run_blocking

routes = web.RouteTableDef()
# Seconds the listing waits for the entries just added to be written, so that it shows them:
# behind a slow write (an import on a slow disk) it answered only once that write was done;
# past this it answers with what the catalog holds and the entries are written meanwhile.
FRESH_WAIT = 2.0


@routes.get("/audit")
@requires("admin")
async def audit(request: web.Request) -> web.Response:
    q = request.query
    since = None
    if q.get("since"):
        since = client_instant(
            q["since"],
            "since must be an ISO 8601 date and time, in the years 1 to 9999 once in UTC",
        )
    sink = request.app[AUDIT]
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(sink.flush()), FRESH_WAIT)
    limit = as_int("limit", q.get("limit"), 100, minimum=1, maximum=1000) or 100
    offset = as_int("offset", q.get("offset"), 0, minimum=0) or 0
    items, total = await run_blocking(
        request,
        sink.log.query,
        file_id=as_id("file_id", q.get("file_id")),
        actor=q.get("actor") or None,
        action=q.get("action") or None,
        since=since,
        limit=limit,
        offset=offset,
    )
    return web.json_response(
        {"items": [i.as_dict() for i in items], "total": total, "limit": limit, "offset": offset}
    )
