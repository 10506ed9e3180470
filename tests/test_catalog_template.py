"""The tests' migrated catalog template (tests/conftest.py) stands for Alembic's own path.

Library.open in the tests starts a brand-new SQLite catalog as a copy of one this worker
migrated once; these check that a copy and a catalog Alembic migrated from nothing are the
same, and that the real path still opens a library.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from core.settings import Settings
from tests.conftest import make_settings


def _schema(settings: Settings) -> dict[str, object]:
    path = settings.effective_database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        return {
            "objects": sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master")),
            "version": conn.execute("SELECT version_num FROM alembic_version").fetchall(),
            "user_version": conn.execute("PRAGMA user_version").fetchone(),
            # what migrations wrote besides the schema (seeded rows)
            "rows": {
                name: sorted(map(repr, conn.execute(f'SELECT * FROM "{name}"')))
                for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
            },
        }


def _opened(folder: Path) -> Settings:
    folder.mkdir()
    settings = make_settings(folder)
    Library.open(settings).close()
    return settings


@pytest.mark.usefixtures("alembic_migrations")
def test_alembic_makes_a_new_catalog_the_template_copies(tmp_path: Path) -> None:
    import core.library
    from tests import conftest

    assert core.library.upgrade is not conftest._upgrade_from_template  # the fixture's way
    migrated = _opened(tmp_path / "migrated")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(core.library, "upgrade", conftest._upgrade_from_template)
        copied = _opened(tmp_path / "copied")
    assert _schema(copied) == _schema(migrated)


def test_a_library_on_a_copy_of_the_template_works(tmp_path: Path, media_dir: Any) -> None:
    import core.library
    from tests import conftest

    assert core.library.upgrade is conftest._upgrade_from_template
    settings = _opened(tmp_path / "data")
    lib = Library.open(settings)  # again: an existing catalog goes the real way
    try:
        record = lib.uploads.ingest(media_dir.jpeg, "image")
        assert lib.get_file(record.id).sha256 == record.sha256
        assert lib.counts()["all"] == 1
    finally:
        lib.close()
