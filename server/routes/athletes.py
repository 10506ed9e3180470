"""Athlete routes: list, create and rename."""

from __future__ import annotations

import re

from aiohttp import web

from core.errors import Conflict, NotFound
from core.records import AthleteRecord
from server.auth import requires
from server.errors import ApiError
from server.params import as_id, as_int, path_id, read_fields, required
from server.routes.files import strong_if_match
from server.state import library, run_blocking

routes = web.RouteTableDef()

# An athlete's ETag names it as an athlete's (`"athlete-2"`): a file's `"2"` sent to a rename,
# or this one to a file's route, never matches
_TAG = re.compile(r"athlete-([1-9][0-9]*)")
_IF_MATCH_FORM = 'If-Match must be * or entity-tags as an athlete\'s ETag gives them: "athlete-2"'


def athlete_etag(record: AthleteRecord) -> str:
    """The ETag of an athlete: its version, strong, what a rename's If-Match takes."""
    return f'"athlete-{record.version}"'


def _answer(record: AthleteRecord, status: int = 200) -> web.Response:
    return web.json_response(
        record.as_dict(), status=status, headers={"ETag": athlete_etag(record)}
    )


def _if_match_versions(request: web.Request) -> frozenset[int] | None:
    """The versions If-Match asks for (None without one, or `*`); a tag that is no athlete's
    ETag (a file's "2", a weak W/"athlete-2") asks for none: a 412."""
    texts = strong_if_match(request, _IF_MATCH_FORM)
    if texts is None:
        return None
    return frozenset(int(m.group(1)) for text in texts if (m := _TAG.fullmatch(text)))


def _precondition_failed(details: dict[str, object]) -> ApiError:
    """The 412 of an If-Match the athlete's version does not hold: the reason and details
    (its current version and name) of the 409 a `version` in the body gets."""
    current = details.get("version")
    message = (
        f'The athlete is at version {current} (ETag "athlete-{current}"), which If-Match does '
        "not name (a weak tag W/... never matches); reload it and try again"
    )
    return ApiError(412, "precondition_failed", message, details=details, reason="stale_version")


async def _current(request: web.Request, athlete_id: int) -> AthleteRecord:
    for athlete in await run_blocking(request, library(request).athletes):
        if athlete.id == athlete_id:
            return athlete
    raise NotFound(f"Athlete {athlete_id} not found")


def _stale(record: AthleteRecord) -> ApiError:
    return _precondition_failed(
        {"version": record.version, "athlete_id": record.id, "name": record.name}
    )


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
    return _answer(record, 201)


@routes.patch("/athletes/{athlete_id}")
@requires("upload")
async def rename_athlete(request: web.Request) -> web.Response:
    """Without a body `version` or If-Match the last rename wins (scripts written before
    athletes had versions); with either, one made meanwhile elsewhere is refused, as a file's
    edit is (server/routes/files.py update_file): 409 for the body's, 412 for If-Match's."""
    athlete_id = path_id(request, "athlete_id")
    fields = await read_fields(request, "AthleteRename")
    name = required(fields, "name")
    in_body = as_int("version", fields.get("version"), minimum=1)
    from_header = None
    asked = _if_match_versions(request)
    if asked is not None:
        if len(asked) != 1:  # several tags, or none that can match: the one it is at now
            current = await _current(request, athlete_id)
            if current.version not in asked:
                raise _stale(current)
            asked = frozenset({current.version})
        (from_header,) = asked  # checked on the row the rename writes
    expected = from_header
    if in_body is not None:
        expected = in_body
        if from_header is not None and from_header != in_body:
            # the header's precondition is evaluated first (RFC 9110 13.2.2): a stale
            # If-Match is its 412 whatever the body says; once it holds, the body's 409
            current = await _current(request, athlete_id)
            if current.version != from_header:
                raise _stale(current)
            from_header = None
    try:
        record = await run_blocking(
            request, library(request).rename_athlete, athlete_id, name, expected
        )
    except Conflict as exc:
        if from_header is not None and exc.reason == "stale_version":
            raise _precondition_failed(exc.details) from None
        raise
    return _answer(record)
