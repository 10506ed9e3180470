"""GET /watch/{id}: a small embeddable player page (hls.js from this package, never a CDN)."""

from __future__ import annotations

import html
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from core.errors import InvalidInput, NotFound
from core.jobs import current_derivatives
from core.links import sign_grant
from core.mediatypes import FileKind
from core.records import FileRecord, expiry_iso
from core.thumbnails import POSTER_WIDTH
from core.video.service import choose_video, large_poster
from server.auth import FILE, PUBLIC, requires
from server.caching import versioned_link
from server.errors import with_error_page
from server.params import file_id
from server.presenters import format_label
from server.routes.files import asked_expiry
from server.state import library, link_origin
from server.static_files import static_file, static_response
from server.video_access import (
    ensure_video_access,
    file_jobs,
    grant_query,
    ready_file,
    with_query,
)
from server.watch_page import (
    ERROR_CASES,
    PLAYER_TEXT,
    error_page,
    fill_page,
    page_language,
)

routes = web.RouteTableDef()


def watch_path(file_id: int, query: str) -> str:
    return with_query(f"/watch/{file_id}", query)


@routes.get("/watch/{file_id}")
@requires(FILE)
@with_error_page(error_page)
async def watch(request: web.Request) -> web.Response:
    record = await ready_file(request, file_id(request))  # an alias: its file, fresh
    ensure_video_access(request, record, "watch")
    if record.file_type != FileKind.VIDEO:
        raise NotFound(f"File {record.id} is not a video")
    jobs = await file_jobs(request, record)
    done = current_derivatives(jobs)
    query = grant_query(request, record)
    base = f"/stream/{record.id}"
    # the version /stream/{id}/video sends now, pinned: the page goes on playing these bytes
    # when a rendition made meanwhile replaces them there (a reload gets the new one)
    served = choose_video(record, jobs, None)
    hls_ready = "hls" in done
    thumbs_ready = "thumbnails" in done
    lang = page_language(request.headers.get("Accept-Language", ""))
    config: dict[str, Any] = {
        "file_id": record.id,
        "duration": record.duration,
        # while an original no browser plays stands in, the bare URL (/info's stream_url
        # then): the page does not load it, and reloads once /info names another version
        "video_url": with_query(
            f"{base}/video" if served.waiting else f"{base}/video?{served.query}", query
        ),
        "video_label": format_label(served.content_type),
        "hls_url": with_query(f"{base}/hls/master.m3u8", query) if hls_ready else None,
        "thumbnails_vtt_url": (
            with_query(f"{base}/thumbnails/thumbnails.vtt", query) if thumbs_ready else None
        ),
        # a stand-in (the original while the web rendition is made), which this browser may
        # not show: the page then says the video is being prepared and waits on /info for it
        "interim": served.interim,
        # that stand-in is an MPEG-TS, AVI or WMV original: no browser opens it, so the page
        # says the video is being prepared at once, fetching none of it
        "waiting": served.waiting,
        "info_url": with_query(f"{base}/info", query),
    }
    config["labels"] = PLAYER_TEXT[lang]
    config["error_cases"] = ERROR_CASES
    poster = ""
    if record.has_thumbnail:
        poster = versioned_link(f"/files/{record.id}/thumbnail", record)
        if large_poster(record, jobs) is not None:
            # sharp at the player's size; a video processed before it has only the thumbnail
            poster = with_query(poster, f"w={POSTER_WIDTH}")
        # a private file's under the page's own grant, as its video and playlists are
        poster = with_query(poster, query)
    page = fill_page(
        static_file("watch.html").decode("utf-8"),
        {
            "__TITLE__": html.escape(record.original_filename),
            # no poster="": a browser would fetch the page itself as the picture
            "__POSTER__": f' poster="{html.escape(poster)}"' if poster else "",
            # "</" cannot end the script element from inside a JSON string
            "__CONFIG__": json.dumps(config).replace("</", "<\\/"),
            "__LANG__": lang,
            "__PLAY__": html.escape(PLAYER_TEXT[lang]["play"]),
            "__SEEK__": html.escape(PLAYER_TEXT[lang]["seek"]),
            "__MUTE__": html.escape(PLAYER_TEXT[lang]["mute"]),
            "__FULLSCREEN__": html.escape(PLAYER_TEXT[lang]["fullscreen"]),
        },
    )
    return web.Response(
        text=page,
        content_type="text/html",
        charset="utf-8",
        headers={
            "Cache-Control": "no-store" if not record.is_public else "public, max-age=60",
            # embeddable in any site's iframe (the link itself is the permission)
            "Content-Security-Policy": "frame-ancestors *",
            "Referrer-Policy": "no-referrer",
            # the player's labels follow Accept-Language: a shared cache keeps each apart
            "Vary": "Accept-Language",
        },
    )


@routes.get("/static/hls.min.js")
@requires(PUBLIC)
async def hls_js(request: web.Request) -> web.Response:
    return static_response("hls.min.js", "text/javascript", "public, max-age=86400")


async def watch_presigned(request: web.Request, record: FileRecord) -> web.Response:
    """`GET /files/{id}/presigned-url?kind=watch`: the watch page's link (signed if private)."""
    if record.file_type != FileKind.VIDEO:
        raise InvalidInput("kind=watch exists for videos only")
    lib = library(request)
    expires_in = lib.check_expiry(asked_expiry(request))
    query = ""
    if not record.is_public:
        query = sign_grant(lib, record, expires_in)
    url = f"{link_origin(request)}{watch_path(record.id, query)}"
    expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
    return web.json_response(
        {
            "file_id": record.id,
            "kind": "watch",
            "url": url,
            "method": "GET",
            "expires_in": expires_in if query else None,
            "expires_at": expiry_iso(expires_at) if query else None,
        },
        headers={"Cache-Control": "no-store"},
    )
