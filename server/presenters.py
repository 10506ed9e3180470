"""JSON presenters: core records as the API returns them (aiohttp handlers live in routes/)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import orjson

from core.errors import StorageUnavailable, owes_outage_error
from core.events import ChangeEvent, EventKind
from core.feed import file_record
from core.jobs import JobRecord, JobState, combine
from core.mediatypes import BY_MIME, FileKind
from core.records import FileRecord, FileStatus, Page
from core.video.failures import error_for_users, failure_sentence
from server.caching import versioned_link

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from core.library import Library
    from core.tokens import TokenInfo

STREAM_KIND = {"image": "image", "video": "video"}

# how a container is written where its extension in capitals is not its usual name
_FORMAT_NAMES = {"webm": "WebM"}


def format_label(content_type: str) -> str:
    """The player's mode label of the file it falls back to, by what is really served: it said
    "MP4" for every one, an AVI or WMV original too. "" for a type not known as a video."""
    media = BY_MIME.get(content_type.split(";", 1)[0].strip().lower())
    if media is None or media.kind != FileKind.VIDEO:
        return ""
    return _FORMAT_NAMES.get(media.ext, media.ext.upper())


def public_link(lib: Library | None, record: FileRecord) -> str | None:
    """The file's link on R2_PUBLIC_DOMAIN (Library.public_url) while anyone may open it: a
    public ready file, not in the trash. It reads the catalog: call it off the event loop."""
    return public_links(lib, [record]).get(record.id)


def public_links(lib: Library | None, records: Sequence[FileRecord]) -> dict[int, str]:
    """public_link of a page of files, by id, in one catalog read (Library.public_urls)."""
    if lib is None:
        return {}
    return lib.public_urls(
        [r for r in records if r.status == FileStatus.READY and not r.is_trashed]
    )


def file_json(record: FileRecord, public_url: str | None = None) -> dict[str, Any]:
    """The record with its API links; `file_id` repeats `id` as the seed names it;
    `public_url` is public_link's answer (urls.public)."""
    data = record.as_dict()
    data["file_id"] = record.id
    base = f"/files/{record.id}"
    urls: dict[str, str | None] = {"self": base}
    if record.status == FileStatus.READY:
        if not record.is_trashed:
            # the trash serves none of the file's bytes (404 until a restore): listed, they
            # were links that never answered; its thumbnail still shows in the trash view
            kind = STREAM_KIND.get(record.file_type, "raw")
            stream = f"/stream/{record.id}/{kind}"
            # the content tag lets them be cached for good (server/caching.py); a video's
            # stream URL serves renditions that come later, so it goes without
            urls["stream"] = stream if kind == "video" else versioned_link(stream, record)
            urls["raw"] = versioned_link(f"/stream/{record.id}/raw", record)
            urls["download"] = f"{base}/download"
        urls["thumbnail"] = (
            versioned_link(f"{base}/thumbnail", record) if record.has_thumbnail else None
        )
        urls["public"] = public_url
    data["urls"] = urls
    return data


def page_body(page: Page, lib: Library | None = None) -> bytes:
    """GET /files/'s body, encoded in the worker thread that read the page: on the event loop,
    json.dumps of 50 records took ~1 ms of every other request's time; orjson takes a tenth."""
    public = public_links(lib, page.items)
    return orjson.dumps(
        {
            "items": [file_json(r, public.get(r.id)) for r in page.items],
            "total": page.total,
            "limit": page.limit,
            "offset": page.offset,
            "next_cursor": page.next_cursor,
        }
    )


def reads_job_details(token: TokenInfo | None) -> bool:
    """Whether a caller reads a job's `error` as stored: an admin token, as /health names the
    bucket and the endpoint to it alone. The stored words name the store's endpoint, bucket
    and keys (what the log has); every other caller reads error_for_users' sentence."""
    return token is not None and token.scope == "admin" and token.active


def _told(job: JobRecord, detailed: bool) -> JobRecord:
    if detailed:
        return job
    return replace(job, error=error_for_users(job.error, job.state, job.reason))


def job_json(job: JobRecord, detailed: bool) -> dict[str, Any]:
    """A job as GET /jobs answers it: `error` as stored for `detailed` (reads_job_details)."""
    return _told(job, detailed).as_dict()


def processing_json(jobs: Sequence[JobRecord], detailed: bool) -> dict[str, Any] | None:
    """A file's combined processing state (/stream/{id}/info's `processing`), its `error` made
    of its jobs' as job_json says them."""
    state = combine([_told(j, detailed) for j in jobs])
    return state.as_dict() if state else None


def event_body(event: ChangeEvent, lib: Library | None) -> dict[str, Any]:
    """An event as /events sends it: a file's `file` is its record as GET /files/{id} answers
    it (file_json: `file_id`, `urls`), the spec's File; the other kinds' as the feed has them.
    Called off the event loop (the feed's thread, a replay's worker): urls.public may read the
    catalog."""
    body = event.as_dict()
    record = file_record(event)
    if record is not None:
        public = None
        if event.kind != EventKind.DELETED:  # a deleted file has no link any more
            try:
                public = public_link(lib, record)
            except StorageUnavailable as exc:
                # the event goes out all the same (a lost event is a client out of step for
                # good); GET /files/{id} reads the link once the catalog answers. In the
                # feed's thread (EventHub), nobody else tells a failure met first: the
                # episode's one ERROR line (dropped, the outage had none)
                if owes_outage_error(exc):
                    cause = exc.cause or exc.message
                    logger.error("Event sent without its file's public link: %s", cause)
                public = None
        body["file"] = file_json(record, public)
    return body


def event_json(kind: str, data: str, detailed: bool) -> str:
    """An event's JSON as /events sends it to a caller: a `processing` event's job and combined
    state with their errors as job_json and processing_json say them (its `reasons` name the
    code of each failed kind processing.error lists, in its order)."""
    if detailed or kind != EventKind.PROCESSING:
        return data
    event = orjson.loads(data)
    body = event.get("file") or {}
    job = body.get("job")
    if job and job.get("error"):
        job["error"] = error_for_users(job["error"], job["state"], job.get("reason"))
    state = body.get("processing")
    if state and state.get("error") and state.get("state") != JobState.SKIPPED:
        reasons = state.get("reasons") or {}
        said = [f"{kind}: {failure_sentence(r)}" for kind, r in reasons.items()]
        state["error"] = "; ".join(said) or failure_sentence(None)
    return orjson.dumps(event).decode()
