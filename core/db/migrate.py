"""Runs the Alembic migrations programmatically (at start-up and in the tests)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from core.db import schema_guard
from core.errors import StorageUnavailable

logger = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).with_name("migrations")
# How long a process starting on SQLite waits for another one's migration of the catalog:
# a million-file catalog migrates for minutes, past the 30 s of an ordinary write.
SQLITE_MIGRATION_WAIT_MS = 3_600_000
# The PostgreSQL advisory lock migrations take (an arbitrary constant of this application).
PG_MIGRATION_LOCK = 0x4D444D4947  # "MDMIG"


def alembic_config(url: str) -> Config:
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
    """
    with engine.connect() as connection:
        sqlite = engine.dialect.name == "sqlite"
        raw = connection.connection.dbapi_connection
        if sqlite and raw is not None:
            usual = raw.execute("PRAGMA busy_timeout").fetchone()[0]
            raw.execute(f"PRAGMA busy_timeout={SQLITE_MIGRATION_WAIT_MS}")
        try:
            # BEGIN IMMEDIATE on SQLite (core/db/engine.py): the write lock up front
            with connection.execution_options(mediadesk_write=True).begin():
                if engine.dialect.name == "postgresql":
                    connection.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": PG_MIGRATION_LOCK}
                    )
                yield connection
        finally:
            if sqlite and raw is not None:
                raw.execute(f"PRAGMA busy_timeout={int(usual)}")


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Brings the schema up to `revision` on the given engine."""
    cfg = alembic_config(str(engine.url))
    script = ScriptDirectory.from_config(cfg)
    with engine.connect() as connection:
        current = set(MigrationContext.configure(connection).get_current_heads())
    newer = newer_revisions(current)
    if newer:
        # Alembic's answer is a traceback ending in "Can't locate revision"
        raise StorageUnavailable(
            f"The catalog was upgraded by a newer MediaDesk (schema {', '.join(sorted(newer))}; "
            f"this version knows up to {script.get_current_head()}): run that version or a "
            "newer one here. Nothing was changed."
        )
    # Versions only move forward, so "at head" read without a lock stays true.
    if revision == "head" and current and current == set(script.get_heads()):
        # Every start comes here. The migration lock is a write lock on SQLite with a wait of
        # an hour: taken at each start, a process opening a current catalog waited behind
        # another's long write for all of it, not the 30 s of an ordinary write.
        logger.info("Catalog schema at %s", revision)
        return
    with _migrating(engine) as connection:
        if current:  # a new catalog has nobody on it to refuse for
            _refuse_under_live_processes(connection, script.get_heads())
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    logger.info("Catalog schema at %s", revision)


def _refuse_under_live_processes(connection: Connection, heads: list[str]) -> None:
    """Refuses to migrate a catalog other processes run on (core/db/schema_guard.py), unless
    forced: they would go on writing by the old schema's rules (an older server's hard delete
    removed an object that a newer version let another file share). Asked under the migration
    lock, after another process's migration of the same catalog finished: then there is
    nothing left to do and nobody to refuse for."""
    if set(MigrationContext.configure(connection).get_current_heads()) == set(heads):
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
    cfg = alembic_config(str(engine.url))
    with _migrating(engine) as connection:
        # A running newer server would see a revision it knows and go on writing to tables
        # without the columns its code uses
        _refuse_if_others(connection, "downgrade")
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)
