"""The listing plan tests' shared pieces: catalogs filled in bulk, the statements a listing
runs caught as it runs them, and those statements' plans on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select, text

from core.db.models import Athlete, MediaFile
from core.library import Library
from core.records import FileQuery
from tests.conftest import _upgrade_from_template, make_settings
from tests.internals import db_of

ROWS = 20_000
ATHLETES = 31


def file_row(i: int, start: datetime) -> dict[str, Any]:
    """The `i`th of files as ingest writes them, a tenth of them in the trash; name_sort and
    captured_at are each test's to vary."""
    video = i % 4 == 0
    when = start + timedelta(seconds=i * 30)
    return {
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
        "created_at": when,
        "updated_at": when,
        "captured_at": when,
        "deleted_at": when if i % 10 == 5 else None,  # (pending: i % 20 == 0)
        "version": 1,
    }


def store(lib: Library, rows: list[dict[str, Any]], athletes: list[dict[str, Any]]) -> None:
    """The rows written at once, and on PostgreSQL the statistics autovacuum would gather.
    Into the tables (Core's insertmanyvalues: a few statements), not the ORM classes: the ORM's
    bulk insert splits the rows wherever the set of None values changes (size, duration,
    deleted_at vary by row), and sent ~12,000 statements for 20,000 rows (12-25 s of a
    PostgreSQL fill); the rows stored are the same."""
    with db_of(lib).write() as s:
        if athletes:
            s.execute(insert(Athlete.__table__), athletes)
        s.execute(insert(MediaFile.__table__), rows)
    engine = db_of(lib).engine
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.execute(text("VACUUM ANALYZE media_files"))


def on_engine(request: pytest.FixtureRequest) -> Library:
    """The empty library of a fixture parametrized over "sqlite" and "postgresql"."""
    lib = request.getfixturevalue("library" if request.param == "sqlite" else "pg_library")
    assert isinstance(lib, Library)
    return lib


def fill(lib: Library) -> None:
    """ROWS files, spread over ATHLETES athletes (tests/test_listing_plans.py's catalog)."""
    start = datetime(2020, 1, 1, tzinfo=UTC)
    athletes = [
        {"id": i, "name": f"A{i}", "search_name": f"a{i}", "created_at": start}
        for i in range(1, ATHLETES + 1)
    ]
    rows = [dict(file_row(i, start), athlete_id=i % ATHLETES + 1) for i in range(ROWS)]
    store(lib, rows, athletes)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def filled(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Library]:
    """fill's catalog on each engine (the module using it imports postgres_url too), filled
    once for the module's tests: filling it took 3-12 s a test. Its tests only read it, which
    the module's end checks (each row's version and time of change as filled)."""
    data = tmp_path_factory.mktemp("filled")
    with pytest.MonkeyPatch.context() as patch:
        # a module's fixture comes before the tests' own template one (tests/conftest.py)
        patch.setattr("core.library.upgrade", _upgrade_from_template)
        if request.param == "sqlite":
            lib = Library.open(make_settings(data))
        else:
            lib = Library.open(
                make_settings(data, database_url=request.getfixturevalue("postgres_url"))
            )
    try:
        if request.param == "postgresql":  # the tests share its database (as pg_library)
            with db_of(lib).write() as s:
                s.execute(text("TRUNCATE media_files, athletes RESTART IDENTITY CASCADE"))
        fill(lib)
        yield lib
        with db_of(lib).engine.connect() as s:
            changed = s.execute(
                select(func.count())
                .select_from(MediaFile)
                .where((MediaFile.version != 1) | (MediaFile.updated_at != MediaFile.created_at))
            ).scalar_one()
            total = s.execute(select(func.count()).select_from(MediaFile)).scalar_one()
        assert (total, changed) == (ROWS, 0), "a test changed the shared catalog: give it its own"
    finally:
        lib.close()


def caught_statements(lib: Library, query: FileQuery) -> tuple[Any, list[tuple[str, Any]]]:
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


def nodes(node: dict[str, Any]) -> list[str]:
    """The plan's nodes, top down: their type and index."""
    found = [f"{node['Node Type']} {node.get('Index Name', '')}".strip()]
    for child in node.get("Plans", []):
        found += nodes(child)
    return found


def explain(lib: Library, stmt: str, params: Any) -> list[str]:
    """The statement's plan: PostgreSQL's nodes top down, or SQLite's steps."""
    engine = db_of(lib).engine
    with engine.connect() as c:
        cur = c.connection.driver_connection.cursor()  # type: ignore[union-attr]
        if engine.dialect.name == "postgresql":
            cur.execute("EXPLAIN (FORMAT JSON) " + stmt, params)
            raw = cur.fetchone()[0]
            return nodes((json.loads(raw) if isinstance(raw, str) else raw)[0]["Plan"])
        cur.execute("EXPLAIN QUERY PLAN " + stmt, params)
        return [str(r[-1]) for r in cur.fetchall()]


def check(lib: Library, stmt: str, params: Any, indexes: tuple[str, ...]) -> None:
    """The statement walks one of `indexes` (SQLite) and sorts nothing (both engines)."""
    plan = explain(lib, stmt, params)
    if db_of(lib).engine.dialect.name == "postgresql":
        # (a tie range of one row may take another index: no sort either way)
        if plan[-1] == "Result":  # proven empty (a key both NULL and equal to a value)
            return
        assert not any("Sort" in n for n in plan), (plan, stmt[-400:], params)
    else:
        joined = " | ".join(plan)
        assert "TEMP B-TREE FOR ORDER BY" not in joined and any(i in joined for i in indexes), (
            joined,
            stmt[-400:],
        )
