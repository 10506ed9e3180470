"""Runs the Alembic migrations programmatically (at start-up and in the tests)."""

from __future__ import annotations

import functools
import logging
import re
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine, RootTransaction
from sqlalchemy.exc import OperationalError

from core import locks
from core.db import schema_guard
from core.errors import Conflict, StorageUnavailable, catalog_busy

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "alembic_version"  # Alembic's default, where the catalog's revision is kept
# A script's own revision and the one it follows, as `alembic revision` writes them
_ASSIGNED = re.compile(r'^(revision|down_revision) = (?:"([^"]+)"|None)$', re.MULTILINE)
# How long a process starting on SQLite waits for another one's migration of the catalog:
# a million-file catalog migrates for minutes, past the 30 s of an ordinary write.
SQLITE_MIGRATION_WAIT_MS = 3_600_000
# Each try for SQLite's write lock waits this long in SQLite (deaf to signals) before Python
# looks again: a Ctrl+C of a start waiting behind another process's migration is heard then.
MIGRATION_LOCK_TRY_MS = 250
# SQLite calls the migration's progress handler every this many virtual machine steps (well
# under a millisecond): where a Ctrl+C is heard during a long statement (`_interruptible`).
PROGRESS_STEPS = 10_000
# The PostgreSQL advisory lock migrations take (an arbitrary constant of this application).
PG_MIGRATION_LOCK = 0x4D444D4947  # "MDMIG"
# It in pg_locks (a one-key lock): its high 32 bits, its low 32 bits, objsubid 1
_PG_LOCK_COLUMNS = (PG_MIGRATION_LOCK >> 32, PG_MIGRATION_LOCK & 0xFFFFFFFF, 1)
# Conflict reason: a catalog to set up (or fill) as new has MediaDesk's tables already
NOT_NEW = "catalog_not_empty"


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


@contextmanager
def _migrating(engine: Engine) -> Iterator[Connection]:
    """One transaction that holds the catalog's migration lock before it reads the version.

    Processes sharing a catalog start together after an upgrade (the server and its workers,
    the desktop app and `mediadesk serve`, a team's servers). Each read the old version and
    ran the same migrations: on SQLite the later one's snapshot was stale when the first
    committed ("database is locked", a crash at start-up); on PostgreSQL it repeated DDL
    already applied. Taking the lock first, the later process waits, then reads the version
    the first one left and has nothing to do. The whole upgrade stays one transaction, so a
    process killed mid-way leaves the catalog at its old version for the next start.

    The process holding it says so (`migrations_running`: `mediadesk doctor` waited behind it
    in silence, then advised a start that was running), and a Ctrl+C stops it as a kill does,
    rolled back, as KeyboardInterrupt (`_interruptible`).
    """
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            with connection.begin():
                lock = {"key": PG_MIGRATION_LOCK}
                if not connection.execute(
                    text("SELECT pg_try_advisory_xact_lock(:key)"), lock
                ).scalar():
                    _waiting(schema_guard.pg_lock_holders(connection, *_PG_LOCK_COLUMNS))
                    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), lock)
                # named as its process, for the transaction only (the pool's connections
                # are not): pg_stat_activity is where `migrations_running` finds the holder
                connection.execute(
                    text("SELECT set_config('application_name', :name, true)"),
                    {"name": schema_guard.application_name()},
                )
                yield connection
            return
        marker = schema_guard.schema_change_file(engine.url.database)
        try:
            with _sqlite_write_lock(connection, marker), _interruptible(connection):
                if marker is None:
                    yield connection
                    return
                # taken once the write lock is held: a start waiting for another's migration
                # is not named as migrating
                locks.hold_shared(marker)
                try:
                    yield connection
                finally:
                    locks.release_shared(marker)
        except Exception as exc:
            # A Ctrl+C raised in Python between two statements invalidates the connection,
            # and the transaction's exit then fails ("Can't reconnect until invalid
            # transaction is rolled back"), hiding the interrupt: "The catalog could not be
            # opened", exit 2 (seen once in a CI run). SQLite has rolled back all the same.
            if interrupted(exc):
                raise KeyboardInterrupt from None
            raise


def _sqlite_write_lock(connection: Connection, marker: Path | None) -> RootTransaction:
    """BEGIN IMMEDIATE (SQLite's write lock), waiting up to SQLITE_MIGRATION_WAIT_MS for
    another process's migration, in tries of MIGRATION_LOCK_TRY_MS: SQLite waits in its busy
    handler, in C, where a Ctrl+C is heard only when the wait ends, and a start waiting an
    hour behind another one's migration could not be stopped. The pooled connection gets its
    usual busy timeout back as soon as BEGIN has the lock (engine.py)."""
    trying = connection.execution_options(
        mediadesk_write=True, mediadesk_busy_ms=MIGRATION_LOCK_TRY_MS
    )
    deadline = time.monotonic() + SQLITE_MIGRATION_WAIT_MS / 1000
    told = False
    while True:
        try:
            return trying.begin()
        except OperationalError as exc:
            if not catalog_busy(exc) or time.monotonic() >= deadline:
                raise
            if not told:
                _waiting(schema_guard.file_lock_holders(marker) if marker is not None else [])
                told = True


def _waiting(holders: list[str]) -> None:
    """Says once what a start waits for: it waited minutes in silence behind another process's
    migration (`holders`, who hold its lock), or behind another process's long write."""
    if holders:
        logger.info("Waiting for process %s to finish migrating the catalog", ", ".join(holders))
    else:
        logger.info("Waiting for another process's write to the catalog, to migrate it")


@contextmanager
def _interruptible(connection: Connection) -> Iterator[None]:
    """A Ctrl+C (SIGINT) during a migration on SQLite stops it at once, as KeyboardInterrupt.

    One statement of a migration runs for seconds to minutes on a big catalog (a table
    rebuilt, every row updated), in C, where Python runs no signal handler: the interrupt was
    raised only once the statement ended. SQLite's progress handler is Python code, where it
    is raised at once; SQLite then stops the statement ("interrupted"), which leaves here as
    the KeyboardInterrupt it was, after the transaction's rollback. One raised in Python
    between statements makes SQLAlchemy close the connection (rolled back by SQLite): the
    handler is not taken off a closed connection, whose error hid the interrupt."""
    raw = connection.connection.dbapi_connection
    if raw is None:
        yield
        return
    raw.set_progress_handler(_signals_heard, PROGRESS_STEPS)
    try:
        yield
    except Exception as exc:  # SQLAlchemy's OperationalError, or sqlite3's own in a raw call
        if interrupted(exc):
            raise KeyboardInterrupt from None
        raise
    finally:
        if not connection.invalidated:
            raw.set_progress_handler(None, 0)


def _signals_heard() -> int:
    """SQLite's progress handler during a migration (`_interruptible`): entering Python code
    runs the signal handlers due, a Ctrl+C's KeyboardInterrupt among them; 0 goes on."""
    return 0


def interrupted(exc: BaseException) -> bool:
    """Whether a migration failed because of a Ctrl+C: SQLite interrupted a statement
    (SQLITE_INTERRUPT), or a KeyboardInterrupt raised between statements invalidated the
    connection, also behind an error of the clean-up it led to ("Can't reconnect until invalid
    transaction is rolled back"): SQLite rolls the whole transaction back
    when it interrupts a write, and Alembic's batch operation then failed to drop its copy
    of the table ("no such table: _alembic_tmp_media_files"), which hid the interrupt."""
    seen: set[int] = set()
    found: list[BaseException | None] = [exc]
    while found:
        cause = found.pop()
        if cause is None or id(cause) in seen:
            continue
        seen.add(id(cause))
        if isinstance(cause, KeyboardInterrupt):
            return True
        if getattr(cause, "sqlite_errorcode", None) == sqlite3.SQLITE_INTERRUPT:
            return True
        found += [getattr(cause, "orig", None), cause.__cause__, cause.__context__]
    return False


def migrations_running(engine: Engine) -> list[str]:
    """The other processes migrating the catalog now (host:pid where known): a start, a
    catalog copy setting it up, a downgrade. Asked without waiting for any of them, and on
    SQLite without opening the catalog, which a migration may hold for minutes."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            return schema_guard.pg_lock_holders(connection, *_PG_LOCK_COLUMNS)
    marker = schema_guard.schema_change_file(engine.url.database)
    if marker is None:
        return []
    return schema_guard.file_lock_holders(marker)


@functools.cache
def script_revisions() -> dict[str, str | None]:
    """Every migration script's revision and the one it follows (None for the first), read
    from the scripts' text. Every process start compares the catalog's revision with the
    head, and most find nothing to do: importing Alembic for that (with Mako and Pygments)
    cost each a tenth of a second, and the suite starts hundreds. tests/test_catalog_db.py
    holds this equal to Alembic's own reading of the folder."""
    found: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS / "versions").glob("*.py")):
        assigned = {m[1]: m[2] for m in _ASSIGNED.finditer(path.read_text(encoding="utf-8"))}
        if "revision" in assigned:
            found[assigned["revision"]] = assigned.get("down_revision")
    return found


def script_heads() -> set[str]:
    """The revisions no other script follows: what a current catalog is at."""
    revisions = script_revisions()
    return set(revisions) - {down for down in revisions.values() if down}


def catalog_heads(connection: Connection) -> set[str]:
    """The catalog's revisions; none for a new catalog (Alembic has made no version table)."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return set()
    return schema_guard.catalog_revisions(connection)


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Brings the schema up to `revision` on the given engine."""
    with engine.connect() as connection:
        current = catalog_heads(connection)
    newer = newer_revisions(current)
    if newer:
        # Alembic's answer is a traceback ending in "Can't locate revision"
        raise StorageUnavailable(
            f"The catalog was upgraded by a newer MediaDesk (schema {', '.join(sorted(newer))}; "
            f"this version knows up to {', '.join(sorted(script_heads()))}): run that version "
            "or a newer one here. Nothing was changed."
        )
    # Versions only move forward, so "at head" read without a lock stays true.
    if revision == "head" and current and current == script_heads():
        # Every start comes here. The migration lock is a write lock on SQLite with a wait of
        # an hour: taken at each start, a process opening a current catalog waited behind
        # another's long write for all of it, not the 30 s of an ordinary write.
        logger.info("Catalog schema at %s", revision)
        return
    from alembic import command  # only when there is something to migrate (script_revisions)

    cfg = alembic_config(str(engine.url))
    with _migrating(engine) as connection:
        if current:  # a new catalog has nobody on it to refuse for
            _refuse_under_live_processes(connection)
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    logger.info("Catalog schema at %s", revision)


@contextmanager
def setting_up(engine: Engine) -> Iterator[Connection]:
    """A new catalog set up at head in one transaction under the migration lock, left open to
    the caller to fill (core/catalog_copy.py): committed when the block ends, rolled back when
    it raises or the process dies (the catalog is then as new as before). A process starting on
    the catalog meanwhile waits for the lock, then finds it set up. Refuses a catalog that has
    a migration record by then (set up by another process after the caller looked)."""
    from alembic import command

    cfg = alembic_config(str(engine.url))
    with _migrating(engine) as connection:
        found = catalog_heads(connection)
        if found:
            raise Conflict(
                f"The catalog was set up meanwhile (schema {', '.join(sorted(found))}): it "
                "is not a new catalog any more. Nothing was changed.",
                reason=NOT_NEW,
            )
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
        yield connection


def _refuse_under_live_processes(connection: Connection) -> None:
    """Refuses to migrate a catalog other processes run on (core/db/schema_guard.py), unless
    forced: they would go on writing by the old schema's rules (an older server's hard delete
    removed an object that a newer version let another file share). Asked under the migration
    lock, after another process's migration of the same catalog finished: then there is
    nothing left to do and nobody to refuse for."""
    if catalog_heads(connection) == script_heads():
        return
    _refuse_if_others(connection, "upgrade")


def _refuse_if_others(connection: Connection, change: str) -> None:
    """Refuses a schema `change` ("upgrade", "downgrade") while other processes have the
    catalog open, unless forced (MEDIADESK_UPGRADE_WHILE_RUNNING)."""
    others = schema_guard.others_alive(connection)
    if not others:
        return
    if schema_guard.forced():
        logger.warning(
            "Changing the catalog's schema (%s) while other processes run on it (%s): %s is "
            "set; they stop writing once they see the new schema",
            change,
            ", ".join(others),
            schema_guard.FORCE_ENV,
        )
        return
    raise StorageUnavailable(
        f"Other MediaDesk processes are running on this catalog ({', '.join(others)}): stop "
        f"them before you {change} it (or set "
        f"{schema_guard.FORCE_ENV}=1 to {change} anyway). Nothing was changed."
    )


def newer_revisions(current: set[str] | list[str]) -> set[str]:
    """The revisions among `current` that this MediaDesk does not know: the catalog was
    migrated by a newer version (another desktop of the team, or this one before a
    downgrade)."""
    return set(current) - schema_guard.known_revisions()


def downgrade(engine: Engine, revision: str) -> None:
    from alembic import command

    cfg = alembic_config(str(engine.url))
    with _migrating(engine) as connection:
        # A running newer server would see a revision it knows and go on writing to tables
        # without the columns its code uses
        _refuse_if_others(connection, "downgrade")
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)
