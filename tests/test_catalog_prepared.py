"""The catalog's statements are built once per shape and run with each query's values
(core.catalog.Catalog._prepare): one catalog answering queries of the same shape one after the
other gives each its own rows, total and cursor, as the listing rule says (core.query)."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from core.db.models import MediaFile
from core.library import Library
from core.query import matches, order_key
from core.records import FileQuery, FileRecord, Page
from server.presenters import file_json, page_body
from tests.internals import db_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.test_search import fill

pytestmark = pytest.mark.timeout(120)

# Same shapes, other values, back to back: a statement kept with the first query's values, or
# one shape's statement given to another, shows as wrong rows in the next query.
FILTERS: list[dict[str, Any]] = [
    {},
    {"athlete_id": 1},
    {"athlete_id": 2},
    {"status": "pending"},
    {"status": None},
    {"file_type": "video"},
    {"file_type": "image"},
    {"is_public": True},
    {"is_public": False, "athlete_id": 2},
    {"content_type": "image/jpeg"},
    {"content_type": "video/avi"},
    {"trashed": True},
    {"q": "clip"},
    {"q": "photo-01"},
    {"q": "messi"},
    {"q": "alexia"},
    {"q": "tiro"},
    {"q": "li"},  # shorter than a trigram
    {"q": "nothing like it"},
    {"q": "clip", "athlete_id": 1},
    {"q": "clip", "athlete_id": 2},
]
SORTS = ["-created_at", "original_filename", "-size", "duration", "-duration", "updated_at"]


@pytest.fixture(params=["sqlite", "postgres"])
def any_catalog(request: pytest.FixtureRequest) -> Library:
    lib: Library = request.getfixturevalue("library" if request.param == "sqlite" else "pg_library")
    fill(lib)
    lib.trash(4)
    lib.trash(9)
    with db_of(lib).write() as s:
        s.execute(update(MediaFile).where(MediaFile.id % 5 == 0).values(is_public=True))
    return lib


def expected(records: list[FileRecord], q: FileQuery) -> list[int]:
    return [r.id for r in sorted((r for r in records if matches(r, q)), key=order_key(q.sort))]


def test_one_shape_serves_every_value(any_catalog: Library) -> None:
    lib = any_catalog
    records = [lib.get_file(i) for i in range(1, 121)]
    for sort, filters in itertools.product(SORTS, FILTERS):
        q = FileQuery(limit=6, sort=sort, **filters)
        want = expected(records, q)
        first = lib.list_files(q)
        assert [r.id for r in first.items] == want[:6], (sort, filters)
        assert first.total == len(want), (sort, filters)
        if first.next_cursor:
            second = lib.list_files(
                FileQuery(limit=6, sort=sort, cursor=first.next_cursor, **filters)
            )
            assert [r.id for r in second.items] == want[6:12], (sort, filters)
            back = lib.list_files(
                FileQuery(limit=6, sort=sort, cursor=None, backwards=True, **filters)
            )
            assert [r.id for r in back.items] == want[::-1][:6], (sort, filters)
        middle = lib.list_files(FileQuery(limit=6, sort=sort, offset=5, **filters))
        assert [r.id for r in middle.items] == want[5:11], (sort, filters)


def test_page_body_is_the_records_json(library: Library) -> None:
    """GET /files/'s body (orjson, in the worker thread) says what json.dumps of file_json did:
    datetimes with and without microseconds, text outside ASCII, extra metadata."""
    fill(library, 12)
    with db_of(library).write() as s:
        s.execute(
            update(MediaFile)
            .where(MediaFile.id == 3)
            .values(
                description="Tiro libre — 決勝 ✓",
                extra={"camera": "Canon", "gps": [1.5, 2.25]},
                created_at=datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC),
            )
        )
    page = library.list_files(FileQuery(limit=5, sort="-created_at", status=None))
    assert any(r.id == 3 for r in page.items)
    old: dict[str, Any] = {
        "items": [file_json(r) for r in page.items],
        "total": page.total,
        "limit": page.limit,
        "offset": page.offset,
        "next_cursor": page.next_cursor,
    }
    assert json.loads(page_body(page)) == json.loads(json.dumps(old))
    empty = Page([], 0, 50, 0)
    assert json.loads(page_body(empty)) == {
        "items": [],
        "total": 0,
        "limit": 50,
        "offset": 0,
        "next_cursor": None,
    }


def test_page_records_equal_the_orm_rows_records(library: Library) -> None:
    """A catalog page builds its records from Core rows (FileRecord.from_mapping): the same
    records, fields and their order, as from the ORM row, athlete name included."""
    fill(library, 12)
    with db_of(library).write() as s:
        s.execute(
            update(MediaFile)
            .where(MediaFile.id == 2)
            .values(extra={"camera": "Canon"}, description="", deleted_at=None)
        )
    page = library.list_files(FileQuery(limit=12, status=None))
    assert len(page.items) == 12
    for record in page.items:
        expected = library.get_file(record.id)
        assert record == expected
        assert list(record.as_dict()) == list(expected.as_dict())
        assert record.athlete_name == expected.athlete_name


def test_athletes_counts_from_the_kept_counts_equal_the_rows(any_catalog: Library) -> None:
    """/athletes and the sidebar count each athlete's ready files outside the trash from the
    counts kept by triggers: the same numbers as counting the rows, after writes."""
    lib = any_catalog
    lib.restore(4)
    with db_of(lib).write() as s:
        s.execute(update(MediaFile).where(MediaFile.id == 6).values(athlete_id=1))
        s.execute(update(MediaFile).where(MediaFile.id == 8).values(status="failed"))
        s.execute(update(MediaFile).where(MediaFile.id == 12).values(athlete_id=2))
    with db_of(lib).read() as s:
        rows = dict(
            s.execute(
                select(MediaFile.athlete_id, func.count())
                .where(MediaFile.deleted_at.is_(None), MediaFile.status == "ready")
                .group_by(MediaFile.athlete_id)
            ).all()
        )
    counts = {a.id: a.file_count for a in lib.athletes()}
    assert counts == {1: rows[1], 2: rows[2]} and all(counts.values())
    assert all(type(n) is int for n in counts.values())
