"""The audit log of private-file accesses, for admins."""

from __future__ import annotations

from datetime import datetime

from aiohttp import web

from core.errors import InvalidInput
from server.auth import requires
from server.params import as_id, as_int
from server.state import AUDIT, run_blocking

routes = web.RouteTableDef()


@routes.get("/audit")
@requires("admin")
async def audit(request: web.Request) -> web.Response:
    q = request.query
    since = None
    if q.get("since"):
        try:
            since = datetime.fromisoformat(q["since"])
        except ValueError:
            raise InvalidInput("since must be an ISO 8601 date and time") from None
    sink = request.app[AUDIT]
    await sink.flush()
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
