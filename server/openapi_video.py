"""OpenAPI paths and schemas of the video pipeline (jobs, HLS, thumbnails, watch page)."""

from __future__ import annotations

from typing import Any

from core.deferred import REPLACED_GRACE_SECONDS
from core.jobs import FAILURE_REASONS, KINDS, MAX_LIMIT, SKIP_REASONS, STATES
from server.openapi_schemas import (
    ABSOLUTE_URL,
    BOOL,
    DATE,
    EXPIRES_AT,
    ID,
    INT,
    INT64_MAX,
    NUM,
    RELATIVE,
    RELATIVE_URL,
    STR,
    nullable,
    obj,
    ref,
)

S = dict[str, Any]

JOB_STATE = {"type": "string", "enum": list(STATES)}
PROCESSING_STATE = {"type": "string", "enum": list(STATES)}
REASON = {"type": ["string", "null"], "enum": [*SKIP_REASONS, *FAILURE_REASONS, None]}

VIDEO_SCHEMAS: dict[str, S] = {
    "Job": obj(
        ["id", "kind", "file_id", "state", "progress", "attempts", "created_at"],
        id=INT,
        kind={"type": "string", "enum": list(KINDS)},
        file_id=INT,
        state=JOB_STATE,
        progress={"type": "number", "minimum": 0, "maximum": 1},
        attempts=INT,
        error=nullable(
            "string",
            description="Why it failed, was skipped or was cancelled, in English. To an admin "
            "token, the words the log has (they may name the storage endpoint, the bucket and "
            "an object's key, never a local path); to any other caller, a failure is one "
            "sentence for its reason, in user terms; a skip or a cancel says its own words",
        ),
        reason={
            **REASON,
            "description": "Why a skipped job did not apply (" + ", ".join(SKIP_REASONS) + ") "
            "or why a failed job failed (" + ", ".join(FAILURE_REASONS) + "; also on a job "
            "queued again after a failed attempt), as a stable code to translate; error says "
            "it in English. null otherwise, and for a failure recorded before the codes",
        },
        created_at=DATE,
        started_at=nullable("string", format="date-time"),
        finished_at=nullable("string", format="date-time"),
    ),
    "JobList": obj(["items", "total"], items={"type": "array", "items": ref("Job")}, total=INT),
    # A photo's reprocess: the video's JobList with no job (its images are made already)
    "PhotoReprocessed": obj(
        ["items", "total", "file"],
        items={"type": "array", "maxItems": 0, "items": ref("Job")},
        total={"type": "integer", "const": 0},
        file={**ref("File"), "description": "The photo as it is after: its images made again"},
    ),
    "Processing": obj(
        ["state", "progress"],
        state=PROCESSING_STATE,
        progress={"type": "number", "minimum": 0, "maximum": 1},
        error=nullable(
            "string",
            description="The failed (or, all skipped, the skipped) jobs' errors, each as "
            "'kind: error', as Job.error says them to this caller: the stored words to an admin "
            "token only",
        ),
        reasons={
            "type": "object",
            "additionalProperties": REASON,
            "description": "The reason code (as Job.reason) of each job kind error names",
        },
    ),
    "Rendition": obj(
        ["name", "content_type", "url"],
        name={
            "type": "string",
            "description": "original, faststart, web, or an HLS rung such as 720p",
        },
        width=nullable("integer", description="As shown: after the video's rotation"),
        height=nullable("integer", description="As shown: after the video's rotation"),
        bit_rate=nullable("integer"),
        content_type=nullable("string"),
        url={
            **RELATIVE_URL,
            "description": "Usable as is: a private file's URL carries a short-lived "
            f"signature. {RELATIVE}",
        },
    ),
    "WatchUrl": obj(
        ["url", "kind"],
        file_id=INT,
        kind={"type": "string", "enum": ["watch"]},
        url={**ABSOLUTE_URL, "description": "Absolute, on the origin of a download link"},
        method=STR,
        expires_in=nullable("integer"),
        expires_at={**EXPIRES_AT, **nullable("string")},
    ),
}

# Added to StreamInfo (server/openapi_schemas.py)
STREAM_INFO_VIDEO: dict[str, S] = {
    "processing": {
        "oneOf": [ref("Processing"), {"type": "null"}],
        "description": "Combined state of the video's jobs; null for images",
    },
    "renditions": {"type": "array", "items": ref("Rendition")},
    "hls_url": nullable(
        "string",
        format="uri-reference",
        description=f"The HLS master playlist, once made. {RELATIVE}",
    ),
    "thumbnails_vtt_url": nullable(
        "string", format="uri-reference", description=f"WebVTT scrub thumbnails track. {RELATIVE}"
    ),
    "watch_url": nullable(
        "string",
        format="uri-reference",
        description="The /watch page (signed when private). "
        f"{RELATIVE} (GET /files/{{id}}/presigned-url?kind=watch answers it absolute)",
    ),
}


def _paths() -> dict[str, S]:
    from server.openapi_paths import (
        ACCESS_TOKEN,
        BYTES,
        FID,
        NO_BODY,
        NO_STORE,
        RANGE_HEADERS,
        cache_control,
        err,
        file_grant,
        json,
        ok,
        op,
        param,
        refused,
    )

    job_id = param("job_id", "path", ID)
    # server/routes/hls.py: a private file's playlist carries fresh signatures
    listed = cache_control(
        "`no-store` for a private file (or a playlist whose links are signed); "
        "`public, max-age=60` for a public one"
    )
    grant = file_grant()
    playlist = {"application/vnd.apple.mpegurl": {"schema": STR}}
    hours = int(REPLACED_GRACE_SECONDS // 3600)
    job_version = param(
        "v",
        schema=ID,
        desc="The processing job that made the playlist naming this URL (MediaDesk writes it "
        f"into every playlist URI). Its files are served until {hours} hours after a newer job "
        "(a reprocess) replaced them, then 404: fetch the playlists again. Without it, the "
        "current job's.",
    )
    not_ready = (
        "404 until the video's job has made it: not_found with reason not_ready, details.kind "
        "(hls or thumbnails), details.state (the job's, null when none was queued) and "
        "details.job_id (see processing in /stream/{id}/info). "
        "Private files: a read token, or the signed link's exp and sig."
    )
    # server/routes/hls.py: one status for both, the reason tells them apart
    missing = refused(
        404,
        "not_found: no such file, or nothing of this name made by the job (or by the job `v` "
        "names); reason not_ready: the video's job has not made it yet (details.kind, "
        "details.state, details.job_id)",
    )
    return {
        "/jobs": {
            "get": op(
                "Processing jobs",
                "admin",
                {**ok("Newest first", json("JobList"), headers=NO_STORE), **err(400, 401, 403)},
                params=[
                    param("state", schema=JOB_STATE),
                    param("file_id", schema=ID),
                    param("limit", schema={"type": "integer", "minimum": 1, "maximum": MAX_LIMIT}),
                    param("offset", schema={"type": "integer", "minimum": 0, "maximum": INT64_MAX}),
                ],
                desc="Finished jobs are kept for MEDIADESK_TRASH_RETENTION_DAYS.",
                operation_id="list_jobs",
            )
        },
        "/jobs/{job_id}": {
            "get": op(
                "One job",
                "admin",
                {**ok("The job", json("Job"), headers=NO_STORE), **err(400, 401, 403, 404)},
                params=[job_id],
                operation_id="get_job",
            )
        },
        "/jobs/{job_id}/cancel": {
            "post": op(
                "Cancel a job",
                "admin",
                {
                    **ok("Cancelled (it was queued)", json("Job")),
                    **ok(
                        "Cancel asked: the worker stops the encode within a second",
                        json("Job"),
                        202,
                    ),
                    **err(400, 401, 403, 404, 409),
                },
                params=[job_id],
                desc="409 when the job has already finished. Nothing half-made is kept.",
                body=NO_BODY,
                operation_id="cancel_job",
            )
        },
        "/jobs/{job_id}/retry": {
            "post": op(
                "Retry a failed or cancelled job",
                "admin",
                {**ok("Queued again", json("Job"), 202), **err(400, 401, 403, 404, 409)},
                params=[job_id],
                desc="409 unless the job failed or was cancelled.",
                body=NO_BODY,
                operation_id="retry_job",
            )
        },
        "/files/{file_id}/reprocess": {
            "post": op(
                "Process a file again: a video's jobs queued, a photo's images made",
                "admin",
                {
                    **ok("A photo: its images made again (no job)", json("PhotoReprocessed")),
                    **ok("A video: the new jobs", json("JobList"), 202),
                    **err(400, 401, 403, 404),
                },
                params=[FID],
                desc="A video: its active jobs are cancelled and fresh ones queued (after a "
                "change of MEDIADESK_HLS_LADDER, say), answered at once (202) without reading "
                "the original; its thumbnails job also reads the video's metadata again. A "
                "photo: its thumbnail and stored ?w= variants are made again now from its "
                "original, by today's rendering, and its metadata read again, as `mediadesk "
                "reprocess ID` does (200, with no job and the file as it is after; its content "
                "tag, the `v` of its links and its thumbnail's ETag, is a new one, so no cache "
                "keeps the old images; a photo that cannot be decoded keeps its images and its "
                "tag). What a person edited is never changed. 400 for a file not ready; 404 for "
                "one unknown or in the trash (a video's or a photo's: restore it first), or a "
                "photo whose original is gone; 500 storage_unavailable (reason object_damaged) "
                "for a photo whose stored original is not the recorded size (nothing is made "
                "again); 507 when the store has no room for a photo's images (the old ones "
                "stay).",
                body=NO_BODY,
                operation_id="reprocess_file",
            )
        },
        "/stream/{file_id}/hls/master.m3u8": {
            "get": op(
                "HLS master playlist",
                "streaming",
                {
                    **ok("Master playlist", playlist, headers=listed),
                    **err(400, 401, 403, 404),
                    **missing,
                },
                params=[FID, ACCESS_TOKEN, *grant],
                desc="One variant per rung of MEDIADESK_HLS_LADDER at or below the source, with "
                "the measured peak BANDWIDTH, RESOLUTION and CODECS. Every URL in it carries a "
                "private file's grant: the one this request was signed with (the links end "
                f"with it), else a fresh one. {not_ready}",
                operation_id="hls_master",
            )
        },
        "/stream/{file_id}/hls/{rung}/index.m3u8": {
            "get": op(
                "HLS variant playlist (VOD)",
                "streaming",
                {
                    **ok("Variant playlist", playlist, headers=listed),
                    **err(400, 401, 403, 404),
                    **missing,
                },
                params=[
                    FID,
                    param("rung", "path", {"type": "string", "pattern": "^[0-9]{2,4}$"}),
                    job_version,
                    ACCESS_TOKEN,
                    *grant,
                ],
                desc="Ends with #EXT-X-ENDLIST. With local storage the segment URIs are "
                "relative (this server's segment route, with a private file's grant: the one "
                "this request was signed with, else a fresh one); on S3/R2 they are absolute "
                "URLs into the bucket, so players fetch the bytes there and not through "
                "MediaDesk: on R2_PUBLIC_DOMAIN for a public file when it is set, else "
                "presigned GETs signed afresh on each fetch (then `Cache-Control: no-store`), "
                "valid until the grant this request was signed with expires (at most 7 days), "
                "else PRESIGNED_URL_EXPIRY seconds. Browser players need a CORS "
                f"rule on the bucket allowing GET from the page's origin. {not_ready}",
                operation_id="hls_variant",
            )
        },
        "/stream/{file_id}/hls/{rung}/{segment}": {
            "get": op(
                "HLS segment",
                "streaming",
                {
                    **ok("MPEG-TS segment", {"video/mp2t": BYTES}),
                    **ok("One range", {"video/mp2t": BYTES}, 206),
                    **ok("Not modified", status=304),
                    **err(400, 401, 403, 404, 416),
                    **missing,
                },
                params=[
                    FID,
                    param("rung", "path", {"type": "string", "pattern": "^[0-9]{2,4}$"}),
                    param("segment", "path", {"type": "string", "pattern": r"^seg_[0-9]{5}\.ts$"}),
                    job_version,
                    *RANGE_HEADERS,
                    ACCESS_TOKEN,
                    *grant,
                ],
                desc="Local storage only in practice: on S3/R2 the variant playlists point "
                f"players straight at the bucket (this route still answers). {not_ready} "
                f"Cache-Control: {PRIVATE}; a public file's with the current job's `v` (the "
                "playlists' URLs) `public, max-age=<public max-age>, immutable`, else "
                "`public, max-age=60`.",
                operation_id="hls_segment",
            )
        },
        "/stream/{file_id}/thumbnails/thumbnails.vtt": {
            "get": op(
                "Scrub thumbnails (WebVTT)",
                "streaming",
                {
                    **ok(
                        "Cues naming regions of the sprite",
                        {"text/vtt": {"schema": STR}},
                        headers=listed,
                    ),
                    **err(400, 401, 403, 404),
                    **missing,
                },
                params=[FID, job_version, ACCESS_TOKEN, *grant],
                desc=f"Each cue is sprite.jpg#xywh=x,y,w,h. {not_ready}",
                operation_id="thumbnails_vtt",
            )
        },
        "/stream/{file_id}/thumbnails/sprite.jpg": {
            "get": op(
                "Scrub thumbnails sprite sheet",
                "streaming",
                {
                    **ok("JPEG", {"image/jpeg": BYTES}),
                    **ok("One range", {"image/jpeg": BYTES}, 206),
                    **ok("Not modified", status=304),
                    **err(400, 401, 403, 404, 416),
                    **missing,
                },
                params=[FID, job_version, *RANGE_HEADERS, ACCESS_TOKEN, *grant],
                desc=f"{not_ready} Cache-Control: {PRIVATE}; a public file's `public, max-age=60`.",
                operation_id="thumbnails_sprite",
            )
        },
        "/watch/{file_id}": {
            "get": op(
                "Player page",
                "streaming",
                {
                    **ok(
                        "HTML page",
                        {"text/html": {"schema": STR}},
                        headers=cache_control(
                            "`no-store` for a private file (the page holds its signed links); "
                            "`public, max-age=60` for a public one"
                        ),
                    ),
                    **_error_pages(err),
                },
                params=[FID, *grant],
                desc="Plays the HLS ladder with hls.js (shipped with MediaDesk), falls back to "
                "/stream/{id}/video, shows scrub thumbnails; embeddable in an iframe. A private "
                "file needs the signed link of GET /files/{id}/presigned-url?kind=watch "
                "(401 without it, 403 when it is bad or expired); the media links in the page "
                "carry that link's grant and expire with it. A browser (Accept ranking text/html "
                "above application/json) gets its errors (all but 431) as a small HTML page "
                "with the same status, in English or Spanish by Accept-Language (lang set so), "
                "Vary: Accept, Accept-Language; other clients get the JSON error.",
                operation_id="watch_page",
            )
        },
        "/static/hls.min.js": {
            "get": op(
                "hls.js (Apache-2.0), used by the watch page",
                "streaming",
                {
                    **ok(
                        "JavaScript",
                        {"text/javascript": {"schema": STR}},
                        headers=cache_control("`public, max-age=86400`"),
                    )
                },
                operation_id="hls_js",
            )
        },
    }


# server/video_access.py private_cache_control, in words
PRIVATE = (
    "a private file's answer is `private, max-age=<seconds>` (the caller's cache only, no "
    "longer than the signed link that opened it lives)"
)

RENDITION_HEADER: S = {
    "description": "The version sent: web, faststart or original (original also when it "
    "stands in for a skipped rendition). While a better version is still being made the "
    "answer is a stand-in (original or faststart) sent with `Cache-Control: max-age=60`, "
    "so caches pick up that version once it is ready",
    "schema": {"type": "string", "enum": ["web", "faststart", "original"]},
}


def _error_pages(err: Any) -> dict[str, S]:
    """/watch's errors: JSON, or for a browser the page of server/routes/watch.py saying why."""
    from server.watch_page import ERROR_TEXT, error_case

    out: dict[str, S] = err(400, 401, 403, 404)
    for status, answer in out.items():
        if status == "431":  # refused before routing: JSON only
            continue
        codes = {"403": ("signature_expired", "invalid_signature")}.get(status, ("",))
        said = " / ".join(
            dict.fromkeys(ERROR_TEXT["en"][error_case(int(status), c)] for c in codes)
        )
        answer["description"] += f". A browser's page says: {said}"
        answer["content"] = {**answer["content"], "text/html": {"schema": STR}}
    return out


def install(paths: dict[str, S], schemas: dict[str, S]) -> None:
    """Adds the video pipeline to the document's paths and schemas."""
    schemas.update(VIDEO_SCHEMAS)
    info = schemas.get("StreamInfo")
    if info is not None:
        info.setdefault("properties", {}).update(STREAM_INFO_VIDEO)
    paths.update(_paths())
    from server.openapi_paths import param

    video = paths.get("/stream/{file_id}/video", {}).get("get")
    if video is not None:
        video.setdefault("parameters", []).append(
            param(
                "rendition",
                schema={"type": "string", "enum": ["original", "web", "faststart"]},
                desc="Default: the web rendition or faststart copy once made, else the original",
            )
        )
        video["parameters"] += [
            param(
                "v",
                desc="With `rendition`: the version of it (as in /stream/{id}/info's stream_url "
                "and the watch page): the URL then sends exactly those bytes, cached for good, "
                "or 404 once they are no longer kept. Without `v` the URL follows the current "
                "version, and a player holding it during processing may get another layout",
            ),
        ]
        # an original no browser opens (MPEG-TS, AVI, WMV) does not stand in for its web
        # rendition (server/routes/stream.py _waiting)
        video.setdefault("responses", {})["503"] = {
            "description": "service_unavailable, reason not_ready (no `rendition`): an "
            "MPEG-TS, AVI or WMV original, which no browser plays, whose web rendition is "
            "being made; `details` gives `kind` (web), its job's `state`, `job_id` and "
            "`progress`. Ask again after Retry-After seconds, or read the original at "
            "/stream/{id}/raw",
            "content": {"application/json": {"schema": ref("Error")}},
        }
        for code, answer in video.get("responses", {}).items():
            if code in ("200", "206", "304"):  # the answers about a version of the video
                answer.setdefault("headers", {})["X-MediaDesk-Rendition"] = RENDITION_HEADER
    presigned = paths.get("/files/{file_id}/presigned-url", {}).get("get")
    if presigned is not None:
        presigned.setdefault("parameters", []).append(
            param(
                "kind",
                schema={"type": "string", "enum": ["download", "watch"]},
                desc="watch: the /watch/{id} page's link (signed for a private video), on the "
                "same origin as a download link (see the description)",
            )
        )
        presigned["responses"]["200"]["content"]["application/json"]["schema"] = {
            "oneOf": [ref("SignedUrl"), ref("WatchUrl")],
            "discriminator": {
                "propertyName": "kind",
                "mapping": {
                    "download": "#/components/schemas/SignedUrl",
                    "watch": "#/components/schemas/WatchUrl",
                },
            },
        }


__all__ = ["BOOL", "NUM", "install"]
