"""What the catalog keeps between queries (core/catalog_memo.py): the anchors of deep `?offset=`
pages and a search's matches. Every page they give must be the one SQL gives without them, and
a write — through this catalog, a bulk UPDATE, or another process's Database — must be seen by
the next query."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select, update

from core import feed
from core.db.engine import Database
from core.db.models import MediaFile
from core.library import Library
from core.records import FileQuery
from tests.internals import catalog_of, db_of
from tests.test_search import fill

pytestmark = pytest.mark.timeout(180)

SORTS = [
    "-created_at",
    "created_at",
    "original_filename",
    "-original_filename",
    "size",
    "-size",
    "duration",  # images have none: NULLs after the videos
    "-duration",
    "updated_at",
    "-updated_at",
]


@pytest.fixture
def catalog(library: Library) -> Library:
    """120 files with shared sizes and dates (ties), images without a duration, pending ones;
    some trashed, some public."""
    fill(library)
    for file_id in (4, 9, 30, 31, 77):
        library.trash(file_id)
    library.rename_athlete(2, "Alexia Finalista")  # "final": her files and descriptions
    with db_of(library).write() as s:
        s.execute(update(MediaFile).where(MediaFile.id % 5 == 0).values(is_public=True))
    return library


def other_process(lib: Library) -> Database:
    """A second Database on the same catalog file, its writes logged like another process's
    (core/feed.py): this catalog's commit generation does not see them."""
    other = Database(db_of(lib).url)
    feed.install(other)
    return other


def offset_pages(lib: Library, limit: int = 7, **filters: Any) -> list[list[int]]:
    total = lib.list_files(FileQuery(limit=1, **filters)).total
    return [
        [r.id for r in lib.list_files(FileQuery(limit=limit, offset=o, **filters)).items]
        for o in range(0, total + limit + 1, 3)
    ]


LISTINGS: list[dict[str, Any]] = [
    {"sort": sort, **filters}
    for sort, filters in itertools.product(
        SORTS,
        (
            {},
            {"status": None},  # pending rows, NULL sizes allowed by the shape
            {"trashed": True},
            {"file_type": "video"},
            {"athlete_id": 2, "is_public": False},
        ),
    )
]


def test_deep_offsets_from_anchors_equal_plain_offset(
    catalog: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Anchors every 5 rows instead of 8,192: nearly every offset seeks from one (forwards,
    and from the end in the opposite order), ties in the key crossed by an anchor, NULL keys,
    filters and the trash; the same pages as OFFSET stepping from the start."""
    import core.catalog

    monkeypatch.setattr(core.catalog, "SPACING", 1 << 30)  # plain OFFSET every time
    expected = [offset_pages(catalog, **listing) for listing in LISTINGS]
    assert len(catalog_of(catalog)._anchors) == 0
    monkeypatch.setattr(core.catalog, "SPACING", 5)
    assert [offset_pages(catalog, **listing) for listing in LISTINGS] == expected
    assert len(catalog_of(catalog)._anchors) > 0
    # the anchors kept from the first pass give the same pages again, any offset first
    for listing in LISTINGS:
        total = catalog.list_files(FileQuery(limit=1, **listing)).total
        for o in (total - 1, total // 2, 5, 11, total + 3):
            page = catalog.list_files(FileQuery(limit=7, offset=o, **listing)).items
            assert [r.id for r in page] == _ids_at(catalog, o, listing, monkeypatch), (listing, o)


def _ids_at(
    lib: Library, offset: int, listing: dict[str, Any], mp: pytest.MonkeyPatch
) -> list[int]:
    import core.catalog

    spacing = core.catalog.SPACING
    mp.setattr(core.catalog, "SPACING", 1 << 30)
    try:
        return [r.id for r in lib.list_files(FileQuery(limit=7, offset=offset, **listing)).items]
    finally:
        mp.setattr(core.catalog, "SPACING", spacing)


def test_a_write_drops_the_anchors(catalog: Library, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between two deep offsets the listing changes — a size through the library, a bulk UPDATE
    through this catalog's database, a file trashed by another process: the second offset
    sees it."""
    import core.catalog

    monkeypatch.setattr(core.catalog, "SPACING", 5)
    listing = {"sort": "size"}

    def page() -> list[int]:
        return [r.id for r in catalog.list_files(FileQuery(limit=7, offset=40, **listing)).items]

    def plain() -> list[int]:
        return _ids_at(catalog, 40, listing, monkeypatch)

    before = page()
    assert before == plain()
    other = other_process(catalog)
    try:
        writes = [
            lambda: catalog.update_file(3, {"original_filename": "renamed.jpg"}),  # no change
            # each moves a file from after the page to the first rows, or back
            lambda: _set_size(db_of(catalog), 100, 1),  # a bulk UPDATE (no change logged)
            lambda: _orm_size(other, 102, 1),  # another process's write
            lambda: _orm_size(other, 100, 999_999),
        ]
        seen = [before]
        for write in writes:
            write()
            now = page()
            assert now == plain()
            seen.append(now)
        assert all(seen[i] != seen[i - 1] for i in (2, 3, 4))  # the last three moved the page
    finally:
        other.dispose()


def _set_size(db: Database, file_id: int, size: int) -> None:
    with db.write() as s:
        s.execute(update(MediaFile).where(MediaFile.id == file_id).values(size=size))


def _orm_size(db: Database, file_id: int, size: int) -> None:
    with db.write() as s:
        row = s.scalars(select(MediaFile).where(MediaFile.id == file_id)).one()
        row.size = size  # a change the feed logs (core/feed.py), as a process's edit would be


def walk(lib: Library, backwards: bool = False, limit: int = 4, **filters: Any) -> list[int]:
    ids: list[int] = []
    cursor = None
    while True:
        page = lib.list_files(FileQuery(limit=limit, cursor=cursor, backwards=backwards, **filters))
        ids += [r.id for r in page.items]
        if page.next_cursor is None:
            return ids
        cursor = page.next_cursor


SEARCHES: list[dict[str, Any]] = [
    {"q": term, "sort": sort, **filters}
    for term, sort, filters in itertools.product(
        ("photo", "clip", "photo-01", "final", "-00"),
        SORTS,
        ({}, {"status": None}, {"trashed": True}, {"file_type": "video", "is_public": False}),
    )
]


# After each write, every term and filter with every third sort: the kept matches are a
# term's and filters' (the sort only pages them), so all 200 searches again five times over
# only repeated the same drops and keeps (19 s of the suite)
AFTER_WRITES = SEARCHES[::3]


def search_pages(
    lib: Library, every_way: bool = True, searches: list[dict[str, Any]] = SEARCHES
) -> list[tuple[list[int], list[int], list[int], int]]:
    """Each search: its pages by cursor forwards and backwards, by offset, and its total; or
    (every_way=False, a third of the time) forwards and the total only: a write drops or keeps
    a search's matches whichever way they are then paged."""
    return [
        (
            walk(lib, limit=9, **search),
            walk(lib, backwards=True, limit=9, **search) if every_way else [],
            [
                r.id
                for o in (0, 3, 10, 40)
                for r in lib.list_files(FileQuery(limit=5, offset=o, **search)).items
            ]
            if every_way
            else [],
            lib.list_files(FileQuery(limit=1, **search)).total,
        )
        for search in searches
    ]


def same(
    got: list[Any], expected: list[Any], *context: Any, searches: list[dict[str, Any]] = SEARCHES
) -> None:
    for search, mine, theirs in zip(searches, got, expected, strict=True):
        for what, a, b in zip(
            ("forwards", "backwards", "offsets", "total"), mine, theirs, strict=True
        ):
            assert a == b, (search, what, *context)


def test_search_pages_from_kept_matches_equal_sql(
    catalog: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search's matches kept: every sort (ties, NULL durations), filters, the trash, a term
    matching an athlete's name, by cursor both ways and by offset — the pages and totals SQL
    gives. Then writes (this process, a bulk UPDATE, another process) between queries."""
    import core.catalog

    cat = catalog_of(catalog)
    monkeypatch.setattr(core.catalog, "MATCH_SET_MAX", 0)  # SQL every time
    expected = search_pages(catalog)
    assert len(cat._match_sets) == 0
    assert sum(bool(forward) for forward, *_ in expected) > len(SEARCHES) // 2
    monkeypatch.undo()
    kept = search_pages(catalog)
    keys = list(cat._match_sets._items)
    assert any(key[2] for key in keys)  # "final": the athlete's files kept with the text's
    assert {key[1] for key in keys} >= {"photo", "clip", "photo-01", "final", "-00"}
    same(kept, expected)

    other = other_process(catalog)
    try:
        writes = [
            lambda: catalog.update_file(7, {"original_filename": "photo-xx.jpg"}),
            lambda: catalog.trash(12),
            lambda: _set_size(db_of(catalog), 8, 5),  # bulk UPDATE, no change logged
            lambda: _orm_size(other, 13, 1),  # another process
            lambda: _orm_rename(other, 14, "renamed-away.jpg"),
        ]
        for write in writes:  # (each after a pass that kept the matches)
            write()
            # the totals SQL counts are cached apart (see the test below for theirs)
            cat._counts.clear()
            kept = search_pages(catalog, every_way=False, searches=AFTER_WRITES)
            monkeypatch.setattr(core.catalog, "MATCH_SET_MAX", 0)
            cat._counts.clear()
            expected = search_pages(catalog, every_way=False, searches=AFTER_WRITES)
            same(kept, expected, writes.index(write), searches=AFTER_WRITES)
            monkeypatch.undo()
    finally:
        other.dispose()


def test_a_search_total_sees_another_process_at_once(
    catalog: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The totals SQL counts (kept up to COUNT_TTL) carry the change log's newest id for ready
    files: another process's rename is in the next total, not 30 s later."""
    import core.catalog

    monkeypatch.setattr(core.catalog, "MATCH_SET_MAX", 0)  # the SQL count and its cache
    query = FileQuery(q="photo", limit=5)
    before = catalog.list_files(query).total
    assert catalog.list_files(query).total == before  # (from the cache)
    other = other_process(catalog)
    try:
        _orm_rename(other, 3, "renamed-away.jpg")  # photo-002.jpg, ready, no description
        assert catalog.list_files(query).total == before - 1
        _orm_rename(other, 3, "photo-002.jpg")
        assert catalog.list_files(query).total == before
    finally:
        other.dispose()


def _orm_rename(db: Database, file_id: int, name: str) -> None:
    with db.write() as s:
        row = s.scalars(select(MediaFile).where(MediaFile.id == file_id)).one()
        row.original_filename = name
        row.updated_at = datetime.now(UTC)
