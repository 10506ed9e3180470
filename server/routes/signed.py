"""This server's signed URLs: PUT uploads and GET downloads, checked and audited."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from typing import NamedTuple

from aiohttp import StreamReader, web

from core.errors import Conflict, MediaDeskError, NotFound, SizeMismatch, TooLarge
from core.ingest import UPLOAD_URL_USED
from core.mediatypes import canonical_mime
from core.records import FileRecord
from core.spool import too_large
from core.storage.disposition import content_disposition
from core.storage.signing import SignedGrant
from server.auth import SIGNED, requires
from server.bodystream import BodyStream
from server.caching import UNVERSIONED_MAX_AGE
from server.errors import ApiError
from server.state import (
    AUDIT,
    CONFIG,
    LOOKED_UP,
    METRICS,
    SIGNED_PUTS,
    STREAMS,
    THREADS,
    library,
    remote_address,
    run_blocking,
    store_blocking,
)
from server.streaming import REMOTE_CHUNK_SIZE, stream_object

logger = logging.getLogger(__name__)

# Seconds a signed PUT refused for want of a body thread is told to wait (Retry-After).
BUSY_RETRY = 2
# Seconds a signed PUT waits for the older PUT to the same URL it took the place of to end (its
# body's read is stopped at once; the storage's last step may take a moment)
SUPERSEDE_WAIT = 10.0
SUPERSEDED = "A newer upload to this URL took this one's place; only the newest is received"


class SignedPutBody:
    """A signed PUT whose body is being received: the stream its reads come from, whether a
    newer PUT to the same URL took its place, and when its handler is over (its body thread
    given back)."""

    def __init__(self, content: StreamReader) -> None:
        self.content = content
        self.superseded = False
        self.over = asyncio.Event()


async def _supersede(older: SignedPutBody) -> None:
    """Stops the body of `older`, a PUT to the same URL as this one, and waits until its
    thread is given back. One body at a time per URL: sixteen connections to one signed URL,
    each sending a byte a minute, held every body thread, and every other user's signed PUT
    answered 503 server_busy for as long as they went on. The newest is the one kept, not the
    first: a phone whose connection dropped unnoticed sends the file again at once."""
    older.superseded = True
    older.content.set_exception(ConnectionResetError(SUPERSEDED))
    try:
        await asyncio.wait_for(older.over.wait(), SUPERSEDE_WAIT)
    except TimeoutError:
        logger.warning(
            "An upload to a signed URL took %g s to stop for a newer one", SUPERSEDE_WAIT
        )


routes = web.RouteTableDef()


def _media_type(value: str | None) -> str:
    return (value or "").split(";", 1)[0].strip().lower()


def same_type(sent: str | None, signed: str) -> bool:
    """Equal media types, or two spellings of one accepted type (video/avi, video/x-msvideo)."""
    a, b = _media_type(sent), _media_type(signed)
    return a == b or (canonical_mime(a) is not None and canonical_mime(a) == canonical_mime(b))


def _wrong_size(message: str) -> ApiError:
    """A body of another size than the URL is signed for, told by its Content-Length or
    counted as it arrived."""
    return ApiError(403, "content_length_mismatch", message)


def _grant(request: web.Request, method: str) -> SignedGrant:
    return library(request).verify_signed_url(method, request.match_info["key"], request.query)


async def _refused(request: web.Request, key: str, exc: TooLarge) -> TooLarge:
    """`exc`, noted on the pending file for its confirm to answer (Uploads.refuse_put). The
    answer stays the 413 when the note cannot be written (a catalog busy or out of reach): a
    503 with Retry-After told the client to send the same oversized body again."""
    try:
        await run_blocking(request, library(request).uploads.refuse_put, key, exc)
    except MediaDeskError as failed:
        logger.warning("The refused upload at %s was not noted for its confirm: %s", key, failed)
    return exc


class CheckedPut(NamedTuple):
    grant: SignedGrant
    record: FileRecord
    limit: int  # the most bytes the body may have


# check_put's answer when it was asked before the 100 Continue (server/expect.py): the route
# takes it instead of checking the signature and reading the catalog again
CHECKED: web.RequestKey[CheckedPut] = web.RequestKey("signed_put_checked")


async def check_put(request: web.Request) -> CheckedPut:
    """Everything a signed PUT checks before its body: the signature, the Content-Type and
    Content-Length against the signed ones, the URL not used yet. Also asked before the 100
    Continue (server/expect.py): a client is not told to send a body refused for its headers."""
    # the signature's check may read the data folder's signing key (core says why)
    grant = await run_blocking(request, _grant, request, "PUT")
    lib = library(request)
    sent_type = request.headers.get("Content-Type")
    if grant.content_type and not same_type(sent_type, grant.content_type):
        sent = (
            f"not {sent_type!r}" if sent_type is not None else "but the request has no Content-Type"
        )
        raise ApiError(
            403,
            "content_type_mismatch",
            f"The URL is signed for Content-Type {grant.content_type!r}, {sent}",
        )
    limit = min(grant.max_size or lib.settings.max_file_size, lib.settings.max_file_size)
    length = request.content_length
    if length is not None and length > limit:
        raise await _refused(request, grant.key, too_large(limit))
    if grant.content_length is not None and length is not None and length != grant.content_length:
        raise _wrong_size(f"The URL is signed for {grant.content_length} bytes, not {length}")
    record = await run_blocking(request, lib.find_by_key, grant.key)
    if record is None or record.status != "pending" or record.is_trashed:
        raise Conflict(UPLOAD_URL_USED)
    return CheckedPut(grant, record, limit)


@routes.put("/signed/{key:.+}")
@requires(SIGNED)
async def signed_put(request: web.Request) -> web.Response:
    checked = request.pop(CHECKED, None)
    grant, record, limit = checked if checked is not None else await check_put(request)
    receiving = request.app[SIGNED_PUTS]
    mine = SignedPutBody(request.content)
    older = receiving.get(grant.key)
    receiving[grant.key] = mine
    try:
        if older is not None:
            await _supersede(older)
        if mine.superseded:  # a newer one came while this one waited for the older
            raise Conflict(SUPERSEDED)
        return await _receive(request, grant, record, limit, mine)
    finally:
        mine.over.set()
        if receiving.get(grant.key) is mine:
            del receiving[grant.key]


async def _receive(
    request: web.Request, grant: SignedGrant, record: FileRecord, limit: int, mine: SignedPutBody
) -> web.Response:
    lib = library(request)
    sent_type = request.headers.get("Content-Type")
    # The store's writer pulls the body from a thread for as long as the client takes to send
    # it: a thread of its own, never one of the pool's workers (server/state.py run_long)
    threads = request.app[THREADS]
    if not threads.can_run_long():
        raise ApiError(
            503,
            "server_busy",
            "Too many uploads are being received right now; send this one again shortly",
            headers={"Retry-After": str(BUSY_RETRY)},
        )
    body = BodyStream(request.content, asyncio.get_running_loop(), limit, grant.content_length)
    writing = threads.run_long(
        lib.put_object,
        grant.key,
        body,
        grant.content_type or sent_type or "application/octet-stream",
    )
    try:
        stat = await asyncio.shield(writing)
    except SizeMismatch as exc:
        # a chunked body's size is known only at its end (or once past the signed size): the
        # same refusal as a wrong Content-Length, not confirm-upload's 400 size_mismatch about
        # stored bytes; the store dropped what it had written
        raise _wrong_size(str(exc)) from None
    except TooLarge as exc:  # a chunked body past the limit: stopped there, nothing kept
        raise await _refused(request, grant.key, exc) from None
    except asyncio.CancelledError:  # the server is stopping: end the thread's read of the body
        request.content.set_exception(ConnectionResetError("The server is stopping"))
        # its outcome no longer matters: seen, so asyncio does not log it as never retrieved
        writing.add_done_callback(lambda done: done.cancelled() or done.exception())
        raise
    except Exception:
        if mine.superseded:  # its read stopped for a newer PUT to the same URL
            raise Conflict(SUPERSEDED) from None
        raise
    request.app[METRICS].received("signed_put", record.file_type, stat.size)
    return web.json_response(
        {"key": stat.key, "size": stat.size, "etag": stat.etag}, headers={"ETag": stat.etag}
    )


@routes.get("/signed/{key:.+}")
@requires(SIGNED)
async def signed_get(request: web.Request) -> web.StreamResponse:
    # after a switch to R2 the check reads the data folder's signing key (core says why)
    grant = await run_blocking(request, _grant, request, "GET")
    lib = library(request)
    request[LOOKED_UP] = time.monotonic()  # a trash heard after this ends the answer too
    record: FileRecord | None = await run_blocking(request, lib.signed_file, grant)
    if record is None:
        raise NotFound("This file is no longer available")
    # the routing storage: the bytes wherever the file now is (local, or R2 after a move)
    opened = await store_blocking(request, lib.open_object, grant.key, record)
    stat = opened.stat
    if not record.is_public:
        request.app[AUDIT].add(
            "signed-url",
            "signed_get",
            record.id,
            remote_address(request),
            request.headers.get("Range"),
        )
    headers = {}
    if grant.download_name:
        headers["Content-Disposition"] = content_disposition(grant.download_name)
    remaining = max(0, grant.expires - int(time.time()))
    metrics = request.app[METRICS]

    def count(n: int) -> None:
        metrics.sent("download", record.file_type, n)

    def open_object(start: int, end: int | None) -> Iterator[bytes]:
        return opened.open_range(start, end, REMOTE_CHUNK_SIZE)

    max_age = min(remaining, request.app[CONFIG].private_max_age)
    if grant.by_publicity:  # a file made private leaves browser caches within five minutes
        max_age = min(max_age, UNVERSIONED_MAX_AGE)
    # a move deletes the old key only after this response; a trash anywhere ends it, and so
    # does making the file private when the link was handed out for its being public
    streams = request.app[STREAMS]
    with lib.reading(grant.key), streams.track(request, record, anonymous=grant.by_publicity):
        return await stream_object(
            request,
            size=stat.size,
            etag=stat.etag,
            last_modified=stat.last_modified,
            content_type=grant.content_type or record.content_type or "application/octet-stream",
            local_path=opened.local_path,
            open_range=open_object,
            cache_control=f"private, max-age={max_age}",
            extra_headers=headers,
            on_bytes=count,
        )
