"""The catalog database: Alembic migrations, SQLite pragmas and concurrent writers."""

from __future__ import annotations

import functools
import subprocess
import sys
import threading
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text

from core.db.engine import Database
from core.db.migrate import alembic_config, downgrade, script_heads, script_revisions, upgrade
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


def test_the_scripts_revisions_are_read_as_alembic_reads_them() -> None:
    """Start-ups compare the catalog with script_revisions() without importing Alembic: a
    script written differently (a typed assignment, a branch) must not go unseen."""
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    assert script_revisions() == {s.revision: s.down_revision for s in script.walk_revisions()}
    assert script_heads() == set(script.get_heads())


def test_a_start_on_a_current_catalog_imports_no_alembic(tmp_path: Path) -> None:
    """Alembic (with Mako and Pygments) is a tenth of a second of every process's start;
    only a catalog that needs migrating pays it."""
    db = Database(f"sqlite:///{tmp_path / 'c.sqlite3'}")
    upgrade(db.engine)
    db.engine.dispose()
    code = (
        "import sys; from core.db.engine import Database; from core.db.migrate import upgrade;"
        f"upgrade(Database({str(db.engine.url)!r}).engine);"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('alembic', 'boto3')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


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


def _dates_follow_ids(engine: Engine) -> bool:
    with engine.connect() as conn:
        return bool(conn.scalar(text("SELECT created_follows_id FROM catalog_order")))


def _index_names(engine: Engine) -> set[str]:
    return {str(ix["name"]) for ix in inspect(engine).get_indexes("media_files")}


def test_migration_0015_flags_dates_in_id_order_and_drops_the_name_index(tmp_path: Path) -> None:
    """An existing catalog upgraded: the flag says whether every file's date follows its id
    (shared dates allowed), the triggers keep it from then on, and the unused index by
    original_filename goes (back with the downgrade)."""
    for name, minutes, follows in (("in", [0, 1, 1, 2], True), ("out", [0, 2, 1, 3], False)):
        engine = create_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade(engine, "0014")
        with engine.begin() as conn:
            for i, minute in enumerate(minutes):
                conn.execute(
                    text(
                        "INSERT INTO media_files (storage_key, original_filename, name_sort, "
                        "file_type, is_public, description, status, has_thumbnail, extra, "
                        "created_at, updated_at, version) VALUES (:k, 'a.jpg', 'a.jpg', 'image', "
                        "0, '', 'ready', 0, '{}', :at, :at, 1)"
                    ),
                    {"k": f"k{i}", "at": f"2024-01-01 00:0{minute}:00.000000"},
                )
        upgrade(engine)
        flag = functools.partial(_dates_follow_ids, engine)
        indexes = functools.partial(_index_names, engine)
        assert flag() is follows, name
        assert "ix_media_files_by_original_filename" not in indexes()
        with engine.begin() as conn:  # a file dated before the newest one
            conn.execute(
                text(
                    "INSERT INTO media_files (storage_key, original_filename, name_sort, "
                    "file_type, is_public, description, status, has_thumbnail, extra, "
                    "created_at, updated_at, version) VALUES ('late', 'a.jpg', 'a.jpg', 'image', "
                    "0, '', 'ready', 0, '{}', :at, :at, 1)"
                ),
                {"at": "2024-01-01 00:01:30.000000"},
            )
        assert not flag()
        downgrade(engine, "0014")
        assert "ix_media_files_by_original_filename" in indexes()
        assert "catalog_order" not in inspect(engine).get_table_names()
        engine.dispose()
