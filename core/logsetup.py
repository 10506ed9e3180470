"""Log formats: human text, or one JSON object a line (MEDIADESK_LOG_FORMAT=json), and the
log file kept in the data folder (`LogFile`).

A JSON line carries time, level, logger, message and, when known, request_id (the API request
being served), file_id, key (the storage key) and outcome. The last three come from a log
call's `extra=`; the request id from a context variable the server sets per request.

Every line written (console and file, text and JSON) goes through `redact_secrets`: URLs carry
bearer tokens (`?access_token=` for players and EventSource) and signatures, signed download
links the file's name (personal data), and the access log writes request lines verbatim. An API
token is also told by its shape wherever a client put it (a path, a User-Agent, a Referer, an
X-Request-ID, a file name an error quotes). Log files are created owner-only (0600) whatever the
umask.
"""

from __future__ import annotations

import contextvars
import errno
import json
import logging
import logging.handlers
import os
import re
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from core.errors import (
    CATALOG_BUSY,
    CATALOG_REFUSED,
    CatalogUpgraded,
    MediaDeskError,
    StorageUnavailable,
    catalog_refusal,
    catalog_unreachable,
    is_no_space,
    passing_outage,
)
from core.token_format import PREFIX_CHARS, SECRET_CHARS, TOKEN_PREFIX

logger = logging.getLogger(__name__)

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CONTEXT_FIELDS = ("file_id", "key", "outcome", "file_type", "code")

# URL parameters whose values are credentials: a bearer token, a signature, a presigned S3/R2
# URL's signature and access key. The names stay in the log, so a line still says what was sent.
SECRET_PARAMS = (
    "access_token",
    "sig",
    "signature",
    "X-Amz-Signature",
    "X-Amz-Credential",
    "token",
    # a database URL's secrets in its query (libpq's and psycopg's names): a catalog error
    # quotes the URL it could not open
    "password",
    "sslpassword",
    "oauth_client_secret",
)
# Parameters that are personal data, not credentials, in a signed URL: a signed download link
# names the file (`name=`, S3/R2's `response-content-disposition`), and file names carry
# athletes' names. Redacted only in a URL that also carries a signature: elsewhere `name=` is
# ordinary (an athlete being created), and the file's own log lines name it by id and key.
SIGNED_PERSONAL_PARAMS = ("name", "response-content-disposition")
_SIGNATURE_PARAMS = ("sig", "signature", "X-Amz-Signature")
REDACTED = "\u2026"
LOG_FILE_MODE = 0o600
# A parameter is told by its name decoded, as the server reads it (aiohttp/yarl decode the
# query: `access%5Ftoken=` is `access_token=`, `%73ig=` is `sig=`); matching the name as sent
# let such a token or signature through whole. Compared case-insensitively, wider than the
# server reads them. The name as sent stays in the line.
_SECRET_NAMES = frozenset(p.lower() for p in SECRET_PARAMS)
_SIGNATURE_NAMES = frozenset(p.lower() for p in _SIGNATURE_PARAMS)
_PERSONAL_NAMES = frozenset(p.lower() for p in SIGNED_PERSONAL_PARAMS)
# one parameter anywhere in a line (a URL's query, also one cut short by a quote): its
# separator, name and value; `;` counts as a separator, more than the server splits on
_PARAM = re.compile(r"([?&;])([^=&;?#\s\"'<>]*)=([^&;#\s\"'<>]*)")
_QUERY = re.compile(r"\?[^\s\"'<>#]+")
# the password of a URL's user part (postgresql://user:password@host): a catalog or driver
# error quotes the DATABASE_URL it was given
_USERINFO = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*://[^/\s:@\"'<>]*:)([^@/\s\"'<>]+)@")


def _param_name(raw: str) -> str:
    return unquote_plus(raw, errors="replace").lower()


def _redact_param(names: frozenset[str]) -> Callable[[re.Match[str]], str]:
    def redact(match: re.Match[str]) -> str:
        if _param_name(match.group(2)) not in names:
            return match.group(0)
        return f"{match.group(1)}{match.group(2)}={REDACTED}"

    return redact


_redact_secret = _redact_param(_SECRET_NAMES)
_redact_personal = _redact_param(_PERSONAL_NAMES)


def _redact_signed_query(match: re.Match[str]) -> str:
    query = match.group(0)
    if not any(_param_name(m.group(2)) in _SIGNATURE_NAMES for m in _PARAM.finditer(query)):
        return query
    return _PARAM.sub(_redact_personal, query)


# An API token outside any named parameter: a client puts one where it likes (a path, a
# User-Agent, a Referer, an X-Request-ID, which every line of its request then carries, a file
# name an error quotes). Told by its shape, in any case and percent-encoded too (the server
# decodes a path and a query value, so `mdk%5F…` opens what `mdk_…` does). No word boundary
# before it: the access log's escapes come first (`\x22mdk_…`, `\xC3\xA9mdk_…`). A whole
# secret's length at least (more after it is still a token's), or, where a line or the text
# ends or an ellipsis cuts it, 20 characters of it: a token cut short is still caught, while a
# file name such as `mdk_highlights_2026_final_cut.jpg` is not, nor the token's listed prefix
# (8, in `token list` and the server's `token:name (prefix)`), all a redaction keeps.
TOKEN_MIN_SECRET = 20
_SHOWN_SECRET = PREFIX_CHARS - len(TOKEN_PREFIX)
_TOKEN_CHAR = r"(?:[A-Za-z0-9_-]|%(?:[46][1-9A-F]|[57][0-9A]|3[0-9]|2D|5F))"  # token_urlsafe's
_TOKEN = re.compile(
    "("
    + "".join(f"(?:{re.escape(c)}|%{ord(c):02X})" for c in TOKEN_PREFIX)
    + f"{_TOKEN_CHAR}{{{_SHOWN_SECRET}}})"
    + f"(?:{_TOKEN_CHAR}{{{SECRET_CHARS - _SHOWN_SECRET},}}"
    + f"|{_TOKEN_CHAR}{{{TOKEN_MIN_SECRET - _SHOWN_SECRET},{SECRET_CHARS - _SHOWN_SECRET - 1}}}"
    + "(?=…|$))",
    re.IGNORECASE | re.ASCII | re.MULTILINE,
)
# The prefix with each of its characters percent-encoded, lower case: a line holding a token
# holds the prefix as it is or one of these, a check far cheaper than the pattern's search
_ENCODED_PREFIX = tuple(f"%{ord(c):02x}" for c in TOKEN_PREFIX)
_PREFIX = TOKEN_PREFIX.lower()


def _may_hold_token(text: str) -> bool:
    lowered = text.lower()
    return _PREFIX in lowered or ("%" in text and any(c in lowered for c in _ENCODED_PREFIX))


def redact_secrets(text: str) -> str:
    """`text` with the values of SECRET_PARAMS in any URL, and a URL's password, replaced by
    an ellipsis, and those
    of SIGNED_PERSONAL_PARAMS in a signed one, however their names are percent-encoded; and
    any API token with all but its listed prefix replaced by one (`mdk_AbCdEfGh…`)."""
    if "=" in text:
        text = _QUERY.sub(_redact_signed_query, text)
        text = _PARAM.sub(_redact_secret, text)
    if "://" in text and "@" in text:
        text = _USERINFO.sub(lambda match: f"{match.group(1)}{REDACTED}@", text)
    if _may_hold_token(text):
        text = _TOKEN.sub(lambda match: match.group(1) + REDACTED, text)
    return text


# Third-party loggers whose DEBUG lines carry credentials outside any URL, where redact_secrets
# cannot tell them: botocore.endpoint logs each bucket request with its Authorization header
# (the access key id and the request's signature), botocore.auth the canonical request and the
# signature it computed. Either lets a reader of the log replay the request (with R2's unsigned
# payloads, a PUT of other bytes to that key) for the 15 minutes S3 accepts a signed request.
# Held at INFO whatever --log-level says; botocore's other DEBUG lines (retries, parsing, hooks)
# stay available for diagnosing a bucket.
CREDENTIAL_LOGGERS = ("botocore.auth", "botocore.endpoint")


def quiet_credential_loggers() -> None:
    """Keeps the CREDENTIAL_LOGGERS' DEBUG lines out of every log (console and files)."""
    for name in CREDENTIAL_LOGGERS:
        named = logging.getLogger(name)
        if named.getEffectiveLevel() < logging.INFO:
            named.setLevel(logging.INFO)


request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mediadesk_request_id", default=None
)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact_secrets(super().format(record))


def _redacted(value: object) -> object:
    """`value` for a JSON line with redact_secrets applied to every text in it: strings, those
    inside lists and dicts, and any other object written as its str()."""
    if isinstance(value, str):
        return redact_secrets(value)
    if isinstance(value, dict):
        return {str(k): _redacted(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redacted(v) for v in value]
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return redact_secrets(str(value))


class JsonFormatter(logging.Formatter):
    """One JSON object a line; never raises on odd arguments."""

    def format(self, record: logging.LogRecord) -> str:
        return self._json(record)

    def _json(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        # Each value is redacted before it is encoded: redacting the encoded line cut a
        # parameter's value through JSON's escapes, the `\` of the `\"` after it included (a
        # Referer or User-Agent ending in `?token=x`, which the access log quotes), leaving a line
        # no JSON reader could parse, so any client could hide its requests from a log pipeline.
        return json.dumps(_redacted(out), ensure_ascii=False)


# Running out of these is the process's state, not one operation's fault: every background loop
# (video workers, maintenance, the change feed) and every request fails the same way until
# descriptors are freed.
OUT_OF_RESOURCES = frozenset({errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM})
RESOURCE_REPORT_INTERVAL = 5.0
_FD_HEADROOM = 8


def descriptors_exhausted() -> bool:
    """Whether this process is at (or within a few of) its open-file limit. False where that
    cannot be told (no /proc)."""
    try:
        import resource

        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        count = len(os.listdir("/proc/self/fd"))
    except OSError as exc:
        return exc.errno in OUT_OF_RESOURCES  # listing needs a descriptor too
    except ImportError:
        return False
    return soft != resource.RLIM_INFINITY and count >= soft - _FD_HEADROOM


def out_of_resources(exc: BaseException | None) -> str | None:
    """Why `exc` failed when it failed for want of descriptors or memory (the OS's words),
    else None. Follows the causes: SQLAlchemy and psycopg wrap the OSError, and SQLite says
    only "unable to open database file" when open() was refused, so then the process's own
    count of descriptors decides."""
    seen = 0
    while exc is not None and seen < 12:
        if isinstance(exc, OSError) and exc.errno in OUT_OF_RESOURCES:
            return exc.strerror or str(exc)
        text = str(exc)
        if "Too many open files" in text:
            return "Too many open files"
        if "unable to open database file" in text and descriptors_exhausted():
            return "Too many open files"
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return None


class BoundedReports:
    """Counts failures per key and says when one is due to be reported: the first at once,
    then at most one per `interval`, with how many there were since the last report. The one
    rule for failures that repeat for as long as an outage lasts (a log line each, not one
    per failure)."""

    def __init__(
        self,
        interval: float = RESOURCE_REPORT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = interval
        self._clock = clock
        self._lock = threading.Lock()
        self._next: dict[object, float] = {}
        self._unreported: dict[object, int] = {}

    def due(self, key: object) -> int | None:
        """Counts one failure of `key`: the number to report now (this one included), or None
        while the last report is younger than the interval."""
        with self._lock:
            count = self._unreported.get(key, 0) + 1
            now = self._clock()
            if now < self._next.get(key, 0.0):
                self._unreported[key] = count
                return None
            self._next[key] = now + self.interval
            self._unreported[key] = 0
            return count

    def forget(self, key: object) -> None:
        """Starts `key`'s count again: its next failure is reported at once, as the first."""
        with self._lock:
            self._next.pop(key, None)
            self._unreported.pop(key, None)


# A PostgreSQL refusing the catalog's password, role or database (catalog_refused): reached,
# and refusing; "cannot be reached" during a password rotation sent people to the network
CATALOG_REFUSED_CAUSE = "the catalog's database server refuses MediaDesk's sign-in"


def refused_sign_in(exc: BaseException | None) -> bool:
    """`exc` is PostgreSQL refusing the catalog's set-up (core.errors.catalog_refusal), raw
    or as the catalog_refused a session raised."""
    if isinstance(exc, MediaDeskError) and exc.reason == CATALOG_REFUSED:
        return True
    return catalog_refusal(exc) is not None


def outage_cause(exc: BaseException | None) -> str | None:
    """Plain words for a failure that is the state of a disk or a service rather than the
    operation's fault (a full disk, the catalog or the store out of reach, no descriptors
    left), which lasts until it passes or someone acts; None for anything else (a bug: it
    deserves its traceback)."""
    reason = out_of_resources(exc)
    if reason is not None:
        return f"out of system resources: {reason}"
    if is_no_space(exc):
        if isinstance(exc, OSError | MediaDeskError):
            return "the disk is full (no space left)"
        # SQLAlchemy's text of it carries the whole statement and a link, over several lines
        return "the catalog's disk is full (database or disk is full)"
    if isinstance(exc, MediaDeskError) and exc.reason == CATALOG_BUSY:
        # counted among the catalog's outages (CATALOG_OUT_REASONS), but it answers: "cannot
        # be reached" sent people looking at a database that was fine
        return "another program holds the catalog locked"
    if refused_sign_in(exc):
        return CATALOG_REFUSED_CAUSE
    if catalog_unreachable(exc):
        return "the catalog cannot be reached"
    if isinstance(exc, CatalogUpgraded):
        # lasts until this process is restarted with the newer version; the schema guard has
        # logged the revision once, as an ERROR
        return "a newer MediaDesk upgraded the catalog; writes wait for a restart with it"
    if passing_outage(exc):
        reason = getattr(exc, "reason", None)
        if reason == "storage_throttled":
            return "the store is throttling requests (it asked to slow down)"
        if reason == "storage_server_error":
            return "the store is failing (its own server error)"
        return "the store cannot be reached"
    return None


def _first_of_catalog_outage(exc: BaseException | None) -> bool:
    """A session's failure that made the catalog's outage known (StorageUnavailable.first)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, StorageUnavailable):
            return exc.first
        exc = exc.__cause__
    return False


class OutageReports(BoundedReports):
    """Logs a background loop's failure that is an outage (`outage_cause`) as one WARNING line
    in plain words, without a traceback, at most once per `interval` per message with the
    number of failures since the last: a loop fails at every turn for as long as a disk stays
    full or a service away, and a traceback each time rotates the log history away."""

    def log(
        self,
        log: logging.Logger,
        exc: BaseException,
        msg: str,
        *args: object,
        extra: dict[str, Any] | None = None,
    ) -> bool:
        """Whether `exc` was an outage (then logged or counted); the caller logs anything
        else as the error it is."""
        cause = outage_cause(exc)
        if cause is None:
            return False
        if _first_of_catalog_outage(exc):
            # the failure that made the catalog's outage known: the episode's one ERROR line
            # (a loop had said it first as a WARNING, and no line said it as an ERROR); this
            # loop's count starts again with it
            self.forget((log.name, msg))
            log.error(f"{msg}: %s", *args, cause, extra=extra)
            return True
        count = self.due((log.name, msg))
        if count is not None:
            log.warning(
                f"{msg}: %s (%d such failures since the last report, reported at most every "
                "%.0f s)",
                *args,
                cause,
                count,
                self.interval,
                extra=extra,
            )
        return True


class OutageLogFilter(logging.Filter):
    """For records whose exception is running out of descriptors (or memory), or a PostgreSQL
    catalog that cannot be reached: no traceback, and one line per logger and message every
    `interval` seconds with the number of failures since the last (BoundedReports), instead
    of a traceback from every loop at every retry, which rotates the whole log history away in
    seconds. One instance is shared by the handlers, and a record gets the same answer from
    each."""

    def __init__(
        self,
        interval: float = RESOURCE_REPORT_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self._reports = BoundedReports(interval, clock)

    def filter(self, record: logging.LogRecord) -> bool:
        decided = getattr(record, "_mediadesk_resources", None)
        if decided is not None:
            return bool(decided)
        keep = self._decide(record)
        record._mediadesk_resources = keep
        return keep

    def _decide(self, record: logging.LogRecord) -> bool:
        if not record.exc_info:
            return True
        reason = out_of_resources(record.exc_info[1])
        if reason is not None:
            cause = f"out of system resources: {reason}"
        elif refused_sign_in(record.exc_info[1]):
            cause = CATALOG_REFUSED_CAUSE
        elif catalog_unreachable(record.exc_info[1]):
            # a PostgreSQL outage: every loop (feed, leader, video workers) fails at each tick
            # until it is back, and a traceback each time says nothing more than the first line
            cause = "the catalog cannot be reached"
        else:
            return True
        count = self._reports.due((record.name, str(record.msg)))
        if count is None:
            return False
        record.exc_info = None
        record.exc_text = None
        note = (
            f" ({cause}; {count} such failures since the last "
            f"report, reported at most every {self._reports.interval:.0f} s)"
        )
        record.msg = str(record.msg) + note.replace("%", "%%")
        return True


def quiet_outage_tracebacks(target: logging.Logger | None = None) -> None:
    """Puts one OutageLogFilter on every handler of the root logger (or `target`)."""
    handlers = (target or logging.getLogger()).handlers
    shared = next(
        (f for h in handlers for f in h.filters if isinstance(f, OutageLogFilter)),
        None,
    )
    shared = shared or OutageLogFilter()
    for handler in handlers:
        if shared not in handler.filters:
            handler.addFilter(shared)


def make_formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def apply_format(log_format: str, logger: logging.Logger | None = None) -> None:
    """Gives every handler of the root logger (or `logger`) the chosen format."""
    target = logger or logging.getLogger()
    formatter = make_formatter(log_format)
    for handler in target.handlers:
        handler.setFormatter(formatter)


class LogFileIsLink(OSError):
    """The log file's name is a symbolic link, which LogFile does not follow: its str() is the
    sentence every caller prints ("No log file: %s", "cannot be written (%s)"), where ELOOP's
    own text ("Too many levels of symbolic links") named neither the cause nor the way out."""

    def __init__(self, path: str) -> None:
        super().__init__(errno.ELOOP, os.strerror(errno.ELOOP), path)

    def __str__(self) -> str:
        return (
            f"{self.filename} is a symbolic link, which MediaDesk does not follow (it may run "
            "as root): remove it, or make the logs folder itself the link"
        )


class LogFile(logging.handlers.RotatingFileHandler):
    """The log file in the data folder, rotated (a few MB at most).

    The data folder is where a disk fills up first. While the file cannot be written, the
    other handlers (the console) say so once, instead of Python's "--- Logging error ---" and a
    traceback on stderr for every record, and once more when it can be written again, with the
    number of records lost meanwhile (that line goes into the file too). A record that cannot
    be formatted (a wrong log call) still gets Python's traceback: it names the call.

    The data folder's disk may also be slow (a network share, a busy or failing disk): a write
    there can take seconds. So the caller's thread (the desktop's GUI thread, the server's
    event loop) only filters and formats the record and queues the line; a writer thread of
    this handler writes, flushes and rotates. The queue holds QUEUE_LIMIT records: past that,
    records are dropped and counted (never waited for), and the count goes into the file
    once it can take records again. flush() and close() wait (at most DRAIN_TIMEOUT) until
    the queued lines are written, and logging's own shutdown at exit calls them, so a clean
    stop loses nothing.

    Its lines are redacted whatever formatter it is given, and the file and its rotations are
    owner-only: other local users must not read what a request looked like.
    """

    # a folder import logs a few lines a file; 10,000 dropped lines of a 30,000-line burst
    # while the writer waited for the interpreter on a busy machine (~200 bytes a line)
    QUEUE_LIMIT = 200_000
    DRAIN_TIMEOUT = 30.0

    def __init__(self, path: Path, max_bytes: int = 2_000_000, backups: int = 3) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        for n in range(1, backups + 1):  # rotations left by a version that made them 0644
            _owner_only(Path(f"{self.baseFilename}.{n}"))
        self._failing: str | None = None  # the error, while records cannot be written
        self._lost = 0
        self._failed = False  # in the record being written
        # the queue's state; the writer thread alone touches the stream (under _writing)
        self._pending: deque[tuple[logging.LogRecord, str]] = deque()
        self._queued = threading.Condition(threading.Lock())
        self._busy = False  # the writer holds records taken from _pending
        self._dropped = 0
        self._stopping = False
        self._writing = threading.RLock()
        self._batching = False  # the writer flushes once a batch, not once a line
        self._reopen_asked = False  # reopen(): the writer reopens the file before its next batch
        self._line: tuple[logging.LogRecord, str] | None = None  # the record being written
        self._writer = threading.Thread(
            target=self._write_queued, name=f"log writer {Path(path).name}", daemon=True
        )
        self._writer.start()

    def _open(self) -> Any:
        # open() would apply the umask (0644 usually); rotation opens the new file here too
        # O_NOFOLLOW: a link put in logs/ would have the lines (and the fchmod) of a process
        # that may run as root land on the file it names; the open fails as a full disk does
        flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(self.baseFilename, flags, LOG_FILE_MODE)
        except OSError as exc:
            # ELOOP is also a loop of links in the folders above: only the file itself is this
            if exc.errno == errno.ELOOP and os.path.islink(self.baseFilename):
                raise LogFileIsLink(self.baseFilename) from exc
            raise
        try:
            if hasattr(os, "fchmod"):
                os.fchmod(fd, LOG_FILE_MODE)  # a file made before this version
            return open(fd, "a", encoding=self.encoding, errors=self.errors)  # noqa: SIM115
        except BaseException:
            os.close(fd)
            raise

    def handle(self, record: logging.LogRecord) -> bool:  # type: ignore[override]
        """In the caller's thread: filters, formats (the request id, the arguments and the
        traceback are the caller's), queues. Never touches the disk."""
        if not self.filter(record):
            return False
        try:
            line = self.format(record)
        except Exception:
            self.handleError(record)  # a wrong log call: Python's traceback names it
            return True
        with self._queued:
            if self._stopping or len(self._pending) >= self.QUEUE_LIMIT:
                self._dropped += 1
                return True
            self._pending.append((record, line))
            self._queued.notify_all()
        return True

    def format(self, record: logging.LogRecord) -> str:
        if self._line is not None and self._line[0] is record:
            return self._line[1]  # formatted in the caller's thread
        line = super().format(record)
        if isinstance(self.formatter, JsonFormatter):
            # redacted field by field already: a JSON line redacted whole lost the `\` of a
            # `\"` after a redacted value, and was no longer JSON
            return line
        return redact_secrets(line)

    def _write_queued(self) -> None:
        while True:
            with self._queued:
                while not self._pending and not self._stopping:
                    self._queued.wait()
                if not self._pending:
                    return
                batch = list(self._pending)
                self._pending.clear()
                dropped, self._dropped = self._dropped, 0
                self._busy = True
            try:
                with self._writing:
                    self._reopen_if_moved()
                    self._batching = True
                    try:
                        if dropped:
                            self._write(self._dropped_note(dropped))
                        for record, line in batch:
                            self._write(record, line)
                    finally:
                        self._batching = False
                    self._flush_stream()
            finally:
                with self._queued:
                    self._busy = False
                    self._queued.notify_all()

    def reopen(self) -> None:
        """Has the writer reopen the file by its name before it writes again (SIGHUP, after
        logrotate renamed it). Never waits for the disk: a signal handler may call it."""
        with self._queued:
            self._reopen_asked = True
            self._queued.notify_all()

    def _reopen_if_moved(self) -> None:
        """In the writer thread: closes the stream when reopen() was asked or the file at our
        name is no longer the one open (renamed or deleted by logrotate or by hand), so the
        next line opens it again. WatchedFileHandler's rule, once a batch (one stat): without
        it a renamed server.log went on growing under its new name until the next SIGHUP, and
        the desktop app, which takes no signal, never let go of it."""
        if self.stream is None:
            return
        asked, self._reopen_asked = self._reopen_asked, False
        if not asked:
            try:
                on_disk = os.stat(self.baseFilename)
                open_now = os.fstat(self.stream.fileno())
            except FileNotFoundError:
                asked = True
            except (OSError, ValueError):
                return  # cannot tell: keep writing where we were
            else:
                asked = (on_disk.st_dev, on_disk.st_ino) != (open_now.st_dev, open_now.st_ino)
        if not asked:
            return
        stream, self.stream = self.stream, None  # type: ignore[assignment]
        try:
            stream.flush()
            stream.close()
        except OSError:
            pass  # the lines before it are the renamed file's; the next ones open a new file

    def _dropped_note(self, dropped: int) -> logging.LogRecord:
        note = self._record(
            logging.WARNING,
            "The log file %s was too slow to write; %d log records were dropped",
            self.baseFilename,
            dropped,
        )
        self._tell(note)
        return note

    def _write(self, record: logging.LogRecord, line: str | None = None) -> None:
        self._line = (record, line) if line is not None else None
        try:
            self.emit(record)
        finally:
            self._line = None

    def emit(self, record: logging.LogRecord) -> None:
        self._failed = False
        super().emit(record)
        if self._failing is not None and not self._failed:
            lost, self._failing, self._lost = self._lost, None, 0
            back = self._record(
                logging.INFO,
                "The log file %s can be written again; %d log records were lost",
                self.baseFilename,
                lost,
            )
            self._tell(back)
            super().emit(back)

    def _drain(self, timeout: float) -> bool:
        """Waits until every queued line is written; False if `timeout` passed first."""
        deadline = time.monotonic() + timeout
        with self._queued:
            while self._pending or self._busy:
                left = deadline - time.monotonic()
                if left <= 0 or not self._writer.is_alive():
                    return False
                self._queued.wait(left)
        return True

    def _flush_stream(self) -> None:
        # not StreamHandler.flush: it takes the handler's lock, which logging.shutdown holds
        # while it waits in flush() for the queue to drain
        try:
            if self.stream is not None and hasattr(self.stream, "flush"):
                self.stream.flush()
        except OSError:
            self.handleError(self._record(logging.ERROR, "flush"))

    def flush(self) -> None:
        if threading.current_thread() is self._writer:
            if not self._batching:
                self._flush_stream()
            return
        # a writer stuck on a disk that stopped answering holds _writing for as long: past
        # DRAIN_TIMEOUT the exit goes on without it (logging.shutdown calls this at exit)
        if self._drain(self.DRAIN_TIMEOUT) and self._writing.acquire(timeout=1.0):
            try:
                super().flush()
            finally:
                self._writing.release()

    def close(self) -> None:
        with self._queued:
            self._stopping = True
            self._queued.notify_all()
        stuck = False
        if threading.current_thread() is not self._writer:
            self._writer.join(self.DRAIN_TIMEOUT)
            stuck = self._writer.is_alive()
        with self._queued:
            left = len(self._pending) + self._dropped + (1 if stuck and self._busy else 0)
        if left:
            self._tell(
                self._record(
                    logging.WARNING,
                    "The log file %s was still being written at exit; %d log records were lost",
                    self.baseFilename,
                    left,
                )
            )
        if stuck:  # its stream stays open: closing it would wait for the stuck write too
            return
        with self._writing:
            super().close()

    def handleError(self, record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            super().handleError(record)
            return
        self._failed = True
        self._lost += 1
        if self._failing is None:
            self._failing = str(error)
            self._tell(
                self._record(
                    logging.WARNING,
                    "The log file %s cannot be written (%s); log records are lost until it can",
                    self.baseFilename,
                    error,
                )
            )

    def _record(self, level: int, message: str, *args: object) -> logging.LogRecord:
        return logging.LogRecord(__name__, level, __file__, 0, message, args, None)

    def _tell(self, record: logging.LogRecord) -> None:
        """Hands `record` to the root logger's other handlers (Python's last resort, stderr,
        when there is none)."""
        others = [h for h in logging.getLogger().handlers if h is not self]
        if not others and logging.lastResort is not None:
            others = [logging.lastResort]
        for handler in others:
            if record.levelno >= handler.level:
                handler.handle(record)


def reopen_log_files(target: logging.Logger | None = None) -> list[str]:
    """Has every LogFile of the root logger (or `target`) reopen its file (SIGHUP); the
    files' paths."""
    files = [h for h in (target or logging.getLogger()).handlers if isinstance(h, LogFile)]
    for handler in files:
        handler.reopen()
    return [h.baseFilename for h in files]


def _owner_only(path: Path) -> None:
    try:
        if path.is_symlink():
            return  # a chmod would reach the file it names (see LogFile._open)
        path.chmod(LOG_FILE_MODE)
    except FileNotFoundError:
        pass
    except OSError as exc:  # not ours; the live file is still made 0600
        logger.warning("Cannot make %s owner-only: %s", path, exc)
