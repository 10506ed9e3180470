"""Upgrading a catalog made by an older version while two processes start on it at once.

After an upgrade the server and its workers (or the desktop app and `mediadesk serve`, or a
team's servers) start together and each runs the migrations. The second must wait for the
first and find nothing left to do, not fail: on SQLite it crashed with "database is locked"
(its snapshot of the old version was stale once the first committed); on PostgreSQL it ran
DDL the first had already applied.

Deterministic without sleeps: the first migrator holds its transaction open until the second
has either read the (old) schema version or asked for the migration lock; only then does the
first migrate and commit.
"""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from core.db.engine import Database
from core.db.migrate import PG_MIGRATION_LOCK, alembic_config, downgrade, upgrade
from tests.pg_server import postgres_url  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
OLD = "0005"  # the schema of the last release before the change feed (migration 0006)


def _head(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(str(engine.url))).get_current_head()
    assert head is not None
    return head


def _old_catalog(engine: Engine) -> None:
    """A catalog as that version left it: its schema and a few of its rows."""
    upgrade(engine, OLD)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO athletes (id, name, created_at) "
                "VALUES (1, 'Lucía Peña 🏃', '2026-11-30 10:00:00')"
            )
        )
        for i in range(1, 4):
            conn.execute(
                text(
                    "INSERT INTO media_files (id, storage_key, original_filename, content_type, "
                    "file_type, size, extra, athlete_id, is_public, description, status, "
                    "has_thumbnail, created_at, updated_at, version) VALUES (:id, :key, :name, "
                    "'image/jpeg', 'image', 100, '{}', 1, false, 'año', 'ready', false, "
                    "'2026-11-30 10:00:00', '2026-11-30 10:00:00', 1)"
                ),
                {"id": i, "key": f"athletes/1/2026/11/{i}.jpg", "name": f"salto_{i}_ñ.jpg"},
            )


# The second process: says "waiting" once it asked for the migration lock or read the old
# version (from then on it depends on the first one's commit), then upgrades.
SECOND = """
import sys
from sqlalchemy import event
from core.db.engine import Database
from core.db.migrate import upgrade

db = Database(sys.argv[1])

def told():
    print("waiting", flush=True)

@event.listens_for(db.engine, "before_cursor_execute")
def _asks_lock(_c, _cur, statement, *_rest):
    if statement.startswith("BEGIN IMMEDIATE") or "pg_advisory" in statement:
        told()

@event.listens_for(db.engine, "after_cursor_execute")
def _read_version(_c, _cur, statement, *_rest):
    if "alembic_version" in statement and statement.lstrip().upper().startswith("SELECT"):
        told()

upgrade(db.engine)
print("done", flush=True)
"""


def _race(engine: Engine) -> subprocess.CompletedProcess[str]:
    """This process migrates while a second one starts on the same catalog."""
    cfg = alembic_config(str(engine.url))
    with engine.connect() as conn, conn.execution_options(mediadesk_write=True).begin():
        if engine.dialect.name == "sqlite":
            # a write in progress, as the first migrator's own transaction (holds the lock)
            conn.execute(text("UPDATE athletes SET name = name WHERE id = 1"))
        else:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": PG_MIGRATION_LOCK})
        second = subprocess.Popen(
            [sys.executable, "-c", SECOND, str(engine.url.render_as_string(hide_password=False))],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        assert second.stdout is not None
        assert second.stdout.readline().strip() == "waiting"
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")
    out, err = second.communicate(timeout=120)
    return subprocess.CompletedProcess(second.args, second.returncode, out, err)


def _check(engine: Engine) -> None:
    with engine.connect() as conn:
        assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == _head(
            engine
        )
        assert conn.execute(text("SELECT count(*) FROM media_files")).scalar() == 3
        counts = conn.execute(text("SELECT sum(n), sum(bytes) FROM file_counts")).one()
        assert tuple(counts) == (3, 300)


def test_two_processes_upgrade_an_old_sqlite_catalog_at_once(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'mediadesk.sqlite3'}")
    try:
        _old_catalog(db.engine)
        second = _race(db.engine)
        assert second.returncode == 0, second.stderr
        assert second.stdout.split()[-1] == "done"
        _check(db.engine)
        # the long wait for the lock is the migration's only: the connection that migrated
        # goes back to the pool with the usual busy timeout
        db.engine.dispose()
        upgrade(db.engine)
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000
    finally:
        db.dispose()


@pytest.fixture
def pg_database(postgres_url: str) -> Iterator[str]:
    """A database of its own on the session's PostgreSQL (others share `postgres`)."""
    name = f"upgrade_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield postgres_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


def test_two_servers_upgrade_an_old_postgres_catalog_at_once(pg_database: str) -> None:
    db = Database(pg_database)
    try:
        _old_catalog(db.engine)
        second = _race(db.engine)
        assert second.returncode == 0, second.stderr
        assert second.stdout.split()[-1] == "done"
        _check(db.engine)
        downgrade(db.engine, OLD)  # the downgrade takes the same lock
        with db.engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar() == OLD
    finally:
        db.dispose()


def test_a_current_sqlite_catalog_opens_while_another_process_holds_a_long_write(
    tmp_path: Path,
) -> None:
    """Opening a catalog already at the newest schema takes no write lock: it took one at every
    start, so the app or a worker starting while another process held a long write (a bulk
    import, a reconcile) waited up to the migration wait, an hour."""
    url = f"sqlite:///{tmp_path / 'catalog.db'}"
    db = Database(url)
    upgrade(db.engine)
    db.engine.dispose()
    writer = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"c = sqlite3.connect({str(tmp_path / 'catalog.db')!r}, isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('holding', flush=True)\n"
            "sys.stdin.read()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "holding"
        opener = subprocess.run(
            [
                sys.executable,
                "-c",
                "from core.db.engine import Database\n"
                "from core.db.migrate import upgrade\n"
                f"upgrade(Database({url!r}).engine)\n"
                "print('opened')\n",
            ],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=60,  # the whole migration wait (an hour) without the fix
        )
        assert opener.stdout.strip() == "opened", opener.stderr[-2000:]
    finally:
        writer.kill()
        writer.wait()
