"""Runs the Alembic migrations programmatically (at start-up and in the tests)."""

from __future__ import annotations

import functools
import logging
import re
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine, RootTransaction
from sqlalchemy.exc import OperationalError

from core import locks
from core.db import schema_guard
from core.errors import Conflict, StorageUnavailable, catalog_busy

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)
# Alembic says "setup plugin alembic.autogenerate.…" at INFO each time it loads, some 30 lines at
# every start of every process (before `mediadesk serve`'s banner and its token): plugins of
# autogenerate, which MediaDesk never runs. Its migration lines ("Running upgrade …") stay.
logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
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
# Refusal reason (storage_unavailable): MediaDesk's tables without a recorded schema revision
SCHEMA_UNRECORDED = "catalog_schema_unrecorded"
# What records this version's revision in such a catalog (`record_schema`)
RECORD_COMMAND = "mediadesk catalog record-schema"


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
                with _remembered_interrupts() as heard:
                    yield connection
                    if heard.is_set():  # swallowed where it was raised: rolled back
                        raise KeyboardInterrupt
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


# StorageUnavailable's reasons for a catalog this version cannot open as it is: one a newer
# MediaDesk upgraded, and one to upgrade while other processes run on it (details: processes).
# The desktop said "the storage cannot be reached… check the connection" for both.
CATALOG_NEWER = "catalog_newer"
UPGRADE_BLOCKED = "catalog_upgrade_blocked"

# Marks the log lines a person waiting on a command needs (an upgrade that takes minutes, a wait
# behind another process's): the command line's commands other than serve and maintenance log
# nothing below WARNING, and `mediadesk token list` on a big old catalog sat silent for
# minutes (server/cli.py says these lines there).
NOTICE = {"notice": True}


def _waiting(holders: list[str]) -> None:
    """Says once what a start waits for: it waited minutes in silence behind another process's
    migration (`holders`, who hold its lock), or behind another process's long write."""
    if holders:
        logger.info(
            "Waiting for process %s to finish migrating the catalog",
            ", ".join(holders),
            extra=NOTICE,
        )
    else:
        logger.info(
            "Waiting for another process's write to the catalog, to migrate it", extra=NOTICE
        )


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
    with _remembered_interrupts() as heard:
        # a non-zero answer makes SQLite stop the statement (SQLITE_INTERRUPT)
        raw.set_progress_handler(lambda: int(heard.is_set()), PROGRESS_STEPS)
        try:
            yield
            if heard.is_set():  # swallowed where it was raised: not committed all the same
                raise KeyboardInterrupt
        except Exception as exc:  # SQLAlchemy's OperationalError, or sqlite3's own
            if interrupted(exc):
                raise KeyboardInterrupt from None
            raise
        finally:
            if not connection.invalidated:
                raw.set_progress_handler(None, 0)


@contextmanager
def _remembered_interrupts() -> Iterator[threading.Event]:
    """Python's Ctrl+C handler, which also remembers the interrupt, for a migration's time.

    A KeyboardInterrupt raised while Python runs a garbage collector's callback (SQLAlchemy's
    event registry has weakref callbacks) or a __del__ is printed ("Exception ignored in …")
    and dropped: the migration went on, committed, and the server then served (seen once in
    a CI run). Remembered, it stops the next statement (the progress handler above) or the
    commit. Python's handler is left alone when the process has its own (the desktop app) or
    this is not the main thread, where no handler runs."""
    heard = threading.Event()
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield heard
        return

    def remember(signum: int, frame: FrameType | None) -> None:
        heard.set()
        signal.default_int_handler(signum, frame)

    unraisable = sys.unraisablehook

    def quiet(report: Any) -> None:
        # the dropped interrupt is remembered: its "Exception ignored" traceback said nothing
        # to the person who pressed Ctrl+C, before "mediadesk: interrupted"
        if not isinstance(report.exc_value, KeyboardInterrupt):
            unraisable(report)

    signal.signal(signal.SIGINT, remember)
    sys.unraisablehook = quiet
    try:
        yield heard
    finally:
        sys.unraisablehook = unraisable
        signal.signal(signal.SIGINT, signal.default_int_handler)


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


@dataclass(frozen=True)
class Unrecorded:
    """A catalog holding MediaDesk's tables without a recorded schema revision: its
    alembic_version table emptied (a tool or a person truncated it; a migration cannot leave
    it so, as each runs in one transaction with its record) or gone.

    A start read "no revision" as a new catalog, ran the first migration over the tables and
    stopped with "table api_tokens already exists", and `mediadesk doctor` advised that very
    start. What can be done depends on the tables: this version's own (`current`) take their
    record back (`record_schema`); with no library in them (no file, athlete or token) the
    catalog can be made new; other ones cannot be migrated from an unknown revision."""

    url: str  # shown without its password
    version_table: bool  # alembic_version is there, empty
    tables: tuple[str, ...]  # MediaDesk's tables found
    missing: tuple[str, ...]  # this version's tables or columns they lack ("table.column")
    extra: tuple[str, ...]  # columns of theirs this version does not know
    files: int
    athletes: int
    tokens: int

    @property
    def current(self) -> bool:
        """Its tables and columns are exactly this version's (its head revision)."""
        return not self.missing and not self.extra

    @property
    def empty(self) -> bool:
        return not (self.files or self.athletes or self.tokens)

    @property
    def newer(self) -> bool:
        """Its tables have every column of this version's and more: a newer MediaDesk's."""
        return bool(self.extra) and not self.missing

    @property
    def detail(self) -> str:
        if not self.version_table and not self.current:
            # without Alembic's table, tables that merely bear MediaDesk's names may be
            # another application's
            return (
                f"{self.url} has tables named as MediaDesk's ({_few(self.tables, 5)}) but no "
                f"migration record ({VERSION_TABLE}): not a MediaDesk catalog, or one whose "
                "record was deleted; a start can neither set it up nor migrate it"
            )
        record = (
            f"its migration record ({VERSION_TABLE}) is empty"
            if self.version_table
            else f"it has no migration record ({VERSION_TABLE})"
        )
        holds = (
            f"{_some(self.files, 'file')}, {_some(self.athletes, 'athlete')} and "
            f"{_some(self.tokens, 'API token')}"
        )
        if self.current:
            tables = f"its tables are this version's (schema {_head()})"
        elif self.newer:
            tables = f"its tables have columns this version does not know ({_few(self.extra)})"
        else:
            tables = f"its tables are not this version's (no {_few(self.missing)})"
        return (
            f"{self.url} holds MediaDesk's tables ({holds}), but {record}: which schema they "
            f"are at is not known, so a start can neither set it up nor migrate it; {tables}"
        )

    @property
    def fix(self) -> str:
        if self.current:
            return (
                f"Stop every MediaDesk on this catalog, then run `{RECORD_COMMAND}` (with the "
                "same --data-dir or DATABASE_URL): it checks the tables again and records "
                f"schema {_head()}, changing nothing else. Or restore the catalog from a backup."
            )
        if not self.version_table:
            return (
                "Point DATABASE_URL (or --data-dir) at your MediaDesk catalog, or at a new "
                "empty database for a new one; if this was MediaDesk's catalog, restore it "
                "from a backup."
            )
        if self.empty:
            from core.db.left_behind import make_new

            return (
                "It holds nothing to keep (a set-up cut short): stop every MediaDesk on it and "
                f"{make_new(self.url)}; the next start sets it up."
            )
        if self.newer:
            return (
                f"A newer MediaDesk made these tables: run that version's `{RECORD_COMMAND}`, "
                "or restore the catalog from a backup."
            )
        return "Restore the catalog from a backup: tables at an unknown schema cannot be migrated."

    def error(self) -> StorageUnavailable:
        return StorageUnavailable(
            f"{self.detail}. {self.fix} Nothing was changed.",
            reason=SCHEMA_UNRECORDED,
            details={"tables": list(self.tables), "current": self.current},
        )


def _some(n: int, what: str) -> str:
    return f"{n} {what}{'' if n == 1 else 's'}"


def _few(names: tuple[str, ...], most: int = 3) -> str:
    shown = ", ".join(names[:most])
    return f"{shown} and {len(names) - most} more" if len(names) > most else shown


def _head() -> str:
    return ", ".join(sorted(script_heads()))


def unrecorded(connection: Connection, shown: str) -> Unrecorded | None:
    """The catalog behind `connection` when it holds MediaDesk's tables and no recorded
    revision (see Unrecorded), else None (`shown`: its URL fit to show)."""
    from core.db.models import ApiToken, Athlete, Base, MediaFile

    found = inspect(connection)
    names = set(found.get_table_names())
    if VERSION_TABLE in names and schema_guard.catalog_revisions(connection):
        return None
    ours = sorted(names & set(Base.metadata.tables))
    if not ours:
        return None  # a new catalog (another application's tables at most)
    missing: list[str] = []
    extra: list[str] = []
    for table in Base.metadata.sorted_tables:
        if table.name not in names:
            missing.append(table.name)
            continue
        there = {c["name"] for c in found.get_columns(table.name)}
        known = {c.name for c in table.columns}
        missing += [f"{table.name}.{c.name}" for c in table.columns if c.name not in there]
        extra += [f"{table.name}.{c}" for c in sorted(there - known)]

    def count(model: type[Base]) -> int:
        if model.__tablename__ not in names:
            return 0
        # count(*) names no column: it reads tables of any schema
        query = f"SELECT count(*) FROM {model.__tablename__}"  # noqa: S608 - our own name
        return int(connection.scalar(text(query)) or 0)

    return Unrecorded(
        shown,
        VERSION_TABLE in names,
        tuple(ours),
        tuple(missing),
        tuple(extra),
        count(MediaFile),
        count(Athlete),
        count(ApiToken),
    )


def upgrade(
    engine: Engine, revision: str = "head", on_start: Callable[[], None] | None = None
) -> None:
    """Brings the schema up to `revision` on the given engine. `on_start` is called, under the
    migration lock, before a catalog that has a revision is migrated (not when it is current,
    nor for a new catalog's set-up): the desktop's splash says a one-time upgrade runs."""
    with engine.connect() as connection:
        current = catalog_heads(connection)
    newer = newer_revisions(current)
    if newer:
        # Alembic's answer is a traceback ending in "Can't locate revision"
        raise StorageUnavailable(
            f"The catalog was upgraded by a newer MediaDesk (schema {', '.join(sorted(newer))}; "
            f"this version knows up to {', '.join(sorted(script_heads()))}): run that version "
            "or a newer one here. Nothing was changed.",
            reason=CATALOG_NEWER,
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
        found = catalog_heads(connection)  # (another start may have migrated it meanwhile)
        if current:  # a new catalog has nobody on it to refuse for
            _refuse_under_live_processes(connection)
        elif not found:
            _refuse_unrecorded(connection)
        if found and _behind(found, revision):
            # A big catalog migrates for minutes: said before, so that nobody takes a start
            # or a server that is upgrading for one that hangs
            logger.info(
                "Upgrading the catalog's schema from %s to %s for this version of MediaDesk "
                "(once; a big catalog takes minutes)",
                ", ".join(sorted(found)),
                ", ".join(sorted(_targets(revision))),
                extra=NOTICE,
            )
            if on_start is not None:
                on_start()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    logger.info("Catalog schema at %s", revision)


def _targets(revision: str) -> set[str]:
    return script_heads() if revision == "head" else {revision}


def _behind(found: set[str], revision: str) -> bool:
    """Whether a catalog at `found` has migrations to run to reach `revision`: each of its
    revisions comes before it (read from the scripts, as script_heads)."""
    targets = _targets(revision)
    if found == targets:
        return False
    revisions = script_revisions()
    earlier: set[str] = set()
    walk = [revisions.get(target) for target in targets]
    while walk:
        down = walk.pop()
        if down is not None and down not in earlier:
            earlier.add(down)
            walk.append(revisions.get(down))
    return found <= earlier


def _refuse_unrecorded(connection: Connection) -> None:
    """Refuses to set up a catalog that holds MediaDesk's tables without a record of their
    revision (Unrecorded): the first migration failed on them ("table api_tokens already
    exists"), which said nothing of the catalog's state or its fix."""
    from core.secrets import shown_database_url

    shown = shown_database_url(connection.engine.url.render_as_string(hide_password=False))
    found = unrecorded(connection, shown)
    if found is not None:
        raise found.error()


def is_new(connection: Connection) -> bool:
    """Whether the catalog has neither a recorded revision nor any of MediaDesk's tables: one
    a start sets up."""
    from core.db.models import Base

    if catalog_heads(connection):
        return False
    return not set(inspect(connection).get_table_names()) & set(Base.metadata.tables)


def record_schema(engine: Engine) -> str:
    """Records this version's revision in a catalog whose tables are this version's and whose
    record is empty or gone (`mediadesk catalog record-schema`, Unrecorded.fix): checked again
    under the migration lock, and nothing but the record is written. Returns the revision;
    raises the catalog's own refusal when its tables are not this version's, and Conflict when
    it needs no record (set up and recorded, or new)."""
    from alembic import command

    from core.secrets import shown_database_url

    shown = shown_database_url(engine.url.render_as_string(hide_password=False))
    with _migrating(engine) as connection:
        heads = catalog_heads(connection)
        if heads:
            raise Conflict(
                f"{shown} already records its schema ({', '.join(sorted(heads))}): there is "
                "nothing to record. Nothing was changed.",
                reason="schema_recorded",
            )
        found = unrecorded(connection, shown)
        if found is None:
            raise Conflict(
                f"{shown} holds none of MediaDesk's tables: a new catalog, which MediaDesk's "
                "first start sets up. Nothing was changed.",
                reason="catalog_new",
            )
        if not found.current:
            raise found.error()
        cfg = alembic_config(str(engine.url))
        cfg.attributes["connection"] = connection
        command.stamp(cfg, "head")
        recorded = catalog_heads(connection)
    logger.info("Catalog schema recorded at %s", ", ".join(sorted(recorded)))
    return ", ".join(sorted(recorded))


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
        f"{schema_guard.FORCE_ENV}=1 to {change} anyway). Nothing was changed.",
        reason=UPGRADE_BLOCKED,
        details={"processes": list(others)},
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
