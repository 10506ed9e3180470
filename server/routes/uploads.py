"""The seed's two upload flows: presigned URL + confirm, and direct multipart upload."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from core.errors import Conflict, InvalidInput, MediaDeskError, TooLarge, UploadNotReceived
from core.ingest import log_rejected
from core.mediatypes import check_kind
from core.records import FileRecord
from core.resumable import MAX_PARTS
from core.spool import too_large
from server.auth import requires, upload_owner
from server.live_streams import BodyEnding
from server.params import (
    as_bool,
    as_id,
    as_int,
    file_id,
    optional_text,
    read_fields,
    read_optional_json,
    required,
)
from server.presenters import file_json
from server.ratelimit import check_upload_rate
from server.receive import NO_FILE_PART, Received, form_too_long, receive_form
from server.routes.files import file_body
from server.state import METRICS, STREAMS, arrival, library, run_blocking, store_blocking

logger = logging.getLogger(__name__)
routes = web.RouteTableDef()


def _count_failure(request: web.Request, flow: str, file_type: str, exc: BaseException) -> None:
    metrics = request.app[METRICS]
    if isinstance(exc, MediaDeskError):
        metrics.upload(flow, "rejected", file_type, exc.code)
    else:
        metrics.upload(flow, "failed", file_type)


async def _created(request: web.Request, flow: str, record: FileRecord) -> web.Response:
    request.app[METRICS].upload(
        flow, "duplicate" if record.duplicate else "created", record.file_type
    )
    body = await file_body(request, record)
    return web.json_response(body, status=200 if record.duplicate else 201)


@routes.post("/files/upload/presigned")
@requires("upload")
async def presigned_upload(request: web.Request) -> web.Response:
    check_upload_rate(request)
    fields = await read_fields(request, "PresignedUploadForm")
    file_type = str(fields.get("file_type", ""))
    try:
        size = as_int("size", fields.get("size"), minimum=1)
        args = dict(
            original_filename=required(fields, "original_filename"),
            file_type=required(fields, "file_type"),
            is_public=as_bool("is_public", fields.get("is_public")),
            athlete_id=as_id("athlete_id", fields.get("athlete_id")),
            content_type=optional_text(fields, "content_type") or None,
            size=size,
            description=optional_text(fields, "description") or "",
        )
        lib = library(request)
        key = optional_text(fields, "idempotency_key")
        if key:
            # the same presign again, its answer lost on the way: the upload it made
            again = await store_blocking(
                request, lib.presign_again, key, upload_owner(request), size, arrival(request)
            )
            if again is not None:
                record, answer = again
                answer["file"] = file_json(record)
                return web.json_response(answer, status=201, headers={"Cache-Control": "no-store"})
            args["idempotency_key"] = key
        parts = lib.resumable.wants_multipart(size, as_bool("multipart", fields.get("multipart")))
        started = time.perf_counter()
        # in parts straight to the bucket (core/resumable.py): a call that waits on the store
        upload, plan = await (store_blocking if parts else run_blocking)(
            request,
            lib.presign_upload,
            parts,
            arrival=arrival(request),
            owner=upload_owner(request),
            **args,
        )
    except BaseException as exc:
        _count_failure(request, "presigned", file_type, exc)
        raise
    request.app[METRICS].presign_latency.observe(time.perf_counter() - started, operation="upload")
    body = upload.as_dict()
    if plan is not None:
        body.update(plan.as_dict())
    body["file"] = file_json(upload.file)
    return web.json_response(body, status=201, headers={"Cache-Control": "no-store"})


@routes.post("/files/{file_id}/confirm-upload")
@requires("upload")
async def confirm_upload(request: web.Request) -> web.Response:
    fid = file_id(request)
    raw = await _optional_list(
        request,
        "ConfirmParts",
        "parts",
        _is_part,
        "parts must be a list of {part_number: whole number from 1 to "
        f"{MAX_PARTS}, etag: string}}",
    )
    parts = (
        None if raw is None else [{"part_number": p["part_number"], "etag": p["etag"]} for p in raw]
    )
    await _check_owner(request, fid)  # not counted: the owner's upload has not failed
    try:
        record, first = await store_blocking(
            request, library(request).uploads.confirm_upload_once, fid, parts
        )
    except (Conflict, UploadNotReceived):
        raise  # a repeat of a failed confirm, or nothing uploaded yet: no outcome to count
    except BaseException as exc:
        _count_failure(request, "presigned", await _declared_kind(request, fid), exc)
        raise
    if first:  # a file is counted once, however often its confirm is repeated
        response = await _created(request, "presigned", record)
        if library(request).storage_name != "local":  # the bytes went straight to the bucket
            request.app[METRICS].received("presigned_bucket", record.file_type, record.size or 0)
    else:
        response = web.json_response(await file_body(request, record))
    response.set_status(200)
    return response


async def _check_owner(request: web.Request, fid: int) -> None:
    """The 404 of a file that does not exist unless this request's token presigned the
    pending upload `fid` (or none did), as for a tus upload: another token, an admin's
    included, renewed its URL, PUT its own bytes and confirmed them under the owner's name."""
    owner = upload_owner(request)
    await run_blocking(request, library(request).resumable.check_presign_owner, fid, owner)


async def _optional_list(
    request: web.Request, schema: str, name: str, valid: Callable[[Any], bool], message: str
) -> list[Any] | None:
    """The list `name` of an optional JSON body of the OpenAPI schema `schema` (absent: None);
    InvalidInput(`message`) unless every item is `valid`."""
    raw = (await read_optional_json(request, schema)).get(name)
    if raw is None:
        return None
    if not isinstance(raw, list) or not all(valid(item) for item in raw):
        raise InvalidInput(message)
    return raw


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_part_number(value: Any) -> bool:
    # the document's bounds (ConfirmParts, RenewRequest): a single PUT's confirm, which reads
    # no part, took a part 10001 the document refuses
    return _is_int(value) and 1 <= value <= MAX_PARTS


def _is_part(value: Any) -> bool:
    """One `{part_number, etag}` of a confirm of an upload in parts (the client's ETags)."""
    return (
        isinstance(value, dict)
        and _is_part_number(value.get("part_number"))
        and isinstance(value.get("etag"), str)
    )


@routes.get("/files/{file_id}/upload/parts")
@requires("upload")
async def upload_parts(request: web.Request) -> web.Response:
    """The parts the bucket already holds for a pending upload in parts (to resume it)."""
    fid = file_id(request)
    await _check_owner(request, fid)
    body = await store_blocking(request, library(request).resumable.list_parts, fid)
    return web.json_response(body, headers={"Cache-Control": "no-store"})


@routes.post("/files/{file_id}/upload/renew")
@requires("upload")
async def renew_upload(request: web.Request) -> web.Response:
    """Fresh upload URLs (single PUT or parts) for a pending upload, also an expired one."""
    fid = file_id(request)
    # checked here whatever the upload's kind: a single PUT's renewal ignores the list, which
    # took [-183] there while an upload in parts refused it
    numbers = await _optional_list(
        request,
        "RenewRequest",
        "part_numbers",
        _is_part_number,
        f"part_numbers must be a list of whole numbers from 1 to {MAX_PARTS}",
    )
    # the confirm refuses a part named twice; a single PUT is one part: [99] was taken
    # there (and ignored) while an upload in parts refused it
    if numbers and len(set(numbers)) != len(numbers):
        raise InvalidInput("part_numbers must not name a part twice")
    # after the body's own checks, as for a file that does not exist; before planned_parts
    # tells another token the upload's part count
    await _check_owner(request, fid)
    if numbers:
        count = await run_blocking(request, library(request).uploads.planned_parts, fid)
        if count is not None and max(numbers) > count:
            raise InvalidInput(f"part_numbers must be between 1 and {count}")
    body = await run_blocking(
        request, library(request).resumable.renew, fid, numbers, arrival(request)
    )
    return web.json_response(body, headers={"Cache-Control": "no-store"})


async def _declared_kind(request: web.Request, fid: int) -> str:
    """The file type the presign declared (the label of a failed confirm), else unknown."""
    try:
        record = await run_blocking(request, library(request).get_file, fid)
    except Exception:  # noqa: BLE001 - only a metric label depends on it
        return "unknown"
    return record.file_type


@routes.post("/files/upload/direct")
@requires("upload")
async def direct_upload(request: web.Request) -> web.Response:
    check_upload_rate(request)
    lib = library(request)
    max_size = lib.settings.max_file_size
    refuse_unread(request, max_size)
    file_type = ""
    received = Received()
    try:
        ending = BodyEnding()
        try:
            # into `received` as it arrives: a refusal past the limit still tells the
            # file_type and file name the form declared before the file's bytes. The token
            # revoked meanwhile (by any process) stops taking it, as a tus PATCH's: the
            # upload of a leaked token went on to its end and was catalogued
            with request.app[STREAMS].receiving(request, ending.end):
                await receive_form(
                    request, max_size=max_size, tmp_dir=lib.paths.tmp_dir, into=received
                )
        except TooLarge as exc:  # the seed's validation error, as ingest logs the others
            file_type = _kind_or_empty(received.fields.get("file_type"))
            log_rejected(exc, received.filename, file_type or "unknown")
            raise
        finally:
            ending.over()  # at once: the request is not ended past its body
        fields = received.fields
        file_type = check_kind(required(fields, "file_type"))
        if received.spooled is not None:
            request.app[METRICS].received("direct", file_type, received.spooled.size)
        if received.spooled is None:
            raise InvalidInput(NO_FILE_PART)
        record = await store_blocking(
            request,
            lib.uploads.ingest,
            received.spooled,
            file_type,
            original_filename=fields.get("original_filename") or received.filename,
            athlete_id=as_id("athlete_id", fields.get("athlete_id")),
            is_public=as_bool("is_public", fields.get("is_public")),
            description=fields.get("description", ""),
            adopt=True,  # the fsynced spool file is ours: stored by a rename, not a second copy
        )
    except BaseException as exc:
        _count_failure(request, "direct", file_type, exc)
        raise
    finally:
        received.discard()
    return await _created(request, "direct", record)


def refuse_unread(request: web.Request, max_size: int) -> None:
    """Refuses at once, unread, a direct upload whose Content-Length no form of an allowed file
    reaches: reading its first parts would wait on a client that waits for the answer (under
    Expect: 100-continue, for the 100: server/expect.py asks this before sending it, and the
    route never runs). The one home of its "File validation error" line and its count, so the
    two callers cannot drift; its form unread, its type and file name are unknown."""
    if not form_too_long(request, max_size):
        return
    refused = too_large(max_size)
    log_rejected(refused, None, "unknown")
    request.app[METRICS].upload("direct", "rejected", "unknown", refused.code)
    raise refused


def _kind_or_empty(value: str | None) -> str:
    """The file_type a form declared, "" when it declared none or one MediaDesk has not."""
    try:
        return check_kind(value or "")
    except InvalidInput:
        return ""
