"""An `?offset=` page of ready files walks its sort key's index in order on PostgreSQL too, as
a cursor page does (tests/test_listing_plans.py): no sort of the listing's rows for a page.

The ids of an offset page were ordered by the key alone, and PostgreSQL takes `deleted_at IS
NULL` for no equality, so every page sorted the whole listing (the tester's 27,270 rows for
each `?offset=` with sort=size, captured_at or updated_at); they are now ordered by the pinned
columns first, as the cursor's seek is (core.catalog._pinned). A key some files lack (duration:
photos have none) read descending still sorts: the index gives its NULLs first that way.
"""

from __future__ import annotations

import pytest

from core.library import Library
from core.records import FileQuery, Sort
from tests.pg_server import postgres_url  # noqa: F401 (a fixture)
from tests.plan_helpers import caught_statements, check, filled  # noqa: F401 (a fixture)


@pytest.mark.parametrize("athlete_id", [5, None], ids=["athlete", "catalog"])
def test_an_offset_page_walks_the_key_index_in_order(
    filled: Library,  # noqa: F811
    athlete_id: int | None,
) -> None:
    for sort in Sort:
        if sort is Sort.LONGEST:
            continue
        key = "name_sort" if sort.field == "original_filename" else sort.field
        index = (
            (f"ix_media_files_athlete_by_{key} ",)
            if athlete_id
            else (f"ix_media_files_by_{key} ", "ix_media_files_listing ")
        )
        listed = filled.list_files(FileQuery(athlete_id=athlete_id, limit=1, sort=sort)).total
        for offset in (listed // 3, listed - listed // 3):  # from the start, from the end
            query = FileQuery(athlete_id=athlete_id, sort=sort, limit=20, offset=offset)
            page, statements = caught_statements(filled, query)
            assert len(page.items) == 20
            for stmt, params in statements:
                check(filled, stmt, params, index)
