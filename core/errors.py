"""Domain exceptions with a stable code and a human message, translated once at each edge."""

from __future__ import annotations

import contextvars
import errno
import logging
import re
import sqlite3
from collections.abc import Callable

from core.outage import ASK_AGAIN


class MediaDeskError(Exception):
    """Base of every error MediaDesk reports to a user or client."""

    code = "error"

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, object] | None = None,
        reason: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}
        # A stable, machine-readable refinement of `code` (e.g. "stale_version" for a
        # conflict): edges pick their own wording from it, never from the English message.
        self.reason = reason


class InvalidInput(MediaDeskError):
    code = "invalid_input"


class UnsupportedType(MediaDeskError):
    code = "unsupported_type"


class TypeMismatch(MediaDeskError):
    code = "type_mismatch"


class TooLarge(MediaDeskError):
    code = "too_large"


class EmptyFile(MediaDeskError):
    code = "empty_file"


class CorruptFile(MediaDeskError):
    code = "corrupt_file"


class NotFound(MediaDeskError):
    code = "not_found"


# NotFound's reason for an object the storage does not have (a key the catalog names whose bytes
# are gone, or not there yet): clients say "the stored copy is missing", not "no such file"
OBJECT_MISSING = "object_missing"


def object_missing(message: str) -> NotFound:
    """A storage's NotFound for a missing object; `message` (naming the key) is for the log."""
    return NotFound(message, reason=OBJECT_MISSING)


# Conflict's reason of a local file that changed while the desktop sent it in parts (edited in
# place, grown, cut), and again once it was sent from its first byte: no version of it was
# stored (core/resumable.py send_file). Its details: "path", and "how" it was found changed
# ("changed", "grew", "shrank").
SOURCE_CHANGED = "source_changed"


class NoSuchMultipartUpload(NotFound):
    """The bucket has no multipart upload of that id (S3's NoSuchUpload): aborted by a
    lifecycle rule, an admin or another tool, or already completed. No part can be added."""


class Conflict(MediaDeskError):
    code = "conflict"


class LostRace(Conflict):
    """Another writer changed the row between this transaction's read and its write.

    On PostgreSQL (READ COMMITTED) the versioned UPDATE of the loser matches 0 rows once the
    winner commits; on either backend a row found newer inside the transaction than the read
    the work was planned from. Database.retrying runs such work again from its read: an edit
    that named a version then answers stale_version as a sequential stale edit does; one that
    did not applies again. Only a race lost every time reaches a client, as a conflict whose
    reason tells it to reload (never internal_error).
    """

    def __init__(
        self,
        message: str = "The file was changed by someone else at the same moment; try again",
        *,
        details: dict[str, object] | None = None,
    ) -> None:
        super().__init__(message, details=details, reason="stale_version")


class SizeMismatch(MediaDeskError):
    code = "size_mismatch"


class UploadNotReceived(MediaDeskError):
    code = "upload_not_received"


class OffsetMismatch(Conflict):
    """A resumable upload's chunk does not start where the received bytes end."""

    code = "offset_mismatch"


class UploadGone(MediaDeskError):
    """A resumable upload that expired, was terminated or failed validation."""

    code = "upload_gone"


class UploadLocked(MediaDeskError):
    """Another request is writing to the same resumable upload right now."""

    code = "upload_locked"


class ChecksumMismatch(MediaDeskError):
    code = "checksum_mismatch"


class StorageUnavailable(MediaDeskError):
    code = "storage_unavailable"
    # False only when the request certainly never left this machine (`never_sent`): the
    # store not asked (StorageNotAsked), its connection refused or never opened
    # (core/storage/s3.py). Left True by anything that may have reached a store.
    sent = True

    def __init__(
        self,
        message: str,
        *,
        details: dict[str, object] | None = None,
        reason: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(message, details=details, reason=reason)
        # Whole seconds before the store may be asked again, when the failure says (an
        # outage's window, the store's own Retry-After): the server's Retry-After
        self.retry_after = retry_after
        # The service's own words for the failure (PostgreSQL's "remaining connection slots
        # are reserved…"), for the log only: the message a client reads is the same sentence
        # whatever the cause, and the log said only that sentence
        self.cause: str | None = None
        # An outage already known when this failure met it (the outage's probe asking again,
        # core/db/engine.py): the log counts it, as an answer given without asking, instead of
        # an ERROR line per request for as long as the outage lasts (server/errors.py)
        self.known = False
        # The failure that made its outage known, the first of the episode any part of the
        # process met (core/outage.py Outage.first_failure): its line is the episode's one
        # ERROR, a request's or a background loop's, whichever met it; `episode` numbers it
        self.first = False
        self.episode = 0


# The catalog's failures the sessions of one request met (core/db/engine.py), shared with the
# threads its calls run in (a copied context holds the same list). A request whose own
# session waited out a hang, and whose caller carried on (a token trusted through the
# outage), had its next session refused without asking: it was logged "answered without
# asking" and the failure that opened the outage, swallowed, had no ERROR line.
_MET: contextvars.ContextVar[list[StorageUnavailable] | None] = contextvars.ContextVar(
    "mediadesk_catalog_met", default=None
)


def meet_catalog_failures() -> list[StorageUnavailable]:
    """From now on in this context (a request), the catalog's failures its sessions meet."""
    met: list[StorageUnavailable] = []
    _MET.set(met)
    return met


def met_catalog_failure(down: StorageUnavailable) -> None:
    """A session of this context met the catalog out of reach (meet_catalog_failures)."""
    met = _MET.get()
    if met is not None:
        met.append(down)


def catalog_failures_met() -> list[StorageUnavailable]:
    """The catalog's failures the sessions of this context met so far (meet_catalog_failures;
    empty outside one), for a request that lasts (an event stream) to tell them before it ends."""
    return _MET.get() or []


# The reason of a write the local storage folder refuses itself (storage_error): its disk
# read-only, or the process without the right to write there
STORAGE_READ_ONLY = "storage_read_only"
# The causes a storage_unavailable names in its `reason`, when it knows one (the API document
# lists them; clients choose their sentence by them): the local storage folder refusing writes
# (storage_read_only), the catalog out of reach (catalog_down),
# the disk holding a SQLite catalog gone (catalog_disk_down) or its file not writable
# (catalog_read_only: a disk remounted read-only, rights or attributes changed; reads go on),
# locked by another program past the busy timeout (catalog_busy: catalog_locked),
# and the bucket's reach or set-up (core/storage/s3.py explain and check): out of reach
# (endpoint_unreachable), asking for fewer requests (storage_throttled: 503 SlowDown, 429) or
# failing inside (storage_server_error: any other 5xx), as R2 does under load or in incidents.
UNAVAILABLE_REASONS = (
    STORAGE_READ_ONLY,
    "catalog_unreachable",
    "catalog_disk_unreachable",
    "catalog_read_only",
    "catalog_busy",
    "catalog_refused",
    "endpoint_unreachable",
    "storage_throttled",
    "storage_server_error",
    "endpoint_refused",
    "bad_credentials",
    "no_permission",
    "access_denied",
    "bucket_missing",
    "object_damaged",
    "storage_not_configured",
)
# Those of them that a fault of the set-up gives (an endpoint or region set wrong, wrong keys,
# keys without rights, a bucket deleted or misnamed): they stay until an administrator fixes
# the storage settings, so neither a client's retry nor a user's "try again later" helps. The
# others (CATALOG_OUT_REASONS and the store's STORE_OUT_REASONS) are outages that pass. The
# server's sentences (server.errors.UNAVAILABLE_MESSAGES) and the client's retries follow this.
SETUP_FAULT_REASONS = frozenset(
    {
        # the local storage folder refuses the write itself (storage_error): no connection
        # to check, and it stays until its disk or rights are set right
        STORAGE_READ_ONLY,
        "endpoint_refused",
        "bad_credentials",
        "no_permission",
        "access_denied",
        "bucket_missing",
        # a stored object that is not the size the catalog records (a bad restore, a disk
        # fault): as lasting as a set-up fault, until an administrator restores the bytes
        "object_damaged",
        # files on a storage this process was started without and cannot build from the
        # saved settings (core/storage_migration.py): until it is restarted with them
        "storage_not_configured",
        # PostgreSQL refuses the catalog's user name, password or database (catalog_refused)
        "catalog_refused",
    }
)


# The reasons of a store that cannot serve now and will again by itself (passing_outage): out
# of reach, throttling, failing inside. Each of their answers says when to ask again
# (StorageUnavailable.retry_after, the server's Retry-After).
STORE_OUT_REASONS = ("endpoint_unreachable", "storage_throttled", "storage_server_error")


# Error codes whose cause outlasts any retry, whatever their reason: a server whose catalog a
# newer MediaDesk upgraded writes nothing until it is restarted (CatalogUpgraded). The client
# sent each refused write five times more (15 s of silence) before saying so.
LASTING_CODES = frozenset({"catalog_upgraded"})


class StorageNotAsked(StorageUnavailable):
    """Refused before anything was sent: the store (reason endpoint_unreachable, or
    storage_throttled) or the catalog (catalog_unreachable) was found out of reach, or asked
    for fewer requests, a moment ago and is not asked again before
    `retry_after` seconds (core/storage/s3.py's _Outage, core/db/engine.py's CatalogOutage),
    so nobody waits out its timeouts meanwhile. Nothing was done: any request, even one that
    must not run twice, may be sent again then (the server says the seed's 500 with
    Retry-After)."""

    retry_after: int

    def __init__(
        self, message: str, *, retry_after: int, reason: str = "endpoint_unreachable"
    ) -> None:
        super().__init__(message, reason=reason, retry_after=retry_after)
        self.sent = False


class StorageUnusable(StorageUnavailable):
    """Refused before anything was sent: the backend holding the object cannot be used by
    this process, not built from the saved settings (reason storage_not_configured,
    core/storage/routing.py) or set up too incompletely (R2 partly configured,
    core/storage/factory.py). It lasts until the settings change, so deletions leave those
    files as they were (a live file live) and go on with the others (core/library.py
    `empty_trash`, core/maintenance.py `purge_trash`)."""

    sent = False


class CatalogUpgraded(StorageUnavailable):
    """The catalog was migrated by a newer MediaDesk while this process ran
    (core/db/schema_guard.py): it writes nothing more until restarted with that version, since
    its rules (which files share a stored object, say) are no longer the catalog's."""

    code = "catalog_upgraded"


class InsufficientStorage(StorageUnavailable):
    """The disk (or a quota) is full: ENOSPC / EDQUOT, wherever it happened."""

    code = "insufficient_storage"


# The reason /health gives a storage check that found its disk full (core/storage/local.py
# check): the code its 507 answers give; not an outage that passes by waiting
NO_SPACE_REASON = "insufficient_storage"

NO_SPACE_ERRNOS = frozenset(
    n for n in (errno.ENOSPC, getattr(errno, "EDQUOT", None)) if n is not None
)


def is_no_space(exc: BaseException | None) -> bool:
    """A full disk or quota, told by the OS error, or by the database that hit it
    (SQLite's SQLITE_FULL, PostgreSQL's disk_full 53100), through wrapping exceptions."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in NO_SPACE_ERRNOS:
            return True
        if getattr(exc, "sqlstate", None) == "53100" or "database or disk is full" in str(exc):
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__
    return False


def no_room(exc: BaseException | None) -> bool:
    """A full disk or quota, said by the store or the catalog, raw (is_no_space) or already
    translated (InsufficientStorage)."""
    return isinstance(exc, InsufficientStorage) or is_no_space(exc)


# SQLSTATEs of a PostgreSQL that went away or is not taking work: connection exceptions (class
# 08), the server shut down or crashed under the session (57P01, 57P02), still starting up or
# recovering (57P03), and a statement stopped by MediaDesk's own statement_timeout (57014) on a
# server that hangs. A failure to connect has no SQLSTATE at all.
_CATALOG_GONE_STATES = ("57P01", "57P02", "57P03", "57014")
_SQLITE_BUSY = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
# SQLite's primary codes of a catalog file its disk no longer delivers (a USB disk pulled out, a
# NAS or FUSE mount gone): an I/O error reading, writing, syncing or locking it, or the file not
# found again (its folder went with the mount). A damaged catalog (SQLITE_CORRUPT, SQLITE_NOTADB)
# is not one: it does not pass by itself. SQLITE_IOERR_NOMEM is memory, not the disk.
_SQLITE_DISK_GONE = (sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN)
_SQLITE_NOMEM = getattr(sqlite3, "SQLITE_IOERR_NOMEM", 3082)
# The reason of a catalog another program held locked past the busy timeout (catalog_locked)
CATALOG_BUSY = "catalog_busy"
# The reasons of a catalog out of reach, or out of reach of writes: outages that pass
# (catalog_unreachable()). A read-only SQLite catalog is one: once its file can be written again
# the next session opens it again (core/db/engine.py), and work that met it is tried again. So
# is one locked by another program (a DB browser left open, a backup tool, a script's BEGIN
# EXCLUSIVE): the next write takes the lock once that program lets it go.
CATALOG_OUT_REASONS = (
    "catalog_unreachable",
    "catalog_disk_unreachable",
    "catalog_read_only",
    CATALOG_BUSY,
)
# The reasons of every outage that passes by itself, the store's and the catalog's: each of
# their answers says when to ask again (retry_after), /health's too. The catalog's had none,
# so a client told to "try again later" was not told when, unlike the store's.
PASSING_REASONS = (*STORE_OUT_REASONS, *CATALOG_OUT_REASONS)
# The reasons of a failed store request that leave what it did unknown: no answer
# (endpoint_unreachable: a timeout, a cut connection) or the store failing inside
# (storage_server_error: S3's 500 InternalError and other 5xx are "retry, outcome unknown": a
# PUT so answered may have stored the object, a DELETE removed it)
OUTCOME_UNKNOWN_REASONS = ("endpoint_unreachable", "storage_server_error")
# Keys of `details` that name a place on this machine (a folder, a file): for a person at it
# (the desktop app, the command line), never in a server's answer (public_details), which any
# token reads; the server's log has them, with the message, under the request id.
LOCAL_DETAILS = frozenset({"folder", "path"})


def sqlite_code(exc: BaseException | None) -> int | None:
    """SQLite's extended result code of an error, through SQLAlchemy's wrapping (None when no
    SQLite error is in the chain): errors are told by it, never by their English text."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        code = getattr(exc, "sqlite_errorcode", None)
        if isinstance(code, int):
            return code
        exc = getattr(exc, "orig", None) or exc.__cause__
    return None


def sqlite_disk_failed(exc: BaseException | None) -> bool:
    """SQLite could not read or write its file (see _SQLITE_DISK_GONE)."""
    code = sqlite_code(exc)
    return code is not None and (code & 0xFF) in _SQLITE_DISK_GONE and code != _SQLITE_NOMEM


def sqlite_read_only(exc: BaseException | None) -> bool:
    """SQLite refused a write to a catalog it could open only for reading (SQLITE_READONLY and
    its extended codes: "attempt to write a readonly database"): the file, its -wal or -shm, or
    its disk could not be written when the connection opened them."""
    code = sqlite_code(exc)
    return code is not None and (code & 0xFF) == sqlite3.SQLITE_READONLY


def sqlite_damaged(exc: BaseException | None) -> bool:
    """SQLite found its file damaged ("malformed", "file is not a database"). Also what a disk
    that fails a write says on the read after it (the kernel dropped the page it had taken),
    so core/db/engine.py looks at the disk before calling the catalog damaged."""
    code = sqlite_code(exc)
    return code is not None and (code & 0xFF) in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB)


def catalog_unreachable(exc: BaseException | None) -> bool:
    """The PostgreSQL catalog could not be reached or dropped the connection (stopped,
    crashed, restarting, hanging), through SQLAlchemy's and our own wrapping: a passing outage,
    not a fault of the request. SQLite's own errors do not count; the disk under its file gone
    counts once core/db/engine.py has said so (catalog_disk_down)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if getattr(exc, "connection_invalidated", False):
            return True
        # catalog_down() with no cause: a session refused while the outage is known
        # (core/db/engine.py CatalogOutage), so the catalog was not even asked
        if isinstance(exc, StorageUnavailable) and exc.reason in CATALOG_OUT_REASONS:
            return True
        kind = type(exc)
        if kind.__module__.startswith("psycopg") and any(
            k.__name__ in ("OperationalError", "InterfaceError") for k in kind.__mro__
        ):
            state = getattr(exc, "sqlstate", None)
            if state is None or state.startswith("08") or state in _CATALOG_GONE_STATES:
                return True
        exc = getattr(exc, "orig", None) or exc.__cause__ or _raised_while_handling(exc)
    return False


# PostgreSQL's words for a connection it refuses because of the set-up: the password or the
# way of logging in (28P01, 28000: "password authentication failed", "no pg_hba.conf entry",
# a role that may not log in or does not exist), the database named (3D000), or libpq's when
# the server asks for a password none gave. libpq hands a refused connection's FATAL message
# over as text only, without its SQLSTATE; in English (a server whose lc_messages says it in
# another language stays catalog_unreachable).
_PG_REFUSED = re.compile(
    r"authentication failed for user|no pg_hba\.conf entry|is not permitted to log in"
    r'|role "[^"]*" does not exist|database "[^"]*" does not exist|no password supplied'
)
# The reason of a catalog that refuses the connection for its set-up (catalog_refusal)
CATALOG_REFUSED = "catalog_refused"
# The reason of a catalog out of reach (catalog_down)
CATALOG_UNREACHABLE = "catalog_unreachable"


def first_of_outage(exc: BaseException | None, claim: Callable[[], bool]) -> bool:
    """Whether `exc` is the first failure of its catalog outage's episode, whose line is the
    ERROR (StorageUnavailable.first, which a session of core.db claimed); a loop's own
    connection (a LISTEN, the schema guard's presence) claims it with `claim` (the catalog's
    Outage.first_failure). A loop had said the outage first with a WARNING, and no line said
    it as an ERROR."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, StorageUnavailable):
            return exc.first
        if catalog_refusal(exc) is not None:
            return False  # a set-up fault, no outage: the engine logs it once as an ERROR
        if catalog_unreachable(exc):
            return claim()
        exc = exc.__cause__
    return False


def owes_outage_error(exc: BaseException | None) -> bool:
    """Whether the caller holding `exc` owes its catalog outage's one ERROR line: `exc` is the
    first failure of the episode (first_of_outage, claimed by a session of core.db), whose line
    is the ERROR whoever met it, and no request tells it (this context's sessions add their
    failures to its list: meet_catalog_failures; told twice, the outage had two ERROR lines).
    A thread that caught it and said it below ERROR, or not at all, left the outage with no
    ERROR line: the schema guard's look (668a482), the leader's due read, the deferred
    deletions' timer, a lease's renewal."""
    return _MET.get() is None and first_of_outage(exc, lambda: False)


def outage_level(exc: BaseException | None, level: int) -> int:
    """The level of a line saying `exc` that would be `level`: ERROR when its caller owes the
    outage's ERROR line (owes_outage_error)."""
    return logging.ERROR if owes_outage_error(exc) else level


def pg_words(exc: BaseException | None) -> str | None:
    """PostgreSQL's (or libpq's) own words of the first psycopg error in the chain, one line
    ("connection failed: connection to server at … failed: FATAL: …" shortened to what
    follows the last "failed: "), for a log line; libpq's words never hold the password."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if type(exc).__module__.startswith("psycopg"):
            text = " ".join(str(exc).split())
            return text.rsplit(" failed: ", 1)[-1] or None
        exc = getattr(exc, "orig", None) or exc.__cause__
    return None


def catalog_refusal(exc: BaseException | None) -> str | None:
    """PostgreSQL's words when it refused the connection because of the set-up (_PG_REFUSED:
    the user name, password or database in DATABASE_URL), else None. A fault someone must mend,
    not an outage: waiting does not help, and "try again later" sent people waiting."""
    words = pg_words(exc)
    return words if words is not None and _PG_REFUSED.search(words) else None


def catalog_refused(words: str) -> StorageUnavailable:
    """The error of a PostgreSQL catalog that refuses the connection (catalog_refusal)."""
    return StorageUnavailable(
        f"PostgreSQL refuses the catalog's connection ({words}): check the user name, "
        "password and database in DATABASE_URL",
        reason=CATALOG_REFUSED,
    )


def _raised_while_handling(exc: BaseException) -> BaseException | None:
    """The error an unexpected one was raised while handling (its implicit __context__): the
    rollback of a dropped PostgreSQL connection can fail in its turn (SQLAlchemy's
    PendingRollbackError), the drop only its context. A domain error, or one raised `from
    None`, is an answer of its own and is not looked behind."""
    if isinstance(exc, MediaDeskError) or exc.__suppress_context__:
        return None
    return exc.__context__


def passing_outage(exc: BaseException | None) -> bool:
    """The store out of reach (reason endpoint_unreachable: refused, silent, cut), throttling
    or failing inside (STORE_OUT_REASONS), or the catalog: an outage that passes by itself,
    unlike a set-up fault (SETUP_FAULT_REASONS) or a full disk, which stay until someone acts.
    Work that meets it is tried again later."""
    if isinstance(exc, StorageUnavailable) and exc.reason in STORE_OUT_REASONS:
        return True
    return catalog_unreachable(exc)


def store_answered(exc: BaseException) -> bool:
    """Whether a failed storage request got the store's answer, so the object is as the store
    then tells: a write left nothing at the key (a local write is atomic; a bucket that
    answered refused the object), a DELETE did nothing the store will not say. Every failure
    is such an answer but one whose outcome the bucket leaves unknown
    (OUTCOME_UNKNOWN_REASONS: no answer, or a 500 InternalError after which the object may
    be stored all the same), which the bucket may have carried out or carry out later; an
    error that is not ours (a bug) says nothing of the store. The one rule of ingest's
    cleanup of a failed store (core/ingest.py) and of a hard delete's way back
    (core/library.py)."""
    if not isinstance(exc, MediaDeskError):
        return False
    return not (isinstance(exc, StorageUnavailable) and exc.reason in OUTCOME_UNKNOWN_REASONS)


def never_sent(exc: BaseException) -> bool:
    """Whether a failed storage request certainly never reached the store, so it did nothing
    (unlike one unanswered, `store_answered`): not asked (StorageNotAsked), or its connection
    refused or never opened, on every try. A routing storage that asked another backend first
    says it was sent (core/storage/routing.py). A hard delete's way back (core/library.py)."""
    return isinstance(exc, StorageUnavailable) and not exc.sent


def retry_after(exc: MediaDeskError) -> int | None:
    """The whole seconds a client waits before sending the request again (a Retry-After): what
    the failure says (a store's quiet window, the store's own Retry-After, a catalog's window),
    else, for a store or catalog that will serve again by itself (PASSING_REASONS), ASK_AGAIN.
    None for anything else: waiting does not help a set-up fault or a bad request."""
    if not isinstance(exc, StorageUnavailable):
        return None
    if exc.retry_after is not None:
        return exc.retry_after
    return ASK_AGAIN if exc.reason in PASSING_REASONS else None


def catalog_busy(exc: BaseException | None) -> bool:
    """Another writer held the catalog past the wait given (SQLite's busy timeout, or
    Database.write's `wait`): SQLite's "database is locked", this process's own writer lock,
    PostgreSQL's lock_timeout (55P03, which MediaDesk sets for a `wait`). Passes with that
    write; a session that meets it leaves as catalog_locked (core/db/engine.py)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        code = getattr(exc, "sqlite_errorcode", None)  # an extended code: its low byte is the kind
        if isinstance(exc, TimeoutError) or (code is not None and (code & 0xFF) in _SQLITE_BUSY):
            return True
        if type(exc).__module__.startswith("psycopg") and getattr(exc, "sqlstate", None) == "55P03":
            return True
        exc = getattr(exc, "orig", None) or exc.__cause__
    return False


def not_ready(file_id: int, status: str) -> InvalidInput:
    """The 400 of work on a file whose upload is not done (a reprocess, a photo's images made
    again): one sentence for a video and a photo, whichever module refuses it."""
    return InvalidInput(f"File {file_id} is not ready (status {status})")


def catalog_down() -> StorageUnavailable:
    """The error of a catalog that cannot be reached, as every path reports it."""
    return StorageUnavailable(
        "The catalog (database) cannot be reached right now; try again later",
        reason="catalog_unreachable",
    )


def catalog_locked(path: object | None) -> StorageUnavailable:
    """The error of a catalog another program held locked past the busy timeout (catalog_busy
    told it): SQLite's "database is locked", PostgreSQL's lock_not_available. The session's
    transaction was rolled back; it passes once that program lets go. The path, when the
    catalog is a file, is for the desktop's sentence and the log (LOCAL_DETAILS), never for a
    server's client."""
    where = "" if path is None else f" ({path})"
    return StorageUnavailable(
        f"Another program holds the catalog{where} locked (a database browser or backup tool "
        "left open, a script, or another MediaDesk's long write); try again once it lets go",
        reason=CATALOG_BUSY,
        details={} if path is None else {"path": str(path)},
    )


def catalog_disk_down(folder: object) -> StorageUnavailable:
    """The error of a SQLite catalog whose disk cannot be read or written (sqlite_disk_failed):
    an outage that passes once the disk is back at its place, like catalog_down's. The folder
    is for the desktop's sentence and the log (LOCAL_DETAILS), never for a server's client."""
    return StorageUnavailable(
        f"The disk holding the library ({folder}) cannot be read or written: it was unplugged, "
        "or the network share or mount is gone. Connect it again; MediaDesk goes on once it "
        "is back",
        reason="catalog_disk_unreachable",
        details={"folder": str(folder)},
    )


def public_details(exc: MediaDeskError) -> dict[str, object]:
    """What of an error's details a server's client may read: all but LOCAL_DETAILS."""
    return {k: v for k, v in exc.details.items() if k not in LOCAL_DETAILS}


def object_damaged(key: str, stored: int, recorded: int) -> StorageUnavailable:
    """The error of a stored object that is not the size the catalog records, as every read
    path reports it (core.library): serving it would hand out a cut or padded file as whole."""
    return StorageUnavailable(
        f"The stored object {key!r} has {stored} bytes, the catalog records {recorded}: "
        "it is damaged (a bad restore or a disk fault); restore it from a backup",
        reason="object_damaged",
        details={"stored_size": stored, "recorded_size": recorded},
    )


def check_object_size(key: str, stored: int, recorded: int | None) -> None:
    """object_damaged when a file's stored object has `stored` bytes where its catalog row
    records `recorded` (None: nothing recorded, nothing to check). Every read of a file's
    bytes asks this (core.library, core.thumbnail_remake): a cut original decoded was said as
    a damaged image (400), or made thumbnails from half a photo."""
    if recorded is not None and stored != recorded:
        raise object_damaged(key, stored, recorded)


def is_object_damaged(exc: BaseException) -> bool:
    """Whether `exc` is `object_damaged`'s error: a run over many files (maintenance, `mediadesk
    reprocess --photos`) passes over such a file as over one whose object is gone (reconcile
    lists both), where an outage of the store ends the run."""
    return isinstance(exc, StorageUnavailable) and exc.reason == "object_damaged"


# What a full disk's error tells the person who asked, by what they asked to save: a file's
# bytes (an upload, its confirmation, a tus upload's finish) or a change (an edit, a move to or
# from the trash, a presign, a job asked for), which "the file" misdescribed. The code is
# insufficient_storage either way.
NO_SPACE_FOR_FILE = "There is not enough free storage space to save the file"
NO_SPACE_FOR_CHANGE = "There is not enough free storage space to save the change"


def no_space() -> InsufficientStorage:
    """The error of a full disk or quota, as every path reports it."""
    return InsufficientStorage(NO_SPACE_FOR_FILE)


def storage_error(exc: OSError, message: str) -> StorageUnavailable:
    """The domain error for a failed disk operation: a full disk is told apart, and so is a
    disk or folder that refuses the write (storage_read_only, the path in LOCAL_DETAILS)."""
    if is_no_space(exc):
        return no_space()
    if exc.errno in _REFUSED_ERRNOS:
        return StorageUnavailable(
            f"{message}: {exc.strerror or exc}",
            reason=STORAGE_READ_ONLY,
            details={"path": str(exc.filename)} if exc.filename else None,
        )
    return StorageUnavailable(f"{message}: {exc.strerror or exc}")


# A disk remounted read-only (after an error, a card's lock switch), or rights or attributes
# changed under the process: said as storage_read_only. Without a reason, the desktop's
# sentence sent a user of a local folder to check "the connection and the storage settings".
_REFUSED_ERRNOS = frozenset({errno.EROFS, errno.EACCES, errno.EPERM})


class InvalidSignature(MediaDeskError):
    code = "invalid_signature"


class SignatureExpired(MediaDeskError):
    code = "signature_expired"


class SettingsError(MediaDeskError):
    code = "invalid_setting"


class Cancelled(MediaDeskError):
    code = "cancelled"
