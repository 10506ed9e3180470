"""Athlete routes: list, create and rename."""

from __future__ import annotations

from aiohttp import web

from server.auth import requires
from server.params import as_id, path_id, read_fields, required
from server.state import library, run_blocking

routes = web.RouteTableDef()


@routes.get("/athletes")
@requires("read")
async def list_athletes(request: web.Request) -> web.Response:
    items = await run_blocking(request, library(request).athletes)
    return web.json_response({"items": [a.as_dict() for a in items], "total": len(items)})


@routes.post("/athletes")
@requires("upload")
async def create_athlete(request: web.Request) -> web.Response:
    fields = await read_fields(request, "AthleteForm")
    athlete_id = as_id("id", fields.get("id"))
    record = await run_blocking(
        request, library(request).create_athlete, required(fields, "name"), athlete_id
    )
    return web.json_response(record.as_dict(), status=201)


@routes.patch("/athletes/{athlete_id}")
@requires("upload")
async def rename_athlete(request: web.Request) -> web.Response:
    athlete_id = path_id(request, "athlete_id")
    fields = await read_fields(request, "AthleteRename")
    record = await run_blocking(
        request, library(request).rename_athlete, athlete_id, required(fields, "name")
    )
    return web.json_response(record.as_dict())
