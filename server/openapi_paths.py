"""The paths of the OpenAPI document: every route with its parameters and bodies."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

from core.audit import MAX_LIMIT as AUDIT_MAX_LIMIT
from core.errors import InvalidSignature
from core.mediatypes import IMAGE_TYPES, VIDEO_TYPES
from core.records import MAX_LIMIT, SORTS, STATUS_FILTERS, FileStatus, Sort
from core.resumable import HEAD_WAIT, LOCKED_RETRY_MAX, STALLED, TUS_VERSION, checksum_pattern
from core.settings import MAX_EXPIRY, MIN_EXPIRY
from core.storage.signing import (
    SECRET_BYTES,
    LocalPresigner,
    sign_file_grant,
    verify_signed_request,
)
from core.thumbnails import (
    MAX_VARIANT_WIDTH,
    POSTER_WIDTH,
    THUMB_SIZE,
    VARIANT_WIDTHS,
    WEBP_MAX_SIDE,
)
from server.caching import UNVERSIONED_MAX_AGE
from server.error_codes import ERROR_CODES
from server.openapi_schemas import ID, INT64_MAX, QUERY_BOOL, SCHEMAS, ref
from server.rawbody import IDLE_TIMEOUT, TAKE_MIN

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
        401: "unauthorized: no token; invalid_token: the token is unknown or revoked, or not "
        "sent as 'Authorization: Bearer <token>'",
        403: "insufficient_scope: the token's scope is not enough; invalid_signature, "
        "signature_expired: a bad or expired signed URL",
        404: "Not found",
        409: "Conflict with the current state",
        412: "precondition_failed: If-Match or If-Unmodified-Since does not hold",
        408: f"request_timeout: no byte of the body arrived for {IDLE_TIMEOUT:g} s; the "
        "connection is closed and nothing was kept: send the request again",
        413: "Larger than MAX_FILE_SIZE (files) or 1 MiB (forms and JSON)",
        416: "Range not satisfiable",
        429: "Too many uploads (see Retry-After)",
        431: "header_too_large: " + ERROR_CODES["header_too_large"].split(": ", 1)[1],
        500: "Storage or server error (the message never names keys, paths or endpoints; "
        "quote the request_id)",
        # every write's (server.openapi._no_room), not listed per operation
        507: "insufficient_storage: the disk or a quota filled up while this was written or "
        "recorded (the catalog's disk too: SQLite's 'database or disk is full'); nothing "
        "partial is kept: send it again once there is room",
    }
    # Any request can carry oversized headers: refused before routing, with the same body.
    statuses = (*statuses, 431) if 431 not in statuses else statuses
    # Every operation that reads a body (so may answer 413) also times out a quiet one.
    statuses = (*statuses, 408) if 413 in statuses and 408 not in statuses else statuses
    return {str(s): {"description": text[s], "content": ERROR} for s in statuses}


def refused(status: int, text: str) -> dict[str, S]:
    """An error status described with the codes one operation answers under it (in place of
    err()'s text for every operation)."""
    return {str(status): {"description": text, "content": ERROR}}


# The refusals of a file's bytes or its form, on every upload route
UPLOAD_400 = refused(
    400,
    "invalid_input (reason description_too_long, ...); unsupported_type: a type MediaDesk "
    "does not accept (sound with no video track too); type_mismatch: the name or content is "
    "not of the file_type asked for; "
    "empty_file: no bytes; corrupt_file: damaged or not what its type says",
)


# The presigned upload's confirm, parts listing and renewal (server/routes/uploads.py
# _check_owner, core/resumable.py check_presign_owner)
PRESIGN_404 = refused(
    404,
    "not_found: no such file, or a pending upload another token presigned: only the token "
    "that presigned it (an admin token too is another) goes on with it, as with tus; the "
    "answer is the same as for a file that does not exist",
)


def parts_gone(when: str = "") -> S:
    """The 410 of the presigned upload in parts' confirm, parts listing and renewal."""
    return {
        "description": "upload_gone (reason parts_gone): an upload in parts whose multipart "
        "upload is no longer in the bucket (aborted outside MediaDesk) and whose file the "
        f"bucket does not hold either{when}; the file is "
        "failed (later calls answer 409), upload it again",
        "content": ERROR,
    }


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
EXPIRES_IN = {"type": "integer", "minimum": MIN_EXPIRY, "maximum": MAX_EXPIRY}
# No `default` in the schema: it is a setting, and generated clients send a documented default
# themselves (openapi-python-client), so a server set for short links handed out 1-hour ones.
EXPIRES_IN_PARAM = param(
    "expires_in",
    schema=EXPIRES_IN,
    desc="Seconds the URL lives; default: the server's PRESIGNED_URL_EXPIRY (GET /config's "
    "presigned_url_expiry)",
)
ACCESS_TOKEN = param(
    "access_token", desc="API token for clients that cannot send an Authorization header"
)
BYTES = {"schema": {"type": "string", "format": "binary"}}
# An action route's optional body (server.params.read_optional_json): sent as JSON, it must be
# an object (else 400), whose fields are not read
NO_BODY: S = {
    "required": False,
    "description": "No body is needed; one sent as application/json must be a JSON object",
    "content": {"application/json": {"schema": {"type": "object", "additionalProperties": True}}},
}


def _query_of(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


# What each name of a /signed/… URL's query means. The names themselves are the signer's
# (core.storage.signing): signed_query reads them off URLs it signs, so a name added there
# fails the document's build here until it is described.
SIGNED_QUERY_TEXT = {
    "method": "The method the URL is signed for",
    "expires": "When the URL expires (Unix time)",
    "ct": "The Content-Type the URL is signed for: the body's on an upload, the answer's on a "
    "download",
    "len": "The body's size in bytes the upload URL is signed for",
    "max": "The largest body in bytes the upload URL takes",
    "name": "The file name of the download's Content-Disposition: attachment",
    "file": "The file the download URL was signed for",
    "pub": "1 on a link handed out without a token, which opens the file only while it is public",
    "sig": "The signature of the URL's other fields",
}
COPY_FROM_URL = (
    "Copy it from the URL the presign answered (upload_url, url, a download's Location), "
    "unchanged: the signature covers it"
)


def signed_query(method: str) -> list[S]:
    """The query parameters of a local signed URL for `method`: every name the signer writes
    when it signs every field, required when a URL signed with none of the optional fields
    fails its verification without it."""
    secret = b"\0" * SECRET_BYTES
    signer = LocalPresigner(secret, "http://localhost", clock=lambda: 0)
    key, ct = "signed/a.jpg", "image/jpeg"
    if method == "PUT":
        full = signer.presign_put(key, ct, MIN_EXPIRY, content_length=1, max_size=1).url
        least = signer.presign_put(key, ct, MIN_EXPIRY).url
    else:
        full = signer.presign_get(key, MIN_EXPIRY, "a.jpg", ct, file_id=1, by_publicity=True).url
        least = signer.presign_get(key, MIN_EXPIRY).url
    plain = _query_of(least)

    def needed(name: str) -> bool:
        try:
            rest = {k: v for k, v in plain.items() if k != name}
            verify_signed_request(secret, method, key, rest, now=0)
        except InvalidSignature:
            return True
        return False

    out = []
    for name in _query_of(full):
        required = needed(name)
        when = "" if required else "; only when the URL has it"
        desc = f"{SIGNED_QUERY_TEXT[name]}. {COPY_FROM_URL}{when}"
        out.append(param(name, desc=desc, required=required))
    return out


# What each name of a file grant's query (exp, sig) means; the names are the signer's
# (core.storage.signing.sign_file_grant), read off a grant it signs.
GRANT_TEXT = {
    "exp": "Expiry (Unix time) of a signed link to a private file's media; with sig",
    "sig": "Signature of a private file's media link (from /stream/{id}/info, a watch link or "
    "a playlist): copy it from that link with exp. On a PostgreSQL catalog every server of "
    "the team checks it with the catalog's key",
}


def file_grant() -> list[S]:
    names = _query_of("?" + sign_file_grant(b"\0" * SECRET_BYTES, 1, MIN_EXPIRY, now=0))
    return [param(name, desc=GRANT_TEXT[name]) for name in names]


# core.links.link_origin, in words
LINK_ORIGIN = (
    "A local /signed/… URL and a watch link (kind=watch) start with the same origin: "
    "MEDIADESK_PUBLIC_URL when set; else the address the server is bound to; a server bound "
    "to every address (0.0.0.0, ::) names the request's Host when that is this machine (its "
    "host name, localhost or one of its addresses, with the server's port), else the address "
    "the request arrived on. A Host header naming any other host is never used."
)
CHECKSUM = param(
    "Upload-Checksum",
    "header",
    {"type": "string", "pattern": checksum_pattern()},
    "`sha1|sha256|md5 base64(digest)` of this request's body",
)
RANGE_HEADERS = [
    param("Range", "header", desc="bytes=start-end, suffix or several ranges"),
    param("If-Range", "header"),
    param("If-None-Match", "header"),
    param("If-Modified-Since", "header"),
    param("If-Match", "header", desc="412 precondition_failed unless the ETag matches"),
    param("If-Unmodified-Since", "header", desc="412 precondition_failed if changed since"),
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
    operation_id: str | None = None,
) -> S:
    """One operation. `security` is filled in from the handler's scope by build_spec, and a
    missing `operation_id` defaults to the handler's name (server.openapi)."""
    out: S = {
        "summary": summary,
        "tags": [tag],
        "responses": responses,
    }
    if security is not None:
        out["security"] = security
    if operation_id:
        out["operationId"] = operation_id
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


def header(desc: str, schema: S | None = None) -> S:
    return {"description": desc, "schema": schema or {"type": "string"}}


def cache_control(desc: str) -> S:
    """The Cache-Control a route's handler sets on an answer, in words."""
    return {"Cache-Control": header(desc)}


NO_STORE = cache_control("`no-store`: the answer holds signatures or live state")
NO_CACHE = cache_control("`no-cache`: kept, but asked again before each use")
# /health's 503 (server/routes/meta.py _retry_after)
HEALTH_RETRY_AFTER = {
    "Retry-After": header(
        "Seconds before asking again, while an outage that passes by itself degrades the "
        "server (the storage or the catalog out of reach, throttling or failing; checks that "
        "timed out), as every storage_unavailable answer says meanwhile. Absent while only a "
        "fault someone must mend does (a set-up fault, a full disk, catalog_upgraded)",
        {"type": "integer"},
    )
}
# A file's record (server/routes/files.py file_etag): what If-Match takes
FILE_ETAG = {
    "ETag": header(
        "The file's version as a strong entity tag (\"4\", the record's `version`): send it "
        "in If-Match to edit, trash, restore or delete only that version. Not a cache "
        "validator: If-None-Match is not answered 304 (the record also shows the athlete's "
        "name, which changes without the file's version)"
    )
}
IF_MATCH_TEXT = (
    'The file\'s version, as its ETag ("3", or 3): 412 precondition_failed, reason '
    "stale_version, with the current version in details.version, unless the file is at that "
    'version now. * means any version (no check). A list ("3", "4") holds when one of its '
    'tags names the version. A weak tag (W/"3") never matches (412): If-Match compares '
    "strongly (RFC 9110 13.1.1); an empty header is none"
)
# What server.routes.files.strong_if_match reads as a list of entity-tags (a trailing comma
# too): any other value is a 400, so the patterns below admit exactly these (an empty header
# is none, * any version)
TAG_LIST = r'(W/)?"[^"]*"(\s*,\s*(W/)?"[^"]*")*(\s*,)?'


def if_match(desc: str = IF_MATCH_TEXT) -> S:
    return param(
        "If-Match",
        "header",
        # a bare number (3) is taken as its tag (as before tags were sent), within 64 bits
        {"type": "string", "pattern": rf"^\s*(\*|[1-9][0-9]{{0,17}}|{TAG_LIST})?\s*$"},
        desc=desc,
    )


FILE_412 = refused(
    412,
    "precondition_failed (reason stale_version): If-Match names another version than the "
    "file's (details.version), or is a weak tag",
)
# An athlete's record (server/routes/athletes.py athlete_etag): what a rename's If-Match takes
ATHLETE_ETAG = {
    "ETag": header(
        "The athlete's version as a strong entity tag (\"athlete-2\", the record's `version`, "
        "named as an athlete's so that it cannot be taken for a file's): send it in a rename's "
        "If-Match to rename only that version"
    )
}
ATHLETE_IF_MATCH = param(
    "If-Match",
    "header",
    {"type": "string", "pattern": rf"^\s*(\*|{TAG_LIST})?\s*$"},
    desc='The athlete\'s version, as its ETag ("athlete-2"): 412 precondition_failed, reason '
    "stale_version, with the current version and name in details.version and details.name, "
    "unless the athlete is at that version now (checked on its locked row; a `version` in the "
    "body answers 409 conflict with the same reason and details). * means any version (no "
    'check). A file\'s tag ("2") or a weak one (W/"athlete-2") never matches (412); a header '
    'that is no list of tags is 400; a list ("athlete-2", "athlete-3") holds when one of its '
    "tags names the version. Without it (or empty) and without a body `version` the last "
    "rename wins",
)
ATHLETE_412 = refused(
    412,
    "precondition_failed (reason stale_version): If-Match names another version than the "
    "athlete's (details.version, details.name: renamed meanwhile elsewhere), or is a weak tag "
    "or a file's",
)
# The byte routes that name the file (server/routes/stream.py, signed.py)
INLINE_NAME = {
    "Content-Disposition": header(
        "`inline; filename=\"…\"; filename*=UTF-8''…`: the file's original name (not on a "
        "`?w=` variant)"
    )
}


def form(name: str, multipart_only: bool = False) -> S:
    """A form body. Forms without a file are documented as JSON only: generators cannot handle
    one operation with several body types (openapi-python-client 0.29 emits code that does not
    import), and JSON is what scripts send. The server reads the same fields as the seed's
    multipart/form-data and as urlencoded too; the description says so."""
    if multipart_only:
        return {"required": True, "content": {"multipart/form-data": {"schema": ref(name)}}}
    return {
        "required": True,
        "description": "Also accepted with the same fields as multipart/form-data (the "
        "seed's form, e.g. a browser FormData) or application/x-www-form-urlencoded.",
        "content": {"application/json": {"schema": ref(name)}},
    }


# Binary responses name the concrete types the server sends (generators pick a body type
# from them): the accepted media types, WebP variants of images, and octet-stream for the rest.
IMAGE_MIMES = [t.mime for t in IMAGE_TYPES]
VIDEO_MIMES = [t.mime for t in VIDEO_TYPES]
ANY_MIMES = [*IMAGE_MIMES, *VIDEO_MIMES, "application/octet-stream"]


def binary(mimes: list[str]) -> S:
    return {mime: BYTES for mime in mimes}


CACHE_RULES = (
    "Cache-Control: a private file's answer is `private` (the caller's cache only). A public "
    "file's answer is `public, max-age=31536000, immutable` (the configured public max-age) "
    "only when the URL carries `v` equal to the file's content tag (the first 16 hex digits "
    "of its sha256, then `-` and File.thumbnail_generation when the file has one, then `.` "
    "and File.thumbnail_remade when it has one: it changes whenever the thumbnail and "
    "variants are made again, by a new rendering or by a reprocess; the links in "
    "File.urls, StreamInfo and the watch page carry it), and "
    f"`public, max-age={UNVERSIONED_MAX_AGE}` otherwise (no v, or a stale one: the current "
    "bytes are served), so a file made private or trashed leaves shared caches within "
    f"{UNVERSIONED_MAX_AGE} s."
)
VIDEO_CACHE_RULES = (
    "Cache-Control: a private file's answer is `private, max-age=<seconds>` (the caller's cache "
    "only, no longer than a signed link that opened it lives). A public file's: with "
    "`rendition` and `v` (a pinned version) `public, max-age=31536000, immutable` (the "
    f"configured public max-age); the bare URL's original `public, max-age={UNVERSIONED_MAX_AGE}`"
    ", a rendition `public, max-age=60`; a stand-in while a better version is made "
    "`max-age=60` (X-MediaDesk-Rendition says which)."
)
VERSION_PARAM = param(
    "v",
    desc="The file's content tag (File.urls carry it): makes the answer cacheable for good. "
    "Any other value is ignored (the current bytes, cached briefly)",
)
WIDTH_HEADER = {
    "description": "With `w`: the width actually served, a rung of the ladder "
    f"{', '.join(map(str, VARIANT_WIDTHS))} (the smallest at least `w`, the top one above "
    "it), or the image's own width when that rung is not narrower; narrower when the picture "
    f"would be more than {WEBP_MAX_SIDE} pixels high (a WebP's limit: a vertical panorama)",
    "schema": {"type": "integer"},
}
CONTENT_LOCATION = {
    "description": "With `w`: the canonical URL of these bytes (`?w=<served width>`, and `v` "
    "when the request carried the current one)",
    "schema": {"type": "string"},
}

POSTER_HEADERS = {
    "X-MediaDesk-Width": {
        "description": "With `w`: the width in pixels of the picture served, the thumbnail "
        f"(at most {THUMB_SIZE}) or a video's large poster (at most {POSTER_WIDTH}); narrower "
        "when the picture is (never enlarged; a portrait one fits the height). Not on a 304 of "
        "the thumbnail: the answer it revalidates said it",
        "schema": {"type": "integer"},
    },
    "Content-Location": {
        "description": f"With `w`: the canonical URL of these bytes (`?w={THUMB_SIZE}` for the "
        f"thumbnail, `?w={POSTER_WIDTH}` for the large poster, and `v` when the request "
        "carried the current one)",
        "schema": {"type": "string"},
    },
}


SIGNED_NAME = {
    "Content-Disposition": header(
        "`attachment; filename=\"…\"; filename*=UTF-8''…`: when the URL names the file (its "
        "`name`, as download links do)"
    )
}
THUMBNAIL_HEADERS = {
    "ETag": header(
        "The picture's validator (If-None-Match: 304), which changes with the file's content "
        "tag: a picture made again is a new ETag"
    ),
    **cache_control(
        "By the rules of the operation's description; a thumbnail standing in for a video's "
        f"large poster not made yet: `public, max-age={UNVERSIONED_MAX_AGE}` (public files)"
    ),
    **POSTER_HEADERS,
}


def stream_op(kind: str) -> S:
    mimes = {"video": VIDEO_MIMES, "image": IMAGE_MIMES, "raw": ANY_MIMES}[kind]
    media = binary(mimes)
    params = [FID, *RANGE_HEADERS, ACCESS_TOKEN, *file_grant()]
    if kind != "video":
        params.append(VERSION_PARAM)
    if kind == "image":
        params.append(
            param(
                "w",
                schema={"type": "integer", "minimum": 1, "maximum": MAX_VARIANT_WIDTH},
                desc="Width of a resized WebP variant (made once, kept in the store). Snapped "
                "to a fixed ladder of widths, so an image has at most one variant per rung; "
                "X-MediaDesk-Width says the width served",
            )
        )
    responses = {
        **ok("The whole file", media),
        **ok(
            "One range (Content-Range) or multipart/byteranges",
            {**media, "multipart/byteranges": BYTES},
            206,
        ),
        **ok("Not modified", status=304),
        **err(400, 401, 403, 404, 416, 500),
    }
    for code in ("200", "206", "304"):
        responses[code]["headers"] = dict(INLINE_NAME)
        if kind == "image":
            responses[code]["headers"].update(
                {"X-MediaDesk-Width": WIDTH_HEADER, "Content-Location": CONTENT_LOCATION}
            )
    cache = " " + (VIDEO_CACHE_RULES if kind == "video" else CACHE_RULES)
    return op(
        f"Stream the {kind} file with HTTP ranges",
        "streaming",
        responses,
        params=params,
        operation_id=f"stream_{kind}",
        desc="400 wrong_kind when the file is not of this kind. Public files need no "
        "token; private files need a read token, as a Bearer header or, for players that "
        "cannot send headers (<video>, media players), as ?access_token=. A response "
        "under way ends (the connection is reset, the body is short of its Content-Length) "
        "when any process sharing the catalog trashes or deletes the file, or makes it "
        "private while it is streamed without a token." + cache,
    )


LIST_PARAMS = [
    param("athlete_id", schema=ID),
    param("file_type", schema=SCHEMAS["File"]["properties"]["file_type"]),
    param("limit", schema={"type": "integer", "default": 50, "minimum": 1, "maximum": MAX_LIMIT}),
    param(
        "offset",
        schema={"type": "integer", "default": 0, "minimum": 0, "maximum": INT64_MAX},
        desc="Kept for compatibility: the catalog reads every skipped row, so a deep offset "
        "costs in proportion to its depth (about 100 ms at the end of a million files). "
        "Page with cursor instead",
    ),
    param(
        "cursor",
        desc="The fast path: next_cursor of the previous page (keyset paging on the sort "
        "key's index, the same cost at any depth); not with offset",
    ),
    param(
        "content_type",
        desc="Only this MIME type; the seed's video/avi, video/mov, video/wmv mean "
        "video/x-msvideo, video/quicktime, video/x-ms-wmv",
    ),
    param("is_public", schema=QUERY_BOOL, desc="Only public files (yes) or private ones (no)"),
    param(
        "q",
        desc="Text in the file name, description or athlete name (substring, in any case and "
        "with or without accents: 'jose' finds 'José', 'nandu' finds 'Ñandú'; runs of white "
        "space, line breaks included, are one space in the term and in the texts)",
    ),
    param(
        "sort",
        schema={
            "type": "string",
            "enum": sorted(SORTS),
            # a generator's names for the values: the field, _DESC when descending (size,
            # SIZE_DESC), where `-size` would otherwise be VALUE_4
            "x-enum-varnames": [
                f"{s.field}_desc".upper() if s.descending else s.field.upper()
                for s in map(Sort, sorted(SORTS))
            ],
            "default": Sort.NEWEST.value,
        },
        desc="A File field, '-' first for descending (ties by id): created_at is the upload "
        'time, captured_at the capture date ("Date taken", File.captured_at), '
        "original_filename a natural order (game_2 before game_10; case and accents aside, ñ "
        "after n, ø with o, ł with l, æ as ae, þ as th, ß as ss); files without a duration "
        "come last both ways",
    ),
    param(
        "trashed",
        schema=QUERY_BOOL,
        desc="List the trash (alias: trash; give one, not both: both are a 400)",
    ),
    # the seed's name, still read (server/routes/files.py); listed so a repeat of it is a 400
    # like any documented parameter's (server.params.check_query)
    {
        **param(
            "trash",
            schema=QUERY_BOOL,
            desc="The seed's name of trashed, an alias of it; not with trashed (400)",
        ),
        "deprecated": True,
    },
    param(
        "status",
        schema={
            "type": "string",
            "enum": list(STATUS_FILTERS),
            "default": FileStatus.READY.value,
        },
    ),
]
FILES_LIST = op(
    "List files",
    "files",
    {**ok("A page of files", json("FilePage")), **err(400, 401)},
    params=LIST_PARAMS,
    desc="Without a token only public, ready, untrashed files are listed; filters narrow that "
    "set (is_public=false, trashed=true or status=pending|failed give an empty page, total 0).",
    operation_id="list_files",
)

PATHS: dict[str, dict[str, S]] = {
    "/files/upload/presigned": {
        "post": op(
            "Create a presigned upload URL",
            "uploads",
            {
                **ok(
                    "Upload URL and file id; sent again with its idempotency_key while that "
                    "upload is pending, the same upload with fresh URLs",
                    json("PresignedUpload"),
                    201,
                    headers=NO_STORE,
                ),
                **err(400, 401, 403, 413, 429, 500),
                **refused(
                    409,
                    "conflict (reason idempotency_key_reused): the idempotency_key names a "
                    "pending upload of this token of another size",
                ),
                **UPLOAD_400,
            },
            body=form("PresignedUploadForm"),
            desc="Then PUT the file to upload_url with the returned headers and POST "
            "/files/{file_id}/confirm-upload. Scope: upload. The upload is this token's: "
            "another token's confirm, renewal or parts listing of it is a 404 while it is "
            "pending.",
            operation_id="create_presigned_upload",
        )
    },
    "/files/{file_id}/confirm-upload": {
        "post": op(
            "Confirm a presigned upload",
            "uploads",
            {
                **ok(
                    "The ready file (idempotent). A duplicate (same bytes, athlete and flags "
                    "as a ready file) keeps this file_id as another name of that file: "
                    "duplicate is true and duplicate_of names it",
                    json("File"),
                ),
                **err(400, 401, 403, 409, 413, 500),
                **PRESIGN_404,
                **refused(
                    400,
                    "upload_not_received: the bytes are not in the storage yet; size_mismatch: "
                    "not the size announced; unsupported_type, type_mismatch, empty_file, "
                    "corrupt_file as on a direct upload",
                ),
                **refused(
                    409,
                    "conflict: reason already_trashed when the file is in the trash (restore it, "
                    "then confirm); other conflicts as their reason says",
                ),
                "410": parts_gone(),
            },
            params=[FID],
            operation_id="confirm_upload",
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
                **UPLOAD_400,
                "503": {
                    "description": "server_stopping: the server stopped (a restart) while the "
                    "form was arriving; nothing of it was kept: send it again after Retry-After "
                    "seconds",
                    "content": ERROR,
                },
            },
            body=form("DirectUploadForm", True),
            operation_id="upload_direct",
        )
    },
    "/files": {"get": FILES_LIST},
    "/files/": {
        "get": {
            **FILES_LIST,
            "operationId": "list_files_seed_path",
            "summary": "List files (the seed's spelling, /files/)",
        }
    },
    "/files/{file_id}": {
        "get": op(
            "Get a file",
            "files",
            {
                **ok("The file", json("File"), headers=FILE_ETAG),
                **err(400, 401, 403, 404),
                **FILE_412,
            },
            params=[FID, if_match()],
            operation_id="get_file",
        ),
        "patch": op(
            "Edit a file's metadata",
            "files",
            {
                **ok("The edited file", json("File"), headers=FILE_ETAG),
                **err(400, 401, 403, 404, 409, 413, 500),
                **FILE_412,
            },
            params=[
                FID,
                if_match(
                    f"{IF_MATCH_TEXT}. The check is made on the file's locked row (a `version` "
                    "in the body answers 409 conflict with the same reason and details)"
                ),
            ],
            body={"required": True, "content": json("FileUpdate")},
            operation_id="update_file",
        ),
        "delete": op(
            "Trash a file, or delete it for good",
            "files",
            {**ok("Done", json("Deleted")), **err(400, 401, 403, 404, 409, 500), **FILE_412},
            params=[
                FID,
                if_match(),
                param(
                    "hard_delete",
                    schema={**QUERY_BOOL, "default": False},
                    desc="yes deletes permanently (admin scope)",
                ),
            ],
            operation_id="delete_file",
        ),
    },
    "/files/{file_id}/restore": {
        "post": op(
            "Restore a file from the trash",
            "files",
            {
                **ok("The restored file", json("File"), headers=FILE_ETAG),
                **err(400, 401, 403, 404, 409),
                **FILE_412,
            },
            params=[FID, if_match()],
            body=NO_BODY,
            operation_id="restore_file",
        )
    },
    "/files/{file_id}/download": {
        "get": op(
            "Download (redirect to a signed URL that names the file)",
            "files",
            {
                **ok(
                    "Redirect; Content-Disposition: attachment with the original name",
                    status=302,
                    headers={
                        "Location": header(
                            "The signed URL (absolute): the bucket's, or this server's /signed/…",
                            {"type": "string", "format": "uri"},
                        ),
                        "Content-Disposition": header(
                            "`attachment; filename=\"…\"; filename*=UTF-8''…`: the original name"
                        ),
                        **NO_STORE,
                    },
                ),
                **err(400, 401, 403, 404, 500),
            },
            params=[FID, EXPIRES_IN_PARAM],
            desc="Always a signed URL, also for a public file when R2_PUBLIC_DOMAIN is set "
            "(streams keep that domain): the answer at the Location itself carries "
            "Content-Disposition: attachment with the original name, which browsers follow "
            "(they ignore it on a 302). R2/S3: the bucket's presigned GET; local storage: "
            "this server's /signed/… URL. " + LINK_ORIGIN,
            operation_id="download_file",
        )
    },
    "/files/{file_id}/presigned-url": {
        "get": op(
            "A signed download URL",
            "files",
            {**ok("The URL", json("SignedUrl"), headers=NO_STORE), **err(400, 401, 403, 404, 500)},
            params=[
                FID,
                EXPIRES_IN_PARAM,
            ],
            desc="Local storage: this server's /signed/… URL, checked at each use (404 while "
            "the file is in the trash and once it is deleted). R2/S3: the bucket's own "
            "presigned URL, which opens the object until it expires, whatever becomes of the "
            "file; ask for a short expires_in for sensitive files. " + LINK_ORIGIN,
            operation_id="get_presigned_url",
        )
    },
    "/files/{file_id}/thumbnail": {
        "get": op(
            "The WebP thumbnail",
            "files",
            {
                **ok("WebP image", {"image/webp": BYTES}, headers=THUMBNAIL_HEADERS),
                **ok("Not modified", status=304, headers=THUMBNAIL_HEADERS),
                **err(400, 401, 403, 404),
                # a read that writes (core/thumbnail_remake.py `_source`): not a write's 507
                **refused(
                    507,
                    "insufficient_storage: a photo's thumbnail lost from an R2/S3 store is made "
                    "again from its original, downloaded into the data folder for it, and the "
                    "disk there is full (on local storage the original is read in place and the "
                    "thumbnail served)",
                ),
            },
            params=[
                FID,
                VERSION_PARAM,
                param(
                    "w",
                    schema={"type": "integer", "minimum": 1, "maximum": MAX_VARIANT_WIDTH},
                    desc=f"Width of the picture wanted: up to {THUMB_SIZE}, the thumbnail; "
                    f"above it, a video's large poster (fits in {POSTER_WIDTH} x "
                    f"{POSTER_WIDTH}, never enlarged; the watch page's), made by its "
                    "thumbnails job. A video processed before it had one (`mediadesk "
                    "reprocess` makes it) is answered its thumbnail, not cached for good. "
                    "A photo is answered its thumbnail (`Content-Location` says so): its "
                    "bigger sizes are /stream/{id}/image?w=",
                ),
                *file_grant(),  # a signed watch page's poster
            ],
            operation_id="get_thumbnail",
            desc=CACHE_RULES,
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
            params=[FID, ACCESS_TOKEN, *file_grant()],
            desc="Every URL answered for a private file (stream_url, raw_url, thumbnail_url, "
            "renditions, hls_url, thumbnails_vtt_url, watch_url) carries a file grant that "
            "opens it without a token: the grant this request was made with (they end with "
            "it), else, asked with a token, a fresh one valid PRESIGNED_URL_EXPIRY seconds.",
            operation_id="get_stream_info",
        )
    },
    "/signed/{key}": {
        "put": op(
            "Upload to a signed URL (local storage)",
            "signed",
            {
                **ok("Stored", json("SignedPutResult")),
                **err(400, 403, 404, 409, 413, 500),
                **refused(
                    403,
                    "invalid_signature, signature_expired: a bad or expired URL; "
                    "content_type_mismatch, content_length_mismatch: not the Content-Type or "
                    "size the URL is signed for",
                ),
                **refused(
                    409,
                    "conflict: the URL was used already (its file confirmed or removed), or a "
                    "newer PUT to the same URL took this one's place while its body arrived "
                    "(one body per URL is received: the newest)",
                ),
                "503": {
                    "description": "server_busy: as many upload bodies as the server reads at "
                    "once (MEDIADESK_UPLOAD_BODIES, 16 by default, big tus PATCHes included) "
                    "are arriving; send again after Retry-After seconds. server_stopping: "
                    "the server stopped (a restart) while the body was arriving; nothing of it "
                    "was kept, the URL still takes the file: send it again after Retry-After "
                    "seconds",
                    "content": ERROR,
                },
            },
            params=[param("key", "path"), *signed_query("PUT")],
            body={
                "required": True,
                "description": "The file's bytes, sent with the Content-Type the URL was "
                "signed for (the `headers` of the presigned upload)",
                "content": {"application/octet-stream": BYTES},
            },
            desc="Signature, expiry, method, Content-Type and size are checked; the "
            "object is written atomically. 404 when the server does not use local storage "
            "(its upload URLs then point at the bucket).",
            operation_id="put_signed_object",
        ),
        "get": op(
            "Download from a signed URL (local storage)",
            "signed",
            {
                **ok("The object", binary(ANY_MIMES), headers=SIGNED_NAME),
                **ok(
                    "One range (Content-Range) or multipart/byteranges",
                    {**binary(ANY_MIMES), "multipart/byteranges": BYTES},
                    206,
                    headers=SIGNED_NAME,
                ),
                **ok("Not modified", status=304, headers=SIGNED_NAME),
                **err(403, 404, 416, 500),
            },
            params=[param("key", "path"), *signed_query("GET"), *RANGE_HEADERS],
            desc="Cache-Control: `private, max-age=<seconds>`, until the URL expires (at most "
            "the configured private max-age).",
            operation_id="get_signed_object",
        ),
    },
    "/athletes": {
        "get": op(
            "List athletes",
            "athletes",
            {**ok("Athletes", json("AthleteList")), **err(401, 403)},
            operation_id="list_athletes",
        ),
        "post": op(
            "Create an athlete",
            "athletes",
            {
                **ok("Created", json("Athlete"), 201, headers=ATHLETE_ETAG),
                **err(400, 401, 403, 409, 413),
            },
            body=form("AthleteForm"),
            operation_id="create_athlete",
        ),
    },
    "/athletes/{athlete_id}": {
        "patch": op(
            "Rename an athlete",
            "athletes",
            {
                **ok("Renamed", json("Athlete"), headers=ATHLETE_ETAG),
                **err(400, 401, 403, 404, 413),
                **refused(
                    409,
                    "conflict: reason athlete_exists (a name another athlete has, details "
                    "naming it), or stale_version (the body's `version` is not the athlete's: "
                    "renamed meanwhile elsewhere; details.version and details.name the current "
                    "ones)",
                ),
                **ATHLETE_412,
            },
            params=[param("athlete_id", "path", ID), ATHLETE_IF_MATCH],
            body=form("AthleteRename"),
            desc="With a body `version` or If-Match (the athlete's ETag), a rename made "
            "meanwhile elsewhere (another desktop of the team, another client) is refused "
            "instead of overwritten; without either the last rename wins. The same name again "
            "changes nothing, its version included.",
            operation_id="rename_athlete",
        )
    },
    "/events": {
        "get": op(
            "Live change events (server-sent events)",
            "events",
            {
                **ok(
                    "text/event-stream: `id:` the catalog-wide change id, `event:` the kind, "
                    "`data:` its JSON (StreamEvent: a file's change is a ChangeEvent, whose "
                    "`file` is the File record GET /files/{id} answers); heartbeats as "
                    "comments. With `Last-Event-ID`, the changes missed since that id come "
                    "first, in order, from any server sharing the catalog (`event: reset` "
                    "when they are older than the change log keeps; while the catalog is "
                    "out, the stream opens and they come once it is back). A token revoked "
                    "while its stream is open gets `event: unauthorized`, and the stream ends",
                    {
                        "text/event-stream": {
                            "schema": {"type": "string"},
                            # the `data:` of each event, by its `event:` (the kind)
                            "x-event-schema": ref("StreamEvent"),
                        }
                    },
                    headers={
                        **cache_control("`no-cache, no-store`: a live stream"),
                        "X-Accel-Buffering": header(
                            "`no`: a proxy (nginx) passes each event on at once rather than "
                            "buffering the stream"
                        ),
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
            operation_id="get_events",
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
                param(
                    "since",
                    schema={"type": "string", "format": "date-time"},
                    desc="Entries at or after this moment; without an offset it is UTC. A moment "
                    "outside the years 1 to 9999 once in UTC is 400 invalid_input",
                ),
                param(
                    "limit",
                    schema={
                        "type": "integer",
                        "default": 100,
                        "minimum": 1,
                        "maximum": AUDIT_MAX_LIMIT,
                    },
                ),
                param(
                    "offset",
                    schema={"type": "integer", "default": 0, "minimum": 0, "maximum": INT64_MAX},
                ),
            ],
            operation_id="list_audit",
        )
    },
    "/health": {
        "get": op(
            "Health of the database and storage",
            "service",
            {
                **ok("Healthy", json("Health"), headers=NO_STORE),
                **ok("Degraded", json("Health"), 503, headers={**NO_STORE, **HEALTH_RETRY_AFTER}),
                **err(401),
            },
            operation_id="get_health",
            desc="The storage check is one bucket listing with 3 s to connect and 4 s to answer "
            "and no retry, so a silent store reports 503 within seconds. Without a token: the "
            "verdict, the storage failure's reason and its public sentence; with one: details "
            "too; the storage error names the bucket and endpoint for admin tokens only.",
        )
    },
    "/usage": {
        "get": op(
            "Storage usage: by file type, athlete and status, and the store's real size",
            "service",
            {**ok("Usage", json("Usage"), headers=NO_STORE), **err(400, 401, 403, 500)},
            params=[
                param(
                    "history_days",
                    schema={"type": "integer", "minimum": 0, "maximum": 400},
                    desc="Add the daily history of the last N days",
                )
            ],
            desc="total, by_file_type and by_athlete count ready, untrashed originals. store "
            "comes from the last listing of the bucket or folder (every "
            "MEDIADESK_USAGE_SCAN_INTERVAL seconds; null before the first). Scope: read.",
            operation_id="get_usage",
        )
    },
    "/metrics": {
        "get": op(
            "Prometheus metrics",
            "service",
            {
                **ok(
                    "Prometheus text format",
                    {"text/plain": {"schema": {"type": "string"}}},
                    headers=NO_STORE,
                ),
                **err(401, 403),
            },
            operation_id="get_metrics",
        )
    },
    "/config": {
        "get": op(
            "What this server accepts: limits, types, the presign threshold, resumable uploads",
            "service",
            {**ok("Client configuration", json("ClientConfig"), headers=NO_CACHE), **err(401)},
            operation_id="get_config",
            desc="Clients check files against this before asking for an upload URL.",
        )
    },
    "/static/mediadesk.js": {
        "get": op(
            "The MediaDesk ES module for web pages (uploadFile, streamUrl, watchUrl)",
            "service",
            {
                **ok(
                    "JavaScript",
                    {"text/javascript": {"schema": {"type": "string"}}},
                    headers=NO_CACHE,
                ),
                **err(401),
            },
            operation_id="get_js_module",
        )
    },
    "/upload-demo": {
        "get": op(
            "A page that uploads with /static/mediadesk.js",
            "service",
            {
                **ok("HTML", {"text/html": {"schema": {"type": "string"}}}, headers=NO_CACHE),
                **err(401),
            },
            operation_id="get_upload_demo",
        )
    },
    "/openapi.json": {
        "get": op(
            "This document",
            "service",
            {
                **ok(
                    "OpenAPI 3.1",
                    {
                        "application/json": {
                            "schema": {"type": "object", "additionalProperties": True}
                        }
                    },
                ),
                **err(401),
            },
            operation_id="get_openapi",
        )
    },
    "/docs": {
        "get": op(
            "API documentation page (offline)",
            "service",
            {
                **ok("HTML", {"text/html": {"schema": {"type": "string"}}}, headers=NO_CACHE),
                **err(401),
            },
            operation_id="get_docs",
        )
    },
}


# ---- resumable uploads (issue 11: server/routes/tus.py, core/resumable.py) ------------------
def _resumable_paths() -> dict[str, dict[str, S]]:
    extra_text = {
        408: f"No byte of the body arrived for {IDLE_TIMEOUT:g} s; the bytes that did are kept "
        "(HEAD gives the offset)",
        409: "offset_mismatch: Upload-Offset is not where this server goes on from: send again "
        "from the Upload-Offset header (also details.offset; when the rest were received into "
        "another data folder: the bytes this server holds, on R2/S3 those in the bucket), or "
        "the upload is already complete",
        410: "upload_gone: the upload expired, was refused by validation, its server was "
        "killed while storing its complete bytes (a new upload of the same bytes answers the "
        "file if it was catalogued), or its parts are no longer in the bucket (reason "
        "parts_gone: the multipart upload was aborted outside MediaDesk, e.g. by a lifecycle "
        "rule; the upload is ended, not retried); start a new upload",
        412: "tus_version: Tus-Resumable is missing or not 1.0.0 (see Tus-Version)",
        415: "unsupported_media_type: the body is not application/offset+octet-stream",
        423: "upload_locked: another request is writing to or finishing this upload; ask "
        "again after Retry-After seconds (HEAD first). A PATCH or DELETE ends a request of this "
        f"server whose body brought no byte for {STALLED:g} s (a connection gone half-open, "
        "whose client resumes) and goes on: the ended request keeps the bytes recorded, the "
        "offset HEAD answers. Only the upload's owner does so (another token's request gets "
        "404, as for an upload it cannot see). Refused are: a request still receiving bytes "
        "(Retry-After: the seconds until its body would have been quiet that long), one still "
        f"writing the bytes it received (a slow disk, a part upload; Retry-After: {STALLED:g} "
        "s), one completing the upload, "
        "and one on another server of the team (Retry-After: the seconds left on its lease, "
        f"at most {LOCKED_RETRY_MAX})",
        460: "checksum_mismatch: Upload-Checksum does not match the chunk; the chunk was discarded",
        507: "insufficient_storage: the disk filled mid-body; the bytes written are kept "
        "(PATCH again from HEAD's offset once there is room), those the catalog could not "
        "record are cut off (HEAD gives the offset kept). On the last PATCH, or a HEAD that "
        "finishes the upload, there was no room to store the complete file: every byte is kept, "
        "and a HEAD (or an empty PATCH at the full offset) once there is room finishes it "
        "(MediaDesk-File-Id). Every error answer on a tus route carries Tus-Resumable",
    }
    terminate_full = {
        "507": {
            "description": "insufficient_storage: the catalog could not record the termination "
            "(the disk is full). The upload's bytes are removed all the same; maintenance "
            "removes the upload, or send DELETE again",
            "content": ERROR,
        }
    }

    retry_after = {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer"}}}

    def more(*statuses: int) -> dict[str, S]:
        return {
            str(s): {
                "description": extra_text[s],
                "content": ERROR,
                **({"headers": retry_after} if s == 423 else {}),
                **(
                    {"headers": {"Upload-Offset": hdr("Where to send again from", tus_bytes)}}
                    if s == 409
                    else {}
                ),
                # a full disk at the finish: every byte kept, HEAD once there is room
                **(
                    {
                        "headers": {
                            "Upload-Offset": hdr(
                                "Bytes kept (the full length when the finish found no room)",
                                tus_bytes,
                            )
                        }
                    }
                    if s == 507
                    else {}
                ),
            }
            for s in statuses
        }

    def hdr(desc: str, schema: S | None = None) -> S:
        return {"description": desc, "schema": schema or {"type": "string"}}

    # a tus size or offset: the server takes none past a signed 64-bit integer (MAX_FILE_SIZE:
    # core.settings.MAX_FILE_SIZE_LIMIT)
    tus_bytes = {"type": "integer", "minimum": 0, "maximum": INT64_MAX}
    tus_version = param(
        "Tus-Resumable", "header", {"type": "string", "enum": [TUS_VERSION]}, required=True
    )
    state_headers = {
        "Tus-Resumable": hdr("1.0.0"),
        "Upload-Offset": hdr("Bytes received", tus_bytes),
        "Upload-Length": hdr("Size of the whole upload", tus_bytes),
        "Upload-Expires": hdr("RFC 9110 date after which an unfinished upload is removed"),
        "Upload-Metadata": hdr("The metadata sent at creation"),
        "MediaDesk-File-Id": hdr(
            "The catalogued file, once the last byte arrived", {"type": "integer"}
        ),
        "MediaDesk-Duplicate": hdr("true when an identical file already existed"),
        **NO_STORE,
    }
    upload_id = param("upload_id", "path", {"type": "string", "pattern": "^[0-9a-f]{32}$"})
    octets = {"application/offset+octet-stream": BYTES}
    capability_headers = {
        "Tus-Resumable": hdr("1.0.0"),
        "Tus-Version": hdr("1.0.0"),
        "Tus-Max-Size": hdr("MAX_FILE_SIZE, at most a signed 64-bit integer", tus_bytes),
        "Tus-Extension": hdr("creation,creation-with-upload,termination,expiration,checksum"),
        "Tus-Checksum-Algorithm": hdr("sha1,sha256,md5"),
    }
    options = op(
        "tus capabilities",
        "uploads",
        ok("Capabilities in the headers", status=204, headers=capability_headers),
        desc="A CORS preflight (Access-Control-Request-Method) is answered by the CORS layer.",
    )
    return {
        "/files/upload/tus": {
            "options": {**options, "operationId": "tus_options"},
            "post": op(
                "Create a tus 1.0.0 upload",
                "uploads",
                {
                    **ok(
                        "Created (Location); with a body (creation-with-upload) that carried "
                        "the whole file, already validated and catalogued (MediaDesk-File-Id)",
                        json("TusUpload"),
                        201,
                        headers={**state_headers, "Location": hdr("The upload's URL")},
                    ),
                    **err(400, 401, 403, 413, 429, 500),
                    **UPLOAD_400,
                    **more(408, 412, 415, 460, 507),
                },
                params=[
                    tus_version,
                    param(
                        "Upload-Length",
                        "header",
                        {**tus_bytes, "minimum": 1},
                        "Size of the whole file (Upload-Defer-Length is not supported); more "
                        "than Tus-Max-Size (MAX_FILE_SIZE, at most the maximum here) is a 413",
                        required=True,
                    ),
                    param(
                        "Upload-Metadata",
                        "header",
                        desc="Comma-separated `key base64(value)`: filename, filetype (MIME), "
                        "file_type (image|video; else from the content), athlete_id, "
                        "is_public (true|false), description; other keys (but one starting "
                        "with `_`) are kept and answered by HEAD as sent",
                    ),
                    CHECKSUM,
                ],
                body={"required": False, "content": octets},
                desc="The tus protocol (https://tus.io/protocols/resumable-upload): PATCH "
                "the bytes to Location, HEAD it to learn the offset after a break. When the "
                "last byte arrives the file is validated and catalogued like a direct upload; "
                "a refused file gets the usual 400 error and is removed. Unfinished uploads "
                "are removed MEDIADESK_TUS_EXPIRY seconds (default 24 h) after their last "
                "PATCH that stored bytes: each such PATCH moves Upload-Expires.",
                operation_id="tus_create",
            ),
        },
        "/files/upload/tus/{upload_id}": {
            "options": {
                **options,
                "operationId": "tus_options_upload",
                # tus answers the capabilities on any URL: the id is not read (nor checked)
                "parameters": [param("upload_id", "path", desc="Any upload URL's; not read")],
            },
            "head": op(
                "Offset of a tus upload",
                "uploads",
                {
                    **ok("Offset and length in the headers", headers=state_headers),
                    **err(401, 403, 404),
                    **more(410, 412, 423, 507),
                },
                params=[upload_id, tus_version],
                desc="After the last byte, MediaDesk-File-Id names the catalogued file (for "
                "another expiry period); an upload whose bytes all arrived but which is not "
                "catalogued yet (its server stopped, the disk was full) is catalogued first. "
                "While another request finishes the upload (the final PATCH, here or on "
                f"another server), HEAD waits for it (up to {HEAD_WAIT:g} s) and answers its "
                "file id; past that (a server that died while finishing it) 423, to retry "
                "later. While a PATCH writes, the offset recorded so far, at once.",
                operation_id="tus_head",
            ),
            "patch": op(
                "Append to a tus upload",
                "uploads",
                {
                    **ok(
                        "Appended; the last byte catalogues the file (MediaDesk-File-Id)",
                        status=204,
                        headers=state_headers,
                    ),
                    **err(400, 401, 403, 404, 413, 500),
                    **UPLOAD_400,
                    **more(408, 409, 410, 412, 415, 423, 460, 507),
                    "503": {
                        "description": "server_stopping: the server stopped (a restart) while "
                        "the body was arriving; every byte received is kept: HEAD, then PATCH "
                        f"from its Upload-Offset (a body of {TAKE_MIN // 2**20} MiB or more "
                        "gets no answer: its connection is closed)",
                        "content": ERROR,
                    },
                },
                params=[
                    upload_id,
                    tus_version,
                    param(
                        "Upload-Offset",
                        "header",
                        tus_bytes,
                        "Must equal the bytes received (HEAD); any other is a 409",
                        required=True,
                    ),
                    CHECKSUM,
                ],
                body={"required": True, "content": octets},
                desc="A body cut short keeps the bytes that arrived (unless Upload-Checksum "
                "was sent). 413 when the bytes go past Upload-Length. A body of "
                f"{TAKE_MIN // 2**20} MiB or more (Content-Length, plain HTTP) is read straight "
                "from the connection, which is closed after the answer (`Connection: close`).",
                operation_id="tus_patch",
            ),
            "delete": op(
                "Terminate a tus upload",
                "uploads",
                {
                    **ok("Terminated; its bytes are removed", status=204),
                    **err(401, 403, 404),
                    **more(412, 423),
                    **terminate_full,
                },
                params=[upload_id, tus_version],
                operation_id="tus_delete",
            ),
        },
        "/files/{file_id}/upload/parts": {
            "get": op(
                "Parts the bucket holds for an upload in parts",
                "uploads",
                {
                    **ok(
                        "The stored parts (resume by uploading the others)",
                        json("UploadParts"),
                        headers=NO_STORE,
                    ),
                    **err(400, 401, 403, 409, 500),
                    **PRESIGN_404,
                    "410": parts_gone(),
                },
                params=[FID],
                desc="409 when the file has no upload in progress or it is a single PUT.",
                operation_id="list_upload_parts",
            )
        },
        "/files/{file_id}/upload/renew": {
            "post": op(
                "Fresh upload URLs for a pending upload",
                "uploads",
                {
                    **ok(
                        "A new single PUT URL, or URLs of the parts still missing (or those "
                        "asked for); the pending upload's deadline moves too",
                        json("RenewedUpload"),
                        headers=NO_STORE,
                    ),
                    **err(400, 401, 403, 409, 500),
                    **PRESIGN_404,
                    "410": parts_gone(
                        " (the bucket is asked which parts it holds, also when "
                        "part_numbers are given)"
                    ),
                },
                params=[FID],
                body={"required": False, "content": json("RenewRequest")},
                desc="Works on an upload whose URL already expired (until maintenance removes "
                "it). 409 when the file is not pending.",
                operation_id="renew_upload",
            )
        },
    }


PATHS.update(_resumable_paths())
PATHS["/files/{file_id}/confirm-upload"]["post"]["requestBody"] = {
    "required": False,
    "content": json("ConfirmParts"),
}
PATHS["/files/{file_id}/confirm-upload"]["post"]["description"] = (
    "An upload in parts is completed first (the client's ETags or the bucket's list); "
    "missing parts are a 400 upload_not_received with details.missing_parts (upload them and "
    "confirm again), parts of the wrong size abort the upload. A repeat of a confirm that "
    "failed answers 409 with the failure in words and its code as the reason."
)

# The video pipeline's operations and the fields it adds to StreamInfo (issue 10)
from server.openapi_video import install as _install_video  # noqa: E402

_install_video(PATHS, SCHEMAS)
