"""A small synchronous client for any MediaDesk server (httpx; no Qt, none of the server app).

It follows the seed's advice for clients: files are checked locally first (type sniffed from
the content with core.mediatypes, the server's own rules; size and allowed types from the
server's GET /config), files over the server's presign threshold (10 MiB by default) take the
presigned flow and smaller ones the direct upload, progress is reported, transient failures
(connection errors, 429, 502-504) are retried with backoff, and big uploads resume: those the
server splits into parts (R2/S3) from the parts the bucket already holds, others (local
storage, above the multipart threshold) through tus from the server's offset. A download cut
mid-file asks again for the rest only (Range from the bytes received, If-Range the first
answer's ETag), on a fresh signed link when the one it had expired meanwhile.
"""

from __future__ import annotations

import base64
import contextlib
import functools
import hashlib
import html
import logging
import os
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from typing import Any, BinaryIO
from urllib.parse import parse_qs, quote, urlencode, urljoin, urlsplit

import httpx

from core import mediatypes
from core.ascii import whole_number
from core.errors import (
    LASTING_CODES,
    SETUP_FAULT_REASONS,
    SOURCE_CHANGED,
    InvalidInput,
    MediaDeskError,
    UnsupportedType,
)
from core.filenames import clean_filename, disk_name, local_name, readable_name
from core.instants import client_instant
from core.metadata import video_metadata
from core.settings import PRESIGN_THRESHOLD
from core.text import composed

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""progress(bytes_done, bytes_total), called as bytes go out or come in."""

CHUNK = 256 * 1024
TUS_CHUNK = 4 * 1024 * 1024  # bytes per PATCH: at most this much is sent again after a break
TRANSIENT_STATUS = {429, 502, 503, 504}
# Answers that say the server did not act on the request (429, and 503: busy, stopping or not
# reached), so even a request that must not run twice may be sent again.
NOT_ACTED_STATUS = {429, 503}
# A 500 from a read or a signed PUT (which writes the whole object or nothing) is sent again
# too: R2/S3 answer 500 InternalError for a passing fault and ask clients to retry it.
IDEMPOTENT_TRANSIENT_STATUS = TRANSIENT_STATUS | {500}
IDEMPOTENT = {"GET", "HEAD", "PUT"}
MAX_RETRY_AFTER = 300.0  # seconds; MediaDesk's own Retry-After is at most a minute
MAX_BACKOFF = 30.0  # seconds; the longest of the client's own growing waits
# Seconds to wait for a TCP connection. A reachable server, on a LAN or across the internet,
# accepts within a fraction of a second, and the kernel has sent a lost SYN again twice by
# then (at 1 s and 3 s); 10 s, times six attempts, had `mediadesk` sit silent for over a
# minute in front of a host that drops packets.
CONNECT_TIMEOUT = 5.0
# Seconds a server that has never answered this client gets to answer its first read (GET,
# HEAD): the CLI's first request is GET /config, which a live MediaDesk answers from memory
# within milliseconds. A frozen server (a stopped `mediadesk serve`, a desktop app not
# responding) still accepts connections (the kernel does that), and waiting the whole read
# timeout, then five retries, kept `mediadesk list` silent for six minutes. A first write
# keeps the whole timeout (its work may take long) but is not retried either.
FIRST_ANSWER_TIMEOUT = 5.0
DEFAULT_MAX_SIZE = 104857600  # the seed's MAX_FILE_SIZE, for servers without GET /config
# Answers that may hide a request the server carried out: a proxy's 502 or 504 (it gave up
# waiting on the server, not the server on the request).
MAYBE_DONE_STATUS = {502, 504}
# Seconds of 423 upload_locked waits a tus upload takes before it gives up. Another request
# holds the upload: often this client's own earlier PATCH, whose connection went half-open
# (pitch-side Wi-Fi) and which the server frees at its 120 s body timeout (older servers; newer
# ones end a quiet writer sooner and say when in Retry-After). Five back-offs of a failure (15 s)
# gave up long before that.
LOCKED_PATIENCE = 150.0
LOCKED_WAIT = 2.0  # seconds between tries of a locked upload when the 423 has no Retry-After
# Seconds a tus upload stopped by Ctrl+C spends at most on ending it on the server (DELETE)
# before the interrupt goes on: a user who pressed it is waiting for the prompt.
TERMINATE_PATIENCE = 2.0
# Seconds this machine's clock may be behind the server's, when a duplicate's created_at is
# compared with the start of this client's unanswered attempt and the answer has no Date
SAME_UPLOAD_SLACK = 2.0


class ClientError(Exception):
    """A refusal or failure, with the server's stable error code when there is one."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        status: int | None = None,
        request_id: str | None = None,
        details: Mapping[str, Any] | None = None,
        reason: str | None = None,
        local: bool = False,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id
        self.details = dict(details or {})
        self.reason = reason  # the server's finer cause under the code (description_too_long)
        self._local = local

    @property
    def local(self) -> bool:
        """True when the file was refused before anything was sent (by `check`). Not for a
        failure without an answer (connection_failed, upload_failed): it has no status either,
        and `mediadesk upload` counted a dropped connection as a refused file."""
        return self._local

    def __str__(self) -> str:
        return f"{self.message} ({self.code})"


@dataclass(frozen=True)
class LocalCheck:
    path: Path
    size: int
    mime: str
    file_type: str
    mtime_ns: int | None = None  # when checked: a file edited in place since is not this one


def _changed(local: LocalCheck, how: str, size: int) -> ClientError:
    """The file being sent is no longer the one checked (`how`: shrank, grew, changed), as
    the desktop's sender says it (core.errors.SOURCE_CHANGED)."""
    name = readable_name(local.path.name)
    said = "was modified" if how == "changed" else how
    return ClientError(
        "conflict",
        f"{name} {said} while it was being sent ({local.size} bytes when it was checked, "
        f"{size} now): it was not stored; upload it again once nothing is writing it",
        details={"path": readable_name(str(local.path)), "how": how},
        reason=SOURCE_CHANGED,
    )


def _unchanged(local: LocalCheck, fh: BinaryIO, short: bool = False) -> None:
    """Raises `_changed` unless the open file `fh` is still the one checked: its size and
    modification time then, and a read that came `short` of the bytes it asked for is a file
    cut meanwhile. Called before the last bytes go, so no version of it is stored: a tus upload
    of a file cut while it was sent PATCHed empty chunks for ever (the offset never reached the
    length), and a PUT's body of another size than its Content-Length stopped `mediadesk
    upload` with h11's LocalProtocolError traceback."""
    now = os.fstat(fh.fileno())
    if short or now.st_size < local.size:
        raise _changed(local, "shrank", now.st_size)
    if now.st_size > local.size:
        raise _changed(local, "grew", now.st_size)
    if local.mtime_ns is not None and now.st_mtime_ns != local.mtime_ns:
        raise _changed(local, "changed", now.st_size)


@dataclass(frozen=True)
class UploadResult:
    file: dict[str, Any]
    flow: str  # "direct", "presigned", "parts" or "tus"
    retries: int = 0

    @property
    def id(self) -> int:
        return int(self.file["id"])

    @property
    def duplicate(self) -> bool:
        return bool(self.file.get("duplicate"))

    @property
    def duplicate_of(self) -> int | None:
        """The id of the file already stored, for a duplicate (else None). A presigned or tus
        duplicate is handed an id of its own, an alias of that file (`id`): this one is the
        id the user knows. A direct one answers the stored file itself, as do servers older
        than the file's duplicate_of."""
        if not self.duplicate:
            return None
        return int(self.file.get("duplicate_of") or self.file["id"])


@dataclass(frozen=True)
class _Upload:
    """One file on its way up: what `upload` checked, its name and form fields, and whom to
    tell of its progress."""

    local: LocalCheck
    name: str
    fields: dict[str, Any]
    description: str | None
    progress: Progress | None


@dataclass
class _Attempts:
    retries: int = 0
    waits: list[float] = field(default_factory=list)
    # time.monotonic() when the first attempt whose answer was lost began (sent, or maybe
    # sent, and then the connection broke or a proxy answered 502/504): the server may have
    # carried it out. None while every attempt was answered or surely never arrived.
    lost_since: float | None = None


class _ProgressReader:
    """A file object that reports how much of it has been read (httpx reads it to send).
    With `source`, the bytes checked: never more than its size (the Content-Length sent), and
    ClientError source_changed before the last of them when the file is no longer that one."""

    def __init__(
        self,
        fh: BinaryIO,
        total: int,
        progress: Progress | None,
        start: int = 0,
        source: LocalCheck | None = None,
    ) -> None:
        self.fh, self.total, self.progress, self.done = fh, total, progress, start
        self.source = source

    def read(self, size: int = -1) -> bytes:
        want = CHUNK if size is None or size < 0 else min(size, CHUNK)
        if self.source is not None:
            want = min(want, self.total - self.done)
            if want <= 0:
                return b""
        data = self.fh.read(want)
        if self.source is not None and (len(data) < want or self.done + len(data) == self.total):
            _unchanged(self.source, self.fh, short=len(data) < want)
        self.done += len(data)
        if self.progress and data:
            self.progress(self.done, self.total)
        return data

    def __iter__(self) -> Iterator[bytes]:  # httpx takes iterables (and then uses read())
        while chunk := self.read(CHUNK):
            yield chunk

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> int:
        position = self.fh.seek(offset, whence)
        self.done = position
        return position

    def tell(self) -> int:
        return self.fh.tell()

    def fileno(self) -> int:
        return self.fh.fileno()


def _report_part(progress: Progress | None, base: int, total: int, sent: int) -> None:
    if progress:
        progress(base + sent, total)


class _Chunks:
    """A part's bytes sent in chunks with progress; iterable again for a retry."""

    def __init__(self, data: bytes, sent: Callable[[int], object]) -> None:
        self.data, self.sent = data, sent

    def __iter__(self) -> Iterator[bytes]:
        view = memoryview(self.data)
        for start in range(0, len(view), CHUNK):
            yield bytes(view[start : start + CHUNK])
            self.sent(min(start + CHUNK, len(view)))


# A file name in a form part as browsers write it (the WHATWG HTML multipart/form-data
# encoding, which the server reads: server/receive.py): a quote as %22, CR as %0D, LF as %0A,
# nothing else escaped, so a backslash or a % is a character of the name, and a tab goes raw.
# httpx's own encoder also doubled backslashes and percent-encoded every control character,
# which the server then stored as typed ("a<TAB>b.jpg" became "a%09b.jpg", a browser's upload
# "ab.jpg"). The other control characters cannot travel raw in a part header (the server
# refuses the part, a browser's too) and the stored-name rule (core.filenames) drops them
# anyway: they are left out.
_FORM_ESCAPES = {'"': "%22", "\r": "%0D", "\n": "%0A"}
_FORM_NAME = re.compile(r'["\r\n]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]')


def _form_quoted(name: str) -> str:
    """`name` ready to go between the quotes of a part's `filename="..."` or `name="..."`."""
    return _FORM_NAME.sub(lambda m: _FORM_ESCAPES.get(m.group(), ""), name)


# RFC 5987's attr-char, which an ext-value keeps raw; the rest goes percent-encoded as UTF-8
_EXT_SAFE = "!#$&+-.^_`|~"


def _file_name_params(name: str) -> str:
    """A file part's name, as `filename="..."` (the browsers' encoding, for servers that read
    nothing else) and `filename*=UTF-8''...` (RFC 7578/5987: every character exactly), which
    the server takes when both come (server/receive.py). The browsers' encoding alone cannot
    tell a %22 typed in the name from a quote: "a%22b%0Ac.jpg" was stored as 'a"bc.jpg' by a
    direct upload, and as typed by a presigned or tus one (JSON, base64), so the same client
    stored the same file under two names depending on its size.

    The name goes as the server will store it (at most 255 characters): written twice, once
    percent-encoded, a long name given as `original_filename` (700 emoji) passed the server's
    8 KiB part-header line and the whole upload was refused as a malformed form, where the
    presigned flow stored its first 255 characters."""
    name = clean_filename(name)
    exact = quote(name, safe=_EXT_SAFE)
    return f"filename=\"{_form_quoted(name)}\"; filename*=UTF-8''{exact}"


class _Form:
    """A multipart/form-data body as a browser's FormData writes it: the text fields, then the
    file part read in chunks (with progress); iterable again, from the file's start, for a
    retry. Its length is known, so it goes with a Content-Length, not chunked."""

    def __init__(
        self, fields: Mapping[str, str], filename: str, mime: str, reader: _ProgressReader
    ) -> None:
        self.reader = reader
        boundary = f"----MediaDeskFormBoundary{os.urandom(12).hex()}"
        self.content_type = f"multipart/form-data; boundary={boundary}"
        head = bytearray()
        for key, value in fields.items():
            head += (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{_form_quoted(key)}"'
                f"\r\n\r\n{value}\r\n"
            ).encode()
        head += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f"{_file_name_params(filename)}\r\nContent-Type: {mime}\r\n\r\n"
        ).encode()
        self.head, self.tail = bytes(head), f"\r\n--{boundary}--\r\n".encode()

    def __len__(self) -> int:
        return len(self.head) + self.reader.total + len(self.tail)

    def __iter__(self) -> Iterator[bytes]:
        self.reader.seek(0)
        yield self.head
        left = self.reader.total  # what Content-Length promised, even if the file grew
        while left > 0 and (chunk := self.reader.read(min(CHUNK, left))):
            left -= len(chunk)
            yield chunk
        yield self.tail


def _needs_description_edit(
    grant: Mapping[str, Any], confirmed: Mapping[str, Any], description: str
) -> bool:
    """Whether an older server ignored the presign's `description`, so that it must be sent
    by an edit after the confirm: its presign answered the pending file without it (""), while
    a server that takes the field answers it in NFC, the form it keeps text in (an NFD name from
    macOS compared unequal and was sent again). Never after a duplicate: the confirm's id is then
    an alias of the stored file, and the edit rewrote that file's description."""
    if confirmed.get("duplicate") is True:
        return False
    file = grant.get("file")
    answered = file.get("description") if isinstance(file, Mapping) else None
    if not isinstance(answered, str):
        return True
    return composed(answered) != composed(description)


def _refused(exc: httpx.TransportError) -> bool:
    """Nothing listens at the address (ECONNREFUSED): httpx keeps only the OS's text."""
    if not isinstance(exc, httpx.ConnectError):
        return False
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "Connection refused" in str(exc)


def _link_expired(failure: ClientError) -> bool:
    """Whether a signed GET's refusal may be its link's expiry: this server's 403
    signature_expired, or a 403 in a bucket's own words (R2/S3 answer an expired presigned URL
    403 AccessDenied "Request has expired" in XML, which is no error body of ours)."""
    return failure.status == 403 and (
        failure.code == "signature_expired" or failure.code.startswith("http_")
    )


def _setup_fault(response: httpx.Response) -> bool:
    """Whether an error answer names a fault of the server's set-up (a missing bucket, wrong
    keys: core.errors.SETUP_FAULT_REASONS) or another that outlasts retries (LASTING_CODES: a
    catalog upgraded under the server). It stays until an administrator acts: five retries of a
    500 bucket_missing kept a download silent for 15 s, then said the same."""
    try:
        error = response.json()["error"]
        reason, code = error.get("reason"), error.get("code")
    except (ValueError, KeyError, TypeError, AttributeError):
        return False  # not our error body (a bucket's XML, a proxy's page)
    return (isinstance(reason, str) and reason in SETUP_FAULT_REASONS) or (
        isinstance(code, str) and code in LASTING_CODES
    )


# what an Authorization header's token may hold: visible ASCII (RFC 9110's token68 and more)
_HEADER_TEXT = re.compile(r"[\x21-\x7e]+")
_XML_FIELD = re.compile(r"<(Code|Message)>([^<]{1,500})</\1>")


def _storage_error(response: httpx.Response) -> tuple[str, str] | None:
    """An S3-style error document's Code and Message (R2, S3, MinIO, moto answer a signed
    request they refuse with one), or None: read by pattern, as text, never parsed as XML."""
    try:
        text = response.text[:4096]
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return None
    found = dict(_XML_FIELD.findall(text))
    if "<Error>" not in text or not found.get("Code"):
        return None
    return html.unescape(found["Code"]).strip(), html.unescape(found.get("Message", "")).strip()


def _error_body(response: httpx.Response) -> bool:
    """Whether an answer carries MediaDesk's error body, {"error": {"code", "message", ...}}
    (server/errors.py), as every MediaDesk answers an unknown path, an older one GET /config."""
    try:
        error = response.json()["error"]
        return isinstance(error["code"], str) and isinstance(error["message"], str)
    except (ValueError, KeyError, TypeError):
        return False


def _config_body(response: httpx.Response) -> dict[str, Any] | None:
    """GET /config's answer as a MediaDesk server gives it (a 200 with the limits a client
    checks a file against), else None: another web server's page or file."""
    if response.status_code != 200:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    if not isinstance(body, dict):
        return None
    allowed = body.get("allowed_types")
    if not isinstance(body.get("max_file_size"), int) or not isinstance(allowed, dict):
        return None
    return body


def _created_since(record: Mapping[str, Any], response: httpx.Response, seconds: float) -> bool:
    """Whether `record` was created within the last `seconds` before `response`: on the server's
    clock, its Date header (whole seconds, rounded down: never later than the server's now),
    when it gives one; else on this machine's, with SAME_UPLOAD_SLACK for the clocks' gap."""
    try:
        created = client_instant(record.get("created_at"), "created_at")
    except InvalidInput:
        return False
    try:
        now = parsedate_to_datetime(response.headers.get("Date", ""))
    except (TypeError, ValueError):
        now = datetime.now(UTC) - timedelta(seconds=SAME_UPLOAD_SLACK)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return created >= now - timedelta(seconds=seconds)


class Client:
    """`Client(base_url, token)`; every method raises ClientError with the server's code."""

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        timeout: float = 60.0,
        connect_timeout: float = CONNECT_TIMEOUT,
        first_answer_timeout: float = FIRST_ANSWER_TIMEOUT,
        retries: int = 5,
        backoff: float = 0.5,
        transport: httpx.BaseTransport | None = None,
        on_retry: Callable[[str], object] | None = None,
        locked_patience: float = LOCKED_PATIENCE,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        """`on_retry(text)` is told of each retry before its wait ("GET <url> failed (...);
        retrying in 2.0 s (2 of 5)"), for a user who would otherwise watch a silent pause.
        `locked_patience`: seconds of waits a tus upload held by another request (423) takes
        before it fails; `sleep(seconds)` makes every wait (a caller with its own clock, a
        test). `first_answer_timeout`: seconds the first read (GET, HEAD) of a server that has
        never answered this client waits for its answer (at most `timeout`)."""
        self.base_url = base_url.rstrip("/")
        # a token read from an env file written on Windows (CRLF) or pasted with a space: none
        # has white space, and sent with it httpx refused the header with a message quoting
        # it, which `mediadesk upload` printed (the whole token, in a CI log) as a frozen server
        self.token = token.strip() if token else token
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        self.first_answer_timeout = min(first_answer_timeout, timeout)
        self.on_retry = on_retry
        self.locked_patience = locked_patience
        self._sleep = sleep
        self._http = httpx.Client(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            transport=transport,
            follow_redirects=False,
        )
        self._config: dict[str, Any] | None = None
        # whether the server has answered once: until then a connection it refuses, never
        # accepts, or accepts and never answers is a server that is not there (a wrong URL, a
        # server not started) or frozen, and five retries only kept `mediadesk login` silent
        # for 17 s before saying so (six minutes in front of a frozen one)
        self._answered = False

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- plumbing ----------------------------------------------------------------------
    def _url(self, path: str) -> str:
        return path if "://" in path else f"{self.base_url}{path}"

    def _headers(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        if self.token and not _HEADER_TEXT.fullmatch(self.token):
            # never quoted: it may be the real token with a stray character (a traceback of
            # UnicodeEncodeError before, for a letter such as "ü")
            raise ClientError(
                "invalid_token",
                "The token holds characters no API token has (only letters, digits and "
                "punctuation of ASCII): check --token, MEDIADESK_TOKEN or the token saved by "
                "'mediadesk login'; nothing was sent",
                local=True,
            )
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        headers.update(extra or {})
        return headers

    def _retrying(self, attempt: int, what: str, delay: float) -> None:
        self._tell(f"{what}; retrying in {delay:.1f} s ({attempt + 1} of {self.retries})")

    def _tell(self, text: str) -> None:
        logger.info("%s", text)
        if self.on_retry is not None:
            self.on_retry(text)

    def _cause(self, exc: httpx.TransportError, first_wait: float | None = None) -> str:
        """Why a request got no answer. `first_wait`: the request was the first to a server
        that has never answered this client, with this read timeout."""
        if isinstance(exc, httpx.ConnectTimeout):  # httpx says only "timed out"
            return f"no connection within {self.connect_timeout:g} s (the host does not answer)"
        said = str(exc) or type(exc).__name__
        if first_wait is None or isinstance(exc, httpx.ConnectError):
            return said
        if isinstance(exc, httpx.ReadTimeout):
            return (
                f"the server at {self.base_url} accepted the connection but did not answer "
                f"within {first_wait:g} s: it may be frozen (a stopped `mediadesk serve`, a "
                "desktop app not responding) or too busy"
            )
        return f"the server at {self.base_url} accepted the connection but gave no answer ({said})"

    def _wait(self, attempt: int, response: httpx.Response | None) -> float:
        delay = min(self.backoff * (2**attempt), MAX_BACKOFF)
        said = _retry_after(response)
        if said is not None:
            # the server's wait in full: sent sooner, the request is refused again (an address
            # blocked after failed authentications waits 60 s; capping it at MAX_BACKOFF cost
            # a retry there)
            delay = max(delay, min(float(said), MAX_RETRY_AFTER))
        return delay

    def _send(
        self,
        method: str,
        path: str,
        *,
        attempts: _Attempts | None = None,
        rewind: Callable[[], Any] | None = None,
        auth: bool = True,
        once: bool = False,
        **kwargs: Any,
    ) -> httpx.Response:
        """One request, retried on connection errors and 429/502/503/504 (`rewind` makes a
        streamed body ready to send again). `once`: a request whose repeat answers otherwise
        when the first one took effect (a trash, a restore, an edit with a version) is sent
        again only when it surely did not reach the server: a refused connection, 429 or 503.
        A 502/504 or a connection lost after sending may hide a done request; retrying it
        turned a trash that worked into a 409 "already in the trash"."""
        attempts = attempts or _Attempts()
        # with the server's address: "GET /config: Connection refused" did not say which server
        # a newcomer's MEDIADESK_SERVER or last login pointed at. A signed URL's query is a
        # credential: never shown.
        shown = self._url(path).split("?", 1)[0]
        headers = self._headers(kwargs.pop("headers", None)) if auth else kwargs.pop("headers", {})
        ours = "://" not in path  # the MediaDesk server, not a bucket's signed URL
        for attempt in range(self.retries + 1):
            if attempt and rewind is not None:
                rewind()
            response: httpx.Response | None = None
            began = time.monotonic()
            # a server that has never answered this client: whatever breaks its first request
            # (refused, no connection, or accepted and then no answer) is said at once, as a
            # server not there or frozen; retries are for one that answered and went away
            never_answered = ours and not self._answered
            first_wait = self.timeout
            if never_answered and method in ("GET", "HEAD"):
                first_wait = self.first_answer_timeout
            timeout = httpx.Timeout(self.timeout, connect=self.connect_timeout, read=first_wait)
            try:
                response = self._http.request(
                    method, self._url(path), headers=headers, timeout=timeout, **kwargs
                )
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
                # "--server localhost:8765" was retried for 16 s, "http://[::1" a traceback
                raise ClientError("invalid_url", f"{shown}: {exc}") from exc
            except httpx.TransportError as exc:
                unsent = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)
                if attempt == self.retries or (once and not unsent) or never_answered:
                    cause = self._cause(exc, first_wait if never_answered else None)
                    if ours and _refused(exc):
                        # "[Errno 111] Connection refused" said neither what was not there
                        # nor what to start
                        cause = (
                            f"cannot reach the MediaDesk server at {self.base_url} (connection "
                            "refused): is `mediadesk serve` or the desktop app's server running?"
                        )
                    raise ClientError("connection_failed", f"{method} {shown}: {cause}") from exc
                what = f"{method} {shown} failed ({self._cause(exc)})"
                if not unsent and attempts.lost_since is None:
                    attempts.lost_since = began
            else:
                self._answered = self._answered or ours
                retry_on = (
                    NOT_ACTED_STATUS
                    if once
                    else IDEMPOTENT_TRANSIENT_STATUS
                    if method in IDEMPOTENT
                    else TRANSIENT_STATUS
                )
                if (
                    response.status_code not in retry_on
                    or attempt == self.retries
                    or _setup_fault(response)
                ):
                    return response
                what = f"{method} {shown} answered {response.status_code}"
                if response.status_code in MAYBE_DONE_STATUS and attempts.lost_since is None:
                    attempts.lost_since = began
            delay = self._wait(attempt, response)
            self._retrying(attempt, what, delay)
            attempts.retries += 1
            attempts.waits.append(delay)
            self._sleep(delay)
        raise AssertionError("unreachable")

    @staticmethod
    def _check(response: httpx.Response, *ok: int) -> httpx.Response:
        if response.status_code in (ok or (200,)):
            return response
        try:
            error = response.json()["error"]
            raise ClientError(
                str(error.get("code", "error")),
                str(error.get("message", response.reason_phrase)),
                status=response.status_code,
                request_id=error.get("request_id") or response.headers.get("X-Request-ID"),
                details=error.get("details") or {},
                reason=error.get("reason"),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            # not our error body: a proxy's or CDN's own ({"error": "upstream timed out"}), or
            # a bucket's refusal of a signed URL in its own words (S3's XML), which are kept:
            # "HTTP 403 Forbidden" alone did not say an expired link from a wrong signature
            said = f"HTTP {response.status_code} {response.reason_phrase}"
            details: dict[str, Any] = {}
            storage = _storage_error(response)
            if storage is not None:
                details = {"storage_code": storage[0], "storage_message": storage[1]}
                said += f": the storage answered {storage[0]}" + (
                    f" ({storage[1]})" if storage[1] else ""
                )
            raise ClientError(
                f"http_{response.status_code}",
                said,
                status=response.status_code,
                details=details,
            ) from None

    def _json(self, method: str, path: str, *ok: int, **kwargs: Any) -> Any:
        return self._check(self._send(method, path, **kwargs), *ok).json()

    # ---- what the server accepts -------------------------------------------------------
    def config(self) -> dict[str, Any]:
        """GET /config, once; a MediaDesk server without it (404 in MediaDesk's error body) gets
        the seed's defaults. Any other web server at the address raises ClientError
        `not_mediadesk`: its 404 was taken for an older MediaDesk, so `mediadesk upload` sent
        every file whole to be refused by it, and `mediadesk list` said "HTTP 404"."""
        if self._config is None:
            response = self._send("GET", "/config")
            if response.status_code == 404 and _error_body(response):
                config: dict[str, Any] | None = {
                    "max_file_size": DEFAULT_MAX_SIZE,
                    "presign_threshold": PRESIGN_THRESHOLD,
                    "allowed_types": {
                        "image": [t.mime for t in mediatypes.IMAGE_TYPES],
                        "video": [t.mime for t in mediatypes.VIDEO_TYPES],
                    },
                    "resumable": {"tus": False, "parts": False, "renew": False},
                }
            else:
                if response.status_code not in (200, 404):
                    self._check(response)  # raises: the server's refusal (or a proxy's page)
                config = _config_body(response)
            if config is None:
                raise ClientError(
                    "not_mediadesk",
                    f"{self.base_url} is not a MediaDesk server (GET /config answered HTTP "
                    f"{response.status_code} {response.reason_phrase}, not MediaDesk's JSON)",
                    status=response.status_code,
                )
            self._config = config
        return self._config

    def check(self, path: str | os.PathLike[str], file_type: str | None = None) -> LocalCheck:
        """The server's rules, applied before anything is sent: ClientError when refused."""
        path = Path(path)
        try:
            stat = path.stat()
            size = stat.st_size
            if not S_ISREG(stat.st_mode) and not S_ISDIR(stat.st_mode):
                # a pipe (`mediadesk upload <(…)`), a FIFO, a device: no size to declare, no
                # second read for a retry; its sniffing hung on a FIFO without a writer, and a
                # pipe's upload stopped with io.UnsupportedOperation's traceback
                raise ClientError(
                    "unreadable",
                    f"{readable_name(str(path))}: not a regular file (a pipe, a FIFO or a "
                    "device): save it to a file and upload that",
                    local=True,
                )
            media = mediatypes.sniff_file(path)
            kind = mediatypes.check_kind(file_type) if file_type else media.kind
            mediatypes.require_kind(media, kind)
        except UnsupportedType as exc:
            exc = self._refused_as_this_server(path, file_type, exc)
            raise ClientError(
                exc.code, exc.message, details=exc.details, reason=exc.reason, local=True
            ) from None
        except MediaDeskError as exc:
            raise ClientError(exc.code, exc.message, local=True) from None
        except OSError as exc:
            raise ClientError(
                "unreadable", f"{readable_name(str(path))}: {exc.strerror or exc}", local=True
            ) from None
        config = self.config()
        accepted = config["allowed_types"].get(media.kind, [])
        if media.mime not in accepted:
            raise ClientError(
                "unsupported_type",
                f"{media.mime} is not accepted by this server "
                f"(accepted {media.kind} types: {', '.join(accepted) or 'none'})",
                local=True,
            )
        if size > config["max_file_size"]:
            raise ClientError(
                "too_large",
                f"The file is {size} bytes; the server's limit is {config['max_file_size']} bytes",
                details={"size": size, "max_size": config["max_file_size"]},
                local=True,
            )
        if media.kind == "video":
            # its tracks, as the server reads them: an MP4 of sound alone under the generic
            # brand (ffmpeg's, a voice recorder's) sniffs as video/mp4 and was sent whole
            # before the server refused it as sound only
            try:
                video_metadata(path, media.ext, media.mime, accepted)
            except MediaDeskError as exc:
                raise ClientError(
                    exc.code, exc.message, details=exc.details, reason=exc.reason, local=True
                ) from None
        return LocalCheck(path, size, media.mime, kind, stat.st_mtime_ns)

    def _refused_as_this_server(
        self, path: Path, file_type: str | None, refusal: UnsupportedType
    ) -> UnsupportedType:
        """`refusal` naming the types this server accepts (of `file_type` when given), as its
        own answer would: sniffed alone, it named every type MediaDesk validates, so a text
        file was told `video/mp2t` is accepted where the default settings refuse it."""
        try:
            allowed = self.config()["allowed_types"]
        except ClientError:
            return refusal  # no server to ask: the local refusal stands as it is
        try:
            kinds = [mediatypes.check_kind(file_type)] if file_type else ["image", "video"]
            mediatypes.sniff_file(path, [t for k in kinds for t in allowed.get(k, [])])
        except UnsupportedType as named:
            return named
        except (MediaDeskError, OSError):
            pass
        return refusal

    # ---- uploads -----------------------------------------------------------------------
    def upload(
        self,
        path: str | os.PathLike[str],
        file_type: str | None = None,
        athlete_id: int | None = None,
        is_public: bool = False,
        *,
        description: str | None = None,
        original_filename: str | None = None,
        progress: Progress | None = None,
        presigned: bool | None = None,
    ) -> UploadResult:
        """Checks, then uploads: presigned above the server's threshold (10 MiB by default),
        above its multipart threshold in parts (R2/S3) or through tus (local storage), else
        direct.
        A duplicate of a stored file is a success (`result.duplicate`)."""
        local = self.check(path, file_type)
        # a name on disk that is not UTF-8 (an old USB stick's b"Pe\xf1a.jpg") is a str with
        # surrogate escapes, which no request can carry: the form, the presign's JSON and tus'
        # base64 each stopped with a UnicodeEncodeError, and `mediadesk upload` with them. A
        # local name's backslash is a character of it (Linux, macOS), which the server reads as
        # a folder separator: it goes as the desktop's import sends it (core.filenames.
        # local_name), or "back\slash.jpg" was "slash.jpg" here and "back∖slash.jpg" there. A
        # name the caller gives is the caller's, read as the server reads any name.
        if original_filename:
            name = readable_name(original_filename)
        else:
            name = local_name(local.path.name)
        threshold = int(self.config().get("presign_threshold", PRESIGN_THRESHOLD))
        use_presigned = local.size > threshold if presigned is None else presigned
        fields: dict[str, Any] = {"file_type": local.file_type, "is_public": is_public}
        if athlete_id is not None:
            fields["athlete_id"] = athlete_id
        up = _Upload(local, name, fields, description, progress)
        if use_presigned and self._wants_tus(local.size) and presigned is None:
            return self._upload_tus(up)
        if use_presigned:
            return self._upload_presigned(up)
        return self._upload_direct(up)

    def _upload_direct(self, up: _Upload) -> UploadResult:
        local, fields, description = up.local, up.fields, up.description
        data = {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in fields.items()}
        if description is not None:
            data["description"] = description
        attempts = _Attempts()
        with open(local.path, "rb") as fh:
            reader = _ProgressReader(fh, local.size, up.progress, source=local)
            form = _Form(data, up.name, local.mime, reader)
            response = self._send(
                "POST",
                "/files/upload/direct",
                attempts=attempts,
                content=form,  # iterated again from the file's start for a retry
                headers={"Content-Type": form.content_type, "Content-Length": str(len(form))},
            )
        record = self._check(response, 200, 201).json()
        if (
            record.get("duplicate")
            and attempts.lost_since is not None
            and _created_since(record, response, time.monotonic() - attempts.lost_since)
        ):
            # An earlier attempt stored the file and its answer was lost: the retry is then a
            # duplicate of this very upload, and `mediadesk upload` said "already stored" of a
            # file that was not on the server before it ran.
            record = {**record, "duplicate": False, "duplicate_of": None}
        return UploadResult(record, "direct", attempts.retries)

    def _upload_presigned(self, up: _Upload) -> UploadResult:
        local = up.local
        attempts = _Attempts()
        body = {
            **up.fields,
            "original_filename": up.name,
            "content_type": local.mime,
            "size": local.size,
            # sent again after a lost answer (the server made the upload, the link dropped),
            # the presign is answered with that upload, not a second one left pending
            "idempotency_key": secrets.token_hex(16),
        }
        if up.description is not None:
            # with the file's other fields: refused (too long, not text) before any byte is
            # sent, and no second request that could fail after the file is stored
            body["description"] = up.description
        grant = self._json("POST", "/files/upload/presigned", 201, json=body, attempts=attempts)
        file_id = int(grant["file_id"])
        if grant.get("parts"):
            confirm_body = self._put_parts(up, file_id, grant, attempts)
            flow = "parts"
        else:
            self._put_single(up, file_id, grant, attempts)
            confirm_body, flow = None, "presigned"
        record = self._json(
            "POST",
            f"/files/{file_id}/confirm-upload",
            200,
            201,
            json=confirm_body,
            attempts=attempts,
        )
        if up.description is not None and _needs_description_edit(grant, record, up.description):
            # a server older than the presign's description field ignores it: edit it after
            record = self.update(file_id, description=up.description)
        return UploadResult(record, flow, attempts.retries)

    def _put_single(
        self, up: _Upload, file_id: int, grant: dict[str, Any], attempts: _Attempts
    ) -> None:
        local, progress = up.local, up.progress
        url, headers = grant["upload_url"], dict(grant.get("headers") or {})
        renewed = False
        while True:
            with open(local.path, "rb") as fh:
                reader = _ProgressReader(fh, local.size, progress, source=local)
                response = self._send(
                    "PUT",
                    urljoin(self.base_url + "/", url),
                    auth=False,  # the signature is the credential; never send the token there
                    attempts=attempts,
                    rewind=functools.partial(reader.seek, 0),  # httpx read() it to the end
                    content=reader,
                    headers={**headers, "Content-Length": str(local.size)},
                )
            if response.status_code == 403 and not renewed and self._can_renew():
                # an expired URL (a slow link): ask for a fresh one, once
                fresh = self._json("POST", f"/files/{file_id}/upload/renew", attempts=attempts)
                url, headers = fresh["upload_url"], dict(fresh.get("headers") or headers)
                renewed = True
                continue
            self._check(response, 200, 201, 204)
            return

    def _wants_tus(self, size: int) -> bool:
        """Big files on a server that cannot split presigned uploads into parts (local
        storage) go through tus, whose offset survives a broken connection or a restart."""
        config = self.config()
        resumable = config.get("resumable", {})
        return bool(
            resumable.get("tus")
            and config.get("storage") == "local"
            and size > int(resumable.get("multipart_threshold", size))
        )

    def _upload_tus(self, up: _Upload) -> UploadResult:
        """tus 1.0: create, PATCH chunks at the server's offset; after a failure ask the
        offset again (HEAD) and go on from there, so at most one chunk is sent twice."""
        local, name, progress = up.local, up.name, up.progress
        attempts = _Attempts()
        meta = {
            "filename": name,
            "filetype": local.mime,
            **{k: str(v) for k, v in up.fields.items()},
        }
        meta = {k: v.lower() if v in ("True", "False") else v for k, v in meta.items()}
        if up.description is not None:
            meta["description"] = up.description
        tus = {"Tus-Resumable": "1.0.0"}
        created = self._send(
            "POST",
            "/files/upload/tus",
            attempts=attempts,
            headers={
                **tus,
                "Upload-Length": str(local.size),
                "Upload-Metadata": ",".join(
                    f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in meta.items()
                ),
            },
        )
        self._check(created, 201)
        location = urljoin(self.base_url + "/", created.headers["Location"])
        shown = location.split("?", 1)[0]
        offset, file_id, failures = 0, created.headers.get("MediaDesk-File-Id"), 0
        duplicate, locked_for = False, 0.0
        with open(local.path, "rb") as fh, self._ended_if_interrupted(location, lambda: file_id):
            while file_id is None:
                fh.seek(offset)
                want = min(TUS_CHUNK, local.size - offset)
                data = fh.read(want)
                if len(data) < want or offset + len(data) == local.size:
                    try:
                        _unchanged(local, fh, short=len(data) < want)
                    except ClientError:
                        self._terminate(location)  # never to be resumed: ended, as on Ctrl+C
                        raise
                body = _Chunks(data, functools.partial(_report_part, progress, offset, local.size))
                response: httpx.Response | None = None
                try:
                    response = self._http.request(
                        "PATCH",
                        location,
                        content=body,
                        headers=self._headers(
                            {
                                **tus,
                                "Upload-Offset": str(offset),
                                "Content-Type": "application/offset+octet-stream",
                                "Content-Length": str(len(data)),
                            }
                        ),
                    )
                except httpx.TransportError as exc:
                    what = f"PATCH {shown} failed ({self._cause(exc)})"
                else:
                    what = f"PATCH {shown} answered {response.status_code}"
                if response is not None and response.status_code == 204:
                    offset = int(response.headers["Upload-Offset"])
                    file_id = response.headers.get("MediaDesk-File-Id")
                    duplicate = response.headers.get("MediaDesk-Duplicate") == "true"
                    failures = 0
                    continue
                if response is not None and response.status_code == 423:
                    delay = self._locked_wait(name, shown, response, locked_for)
                    locked_for += delay
                else:
                    if response is not None and response.status_code not in {409, 460} | (
                        TRANSIENT_STATUS
                    ):
                        self._check(response, 204)  # the file was refused: the server's reason
                    failures += 1
                    if failures > self.retries:
                        raise ClientError("connection_failed", f"The upload of {name} kept failing")
                    delay = self._wait(failures - 1, response)
                    self._retrying(failures - 1, what, delay)
                attempts.retries += 1
                self._sleep(delay)
                head = self._send("HEAD", location, attempts=attempts, headers=tus)
                if head.status_code == 423:  # a completion runs elsewhere: asked again later
                    continue
                self._check(head, 200)
                offset = int(head.headers["Upload-Offset"])
                file_id = head.headers.get("MediaDesk-File-Id")
                duplicate = head.headers.get("MediaDesk-Duplicate") == "true"
        if progress:
            progress(local.size, local.size)
        record = self.get(int(file_id))
        record["duplicate"] = duplicate or bool(record.get("duplicate"))
        return UploadResult(record, "tus", attempts.retries)

    @contextlib.contextmanager
    def _ended_if_interrupted(
        self, location: str, finished: Callable[[], object]
    ) -> Iterator[None]:
        """Ends the tus upload at `location` (tus termination: DELETE) when Ctrl+C stops it
        before it is `finished`: this client cannot resume it after a restart (its state is not
        saved), and the server kept its .part for 24 h. Best effort within TERMINATE_PATIENCE
        seconds, and the KeyboardInterrupt goes on as it came (`mediadesk upload`: exit 130)."""
        try:
            yield
        except KeyboardInterrupt:
            if finished() is None:
                self._terminate(location)
            raise

    def _terminate(self, location: str) -> None:
        deadline = time.monotonic() + TERMINATE_PATIENCE
        headers = self._headers({"Tus-Resumable": "1.0.0"})
        while (left := deadline - time.monotonic()) > 0.05:
            try:
                # connect and read each get half of what is left: the whole stays within it
                response = self._http.request(
                    "DELETE", location, headers=headers, timeout=httpx.Timeout(left / 2)
                )
            except httpx.HTTPError:
                return
            if response.status_code != 423:
                return
            # the interrupted PATCH still holds the upload until the server sees its
            # connection gone: a moment later the DELETE is let in
            time.sleep(min(0.1, max(deadline - time.monotonic(), 0)))

    def _locked_wait(self, name: str, shown: str, response: httpx.Response, waited: float) -> float:
        """The wait before the next try of a tus upload that another request holds (423): the
        server's Retry-After, else LOCKED_WAIT, within `locked_patience` in all; ClientError
        upload_locked once that is spent."""
        left = self.locked_patience - waited
        if left <= 0:
            reason = request_id = None
            try:
                self._check(response, 204)
            except ClientError as said:  # always: a 423
                reason, request_id = said.reason, said.request_id
            raise ClientError(
                "upload_locked",
                f"The upload of {name} is held by another request (another upload of it, or "
                f"this one's own earlier request, still open on the server) after "
                f"{waited:.0f} s of waiting; run the upload again later",
                status=423,
                request_id=request_id,
                reason=reason,
            )
        said_after = _retry_after(response)
        delay = LOCKED_WAIT if said_after is None else min(float(said_after), MAX_RETRY_AFTER)
        delay = min(max(delay, 0.5), left)  # a Retry-After of 0 would spin the patience away
        self._tell(
            f"PATCH {shown} answered 423 (the upload is held by another request); retrying in "
            f"{delay:.1f} s (waited {waited:.0f} of {self.locked_patience:.0f} s)"
        )
        return delay

    def _can_renew(self) -> bool:
        return bool(self.config().get("resumable", {}).get("renew"))

    def _put_parts(
        self, up: _Upload, file_id: int, grant: dict[str, Any], attempts: _Attempts
    ) -> dict[str, Any]:
        """PUT each part to its URL; a part that keeps failing makes the client ask which
        parts the bucket holds and sign the missing ones again, then go on from there."""
        local, progress = up.local, up.progress
        part_size = int(grant["part_size"])
        urls = {int(p["part_number"]): p["url"] for p in grant["parts"]}
        etags: dict[int, str] = {}
        sizes = {n: min(part_size, local.size - (n - 1) * part_size) for n in urls}
        last: ClientError | None = None  # why the last part that failed did

        def report() -> None:
            if progress:
                progress(sum(sizes[n] for n in etags), local.size)

        for _round in range(3):
            for number in sorted(set(urls) - set(etags)):
                with open(local.path, "rb") as fh:
                    fh.seek((number - 1) * part_size)
                    chunk = fh.read(sizes[number])
                    if len(chunk) < sizes[number] or number == max(urls):
                        _unchanged(local, fh, short=len(chunk) < sizes[number])
                base = sum(sizes[n] for n in etags)
                body = _Chunks(chunk, functools.partial(_report_part, progress, base, local.size))
                try:
                    response = self._send(
                        "PUT",
                        urls[number],
                        auth=False,
                        attempts=attempts,
                        content=body,
                        headers={"Content-Length": str(len(chunk))},
                    )
                except ClientError as exc:
                    last = exc
                    break  # resume below from what the bucket has
                if response.status_code != 200:
                    try:
                        self._check(response, 200)
                    except ClientError as exc:
                        last = exc
                    break
                etags[number] = response.headers.get("ETag", "")
                report()
            if len(etags) == len(urls):
                return {"parts": [{"part_number": n, "etag": e} for n, e in sorted(etags.items())]}
            stored = self._json("GET", f"/files/{file_id}/upload/parts", attempts=attempts)
            etags = {int(p["part_number"]): p["etag"] for p in stored["parts"]}
            missing = sorted(set(urls) - set(etags))
            if not missing:  # every part reached the bucket; only their answers were lost
                return {"parts": [{"part_number": n, "etag": e} for n, e in sorted(etags.items())]}
            fresh = self._json(
                "POST",
                f"/files/{file_id}/upload/renew",
                json={"part_numbers": missing},
                attempts=attempts,
            )
            urls.update({int(p["part_number"]): p["url"] for p in fresh.get("parts", [])})
            report()
        # with the last part's failure: "could not be uploaded" alone hid the bucket's answer
        raise ClientError(
            "upload_failed",
            f"Parts of {readable_name(local.path.name)} could not be uploaded"
            + (f": {last}" if last is not None else ""),
            details=last.details if last is not None else {},
        )

    # ---- the catalog -------------------------------------------------------------------
    def list(self, **filters: Any) -> dict[str, Any]:
        """GET /files with filters (athlete_id, file_type, q, is_public, trashed, sort,
        limit, offset, cursor, content_type, status): {"items", "total", "limit", "offset",
        "next_cursor"}."""
        params = {
            k: (str(v).lower() if isinstance(v, bool) else v)
            for k, v in filters.items()
            if v is not None
        }
        return dict(self._json("GET", "/files", params=params))

    def pages(self, **filters: Any) -> Iterator[dict[str, Any]]:
        """`list`'s pages to the end of the list, each yielded as it arrives: the next one is
        asked with the previous page's next_cursor (the same cost at any depth). Every page
        has files, except the first of an empty list."""
        first = True
        while True:
            page = self.list(**filters)
            # a full last page carries a next_cursor too (the server does not look past it):
            # the empty page it leads to is the end, not a page (`page["items"][0]` failed)
            if first or page["items"]:
                yield page
            if not page["items"] or not page.get("next_cursor"):  # or a server without cursors
                return
            first = False
            # the server refuses both together: an offset only says where the first page starts
            filters = {**filters, "offset": None, "cursor": page["next_cursor"]}

    def athletes(self) -> dict[str, Any]:
        """GET /athletes: {"items": [{"id", "name", "file_count", "trash_count", "version"},
        ...], "total"}."""
        return dict(self._json("GET", "/athletes"))

    def create_athlete(self, name: str, *, athlete_id: int | None = None) -> dict[str, Any]:
        """POST /athletes (upload scope): the new athlete, {"id", "name", "file_count",
        "trash_count"}; `athlete_id` asks for that id (else the one after the highest). A name
        another athlete has raises ClientError conflict, reason athlete_exists, details naming
        it (`athlete_id`, `name`); an id another holds, reason athlete_id_taken. Sent again only
        when it surely did not arrive, as `trash` is: the repeat of one that was done would
        answer athlete_exists for the athlete it made (after a lost answer, ClientError
        connection_failed: check with `athletes`)."""
        body: dict[str, Any] = {"name": name}
        if athlete_id is not None:
            body["id"] = athlete_id
        return dict(self._json("POST", "/athletes", 201, json=body, once=True))

    def rename_athlete(
        self, athlete_id: int, name: str, *, version: int | None = None
    ) -> dict[str, Any]:
        """PATCH /athletes/{id} (upload scope): the athlete renamed, as `create_athlete`
        answers it; not_found for an unknown id, conflict athlete_exists for a name another
        athlete has. `version` (the athlete's, as `athletes` lists it): conflict
        stale_version when it was renamed meanwhile elsewhere, `details["name"]` its current
        name; without it the last rename wins. The same name again is the same edit, so it is
        sent again after a lost answer, as `update` is, unless it names a version."""
        body: dict[str, Any] = {"name": name}
        if version is not None:
            body["version"] = version
        return dict(
            self._json("PATCH", f"/athletes/{int(athlete_id)}", json=body, once=version is not None)
        )

    def get(self, file_id: int) -> dict[str, Any]:
        return dict(self._json("GET", f"/files/{int(file_id)}"))

    def update(self, file_id: int, *, version: int | None = None, **fields: Any) -> dict[str, Any]:
        """PATCH original_filename, athlete_id, is_public, description (version: optimistic)."""
        body = dict(fields)
        if version is not None:
            body["version"] = version
        # the same fields set again is the same edit; with a version it is a 409 the second time
        once = version is not None
        return dict(self._json("PATCH", f"/files/{int(file_id)}", json=body, once=once))

    def trash(self, file_id: int) -> dict[str, Any]:
        return dict(self._json("DELETE", f"/files/{int(file_id)}", once=True))

    def delete(self, file_id: int) -> dict[str, Any]:
        """Deletes for good (admin scope)."""
        return dict(
            self._json(
                "DELETE", f"/files/{int(file_id)}", params={"hard_delete": "true"}, once=True
            )
        )

    def restore(self, file_id: int) -> dict[str, Any]:
        return dict(self._json("POST", f"/files/{int(file_id)}/restore", once=True))

    # ---- processing jobs (videos) ------------------------------------------------------
    def jobs(
        self,
        *,
        file_id: int | None = None,
        state: str | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> dict[str, Any]:
        """GET /jobs: {"items", "total"}. An item's `reason` says why the job was skipped or
        failed as a stable code to branch on or translate (the Job schema's enum in
        /openapi.json: already_web_ready, ..., undecodable_media, encoder_failed, ...); its
        `error` says it in English."""
        params = {"file_id": file_id, "state": state, "limit": limit, "offset": offset}
        return dict(
            self._json("GET", "/jobs", params={k: v for k, v in params.items() if v is not None})
        )

    def job(self, job_id: int) -> dict[str, Any]:
        """GET /jobs/{id}, with its `reason` as in `jobs`."""
        return dict(self._json("GET", f"/jobs/{int(job_id)}"))

    def stream_url(
        self,
        file: int | Mapping[str, Any],
        kind: str | None = None,
        *,
        with_token: bool = False,
    ) -> str:
        """The URL a player opens. `file`: an id or the file as the server answered it;
        `kind`: video, image or raw, the file's own when omitted (asked from the server for an
        id). With the file's record, the URL is the server's own link for that path when it
        gives one, so it carries the content tag (?v=) the server adds to cache-forever links.
        with_token adds access_token= for players that cannot send headers.

        For HEAD, curl and downloads: a video's URL here is the bare /stream/{id}/video, which
        follows the current version, so a player holding it while the video is processed can be
        sent the faststart copy's bytes spliced onto the original's. Give players
        playback_url() instead."""
        record = file if isinstance(file, Mapping) else None
        file_id = int(record["id"]) if record is not None else int(file)  # type: ignore[arg-type]
        if kind is None:
            record = record if record is not None else self.get(file_id)
            kind = str(record["file_type"])
        path = f"/stream/{file_id}/{kind}"
        url = self.base_url + path
        links = (record or {}).get("urls") or {}
        for link in (links.get("stream"), links.get("raw")):
            if link and link.split("?", 1)[0] == path:
                url = self.base_url + link
        if with_token and self.token:
            url += ("&" if "?" in url else "?") + f"access_token={self.token}"
        return url

    def playback_url(self, file_id: int) -> str:
        """The URL a player (<video>, VLC, a page) plays: /stream/{id}/info's stream_url, which
        for a video names the version the server sends now (?rendition=…&v=…) and keeps sending
        those bytes, so a player's later ranges cannot be answered from a copy made meanwhile
        (it is 404 once they are no longer kept: ask again, as a reload does). A private file's
        URL carries the file grant (exp=…&sig=…) the server signs for players that cannot send
        headers, as its watch link and rendition URLs do: it opens only this file, until it
        expires, without the token in the URL. /info puts it on stream_url itself; from a server
        that did so only for a video's other links it is taken from watch_url, and a file it
        gave none for (not a video) gets access_token= instead, as stream_url(with_token=True)."""
        info = self._json("GET", f"/stream/{int(file_id)}/info")
        url = self._url(str(info["stream_url"]))
        if info.get("is_public") or "sig" in parse_qs(urlsplit(url).query):
            return url
        grant = urlsplit(str(info.get("watch_url") or "")).query
        if "sig=" not in grant:
            # an older server signed a grant only for a video's other links
            grant = urlencode({"access_token": self.token}) if self.token else ""
        return f"{url}{'&' if '?' in url else '?'}{grant}" if grant else url

    def download(
        self,
        file_id: int,
        to: str | os.PathLike[str] = ".",
        *,
        progress: Progress | None = None,
        filename: str | None = None,
        overwrite: bool = False,
    ) -> Path:
        """Saves the original in the folder `to` (created if needed) under its own name or
        `filename`; an existing file is kept and the new one gets a " (1)" suffix unless
        overwrite. A retry after a break asks for the bytes not received yet (a 200 answer, the
        file changed since, starts over). Written to a temporary file first: a broken download
        leaves nothing, nor does one whose length or SHA-256 is not the catalog's (ClientError
        `download_mismatch`: a stored copy cut by a bad restore was saved as the file)."""
        record = self.get(file_id)
        expected = _Expected.of(record)
        name = filename or str(record["original_filename"])
        target = Path(to) / safe_name(name, int(file_id))
        target.parent.mkdir(parents=True, exist_ok=True)
        url = self._download_link(int(file_id))
        # whether `url` was used by an attempt that broke: a 403 to it then may be its expiry
        # (PRESIGNED_URL_EXPIRY ran out during the break and the retries' waits), which a fresh
        # link mends; a fresh link's 403 is a refusal. The link was asked once, before the
        # retries: the bytes kept after an hour's download on a link that drops were thrown away
        # at the first retry after it expired.
        used = False
        # one temporary file for every attempt: a retry asks for the bytes after those it holds
        # (each retry from byte 0 never finished a large file on a link that drops every few MB)
        fd, tmp = _create_part(target.parent)
        try:
            with os.fdopen(fd, "wb") as out:
                part = _Part(out)
                attempt = 0
                while True:
                    try:
                        self._fetch_into(url, part, progress)
                        break
                    except (httpx.TransportError, ClientError) as exc:
                        if used and isinstance(exc, ClientError) and _link_expired(exc):
                            kept = f" ({part.received} bytes kept)" if part.resumable else ""
                            self._tell(
                                f"the link to file {int(file_id)} expired ({exc.code}); "
                                f"asking for a new one{kept}"
                            )
                            url, used = self._download_link(int(file_id)), False
                            continue  # at once: the server has not refused the file
                        transient = isinstance(exc, httpx.TransportError) or (
                            exc.status in IDEMPOTENT_TRANSIENT_STATUS
                            and exc.reason not in SETUP_FAULT_REASONS
                            and exc.code not in LASTING_CODES
                        )
                        if not transient or attempt == self.retries:
                            if isinstance(exc, ClientError):
                                raise self._bucket_refusal(int(file_id), exc) from None
                            raise ClientError("connection_failed", str(exc)) from exc
                        delay = self._wait(attempt, None)
                        cause = self._cause(exc) if isinstance(exc, httpx.TransportError) else exc
                        kept = f"; {part.received} bytes kept" if part.resumable else ""
                        what = f"download of file {int(file_id)} failed ({cause}){kept}"
                        self._retrying(attempt, what, delay)
                        self._sleep(delay)
                        attempt, used = attempt + 1, True
                expected.check(part.received, part.digest.hexdigest())
                out.flush()
                os.fsync(out.fileno())
            if overwrite:
                os.replace(tmp, target)
                return target
            return _settle(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _download_link(self, file_id: int) -> str:
        """The signed URL of the file's original (GET /files/{id}/presigned-url): this
        server's /signed/ link, or the bucket's own on R2/S3."""
        signed = self._json("GET", f"/files/{file_id}/presigned-url")
        return urljoin(self.base_url + "/", signed["url"])

    def _bucket_refusal(self, file_id: int, failure: ClientError) -> ClientError:
        """What the server says of a signed GET that the bucket refused in its own words (S3's
        XML): `mediadesk download` said "HTTP 404 Not Found" for a deleted bucket, as if the
        file were gone. The server reads one byte of the same object and says why with its
        code and sentence (storage_unavailable, bucket_missing); when it reads it fine, the
        bucket's answer stands."""
        if not failure.code.startswith("http_"):
            return failure  # the server's own answer (its link, before any redirect) already
        try:
            self._check(
                self._send("GET", f"/stream/{file_id}/raw", headers={"Range": "bytes=0-0"}),
                200,
                206,
            )
        except ClientError as said:
            return said if said.status is not None else failure
        return failure

    def _fetch_into(self, url: str, part: _Part, progress: Progress | None) -> None:
        """One attempt: the bytes after those `part` holds when it may resume (a 206 whose
        Content-Range starts there), else the whole file over them (a 200: the file changed
        since, so If-Range failed, or ranges are not served)."""
        if part.total is not None and part.received == part.total:
            return  # cut after its last byte: nothing is missing
        headers = {"Accept-Encoding": "identity"}  # ranges count the file's own bytes
        asked = part.resumable
        if asked:
            headers |= {"Range": f"bytes={part.received}-", "If-Range": str(part.etag)}
        # a public file's CDN URL may redirect (to its canonical host, HTTPS); the Range and
        # If-Range go along, and R2/S3 honour them as this server does
        with self._http.stream("GET", url, headers=headers, follow_redirects=True) as response:
            status = response.status_code
            if status == 206 and asked and part.continued_by(response):
                pass
            elif status == 416 and asked:
                response.close()
                part.restart(None)  # the bytes held are not the file's: all of it, at once
                self._fetch_into(url, part, progress)
                return
            elif status == 200:
                part.restart(response)
            else:
                if status != 206 or not asked:
                    response.read()
                    self._check(response)
                # a 206 of other bytes than those asked for: the whole file instead
                response.close()
                part.restart(None)
                self._fetch_into(url, part, progress)
                return
            for chunk in response.iter_bytes(CHUNK):
                part.write(chunk)
                if progress:
                    progress(part.received, part.total or part.received)


class _Part:
    """A download's temporary file across its attempts: the bytes received so far, their
    SHA-256 as they came, and what a retry needs to ask for the rest (the file's size and the
    first answer's ETag, without which a range could splice two versions of the file)."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.received = 0
        self.digest = hashlib.sha256()
        self.total: int | None = None
        self.etag: str | None = None

    @property
    def resumable(self) -> bool:
        # a weak ETag never matches If-Range (RFC 9110 13.1.5): only a strong one is sent
        return self.received > 0 and self.etag is not None and self.etag.startswith('"')

    def restart(self, response: httpx.Response | None) -> None:
        """From byte 0 again, with `response`'s validator and size (None: not known yet)."""
        self.out.seek(0)
        self.out.truncate()
        self.received = 0
        self.digest = hashlib.sha256()
        headers = response.headers if response is not None else {}
        length = whole_number(headers.get("Content-Length", "").strip())
        self.total = length if length else None
        self.etag = headers.get("ETag")

    def continued_by(self, response: httpx.Response) -> bool:
        """Whether a 206 carries the bytes from `received` on, to the end of the same file."""
        match = re.fullmatch(
            r"bytes (\d+)-(\d+)/(\d+)", response.headers.get("Content-Range", ""), re.ASCII
        )
        if match is None:
            return False
        start, end, size = (int(n) for n in match.groups())
        said = response.headers.get("ETag")
        if start != self.received or end != size - 1 or self.total not in (None, size):
            return False
        self.total = size
        return said in (None, self.etag)

    def write(self, chunk: bytes) -> None:
        self.out.write(chunk)
        self.digest.update(chunk)
        self.received += len(chunk)


@dataclass(frozen=True)
class _Expected:
    """The size and SHA-256 the catalog records for a file, which its download must have:
    the server serves what the store holds, and a bucket serves a cut object as whole."""

    file_id: int
    size: int | None
    sha256: str | None

    @classmethod
    def of(cls, record: Mapping[str, Any]) -> _Expected:
        size, sha = record.get("size"), record.get("sha256")
        return cls(
            int(record["id"]),
            size if isinstance(size, int) else None,
            sha.lower() if isinstance(sha, str) and len(sha) == 64 else None,
        )

    def check(self, size: int, sha256: str) -> None:
        if self.size is not None and size != self.size:
            found = f"{size} bytes where the catalog records {self.size}"
        elif self.sha256 is not None and sha256 != self.sha256:
            found = "bytes whose SHA-256 is not the one the catalog records"
        else:
            return
        raise ClientError(
            "download_mismatch",
            f"File {self.file_id}: the server sent {found}; nothing was saved. Its stored "
            "copy may be damaged: `mediadesk maintenance` on the server lists such files.",
            details={"size": size, "expected_size": self.size},
        )


def _create_part(folder: Path) -> tuple[int, str]:
    """A new temporary file in `folder` with the umask's mode, as curl's or a browser's download
    gets: mkstemp's 0600 left every downloaded photo unreadable to the user's group."""
    for _ in range(100):
        tmp = str(folder / f".mediadesk-{secrets.token_hex(8)}.part")
        try:
            return os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {folder}")


_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows: no newline translation


def safe_name(name: str, file_id: int) -> str:
    """The name the desktop's Export gives the file (core.filenames.disk_name: no folders,
    characters or device names a file system refuses, no bidi overrides), within 200 bytes so
    " (12)" fits; file-<id> when nothing of the name is left."""
    if not clean_filename(name, "").rstrip(". "):
        return f"file-{file_id}"
    return disk_name(name)


def _settle(tmp: str, target: Path) -> Path:
    """Gives the finished `tmp` the first free name of `target`, `target (1)`, ...; never one
    that is taken, even by a file that appeared during the transfer. The name was picked before
    the transfer and replaced at its end: two downloads of different files with one name into
    one folder both took it, and the second overwrote the first. A hard link fails on a name
    that exists; on a file system without hard links (FAT, some shares and FUSE mounts) the
    name is claimed empty with O_EXCL and the finished file renamed over that claim."""
    links = True
    for candidate in _names(target):
        if links:
            try:
                os.link(tmp, candidate)
            except FileExistsError:
                continue
            except OSError:
                links = False  # not this file system's: claim the names instead
            else:
                os.unlink(tmp)
                return candidate
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _O_BINARY, 0o666))
        except FileExistsError:
            continue
        try:
            os.replace(tmp, candidate)
        except BaseException:
            candidate.unlink(missing_ok=True)  # the empty claim is not a download
            raise
        return candidate
    raise ClientError("exists", f"{target} exists")


def _names(path: Path) -> Iterator[Path]:
    yield path
    for n in range(1, 10_000):
        yield path.with_name(f"{path.stem} ({n}){path.suffix}")


def _retry_after(response: httpx.Response | None) -> int | None:
    """The seconds of a Retry-After in ASCII digits (core.ascii.whole_number), else None: a
    "²" passed str.isdigit() and failed float() (a proxy's header crashed the client)."""
    if response is None:
        return None
    return whole_number(response.headers.get("Retry-After", "").strip())
