"""JSON Schemas of the API's bodies, the `components` of the OpenAPI document."""

from __future__ import annotations

from typing import Any

from core.records import MAX_ID

S = dict[str, Any]


def ref(name: str) -> S:
    return {"$ref": f"#/components/schemas/{name}"}


def nullable(kind: str | list[str], **extra: Any) -> S:
    kinds = kind if isinstance(kind, list) else [kind]
    return {"type": [*kinds, "null"], **extra}


def obj(required: list[str] | None = None, **props: S) -> S:
    out: S = {"type": "object", "properties": props}
    if required:
        out["required"] = required
    return out


STR, INT, BOOL, NUM = (
    {"type": "string"},
    {"type": "integer"},
    {"type": "boolean"},
    {"type": "number"},
)
DATE = {"type": "string", "format": "date-time"}
KIND = {"type": "string", "enum": ["image", "video"]}
# Catalog ids (32-bit INTEGER columns); larger or smaller values are a 400.
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
NAME = {"type": "string", "minLength": 1, "maxLength": 200}

FILE = obj(
    ["id", "file_id", "original_filename", "file_type", "status", "is_public"],
    id=INT,
    file_id=INT,
    storage_key=STR,
    file_key=STR,
    original_filename=STR,
    content_type=nullable("string"),
    file_type=KIND,
    size=nullable("integer"),
    sha256=nullable("string"),
    width=nullable("integer"),
    height=nullable("integer"),
    duration=nullable("number"),
    video_codec=nullable("string"),
    audio_codec=nullable("string"),
    frame_rate=nullable("number"),
    bit_rate=nullable("integer"),
    rotation=nullable("integer"),
    extra={"type": "object"},
    athlete_id=nullable("integer"),
    athlete_name=nullable("string"),
    is_public=BOOL,
    description=STR,
    status={"type": "string", "enum": ["pending", "ready", "failed"]},
    failure_reason=nullable("string"),
    has_thumbnail=BOOL,
    created_at=DATE,
    updated_at=DATE,
    deleted_at=nullable("string", format="date-time"),
    is_trashed=BOOL,
    version=INT,
    duplicate={**BOOL, "description": "True when an identical file already existed"},
    urls={"type": "object", "additionalProperties": nullable("string")},
)

SCHEMAS: dict[str, S] = {
    "Error": obj(
        ["error"],
        error=obj(
            ["code", "message"], code=STR, message=STR, details={"type": "object"}, request_id=STR
        ),
    ),
    "File": FILE,
    "FilePage": obj(
        ["items", "total", "limit", "offset"],
        items={"type": "array", "items": ref("File")},
        total=INT,
        limit=INT,
        offset=INT,
    ),
    "PresignedUploadForm": obj(
        ["original_filename", "file_type"],
        original_filename={**STR, "minLength": 1},
        file_type=KIND,
        is_public={**BOOL, "default": False},
        athlete_id=ID,
        content_type={**STR, "description": "MIME type the PUT will send (else from the name)"},
        size={
            **INT,
            "minimum": 1,
            "description": "Exact size in bytes; the signed URL then requires it",
        },
    ),
    "PresignedUpload": obj(
        ["file_id", "upload_url", "method", "headers", "file_key", "expires_in", "expires_at"],
        file_id=INT,
        upload_url={**STR, "format": "uri"},
        method={**STR, "enum": ["PUT"]},
        headers={
            "type": "object",
            "additionalProperties": STR,
            "description": "Headers the PUT must send (Content-Type)",
        },
        file_key=STR,
        expires_in=INT,
        expires_at=DATE,
        file=ref("File"),
    ),
    "DirectUploadForm": obj(
        ["file", "file_type"],
        file={"type": "string", "contentMediaType": "application/octet-stream"},
        file_type=KIND,
        is_public={**BOOL, "default": False},
        athlete_id=ID,
        original_filename=STR,
        description={**STR, "maxLength": 10000},
    ),
    "FileUpdate": {
        **obj(
            None,
            original_filename={**STR, "minLength": 1, "description": "Cleaned: no folders"},
            athlete_id=nullable("integer", minimum=1, maximum=MAX_ID),
            is_public=BOOL,
            description=nullable("string", maxLength=10000),
            version={**INT, "minimum": 1, "description": "Expected version (or If-Match)"},
        ),
        "additionalProperties": False,
        "anyOf": [
            {"required": [name]}
            for name in ("original_filename", "athlete_id", "is_public", "description")
        ],
        "description": "At least one editable field; other fields are refused (400).",
    },
    "Deleted": obj(
        ["file_id", "deleted", "hard_delete"],
        file_id=INT,
        deleted=BOOL,
        hard_delete=BOOL,
        file=ref("File"),
    ),
    "SignedUrl": obj(
        ["url", "expires_in"],
        file_id=INT,
        url=STR,
        download_url=STR,
        method=STR,
        expires_in=INT,
        expires_at=nullable("string"),
    ),
    "StreamInfo": obj(
        ["file_id", "file_type", "size", "stream_url"],
        file_id=INT,
        file_type=KIND,
        content_type=nullable("string"),
        size=nullable("integer"),
        original_filename=STR,
        is_public=BOOL,
        width=nullable("integer"),
        height=nullable("integer"),
        duration=nullable("number"),
        video_codec=nullable("string"),
        audio_codec=nullable("string"),
        frame_rate=nullable("number"),
        bit_rate=nullable("integer"),
        rotation=nullable("integer"),
        supports_range=BOOL,
        stream_url=STR,
        raw_url=STR,
        thumbnail_url=nullable("string"),
    ),
    "Athlete": obj(["id", "name"], id=INT, name=STR, file_count=INT),
    "AthleteList": obj(
        ["items", "total"], items={"type": "array", "items": ref("Athlete")}, total=INT
    ),
    "AthleteForm": obj(["name"], name=NAME, id={**ID, "description": "Explicit id (optional)"}),
    "AthleteRename": obj(["name"], name=NAME),
    "AuditEntry": obj(
        ["id", "at", "actor", "action"],
        id=INT,
        at=DATE,
        actor=STR,
        action=STR,
        file_id=nullable("integer"),
        remote=nullable("string"),
        detail=nullable("string"),
    ),
    "AuditPage": obj(
        ["items", "total", "limit", "offset"],
        items={"type": "array", "items": ref("AuditEntry")},
        total=INT,
        limit=INT,
        offset=INT,
    ),
    "Health": obj(
        ["status"],
        status={**STR, "enum": ["ok", "degraded"]},
        version=STR,
        database=obj(None, ok=BOOL, error=STR),
        storage=obj(None, ok=BOOL, backend=STR, error=STR),
        sse_clients=INT,
    ),
    "SignedPutResult": obj(["key", "size", "etag"], key=STR, size=INT, etag=STR),
    "ChangeEvent": obj(
        ["kind", "at"],
        kind={**STR, "enum": ["created", "updated", "trashed", "restored", "deleted", "athlete"]},
        file_id=nullable("integer"),
        at=DATE,
        file={"type": "object"},
    ),
}
