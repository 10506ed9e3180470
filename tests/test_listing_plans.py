"""A listing pinned to deleted_at IS NULL and one status (an athlete's, or the catalog's) walks
its sort key's index in order on both engines: no sort of the listing's rows for a page.

PostgreSQL takes `deleted_at IS NULL` for no equality, so ordered by the key alone it read and
sorted every row of the athlete for each page (core.catalog._ordered orders by the pinned
columns first). The statements checked are those the catalog runs, caught as they run.
"""

from __future__ import annotations

import pytest

from core.library import Library
from core.records import FileQuery, Sort
from tests.pg_server import postgres_url  # noqa: F401 (a fixture)
from tests.plan_helpers import caught_statements, check, filled  # noqa: F401 (a fixture)


@pytest.mark.parametrize("athlete_id", [5, None], ids=["athlete", "catalog"])
def test_pinned_listing_walks_the_key_index_in_order(
    filled: Library,  # noqa: F811
    athlete_id: int | None,
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
            first, statements = caught_statements(filled, query)
            assert first.next_cursor is not None
            _, more = caught_statements(
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
                check(filled, stmt, params, index)
