"""Search terms under MIN_TRIGRAM characters (core/catalog.py's "short" plan): LIKE over every
row. One with at most MATCH_SET_MAX matches, none included, keeps them (core/catalog_memo.
MatchSet): its pages in every sort, by cursor or offset, are those a plain filter of every row
gives, and its next pages read no row with LIKE again until the catalog changes."""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from sqlalchemy import event, select

from core.db.models import Athlete, MediaFile
from core.library import Library
from core.query import searched
from core.records import SORTS, FileQuery, FileStatus
from tests.internals import catalog_of, db_of
from tests.test_catalog_memo import other_process
from tests.test_search import fill

pytestmark = pytest.mark.timeout(120)

# none (1 and 2 characters), an athlete's name only ("x": Alexia, "ss": Messi), a few names,
# the descriptions ("ti": "Tiro libre"), and common ones (nearly every file)
TERMS = ("q", "zz", "x", "SS", "39", "ti", "p", "e")
FILTERS: list[dict[str, Any]] = [{}, {"file_type": "video"}, {"trashed": True}]
_SORT_COLUMNS = {
    "created_at": MediaFile.created_at,
    "updated_at": MediaFile.updated_at,
    "captured_at": MediaFile.captured_at,
    "original_filename": MediaFile.name_sort,
    "size": MediaFile.size,
    "duration": MediaFile.duration,
}


@pytest.fixture
def catalog(library: Library) -> Library:
    """test_search's 120 files (pending ones, ties, images without a duration), a few
    trashed."""
    fill(library)
    for file_id in (2, 11, 40, 41, 81):
        library.trash(file_id)
    return library


def reference(lib: Library, q: str, sort: str, **filters: Any) -> list[int]:
    """The search's ids in the sort's order from every row filtered in Python: the term in
    the stored fold of the name, the description or the athlete's name; ready, not an alias;
    values by (value, id), then NULLs by id, all reversed for a descending sort but the NULLs
    still last."""
    term = searched(q)
    key = sort.lstrip("-")
    with db_of(lib).read() as s:
        names = {i: name for i, name in s.execute(select(Athlete.id, Athlete.search_name))}
        rows = s.execute(
            select(
                MediaFile.id,
                MediaFile.search_name,
                MediaFile.search_description,
                MediaFile.athlete_id,
                MediaFile.status,
                MediaFile.deleted_at,
                MediaFile.alias_of,
                MediaFile.file_type,
                _SORT_COLUMNS[key],
            )
        ).all()
    found = [
        (r[-1], r.id)
        for r in rows
        if r.status == FileStatus.READY
        and r.alias_of is None
        and (r.deleted_at is not None) == bool(filters.get("trashed"))
        and filters.get("file_type", r.file_type) == r.file_type
        and (
            term in (r.search_name or "")
            or term in (r.search_description or "")
            or (r.athlete_id is not None and term in names[r.athlete_id])
        )
    ]
    valued = [i for _v, i in sorted(f for f in found if f[0] is not None)]
    nulls = sorted(i for v, i in found if v is None)
    if sort.startswith("-"):
        valued, nulls = valued[::-1], nulls[::-1]
    return valued + nulls


def walk(lib: Library, backwards: bool = False, **query: Any) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        page = lib.list_files(FileQuery(limit=7, cursor=cursor, backwards=backwards, **query))
        ids += [r.id for r in page.items]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


def check_every_way(
    lib: Library, sorts: Iterable[str] = sorted(SORTS), filters_of: list[dict[str, Any]] = FILTERS
) -> None:
    for term, sort, filters in itertools.product(TERMS, sorts, filters_of):
        query = {"q": term, "sort": sort, **filters}
        expected = reference(lib, term, sort, **filters)
        assert walk(lib, **query) == expected, query
        assert walk(lib, backwards=True, **query) == expected[::-1], query
        for offset in (0, 3, 10, 40, len(expected) - 2, len(expected) + 5):
            page = lib.list_files(FileQuery(limit=5, offset=max(offset, 0), **query))
            assert [r.id for r in page.items] == expected[max(offset, 0) :][:5], (query, offset)
            assert page.total == len(expected), query


@pytest.mark.parametrize(
    ("kept_at_most", "filters"), [(None, f) for f in FILTERS] + [(20, FILTERS[0])]
)
def test_short_terms_list_what_a_plain_filter_lists(
    catalog: Library,
    monkeypatch: pytest.MonkeyPatch,
    kept_at_most: int | None,
    filters: dict[str, Any],
) -> None:
    """1 and 2 characters, none, an athlete's name, rare and common, every sort, cursors both
    ways to the end, offsets, the totals; with the matches kept, and with a MATCH_SET_MAX the
    common ones ("p", "e", "x": Alexia's 30 files) exceed, so they keep their walk."""
    import core.catalog

    if kept_at_most is not None:
        monkeypatch.setattr(core.catalog, "MATCH_SET_MAX", kept_at_most)
    check_every_way(catalog, filters_of=[filters])


@contextlib.contextmanager
def statements(lib: Library) -> Iterator[list[str]]:
    """Every SQL statement the catalog runs meanwhile."""
    engine = db_of(lib).engine
    seen: list[str] = []

    def caught(_c: Any, _cur: Any, stmt: str, _params: Any, _ctx: Any, _many: bool) -> None:
        seen.append(stmt)

    event.listen(engine, "before_cursor_execute", caught)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", caught)


def likes(seen: list[str]) -> list[str]:
    return [stmt for stmt in seen if " LIKE " in stmt.upper()]


@pytest.mark.parametrize("term", ["q", "39", "SS", "x"])
def test_a_rare_short_term_reads_its_matches_once(catalog: Library, term: str) -> None:
    """The first page reads the matches (with LIKE); its next page by cursor, the same page
    again, other sorts, offsets and the last page backwards test no row with LIKE."""
    first = catalog.list_files(FileQuery(q=term, limit=4))
    with statements(catalog) as seen:
        catalog.list_files(FileQuery(q=term, limit=4))
        if first.next_cursor is not None:
            catalog.list_files(FileQuery(q=term, limit=4, cursor=first.next_cursor))
        for sort in ("size", "-duration", "original_filename", "-updated_at"):
            catalog.list_files(FileQuery(q=term, limit=4, sort=sort))
            catalog.list_files(FileQuery(q=term, limit=4, sort=sort, offset=3))
            catalog.list_files(FileQuery(q=term, limit=4, sort=sort, backwards=True))
    assert seen  # (the pages' rows, the change log's newest id)
    assert likes(seen) == []
    keys = list(catalog_of(catalog)._match_sets._items)
    assert [k[1] for k in keys] == [searched(term)]


def test_a_common_short_term_keeps_its_walk(
    catalog: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """More matches than MATCH_SET_MAX: none kept, its pages walk the sort key's index with
    LIKE as before, its total counted once for this state of the catalog."""
    import core.catalog

    monkeypatch.setattr(core.catalog, "MATCH_SET_MAX", 20)
    catalog.list_files(FileQuery(q="p", limit=4))
    with statements(catalog) as seen:
        catalog.list_files(FileQuery(q="p", limit=4, sort="size"))
    assert likes(seen)
    assert not [stmt for stmt in likes(seen) if "count(" in stmt.lower()]
    assert len(catalog_of(catalog)._match_sets) == 0


def test_a_change_shows_in_the_kept_matches_of_a_short_term(
    catalog: Library, media_dir: Any
) -> None:
    """A rename here, an upload, another process's rename: each in the next page and total
    of a term whose matches (none, or a few) were kept."""

    def ids(term: str, sort: str = "-created_at") -> tuple[list[int], int]:
        page = catalog.list_files(FileQuery(q=term, limit=50, sort=sort))
        return [r.id for r in page.items], page.total

    assert ids("zz") == ([], 0)
    assert ids("q") == ([], 0)
    before = ids("39", sort="size")
    assert before == (reference(catalog, "39", "size"), 2)  # (photo-039 trashed)
    assert {k[1] for k in catalog_of(catalog)._match_sets._items} >= {"zz", "q", "39"}

    catalog.update_file(5, {"original_filename": "buzz.jpg"})
    assert ids("zz") == ([5], 1)
    uploaded = catalog.uploads.ingest(media_dir.png, "image", original_filename="quay.png")
    assert ids("q") == ([uploaded.id], 1)
    other = other_process(catalog)
    try:
        with other.write() as s:
            row = s.scalars(select(MediaFile).where(MediaFile.id == 7)).one()
            row.original_filename = "photo-939.jpg"  # a change the feed logs
        assert ids("39", sort="size") == (reference(catalog, "39", "size"), 3)
        assert 7 in ids("39")[0]
    finally:
        other.dispose()
    check_every_way(catalog, sorts=("-created_at", "size", "-duration"), filters_of=FILTERS[:1])
