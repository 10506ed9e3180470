"""The paths of the OpenAPI document: every route with its parameters and bodies."""

from __future__ import annotations

from typing import Any

from core.records import SORTS
from core.settings import MAX_EXPIRY, MIN_EXPIRY
from server.openapi_schemas import ID, SCHEMAS, ref

S = dict[str, Any]
ERROR = {"application/json": {"schema": ref("Error")}}
OPEN: list[S] = []
OPTIONAL_TOKEN: list[S] = [{}, {"bearerAuth": []}]
TOKEN: list[S] = [{"bearerAuth": []}]


def json(name: str) -> S:
    return {"application/json": {"schema": ref(name)}}


def err(*statuses: int) -> dict[str, S]:
    text = {
        400: "Invalid input or validation failed",
        401: "No or bad token",
        403: "The token's scope is not enough, or a bad signature",
        404: "Not found",
        409: "Conflict with the current state",
        413: "Larger than MAX_FILE_SIZE (files) or 1 MiB (forms and JSON)",
        416: "Range not satisfiable",
        429: "Too many uploads (see Retry-After)",
        500: "Storage or server error",
    }
    return {str(s): {"description": text[s], "content": ERROR} for s in statuses}


def param(
    name: str, where: str = "query", schema: S | None = None, desc: str = "", required: bool = False
) -> S:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "schema": schema or {"type": "string"},
        "description": desc,
    }


FID = param("file_id", "path", ID)
INT64_MAX = 2**63 - 1
EXPIRES_IN = {"type": "integer", "minimum": MIN_EXPIRY, "maximum": MAX_EXPIRY}
ACCESS_TOKEN = param(
    "access_token", desc="API token for clients that cannot send an Authorization header"
)
BYTES = {"schema": {"type": "string", "format": "binary"}}
RANGE_HEADERS = [
    param("Range", "header", desc="bytes=start-end, suffix or several ranges"),
    param("If-Range", "header"),
    param("If-None-Match", "header"),
]


def op(
    summary: str,
    tag: str,
    responses: dict[str, S],
    *,
    security: list[S] | None = None,
    params: list[S] | None = None,
    body: S | None = None,
    desc: str = "",
) -> S:
    out: S = {
        "summary": summary,
        "tags": [tag],
        "responses": responses,
        "security": TOKEN if security is None else security,
    }
    if desc:
        out["description"] = desc
    if params:
        out["parameters"] = params
    if body:
        out["requestBody"] = body
    return out


def ok(
    desc: str, content: S | None = None, status: int = 200, headers: S | None = None
) -> dict[str, S]:
    out: S = {"description": desc}
    if content:
        out["content"] = content
    if headers:
        out["headers"] = headers
    return {str(status): out}


def form(name: str, multipart_only: bool = False) -> S:
    content = {"multipart/form-data": {"schema": ref(name)}}
    if not multipart_only:
        content["application/x-www-form-urlencoded"] = {"schema": ref(name)}
        content["application/json"] = {"schema": ref(name)}
    return {"required": True, "content": content}


def stream_op(kind: str) -> S:
    media = {"video": "video/*", "image": "image/*", "raw": "*/*"}[kind]
    params = [FID, *RANGE_HEADERS, ACCESS_TOKEN]
    if kind == "image":
        params.append(
            param(
                "w",
                schema={"type": "integer", "minimum": 1, "maximum": 4096},
                desc="Width of a cached resized WebP variant",
            )
        )
    responses = {
        **ok("The whole file", {media: BYTES}),
        **ok(
            "One range (Content-Range) or multipart/byteranges",
            {media: BYTES, "multipart/byteranges": BYTES},
            206,
        ),
        **ok("Not modified", status=304),
        **err(400, 401, 403, 404, 416, 500),
    }
    return op(
        f"Stream the {kind} file with HTTP ranges",
        "streaming",
        responses,
        security=OPTIONAL_TOKEN,
        params=params,
        desc="400 wrong_kind when the file is not of this kind. Public files need no "
        "token; private files need a read token, as a Bearer header or, for players that "
        "cannot send headers (<video>, media players), as ?access_token=.",
    )


LIST_PARAMS = [
    param("athlete_id", schema=ID),
    param("file_type", schema=SCHEMAS["File"]["properties"]["file_type"]),
    param("limit", schema={"type": "integer", "default": 50, "minimum": 1, "maximum": 1000}),
    param("offset", schema={"type": "integer", "default": 0, "minimum": 0, "maximum": INT64_MAX}),
    param("is_public", schema={"type": "boolean"}),
    param("q", desc="Text in name/description"),
    param("sort", schema={"type": "string", "enum": sorted(SORTS), "default": "-created_at"}),
    param("trashed", schema={"type": "boolean"}, desc="List the trash (alias: trash)"),
    param(
        "status",
        schema={
            "type": "string",
            "enum": ["ready", "pending", "failed", "any"],
            "default": "ready",
        },
    ),
]
FILES_LIST = op(
    "List files",
    "files",
    {**ok("A page of files", json("FilePage")), **err(400, 401)},
    security=OPTIONAL_TOKEN,
    params=LIST_PARAMS,
    desc="Without a token only public, ready files are listed.",
)

PATHS: dict[str, dict[str, S]] = {
    "/files/upload/presigned": {
        "post": op(
            "Create a presigned upload URL",
            "uploads",
            {
                **ok("Upload URL and file id", json("PresignedUpload"), 201),
                **err(400, 401, 403, 413, 429, 500),
            },
            security=TOKEN,
            body=form("PresignedUploadForm"),
            desc="Then PUT the file to upload_url with the returned headers and POST "
            "/files/{file_id}/confirm-upload. Scope: upload.",
        )
    },
    "/files/{file_id}/confirm-upload": {
        "post": op(
            "Confirm a presigned upload",
            "uploads",
            {
                **ok(
                    "The ready file (idempotent; a duplicate returns the existing file)",
                    json("File"),
                ),
                **err(400, 401, 403, 404, 409, 413, 500),
            },
            params=[FID],
        )
    },
    "/files/upload/direct": {
        "post": op(
            "Upload a file through the server",
            "uploads",
            {
                **ok("Created", json("File"), 201),
                **ok("Duplicate of an existing file", json("File")),
                **err(400, 401, 403, 413, 429, 500),
            },
            body=form("DirectUploadForm", True),
        )
    },
    "/files": {"get": FILES_LIST},
    "/files/": {"get": FILES_LIST},
    "/files/{file_id}": {
        "get": op(
            "Get a file",
            "files",
            {**ok("The file", json("File")), **err(400, 401, 403, 404)},
            security=OPTIONAL_TOKEN,
            params=[FID],
        ),
        "patch": op(
            "Edit a file's metadata",
            "files",
            {**ok("The edited file", json("File")), **err(400, 401, 403, 404, 409, 413, 500)},
            params=[
                FID,
                param(
                    "If-Match",
                    "header",
                    {"type": "string", "pattern": r'^\s*(\*|(W/)?"?([1-9][0-9]*)?"?)\s*$'},
                    desc='Expected version: 3 or "3"; * means any version (no check)',
                ),
            ],
            body={"required": True, "content": json("FileUpdate")},
        ),
        "delete": op(
            "Trash a file, or delete it for good",
            "files",
            {**ok("Done", json("Deleted")), **err(400, 401, 403, 404, 409, 500)},
            params=[
                FID,
                param(
                    "hard_delete",
                    schema={"type": "boolean", "default": False},
                    desc="true deletes permanently (admin scope)",
                ),
            ],
        ),
    },
    "/files/{file_id}/restore": {
        "post": op(
            "Restore a file from the trash",
            "files",
            {**ok("The restored file", json("File")), **err(400, 401, 403, 404, 409)},
            params=[FID],
        )
    },
    "/files/{file_id}/download": {
        "get": op(
            "Download (redirect to a public or signed URL)",
            "files",
            {
                **ok(
                    "Redirect; Content-Disposition: attachment with the original name",
                    status=302,
                    headers={"Location": {"schema": {"type": "string"}}},
                ),
                **err(400, 401, 403, 404, 500),
            },
            security=OPTIONAL_TOKEN,
            params=[FID, param("expires_in", schema=EXPIRES_IN)],
        )
    },
    "/files/{file_id}/presigned-url": {
        "get": op(
            "A signed download URL",
            "files",
            {**ok("The URL", json("SignedUrl")), **err(400, 401, 403, 404, 500)},
            security=OPTIONAL_TOKEN,
            params=[
                FID,
                param("expires_in", schema={**EXPIRES_IN, "default": 3600}),
            ],
        )
    },
    "/files/{file_id}/thumbnail": {
        "get": op(
            "The WebP thumbnail",
            "files",
            {
                **ok("WebP image", {"image/webp": BYTES}),
                **ok("Not modified", status=304),
                **err(400, 401, 403, 404),
            },
            security=OPTIONAL_TOKEN,
            params=[FID],
        )
    },
    "/stream/{file_id}/video": {"get": stream_op("video")},
    "/stream/{file_id}/image": {"get": stream_op("image")},
    "/stream/{file_id}/raw": {"get": stream_op("raw")},
    "/stream/{file_id}/info": {
        "get": op(
            "Streaming information",
            "streaming",
            {**ok("What a player needs", json("StreamInfo")), **err(400, 401, 403, 404)},
            security=OPTIONAL_TOKEN,
            params=[FID, ACCESS_TOKEN],
        )
    },
    "/signed/{key}": {
        "put": op(
            "Upload to a signed URL (local storage)",
            "signed",
            {**ok("Stored", json("SignedPutResult")), **err(400, 403, 404, 409, 413, 500)},
            security=OPEN,
            params=[param("key", "path")],
            body={"required": True, "content": {"*/*": BYTES}},
            desc="Signature, expiry, method, Content-Type and size are checked; the "
            "object is written atomically. 404 when the server does not use local storage "
            "(its upload URLs then point at the bucket).",
        ),
        "get": op(
            "Download from a signed URL (local storage)",
            "signed",
            {
                **ok("The object", {"*/*": BYTES}),
                **ok("One range", {"*/*": BYTES}, 206),
                **ok("Not modified", status=304),
                **err(403, 404, 416, 500),
            },
            security=OPEN,
            params=[param("key", "path"), *RANGE_HEADERS],
        ),
    },
    "/athletes": {
        "get": op(
            "List athletes", "athletes", {**ok("Athletes", json("AthleteList")), **err(401, 403)}
        ),
        "post": op(
            "Create an athlete",
            "athletes",
            {**ok("Created", json("Athlete"), 201), **err(400, 401, 403, 409, 413)},
            body=form("AthleteForm"),
        ),
    },
    "/athletes/{athlete_id}": {
        "patch": op(
            "Rename an athlete",
            "athletes",
            {**ok("Renamed", json("Athlete")), **err(400, 401, 403, 404, 409, 413)},
            params=[param("athlete_id", "path", ID)],
            body=form("AthleteRename"),
        )
    },
    "/events": {
        "get": op(
            "Live change events (server-sent events)",
            "events",
            {
                **ok(
                    "text/event-stream of ChangeEvent JSON in `data:`; heartbeats as comments",
                    {
                        "text/event-stream": {
                            "schema": {"type": "string"},
                            "x-event-schema": ref("ChangeEvent"),
                        }
                    },
                ),
                **err(400, 401, 403),
            },
            params=[
                param("access_token", desc="Token for EventSource, which cannot send headers"),
                param(
                    "Last-Event-ID",
                    "header",
                    {"type": "integer", "minimum": 0, "maximum": INT64_MAX},
                ),
            ],
        )
    },
    "/audit": {
        "get": op(
            "Accesses to private files (admin)",
            "admin",
            {**ok("Newest first", json("AuditPage")), **err(400, 401, 403)},
            params=[
                param("file_id", schema=ID),
                param("actor"),
                param("action"),
                param("since", schema={"type": "string", "format": "date-time"}),
                param(
                    "limit",
                    schema={"type": "integer", "default": 100, "minimum": 1, "maximum": 1000},
                ),
                param(
                    "offset",
                    schema={"type": "integer", "default": 0, "minimum": 0, "maximum": INT64_MAX},
                ),
            ],
        )
    },
    "/health": {
        "get": op(
            "Health of the database and storage",
            "service",
            {
                **ok("Healthy", json("Health")),
                **ok("Degraded", json("Health"), 503),
                **err(401),
            },
            security=OPEN,
        )
    },
    "/metrics": {
        "get": op(
            "Prometheus metrics",
            "service",
            {
                **ok("Prometheus text format", {"text/plain": {"schema": {"type": "string"}}}),
                **err(401, 403),
            },
        )
    },
    "/openapi.json": {
        "get": op(
            "This document",
            "service",
            {
                **ok("OpenAPI 3.1", {"application/json": {"schema": {"type": "object"}}}),
                **err(401),
            },
            security=OPEN,
        )
    },
    "/docs": {
        "get": op(
            "API documentation page (offline)",
            "service",
            {**ok("HTML", {"text/html": {"schema": {"type": "string"}}}), **err(401)},
            security=OPEN,
        )
    },
}
