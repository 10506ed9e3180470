"""The same migrations and library work on PostgreSQL (DATABASE_URL=postgresql+psycopg://…)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import inspect

from core.db.engine import Database
from core.db.migrate import downgrade, upgrade
from core.library import Library
from tests.conftest import make_settings
from tests.internals import db_of, storage_of
from tests.pg_server import postgres_url  # noqa: F401


def test_migrations_and_library_on_postgres(
    postgres_url: str,
    data_dir: Path,  # noqa: F811
    media_dir,
) -> None:
    lib = Library.open(make_settings(data_dir, database_url=postgres_url))
    try:
        assert "media_files" in inspect(db_of(lib).engine).get_table_names()
        rec = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=4, description="Tiro libre")
        again = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=4)
        assert again.duplicate and again.id == rec.id
        assert lib.list_files(q="tiro").total == 1
        assert lib.update_file(rec.id, {"athlete_id": 9}).athlete_name == "Athlete 9"
        assert lib.create_athlete("Nueva atleta").id not in (4, 9)  # sequence moved past ids
        lib.trash(rec.id)
        assert lib.list_files(trashed=True).total == 1
        lib.delete_permanently(rec.id)
        assert lib.list_files(trashed=True).total == 0
        # the key before the move waits for its readers' grace period (deferred_deletions)
        from datetime import UTC, datetime, timedelta

        later = datetime.now(UTC) + timedelta(seconds=lib.deferred.grace + 1)
        assert lib.deferred.run(later) == [rec.storage_key]
        assert not storage_of(lib).exists(rec.storage_key)
    finally:
        downgrade(db_of(lib).engine, "base")
        lib.close()
    db = Database(postgres_url)
    assert "media_files" not in inspect(db.engine).get_table_names()
    upgrade(db.engine)
    downgrade(db.engine, "base")
    db.dispose()
