"""Streaming routes: /stream/{id}/video|image|raw with RFC 9110 ranges, and /info."""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial

from aiohttp import web

from core.jobs import JobRecord, current_derivatives
from core.mediatypes import FileKind
from core.records import FileRecord
from core.storage.disposition import content_disposition
from core.thumbnails import MAX_VARIANT_WIDTH
from core.video.service import choose_video, pinned_video, renditions, waited_on
from server.auth import FILE, ensure_file_access, requires
from server.caching import (
    UNVERSIONED_MAX_AGE,
    file_cache_control,
    is_versioned,
    versioned_link,
)
from server.errors import ApiError
from server.openapi_schemas import STREAM_INFO_FIELDS
from server.params import as_int, file_id
from server.presenters import STREAM_KIND, format_label, processing_json, reads_job_details
from server.record_cache import local_path
from server.routes.files import public_url
from server.state import METRICS, STREAMS, TOKEN, library, run_blocking, store_blocking
from server.streaming import REMOTE_CHUNK_SIZE, stream_object
from server.video_access import (
    cache_control,
    ensure_video_access,
    file_jobs,
    grant_query,
    owner_of,
    ready_file,
    send_derived,
    send_opened,
    with_query,
)

routes = web.RouteTableDef()


async def _ready(request: web.Request, kind: str | None, action: str) -> FileRecord:
    # A duplicate's alias id: its file, under its file's rules, seen under the alias id
    record = await ready_file(request, file_id(request))
    if "sig" in request.query and request[TOKEN] is None:
        ensure_video_access(request, record, action)  # a player's signed link (file grant)
    else:
        ensure_file_access(request, record, action, request.headers.get("Range"))
    if kind is not None and record.file_type != kind:
        right = STREAM_KIND.get(record.file_type, "raw")
        raise ApiError(
            400,
            "wrong_kind",
            f"File {record.id} is of type {record.file_type}, not {kind}; "
            f"use /stream/{record.id}/{right}",
            details={"file_type": record.file_type},
        )
    return record


# A stand-in (the original while its web rendition is made) is cached this long at most, the
# web rendition's own max-age: the same URL soon serves another version
INTERIM_MAX_AGE = 60


# Retry-After of a video whose web rendition is awaited: the watch page's own /info poll
WAITING_RETRY = 5


def _waiting(record: FileRecord, jobs: list[JobRecord]) -> ApiError:
    """503 of the bare /stream/{id}/video of an MPEG-TS, AVI or WMV original while its web
    rendition is made: it sent the original, which no browser plays (a <video> failed on it
    and a camcorder's .mts was fetched for nothing). An API client reads that the video is
    being prepared, how far, and when to ask again; /raw still sends the original's bytes."""
    job = waited_on(jobs)
    label = format_label(record.content_type or "") or "this type"
    return ApiError(
        503,
        "service_unavailable",
        f"File {record.id} is being prepared for browsers (its original, {label}, plays in "
        f"none); ask again after Retry-After, or GET /stream/{record.id}/raw for the original",
        headers={"Retry-After": str(WAITING_RETRY)},
        reason="not_ready",
        details={
            "kind": "web",
            "state": str(job.state) if job else None,
            "job_id": job.id if job else None,
            "progress": job.progress if job else None,
        },
    )


def _cache_control(request: web.Request, record: FileRecord) -> str:
    """A video's original: its URL has no content tag (a rendition may come later), so a public
    answer lives as long as any unversioned one (server/caching.py): made private or trashed,
    the file must not go on playing from shared caches for a day."""
    return cache_control(request, record, False, UNVERSIONED_MAX_AGE)


def _interim_cache_control(record: FileRecord) -> str:
    scope = "public" if record.is_public else "private"
    return f"{scope}, max-age={INTERIM_MAX_AGE}"


async def _send(
    request: web.Request,
    record: FileRecord,
    *,
    width: int | None = None,
    headers: dict[str, str] | None = None,
    cache: str | None = None,
) -> web.StreamResponse:
    lib = library(request)
    metrics = request.app[METRICS]

    def count(n: int) -> None:
        metrics.sent("stream", record.file_type, n)

    if width is not None:
        served, variant = await store_blocking(request, lib.open_variant, record, width)
        # Any asked width is served from its rung of the ladder (thumbnails.VARIANT_WIDTHS):
        # the answer says which, and names the URL of exactly these bytes
        canonical = f"/stream/{record.id}/image?w={served}"
        if is_versioned(request, record):
            canonical += f"&v={record.content_tag}"
        return await send_opened(
            request,
            record,
            variant,
            "image/webp",
            file_cache_control(request, record),
            count,
            extra_headers={"X-MediaDesk-Width": str(served), "Content-Location": canonical},
        )

    def open_file(start: int, end: int | None) -> Iterator[bytes]:
        return lib.open_range(record, start, end, REMOTE_CHUNK_SIZE)

    # Held for the whole response: a move of this file deletes the old key only after it.
    # Registered too: a trash or delete anywhere ends the response (server/live_streams.py).
    with lib.reading(record.storage_key), request.app[STREAMS].track(request, owner_of(record)):
        return await stream_object(
            request,
            size=record.size or 0,
            etag=f'"{(record.sha256 or record.storage_key)[:40]}"',
            last_modified=record.created_at,
            content_type=record.content_type or "application/octet-stream",
            local_path=await local_path(request, record),
            open_range=open_file,
            cache_control=cache or _cache_control(request, record),
            extra_headers={
                "Content-Disposition": content_disposition(record.original_filename, "inline"),
                **(headers or {}),
            },
            on_bytes=count,
            # a GET opens the object (its first read); a HEAD asks the store (a stat, a HEAD
            # request) the same question
            stat_object=partial(lib.stat, record),
        )


@routes.get("/stream/{file_id}/video")
@requires(FILE)
async def stream_video(request: web.Request) -> web.StreamResponse:
    record = await _ready(request, FileKind.VIDEO, "stream_video")
    choice = request.query.get("rendition") or None
    jobs = await file_jobs(request, record)
    asked = request.query.get("v")
    if asked is not None:
        # a pinned link (the watch page's, /info's): these bytes or 404, never a newer version
        # under it (a player's next range, sent without If-Range, would splice them on)
        get = library(request).jobs.get
        if choice == "original" or any(str(job.id) == asked for job in jobs):
            served = pinned_video(record, jobs, choice, asked, get)  # no catalog query
        else:  # a version a reprocess replaced (or none): its job is read from the catalog
            served = await run_blocking(request, pinned_video, record, jobs, choice, asked, get)
        cache: str | None = cache_control(request, record, immutable=True)
    else:
        served = choose_video(record, jobs, choice)
        if served.waiting:
            raise _waiting(record, jobs)
        cache = _interim_cache_control(record) if served.interim else None
    if served.name == "original":  # also when it stands in for a skipped rendition
        return await _send(
            request, record, headers={"X-MediaDesk-Rendition": served.name}, cache=cache
        )
    # `cache`: a pinned link's bytes never change (kept for good); a faststart copy standing in
    # while the web rendition is made is soon replaced under the bare URL (kept briefly)
    return await send_derived(
        request,
        record,
        served.key,
        served.content_type,
        etag=served.etag,
        extra_headers={
            "Content-Disposition": content_disposition(record.original_filename, "inline"),
            "X-MediaDesk-Rendition": served.name,
        },
        cache=cache,
    )


@routes.get("/stream/{file_id}/image")
@requires(FILE)
async def stream_image(request: web.Request) -> web.StreamResponse:
    record = await _ready(request, FileKind.IMAGE, "stream_image")
    width = as_int("w", request.query.get("w"), minimum=1, maximum=MAX_VARIANT_WIDTH)
    return await _send(request, record, cache=file_cache_control(request, record), width=width)


@routes.get("/stream/{file_id}/raw")
@requires(FILE)
async def stream_raw(request: web.Request) -> web.StreamResponse:
    record = await _ready(request, None, "stream_raw")
    return await _send(request, record, cache=file_cache_control(request, record))


@routes.get("/stream/{file_id}/info")
@requires(FILE)
async def stream_info(request: web.Request) -> web.Response:
    record = await _ready(request, None, "stream_info")
    kind = STREAM_KIND.get(record.file_type, "raw")
    # A private file's links are for players that cannot send the token (<video>, hls.js,
    # ffmpeg): each carries the grant /info was opened by, so none outlives it, else a fresh one
    query = grant_query(request, record)
    video = await _video_info(request, record, query)
    stream_url = video.pop("stream_url", None) or versioned_link(
        f"/stream/{record.id}/{kind}", record
    )
    return web.json_response(
        {
            **video,
            "file_id": record.id,
            **{name: getattr(record, name) for name in STREAM_INFO_FIELDS},
            "supports_range": True,
            "stream_url": with_query(str(stream_url), query),
            "raw_url": with_query(versioned_link(f"/stream/{record.id}/raw", record), query),
            "thumbnail_url": (
                with_query(versioned_link(f"/files/{record.id}/thumbnail", record), query)
                if record.has_thumbnail
                else None
            ),
            "public_url": await public_url(request, record),
        }
    )


async def _video_info(request: web.Request, record: FileRecord, query: str) -> dict[str, object]:
    """processing, renditions, hls_url, thumbnails_vtt_url, watch_url (with `query`, the grant
    of a private file); for a video also its stream_url, pinned to the version
    /stream/{id}/video sends now (without the grant: the caller adds it)."""
    out: dict[str, object] = {
        "processing": None,
        "renditions": [],
        "hls_url": None,
        "thumbnails_vtt_url": None,
        "watch_url": None,
    }
    if record.file_type != FileKind.VIDEO:
        return out
    jobs = await file_jobs(request, record)
    base = f"/stream/{record.id}"
    items = []
    for item in renditions(record, jobs):
        path = item.pop("path")
        items.append({**item, "url": with_query(f"{base}/{path}", query)})
    done = current_derivatives(jobs)
    # the bytes it names for as long as they exist: a page playing the original while the
    # faststart copy (same size, other layout) is made must not be sent the copy's ranges
    served = choose_video(record, jobs, None)
    # an original no browser plays, while its web rendition is made: the bare URL, which
    # answers 503 not_ready until that is there and then sends it
    out["stream_url"] = f"{base}/video" if served.waiting else f"{base}/video?{served.query}"
    out.update(
        # its error as GET /jobs says it to this caller (no store internals but to admins)
        processing=processing_json(jobs, reads_job_details(request[TOKEN])),
        renditions=items,
        hls_url=with_query(f"{base}/hls/master.m3u8", query) if "hls" in done else None,
        thumbnails_vtt_url=(
            with_query(f"{base}/thumbnails/thumbnails.vtt", query) if "thumbnails" in done else None
        ),
        watch_url=with_query(f"/watch/{record.id}", query),
    )
    return out
