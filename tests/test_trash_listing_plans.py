"""The Trash's pages read the page, not the catalog: each sort key's trash index (migration 0028)
in order, on both engines, whatever the status filter, first page, cursor either way, offset.

A trashed row's `deleted_at IS NOT NULL` is a range in the (deleted_at, status, key, id)
indexes, which give no key's order there: every trashed row was read and sorted for each page
(PostgreSQL's Bitmap Heap Scan + Sort). With status=any SQLite, planning without statistics,
took the equality `alias_of IS NULL` on ix_media_files_alias_of instead: every file of the
catalog, then a temporary B-tree (57 ms a page at 30,000 files, 862 ms at 300,000). The
statements checked are those the catalog runs, caught as they run.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, create_engine, insert, text

from core.db.migrate import downgrade, upgrade
from core.db.models import SORT_KEYS, MediaFile
from core.library import Library
from core.records import FileQuery, Page, Sort
from tests.internals import db_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.plan_helpers import caught_statements, explain, file_row, on_engine, store

FILES = 8_000  # a tenth of them in the trash: enough for PostgreSQL's statistics to weigh


def _rows(files: int) -> list[dict[str, Any]]:
    """Files as ingest writes them, a tenth of them in the trash, and two aliases."""
    start = datetime(2020, 1, 1, tzinfo=UTC)
    rows: list[dict[str, Any]] = []
    for i in range(files):
        row = file_row(i, start)
        row["name_sort"] = f"f{(i * 7919) % FILES:08d}"
        row["captured_at"] -= timedelta(seconds=(i * 7919) % 86_400)
        rows.append(row)
    # two aliases, which a status=any listing leaves out
    rows += [dict(rows[-1], storage_key=f"alias{i}", status="alias", alias_of=i) for i in (1, 2)]
    return rows


@pytest.fixture(params=["sqlite", "postgresql"])
def filled(request: pytest.FixtureRequest) -> Iterator[Library]:
    lib = on_engine(request)
    store(lib, _rows(FILES), [])
    yield lib


def _postgresql(lib: Library) -> bool:
    return db_of(lib).engine.dialect.name == "postgresql"


def _plan(lib: Library, stmt: str, params: Any) -> str:
    """The plan's nodes and indexes, as one line."""
    return " | ".join(explain(lib, stmt, params))


def _reads_the_trash_index(lib: Library, query: FileQuery, index: str) -> Page:
    """The page, after checking that each of its statements walks `index` without a sort."""
    page, statements = caught_statements(lib, query)
    for stmt, params in statements:
        # The files without the key (photos' duration, pending uploads' size) come in id
        # order, an equality in the trash index on SQLite; PostgreSQL takes IS NULL for none
        # and weighs the ids' index or a sort of those few rows
        by_id = stmt.rstrip().split("ORDER BY")[-1].split()[0] == "media_files.id"
        if by_id and _postgresql(lib):
            continue
        plan = _plan(lib, stmt, params)
        assert index in plan, (query, plan, stmt[-300:])
        assert "TEMP B-TREE" not in plan and "Sort" not in plan, (query, plan, stmt[-300:])
    return page


def test_trash_pages_walk_their_sort_keys_trash_index(filled: Library) -> None:
    for status in ("ready", None):
        for sort in Sort:
            key = "name_sort" if sort.field == "original_filename" else sort.field
            index = f"ix_media_files_trash_by_{key}"
            for backwards in (False, True):
                ask = FileQuery(
                    trashed=True, status=status, sort=sort, limit=20, backwards=backwards
                )
                first = _reads_the_trash_index(filled, ask, index)
                assert len(first.items) == 20 and all(r.is_trashed for r in first.items)
                assert first.next_cursor is not None
                more = _reads_the_trash_index(
                    filled,
                    FileQuery(
                        trashed=True,
                        status=status,
                        sort=sort,
                        limit=20,
                        backwards=backwards,
                        cursor=first.next_cursor,
                    ),
                    index,
                )
                assert len(more.items) == 20
                assert not {r.id for r in first.items} & {r.id for r in more.items}
            if not _postgresql(filled):  # (PostgreSQL weighs a deep offset's steps: its call)
                ask = FileQuery(trashed=True, status=status, sort=sort, limit=20, offset=300)
                assert len(_reads_the_trash_index(filled, ask, index).items) == 20
    # the alias index holds the aliases alone: looking them up still uses it...
    for where in ("alias_of = 7", "alias_of IN (7, 9)"):
        plan = _plan(filled, f"SELECT id FROM media_files WHERE {where}", ())
        assert "ix_media_files_alias_of" in plan, (where, plan)
    # ...and `alias_of IS NULL`, every other file, can no longer read the catalog through it
    stmt = "SELECT id FROM media_files WHERE alias_of IS NULL AND deleted_at IS NULL LIMIT 1"
    assert "ix_media_files_alias_of" not in _plan(filled, stmt, ())


def _partial_indexes(engine: Engine) -> dict[str, str]:
    """media_files' indexes of 0028 and their SQL."""
    with engine.connect() as c:
        rows = c.execute(
            text(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND "
                "(name LIKE 'ix_media_files_trash_by_%' OR name = 'ix_media_files_alias_of')"
            )
        )
        return {str(name): " ".join(str(sql).split()) for name, sql in rows}


def test_migration_0028_makes_the_trash_indexes_and_goes_back(tmp_path: Path) -> None:
    """An existing catalog upgraded (twice: a catalog stamped back by hand) and downgraded."""
    engine = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(engine, "0027")
    assert _partial_indexes(engine) == {
        "ix_media_files_alias_of": "CREATE INDEX ix_media_files_alias_of ON media_files (alias_of)"
    }
    with engine.begin() as conn:
        conn.execute(insert(MediaFile), _rows(3))  # and two aliases
    for stamped_back in (False, True):
        if stamped_back:
            with engine.begin() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = '0027'"))
        upgrade(engine)
        made = _partial_indexes(engine)
        assert made.pop("ix_media_files_alias_of").endswith("(alias_of) WHERE alias_of IS NOT NULL")
        assert sorted(made) == sorted(f"ix_media_files_trash_by_{k}" for k in SORT_KEYS)
        for key in SORT_KEYS:
            assert made[f"ix_media_files_trash_by_{key}"].endswith(
                f"({key}, id) WHERE deleted_at IS NOT NULL"
            )
    downgrade(engine, "0027")
    assert _partial_indexes(engine) == {
        "ix_media_files_alias_of": "CREATE INDEX ix_media_files_alias_of ON media_files (alias_of)"
    }
    with engine.connect() as conn:  # the rows stay
        assert conn.execute(text("SELECT count(*) FROM media_files")).scalar() == 5
    engine.dispose()
