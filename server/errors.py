"""The one error middleware: domain and HTTP errors become `{"error": {code, message}}` JSON."""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TypeVar

from aiohttp import web
from aiohttp.http_exceptions import ContentEncodingError, HttpProcessingError
from aiohttp.typedefs import Handler
from aiohttp.web_protocol import RequestPayloadError

from core import errors as core
from core.logsetup import BoundedReports, request_id_var
from core.outage import LONGEST_HANG_WINDOW
from server.state import LIBRARY, REQUEST_ID, STARTED

logger = logging.getLogger(__name__)

STATUS_BY_ERROR: dict[type[core.MediaDeskError], int] = {
    core.InvalidInput: 400,
    core.UnsupportedType: 400,
    core.TypeMismatch: 400,
    core.CorruptFile: 400,
    core.EmptyFile: 400,
    core.SizeMismatch: 400,
    core.UploadNotReceived: 400,
    core.NotFound: 404,
    core.TooLarge: 413,
    core.Conflict: 409,
    core.UploadGone: 410,
    core.UploadLocked: 423,
    core.ChecksumMismatch: 460,  # tus checksum extension
    # The seed: "500: Error de storage o servidor"; the code tells the two apart.
    core.StorageUnavailable: 500,
    # core.StorageNotAsked (not sent to a store found hanging a moment ago) stays the seed's
    # 500, with a Retry-After: clients written to the seed read 500 as the storage's failure.
    core.InsufficientStorage: 507,  # a full disk or quota (RFC 4918), whatever was writing
    # The catalog was upgraded under this server: a 5xx like the seed's storage errors, but a
    # retry never helps until the server is restarted with the newer version.
    core.CatalogUpgraded: 503,
    core.InvalidSignature: 403,
    core.SignatureExpired: 403,
    core.SettingsError: 500,
    core.Cancelled: 500,
}
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    423: "locked",
    429: "rate_limited",
    431: "header_too_large",
    500: "internal_error",
    503: "service_unavailable",
    507: "insufficient_storage",
}
# What a client reads of a storage_unavailable, by its reason (core.errors.UNAVAILABLE_REASONS;
# None: no known cause). An outage passes, and trying again later helps; a fault of the set-up
# (a bucket deleted or misnamed, wrong keys, keys without rights, a wrong endpoint) stays until
# the server's storage settings are fixed: "try again later" sent users waiting for nothing.
UNAVAILABLE_MESSAGES: dict[str | None, str] = {
    None: "The storage is not available right now; try again later",
    "storage_read_only": (
        "The server may not write in its storage folder (its disk is read-only, or the server "
        "lost the right to write there); ask the server's administrator"
    ),
    "catalog_unreachable": "The catalog (database) cannot be reached right now; try again later",
    "catalog_disk_unreachable": (
        "The disk holding the server's catalog cannot be read or written right now (a disk or "
        "mount gone); try again later"
    ),
    "catalog_read_only": (
        "The server's catalog cannot be written right now (its disk went read-only, or the "
        "server may no longer write it); reading still works; try again later"
    ),
    "catalog_busy": (
        "Another program holds the server's catalog locked (a database browser or backup tool, "
        "or a long write); try again later"
    ),
    "catalog_refused": (
        "The server's catalog (database) refuses its connection: its user name, password or "
        "database is set wrong in the server's database settings; ask the server's "
        "administrator"
    ),
    "endpoint_unreachable": "The storage cannot be reached right now; try again later",
    "storage_throttled": (
        "The storage is busy and asks for fewer requests right now; try again later"
    ),
    "storage_server_error": "The storage is failing right now; try again later",
    "endpoint_refused": (
        "The storage refuses the server's requests: its address or region is set wrong in the "
        "server's storage settings; ask the server's administrator"
    ),
    "bad_credentials": (
        "The storage refuses the server's access keys: they are wrong in the server's storage "
        "settings; ask the server's administrator"
    ),
    "no_permission": (
        "The server's access keys may not use the storage bucket; ask the server's "
        "administrator to check their permissions"
    ),
    "access_denied": (
        "The storage denies the server access: ask the server's administrator to check the "
        "access keys and their permissions"
    ),
    "bucket_missing": (
        "The storage bucket does not exist: it was deleted, or its name is wrong in the "
        "server's storage settings; ask the server's administrator"
    ),
    "object_damaged": (
        "The stored copy of this file is damaged: it is not the size the catalog records "
        "(a bad restore or a disk fault); ask the server's administrator to restore it"
    ),
    "storage_not_configured": (
        "This file is on a storage the server was started without: ask the server's "
        "administrator to restart MediaDesk with that storage's settings (saved once with "
        "`mediadesk storage migrate --save-keys`, or set in its environment)"
    ),
}
# Errors whose English message is for the log (it names storage keys, local paths or the
# storage endpoint): the client reads these sentences, the log the message and the request id.
CLIENT_MESSAGES = {
    "storage_unavailable": UNAVAILABLE_MESSAGES[None],
    "insufficient_storage": core.NO_SPACE_FOR_FILE,  # NO_SPACE_FOR_CHANGE: _for_request
    "invalid_setting": "The server is not configured correctly; ask its administrator",
    "cancelled": "The operation was cancelled",
    "catalog_upgraded": (
        "The catalog was upgraded by a newer MediaDesk while this server was running: it "
        "changes nothing until it is restarted with that version; reading still works"
    ),
}
# A storage's NotFound for an object (local, R2/S3 alike): the stored copy the row names
OBJECT_MISSING_MESSAGE = (
    "The stored copy of this file is missing, though the catalog still lists it (deleted "
    "outside MediaDesk, or a bad restore); `mediadesk maintenance` lists such files"
)
# Internals that may still sit in other messages: URLs (the S3 endpoint), storage keys, absolute
# paths, and our object file names; quoted or not.
_INTERNALS = re.compile(
    r"""['"]?(?:[a-z][a-z0-9+.-]*://[^\s'"]+"""
    r"""|(?:athletes|general|_derived)/[A-Za-z0-9._/-]+"""
    r"""|(?<![\w.])/(?:home|root|tmp|var|srv|mnt|media|opt|usr|data|run|Users)/[^\s'",;)]*"""
    r"""|\b[0-9a-f]{32}\.[a-z0-9]{2,5}\b)['"]?"""
)
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class ServerStopping(Exception):
    """A request body whose read the server ended because it is stopping (aiohttp cancels the
    body stream of the requests still open after its shutdown grace), not because the client
    went away: the client is told to send it again (503 server_stopping, Retry-After)."""


# Seconds a request cut by a stop is told to wait: a restart takes about that long.
STOPPING_RETRY = 5


class ApiError(Exception):
    """An HTTP error with our code; raised by handlers, rendered by the middleware."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
        details: Mapping[str, object] | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.headers = dict(headers or {})
        self.code = code
        self.message = message
        self.details = dict(details or {})
        self.reason = reason


def client_message(exc: core.MediaDeskError) -> str:
    """What a client may read of a domain error: no keys, paths or endpoints."""
    if exc.code == "storage_unavailable":
        return UNAVAILABLE_MESSAGES.get(exc.reason, UNAVAILABLE_MESSAGES[None])
    fixed = CLIENT_MESSAGES.get(exc.code)
    if fixed is not None:
        return fixed
    if exc.reason == core.OBJECT_MISSING:  # the storage's words name the key and backend
        return OBJECT_MISSING_MESSAGE
    return redact(exc.message)


def redact(text: str) -> str:
    clean = _INTERNALS.sub("", text)
    if clean == text:
        return text
    clean = re.sub(r"\s{2,}", " ", clean)
    clean = re.sub(r"\s+([,.;:)])", r"\1", clean).replace("()", "")
    return clean.strip().rstrip(":,; ") or "The request failed"


# The requests that send a file's bytes (direct and tus uploads, a signed PUT, a presigned
# upload's confirmation, whose check copies the file): a full disk stops saving the file. Any
# other request that meets one was saving a change.
FILE_SENDING_PATHS = ("/files/upload/direct", "/files/upload/tus", "/signed/")
FILE_SENDING_ENDINGS = ("/confirm-upload",)


def _for_request(request: web.Request, message: str) -> str:
    """A full disk's sentence as the request knows it: "the file" only where a file was sent
    (a metadata edit, trash, restore, presign or reprocess said it too)."""
    if message != core.NO_SPACE_FOR_FILE:
        return message
    path = request.path
    if path.startswith(FILE_SENDING_PATHS) or path.endswith(FILE_SENDING_ENDINGS):
        return message
    return core.NO_SPACE_FOR_CHANGE


def status_for(exc: core.MediaDeskError) -> int:
    for cls in type(exc).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


# The code of an error answer, for a page standing in for it (with_error_page)
ERROR_CODE: web.ResponseKey[str] = web.ResponseKey("error_code")


def error_response(
    status: int,
    code: str,
    message: str,
    request_id: str = "",
    *,
    details: Mapping[str, object] | None = None,
    headers: Mapping[str, str] | None = None,
    reason: str | None = None,
) -> web.Response:
    body: dict[str, object] = {"code": code, "message": message}
    if reason:
        body["reason"] = reason
    if details:
        body["details"] = dict(details)
    if request_id:
        body["request_id"] = request_id
    response = web.json_response({"error": body}, status=status, headers=headers)
    response[ERROR_CODE] = code
    return response


def _request_id(request: web.Request) -> str:
    given = request.headers.get("X-Request-ID", "")
    return given if _REQUEST_ID.match(given) else new_request_id()


def new_request_id() -> str:
    return f"{_ID_PREFIX}{next(_ID_COUNTER):08x}"


# Unique per process without a system call per request (uuid4 reads os.urandom each time).
_ID_PREFIX = secrets.token_hex(8)
_ID_COUNTER = itertools.count(1)

_PASS_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Content-Range", "Location")


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    request[STARTED] = time.perf_counter()
    rid = request[REQUEST_ID] = _request_id(request)
    request_id_var.set(rid)  # this request's task only: its log lines carry the id
    met = core.meet_catalog_failures()
    try:
        return await _answer(request, handler, rid, met)
    finally:
        _tell_swallowed(request, rid, met)


async def _answer(
    request: web.Request, handler: Handler, rid: str, met: list[core.StorageUnavailable]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except ApiError as exc:
        response = error_response(
            exc.status,
            exc.code,
            exc.message,
            rid,
            details=exc.details,
            headers=exc.headers,
            reason=exc.reason,
        )
    except core.MediaDeskError as exc:
        status = status_for(exc)
        message = _for_request(request, client_message(exc))
        said = _own_failure(exc, met)
        # this request's catalog failures are told here, or counted; one its session met first
        # and its caller carried on from (a token trusted through the outage) is the episode's
        # ERROR even when the request failed otherwise: told here, none of the lines was
        _tell_swallowed(request, rid, [down for down in met if down is not said])
        met.clear()
        if isinstance(said, core.StorageUnavailable) and said.first:
            _tell_first(request, rid, said)
        elif isinstance(said, core.StorageNotAsked):
            _tell_not_asked(request, rid, said)
        elif isinstance(said, core.StorageUnavailable) and said.known:
            _tell_known(request, rid, said)
        elif status >= 500 or message != exc.message:
            # catalog_upgraded: the guard logged the cause once as an ERROR; each refused
            # write after it is a note (ten writes made eleven ERROR lines). A catalog another
            # program held locked is a passing outage a user caused, not a fault of ours.
            # A catalog that refuses the connection (catalog_refused): the engine logged
            # PostgreSQL's words once as an ERROR, each request after is a note.
            busy = exc.reason == core.CATALOG_BUSY
            noted = isinstance(exc, core.CatalogUpgraded) or exc.reason == core.CATALOG_REFUSED
            serious = status >= 500 and not busy and not noted
            level = logging.ERROR if serious else logging.WARNING if busy else logging.INFO
            _log_failed(level, request, rid, exc)
        response = error_response(
            status,
            exc.code,
            message,
            rid,
            details=core.public_details(exc),  # a local path only in the log line above
            reason=exc.reason,
            headers=_retry_after(exc),
        )
    except web.HTTPException as exc:
        if exc.status < 400:
            raise  # redirects and other non-errors pass through
        code = HTTP_CODES.get(exc.status, f"http_{exc.status}")
        message = exc.reason if exc.status != 413 else "The request body is too large"
        response = error_response(
            exc.status,
            code,
            message,
            rid,
            headers={k: v for k, v in exc.headers.items() if k in _PASS_HEADERS},
        )
    except HttpProcessingError as exc:
        # A request body aiohttp could not parse (bad multipart part headers, broken chunked
        # encoding, a truncated body) is the client's error; handlers that read bodies turn the
        # usual cases into InvalidInput, this catches the rest.
        status = exc.code if 400 <= exc.code < 500 else 400
        response = error_response(
            status, HTTP_CODES.get(status, "bad_request"), "The request could not be parsed", rid
        )
    except RequestPayloadError as exc:
        # aiohttp's wrapper of a body it could not read as sent: a gzip or deflate body that
        # is no such thing (Content-Encoding), a chunked body broken off. The client's fault,
        # as HttpProcessingError's: was a 500 internal_error with a traceback per request.
        cause = exc.__cause__
        logger.info(
            "Unreadable request body in %s %s [%s]: %r",
            request.method,
            request.path,
            rid,
            cause or exc,
        )
        said = (
            "The request body is not encoded as its Content-Encoding says"
            if isinstance(cause, ContentEncodingError)
            else "The request body could not be read"
        )
        response = error_response(400, "bad_request", said, rid)
        response.force_close()  # the rest of the body, if any, is not read
    except ServerStopping as exc:
        logger.info("Stopping during %s %s [%s]: %s", request.method, request.path, rid, exc)
        # 503, as for a server not reached: clients send it again (the body was not kept)
        response = error_response(
            503,
            "server_stopping",
            "The server is stopping (a restart, most likely); send the request again shortly",
            rid,
            headers={"Retry-After": str(STOPPING_RETRY)},
        )
        response.force_close()
        return response
    except (ConnectionResetError, TimeoutError) as exc:
        logger.info(
            "Client went away during %s %s [%s]: %r", request.method, request.path, rid, exc
        )
        if not isinstance(exc, ConnectionResetError):
            raise
        # Answered, not raised: raised, aiohttp logs it as an error with its traceback ("Error
        # handling request") although nothing failed here. 499 as nginx logs it: nobody reads
        # this answer, but the access log and /metrics count it.
        response = error_response(
            CLIENT_CLOSED, "client_closed_request", "The client closed the connection", rid
        )
        response.force_close()
        return response
    except Exception as exc:
        if core.is_no_space(exc):  # a full disk below the core's own translation
            logger.error(
                "Request %s %s failed [%s]: no space left: %s",
                request.method,
                request.path,
                rid,
                exc,
            )
            full = core.InsufficientStorage("no space")
            said = _for_request(request, client_message(full))
            return _finish(request, error_response(507, full.code, said, rid))
        if core.catalog_unreachable(exc):  # a catalog outage met outside core.db's sessions
            down = core.catalog_down()
            down.cause = core.pg_words(exc) or str(exc)
            lib = request.app.get(LIBRARY)
            if lib is not None:  # the episode's first failure, whoever met it, is the ERROR
                down.first = lib.catalog_outage.first_failure()
                down.episode = lib.catalog_outage.episode
            down.known = not down.first
            met.clear()
            if down.first:
                _tell_first(request, rid, down)
            else:
                _tell_known(request, rid, down)
            response = error_response(500, down.code, client_message(down), rid, reason=down.reason)
            return _finish(request, response)
        logger.exception("Unexpected error in %s %s [%s]", request.method, request.path, rid)
        response = error_response(
            500,
            "internal_error",
            "Internal server error; quote the request id when reporting it",
            rid,
        )
    return _finish(request, response)


def _own_failure(exc: core.MediaDeskError, met: list[core.StorageUnavailable]) -> object:
    """What the request's log line says: a request refused without asking the catalog after
    its own session met it out of reach (and its caller carried on) did ask, and failed; one
    that then met the outage as known (its next session the probe) met it first."""
    if not (met and isinstance(exc, core.StorageUnavailable) and exc.reason in _CATALOG_KEYS):
        return exc
    if isinstance(exc, core.StorageNotAsked):
        return next((down for down in met if down.first), met[0])
    if exc.known:
        return next((down for down in met if down.first), exc)
    return exc


def _tell_first(request: web.Request, rid: str, exc: core.StorageUnavailable) -> None:
    """The failure that made a catalog outage known (StorageUnavailable.first): the episode's
    one ERROR line, with PostgreSQL's words; the counts of the one before start again."""
    _new_episode(exc.episode)
    _log_failed(logging.ERROR, request, rid, exc)


def _log_failed(level: int, request: web.Request, rid: str, exc: core.MediaDeskError) -> None:
    """A request's failure in the log, with the cause under it when one is known (the
    catalog's own words: StorageUnavailable.cause)."""
    cause = getattr(exc, "cause", None)
    logger.log(
        level,
        "Request %s %s failed [%s]: %s: %s%s",
        request.method,
        request.path,
        rid,
        exc.code,
        exc.message,
        f" ({cause})" if cause else "",
    )


def tell_catalog_failures_now(request: web.Request) -> None:
    """For a request that lasts (an event stream, for hours): the catalog failures its
    sessions met and it carried on from (waiting for the catalog), told now, the episode's
    first as its ERROR line, not when it ends: told there, the outage's ERROR came hours after
    the WARNINGs of the failures that followed it, or with the server's stop."""
    _tell_swallowed(request, request[REQUEST_ID], core.catalog_failures_met())


def _tell_swallowed(request: web.Request, rid: str, met: list[core.StorageUnavailable]) -> None:
    """A session's failure that made the catalog's outage known, which its caller carried on
    from (a token trusted through the outage, a record from the cache) so no answer told it:
    still the episode's ERROR line."""
    first = next((down for down in met if down.first), None)
    met.clear()
    if first is not None:
        _tell_first(request, rid, first)


# What counts the catalog's failures by (_NOT_ASKED); forgotten at each new episode
_CATALOG_KEYS = (core.CATALOG_UNREACHABLE,)
_EPISODE = [0]


def _new_episode(episode: int) -> None:
    """A catalog outage's failure of `episode`: a newer one than the counts are of starts them
    again; a second outage's first line said "3 answered so since the last such", counted in
    the one before, 45 s earlier."""
    if episode > _EPISODE[0]:
        _EPISODE[0] = episode
        for reason in _CATALOG_KEYS:
            _NOT_ASKED.forget(reason)
            _NOT_ASKED.forget((reason, "asked"))


def _tell_not_asked(request: web.Request, rid: str, exc: core.StorageNotAsked) -> None:
    """An answer given without asking a store or catalog known out of reach: one WARNING line
    per longest quiet window (core/outage.py) and reason, with how many there were. Each had
    been an ERROR line, so under a hung store a busy server wrote a line per request for as
    long as it hung; the failure that made the outage known keeps its ERROR line and cause."""
    _new_episode(exc.episode)
    count = _NOT_ASKED.due(exc.reason)
    if count is None:
        return
    logger.warning(
        "Request %s %s answered without asking [%s]: %s: %s (retry after %d s); "
        "%d answered so since the last such line (one at most every %g s)",
        request.method,
        request.path,
        rid,
        exc.code,
        exc.message,
        exc.retry_after,
        count,
        _NOT_ASKED.interval,
    )


def _tell_known(request: web.Request, rid: str, exc: core.StorageUnavailable) -> None:
    """A failure of the probe of an outage already known (StorageUnavailable.known): counted
    with the answers given without asking. A catalog that refuses connections is asked by
    every request in turn (no quiet window: it answers at once), so each had logged an ERROR
    line, 137 in 90 s; the failure that made it known keeps its ERROR line and cause."""
    _new_episode(exc.episode)
    count = _NOT_ASKED.due((exc.reason, "asked"))
    if count is None:
        return
    logger.warning(
        "Request %s %s failed again [%s]: %s: %s%s (retry after %s s); %d failed so since the "
        "last such line (one at most every %g s)",
        request.method,
        request.path,
        rid,
        exc.code,
        exc.message,
        f" ({exc.cause})" if exc.cause else "",
        exc.retry_after,
        count,
        _NOT_ASKED.interval,
    )


_NOT_ASKED = BoundedReports(LONGEST_HANG_WINDOW)


def _retry_after(exc: core.MediaDeskError) -> dict[str, str] | None:
    """Every answer of a store or catalog out of reach, throttling or failing says when to ask
    again (core.errors.retry_after), not only those given without asking it."""
    seconds = core.retry_after(exc)
    return None if seconds is None else {"Retry-After": str(seconds)}


H = TypeVar("H", bound=Callable[..., Awaitable[web.StreamResponse]])


# nginx's status for a request whose client closed the connection before the answer
CLIENT_CLOSED = 499


def with_error_headers(headers: Mapping[str, str]) -> Callable[[H], H]:
    """Marks a handler whose every error answer carries these headers, whoever raised the
    error (the auth middleware, a core error, a full disk): tus wants Tus-Resumable on all."""

    def mark(handler: H) -> H:
        handler.__mediadesk_error_headers__ = dict(headers)  # type: ignore[attr-defined]
        return handler

    return mark


def with_error_page(
    render: Callable[[web.Request, web.Response], web.Response],
) -> Callable[[H], H]:
    """Marks a handler whose error answers `render` may replace (it gets the JSON answer and
    returns the one to send), whoever raised the error: a page people open in a browser,
    where the JSON document means nothing to them (/watch)."""

    def mark(handler: H) -> H:
        handler.__mediadesk_error_page__ = render  # type: ignore[attr-defined]
        return handler

    return mark


def _finish(request: web.Request, response: web.Response) -> web.Response:
    render = getattr(request.match_info.handler, "__mediadesk_error_page__", None)
    if render is not None:
        response = render(request, response)
    marked = getattr(request.match_info.handler, "__mediadesk_error_headers__", None)
    if marked:
        for name, value in marked.items():
            response.headers.setdefault(name, value)
    if response.status == 413 or (request.body_exists and not request.content.is_eof()):
        # no next request here: the rest of a refused body is dropped, not parsed, while the
        # connection closes (server/protocol.py, lingering close)
        response.force_close()
    return response
