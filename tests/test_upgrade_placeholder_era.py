"""Catalogs made while revisions 0002-0007 were placeholders, opened by the current version.

On Dec 1 2026 (c9abfdf) the revisions 0002-0007 were empty placeholders, filled in during the
following hour; 0005 got its lease columns later still (69b6969). A catalog created by a
version of that hour is stamped with revisions whose effect it never had. Built here as those
versions left it: the real revisions up to the one that was still a placeholder, that one
stamped without its effect, the rest applied, rows inserted as that version wrote them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

from core.db.engine import Database
from core.db.migrate import upgrade
from core.library import Library
from core.maintenance import run_maintenance
from tests.conftest import make_settings

NOW = datetime(2026, 12, 1, 12, 30, tzinfo=UTC)


def _stamp(engine: Engine, revision: str) -> None:
    """The placeholder ran: the version moved on, the schema did not."""
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": revision})


def _insert_file(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO athletes (id, name, created_at) VALUES (1, 'Lucía Peña 🏃', :t)"),
            {"t": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO media_files (id, storage_key, original_filename, content_type, "
                "file_type, size, extra, athlete_id, is_public, description, status, "
                "has_thumbnail, created_at, updated_at, version) VALUES (1, "
                "'athletes/1/2026/12/a.jpg', 'salto_ñ.jpg', 'image/jpeg', 'image', 3, '{}', 1, "
                "0, 'año 🎉', 'ready', 0, :t, :t, 1)"
            ),
            {"t": NOW},
        )


def _open(data: Path) -> Library:
    return Library.open(make_settings(data))


def test_a_catalog_from_before_0005_had_its_lease_columns_upgrades_and_serves_uploads(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    db = Database(f"sqlite:///{data / 'mediadesk.sqlite3'}")
    upgrade(db.engine, "0004")
    with db.engine.begin() as conn:  # 0005 as it was until 69b6969: no lease columns
        conn.execute(
            text(
                "CREATE TABLE resumable_uploads (id VARCHAR(32) NOT NULL, protocol VARCHAR(10) "
                "NOT NULL, state VARCHAR(10) NOT NULL, length BIGINT NOT NULL, received BIGINT "
                "NOT NULL, meta JSON NOT NULL, object_key VARCHAR(512), s3_upload_id "
                "VARCHAR(1024), part_size BIGINT NOT NULL, parts JSON NOT NULL, file_id "
                "INTEGER, failure TEXT, owner VARCHAR(120), created_at DATETIME NOT NULL, "
                "updated_at DATETIME NOT NULL, expires_at DATETIME NOT NULL, PRIMARY KEY (id))"
            )
        )
    _stamp(db.engine, "0005")
    upgrade(db.engine, "0007")  # the version of that hour stopped there
    _insert_file(db.engine)
    upload_id = uuid.uuid4().hex
    with db.engine.begin() as conn:  # a tus upload half done when the club upgraded
        conn.execute(
            text(
                "INSERT INTO resumable_uploads (id, protocol, state, length, received, meta, "
                "part_size, parts, owner, created_at, updated_at, expires_at) VALUES (:id, "
                "'tus', 'receiving', 10, 4, :meta, 10, '[]', NULL, :t, :t, :exp)"
            ),
            {
                "id": upload_id,
                "meta": '{"filename": "vídeo.mp4", "file_type": "video"}',
                # written to an hour before the upgrade (its expiry slides from its last write:
                # a fixed date here expired it once the calendar passed it by a day)
                "t": datetime.now(UTC) - timedelta(hours=1),
                "exp": datetime.now(UTC) + timedelta(hours=23),
            },
        )
    db.dispose()

    lib = _open(data)
    try:
        assert lib.resumable.get(upload_id).offset == 4
        report = run_maintenance(lib, only=frozenset({"expire_uploads", "sweep_uploads"}))
        assert report.errors == []
        assert lib.get_file(1).description == "año 🎉"
    finally:
        lib.close()


def test_a_catalog_from_before_0002_and_0003_were_filled_in_upgrades_and_opens(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    db = Database(f"sqlite:///{data / 'mediadesk.sqlite3'}")
    upgrade(db.engine, "0001")
    _stamp(db.engine, "0003")  # 0002 and 0003 still placeholders
    upgrade(db.engine, "0007")
    _insert_file(db.engine)
    db.dispose()

    lib = _open(data)  # labels the rows with their backend (needs media_files.storage_backend)
    try:
        record = lib.get_file(1)
        assert record.original_filename == "salto_ñ.jpg"
        assert lib.backends.backend_of_key(record.storage_key) == "local"
        assert run_maintenance(lib, only=frozenset({"deferred_deletions"})).errors == []
    finally:
        lib.close()
