"""Totals without a search come from counts kept by triggers (migration 0012): after every kind
of write they equal a COUNT over the rows, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from sqlalchemy import delete, func, select, update

from core.catalog import Catalog
from core.db.models import MediaFile
from core.library import Library
from core.records import FileQuery
from tests.internals import db_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.test_search import fill

pytestmark = pytest.mark.timeout(120)

FILTERS: list[dict[str, Any]] = [
    dict(zip(("status", "trashed", "file_type", "athlete_id", "is_public"), combo, strict=True))
    for combo in itertools.product(
        ("ready", "pending", None), (False, True), (None, "video"), (None, 1), (None, True)
    )
]


def check(lib: Library) -> None:
    with db_of(lib).read() as s:
        for filters in FILTERS:
            q = FileQuery(**filters)
            counted = s.scalar(Catalog._filtered(select(func.count(MediaFile.id)), q))
            assert lib.list_files(q).total == counted, filters


@pytest.fixture(params=["sqlite", "postgres"])
def any_catalog(request: pytest.FixtureRequest) -> Library:
    lib: Library = request.getfixturevalue("library" if request.param == "sqlite" else "pg_library")
    fill(lib)
    return lib


def test_kept_counts_follow_every_write(any_catalog: Library) -> None:
    lib = any_catalog
    check(lib)
    lib.trash(2)
    lib.trash(3)
    lib.restore(3)
    lib.update_file(5, {"is_public": True})
    lib.delete_permanently(7)
    with db_of(lib).write() as s:
        s.execute(update(MediaFile).where(MediaFile.id == 6).values(athlete_id=1))
        s.execute(update(MediaFile).where(MediaFile.id == 8).values(status="failed"))
        s.execute(update(MediaFile).where(MediaFile.id == 9).values(alias_of=10, status="alias"))
        s.execute(update(MediaFile).where(MediaFile.id == 11).values(content_type=None))
        s.execute(delete(MediaFile).where(MediaFile.id.in_([12, 13])))
    check(lib)
