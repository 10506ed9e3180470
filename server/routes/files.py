"""File catalog routes: list, read, edit, trash/restore/delete, download links, thumbnails."""

from __future__ import annotations

import contextlib
import io
import re
import time
from collections.abc import Iterator
from typing import Any

from aiohttp import web
from PIL import Image

from core.errors import Conflict, InvalidInput, NotFound
from core.library import Library
from core.listing import Sort
from core.mediatypes import FileKind
from core.records import (
    ANY_STATUS,
    MAX_LIMIT,
    STATUS_FILTERS,
    FileQuery,
    FileRecord,
    FileStatus,
    Page,
    expiry_iso,
)
from core.settings import MAX_EXPIRY, MIN_EXPIRY
from core.storage.disposition import content_disposition
from core.thumbnails import (
    MAX_VARIANT_WIDTH,
    POSTER_WIDTH,
    THUMB_SIZE,
    is_whole_webp,
    poster_width,
)
from core.video import service
from server.auth import FILE, ensure_file_access, requires
from server.caching import UNVERSIONED_MAX_AGE, file_cache_control, is_versioned
from server.errors import ApiError
from server.params import (
    aliased,
    as_bool,
    as_id,
    as_int,
    file_id,
    opt_bool,
    read_json,
    read_optional_json,
)
from server.presenters import file_json, page_body, public_link
from server.ranges import etag_matches
from server.state import (
    METRICS,
    TOKEN,
    arrival,
    library,
    run_blocking,
    store_blocking,
)
from server.video_access import ensure_video_access, file_jobs, ready_file

routes = web.RouteTableDef()


async def load_readable(
    request: web.Request, fid: int, action: str, ready: bool = False
) -> FileRecord:
    """The file if this client may see it (anonymous: public, ready, not trashed); audited."""
    lib = library(request)
    record = await run_blocking(request, lib.get_ready if ready else lib.get_file, fid)
    if request[TOKEN] is None and (record.is_trashed or record.status != FileStatus.READY):
        raise NotFound(f"File {fid} not found")
    ensure_file_access(request, record, action)
    return record


@routes.get("/files")
@routes.get("/files/")
@requires(FILE)
async def list_files(request: web.Request) -> web.Response:
    q = request.query
    status = q.get("status") or FileStatus.READY  # empty is left out (README)
    if status not in STATUS_FILTERS:
        raise InvalidInput(f"status must be one of {', '.join(STATUS_FILTERS)}")
    trashed = as_bool(*aliased(q, "trashed", "trash"))
    is_public = opt_bool("is_public", q.get("is_public"))
    outside = False
    if request[TOKEN] is None:
        # Anonymous clients see public, ready, untrashed files only: their filters narrow
        # that set, never widen it, and one that asks for anything else leaves nothing.
        outside = is_public is False or trashed or status not in (FileStatus.READY, ANY_STATUS)
        is_public, trashed, status = True, False, FileStatus.READY
    query = FileQuery(
        athlete_id=as_id("athlete_id", q.get("athlete_id")),
        file_type=q.get("file_type") or None,
        is_public=is_public,
        status=None if status == ANY_STATUS else status,
        trashed=trashed,
        q=q.get("q", ""),
        sort=q.get("sort") or Sort.NEWEST,  # empty is left out (README)
        limit=as_int("limit", q.get("limit"), 50, minimum=1, maximum=MAX_LIMIT) or 50,
        offset=as_int("offset", q.get("offset"), 0, minimum=0) or 0,
        cursor=q.get("cursor") or None,
        content_type=q.get("content_type") or None,
    )
    if outside:
        body = page_body(Page(items=[], total=0, limit=query.limit, offset=query.offset))
    else:
        body = await run_blocking(request, _page_body, library(request), query)
    return web.Response(body=body, content_type="application/json", charset="utf-8")


def _page_body(lib: Library, query: FileQuery) -> bytes:
    return page_body(lib.list_files(query), lib)


async def public_url(request: web.Request, record: FileRecord) -> str | None:
    """public_link, reading the catalog (off the loop) only when the file is public and
    R2_PUBLIC_DOMAIN set, the only case where there can be one."""
    lib = library(request)
    if not (record.is_public and lib.settings.r2_public_domain):
        return None
    return await run_blocking(request, public_link, lib, record)


async def file_body(request: web.Request, record: FileRecord) -> dict[str, Any]:
    """file_json with urls.public."""
    return file_json(record, await public_url(request, record))


def file_etag(record: FileRecord) -> str:
    """The ETag of a file's record: its version, strong (`"4"`), what If-Match takes.

    GET answers no 304 to an If-None-Match of it: the record also shows the athlete's name
    (and urls.public), which change without the file's version, so a cache revalidating with
    it would keep a renamed athlete's old name. It is a validator of the file's own state,
    which is what an edit's precondition needs."""
    return f'"{record.version}"'


async def file_response(request: web.Request, record: FileRecord) -> web.Response:
    """The file's record (file_body) with its ETag."""
    body = await file_body(request, record)
    return web.json_response(body, headers={"ETag": file_etag(record)})


# One entity-tag of an If-Match list (RFC 9110 8.8.3): W/ when weak, its opaque text
_ENTITY_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')


_IF_MATCH_FORM = 'If-Match must be * or entity-tags as ETag gives them: "4"'


def strong_if_match(request: web.Request, form: str) -> list[str] | None:
    """The opaque texts of If-Match's strong entity-tags, None without one (or `*`: the
    resource only has to exist, RFC 9110 13.1.1); a weak tag (W/"3") is left out, as it never
    matches (If-Match compares strongly). A header that is no list of tags is a 400 saying
    `form`, what the resource's ETag looks like (a file's, an athlete's)."""
    header = request.headers.get("If-Match", "").strip()
    if header in ("", "*"):
        return None
    texts: list[str] = []
    at = 0
    while at < len(header):
        tag = _ENTITY_TAG.match(header, at)
        if tag is None:
            raise InvalidInput(form)
        at = tag.end()
        if tag.group(1) is None:
            texts.append(tag.group(2))
    return texts


def if_match_versions(request: web.Request) -> frozenset[int] | None:
    """The versions If-Match asks for, None without one (or `*`). A tag that is no version's
    ETag ("nope", "03", or a weak one) asks for nothing (an empty set, a 412). A bare number
    (3) is taken as its tag, as before tags were sent."""
    header = request.headers.get("If-Match", "").strip()
    if header and header != "*" and '"' not in header:
        try:
            bare = as_int("version", header, minimum=1)
        except InvalidInput:  # the header's fault, named as such (not a body's `version`)
            raise InvalidInput(_IF_MATCH_FORM) from None
        return frozenset() if bare is None else frozenset({bare})
    texts = strong_if_match(request, _IF_MATCH_FORM)
    if texts is None:
        return None
    return frozenset(
        int(text) for text in texts if text.isascii() and text.isdigit() and text == str(int(text))
    )


def precondition_failed(details: dict[str, object]) -> ApiError:
    """The 412 of an If-Match the file's version does not hold, on every route of a file: the
    reason and details (the current version) of the 409 a `version` in PATCH's body gets."""
    current = details.get("version")
    if current is None:  # a race lost inside the transaction (core.errors.StaleVersion)
        message = "The file was changed by someone else at the same moment; reload it"
    else:
        message = (
            f'The file is at version {current} (ETag "{current}"), which If-Match does not '
            "name (a weak tag W/... never matches); reload it and try again"
        )
    return ApiError(412, "precondition_failed", message, details=details, reason="stale_version")


async def if_match_version(request: web.Request, fid: int) -> int | None:
    """The one version If-Match asks a write of the file to find on its locked row (None
    without If-Match): several tags (or none that can match) ask for the one the file is at
    now, 412 when it is at none of them."""
    asked = if_match_versions(request)
    if asked is None:
        return None
    if len(asked) != 1:
        current = await run_blocking(request, library(request).get_file, fid)
        if current.version not in asked:
            raise precondition_failed({"version": current.version})
        asked = frozenset({current.version})
    (version,) = asked
    return version


@contextlib.contextmanager
def if_match_holds(version: int | None) -> Iterator[None]:
    """A stale_version of a write that took its version from If-Match is that precondition
    failing (RFC 9110 13.1.1): 412, as on the byte routes; a `version` in a body keeps 409."""
    try:
        yield
    except Conflict as exc:
        if version is not None and exc.reason == "stale_version":
            raise precondition_failed(exc.details) from None
        raise


@routes.get("/files/{file_id}")
@requires(FILE)
async def get_file(request: web.Request) -> web.Response:
    record = await load_readable(request, file_id(request), "metadata")
    asked = if_match_versions(request)
    if asked is not None and record.version not in asked:
        raise precondition_failed({"version": record.version})
    return await file_response(request, record)


@routes.patch("/files/{file_id}")
@requires("upload")
async def update_file(request: web.Request) -> web.Response:
    body: dict[str, Any] = await read_json(request, "FileUpdate")
    in_body = body.pop("version", None)
    from_header = await if_match_version(request, file_id(request))
    expected = from_header
    if in_body is not None:
        expected = as_int("version", in_body, minimum=1)
        if from_header is not None and from_header != expected:
            # Both name a version and they differ: the header's precondition is evaluated
            # first (RFC 9110 13.2.2): a stale If-Match is its 412 whatever the body says;
            # once it holds, the body's older version is the usual 409.
            current = await run_blocking(request, library(request).get_file, file_id(request))
            if current.version != from_header:
                raise precondition_failed({"version": current.version})
            from_header = None
    if not body:
        raise InvalidInput(
            "Send at least one of original_filename, athlete_id, is_public, description"
        )
    with if_match_holds(from_header):
        record = await run_blocking(
            request, library(request).update_file, file_id(request), body, expected
        )
    return await file_response(request, record)


def _delete_scope(request: web.Request) -> str:
    """A hard delete needs an admin token, the trash an upload one."""
    try:
        hard = as_bool("hard_delete", request.query.get("hard_delete"))
    except InvalidInput:
        return "upload"  # the route refuses the value itself, once the token may ask
    return "admin" if hard else "upload"


@routes.delete("/files/{file_id}")
@requires("upload", widened_by=_delete_scope)
async def delete_file(request: web.Request) -> web.Response:
    hard = as_bool("hard_delete", request.query.get("hard_delete"))
    fid = file_id(request)
    version = await if_match_version(request, fid)  # checked on the row the delete writes
    run = store_blocking if hard else run_blocking  # a hard delete deletes objects
    with if_match_holds(version):
        record = await run(request, library(request).delete, fid, hard, version)
    return web.json_response(
        {
            "file_id": record.id,
            "deleted": True,
            "hard_delete": hard,
            "file": await file_body(request, record),
        }
    )


@routes.post("/files/{file_id}/restore")
@requires("upload")
async def restore_file(request: web.Request) -> web.Response:
    fid = file_id(request)
    await read_optional_json(request)  # NO_BODY: an object or nothing, though no field is read
    version = await if_match_version(request, fid)  # checked on the row the restore writes
    with if_match_holds(version):
        record = await run_blocking(request, library(request).restore, fid, version)
    return await file_response(request, record)


async def _signed_get(
    request: web.Request, record: FileRecord, expires: int | None
) -> tuple[str, dict[str, Any]]:
    lib = library(request)
    started = time.perf_counter()
    # A caller without a token was let in only because the file is public: its link must not
    # outlive that (core.library.Library.presigned_get)
    signed = await run_blocking(
        request,
        lib.presigned_get,
        record.id,
        expires,
        arrival=arrival(request),
        by_publicity=request[TOKEN] is None,
    )
    request.app[METRICS].presign_latency.observe(
        time.perf_counter() - started, operation="download"
    )
    return signed.url, {
        "expires_in": signed.expires_in,
        "expires_at": expiry_iso(signed.expires_at) if signed.expires_at else None,
    }


def _redirect(url: str, record: FileRecord) -> web.Response:
    return web.Response(
        status=302,
        headers={
            "Location": url,
            "Content-Disposition": content_disposition(record.original_filename),
            "Cache-Control": "no-store",
        },
    )


def asked_expiry(request: web.Request) -> int | None:
    """`?expires_in=`, within the links' own bounds (core.settings): past 64 bits, the 400
    named the integer's limit, not 604800."""
    raw = request.query.get("expires_in")
    return as_int("expires_in", raw, minimum=MIN_EXPIRY, maximum=MAX_EXPIRY)


@routes.get("/files/{file_id}/download")
@requires(FILE)
async def download(request: web.Request) -> web.Response:
    record = await load_readable(request, file_id(request), "download", ready=True)
    # A signed GET even for a public file with R2_PUBLIC_DOMAIN: browsers ignore the
    # Content-Disposition of a 302, so only the target's own (response-content-disposition)
    # makes them save the file under its name; the bare CDN URL opened a photo inline and
    # offered its uuid key as the name. Streams and views keep the public domain.
    url, _ = await _signed_get(request, record, asked_expiry(request))
    return _redirect(url, record)


@routes.get("/files/{file_id}/presigned-url")
@requires(FILE)
async def presigned_url(request: web.Request) -> web.Response:
    record = await load_readable(request, file_id(request), "presigned_url", ready=True)
    kind = request.query.get("kind", "download")
    if kind == "watch":
        from server.routes.watch import watch_presigned

        return await watch_presigned(request, record)
    if kind != "download":
        raise InvalidInput("kind must be download or watch")
    # On R2/S3 the bucket's own presigned URL (the seed's flow: the bytes never pass through
    # this server, and the link opens wherever the bucket is reachable); nothing can take it
    # back before it expires (README). Local links are this server's, checked at each use.
    url, expiry = await _signed_get(request, record, asked_expiry(request))
    return web.json_response(
        # kind tells it from a watch answer (the spec's oneOf discriminates on it)
        {
            "file_id": record.id,
            "kind": "download",
            "url": url,
            "download_url": url,
            "method": "GET",
            **expiry,
        },
        headers={"Cache-Control": "no-store"},
    )


@routes.get("/files/{file_id}/thumbnail")
@requires(FILE)
async def thumbnail(request: web.Request) -> web.Response:
    if "sig" in request.query and request[TOKEN] is None:
        # a signed watch page's poster: the file grant that opens its video opens its picture
        record = await ready_file(request, file_id(request))
        ensure_video_access(request, record, "thumbnail")
    else:
        record = await load_readable(request, file_id(request), "thumbnail")
    asked = as_int("w", request.query.get("w"), minimum=1, maximum=MAX_VARIANT_WIDTH)
    width = None if asked is None else poster_width(asked)
    stand_in = False
    if width == POSTER_WIDTH and record.file_type != FileKind.VIDEO:
        # a photo's thumbnail is the biggest picture here for good (its bigger sizes are
        # /stream/{id}/image?w=): a grid asking every file at one width gets an answer, not a 400
        width = THUMB_SIZE
    if width == POSTER_WIDTH:
        large = service.large_poster(record, await file_jobs(request, record))
        if large is not None:
            served = await _large_poster(request, record, large)
            if served is not None:
                return served
        # made by an older version (a reprocess makes it), or lost: the thumbnail stands in,
        # never kept for good under this URL, which names the large one once it is made
        width, stand_in = THUMB_SIZE, True
    headers = _thumbnail_headers(request, record, width, stand_in)
    if etag_matches(request.headers.get("If-None-Match", ""), headers["ETag"], weak=True):
        # no X-MediaDesk-Width: the picture is not read for a 304, and a cache keeps the one
        # of the answer it revalidates (the same ETag, the same picture)
        return web.Response(status=304, headers=headers)
    thumb = await store_blocking(request, library(request).thumbnail, record.id)
    # of the file as the bytes served are: a lost thumbnail made again just now by today's
    # rendering moved its tag, and the old one would name the new picture in caches
    shown = None if width is None else _webp_width(thumb.data)
    headers = _thumbnail_headers(request, thumb.record, width, stand_in, shown)
    return web.Response(body=thumb.data, content_type="image/webp", headers=headers)


async def _large_poster(
    request: web.Request, record: FileRecord, large: service.LargePoster
) -> web.Response | None:
    """The video's large poster (`?w=` above the thumbnail's size), None when its object is
    gone or damaged (the thumbnail then stands in)."""
    # its width as its job measured it: a 304 says it too, without reading the picture
    headers = _thumbnail_headers(request, record, POSTER_WIDTH, shown=large.width)
    if etag_matches(request.headers.get("If-None-Match", ""), headers["ETag"], weak=True):
        return web.Response(status=304, headers=headers)
    try:
        data = await store_blocking(request, library(request).read_object, large.key)
    except NotFound:
        return None
    if not is_whole_webp(data):
        return None
    return web.Response(body=data, content_type="image/webp", headers=headers)


def _webp_width(data: bytes) -> int | None:
    """The width of a WebP, read without decoding its pixels; None if it cannot be read."""
    try:
        with Image.open(io.BytesIO(data), formats=["WEBP"]) as im:
            return int(im.width)
    except (OSError, ValueError):
        return None


def _thumbnail_headers(
    request: web.Request,
    record: FileRecord,
    width: int | None = None,
    stand_in: bool = False,
    shown: int | None = None,
) -> dict[str, str]:
    """ETag and caching of the thumbnail, or with `width` (`?w=` asked) of that poster, and
    which one it is. `stand_in`: the thumbnail answering for a poster not made (yet).
    `shown`: the width of the picture served, which `width` only bounds (never enlarged, a
    portrait one narrower), said when known."""
    # the content tag counts the renderings: a thumbnail made again is a new ETag
    etag = f"thumb-{record.content_tag or record.id}"
    if width == POSTER_WIDTH:
        etag += f"-w{width}"
    headers = {"ETag": f'"{etag}"', "Cache-Control": file_cache_control(request, record)}
    if stand_in and record.is_public:
        headers["Cache-Control"] = f"public, max-age={UNVERSIONED_MAX_AGE}"
    if width is not None:
        # the poster served, and the URL of exactly these bytes (the image ladder's headers)
        canonical = f"/files/{record.id}/thumbnail?w={width}"
        if is_versioned(request, record):
            canonical += f"&v={record.content_tag}"
        if shown is not None:
            headers["X-MediaDesk-Width"] = str(shown)
        headers["Content-Location"] = canonical
    return headers
