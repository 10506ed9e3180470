"""HLS ladder and scrub thumbnails of a video: /stream/{id}/hls/… and /stream/{id}/thumbnails/…

Playlists are rewritten as they are served so that each URL in them carries the file grant of a
private file (a player fetches them without headers); segments and the sprite are sent with
ranges like any stored object. On S3/R2 a variant playlist names its segments by direct bucket
URLs instead (presigned, or on R2_PUBLIC_DOMAIN for a public file), so players fetch them there.
"""

from __future__ import annotations

import re

from aiohttp import web

from core.errors import NotFound
from core.jobs import JobRecord, current_derivatives, newest_of_each_kind
from core.mediatypes import FileKind
from core.records import FileRecord
from core.video import service
from core.video.failures import error_for_users
from server.auth import FILE, requires
from server.params import file_id
from server.state import TOKEN, library, run_blocking
from server.video_access import (
    ensure_video_access,
    file_jobs,
    grant_query,
    grant_until,
    read_text,
    ready_file,
    send_derived,
    with_query,
)

routes = web.RouteTableDef()
PLAYLIST = "application/vnd.apple.mpegurl"
_RUNG = re.compile(r"^\d{2,4}$")
_SEGMENT = re.compile(r"^seg_\d{5}\.(ts|m4s)$")
# what each kind's 404 calls it, with the verb that agrees (it said "The thumbnails of file
# 8 is not ready" and "The hls of file 8")
_NOT_READY_SUBJECT = {
    "hls": "The HLS ladder of file {id} is",
    "thumbnails": "The scrub thumbnails of file {id} are",
}


async def _video(request: web.Request, action: str, kind: str) -> tuple[FileRecord, JobRecord]:
    """The file and the done job of `kind` to serve: the one a playlist's `v` names (its
    files outlive a newer job for the grace period), else the current one."""
    record = await ready_file(request, file_id(request))  # an alias id: its file's ladder
    ensure_video_access(request, record, action)
    if record.file_type != FileKind.VIDEO:
        raise NotFound(f"File {record.id} is not a video")
    jobs = await file_jobs(request, record)
    done = current_derivatives(jobs).get(kind)  # a reprocess under way keeps serving it
    asked = request.query.get("v")
    if asked is not None and (done is None or asked != str(done.id)):
        # a playlist of a job that a newer one replaced (the current one needs no query)
        get = library(request).jobs.get
        return record, await run_blocking(request, service.version, jobs, kind, asked, get)
    if done is not None:
        return record, done
    job = {j.kind: j for j in newest_of_each_kind(jobs)}.get(kind)
    state = job.state if job else "not queued"
    # a player's answer: the error in user terms (the stored one may name the store's internals)
    error = error_for_users(job.error, job.state, job.reason) if job else None
    said = f": {error}" if error else ""
    subject = _NOT_READY_SUBJECT.get(kind, f"The {kind} of file {{id}} is")
    message = f"{subject.format(id=record.id)} not ready ({state}{said})"
    raise service.derivative_not_ready(message, kind, job)


def _pinned(text: str, job: JobRecord) -> str:
    """Every URI line of a playlist names the job that made it (`v`): the next request of a
    player holding it reads that job's files, never a newer encode's under the same names."""
    lines = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            line = with_query(line, f"v={job.id}")
        lines.append(line)
    return "\n".join(lines) + "\n"


def _rewrite(text: str, query: str) -> str:
    """Appends the grant to every URI line of a playlist."""
    if not query:
        return text
    lines = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            line = with_query(line, query)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _playlist(request: web.Request, record: FileRecord, text: str) -> web.Response:
    body = _rewrite(text, grant_query(request, record))
    # a private playlist holds a fresh signature: never reused from a cache
    cache = "no-store" if not record.is_public else "public, max-age=60"
    return web.Response(
        text=body, content_type=PLAYLIST, headers={"Cache-Control": cache}, charset="utf-8"
    )


@routes.get("/stream/{file_id}/hls/master.m3u8")
@requires(FILE)
async def hls_master(request: web.Request) -> web.Response:
    record, job = await _video(request, "stream_hls", "hls")
    text = await read_text(request, service.derived_key(record, "hls", "master.m3u8", job.result))
    return _playlist(request, record, _pinned(text, job))


@routes.get("/stream/{file_id}/hls/{rung}/index.m3u8")
@requires(FILE)
async def hls_variant(request: web.Request) -> web.Response:
    rung = request.match_info["rung"]
    if not _RUNG.match(rung):
        raise NotFound("No such variant")
    record, job = await _video(request, "stream_hls", "hls")
    result = job.result
    if f"{rung}/index.m3u8" not in result.get("files", []):
        raise NotFound(f"File {record.id} has no {rung}p variant")
    text = await read_text(
        request, service.derived_key(record, "hls", f"{rung}/index.m3u8", result)
    )
    # On S3/R2 the player fetches the segments straight from the bucket (public-domain or
    # freshly presigned URLs): their bytes never pass through this server.
    lines = text.splitlines()
    at = [i for i, line in enumerate(lines) if line and not line.startswith("#")]
    keys = [service.derived_key(record, "hls", f"{rung}/{lines[i]}", result) for i in at]
    lib = library(request)
    # presigned to end with the grant that opened this playlist, when one did
    until = grant_until(request)
    anonymous = until is None and request[TOKEN] is None  # it may see the file while public
    links = await run_blocking(request, lib.bucket_links, keys, record.is_public, until, anonymous)
    if links is None:
        return _playlist(request, record, _pinned(text, job))
    for i, url in zip(at, links.urls, strict=True):
        lines[i] = url
    cache = "no-store" if links.signed or not record.is_public else "public, max-age=60"
    return web.Response(
        text="\n".join(lines) + "\n",
        content_type=PLAYLIST,
        headers={"Cache-Control": cache},
        charset="utf-8",
    )


@routes.get("/stream/{file_id}/hls/{rung}/{segment}")
@requires(FILE)
async def hls_segment(request: web.Request) -> web.StreamResponse:
    rung, segment = request.match_info["rung"], request.match_info["segment"]
    if not _RUNG.match(rung) or not _SEGMENT.match(segment):
        raise NotFound("No such segment")
    record, job = await _video(request, "stream_hls", "hls")
    name = f"{rung}/{segment}"
    if name not in job.result.get("files", []):
        raise NotFound(f"File {record.id} has no segment {name}")
    # only a URL naming its job (`v`, as playlists write it) names these bytes for good: a bare
    # one serves whichever job is current, a reprocess's next (cached like a rendition's URL)
    return await send_derived(
        request,
        record,
        service.derived_key(record, "hls", name, job.result),
        service.content_type_of(segment),
        immutable=request.query.get("v") == str(job.id),
    )


@routes.get("/stream/{file_id}/thumbnails/thumbnails.vtt")
@requires(FILE)
async def thumbnails_vtt(request: web.Request) -> web.Response:
    record, job = await _video(request, "stream_thumbnails", "thumbnails")
    key = service.derived_key(record, "thumbnails", "thumbnails.vtt", job.result)
    text = await read_text(request, key)
    # the sprite these cues cut, not a newer job's of another size
    query = "&".join(q for q in (f"v={job.id}", grant_query(request, record)) if q)
    text = text.replace("sprite.jpg#", f"sprite.jpg?{query}#")
    cache = "no-store" if not record.is_public else "public, max-age=60"
    return web.Response(
        text=text, content_type="text/vtt", charset="utf-8", headers={"Cache-Control": cache}
    )


@routes.get("/stream/{file_id}/thumbnails/sprite.jpg")
@requires(FILE)
async def thumbnails_sprite(request: web.Request) -> web.StreamResponse:
    record, job = await _video(request, "stream_thumbnails", "thumbnails")
    key = service.derived_key(record, "thumbnails", "sprite.jpg", job.result)
    return await send_derived(request, record, key, "image/jpeg")
