"""One rule for what a FileQuery lists and in which order: the catalog's SQL (SQLite and
PostgreSQL) and core.query's Python predicate and order (the desktop's live placement) agree
on a real catalog, for every sort and each filter."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select, text

from core.db.models import Athlete, MediaFile
from core.library import Library
from core.query import insert_position, matches, order_key
from core.records import FileQuery, FileRecord, Sort
from tests.conftest import make_settings
from tests.internals import db_of
from tests.pg_server import postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(180)

NAMES = ("game_2", "Game_10", "game_02", "Clip-7", "clip-12", "photo", "Photo 3", "ÁLBUM 1", "b")
TYPES = (
    ("video", "video/x-msvideo", "avi"),  # the seed's video/avi
    ("video", "video/mp4", "mp4"),
    ("image", "image/jpeg", "jpg"),  # the seed's image/jpg
    ("image", "image/png", "png"),
)


def fill(lib: Library, count: int = 90) -> None:
    """Rows as ingest and the seed leave them: every status, trashed and public ones, equal
    sizes and dates (the id tie-break), images without a duration, pending ones without a size."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with db_of(lib).write() as s:
        s.add_all([Athlete(id=1, name="Lionel Messi"), Athlete(id=2, name="Alexia Putellas")])
        s.flush()
        for i in range(count):
            kind, mime, ext = TYPES[i % len(TYPES)]
            status = ("ready", "ready", "ready", "pending", "failed")[i % 5]
            s.add(
                MediaFile(
                    storage_key=f"general/2024/01/{i:032x}.{ext}",
                    original_filename=f"{NAMES[i % len(NAMES)]}.{ext}",
                    content_type=mime,
                    file_type=kind,
                    size=None if status == "pending" else 1000 + (i % 6),
                    sha256=f"{i:064x}",
                    duration=float(i % 4) if kind == "video" and status != "pending" else None,
                    athlete_id=(1, 2, None)[i % 3],
                    is_public=i % 7 == 0,
                    description="Tiro LIBRE en la final" if i % 8 == 0 else "",
                    status=status,
                    created_at=start + timedelta(minutes=i // 3),
                    updated_at=start + timedelta(minutes=i // 4),
                    deleted_at=start + timedelta(days=1) if i % 11 == 0 else None,
                )
            )


FILTERS: list[dict[str, Any]] = [
    {},
    {"status": None},
    {"status": "pending"},
    {"status": "failed"},
    {"trashed": True},
    {"trashed": True, "status": None},
    {"athlete_id": 1},
    {"athlete_id": 2, "status": None},
    {"file_type": "video"},
    {"file_type": "image", "is_public": False},
    {"is_public": True, "status": None},
    {"content_type": "video/avi"},  # the seed's names for the canonical types
    {"content_type": "image/jpg", "status": None},
    {"q": "GAME"},
    {"q": "  libre   en "},  # white space folded, any case
    {"q": "messi", "status": None},  # the athlete's name
    {"q": "p-1"},
    {"q": "b."},  # two characters: a plain scan on SQLite, not the trigram index
    {"q": "zz"},
    {"q": "clip", "file_type": "video", "athlete_id": 1},
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def catalog(request: pytest.FixtureRequest, tmp_path_factory: Any) -> Iterator[Library]:
    data = tmp_path_factory.mktemp(request.param)
    overrides: dict[str, Any] = {}
    if request.param == "postgresql":
        overrides["database_url"] = request.getfixturevalue("postgres_url")
    lib = Library.open(make_settings(data, **overrides))
    if request.param == "postgresql":
        with db_of(lib).write() as s:  # the session's database is shared by the tests using it
            s.execute(text("TRUNCATE media_files, athletes RESTART IDENTITY CASCADE"))
    fill(lib)
    yield lib
    lib.close()


def every_record(lib: Library) -> list[FileRecord]:
    with db_of(lib).read() as s:
        return [FileRecord.from_row(row) for row in s.scalars(select(MediaFile))]


def listed(lib: Library, query: FileQuery) -> list[FileRecord]:
    """Every page of the query, by the keyset cursor."""
    records: list[FileRecord] = []
    cursor = None
    while True:
        page = lib.list_files(dataclasses.replace(query, limit=13, cursor=cursor))
        records += page.items
        if page.next_cursor is None:
            return records
        cursor = page.next_cursor


@pytest.mark.parametrize("filters", FILTERS, ids=lambda f: repr(f) if f else "default")
def test_python_rule_lists_and_orders_as_the_catalog(
    catalog: Library, filters: dict[str, Any]
) -> None:
    records = every_record(catalog)
    for sort in Sort:
        query = FileQuery(sort=sort, **filters)
        from_sql = [r.id for r in listed(catalog, query)]
        in_python = sorted((r for r in records if matches(r, query)), key=order_key(sort))
        assert [r.id for r in in_python] == from_sql, (sort, filters)
        # a live change lands where the catalog puts it: take each row out, place it back
        for position, record in enumerate(in_python):
            rest = in_python[:position] + in_python[position + 1 :]
            assert insert_position(rest, record, sort) == position, (sort, record.id)


def test_the_filters_select_something(catalog: Library) -> None:
    """Guards the parametrised test against agreeing on empty lists."""
    empty = [f for f in FILTERS if not catalog.list_files(FileQuery(**f)).total]
    assert empty == [{"q": "zz"}]
