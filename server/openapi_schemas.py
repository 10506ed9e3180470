"""JSON Schemas of the API's bodies, the `components` of the OpenAPI document."""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import datetime
from typing import Any

from core.ascii import FALSE_WORDS, TRUE_WORDS
from core.errors import CATALOG_OUT_REASONS, NO_SPACE_REASON, UNAVAILABLE_REASONS
from core.events import FILE_KINDS as FILE_EVENT_KINDS
from core.events import STREAMED_KINDS, EventKind
from core.mediatypes import FILE_KINDS
from core.records import (
    MAX_ATHLETE_NAME,
    MAX_DESCRIPTION,
    MAX_ID,
    MAX_PRESIGN_KEY,
    FileRecord,
    FileStatus,
)
from core.resumable import MAX_PARTS
from core.storage_migration import BACKENDS
from server.error_codes import ERROR_CODES

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
# Every expires_at the API answers (core.records.expiry_iso).
EXPIRES_AT = {**DATE, "description": "UTC, whole seconds: 2026-05-01T12:00:00+00:00"}
# An upload in parts the bucket assembled already (core.resumable._held_parts).
ASSEMBLED = (
    "Present (true) when the bucket already assembled the parts into the file (a completion "
    "that went through unanswered): confirm the upload to store it"
)
KIND = {"type": "string", "enum": list(FILE_KINDS)}
# Whole numbers outside a signed 64-bit integer reach no column or SQL parameter: the server
# refuses them (server.params.as_int, 400), so every integer it reads says so here.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# Catalog ids (32-bit INTEGER columns); larger or smaller values are a 400.
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
NAME = {"type": "string", "minLength": 1, "maxLength": MAX_ATHLETE_NAME}
# A yes/no value sent as text (a form's field, a query parameter): the words
# server.params.as_bool reads (core.ascii.yes_no), or a boolean, which generated clients send as
# its text. Declared boolean alone, it made clients refuse the 1, yes and on the README gives.
_YES_NO = [
    {"type": "boolean"},
    {"type": "string", "enum": [*TRUE_WORDS, *(word for word in FALSE_WORDS if word)]},
]
_YES_NO_WORDS = (
    f"{', '.join(TRUE_WORDS)} say yes; {', '.join(w for w in FALSE_WORDS if w)} say no; in any "
    "case, spaces around ignored. A client's boolean is sent as true or false"
)
FORM_BOOL = {
    "oneOf": _YES_NO,
    "default": False,
    "description": f"A form field is text: {_YES_NO_WORDS}; an empty field says no.",
}
# A yes/no field of a body documented as JSON that the route also reads as a form
# (openapi_paths.form): JSON takes a boolean only (server.params.read_json refuses "yes" there,
# once taken by one route and refused by another), so its type stays boolean, the words in prose.
JSON_BOOL_FORM_WORDS = (
    "In JSON a boolean. Sent as a form (multipart/form-data or urlencoded) the field is text: "
    f"{_YES_NO_WORDS}; an empty field says no."
)
# No `default`: where one applies, the parameter says it (is_public's absence filters nothing)
QUERY_BOOL = {
    "oneOf": _YES_NO,
    "description": f"A query value is text: {_YES_NO_WORDS}; empty is the parameter left out.",
}

# How /stream/{id}/info's links open a private file (server/routes/stream.py: grant_query)
GRANTED = (
    "A private file's carries a file grant (exp, sig) for players that cannot send a token "
    "(<video>, hls.js, ffmpeg): the one /info was asked with, else a fresh one valid "
    "PRESIGNED_URL_EXPIRY seconds; a public file's carries none"
)

# The links to this server's own routes (File.urls, /stream/{id}/info) are origin-relative
# (/stream/12/raw?v=…): they name the server that answered whatever its address (loopback, the
# network, a proxy's); the links a client hands to others or opens elsewhere (presigned and
# watch URLs, upload URLs, a tus Location's server) are absolute.
RELATIVE = (
    "Origin-relative (it starts with /): resolve it against the URL of the server that "
    "answered, e.g. new URL(url, base)"
)
RELATIVE_URL = {**STR, "format": "uri-reference"}
ABSOLUTE_URL = {**STR, "format": "uri"}

# What the API adds to FileRecord's fields (record.as_dict() and server.presenters.file_json).
FILE_VIEW_FIELDS: dict[str, S] = {
    "file_id": {**INT, "description": "The same as id (the seed's name)"},
    "file_key": {**STR, "description": "The same as storage_key (the seed's name)"},
    "is_trashed": BOOL,
    "urls": {
        "type": "object",
        "additionalProperties": {**nullable("string"), "format": "uri-reference"},
        "properties": {
            "self": {**RELATIVE_URL, "description": f"GET /files/{{id}}. {RELATIVE}"},
            "stream": {**RELATIVE_URL, "description": f"/stream/{{id}}/<kind>. {RELATIVE}"},
            "raw": {**RELATIVE_URL, "description": f"The original's bytes. {RELATIVE}"},
            "download": {**RELATIVE_URL, "description": f"The download redirect. {RELATIVE}"},
            "thumbnail": {
                **nullable("string"),
                "format": "uri-reference",
                "description": f"Null without a thumbnail. {RELATIVE}",
            },
            "public": {
                **nullable("string"),
                "format": "uri",
                "description": "When ready: the file on R2_PUBLIC_DOMAIN (the CDN), for a "
                "public file on R2 while that domain is set and the file is not in the trash; "
                "else null. Absolute",
            },
        },
        "required": ["self"],
        "description": "Links: self, and when ready thumbnail, public and, unless in the "
        "trash (whose files serve no bytes until restored), stream, raw, download. All but "
        f"public are relative to the server's origin: {RELATIVE}",
    },
}
# Narrower schemas than the Python type says, for fields whose values are a closed set.
FILE_FIELD_SCHEMAS: dict[str, S] = {
    "file_type": KIND,
    "status": {"type": "string", "enum": [s.value for s in FileStatus]},
    "extra": {
        "type": "object",
        # core.metadata.image_metadata and video_metadata write more keys (container, codecs'
        # profiles...) whose types depend on the reader: open, with the keys clients read typed
        "properties": {
            "taken_at": {**STR, "description": "The capture date (see above)"},
            "camera_make": {**STR, "description": "A photo's EXIF Make"},
            "camera_model": {**STR, "description": "A photo's EXIF Model"},
            "animated": {**BOOL, "description": "An animated GIF, WebP or PNG"},
            "frames": {**INT, "description": "An animated image's frames"},
            "exif_orientation": {**INT, "description": "A photo's EXIF Orientation (1-8)"},
            "mirrored": {**BOOL, "description": "The EXIF orientation mirrors the picture"},
        },
        "additionalProperties": True,
        "description": "Other technical metadata. `taken_at`, when known, is the capture date "
        "in ISO 8601: a photo's EXIF date with its offset when the photo has one "
        "(2026-03-29T01:30:00-03:00), else the camera's local time without one "
        "(2026-03-29T01:30:00); a video's creation time in UTC (2026-03-29T04:30:00Z). A "
        "photo's date is EXIF DateTimeOriginal, else DateTimeDigitized, else DateTime, each "
        "with its own offset and fraction of a second (2026-03-29T01:30:00.120-03:00: a burst "
        "shares one second)",
    },
    "captured_at": {
        **DATE,
        "description": 'When the file was shot, the key of sort=captured_at ("Date taken"): '
        "extra.taken_at in UTC: converted with its offset when it has one, read in the "
        "server's time zone when not (a camera's wall time; its own zone is unknown), and "
        "created_at for a file with no capture date",
    },
    "duplicate": {**BOOL, "description": "True when an identical file already existed"},
    # Stored pixels, as MediaInfo and ffprobe report them: a phone's portrait clip is often
    # stored landscape with a rotation tag, and players turn it upright.
    "width": {
        "type": ["integer", "null"],
        "description": "Stored width in pixels, before `rotation`; with rotation 90 or 270 the "
        "picture is shown `height` wide",
    },
    "height": {
        "type": ["integer", "null"],
        "description": "Stored height in pixels, before `rotation`",
    },
    "rotation": {
        "type": ["integer", "null"],
        "description": "Clockwise degrees to turn the stored picture to show it upright (EXIF "
        "orientation, a video's rotation tag); renditions and thumbnails are already upright",
    },
    "thumbnail_generation": {
        "type": ["integer", "null"],
        "description": "The rendering the thumbnail and `?w=` variants were made with; older "
        "ones are made again (a photo's in the background, a video's poster by its thumbnails "
        "job after a reprocess; then the content tag `v` changes). Null: "
        "made before renderings were counted",
    },
    "thumbnail_remade": {
        "type": ["integer", "null"],
        "description": "How many times the thumbnail and `?w=` variants were made again by "
        "the rendering `thumbnail_generation` names (a reprocess, a lost or damaged "
        "thumbnail); each time the content tag `v` changes. Null: not since they were made "
        "by it",
    },
    "duplicate_of": {
        "type": ["integer", "null"],
        "description": "The existing file this id is another name of (same bytes, athlete and "
        "flags); GET, stream, download, PATCH and DELETE through this id act on it",
    },
}


def _schema_of(hint: Any) -> S:
    """JSON Schema of a record field's type: int, str, float, bool, datetime, dict, X | None."""
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) in (types.UnionType, typing.Union) and len(args) == 1:
        inner = _schema_of(args[0])
        return {**inner, "type": [inner["type"], "null"]}
    if hint is datetime:
        return DATE
    if typing.get_origin(hint) is dict or hint is dict:
        return {"type": "object"}
    kinds = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if hint not in kinds:
        raise TypeError(f"No JSON Schema for {hint!r}; add it to FILE_FIELD_SCHEMAS")
    return {"type": kinds[hint]}


def record_schema(cls: type, narrower: dict[str, S], added: dict[str, S]) -> S:
    """The schema of a frozen record as the API serialises it: every field, always present."""
    hints = typing.get_type_hints(cls)
    props: S = {}
    for f in dataclasses.fields(cls):
        props[f.name] = narrower.get(f.name) or _schema_of(hints[f.name])
    props.update(added)
    return {
        "type": "object",
        "properties": props,
        "required": list(props),
        "additionalProperties": False,
    }


FILE = record_schema(FileRecord, FILE_FIELD_SCHEMAS, FILE_VIEW_FIELDS)
# The record's fields that GET /stream/{id}/info repeats (server/routes/stream.py), in order.
STREAM_INFO_FIELDS = (
    "file_type",
    "content_type",
    "size",
    "original_filename",
    "is_public",
    "width",
    "height",
    "duration",
    "video_codec",
    "audio_codec",
    "frame_rate",
    "bit_rate",
    "rotation",
)

CHANGE_ID = {**INT, "description": "Catalog-wide change id (the SSE `id:`)"}
# The schema of each kind the event stream sends (core.events.STREAMED_KINDS)
EVENT_SCHEMAS: dict[str, str] = {
    **{kind.value: "ChangeEvent" for kind in FILE_EVENT_KINDS},
    EventKind.ATHLETE.value: "AthleteEvent",
    EventKind.PROCESSING.value: "ProcessingEvent",
    EventKind.RESET.value: "ResetEvent",
    EventKind.UNAUTHORIZED.value: "UnauthorizedEvent",
}
if set(EVENT_SCHEMAS) != {k.value for k in STREAMED_KINDS}:
    raise ValueError("Every kind the event stream sends needs its schema in EVENT_SCHEMAS")
# The fields of a FileRecord (ChangeEvent.previous names some of them)
RECORD_FIELDS = tuple(f.name for f in dataclasses.fields(FileRecord))


def _ints(desc: str) -> S:
    return {"type": "array", "items": INT, "description": desc}


# Error.details: the values of the details the server writes (core's errors, server.params,
# tus), typed where one name always means one thing; a code or reason may add others.
ERROR_DETAILS: S = {
    "type": "object",
    "properties": {
        "version": {
            **INT,
            "description": "stale_version: the file's current version (GET /files/{id}'s "
            'ETag), or the athlete\'s (its ETag "athlete-<version>")',
        },
        "missing_parts": _ints("upload_not_received: the parts not uploaded (first 100)"),
        "wrong_parts": _ints("Parts not of the planned size (first 100)"),
        "repeated_parts": _ints("Part numbers given more than once (first 100)"),
        "offset": {**INT, "description": "tus: the bytes received"},
        "length": {**INT, "description": "tus: the upload's length"},
        "file_id": {**nullable("integer"), "description": "The file concerned"},
        "retry_after": {**INT, "description": "Seconds to wait, as in Retry-After"},
        "size": {**INT, "description": "Bytes of the file or object"},
        "max_size": {**INT, "description": "The most bytes taken"},
        "width": INT,
        "height": INT,
        "max_pixels": {
            **INT,
            "description": "image_too_large, video_too_large: the most pixels taken",
        },
        "max_side": {**INT, "description": "video_too_large: the longest side taken"},
        "frames": {**INT, "description": "animation_too_long: the animation's frames"},
        "max_frame_pixels": {
            **INT,
            "description": "animation_too_long: the most frames x width x height taken",
        },
        "athlete_id": {
            **nullable("integer"),
            "description": "The athlete concerned (athlete_exists, ...; duplicate: the one the "
            "edit asked for, null for none)",
        },
        "duplicate_of": {
            **INT,
            "description": "duplicate (409): the ready file of the same bytes, athlete and "
            "is_public that the edit would duplicate; nothing changed",
        },
        "name": {
            **STR,
            "description": "The athlete's name (athlete_exists; stale_version: the name it "
            "was given meanwhile, ...)",
        },
        "allowed": {
            "type": "array",
            "items": STR,
            "description": "unsupported_type: the MIME types accepted",
        },
        "found": {**STR, "description": "What the refused bytes are, in English"},
        "found_extension": {**STR, "description": "Their extension (no dot, lower case)"},
        "found_mime": {**STR, "description": "Their MIME type"},
        "content_type": {**STR, "description": "The content type refused"},
        "extension": {**STR, "description": "The extension refused"},
        "file_type": {**STR, "description": "The file's kind (wrong_kind)"},
        "kind": {
            **STR,
            "description": "not_ready: the kind of the processing job that makes what was "
            "asked for (a Job's kind: hls, thumbnails, ...)",
        },
        "state": {
            **nullable("string"),
            "description": "not_ready: that job's state (queued, running, failed, skipped, "
            "cancelled), null when none was queued",
        },
        "job_id": {**nullable("integer"), "description": "not_ready: that job, null when none"},
    },
    "additionalProperties": True,
    "description": "Values a client can act on, when the error has any; which ones depends "
    "on the code and reason",
}

SCHEMAS: dict[str, S] = {
    "Error": obj(
        ["error"],
        error=obj(
            ["code", "message"],
            code={
                **STR,
                "enum": list(ERROR_CODES),
                "description": "Stable machine-readable code, with its status and when:\n"
                + "\n".join(f"- `{code}` ({when})" for code, when in ERROR_CODES.items()),
            },
            message={
                **STR,
                "description": "What went wrong, in user terms (no storage keys, "
                "local paths or endpoints)",
            },
            details=ERROR_DETAILS,
            reason={
                **STR,
                "description": "Finer machine-readable cause under the code when there is one "
                "(e.g. stale_version, already_trashed, being_deleted, not_ready); clients "
                "choose their sentence by it. Under not_found: object_missing (the catalog "
                "lists the file, the storage has no stored copy of it; local and R2 alike). "
                "Under storage_unavailable: " + ", ".join(UNAVAILABLE_REASONS),
            },
            request_id={
                **STR,
                "description": "Also in X-Request-ID; the log has the details under this id",
            },
        ),
    ),
    "File": FILE,
    "FilePage": obj(
        ["items", "total", "limit", "offset", "next_cursor"],
        items={"type": "array", "items": ref("File")},
        total={
            **INT,
            "description": "Exact number of files matching the filters: without q from "
            "counts the catalog keeps per filter combination; with q counted once per search "
            "and filters, then cached (30 s, refreshed at once by this server's writes)",
        },
        limit=INT,
        offset=INT,
        next_cursor={
            **nullable("string"),
            "description": "Pass as ?cursor= (same filters and sort) for the next page; "
            "null after the last page. A full page carries one even when no files follow "
            "(the server does not look past the page): its page is then empty, the end",
        },
    ),
    "PresignedUploadForm": obj(
        ["original_filename", "file_type"],
        original_filename={**STR, "minLength": 1},
        file_type=KIND,
        is_public={**BOOL, "default": False, "description": JSON_BOOL_FORM_WORDS},
        athlete_id=ID,
        content_type={
            **STR,
            "description": "MIME type the PUT will send (else from the name). The seed's "
            "video/avi, video/mov, video/wmv are accepted and stored as video/x-msvideo, "
            "video/quicktime, video/x-ms-wmv",
        },
        size={
            **INT,
            "minimum": 1,
            "maximum": INT64_MAX,
            "description": "Exact size in bytes; the signed URL then requires it",
        },
        multipart={
            **BOOL,
            "default": False,
            "description": "Upload in parts straight to the bucket (R2/S3 only; needs size). "
            "Sizes above MEDIADESK_MULTIPART_THRESHOLD get parts anyway. " + JSON_BOOL_FORM_WORDS,
        },
        description={**STR, "maxLength": MAX_DESCRIPTION},
        idempotency_key={
            **STR,
            "maxLength": MAX_PRESIGN_KEY,
            "description": "The client's own name for this presign (a random UUID): sent "
            "again with the same key and size by the same token while the upload it made is "
            "pending (the first answer lost on the way), the presign answers that upload with "
            "fresh URLs (the parts the bucket lacks) instead of making another. mediadesk.js "
            "sends one",
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
        expires_at=EXPIRES_AT,
        file=ref("File"),
        upload_id={**STR, "description": "Upload in parts: the bucket's multipart upload id"},
        part_size={
            **INT,
            "description": "Upload in parts: every part is this size except the last",
        },
        parts={
            "type": "array",
            "items": ref("PartUrl"),
            "description": "Upload in parts: PUT part N's bytes to its url and keep the "
            "ETag response header (the bucket's CORS rule must expose ETag to browsers)",
        },
    ),
    "DirectUploadForm": obj(
        ["file", "file_type"],
        file={
            "type": "string",
            "format": "binary",
            "contentMediaType": "application/octet-stream",
            "description": "The file's bytes, with its name in the part's filename",
        },
        file_type=KIND,
        is_public=FORM_BOOL,
        athlete_id=ID,
        original_filename=STR,
        description={**STR, "maxLength": MAX_DESCRIPTION},
    ),
    "FileUpdate": {
        **obj(
            None,
            original_filename={
                **STR,
                "minLength": 1,
                "description": "Cleaned: no folders, no control or format (bidi) characters. "
                "A name without an extension of the file's type (content_type) gets the "
                "current name's ('final' -> 'final.mp4', 'final.v2' -> 'final.v2.mp4'; "
                "'clip.MP4', or 'clip.jpeg' for a JPEG, stay as sent): the response's "
                "original_filename is the name saved",
            },
            athlete_id=nullable("integer", minimum=1, maximum=MAX_ID),
            is_public=BOOL,
            description=nullable("string", maxLength=MAX_DESCRIPTION),
            version={
                **INT,
                "minimum": 1,
                "maximum": INT64_MAX,
                "description": "Expected version (or If-Match)",
            },
        ),
        "additionalProperties": False,
        # Not anyOf-of-required: generators turn that into an untyped body
        "minProperties": 1,
        "description": "At least one of original_filename, athlete_id, is_public, "
        "description (version alone is a 400); other fields are refused (400).",
    },
    "Deleted": obj(
        ["file_id", "deleted", "hard_delete"],
        file_id=INT,
        deleted=BOOL,
        hard_delete=BOOL,
        file=ref("File"),
    ),
    "SignedUrl": obj(
        ["kind", "url", "expires_in"],
        file_id=INT,
        # Tells it apart from WatchUrl (kind "watch"): the presigned-url answer's oneOf
        # discriminates on it, so an answer matches exactly one of the two.
        kind={"type": "string", "enum": ["download"], "description": "The default ?kind="},
        url={**ABSOLUTE_URL, "description": "Absolute: the bucket's, or this server's origin"},
        download_url={**ABSOLUTE_URL, "description": "The same as url (the seed's name)"},
        method=STR,
        expires_in=INT,
        expires_at={**EXPIRES_AT, **nullable("string")},
    ),
    "StreamInfo": obj(
        ["file_id", "file_type", "size", "stream_url"],
        file_id=INT,
        **{name: FILE["properties"][name] for name in STREAM_INFO_FIELDS},
        supports_range=BOOL,
        stream_url={
            **RELATIVE_URL,
            "description": f"What a player plays (a video's names one version; while an "
            f"MPEG-TS, AVI or WMV original's web rendition is made, /stream/{{id}}/video "
            f"itself, which answers 503 not_ready until it is there). {GRANTED}. {RELATIVE}",
        },
        raw_url={**RELATIVE_URL, "description": f"The original's bytes. {GRANTED}. {RELATIVE}"},
        thumbnail_url=nullable(
            "string",
            format="uri-reference",
            description=f"Null without a thumbnail. {GRANTED}. {RELATIVE}",
        ),
        public_url={
            **nullable("string"),
            "format": "uri",
            "description": "The file on R2_PUBLIC_DOMAIN (the CDN) for a public file on R2 "
            "while that domain is set; else null. Absolute",
        },
    ),
    "Athlete": obj(
        ["id", "name", "version"],
        id=INT,
        name=STR,
        file_count=INT,
        trash_count=INT,
        version={
            **INT,
            "minimum": 1,
            "description": 'One more with each rename (the ETag "athlete-<version>"): send '
            "it back in a rename to refuse one made meanwhile elsewhere",
        },
    ),
    "AthleteList": obj(
        ["items", "total"], items={"type": "array", "items": ref("Athlete")}, total=INT
    ),
    "AthleteForm": obj(["name"], name=NAME, id={**ID, "description": "Explicit id (optional)"}),
    "AthleteRename": obj(
        ["name"],
        name=NAME,
        version={
            **INT,
            "minimum": 1,
            "maximum": INT64_MAX,
            "description": "Expected version (or If-Match): 409 conflict, reason "
            "stale_version, unless the athlete is at it. Left out: the last rename wins",
        },
    ),
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
    "Usage": obj(
        ["total", "by_file_type", "by_athlete", "by_status", "derivatives", "store"],
        total=ref("UsageCount"),
        by_file_type=obj(list(FILE_KINDS), **{kind: ref("UsageCount") for kind in FILE_KINDS}),
        by_athlete={
            "type": "array",
            "items": obj(
                ["athlete_id", "name", "files", "bytes"],
                athlete_id=nullable("integer", description="null: files without an athlete"),
                name=nullable("string"),
                files=INT,
                bytes=INT,
            ),
        },
        by_status=obj(
            ["ready", "pending", "failed", "trashed"],
            ready=ref("UsageCount"),
            pending=ref("UsageCount"),
            failed=ref("UsageCount"),
            trashed=ref("UsageCount"),
        ),
        derivatives=obj(
            ["files", "bytes"],
            files=nullable("integer", description="null until the store was listed"),
            bytes=nullable("integer"),
        ),
        store=obj(
            ["objects", "bytes", "scanned_at", "drift_bytes"],
            objects=nullable("integer"),
            bytes=nullable("integer"),
            scanned_at=nullable("string", format="date-time"),
            drift_bytes=nullable(
                "integer",
                description="Original bytes found in the store minus what the catalog's ready "
                "files (trashed ones too) weigh: orphans, uploads in progress, lost objects",
            ),
        ),
        storage={
            **STR,
            "description": "Where the store is (folder path, or R2 bucket and endpoint) for "
            'admin tokens; only its kind ("local folder", "R2 bucket") for others',
        },
        warn_bytes=nullable("integer", description="MEDIADESK_STORAGE_WARN_BYTES, null if off"),
        history={
            "type": "array",
            "description": "With ?history_days=N: one line a day, oldest first",
            "items": obj(
                ["day", "files", "bytes"],
                day=STR,
                files=INT,
                bytes=INT,
                image_bytes=INT,
                video_bytes=INT,
                store_objects=nullable("integer"),
                store_bytes=nullable("integer"),
            ),
        },
    ),
    "UsageCount": obj(["files", "bytes"], files=INT, bytes=INT),
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
        database=obj(
            None,
            ok=BOOL,
            error=STR,
            reason={
                **STR,
                "enum": ["catalog_upgraded", *CATALOG_OUT_REASONS, NO_SPACE_REASON],
                "description": "catalog_upgraded: a newer MediaDesk upgraded the catalog "
                "while this server ran; it writes nothing until restarted with that version "
                f"(status degraded, 503). {NO_SPACE_REASON}: the SQLite catalog's disk has "
                "less than 1 MiB free, every write answers 507 (503, no Retry-After; a "
                "PostgreSQL server's own disk is not seen). The others: the reason an error "
                "under storage_unavailable gives for the catalog (Error), an outage that "
                "passes (Retry-After)",
            },
        ),
        storage=obj(
            None,
            ok=BOOL,
            backend={
                **STR,
                "enum": list(BACKENDS),
                "description": "The storage backend new files go to, as GET /config's storage and "
                "MEDIADESK_STORAGE_BACKEND name it",
            },
            error={
                **STR,
                "description": "Why the store failed: for an admin token the cause with the "
                "bucket and endpoint; for other callers the sentence any storage_unavailable "
                "gives for its reason (no bucket, endpoint or path); timeout when the check "
                "did not answer in time (admin)",
            },
            reason={
                **STR,
                "enum": [*UNAVAILABLE_REASONS, NO_SPACE_REASON],
                "description": "The failure's cause when known, for every caller: the "
                "reason an error under storage_unavailable gives (Error), or "
                f"{NO_SPACE_REASON} for a full disk (free some space)",
            },
        ),
        sse_clients=INT,
        feed=obj(
            None,
            mechanism={**STR, "enum": ["listen/notify", "polling"]},
            running=BOOL,
            connected={**BOOL, "description": "Hearing other processes' changes"},
            last_change_id=INT,
            origin=STR,
            error=STR,
        ),
        maintenance=obj(
            None,
            leader={**BOOL, "description": "This process is the catalog's maintenance leader"},
            participating=BOOL,
            interval=NUM,
            this_process=STR,
            error={
                **STR,
                "description": "Why this process is not leading or its record is unread, in "
                "words (the catalog's sentence, no path)",
            },
            reason={
                **STR,
                "description": "The failure's cause when known: a storage_unavailable reason "
                "(catalog_unreachable, catalog_busy, …) or an error code "
                "(insufficient_storage, catalog_upgraded)",
            },
            holder=nullable("string"),
            last_run_at={**nullable("string"), "format": "date-time"},
            last_run_by={
                **nullable("string"),
                "description": "The process that ran it (host:pid); a `mediadesk maintenance` "
                "run's ends in ` (mediadesk maintenance)`",
            },
            last_report={
                "type": ["object", "null"],
                "additionalProperties": True,
                "description": "The last run's report, as `mediadesk maintenance` prints it",
            },
            reconcile={
                "type": "object",
                "properties": {
                    "at": DATE,
                    "clean": {**BOOL, "description": "Nothing missing, damaged or stray"},
                    "rows_without_objects_count": {**INT, "description": "Files missing"},
                    "size_mismatch_count": {**INT, "description": "Files damaged"},
                    "claimed_deletions_count": INT,
                },
                "additionalProperties": True,
                "description": "The daily check of the store against the catalog (its summary, "
                "as `mediadesk doctor` shows it)",
            },
        ),
    ),
    "ClientConfig": obj(
        [
            "version",
            "storage",
            "max_file_size",
            "presign_threshold",
            "allowed_types",
            "extensions",
            "resumable",
        ],
        version=STR,
        storage={**STR, "enum": list(BACKENDS)},
        max_file_size={**INT, "description": "Bytes (MAX_FILE_SIZE); larger files are a 413"},
        max_form_size={**INT, "description": "Bytes of a JSON or form body without a file"},
        presign_threshold={
            **INT,
            "description": "Use the presigned flow above this size (bytes), direct below",
        },
        presigned_url_expiry=INT,
        expires_in=obj(None, minimum=INT, maximum=INT),
        list_limit_max=INT,
        upload_rate_limit={**INT, "description": "Uploads per minute per client; 0 = none"},
        sniff_bytes={**INT, "description": "How many leading bytes decide the type"},
        allowed_types={
            "type": "object",
            "description": "MIME types accepted per kind (ALLOWED_IMAGE_TYPES/"
            "ALLOWED_VIDEO_TYPES); an empty list: none of that kind is accepted",
            "properties": {
                "image": {"type": "array", "items": STR},
                "video": {"type": "array", "items": STR},
            },
            "required": ["image", "video"],
        },
        extensions={
            "type": "object",
            "additionalProperties": {"type": "array", "items": STR},
            "description": "File name extensions per accepted MIME type",
        },
        aliases={
            "type": "object",
            "additionalProperties": STR,
            "description": "Other spellings of accepted MIME types (video/avi, image/jpg, ...)",
        },
        resumable=obj(
            ["tus", "parts", "renew"],
            tus={**BOOL, "description": "POST /files/upload/tus (tus 1.0) exists"},
            parts={
                **BOOL,
                "description": "Presigned uploads in parts work here (multipart=true at presign, "
                "GET /files/{file_id}/upload/parts): true on R2/S3 storage, false on local",
            },
            renew={**BOOL, "description": "POST /files/{file_id}/upload/renew exists"},
            multipart_threshold=INT,
            part_size=INT,
        ),
    ),
    "SignedPutResult": obj(["key", "size", "etag"], key=STR, size=INT, etag=STR),
    # The event stream's `data:` by its kind (server/routes/events.py, presenters.event_body)
    "ChangeEvent": {
        **obj(
            ["id", "kind", "file_id", "at", "file"],
            id=CHANGE_ID,
            kind={
                **STR,
                "enum": [k.value for k in FILE_EVENT_KINDS],
                "description": "What happened to the file (deleted: gone for good; file is "
                "then its record as it was, whose urls no longer answer)",
            },
            file_id=INT,
            at=DATE,
            file=ref("File"),
            previous={
                **obj(None, **{name: FILE["properties"][name] for name in RECORD_FIELDS}),
                "additionalProperties": False,
                "description": "updated, trashed and restored: the fields this change "
                "altered, with their values before it, and always updated_at and version, "
                "which every change sets (version: the one the change started from); absent "
                "from events written by older servers",
            },
        ),
        "description": "A file's change: `file` is the file's record as GET /files/{id} "
        "answers it after the change (the File schema)",
    },
    "AthleteEvent": obj(
        ["id", "kind", "at", "file"],
        id=CHANGE_ID,
        kind={**STR, "enum": [EventKind.ATHLETE.value]},
        file_id={"type": "null"},
        at=DATE,
        file={
            "allOf": [
                ref("Athlete"),
                obj(None, deleted={**BOOL, "description": "Present (true): it was deleted"}),
            ],
            "description": "The athlete as GET /athletes lists it after the change, its "
            "`version` included (a rename made elsewhere moves it on; a change logged before "
            "catalog schema 0030 has none)",
        },
    ),
    "ProcessingEvent": obj(
        ["id", "kind", "file_id", "at", "file"],
        id=CHANGE_ID,
        kind={**STR, "enum": [EventKind.PROCESSING.value]},
        file_id=INT,
        at=DATE,
        file=obj(
            ["id", "processing", "job"],
            id={**INT, "description": "The file's id"},
            processing={
                "oneOf": [ref("Processing"), {"type": "null"}],
                "description": "The file's combined state, as /stream/{id}/info's",
            },
            job={"oneOf": [ref("Job"), {"type": "null"}], "description": "The job that moved"},
        ),
    ),
    "ResetEvent": obj(
        ["kind", "id"],
        kind={
            **STR,
            "enum": [EventKind.RESET.value],
            "description": "The client is behind what the change log keeps: reload everything",
        },
        id={**CHANGE_ID, "description": "The change id the stream goes on from"},
        after=nullable("integer", description="The Last-Event-ID asked"),
    ),
    "UnauthorizedEvent": obj(
        ["kind", "code", "message"],
        kind={
            **STR,
            "enum": [EventKind.UNAUTHORIZED.value],
            "description": "The stream's token was revoked (or lost its scope): the stream "
            "ends; this event has no SSE id",
        },
        code={**STR, "description": "The error code a request with the token gets"},
        message=STR,
    ),
    "StreamEvent": {
        "oneOf": [ref(name) for name in dict.fromkeys(EVENT_SCHEMAS.values())],
        "discriminator": {
            "propertyName": "kind",
            "mapping": {
                kind: f"#/components/schemas/{name}" for kind, name in EVENT_SCHEMAS.items()
            },
        },
        "description": "Any `data:` of GET /events, by its kind (also its SSE `event:`)",
    },
    # Resumable uploads (server/routes/tus.py, core/resumable.py)
    "PartUrl": obj(["part_number", "url"], part_number=INT, url={**STR, "format": "uri"}),
    "StoredPart": obj(["part_number", "size", "etag"], part_number=INT, size=INT, etag=STR),
    "UploadParts": obj(
        ["upload_id", "part_size", "part_count", "parts"],
        upload_id=STR,
        part_size=INT,
        part_count=INT,
        parts={"type": "array", "items": ref("StoredPart")},
        assembled={
            **BOOL,
            "description": ASSEMBLED + ": every part is listed, sized by the "
            "plan, with an empty etag (the bucket keeps no part's ETag any more)",
        },
    ),
    "RenewRequest": obj(
        part_numbers={
            "type": "array",
            # core.resumable refuses a number past the upload's parts, at most MAX_PARTS
            "items": {**INT, "minimum": 1, "maximum": MAX_PARTS},
            "description": "Parts to sign again (default, when left out or empty: every part "
            "the bucket lacks)",
        }
    ),
    "RenewedUpload": obj(
        ["expires_in", "expires_at"],
        upload_url={**STR, "format": "uri", "description": "Single PUT uploads"},
        method={**STR, "enum": ["PUT"]},
        headers={"type": "object", "additionalProperties": STR},
        upload_id={**STR, "description": "Uploads in parts"},
        part_size=INT,
        parts={"type": "array", "items": ref("PartUrl")},
        expires_in=INT,
        expires_at=EXPIRES_AT,
        assembled={**BOOL, "description": ASSEMBLED + ": no part is signed (parts is empty)"},
    ),
    "ConfirmParts": obj(
        parts={
            "type": "array",
            "items": obj(
                ["part_number", "etag"],
                # core.resumable refuses a number past the upload's parts, at most MAX_PARTS
                part_number={**INT, "minimum": 1, "maximum": MAX_PARTS},
                etag=STR,
            ),
            "description": "An upload in parts: the ETags the bucket answered (else the "
            "server lists the parts itself); each part_number once and within the upload's "
            "parts, else 400 invalid_input",
        }
    ),
    "TusUpload": obj(
        ["id", "location", "offset", "length"],
        id=STR,
        location={
            **RELATIVE_URL,
            "description": f"The upload's URL (also in the Location header). {RELATIVE}",
        },
        offset=INT,
        length=INT,
        expires_at={**EXPIRES_AT, **nullable("string")},
        file_id={**nullable("integer"), "description": "Set once the whole file arrived"},
    ),
}
