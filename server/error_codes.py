"""Every `error.code` the API answers, with its status and when: the one list the OpenAPI
document's Error.code enum and descriptions are built from.

The codes themselves are born where they are raised (core/errors.py's classes, the server's
ApiError calls, server/errors.py's HTTP_CODES, server/protocol.py); tests/test_openapi_valid.py
scans that code and fails on one missing here, so a new code reaches the document and clients.
"""

from __future__ import annotations

from core.images import MAX_ANIMATED_PIXELS, MAX_ANIMATION_FRAME_PIXELS, MAX_WEBP_ALPHA_PIXELS
from core.metadata import MAX_PIXELS, MAX_VIDEO_PIXELS, MAX_VIDEO_SIDE
from server.protocol import MAX_FIELD_SIZE, MAX_HEAD_SIZE, MAX_METADATA_SIZE

ERROR_CODES: dict[str, str] = {
    # 400
    "bad_request": "400: the request could not be parsed (request line, headers or body)",
    "invalid_input": "400: a parameter, field or header is missing or invalid; `reason` names "
    "some causes (description_too_long, ...)",
    "unsupported_type": "400: the file's type is not one MediaDesk accepts",
    "type_mismatch": "400: the file's name or content is not of the file_type asked for "
    "(a .jpg presigned as a video)",
    "empty_file": "400: the file has no bytes",
    "corrupt_file": "400: the file is damaged or not what its type says (reason "
    "image_damaged: an image that cannot be decoded), or its picture is larger than MediaDesk "
    "takes: reason image_too_large (an image above "
    f"{MAX_PIXELS:,} pixels, an animation above {MAX_ANIMATED_PIXELS:,} or a WebP with "
    f"transparency above {MAX_WEBP_ALPHA_PIXELS:,}), animation_too_long (an animation whose "
    f"frames x width x height pass {MAX_ANIMATION_FRAME_PIXELS:,}: details frames, width, "
    "height, max_frame_pixels) or video_too_large "
    f"(a video frame above {MAX_VIDEO_PIXELS:,} pixels, 8192 x 4352, or {MAX_VIDEO_SIDE} on a "
    "side), with details width, height and max_pixels (video_too_large also max_side)",
    "size_mismatch": "400: the bytes stored are not the size announced",
    "upload_not_received": "400: confirm-upload before the bytes reached the storage",
    "wrong_kind": "400: /stream/{id}/{kind} of a file of another type (details.file_type)",
    # 401, 403
    "unauthorized": "401: the endpoint needs a token",
    "invalid_token": "401: the token is unknown or revoked, or not sent as "
    "'Authorization: Bearer <token>'",
    "forbidden": "403: not allowed",
    "insufficient_scope": "403: the token's scope is not enough for this endpoint",
    "invalid_signature": "403: a signed URL whose signature does not hold",
    "signature_expired": "403: a signed URL past its expiry",
    "content_type_mismatch": "403: a signed upload URL sent another Content-Type than it is "
    "signed for",
    "content_length_mismatch": "403: a signed upload URL sent a body of another size (its "
    "Content-Length, or a chunked body's length) than it is signed for",
    "cors_forbidden": "403: a CORS preflight from an origin not in the allowed origins",
    # 404 to 499
    "not_found": "404: no such file, athlete, token, upload or route; reason not_ready: the "
    "file is there but the HLS ladder or scrub thumbnails asked for are not made yet "
    "(details.kind hls or thumbnails, details.state the job's: queued, running, failed, "
    "skipped, cancelled, or null when none was queued; details.job_id)",
    "method_not_allowed": "405: the path does not take this method (see Allow)",
    "request_timeout": "408: no byte of the body arrived for a while",
    "conflict": "409: conflict with the current state; `reason` tells which (stale_version: "
    "a `version` the file or athlete is no longer at, details.version the current one and, "
    "for an athlete, details.athlete_id and details.name its current name; "
    "already_trashed, not_trashed, being_deleted: a restore of a file the emptying of the "
    "trash has begun to delete for good, duplicate: a PATCH of athlete_id or is_public that "
    "would make the file a second ready file of the same bytes for that athlete and "
    "is_public, details.duplicate_of naming the one it would duplicate and "
    "details.athlete_id the athlete asked for, null for none (nothing changed), "
    "athlete_exists: a name another athlete has, athlete_id_taken: an id another athlete "
    "holds, idempotency_key_reused: a presign's idempotency_key this token gave a pending "
    "upload of another size, details.file_id naming it, ...)",
    "offset_mismatch": "409: a tus PATCH whose Upload-Offset is not where this server goes on "
    "from (details.offset and the Upload-Offset header: send again from there; when the rest "
    "were received into another data folder, another server's or this one's before it moved: "
    "the bytes this server holds, on R2/S3 those in the bucket), or an upload already complete",
    "upload_gone": "410: a resumable upload expired, was refused by validation or ended "
    "(reason parts_gone: its multipart upload is no longer in the bucket)",
    "precondition_failed": "412: If-Match or If-Unmodified-Since does not hold (reason "
    "stale_version on edits)",
    "tus_version": "412: Tus-Resumable missing or not 1.0.0 (see Tus-Version)",
    "too_large": "413: larger than MAX_FILE_SIZE (files), Upload-Length (tus) or 1 MiB "
    "(forms and JSON)",
    "unsupported_media_type": "415: a tus body not sent as application/offset+octet-stream",
    "range_not_satisfiable": "416: Range outside the file",
    "locked": "423: locked",
    "upload_locked": "423: another request is writing to or finishing this resumable upload",
    "rate_limited": "429: too many uploads or failed authentications (see Retry-After)",
    "header_too_large": f"431: a header (Upload-Metadata: {MAX_METADATA_SIZE} bytes) or the "
    f"request line over {MAX_FIELD_SIZE} bytes, the headers together over {MAX_HEAD_SIZE} "
    f"bytes, too many headers, or a chunked body's trailers over {MAX_FIELD_SIZE} bytes",
    "checksum_mismatch": "460: Upload-Checksum does not match the tus chunk; it was discarded",
    "client_closed_request": "499: the client closed the connection before the answer (seen "
    "in logs and /metrics only)",
    # 5xx
    "internal_error": "500: an unexpected server error (quote the request_id)",
    "storage_unavailable": "500: the storage or the catalog cannot be used; `reason` names "
    "the cause when known, with Retry-After when the store or catalog is out, throttling or "
    "failing",
    "invalid_setting": "500: the server is not configured correctly",
    "cancelled": "500: the operation was cancelled",
    "service_unavailable": "503: the server cannot answer right now",
    "server_busy": "503: too many uploads are being received (see Retry-After)",
    "server_stopping": "503: the server stopped (a restart) while the request's body was "
    "arriving; nothing of it was kept: send it again after Retry-After",
    "catalog_upgraded": "503: a newer MediaDesk upgraded the catalog; writes wait for a "
    "restart with that version",
    "insufficient_storage": "507: the disk or quota is full; nothing was kept",
}
