"""A listing pinned to deleted_at IS NULL and one status (an athlete's, or the catalog's) walks
its sort key's index in order on both engines: no sort of the listing's rows for a page.

PostgreSQL takes `deleted_at IS NULL` for no equality, so ordered by the key alone it read and
sorted every row of the athlete for each page (core.catalog._ordered orders by the pinned
columns first). The statements checked are those the catalog runs, caught as they run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from core.db.models import Athlete, MediaFile
from core.library import Library
from core.records import FileQuery, Sort
from tests.internals import db_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401

ROWS = 20_000
ATHLETES = 31


def _fill(lib: Library) -> None:
    start = datetime(2020, 1, 1, tzinfo=UTC)
    athletes = [
        {"id": i, "name": f"A{i}", "search_name": f"a{i}", "created_at": start}
        for i in range(1, ATHLETES + 1)
    ]
    rows = []
    for i in range(ROWS):
        video = i % 4 == 0
        when = start + timedelta(seconds=i * 30)
        rows.append(
            {
                "storage_key": f"k{i}",
                "original_filename": f"f{i}.jpg",
                "name_sort": f"f{i:08d}",
                "content_type": "video/mp4" if video else "image/jpeg",
                "file_type": "video" if video else "image",
                "size": (i * 7919) % 90_000_000 if i % 50 else None,
                "sha256": f"{i:064x}",
                "duration": float(i % 600) if video else None,
                "extra": {},
                "is_public": False,
                "description": "",
                "status": "ready" if i % 20 else "pending",
                "has_thumbnail": False,
                "athlete_id": i % ATHLETES + 1,
                "created_at": when,
                "updated_at": when,
                "captured_at": when,
                "deleted_at": when if i % 10 == 5 else None,  # (pending: i % 20 == 0)
                "version": 1,
            }
        )
    with db_of(lib).write() as s:
        s.execute(Athlete.__table__.insert(), athletes)
        s.execute(MediaFile.__table__.insert(), rows)
    engine = db_of(lib).engine
    if engine.dialect.name == "postgresql":  # the statistics autovacuum would gather
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE media_files"))


def _statements(lib: Library, query: FileQuery) -> tuple[Any, list[tuple[str, Any]]]:
    """The page and the ordered statements over media_files the catalog ran for it."""
    engine = db_of(lib).engine
    seen: list[tuple[str, Any]] = []

    def caught(_c: Any, _cur: Any, stmt: str, params: Any, _ctx: Any, _many: bool) -> None:
        if "ORDER BY" in stmt and "FROM media_files" in stmt:
            seen.append((stmt, params))

    event.listen(engine, "before_cursor_execute", caught)
    try:
        page = lib.list_files(query)
    finally:
        event.remove(engine, "before_cursor_execute", caught)
    assert seen
    return page, seen


def _nodes(node: dict[str, Any]) -> list[str]:
    """The plan's nodes, top down: their type and index."""
    found = [f"{node['Node Type']} {node.get('Index Name', '')}".strip()]
    for child in node.get("Plans", []):
        found += _nodes(child)
    return found


def _check(lib: Library, stmt: str, params: Any, indexes: tuple[str, ...]) -> None:
    engine = db_of(lib).engine
    with engine.connect() as c:
        cur = c.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if engine.dialect.name == "postgresql":
            cur.execute("EXPLAIN (FORMAT JSON) " + stmt, params)
            raw = cur.fetchone()[0]
            plan = (json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"]
            # (a tie range of one row may take another index: no sort either way)
            nodes = _nodes(plan)
            if nodes[-1] == "Result":  # proven empty (a key both NULL and equal to a value)
                return
            assert not any("Sort" in n for n in nodes), (nodes, stmt[-400:], params)
        else:
            cur.execute("EXPLAIN QUERY PLAN " + stmt, params)
            plan = " | ".join(str(r[-1]) for r in cur.fetchall())
            assert "TEMP B-TREE FOR ORDER BY" not in plan and any(i in plan for i in indexes), (
                plan,
                stmt[-400:],
            )


@pytest.fixture(params=["sqlite", "postgresql"])
def filled(request: pytest.FixtureRequest) -> Iterator[Library]:
    lib = request.getfixturevalue("library" if request.param == "sqlite" else "pg_library")
    _fill(lib)
    yield lib


@pytest.mark.parametrize("athlete_id", [5, None], ids=["athlete", "catalog"])
def test_pinned_listing_walks_the_key_index_in_order(
    filled: Library, athlete_id: int | None
) -> None:
    """Ready files (the athlete's ~550; its ~30 pending ones PostgreSQL rightly sorts)."""
    status = "ready"
    for sort in Sort:
        key = "name_sort" if sort.field == "original_filename" else sort.field
        # SQLite's indexes end in the rowid: (deleted_at, status, created_at) orders as well
        index = (
            (f"ix_media_files_athlete_by_{key} ",)
            if athlete_id
            else (f"ix_media_files_by_{key} ", "ix_media_files_listing ")
        )
        for backwards in (False, True):
            query = FileQuery(
                athlete_id=athlete_id, status=status, sort=sort, limit=20, backwards=backwards
            )
            first, statements = _statements(filled, query)
            assert first.next_cursor is not None
            _, more = _statements(
                filled,
                FileQuery(
                    athlete_id=athlete_id,
                    status=status,
                    sort=sort,
                    limit=20,
                    backwards=backwards,
                    cursor=first.next_cursor,
                ),
            )
            for stmt, params in statements + more:
                _check(filled, stmt, params, index)
