"""tus 1.0.0 resumable uploads (https://tus.io/protocols/resumable-upload): HTTP edge only.

The state, storage and cataloguing rules live in core/resumable.py. Every answer but OPTIONS
carries `Tus-Resumable`; errors are the usual `{"error": {code, message}}` JSON with the
protocol's status codes (409 offset, 410 expired, 412 version, 413 size, 415 content type,
423 busy, with Retry-After, 460 checksum).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from email.utils import format_datetime
from typing import NamedTuple, TypeVar

from aiohttp import web

from core.ascii import whole_number
from core.errors import (
    InvalidInput,
    MediaDeskError,
    OffsetMismatch,
    TooLarge,
    UploadLocked,
    is_no_space,
    no_room,
    no_space,
    public_details,
    retry_after,
)
from core.mediatypes import BY_MIME, FILE_KINDS, canonical_mime, guess_from_name
from core.records import expiry_iso
from core.resumable import (
    CHECKSUM_ALGORITHMS,
    HEAD_WAIT,
    LOCKED_RETRY,
    TUS_EXTENSIONS,
    TUS_VERSION,
    ResumableUploads,
    TusWriter,
    UploadState,
    encode_metadata,
    parse_checksum,
    parse_metadata,
)
from core.spool import too_large
from server.auth import requires, upload_owner
from server.bodystream import ended_by_stop, idle_timed
from server.errors import (
    ApiError,
    ServerStopping,
    client_message,
    status_for,
    with_error_headers,
)
from server.live_streams import BodyEnding
from server.ratelimit import check_upload_rate
from server.rawbody import SEND_REST, can_take, take_body, until_done, whole
from server.state import METRICS, STREAMS, THREADS, library, run_blocking

logger = logging.getLogger(__name__)
routes = web.RouteTableDef()

BASE = "/files/upload/tus"
ITEM = BASE + "/{upload_id}"
OFFSET_TYPE = "application/offset+octet-stream"
FILE_ID_HEADER = "MediaDesk-File-Id"
# Bytes handed to the writer thread at once: big enough that thread hops cost little, small
# enough that a PATCH holds a few of them at most in memory (one being read, one being written,
# two being hashed).
BATCH = 2 * 1024 * 1024
# Body bytes aiohttp may buffer (twice this) when it reads the body: bodies under
# rawbody.TAKE_MIN, chunked ones, TLS. More was tried: 4 MiB took the server's RSS growth for a
# 1 GiB upload past 64 MB, for no speed.
RECV = 1024 * 1024
HEAD_POLL = 0.05
HEAD_POLL_MAX = 0.5
# A PATCH's writer opened before the 100 Continue (patch_checked), for the route to take.
_OPENED: web.RequestKey[TusWriter] = web.RequestKey("tus_opened")
# How long a PATCH or DELETE waits for the stalled request it ended to let go of the upload
# (its bytes past the recorded offset cut, its lease dropped: moments) before its 423.
ENDED_WAIT = 10.0

T = TypeVar("T")


def _uploads(request: web.Request) -> ResumableUploads:
    return library(request).resumable


def _capabilities(request: web.Request) -> dict[str, str]:
    return {
        "Tus-Resumable": TUS_VERSION,
        "Tus-Version": TUS_VERSION,
        "Tus-Max-Size": str(library(request).settings.max_file_size),
        "Tus-Extension": ",".join(TUS_EXTENSIONS),
        "Tus-Checksum-Algorithm": ",".join(CHECKSUM_ALGORITHMS),
    }


# Headers a tus request reads one value of: sent twice, the first was taken silently while
# the same values folded into one header ("10, 20") were a 400
SINGLE_HEADERS = (
    "Tus-Resumable",
    "Upload-Length",
    "Upload-Offset",
    "Upload-Metadata",
    "Upload-Checksum",
)


def _check_version(request: web.Request) -> None:
    for name in SINGLE_HEADERS:
        if len(request.headers.getall(name, ())) > 1:
            raise InvalidInput(f"Send {name} once, not in several headers")
    if request.headers.get("Tus-Resumable") != TUS_VERSION:
        raise ApiError(
            412,
            "tus_version",
            f"Send Tus-Resumable: {TUS_VERSION} (the only tus version this server speaks)",
            headers={"Tus-Version": TUS_VERSION, "Tus-Resumable": TUS_VERSION},
        )


def _state_headers(state: UploadState) -> dict[str, str]:
    headers = {
        "Tus-Resumable": TUS_VERSION,
        "Upload-Offset": str(state.offset),
        "Upload-Length": str(state.length),
        "Cache-Control": "no-store",
    }
    if any(not k.startswith("_") for k in state.metadata):
        headers["Upload-Metadata"] = encode_metadata(state.metadata)
    if state.state == "receiving":
        headers["Upload-Expires"] = format_datetime(state.expires_at, usegmt=True)
    if state.file_id is not None:
        headers[FILE_ID_HEADER] = str(state.file_id)
        if state.duplicate:
            headers["MediaDesk-Duplicate"] = "true"
    return headers


def _header_int(request: web.Request, name: str) -> int:
    # past 4,300 digits still a number, above any length or offset (413 / 409, not 400)
    value = whole_number(request.headers.get(name, "").strip(), huge=2**64)
    if value is None:
        raise InvalidInput(f"{name} must be a whole number of bytes in ASCII digits")
    return value


def _tus(
    handler: Callable[[web.Request], Awaitable[web.StreamResponse]],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """Checks Tus-Resumable; every error answer carries it too (server/errors.py renders
    them, messages cleaned of keys and endpoints as on every other route)."""

    @with_error_headers({"Tus-Resumable": TUS_VERSION, "Cache-Control": "no-store"})
    async def wrapped(request: web.Request) -> web.StreamResponse:
        _check_version(request)
        try:
            return await handler(request)
        except UploadLocked as exc:
            raise _locked(exc) from exc

    wrapped.__name__ = handler.__name__
    wrapped.__doc__ = handler.__doc__
    return wrapped


def _locked(exc: UploadLocked) -> ApiError:
    """The 423, with when to ask again (core/resumable.py says how long, by who holds it)."""
    wait = exc.details.get("retry_after")
    seconds = wait if isinstance(wait, int) else LOCKED_RETRY
    return ApiError(
        423,
        exc.code,
        exc.message,
        details={**exc.details, "retry_after": seconds},
        headers={"Retry-After": str(seconds)},
    )


def _mismatch(exc: OffsetMismatch) -> ApiError:
    """The 409 with the offset this server goes on from as `Upload-Offset` too, as tusd
    answers it: tus-js-client reads the header, not our JSON, to send again from there."""
    accepted = exc.details.get("offset")
    headers = {"Upload-Offset": str(accepted)} if isinstance(accepted, int) else {}
    return ApiError(
        status_for(exc),
        exc.code,
        client_message(exc),
        details=public_details(exc),
        headers=headers,
        reason=exc.reason,
    )


async def _taking_over(request: web.Request, hold: Callable[[], Awaitable[T]]) -> T:
    """`hold()` (a PATCH's or DELETE's hold on the upload); when a request of this process
    holds it with a body quiet for STALLED seconds (a connection gone half-open, whose client
    gave up and now resumes), that request is ended and `hold()` made again once it let go
    (tusd's lock release). A holder still receiving bytes, past its body, or in another
    process is not ended: 423 with Retry-After. Only the upload's owner does either: another
    token gets the 404 of an upload it cannot see (it ended the owner's PATCH, and the 423's
    Retry-After told it when the owner last sent a byte)."""
    upload_id = request.match_info["upload_id"]
    uploads = _uploads(request)
    try:
        return await hold()
    except UploadLocked as exc:
        await run_blocking(request, uploads.check_owner, upload_id, upload_owner(request))
        released = uploads.end_stalled(upload_id)
        if released is None:
            raise _locked(exc) from exc
    await asyncio.wait([asyncio.wrap_future(released)], timeout=ENDED_WAIT)
    try:
        return await hold()
    except UploadLocked as exc:
        raise _locked(exc) from exc


@routes.options(BASE)
@routes.options(ITEM)
@requires("public")
async def tus_options(request: web.Request) -> web.Response:
    """The server's tus capabilities (a CORS preflight is answered before this)."""
    return web.Response(status=204, headers=_capabilities(request))


async def _receive(request: web.Request, writer: TusWriter) -> tuple[UploadState, str]:
    """Streams the body into the writer; a body cut short keeps what arrived. Returns the
    upload's state and the kind its bytes are counted as (`_catalogued_kind`)."""
    received = 0

    def write(chunks: Sequence[bytes | memoryview]) -> None:
        nonlocal received
        writer.write(chunks)
        received += sum(len(c) for c in chunks)

    ending = BodyEnding()
    writer.receiving(ending.end)
    try:
        try:
            # the token revoked meanwhile (by any process) ends it as a takeover does: the
            # bytes in are kept, and the resume is refused 401 (server/live_streams.py)
            with request.app[STREAMS].receiving(request, ending.end):
                if can_take(request):  # a big body on a plain socket: past aiohttp (rawbody.py)
                    await take_body(request, write, BATCH, heard=writer.heard)
                else:
                    await _read_through_aiohttp(request, write, writer)
        finally:
            # at once, before anything else is awaited: the request is not ended past here
            ending.over()
            writer.receiving(None)
    except BaseException as exc:
        # bytes in, whatever came of them
        request.app[METRICS].received("tus", _kind_label(writer.metadata, exc), received)
        # before anything is awaited: the connection's loss, which follows a read cut short,
        # sets its own error on the body stream over the stop's
        stopped = isinstance(exc, _StoppedMidBody) or _ended_by_stop(request, exc)
        await run_blocking(request, writer.abort)
        if stopped:
            # the server's stop, which the log blamed on the client ("Client went away …
            # closed the connection mid-body") and left unanswered: 503 server_stopping, as a
            # direct or signed upload's; the bytes in are kept and the client resumes
            raise ServerStopping(
                f"The PATCH's body was ended by a stop after {received} bytes (kept)"
            ) from exc
        raise
    try:
        state = await run_blocking(request, writer.close)  # the last byte catalogues the file
    except BaseException as exc:
        request.app[METRICS].received("tus", _kind_label(writer.metadata, exc), received)
        raise
    kind = await _catalogued_kind(request, state)
    request.app[METRICS].received("tus", kind, received)
    return state, kind


class _StoppedMidBody(Exception):
    """A body read through aiohttp ended by the server's stop, told so before the bytes held
    were written (_read_through_aiohttp): the stream's error may have changed meanwhile."""


def _ended_by_stop(request: web.Request, exc: BaseException) -> bool:
    """Whether the body's read ended because the server is stopping: aiohttp sets a
    CancelledError on the body stream of the requests still open after its shutdown grace (a
    lost connection a ConnectionResetError). Read through aiohttp, that error is raised here;
    taken from the socket (rawbody), the read was cut and says the client closed it."""
    if ended_by_stop(request.content, exc):
        return True
    task = asyncio.current_task()
    return (
        isinstance(exc, ConnectionResetError)
        and isinstance(request.content.exception(), asyncio.CancelledError)
        and not (task is not None and task.cancelling())
    )


async def _read_through_aiohttp(
    request: web.Request,
    write: Callable[[Sequence[bytes | memoryview]], None],
    writer: TusWriter,
) -> None:
    """The body as aiohttp hands it over, passed on as it comes (no joining copy), a batch at
    a time; the next batch is read while a pool thread writes the previous one. The writer
    hears of each chunk that arrives, and of each batch from its hand-over to the pool to the
    end of its write (a slow disk or part upload is not a quiet client). A batch handed over
    is waited for to the end of its write, even when the request is ended meanwhile: its
    abort cuts the file back and lets the upload go to the next request, never beside it."""
    threads = request.app[THREADS]

    async def written(batch: list[bytes]) -> None:
        with writer.busy():
            await whole(threads.run(write, batch))

    pending: asyncio.Future[None] | None = None
    # up to 2×RECV of body buffered before aiohttp pauses the socket (2×64 KiB by default):
    # fewer pause/resume rounds through the event loop
    request.content.set_read_chunk_size(RECV)
    try:
        batch: list[bytes] = []
        size = 0
        while True:
            # readchunk, not readany: readany joins (copies) the chunks it finds buffered
            try:
                chunk, end_of_http_chunk = await idle_timed(request.content.readchunk(), SEND_REST)
            except BaseException as exc:
                # told before anything is awaited: the connection's loss, which follows a read
                # cut short, sets its own error on the body stream over the stop's
                stopped = _ended_by_stop(request, exc)
                # whatever ended the body early (a quiet client's 408, the client gone, the
                # server's stop, a takeover's cancel), every byte that did arrive counts, as
                # when rawbody's thread reads the body: up to BATCH of it is held here only,
                # and the client resumes from the recorded offset (the writer's abort still
                # drops the chunk when Upload-Checksum was sent, and refuses bytes past
                # Upload-Length)
                if pending is not None:
                    await whole(pending)
                    pending = None
                if batch:
                    await written(batch)
                if stopped:
                    raise _StoppedMidBody from exc
                raise
            if not chunk:
                # a chunked body's chunk ended and more may follow; but an empty body's reader
                # (aiohttp's one shared EMPTY_PAYLOAD) answers (b"", True) forever after its
                # first read, so only at_eof() tells the end
                if end_of_http_chunk and not request.content.at_eof():
                    continue
                break
            writer.heard()
            batch.append(chunk)
            size += len(chunk)
            if size >= BATCH:
                if pending is not None:
                    await whole(pending)
                pending = asyncio.ensure_future(written(batch))
                batch, size = [], 0
        if pending is not None:
            await whole(pending)
            pending = None
        if batch:
            await written(batch)
    finally:
        if pending is not None:  # the pool thread may still be on it: let it end first
            await until_done(pending)


async def _receive_counted(request: web.Request, writer: TusWriter) -> UploadState:
    """_receive, with the upload counted once in the metrics (as created, duplicate or failed)."""
    try:
        state, kind = await _receive(request, writer)
    except MediaDeskError as exc:
        if status_for(exc) in (400, 413):
            request.app[METRICS].upload(
                "tus", "rejected", _kind_label(writer.metadata, exc), exc.code
            )
        raise
    if state.file_id is not None:
        outcome = "duplicate" if state.duplicate else "created"
        request.app[METRICS].upload("tus", outcome, kind)
    return state


def _kind_label(metadata: Mapping[str, str], refusal: BaseException | None = None) -> str:
    """The kind (image, video) an upload's bytes are counted as before, or without, a file
    catalogued from them: the `file_type` the client declared, which validation holds the
    bytes to; else the kind its refusal found the bytes to be (`found_mime`: a HEIC is an
    image); else the kind of its `filetype` or its name's extension, all tus-js-client and
    Uppy send. Only a label: what is catalogued goes by the bytes (core/resumable.py)."""
    declared = (metadata.get("file_type") or "").strip().lower()
    if declared in FILE_KINDS:
        return declared
    if isinstance(refusal, MediaDeskError):
        found = str(refusal.details.get("found_mime") or "").partition("/")[0]
        if found in FILE_KINDS:
            return found
    mime = canonical_mime(metadata.get("filetype")) or guess_from_name(
        metadata.get("filename") or ""
    )
    return BY_MIME[mime].kind if mime else "unknown"


async def _catalogued_kind(request: web.Request, state: UploadState) -> str:
    """The kind of the file the upload was catalogued as, once it was (one catalog read per
    upload, at its last PATCH); before that, or should that read fail, `_kind_label`'s."""
    if state.file_id is not None:
        try:
            record = await run_blocking(request, library(request).get_file, state.file_id)
        except Exception as exc:  # noqa: BLE001 - only a metric label depends on it
            logger.debug("tus upload %s: its file's kind not read: %s", state.id, exc)
        else:
            return record.file_type
    return _kind_label(state.metadata)


class Creation(NamedTuple):
    length: int
    metadata: dict[str, str]
    has_body: bool
    checksum: tuple[str, bytes] | None


def check_creation(request: web.Request) -> Creation:
    """Everything a creation checks of its headers before its body (but the rate, counted by
    the route alone). Also asked before the 100 Continue (server/expect.py)."""
    _check_version(request)
    if "Upload-Defer-Length" in request.headers:
        raise InvalidInput("Upload-Defer-Length is not supported; send Upload-Length")
    length = _header_int(request, "Upload-Length")
    # at most a signed 64-bit integer, what the catalog holds (core.settings: MAX_FILE_SIZE_LIMIT)
    max_size = library(request).settings.max_file_size
    if length > max_size:
        raise too_large(max_size)
    meta = parse_metadata(request.headers.get("Upload-Metadata", ""))
    has_body = bool(request.content_length or request.headers.get("Transfer-Encoding"))
    if has_body and request.content_type != OFFSET_TYPE:
        raise ApiError(415, "unsupported_media_type", f"A body must be sent as {OFFSET_TYPE}")
    # before the upload exists: refused here, it would stay behind with no Location to reach it
    if (request.content_length or 0) > length:
        raise TooLarge(f"The body is longer than Upload-Length ({length} bytes)")
    checksum = None
    if has_body and "Upload-Checksum" in request.headers:
        checksum = parse_checksum(request.headers["Upload-Checksum"])
    return Creation(length, meta, has_body, checksum)


@routes.post(BASE)
@requires("upload")
@_tus
async def tus_create(request: web.Request) -> web.Response:
    """Creates an upload (tus creation); a body makes it creation-with-upload."""
    check_upload_rate(request)
    length, meta, has_body, checksum = check_creation(request)
    uploads = _uploads(request)
    owner = upload_owner(request)
    if has_body:
        # Until its writer closes, just before this answer, the upload expires within minutes
        # (core/resumable.py UNANSWERED): one whose answer never comes (a crash) has no Location
        # to resume it with, and the next maintenance removes it.
        writer = await run_blocking(request, uploads.start, length, meta, owner, checksum)
        try:
            state = await _receive_counted(request, writer)
        except Exception:
            # The error answer carries no Location: an upload left behind could never be
            # resumed or terminated by the client, only wait for maintenance.
            await _forget(request, uploads, writer.id, owner)
            raise
    else:
        state = await run_blocking(request, uploads.create, length, meta, owner)
    location = f"{request.path.rstrip('/')}/{state.id}"
    headers = _state_headers(state)
    headers["Location"] = location
    body = {
        "id": state.id,
        "location": location,
        "offset": state.offset,
        "length": state.length,
        "expires_at": expiry_iso(state.expires_at) if state.state == "receiving" else None,
        "file_id": state.file_id,
    }
    return web.json_response(body, status=201, headers=headers)


async def _forget(
    request: web.Request, uploads: ResumableUploads, upload_id: str, owner: str | None
) -> None:
    """Terminates an upload whose creation failed; what cannot be removed now (a full disk,
    an unreachable bucket) maintenance removes later."""
    try:
        await run_blocking(request, uploads.terminate, upload_id, owner)
    except Exception as exc:  # noqa: BLE001 - the creation's own error is the answer
        logger.info("Upload %s not removed after its failed creation: %s", upload_id, exc)


@routes.head(ITEM)
@requires("upload")
@_tus
async def tus_head(request: web.Request) -> web.Response:
    """The upload's offset; after the last byte also the catalogued file's id.

    Not 423 while a completion runs: tuspy takes an answer to HEAD that is not 2xx as a
    failed resume. While another request finishes the upload (here or on another server of
    the team), HEAD waits for it, up to HEAD_WAIT, and answers its file id. Past that (a
    server that died while finishing it: its lease holds for LEASE) 423, which tus-js-client
    retries later: the full offset without a file id would tell a client the upload is done
    when it is not catalogued (and the client would never ask again)."""
    uploads = _uploads(request)
    upload_id = request.match_info["upload_id"]
    owner = upload_owner(request)
    deadline = asyncio.get_running_loop().time() + HEAD_WAIT
    pause = HEAD_POLL
    while True:
        try:
            state = await run_blocking(request, uploads.resume_finish, upload_id, owner)
            break
        except UploadLocked:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise
        except Exception as exc:
            kept = await _kept(request, exc, "HEAD")
            if kept is None:
                raise
            raise kept from exc
        # Polled from the event loop, not waited for in a worker of the pool: clients that
        # lost the final PATCH's answer may all be waiting at once.
        await asyncio.sleep(min(pause, left))
        pause = min(pause * 2, HEAD_POLL_MAX)
    return web.Response(status=200, headers=_state_headers(state))


async def _kept(request: web.Request, exc: Exception, verb: str) -> ApiError | None:
    """The answer when a finish failed and kept the upload (no room to store the file, the
    store or catalog out of reach): the error, with the upload's `Upload-Offset`, the full
    length the client goes on from (an empty PATCH there, or HEAD again, finishes it once the
    disk has room). The 507 alone had no offset, and a client that resumes from HEAD's went
    back to 0 (409). A full disk met below core's translation (SQLite's "database or disk is
    full" as the finish's lease is written) is the same 507: it went out without the offset.
    A read only: None when even that fails, or for an error that is not such a failure (it
    goes as it came)."""
    if isinstance(exc, MediaDeskError):
        error = exc
    elif is_no_space(exc):
        error = no_space()
    else:
        return None
    if status_for(error) < 500:
        return None
    upload_id = request.match_info["upload_id"]
    try:
        state = await run_blocking(request, _uploads(request).get, upload_id, upload_owner(request))
    except Exception:  # noqa: BLE001 - the finish's own error is the answer
        return None
    logger.warning(
        "tus upload %s: %s could not finish it: %s: %s", upload_id, verb, error.code, exc
    )
    wait = retry_after(error)
    return ApiError(
        status_for(error),
        error.code,
        client_message(error),
        details=public_details(error),
        headers={
            **_state_headers(state),
            **({"Retry-After": str(wait)} if wait is not None else {}),
        },
        reason=error.reason,
    )


async def _open_patch(request: web.Request) -> TusWriter:
    """Everything a PATCH checks before its body: its content type, Upload-Offset against the
    bytes received, the chunk within Upload-Length; its writer, which holds the upload."""
    _check_version(request)
    if request.content_type != OFFSET_TYPE:
        raise ApiError(415, "unsupported_media_type", f"Send the bytes as {OFFSET_TYPE}")
    offset = _header_int(request, "Upload-Offset")
    checksum = None
    if "Upload-Checksum" in request.headers:
        checksum = parse_checksum(request.headers["Upload-Checksum"])
    uploads = _uploads(request)
    upload_id = request.match_info["upload_id"]
    try:
        writer = await _taking_over(
            request,
            lambda: run_blocking(
                request, uploads.writer, upload_id, offset, checksum, upload_owner(request)
            ),
        )
    except OffsetMismatch as exc:
        raise _mismatch(exc) from exc
    if request.content_length is not None and offset + request.content_length > writer.length:
        await run_blocking(request, writer.abort)
        raise TooLarge(
            f"The chunk goes past Upload-Length ({writer.length} bytes)",
            details={"length": writer.length, "offset": offset},
        )
    return writer


@contextlib.asynccontextmanager
async def patch_checked(request: web.Request) -> AsyncIterator[None]:
    """The PATCH's checks made before the 100 Continue (server/expect.py): its writer is kept
    for the route, and let go if the route never takes it (the 100 could not be sent)."""
    request[_OPENED] = await _open_patch(request)
    try:
        yield
    finally:
        unused: TusWriter | None = request.pop(_OPENED, None)
        if unused is not None:
            await run_blocking(request, unused.abort)


@routes.patch(ITEM)
@requires("upload")
@_tus
async def tus_patch(request: web.Request) -> web.Response:
    """Appends the body at Upload-Offset; the last byte validates and catalogues the file."""
    opened: TusWriter | None = request.pop(_OPENED, None)  # by patch_checked, before the 100
    writer = opened if opened is not None else await _open_patch(request)
    try:
        state = await _receive_counted(request, writer)
    except Exception as exc:
        # Only a full disk: the bytes that arrived are kept and its offset is what the client
        # goes on from (README: the final PATCH's 507 carries it, as HEAD's does). Other
        # failures go as they came: a store or catalog out of reach may hold the offset a
        # client should go on from elsewhere (HEAD's resume says it).
        full = no_room(exc)
        kept = await _kept(request, exc, "PATCH") if full else None
        if kept is None:
            raise
        raise kept from exc
    return web.Response(status=204, headers=_state_headers(state))


@routes.delete(ITEM)
@requires("upload")
@_tus
async def tus_delete(request: web.Request) -> web.Response:
    """Terminates an upload and removes its bytes (tus termination)."""
    upload_id = request.match_info["upload_id"]
    uploads, owner = _uploads(request), upload_owner(request)
    await _taking_over(request, lambda: run_blocking(request, uploads.terminate, upload_id, owner))
    return web.Response(status=204, headers={"Tus-Resumable": TUS_VERSION})
