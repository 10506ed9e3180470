"""Engine and session factory: SQLite with WAL, busy timeout and foreign keys; PostgreSQL too."""

from __future__ import annotations

import contextvars
import errno
import logging
import os
import random
import shutil
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext, suppress
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DisconnectionError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from core.db import schema_guard
from core.db.disk import check_remote_folder, remote_filesystem
from core.errors import (
    InsufficientStorage,
    LostRace,
    SettingsError,
    StorageNotAsked,
    StorageUnavailable,
    catalog_busy,
    catalog_disk_down,
    catalog_down,
    catalog_locked,
    catalog_refusal,
    catalog_refused,
    catalog_unreachable,
    is_no_space,
    met_catalog_failure,
    pg_words,
    sqlite_damaged,
    sqlite_disk_failed,
    sqlite_read_only,
)
from core.fsmodes import FILE_MODE, make_dirs
from core.outage import ASK_AGAIN, NotNow, Outage

T = TypeVar("T")

# SQLite's own ceiling by default (SQLITE_MAX_MMAP_SIZE); a bigger catalog reads the rest as usual
SQLITE_MMAP_SIZE = 0x7FFF0000
# Tries of a write that lost a race (Database.retrying). Each loss means another writer
# committed to the same row meanwhile; the bound keeps the work finite when a row is rewritten
# without end. Not enough for a burst of edits of one file from several processes (2–3 of 40
# lost 6 times over three servers): an edit locks the row instead (Catalog.locked_file). A
# trash or restore keeps the optimistic tries (one writer of a file per process, under its edit
# lock): 6 were lost in a row once in a full test run (40 at once over three processes), so 10.
RACE_ATTEMPTS = 10
# Milliseconds a SQLite transaction waits for another connection's write lock (a slow import
# or edit in another process) before "database is locked"; Database.write(wait=) shortens it
BUSY_TIMEOUT_MS = 30_000
# Milliseconds of one wait for that lock in C, between which a Ctrl+C is heard (_begin_immediate)
BUSY_SLICE_MS = 250


def busy_seen() -> float:
    """Seconds after a write met another program's lock (catalog_locked) that /health still
    says catalog_busy, unless a write commits meanwhile (Database.lately_busy). Health only
    reads, which such a lock lets through (WAL), and a write probe of its own would wait the
    busy timeout and take the lock from the writes it serves. A client refused retries after
    ASK_AGAIN and its write waits up to the busy timeout before it is refused again: the
    window spans that (and a second retry) so a lock that holds keeps /health degraded
    throughout while anything writes, yet ends by itself once nothing meets it."""
    return BUSY_TIMEOUT_MS / 1000 + 2 * ASK_AGAIN


# Free bytes under which a catalog that fails to open is reported as on a full disk (SQLite
# needs a few pages for its -wal and -shm files)
FULL_BELOW = 1024 * 1024


def disk_full(folder: Path | str) -> bool:
    """Whether the disk holding `folder` has less than FULL_BELOW left for this process: the
    blocks reserved for root count for a process running as root (a container's), which
    writes into them; OSError when the folder cannot be asked."""
    if not hasattr(os, "statvfs") or not hasattr(os, "geteuid"):
        return shutil.disk_usage(folder).free < FULL_BELOW
    st = os.statvfs(folder)
    blocks = st.f_bfree if os.geteuid() == 0 else st.f_bavail
    return blocks * st.f_frsize < FULL_BELOW


# Bytes of the longest catalog path SQLite opens: its VFS holds a path in 512 bytes and opens
# a catalog's "-journal" beside it, so past 504 (measured, WAL or not) it only says "unable to
# open database file"
SQLITE_MAX_PATH = 512 - len("-journal")
# The reasons of a catalog that cannot be opened because of its folder (the desktop app's
# start-up dialog words them): one it cannot write, a folder where the catalog file goes
CATALOG_READ_ONLY = "catalog_read_only"
CATALOG_NOT_A_FILE = "catalog_not_a_file"
# A SQLite catalog file SQLite finds damaged at start (a restore of a copy cut short, a
# truncated file): permissions or free space, which "could not be opened" sent people to, do
# not mend it; only a whole copy does
CATALOG_DAMAGED = "catalog_damaged"
SHORTER_CATALOG_PATH = (
    "Use a shorter data folder (--data-dir or MEDIADESK_DATA_DIR), or keep only the catalog "
    "at a short path: DATABASE_URL=sqlite:////short/path/mediadesk.sqlite3"
)
# A pooled SQLite connection's mark (its record's info): opened while the catalog could not be
# written, so SQLite opened it for reading only, and it stays so (make_engine's checkout)
OPENED_READ_ONLY = "mediadesk_opened_read_only"
# Seconds a new PostgreSQL connection may take (libpq's connect_timeout), unless the URL says
CONNECT_TIMEOUT = 5
# Seconds a request's catalog statement may wait for PostgreSQL's answer (catalog_deadline):
# far above any statement of a request on a healthy catalog, far below a client's patience
CATALOG_DEADLINE = 15.0
WATCHDOG_TICK = 0.5
# Seconds a pooled connection's ping (SELECT 1) may take at least, however short the deadline
PING_FLOOR = 2.0
# The share of a request's deadline a PostgreSQL statement may wait for another session's lock
# (lock_timeout, lock_wait): a lock held past it (a LOCK TABLE, a backup, a long transaction)
# ends the statement as catalog_busy (55P03) while the watchdog's cut is still seconds away.
# Without it the watchdog cut every statement waiting on a lock at the deadline, which said
# catalog_unreachable ("cannot be reached") of a catalog that answered all along.
LOCK_SHARE = 2 / 3
# Seconds after which a probe of a catalog found out of reach counts as an answer
# (CatalogOutage): longer than a hung catalog holds any one session (a pooled connection's
# ping cut at the deadline, a new connection's connect_timeout, a statement's deadline)
PROBE_PATIENCE = 2 * CATALOG_DEADLINE + CONNECT_TIMEOUT

logger = logging.getLogger(__name__)


def make_engine(url: str, warn_remote: bool = True) -> Engine:
    """An engine configured for concurrent use from the app's and the server's threads
    (`warn_remote`: see check_remote_folder)."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        mmap_size = SQLITE_MMAP_SIZE
        synchronous = "NORMAL"
        if path and path != ":memory:":
            try:
                make_dirs(Path(path).parent)
            except OSError as exc:
                # a DATABASE_URL folder under /proc or a read-only mount: every command's
                # traceback (`doctor` included) instead of a line a person can act on
                raise StorageUnavailable(
                    f"The catalog could not be opened: its folder {Path(path).parent} cannot "
                    f"be made: {exc.strerror or exc}"
                ) from None
            folder = Path(path.split("?", 1)[0]).parent.resolve()
            remote = remote_filesystem(folder)
            if remote is not None:  # no map there: a page it cannot read would be a SIGBUS
                mmap_size = 0
                # WAL's NORMAL syncs the -wal only at a checkpoint: a commit is safe from a
                # crash of the process, not from a power cut. A share or mount that goes (a USB
                # disk pulled out, a NAS dropped) is a power cut for that disk, and took commits
                # the app had shown as done. FULL syncs each commit; a local disk keeps NORMAL.
                synchronous = "FULL"
                check_remote_folder(folder, remote, warn_remote)
            if "?" not in path:
                # SQLite would create the catalog 0644 and give -wal/-shm the same mode: made
                # first with MediaDesk's file mode (core/fsmodes.py); an empty file is a new one.
                # Only when it is missing: closing a descriptor of a catalog this process already
                # has open (a second Library, doctor) dropped every SQLite lock the process held
                # on it (POSIX locks), so another process closing the catalog took itself for
                # the last one and removed the -wal under this one's readers: "database disk
                # image is malformed" until they reconnected.
                try:
                    _catalog_file(path)
                except OSError as exc:  # a folder in its place, a read-only disk: a traceback
                    raise _not_opened(url, path, exc) from None
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            pool_size=8,
            max_overflow=8,
        )
        catalog = path.split("?", 1)[0] if path and path != ":memory:" else None

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, record: Any) -> None:
            if catalog is not None:
                record.info[OPENED_READ_ONLY] = unwritable_catalog_file(catalog) is not None
            dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
            cur = dbapi_conn.cursor()
            # the first read of the catalog: in slices, as _begin_immediate takes the write
            # lock, since a catalog another program holds in exclusive locking mode kept a
            # start deaf to Ctrl+C here for the whole busy timeout
            deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
            cur.execute(f"PRAGMA busy_timeout={min(BUSY_SLICE_MS, BUSY_TIMEOUT_MS)}")
            while True:
                try:
                    cur.execute("PRAGMA journal_mode=WAL")
                    break
                except sqlite3.OperationalError as exc:
                    busy = exc.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
                    if not busy or time.monotonic() >= deadline:
                        raise
            cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute(f"PRAGMA synchronous={synchronous}")
            # Reads through a memory map: a search reads thousands of rows scattered over a big
            # catalog; one read() per page cost 2.4x the map for 5,000 of them in plain SQL at
            # 1M files (a few percent of a whole request through the library).
            # Virtual space only; the pages stay the kernel's page cache, shared by connections.
            # No map on a network share or FUSE mount (core/db/disk.py).
            cur.execute(f"PRAGMA mmap_size={mmap_size}")
            # Statement journals, sorts and temporary b-trees in memory, not in files under
            # /var/tmp: an import wrote ~10 of those a photo, each a slow operation on a NAS or
            # USB disk. Safe for memory because our statements keep them small: a listing
            # sorts at most a page (ORDER BY … LIMIT), an id list from the FTS index is at most
            # every id (~10 MB at a million files), GROUP BYs are over file_counts, a statement
            # journal holds the pages one statement changes, an index a migration builds sorts
            # tens of MB at a million files, and nothing runs VACUUM (whose copy of the whole
            # catalog this would put in memory).
            cur.execute("PRAGMA temp_store=MEMORY")
            cur.close()

        @event.listens_for(engine, "checkout")
        def _reopen_writable(_dbapi_conn: Any, record: Any, _proxy: Any) -> None:
            # SQLite opens a catalog it cannot write (a disk remounted read-only, rights or
            # attributes changed) for reading, and such a connection stays read-only: a pool
            # keeping those answered every write of a server with "attempt to write a readonly
            # database" until a restart, long after the file could be written again. Once it
            # can, the pool opens a new connection in its place (SQLAlchemy's own retry).
            if (
                catalog is not None
                and record.info.get(OPENED_READ_ONLY)
                and unwritable_catalog_file(catalog) is None
            ):
                raise DisconnectionError("opened while the catalog could not be written")

        @event.listens_for(engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # BEGIN IMMEDIATE takes the write lock up front, so concurrent writers wait on the
            # busy timeout instead of failing with "database is locked" on lock upgrade.
            options = conn.get_execution_options()
            if not options.get("mediadesk_write"):
                conn.exec_driver_sql("BEGIN")
                return
            busy_ms = options.get("mediadesk_busy_ms")  # Database.write(wait=)
            _begin_immediate(conn, BUSY_TIMEOUT_MS if busy_ms is None else int(busy_ms))

        return engine
    try:
        # a PostgreSQL that accepts the connection but never answers (a hung host, a stopped
        # postmaster) held each new connection, and the request waiting for it, for good
        args = {} if "connect_timeout" in url else {"connect_timeout": CONNECT_TIMEOUT}
        engine = create_engine(url, pool_pre_ping=True, connect_args=args)
    except ModuleNotFoundError as exc:
        # `make run` installs the app without the PostgreSQL driver (the `postgres` extra): the
        # team set-up's first command ended in "No module named 'psycopg'" and a traceback
        raise driver_missing(exc.name) from None
    _WATCHDOG.watch(engine)
    event.listen(engine, "begin", _pg_lock_wait)
    return engine


DRIVER_MISSING = "driver_missing"


def driver_missing(module: str | None, named: str = "DATABASE_URL") -> SettingsError:
    """A database URL whose driver is not installed: `named` is where the admin gave the URL
    (`catalog copy --to`), so the message does not send them to a variable they never set."""
    return SettingsError(
        f"{named} needs the database driver {module!r}, which is not installed: "
        "use a postgresql+psycopg://… URL and install the driver with "
        "pip install 'mediadesk[postgres]' (in a checkout: .venv/bin/pip install -e "
        "'.[postgres]')",
        reason=DRIVER_MISSING,
        details={"module": module},
    )


def _begin_immediate(conn: Connection, busy_ms: int) -> None:
    """BEGIN IMMEDIATE on a SQLite connection, waiting up to `busy_ms` for another connection's
    write lock in slices of BUSY_SLICE_MS. SQLite's busy handler sleeps in C, where Python runs
    no signal handler: a command waiting on a catalog another program held (a database browser
    left in BEGIN EXCLUSIVE, another MediaDesk's long write) heard Ctrl+C only when the whole
    30 s were over. Between slices the KeyboardInterrupt comes. Only taking the lock waits
    (WAL): the connection gets its usual timeout back as soon as BEGIN has it or gave up."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    deadline = time.monotonic() + busy_ms / 1000
    try:
        while (left := deadline - time.monotonic()) * 1000 > BUSY_SLICE_MS:
            raw.execute(f"PRAGMA busy_timeout={BUSY_SLICE_MS}")
            try:
                raw.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                    break  # raised below by SQLAlchemy, whose error the callers translate
        # the last try through SQLAlchemy, for the same reason: "database is locked" is
        # catalog_locked to the callers (core/errors.py)
        raw.execute(f"PRAGMA busy_timeout={max(int(left * 1000), 1)}")
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    finally:
        raw.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")


def lock_wait(deadline: float) -> int:
    """Milliseconds a statement under a `deadline` (catalog_deadline) waits for a lock."""
    return max(1, int(deadline * LOCK_SHARE * 1000))


def _pg_lock_wait(conn: Connection) -> None:
    """A PostgreSQL transaction under a request's deadline waits for locks lock_wait() at most.
    SET LOCAL: it ends with the transaction, so a pooled connection a background loop takes
    next waits for locks as before (for good, or Database.write's `wait`)."""
    seconds = _DEADLINE.get()
    if seconds is not None:
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = {lock_wait(seconds)}")


def _addresses(engine: Engine) -> int:
    """How many addresses a new connection to the engine's PostgreSQL tries in turn (at least
    one: a name that does not resolve now is the connection's error to tell, later)."""
    from psycopg.conninfo import conninfo_attempts

    _args, params = engine.dialect.create_connect_args(engine.url)
    try:
        # the resolver's answer now: a later one may differ, as for libpq itself
        attempts = conninfo_attempts({k: v for k, v in params.items() if isinstance(v, str)})
    except Exception:  # noqa: BLE001 - psycopg.OperationalError or the resolver's own
        return 1
    return max(1, len(attempts))


@contextmanager
def catalog_deadline(seconds: float) -> Iterator[None]:
    """Each PostgreSQL statement this thread (or context) starts inside the block, the pool's
    ping, commit and rollback included, ends after `seconds` without an answer: its connection
    is shut down under it, so it fails as a lost connection (storage_unavailable). Requests run
    under it; a background loop simply waits for a hung server to come back."""
    token = _DEADLINE.set(seconds)
    try:
        yield
    finally:
        _DEADLINE.reset(token)


class _Silence:
    """Set by the watchdog when it cuts a connection that a session of this context waited on
    past its deadline: that session met the catalog's silence, not a refusal."""

    __slots__ = ("met",)

    def __init__(self) -> None:
        self.met = False


class _Watchdog:
    """Shuts down the socket of a PostgreSQL connection still waiting for its server past the
    deadline of the statement that started the wait. A hung server (stopped, or its host gone
    silent) never answers and the kernel keeps the TCP connection alive, so neither libpq nor
    keepalives end the wait; statement_timeout is the server's, which is the part that hangs."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        # a waiting connection's id: (the connection, when it is cut, its deadline, whom to tell)
        self._due: dict[int, tuple[Any, float, float, _Silence | None]] = {}
        self._thread: threading.Thread | None = None

    def watch(self, engine: Engine) -> None:
        event.listen(engine, "before_cursor_execute", self._on_execute)
        event.listen(engine, "commit", self._on_connection)
        event.listen(engine, "rollback", self._on_connection)
        event.listen(engine.pool, "reset", self._on_reset)
        ping = engine.dialect.do_ping
        # A ping that meets a hung catalog is cut, and the pool opens a new connection in its
        # place, which waits libpq's connect_timeout in its turn: both within the deadline
        # (the cut comes up to two ticks late), or a request waited 15 + 5 s, not 15. The
        # timeout is per address (libpq's rule, psycopg's too): a host that resolves to
        # IPv4 and IPv6, or a URL of several hosts, waits it once for each.
        connect = float(str(engine.url.query.get("connect_timeout", CONNECT_TIMEOUT)))
        spare = connect * _addresses(engine) + 2 * WATCHDOG_TICK

        def do_ping(dbapi_conn: Any) -> bool:
            self.mark(dbapi_conn, spare)
            return ping(dbapi_conn)

        engine.dialect.do_ping = do_ping  # type: ignore[method-assign,assignment]

    def _on_execute(self, conn: Connection, *_args: Any) -> None:
        self.mark(conn.connection.dbapi_connection)

    def _on_connection(self, conn: Connection) -> None:
        # A connection that dropped (PostgreSQL restarting, a cut) is invalidated, and its
        # rollback is what this hears: asking it for its DBAPI connection then raises
        # PendingRollbackError over the real error, and the request answered internal_error.
        # It waits on nothing any more; its old mark goes with the pool's reset or its next use.
        if conn.invalidated:
            return
        try:
            dbapi_conn = conn.connection.dbapi_connection
        except SQLAlchemyError:
            return
        self.mark(dbapi_conn)

    def _on_reset(self, dbapi_conn: Any, *_args: Any) -> None:
        self.mark(dbapi_conn)

    def mark(self, dbapi_conn: Any, spare: float = 0.0) -> None:
        """Notes when the wait that dbapi_conn starts now may end at the latest: the deadline,
        less `spare` seconds kept for what may follow a cut (never below PING_FLOOR)."""
        seconds = _DEADLINE.get()
        if seconds is not None and spare:
            seconds = max(seconds - spare, min(seconds, PING_FLOOR))
        with self._lock:
            if seconds is None or dbapi_conn is None:
                self._due.pop(id(dbapi_conn), None)
                return
            due = time.monotonic() + seconds
            self._due[id(dbapi_conn)] = (dbapi_conn, due, seconds, _SILENCE.get())
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="mediadesk-catalog-watchdog", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            time.sleep(WATCHDOG_TICK)
            now = time.monotonic()
            with self._lock:
                overdue = [(k, c, t, s) for k, (c, at, t, s) in self._due.items() if at <= now]
                for key, *_ in overdue:
                    del self._due[key]
            for _, dbapi_conn, seconds, silence in overdue:
                if self._cut(dbapi_conn, seconds) and silence is not None:
                    silence.met = True

    @staticmethod
    def _cut(dbapi_conn: Any, seconds: float) -> bool:
        """Whether the connection was waiting, and is cut."""
        from psycopg import pq

        pgconn = getattr(dbapi_conn, "pgconn", None)
        # ACTIVE: a command was sent and its answer is awaited; else the marked wait is over
        if pgconn is None or pgconn.transaction_status != pq.TransactionStatus.ACTIVE:
            return False
        try:
            with socket.socket(fileno=os.dup(pgconn.socket)) as sock:
                sock.shutdown(socket.SHUT_RDWR)  # the waiting thread wakes to a closed connection
        except (OSError, ValueError) as exc:
            logger.debug("Could not cut a catalog connection: %s", exc)
            return False
        logger.warning("The catalog did not answer within %g s: its connection was closed", seconds)
        return True


_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "mediadesk_catalog_deadline", default=None
)
# set while this context's sessions are the outage's probe: the probe's own, nested ones
_PROBING: contextvars.ContextVar[bool] = contextvars.ContextVar("mediadesk_probing", default=False)
# what the watchdog tells the session of this context whose connection it cut (_Silence)
_SILENCE: contextvars.ContextVar[_Silence | None] = contextvars.ContextVar(
    "mediadesk_silence", default=None
)
_WATCHDOG = _Watchdog()


def catalog_folder(url: str) -> Path | None:
    """The folder of a SQLite catalog file (None for a server database or one in memory)."""
    if not url.startswith("sqlite"):
        return None
    path = url.split("///", 1)[-1].split("?", 1)[0]
    return Path(path).parent if path and path != ":memory:" else None


def sqlite_path_too_long(url: str) -> str | None:
    """Why SQLite cannot open this catalog file when its path is longer than it takes (None
    for a path it takes, a server database or one in memory)."""
    folder = catalog_folder(url)
    if folder is None:
        return None
    path = os.path.abspath(url.split("///", 1)[-1].split("?", 1)[0])  # SQLite's full path
    size = len(os.fsencode(path))
    if size <= SQLITE_MAX_PATH:
        return None
    return f"its path is {size} bytes long, longer than SQLite opens ({SQLITE_MAX_PATH}): {path}"


def check_catalog_path(url: str) -> None:
    """Refuses a SQLite catalog whose path is longer than SQLite opens, before anything is made
    for it (Library.open calls it before the data folder's subfolders): the refusal came only
    once the whole folder chain, the subfolders and an empty catalog file had been made."""
    too_long = sqlite_path_too_long(url)
    if too_long is not None:
        raise StorageUnavailable(
            f"The catalog could not be opened: {too_long}. {SHORTER_CATALOG_PATH}"
        )
    folder = catalog_folder(url)
    try:
        str(folder or "").encode("utf-8")
    except UnicodeEncodeError:
        # a folder named in another encoding (an old disk's Latin-1 "ñ"): Python names its
        # bytes with surrogates, which neither SQLAlchemy's URL nor sqlite3 encode, and every
        # command but doctor ended in a UnicodeEncodeError traceback
        shown = os.fsencode(str(folder)).decode("utf-8", "backslashreplace")
        raise StorageUnavailable(
            f"The catalog could not be opened: its folder's name is not UTF-8 ({shown}), which "
            "SQLite cannot open: rename the folder, or choose another one with --data-dir"
        ) from None


def unwritable_catalog_file(catalog: str | Path) -> Path | None:
    """The first of a SQLite catalog file and its -wal and -shm files that is there and cannot
    be written (a disk remounted read-only, no permission, an immutable attribute), else None:
    SQLite then opens the catalog for reading only. access(2), never open(2): closing any
    descriptor of the file would drop this process's SQLite locks on it (POSIX locks)."""
    for name in (str(catalog), f"{catalog}-wal", f"{catalog}-shm"):
        if os.path.exists(name) and not os.access(name, os.W_OK):
            return Path(name)
    return None


def _unwritable(url: str) -> Path | None:
    """Where a SQLite catalog cannot be written (a read-only disk, no permission: SQLite then
    says only "unable to open database file", or "attempt to write a readonly database"): its
    folder, else its file, -wal or -shm (unwritable_catalog_file); None when it can be."""
    folder = catalog_folder(url)
    if folder is None or not os.path.isdir(folder):  # a disk gone (an OSError) is not this
        return None
    if not os.access(folder, os.W_OK):
        return folder
    return unwritable_catalog_file(url.split("///", 1)[-1].split("?", 1)[0])


def catalog_read_only(url: str) -> StorageUnavailable | None:
    """The error of a SQLite catalog that cannot be written now (its folder, file, -wal or -shm:
    _unwritable), else None; without writing, for a health check: reads go on meanwhile."""
    place = _unwritable(url)
    return None if place is None else unwritable_catalog(place)


def unwritable_catalog(place: Path) -> StorageUnavailable:
    """The catalog cannot be written at `place`, its folder or one of its files (_unwritable)."""
    # the key says which (the desktop's sentence names a folder or a file; both LOCAL_DETAILS)
    if place.is_dir():
        said = f"The folder holding the catalog ({place}) cannot be written"
        key = "folder"
    else:
        said = f"The catalog file {place} cannot be written"
        key = "path"
    return StorageUnavailable(
        f"{said} (read-only disk, or no permission to write there): make it writable or choose "
        "another data folder",
        reason=CATALOG_READ_ONLY,
        details={key: str(place)},
    )


def _catalog_file(path: str) -> None:
    """Makes the SQLite catalog file at `path` with MediaDesk's mode when it is missing, and
    raises an OSError for one that is there but could not be opened, without opening it.

    Looked at with stat(2) and access(2), never open(2) (see make_engine). SQLite's own words
    for those were a bare "unable to open database file". A link to nowhere is refused
    (FileNotFoundError), not followed: SQLite made its target 0644, and a catalog linked to
    another disk that is not mounted, or moved away, would have become a new, empty library
    with a new admin token (core/db/left_behind.py)."""
    if os.path.isdir(path):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", path)
    if not os.path.lexists(path):
        with suppress(FileExistsError):  # made meanwhile by another process
            os.close(os.open(path, os.O_RDONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
        return
    os.stat(path)  # a link to nowhere or in a loop, a folder on the way that cannot be searched
    if not os.access(path, os.R_OK):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)


def _not_opened(url: str, path: str, exc: OSError) -> StorageUnavailable:
    """make_engine's creation or look at the catalog file failed: why, in one line naming it."""
    if os.path.isdir(path):
        return StorageUnavailable(
            f"The catalog could not be opened: {path} is a folder, not the catalog file: "
            "move it away or choose another data folder",
            reason=CATALOG_NOT_A_FILE,
            details={"path": path},
        )
    if isinstance(exc, FileNotFoundError) and os.path.islink(path):  # not a loop (ELOOP)
        target = os.path.realpath(path)
        return StorageUnavailable(
            f"The catalog could not be opened: {path} is a link to {target}, which does not "
            "exist (a disk not mounted, a file moved?): put the catalog back there, or remove "
            "the link to start a new, empty library",
            details={"path": path},  # not the target: a server's clients get all but LOCAL_DETAILS
        )
    folder = _unwritable(url)
    if folder is not None:
        return unwritable_catalog(folder)
    return StorageUnavailable(
        f"The catalog could not be opened: {path}: {exc.strerror or exc}: make it a file "
        "MediaDesk can read and write, or choose another data folder",
        details={"path": path},
    )


def unopenable(url: str, exc: SQLAlchemyError) -> StorageUnavailable:
    """Why the catalog could not be opened, in one line for a person. SQLite makes its -wal
    and -shm files as it opens a catalog closed cleanly: on a full disk that fails with a bare
    "disk I/O error", so the free space is looked at too. A path too long for SQLite fails as
    a bare "unable to open database file": said with its length and what to do."""
    too_long = sqlite_path_too_long(url)
    if too_long is not None:
        return StorageUnavailable(
            f"The catalog could not be opened: {too_long}. {SHORTER_CATALOG_PATH}"
        )
    folder = catalog_folder(url)
    if catalog_busy(exc):
        # another program held it past the busy timeout (one that keeps readers out too: an
        # exclusive locking mode, a catalog in rollback-journal mode): what a session says of it
        # (catalog_locked), not a bare "database is locked" that reads as our fault
        return catalog_locked(None if folder is None else url.split("///", 1)[-1].split("?")[0])
    full = is_no_space(exc)
    if folder is not None and not full:
        with suppress(OSError):
            full = disk_full(folder)
    if full:
        where = f" ({folder})" if folder is not None else ""
        return InsufficientStorage(
            f"The disk holding the catalog{where} is full: free some space and start again"
        )
    unwritable = _unwritable(url)
    if unwritable is not None:
        return unwritable_catalog(unwritable)
    if folder is not None and sqlite_damaged(exc):
        return damaged_catalog(url.split("///", 1)[-1].split("?", 1)[0], exc)
    refused = catalog_refusal(exc)
    if refused is not None:
        # a wrong password at start is the set-up fault a session's refusal is (catalog_refused):
        # "the storage cannot be reached" sent people checking a network that was fine
        return catalog_refused(refused)
    cause = getattr(exc, "orig", None) or exc
    return StorageUnavailable(f"The catalog could not be opened: {str(cause).strip()}")


def damaged_catalog(path: str, exc: BaseException) -> StorageUnavailable:
    """The error of a SQLite catalog file SQLite reads as damaged (core.errors.sqlite_damaged:
    "database disk image is malformed", "file is not a database"), SQLite's words kept."""
    cause = getattr(exc, "orig", None) or exc
    return StorageUnavailable(
        f"The catalog file {path} is damaged ({str(cause).strip()}): it is not a whole "
        "MediaDesk catalog (a copy cut short, a restore that did not finish). Restore it from "
        "a backup (sqlite3 .backup makes a whole one), then start again",
        reason=CATALOG_DAMAGED,
        details={"path": path},
    )


class CatalogOutage(Outage):
    """What one Database knows of its PostgreSQL being out of reach, shared by its threads
    (the shape of core/storage/s3.py's _Outage, for the catalog).

    Once a session found the catalog unreachable (stopped, refused, silent past the deadline),
    one request's session at a time goes on asking it — the probe — and the other requests'
    sessions fail at once with catalog_unreachable instead of each waiting out the deadline:
    on a hung catalog every request waited 15–20 s for its own verdict, a player's every seek
    of a file the server could serve from its cache (server/record_cache.py) among them.
    Sessions outside a request's deadline (the background loops, which wait for the catalog
    to come back) are never refused, and only tell. Any answer from the catalog ends the
    outage, and so does a probe still going after `patience` seconds (a hung catalog fails it
    sooner). A recovered catalog serves the very next request once a probe may start.

    A catalog that was silent (a deadline or connect_timeout expired, not a refusal) is not
    asked by requests at all for a while (core/outage.py QuietWindow): otherwise each request
    that came after a probe ended became the next probe, and requests made one after another
    (a file never read, opened in turn) waited 15–20 s each. A refusing catalog answers in
    milliseconds, so its next request probes at once, as before.
    """

    def __init__(self, patience: float = PROBE_PATIENCE) -> None:
        super().__init__(patience)


def _silent(exc: BaseException, silence: _Silence) -> bool:
    """Whether an unreachable catalog cost this session a timeout: its connection cut at the
    deadline (the watchdog), a new connection's connect_timeout, PostgreSQL's statement_timeout
    (57014). A refused or dropped connection costs milliseconds."""
    if silence.met:
        return True
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        kind = type(cause)
        if kind.__module__.startswith("psycopg") and (
            getattr(cause, "sqlstate", None) == "57014"
            or any(k.__name__ == "ConnectionTimeout" for k in kind.__mro__)
        ):
            return True
        cause = getattr(cause, "orig", None) or cause.__cause__ or cause.__context__
    return False


class Database:
    """Sessions for reading and for writing (writes serialised per process on SQLite)."""

    def __init__(self, url: str, warn_remote: bool = True) -> None:
        self.url = url
        self.engine = make_engine(url, warn_remote)
        self._read_factory = sessionmaker(self.engine, expire_on_commit=False)
        self._write_engine = self.engine.execution_options(mediadesk_write=True)
        self._write_factory = sessionmaker(self._write_engine, expire_on_commit=False)
        self._session_listeners: list[tuple[Any, str, Callable[..., Any]]] = []
        self.is_sqlite = url.startswith("sqlite")
        self._write_lock = threading.RLock() if self.is_sqlite else None
        self.outage = CatalogOutage()
        # the catalog migrated past this version while it runs: no more writes
        self.schema = schema_guard.SchemaGuard(self.read)
        self._announced = False
        self._presence: schema_guard.PgPresence | None = None
        # when (time.monotonic) a write last met another program's lock; None once one commits
        self._busy_at: float | None = None
        # PostgreSQL's words of the refusal last logged (catalog_refusal); None once a session
        # got through, so a refusal coming back is logged again
        self._refused: str | None = None
        event.listen(self.engine, "commit", self._committed)

    def _committed(self, conn: Connection) -> None:
        # a write transaction that commits held the write lock (BEGIN IMMEDIATE): none holds
        # it now; a write session that ran no statement never begins, so never gets here
        if conn.get_execution_options().get("mediadesk_write"):
            self._busy_at = None

    def lately_busy(self) -> bool:
        """Whether a write of this process met another program's lock within busy_seen()
        seconds and none committed since: writes are refused as catalog_busy (/health)."""
        at = self._busy_at
        return at is not None and time.monotonic() - at < busy_seen()

    def unreachable(self, exc: BaseException) -> StorageUnavailable:
        """catalog_down() for `exc`, a failure that met the catalog out of reach: a session's
        (_reachable) or a connection of its own's (an advisory lock's, core/locks.py), whose
        raw psycopg error had claimed nothing: the deferred deletions logged it as an ERROR
        with its traceback, and the outage's next failure, the episode's first, another."""
        down = catalog_down()
        # says when to ask again as the sessions refused after it do (the window a silence
        # opened, else ASK_AGAIN): the first request to meet a hang, and every one refused a
        # connection, said none
        down.retry_after = self.outage.retry_after()
        down.cause = pg_words(exc)  # "too many connections", "Connection refused"…
        # one ERROR line an episode, whoever met it first (a request, a loop); the probe's
        # failure counted with the others: a refusing catalog is asked by each
        down.first = self.outage.first_failure()
        down.known = not down.first
        down.episode = self.outage.episode
        met_catalog_failure(down)
        return down

    @contextmanager
    def _reachable(self, admitted: bool = False, writing: bool = False) -> Iterator[None]:
        """A PostgreSQL that is stopped, crashed, restarting or hanging leaves as the domain's
        storage_unavailable (the cause chained): every request and loop during an outage had
        ended in an internal error with SQLAlchemy's traceback. Keeps `outage`: a request's
        session (under catalog_deadline) fails at once, not asked (with a Retry-After), while
        another one probes or while a catalog found silent is left alone; `admitted`: this
        session is the probe that `outage.admit()` chose."""
        gated = _DEADLINE.get() is not None and not _PROBING.get()
        seen = self.outage.claims
        try:
            probe = admitted or (self.outage.admit() if gated else False)
        except NotNow as wait:
            not_asked = StorageNotAsked(
                catalog_down().message, retry_after=wait.seconds, reason="catalog_unreachable"
            )
            not_asked.episode = self.outage.episode
            raise not_asked from None
        token = _PROBING.set(True) if probe else None
        silence = _Silence()
        watched = _SILENCE.set(silence)
        try:
            yield
        except SQLAlchemyError as exc:
            refused = None if self.is_sqlite else catalog_refusal(exc)
            if refused is not None:
                # answered at once, and no outage: each session asks again (a password put
                # right works at the next request), and the log says PostgreSQL's words once
                self.outage.ended(probe, True)
                if self._refused != refused:
                    self._refused = refused
                    logger.error("PostgreSQL refuses the catalog's connection: %s", refused)
                raise catalog_refused(refused) from exc
            unreachable = catalog_unreachable(exc)
            silent = unreachable and _silent(exc, silence)
            self.outage.ended(probe, not unreachable, silent, seen=seen)
            if unreachable:
                raise self.unreachable(exc) from exc
            if catalog_busy(exc):
                # another program (a DB browser, a backup tool, a script's BEGIN EXCLUSIVE,
                # another MediaDesk's long write) held the catalog past the busy timeout: an
                # outage that passes with it, not SQLite's "database is locked" as a bug
                where = self.engine.url.database if self.is_sqlite else None
                if writing:
                    self._busy_at = time.monotonic()
                raise catalog_locked(where) from exc
            if self.is_sqlite and (
                sqlite_read_only(exc)
                or sqlite_disk_failed(exc)
                or (sqlite_damaged(exc) and not self._disk_answers())
            ):
                raise self._disk_gone(exc) from exc
            raise
        except BaseException:
            self.outage.ended(probe, None)
            raise
        else:
            self.outage.ended(probe, True, seen=seen)
            self._refused = None
        finally:
            _SILENCE.reset(watched)
            if token is not None:
                _PROBING.reset(token)

    def _disk_answers(self) -> bool:
        """Whether the disk under the SQLite catalog still lists its folder and tells its
        file's size: a failing USB disk or FUSE mount made SQLite read a page it had just
        failed to write as "database disk image is malformed", a damage no restore mends."""
        folder = catalog_folder(self.url)
        if folder is None:
            return True
        try:
            with os.scandir(folder) as entries:
                sizes = {e.name: e.stat().st_size for e in entries}
        except OSError:
            return False
        return Path(self.engine.url.database or "").name in sizes

    def _disk_gone(self, exc: SQLAlchemyError) -> StorageUnavailable:
        """The SQLite catalog's disk failed under a session (a USB disk pulled out, a NAS or
        FUSE mount gone): said as such, an outage that passes, not SQLite's bare "disk I/O
        error" a user read as "something unexpected". Every pooled connection holds the file
        open on the disk that went, and would fail so for good even once the disk is back at
        the same path: the pool is emptied, so the next session opens the file again.

        A catalog that cannot be written (SQLite's "attempt to write a readonly database", or
        an I/O error writing a file now read-only: a disk remounted read-only, rights or an
        attribute changed) is said as that (catalog_read_only), not as an internal error: an
        outage too, whose connections are let go as well (see make_engine's checkout)."""
        self.engine.dispose()  # the read and the write sessions' pool alike
        folder = catalog_folder(self.url)
        place = _unwritable(self.url)
        if sqlite_read_only(exc) or place is not None:
            said = getattr(exc, "orig", None) or exc  # SQLite's words, not the statement's
            logger.warning("The catalog cannot be written (%s); its connections are reopened", said)
            return unwritable_catalog(place or Path(self.engine.url.database or self.url))
        logger.warning("The catalog's disk failed (%s); its connections are reopened", exc)
        if folder is not None:
            with suppress(OSError):  # a full disk fails a write as an I/O error too
                if disk_full(folder):
                    return InsufficientStorage(
                        f"The disk holding the catalog ({folder}) is full: free some space"
                    )
        return catalog_disk_down(folder if folder is not None else self.url)

    def probe(self) -> None:
        """Asks the catalog once as the outage's probe, which the caller was admitted as
        (`outage.admit()` gave True): a server answering from its caches starts it."""
        with self._reachable(admitted=True), self._read_factory() as session:
            session.execute(text("SELECT 1"))  # tells `outage` what it found

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._reachable(), self._read_factory() as session:
            yield session

    @contextmanager
    def write(self, wait: float | None = None) -> Iterator[Session]:
        """A transaction that commits on success and rolls back on error.

        A versioned row (media_files.version) that another process updated after this
        transaction read it matches no row in its UPDATE: SQLAlchemy's StaleDataError, which
        leaves here as LostRace, a domain conflict (never an internal error).

        `wait`: seconds the transaction may wait for another writer's locks instead of SQLite's
        busy timeout (30 s) or for good (PostgreSQL's row locks): for bookkeeping, which must
        not hold the server's stop (and a desktop quitting) behind another process's long
        write. Past it (or past the busy timeout) the write fails as catalog_busy
        (core/errors.py) says: catalog_locked, its cause chained.
        """
        self.schema.refuse_writes()
        factory = self._write_factory
        if wait is not None and self.is_sqlite:
            busy = self._write_engine.execution_options(mediadesk_busy_ms=int(wait * 1000))
            factory = sessionmaker(busy, expire_on_commit=False)
        try:
            with (
                self._reachable(writing=True),
                self._writer(wait),
                factory() as session,
                session.begin(),
            ):
                if wait is not None and not self.is_sqlite:
                    wait_ms = int(wait * 1000)
                    if (deadline := _DEADLINE.get()) is not None:  # _pg_lock_wait's, if shorter
                        wait_ms = min(wait_ms, lock_wait(deadline))
                    session.execute(text(f"SET LOCAL lock_timeout = {wait_ms}"))
                yield session
        except StaleDataError as exc:
            raise LostRace() from exc

    @contextmanager
    def _writer(self, wait: float | None) -> Iterator[None]:
        """This process's turn to write on SQLite (one writer at a time), within `wait`."""
        lock = self._write_lock
        if lock is None:
            yield
            return
        if not lock.acquire(timeout=-1 if wait is None else wait):
            raise TimeoutError(f"Another write of this process held the catalog for {wait} s")
        try:
            yield
        finally:
            lock.release()

    def retrying(self, work: Callable[[], T], attempts: int = RACE_ATTEMPTS) -> T:
        """`work()`, run again from its reads while it loses a race (LostRace).

        The one rule for simultaneous writes to one row, on both backends: `work` reads, checks
        and writes in its own transactions, so its next run sees the winner's commit and
        answers as if the two had come one after the other: an edit that named a version gets
        409 stale_version from its check, a trash of a file trashed meanwhile already_trashed,
        and a write that asked nothing about the row applies again over the winner's. The
        short random pause keeps two losers from colliding again in step.
        """
        for attempt in range(1, attempts + 1):
            try:
                return work()
            except LostRace:
                if attempt == attempts:
                    raise
                logger.debug("Write lost a race (try %d of %d); again", attempt, attempts)
                time.sleep(random.uniform(0, 0.005 * attempt))  # noqa: S311 (not a secret)
        raise AssertionError("unreachable")

    @contextmanager
    def write_connection(self) -> Iterator[Connection]:
        """A write transaction (BEGIN IMMEDIATE on SQLite) on a Core connection, past the ORM.

        For rows the change feed does not carry (core/feed.py notes ORM flushes only), written
        often: an upload's lease and progress at every PATCH and every few MiB. A session's
        get, flush and commit cost ≈ 1.3 ms of GIL-holding Python each time.
        """
        self.schema.refuse_writes()
        lock = self._write_lock if self._write_lock is not None else nullcontext()
        with self._reachable(writing=True), lock, self._write_engine.begin() as conn:
            yield conn

    def announce(self) -> None:
        """Tells other processes that this one runs on the catalog (core/db/schema_guard.py),
        once it is at this version's schema: an upgrade by a newer version refuses meanwhile.
        On PostgreSQL a connection of its own holds the announcement until `dispose`."""
        if self._announced:
            return
        if self.is_sqlite:
            schema_guard.announce_sqlite(self.engine.url.database)
        else:
            timeout = self.engine.url.query.get("connect_timeout", CONNECT_TIMEOUT)
            self._presence = schema_guard.PgPresence(
                self.engine.url, int(str(timeout)), self.outage.first_failure
            )
            self._presence.start()
        self._announced = True

    @property
    def announced(self) -> bool:
        return self._announced

    def listen_sessions(self, identifier: str, fn: Callable[..., Any], reads: bool = False) -> None:
        """event.listen on this catalog's write sessions (and its read ones with `reads`), taken
        back by dispose(). SQLAlchemy keeps a session factory's listeners in a class-level
        registry keyed weakly by the factory's own Session class, which the listeners' closures
        reach again through their Library: left there, every closed Library stayed alive with
        its engine, caches and threads' objects (~7,500 objects each), and a process opening
        several (the desktop changing its storage, a server's tests) grew, and its garbage
        collections with it."""
        factories = (self._read_factory, self._write_factory) if reads else (self._write_factory,)
        for factory in factories:
            event.listen(factory, identifier, fn)
            self._session_listeners.append((factory, identifier, fn))

    def dispose(self) -> None:
        listeners, self._session_listeners = self._session_listeners, []
        for factory, identifier, fn in listeners:
            event.remove(factory, identifier, fn)
        if self.is_sqlite and self._announced:
            schema_guard.withdraw_sqlite(self.engine.url.database)
        presence, self._presence = self._presence, None
        if presence is not None:
            presence.stop()
        self._announced = False
        self.engine.dispose()
