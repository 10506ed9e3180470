"""Two MediaDesk versions on one catalog: a running process that sees the schema move past its
own stops writing, and an upgrade refuses to run under live processes.

A server left running while a newer version migrated the catalog under it went on answering
writes with the rules of its own schema: a hard delete through it removed an object that, in
the newer version, another file shared (its bytes gone, a 404 for that file). So:

- `SchemaGuard` (one per Database): the catalog's revision, looked at every few seconds by the
  change feed's loop and again right before a deletion of stored bytes. Once it names a
  revision this version does not know, every write session is refused with CatalogUpgraded
  (from a cached value: no query per request); reads go on.
- `others_alive`: the processes that have this catalog open, each announcing itself once its
  catalog is at its own schema (`announce`): a shared record lock on one byte of a lock file
  beside a SQLite catalog, a shared session advisory lock on PostgreSQL (`PgPresence`: a
  connection of its own, held again whenever it is lost). Both die with their process. A
  process waiting to migrate has not
  announced itself yet, so processes of one new version starting together never refuse each
  other. Versions before this one announce nothing and cannot be seen.
"""

from __future__ import annotations

import functools
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL, Connection
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from core import locks
from core.errors import CatalogUpgraded, StorageUnavailable, first_of_outage, owes_outage_error
from core.settings import UPGRADE_WHILE_RUNNING, upgrade_while_running

logger = logging.getLogger(__name__)

# How often a running process looks at the catalog's revision (the feed's loop asks more often).
LOOK_SECONDS = 5.0
# Set to 1 to upgrade a catalog while other processes have it open (they stop writing).
FORCE_ENV = UPGRADE_WHILE_RUNNING
# pg_advisory_lock_shared(class, key) held by every running process (PgPresence)
PRESENCE_CLASS = 0x4D444C56  # "MDLV"
PRESENCE_KEY = 1
PRESENCE_LOCK_NAME = "live"  # <catalog>-live.lock beside a SQLite catalog
SCHEMA_CHANGE_LOCK_NAME = "schema"  # <catalog>-schema.lock: held while a migration runs
# PostgreSQL application_name of this process's own connections: "mediadesk-host:pid" (no space,
# which a libpq URL would carry as a "+")
APP_PREFIX = "mediadesk-"
# Seconds before the presence is asked for again after a failed try, doubling up to the second:
# a PostgreSQL restarting takes seconds; one down for long is asked twice a minute
PRESENCE_RETRY = (0.5, 30.0)
# libpq TCP keepalives of the presence's connection: a server gone silent (its host down, a
# network cut) ends it within about a minute instead of the kernel's two hours, so it is held
# again on a new connection once the server answers
PRESENCE_KEEPALIVES = {
    "keepalives": "1",
    "keepalives_idle": "20",
    "keepalives_interval": "5",
    "keepalives_count": "4",
}


def process_name() -> str:
    """host:pid, as the refusal names the processes it found (PostgreSQL application_name)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


def application_name() -> str:
    return f"{APP_PREFIX}{process_name()}"


def libpq_url(url: URL) -> str:
    """A libpq URL for a SQLAlchemy PostgreSQL URL (the driver suffix removed), naming this
    process: the refusal names the processes it found."""
    named = url.set(drivername="postgresql").update_query_dict(
        {"application_name": application_name()}
    )
    return named.render_as_string(hide_password=False)


@functools.cache
def known_revisions() -> frozenset[str]:
    from core.db.migrate import script_revisions

    return frozenset(script_revisions())


def catalog_revisions(connection: Connection | Session) -> set[str]:
    rows = connection.execute(text("SELECT version_num FROM alembic_version"))
    return {str(r[0]) for r in rows}


def upgraded_message(newer: set[str]) -> str:
    return (
        f"The catalog was upgraded by a newer MediaDesk (schema {', '.join(sorted(newer))}) "
        "while this one was running: nothing is written any more; restart it with that "
        "version or a newer one"
    )


class SchemaGuard:
    """Whether the catalog was migrated past this version while it runs (see the module)."""

    def __init__(self, read: Callable[[], AbstractContextManager[Session]]) -> None:
        self._read = read
        self._guard = threading.Lock()
        self._looked = float("-inf")
        self.moved: str | None = None  # the refusal's message once the schema moved on

    def refuse_writes(self) -> None:
        if self.moved is not None:
            raise CatalogUpgraded(self.moved)

    def look(self, every: float | None = None) -> None:
        """Reads the catalog's revision unless it was read less than `every` seconds ago.
        A catalog out of reach or not migrated yet tells nothing: that is other code's to say."""
        if self.moved is not None:
            return
        every = LOOK_SECONDS if every is None else every
        with self._guard:
            now = time.monotonic()
            if now - self._looked < every:
                return
            self._looked = now
        try:
            with self._read() as session:
                current = catalog_revisions(session)
        except (SQLAlchemyError, StorageUnavailable) as exc:
            if owes_outage_error(exc):
                # this read met the catalog's outage before anything else did (the change
                # feed's turn looks first): the episode's one ERROR line. Said as DEBUG, the
                # outage had no ERROR line at all; the CI run met it. Unless a request looked
                # (/health, a deletion's confirm): the request tells it, once
                cause = getattr(exc, "cause", None)
                logger.error("Catalog revision not read: %s%s", exc, f" ({cause})" if cause else "")
            else:
                logger.debug("Catalog revision not read (%s)", exc)
            return
        newer = current - known_revisions()
        if newer and self.moved is None:
            self.moved = upgraded_message(newer)
            logger.error("%s.", self.moved)

    def confirm(self) -> None:
        """Looks now, then refuses if the schema moved: before deleting stored bytes, which
        the newer schema's rules may still need."""
        self.look(every=0.0)
        self.refuse_writes()


# ---- live processes -------------------------------------------------------------------------
def others_alive(connection: Connection) -> list[str]:
    """Other processes that have announced themselves on this catalog (host:pid where known)."""
    if connection.dialect.name == "postgresql":
        return pg_lock_holders(connection, PRESENCE_CLASS, PRESENCE_KEY, 2)
    path = _catalog_path(connection)
    if path is None:
        return []
    return file_lock_holders(locks.lock_file(path, PRESENCE_LOCK_NAME))


def pg_lock_holders(connection: Connection, classid: int, objid: int, objsubid: int) -> list[str]:
    """Other sessions holding an advisory lock of this database (pg_locks' columns: a two-key
    lock is (class, key, 2), a one-key lock (its high 32 bits, its low 32 bits, 1)), named
    host:pid by their application_name (`application_name`) where they set it."""
    rows = connection.execute(
        text(
            "SELECT a.application_name, a.client_addr, a.pid FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.locktype = 'advisory' AND l.granted "
            "AND l.classid::bigint = :c AND l.objid::bigint = :k AND l.objsubid = :s "
            "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ),
        {"c": classid, "k": objid, "s": objsubid},
    ).all()
    mine = application_name()
    found = []
    for name, addr, backend in rows:
        if name == mine:
            continue
        name = str(name or "")
        found.append(
            name.removeprefix(APP_PREFIX)
            if name.startswith(APP_PREFIX)
            else f"{addr or 'local'} (backend {backend})"
        )
    return sorted(set(found))


def file_lock_holders(path: Path) -> list[str]:
    """Other processes holding a record lock on byte 0 of `path` (host:pid; SQLite catalogs are
    on this machine)."""
    pids = locks.other_holders(path)
    host = socket.gethostname()[:40]
    return [f"{host}:{pid}" if pid else "a process" for pid in pids]


def schema_change_file(database: str | None) -> Path | None:
    """The lock file beside a SQLite catalog that the process changing its schema holds a lock
    on (core/db/migrate.py), so that `mediadesk doctor` names it (None: no such file to lock)."""
    path = _sqlite_path(database)
    return None if path is None else locks.lock_file(path, SCHEMA_CHANGE_LOCK_NAME)


def announce_sqlite(database: str | None) -> None:
    """Holds this process's presence on a SQLite catalog file until it ends (or `withdraw`)."""
    path = _sqlite_path(database)
    if path is not None:
        locks.hold_shared(locks.lock_file(path, PRESENCE_LOCK_NAME))


def withdraw_sqlite(database: str | None) -> None:
    path = _sqlite_path(database)
    if path is not None:
        locks.release_shared(locks.lock_file(path, PRESENCE_LOCK_NAME))


class PgPresence:
    """This process's presence on a PostgreSQL catalog: the shared advisory lock, held on a
    connection of its own from `start` to `stop`, and held again on a new one whenever that
    one is lost (PostgreSQL restarted, the backend terminated, a network cut), retrying with
    a growing pause.

    Not the pool's connections, which come and go; not the change feed's, which a short
    command line run never connects and which is down while the feed reconnects: an upgrade
    by a newer version ran under both. One thread waits on the idle connection's socket,
    which the server only speaks on to end it, so a healthy presence costs no query."""

    def __init__(
        self, url: URL, connect_timeout: int, first_failure: Callable[[], bool] = lambda: False
    ) -> None:
        keepalives = {k: v for k, v in PRESENCE_KEEPALIVES.items() if k not in url.query}
        self._conninfo = libpq_url(url.update_query_dict(keepalives))
        self._timeout = connect_timeout
        self._conn: Any = None
        self._wake_r, self._wake_w = os.pipe()
        self._fds = threading.Lock()  # the pipe is closed once, never written after that
        self._closed = False
        self._told = False  # a lost presence is logged once, not at every try
        # claims the catalog outage's first failure (core/outage.py Outage.first_failure)
        self._first_failure = first_failure
        self._thread = threading.Thread(target=self._run, name="mediadesk-presence", daemon=True)

    def start(self) -> None:
        """Holds the presence before returning where the catalog answers (a short run is
        seen at once); else the thread keeps trying."""
        self._hold()
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ends the presence and closes its connection (before returning, unless the server
        hangs past `timeout`)."""
        with self._fds:
            if not self._closed:
                with suppress(OSError):
                    os.write(self._wake_w, b"x")
        if self._thread.is_alive():
            self._thread.join(timeout)
        else:  # never started: nobody else closes them
            self._close()

    def _hold(self) -> bool:
        import psycopg

        row = None
        try:
            conn = psycopg.connect(self._conninfo, autocommit=True, connect_timeout=self._timeout)
            try:
                row = conn.execute(
                    "SELECT pg_try_advisory_lock_shared(%s, %s)", (PRESENCE_CLASS, PRESENCE_KEY)
                ).fetchone()
            finally:
                if not (row and row[0]):  # nobody takes it exclusively; never wait for it here
                    conn.close()
        except psycopg.Error as exc:
            # the catalog outage's first failure of the process, if no session met it before
            if first_of_outage(exc, self._first_failure):
                # the outage's alert: what an operator must know first is the catalog's state
                logger.error(
                    "The catalog cannot be reached (%s): an upgrade by a newer MediaDesk cannot "
                    "see this process until it answers again",
                    exc,
                )
                self._told = True
            elif not self._told:
                logger.warning(
                    "An upgrade by a newer MediaDesk cannot see this process until the catalog "
                    "answers again (%s)",
                    exc,
                )
                self._told = True
            return False
        if not (row and row[0]):
            return False
        if self._told:
            logger.info("An upgrade by a newer MediaDesk sees this process again")
            self._told = False
        self._conn = conn
        return True

    def _wait(self, seconds: float | None) -> bool:
        """Until the presence's connection has something to say (True), `seconds` pass
        (True), or `stop` (False)."""
        poller = select.poll()  # not select(): a busy server's descriptors pass 1024
        poller.register(self._wake_r, select.POLLIN)
        if self._conn is not None:
            poller.register(self._conn.fileno(), select.POLLIN)
        ready = poller.poll(None if seconds is None else seconds * 1000)
        return all(fd != self._wake_r for fd, _ in ready)

    def _run(self) -> None:
        import psycopg

        pause = PRESENCE_RETRY[0]
        try:
            while True:
                if self._conn is None:
                    if not self._wait(pause):
                        return
                    held = self._hold()
                    first, most = PRESENCE_RETRY
                    pause = first if held else min(max(2 * pause, first), most)
                    continue
                if not self._wait(None):
                    return
                try:  # the server spoke: most likely its goodbye, which a query shows
                    self._conn.execute("SELECT 1")
                except psycopg.Error as exc:
                    logger.debug("The presence's connection ended (%s)", exc)
                    with suppress(psycopg.Error):
                        self._conn.close()
                    self._conn = None
                    pause = 0.0  # ask again at once: a terminated backend, a failover
        finally:
            self._close()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):
                conn.close()
        with self._fds:
            if not self._closed:
                self._closed = True
                os.close(self._wake_r)
                os.close(self._wake_w)


def forced() -> bool:
    return upgrade_while_running()


def _sqlite_path(database: str | None) -> Path | None:
    if locks.fcntl is None or not database or database == ":memory:":
        return None
    return Path(database)


def _catalog_path(connection: Connection) -> Path | None:
    return _sqlite_path(connection.engine.url.database)
