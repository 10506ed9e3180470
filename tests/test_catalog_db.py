"""The catalog database: Alembic migrations, SQLite pragmas and concurrent writers."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from core.db.engine import Database
from core.db.migrate import alembic_config, downgrade, upgrade
from core.db.models import Athlete, MediaFile
from core.library import Library
from tests.internals import db_of


def test_migrations_create_and_remove_the_schema(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    upgrade(db.engine)
    tables = set(inspect(db.engine).get_table_names())
    assert {"athletes", "media_files", "api_tokens", "audit_log", "alembic_version"} <= tables
    with db.read() as s:
        head = ScriptDirectory.from_config(alembic_config(str(db.engine.url))).get_current_head()
        assert s.execute(text("select version_num from alembic_version")).scalar() == head
    downgrade(db.engine, "base")
    assert "media_files" not in inspect(db.engine).get_table_names()
    upgrade(db.engine)  # and back up again
    assert "media_files" in inspect(db.engine).get_table_names()


def test_sqlite_pragmas(library: Library) -> None:
    with db_of(library).read() as s:
        assert s.execute(text("pragma journal_mode")).scalar() == "wal"
        assert s.execute(text("pragma foreign_keys")).scalar() == 1
        assert s.execute(text("pragma busy_timeout")).scalar() >= 5000


def test_two_threads_and_two_connections_write_at_once(library: Library) -> None:
    """The app's threads and the server's thread (or process) write without 'locked' errors."""
    other = Database(db_of(library).url)  # a second engine, as a second process would have
    errors: list[BaseException] = []

    def writer(db: Database, prefix: str) -> None:
        try:
            for i in range(40):
                with db.write() as s:
                    s.add(Athlete(name=f"{prefix}-{i}"))
                    s.flush()
                    s.add(
                        MediaFile(
                            storage_key=f"general/2026/01/{prefix}{i}.jpg",
                            original_filename="x.jpg",
                            file_type="image",
                        )
                    )
        except BaseException as exc:  # pragma: no cover - reported by the assertion
            errors.append(exc)

    threads = [
        threading.Thread(target=writer, args=(db, p))
        for db, p in ((db_of(library), "a"), (db_of(library), "b"), (other, "c"), (other, "d"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with db_of(library).read() as s:
        assert s.query(Athlete).count() == 160
        assert s.query(MediaFile).count() == 160
    other.dispose()


def test_optimistic_version_increments(library: Library, media_dir) -> None:
    rec = library.uploads.ingest(media_dir.png, "image")
    updated = library.update_file(rec.id, {"description": "a"})
    assert updated.version == rec.version + 1
