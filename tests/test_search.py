"""Catalog search and paging at scale: FTS5 trigram / pg_trgm search, keyset cursors, filters."""

from __future__ import annotations

import base64
import itertools
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text, update

from core.db.models import Athlete, MediaFile
from core.errors import InvalidInput
from core.events import ChangeEvent
from core.library import Library
from core.natsort import name_sort_key
from core.records import MAX_ID, SORTS, FileQuery, FileRecord
from tests.internals import catalog_of, db_of, storage_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.qt_helpers import wait_for
from tests.server_fixtures import bearer, make_tokens

pytestmark = pytest.mark.timeout(120)


def fill(lib: Library, count: int = 120) -> None:
    """Catalog rows as ingest writes them: names, descriptions, athletes, sizes, durations
    (images have none), equal sizes and dates to exercise the id tie-break."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with db_of(lib).write() as s:
        s.add_all([Athlete(id=1, name="Lionel Messi"), Athlete(id=2, name="Alexia Putellas")])
        s.flush()
        for i in range(count):
            video = i % 3 == 0
            s.add(
                MediaFile(
                    storage_key=f"general/2024/01/{i:032x}.{'mp4' if video else 'jpg'}",
                    original_filename=f"{'Clip' if video else 'photo'}-{i % 40:03d}.jpg",
                    content_type="video/x-msvideo" if video else "image/jpeg",
                    file_type="video" if video else "image",
                    size=1000 + (i % 17),
                    sha256=f"{i:064x}",
                    duration=float(i % 7) if video else None,
                    athlete_id=(1 if i % 4 == 0 else 2 if i % 4 == 1 else None),
                    description="Tiro libre en la final" if i % 10 == 0 else "",
                    status="ready" if i % 25 else "pending",
                    created_at=start + timedelta(minutes=i // 2),
                    updated_at=start + timedelta(minutes=i // 3),
                )
            )


@pytest.fixture
def filled(library: Library) -> Library:
    fill(library)
    return library


def walk(lib: Library, **filters: Any) -> list[FileRecord]:
    records: list[FileRecord] = []
    cursor = None
    while True:
        page = lib.list_files(FileQuery(limit=7, cursor=cursor, **filters))
        records += page.items
        if page.next_cursor is None:
            return records
        cursor = page.next_cursor


def by_offset(lib: Library, **filters: Any) -> list[int]:
    ids: list[int] = []
    while True:
        page = lib.list_files(FileQuery(limit=7, offset=len(ids), **filters))
        ids += [r.id for r in page.items]
        if len(page.items) < 7:
            return ids


def test_cursor_walk_equals_offset_order(filled: Library) -> None:
    for sort, status in itertools.product(sorted(SORTS), ("ready", None)):
        records = walk(filled, sort=sort, status=status)
        ids = [r.id for r in records]
        assert ids == by_offset(filled, sort=sort, status=status), (sort, status)
        assert len(ids) == len(set(ids)) == filled.list_files(status=status).total
        key = sort.lstrip("-")
        values = [getattr(r, key) for r in records if getattr(r, key) is not None]
        if key == "original_filename":  # names sort naturally (tests/test_natural_sort.py)
            values = [name_sort_key(v) for v in values]
        assert values == sorted(values, reverse=sort.startswith("-")), (sort, status)
        if key == "duration":  # images (no duration) come after the videos both ways
            nulls = [getattr(r, key) is None for r in records]
            assert nulls == sorted(nulls)


def walk_back(lib: Library, **filters: Any) -> list[FileRecord]:
    """From the end, by backwards cursors, nearest first."""
    records: list[FileRecord] = []
    cursor = None
    while True:
        page = lib.list_files(FileQuery(limit=7, cursor=cursor, backwards=True, **filters))
        records += page.items
        if page.next_cursor is None:
            return records
        cursor = page.next_cursor


def test_backwards_from_the_end_is_the_order_reversed(
    filled: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The grid's End key: every sort (NULL durations last forwards, first backwards), filters,
    rare and common searches, and a common walk cut short for the matches."""
    import core.catalog

    cases: list[dict[str, Any]] = [
        {"sort": sort, "status": status} for sort in sorted(SORTS) for status in ("ready", None)
    ]
    cases += [{"q": "photo", "sort": "-duration"}, {"q": "messi", "sort": "size"}]
    cases += [{"q": "libre en", "sort": "-duration"}, {"q": "messi", "sort": "duration"}]
    cases += [{"file_type": "video", "sort": "original_filename"}, {"q": "o-", "sort": "duration"}]
    for filters in cases:
        forward = [r.id for r in walk(filled, **filters)]
        assert [r.id for r in walk_back(filled, **filters)] == forward[::-1], filters
    every_term = core.catalog._Probe(common=True, listed=False, matches=1)
    monkeypatch.setattr(core.catalog.Catalog, "_common", lambda *a: every_term)
    monkeypatch.setattr(core.catalog, "WALK_BUDGET", 0.0)
    monkeypatch.setattr(core.catalog, "_PROGRESS_STEPS", 1)
    for term, sort in itertools.product(("libre en", "messi"), ("-duration", "duration", "size")):
        forward = [r.id for r in walk(filled, q=term, sort=sort)]
        assert [r.id for r in walk_back(filled, q=term, sort=sort)] == forward[::-1], sort
    # a backwards cursor only pages backwards, and not with an offset
    back = filled.list_files(FileQuery(limit=3, backwards=True))
    assert back.next_cursor is not None
    with pytest.raises(InvalidInput):
        filled.list_files(FileQuery(limit=3, cursor=back.next_cursor))
    with pytest.raises(InvalidInput):
        filled.list_files(FileQuery(limit=3, offset=3, backwards=True))


def test_search_matches_name_description_and_athlete(filled: Library) -> None:
    def found(q: str, **kw: Any) -> set[int]:
        return {r.id for r in filled.list_files(FileQuery(q=q, limit=1000, **kw)).items}

    clips = found("CLIP-00")  # any case, inside the name
    assert clips and all(filled.get_file(i).original_filename.startswith("Clip-00") for i in clips)
    assert found("ibre en la") == {
        r.id for r in filled.list_files(limit=1000).items if r.description
    }
    messi = found("messi")
    assert messi == {r.id for r in filled.list_files(athlete_id=1, limit=1000).items}
    assert found("o-0") == found("o-0")  # two-letter terms: a plain scan, same semantics
    assert found("o-") >= found("photo-00")
    assert found("nothing like this") == set()
    assert found('quote"d') == set()  # FTS syntax in q is text, not a query
    # the index follows edits: an athlete's rename, a file's new name
    filled.rename_athlete(1, "Leo Andrés")
    assert found("messi") == set() and found("andrés") == messi
    some = next(iter(clips))
    filled.update_file(some, {"original_filename": "golazo.mp4"})
    assert found("golazo") == {some} and some not in found("clip-00")
    page = filled.list_files(FileQuery(q="photo", limit=5))
    assert page.total == len(found("photo")) and len(page.items) == 5


def test_content_type_filter_takes_the_seed_names(filled: Library) -> None:
    seed = filled.list_files(FileQuery(content_type="video/avi", limit=1000))
    std = filled.list_files(FileQuery(content_type="video/x-msvideo", limit=1000))
    assert seed.total == std.total > 0
    assert {r.content_type for r in seed.items} == {"video/x-msvideo"}
    with pytest.raises(InvalidInput):
        filled.list_files(FileQuery(content_type="text/html"))


def test_bad_cursors_are_400s(filled: Library) -> None:
    page = filled.list_files(FileQuery(limit=5))
    assert page.next_cursor
    for cursor in ("nonsense", "eyJ4IjoxfQ", page.next_cursor + "x"):
        with pytest.raises(InvalidInput):
            filled.list_files(FileQuery(cursor=cursor))
    with pytest.raises(InvalidInput, match="sort"):
        filled.list_files(FileQuery(cursor=page.next_cursor, sort="size"))
    with pytest.raises(InvalidInput, match="not both"):
        filled.list_files(FileQuery(cursor=page.next_cursor, offset=5))


def _cursor(*fields: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(fields)).encode()).decode().rstrip("=")


def test_edited_cursors_past_a_column_are_400s(filled: Library) -> None:
    """An outside hunt: an id or size of 2**70 in an edited cursor reached the driver
    (OverflowError: 500 internal_error); NaN compared with nothing."""
    when = "2026-12-07T04:09:34+00:00"
    for sort, cursor in (
        ("-created_at", _cursor("-created_at", when, 2**70)),
        ("-created_at", _cursor("-created_at", when, -(2**64))),
        ("size", _cursor("size", 2**80, 5)),
        ("-size", _cursor("-size", -(2**63) - 1, 5)),
    ):
        for trashed in (False, True):
            with pytest.raises(InvalidInput, match="handed out"):
                filled.list_files(FileQuery(cursor=cursor, sort=sort, trashed=trashed))
    nan = base64.urlsafe_b64encode(b'["size", NaN, 5]').decode()
    with pytest.raises(InvalidInput, match="handed out"):
        filled.list_files(FileQuery(cursor=nan, sort="size"))
    # the edges a column holds are still cursors (nothing past them); ids are 32-bit
    # (test_cursor_edits.py: past them PostgreSQL answered 500)
    edge = _cursor("size", 2**63 - 1, MAX_ID)
    assert filled.list_files(FileQuery(cursor=edge, sort="size")).items == []


def test_total_follows_writes(filled: Library, media_dir: Any) -> None:
    before = filled.list_files().total
    filled.uploads.ingest(media_dir.png, "image")
    assert filled.list_files().total == before + 1  # the cached count was cleared


def test_sort_keys_use_indexes(filled: Library) -> None:
    """Every sort walks an index (no full sort of the catalog) on the listing's filters."""
    with db_of(filled).read() as s:
        names = {r[0] for r in s.execute(text("SELECT name FROM sqlite_master"))}
        for key in ("created_at", "name_sort", "size", "duration", "updated_at"):
            assert f"ix_media_files_by_{key}" in names
            plan = " ".join(
                str(r[-1])
                for r in s.execute(
                    text(
                        f"EXPLAIN QUERY PLAN SELECT id FROM media_files WHERE deleted_at IS NULL "
                        f"AND status = 'ready' AND {key} IS NOT NULL ORDER BY {key} DESC, id DESC "
                        "LIMIT 50"
                    )
                )
            )
            assert "TEMP B-TREE" not in plan, plan


async def test_cursor_paging_over_http(filled: Library, aiohttp_client: Any, api: Any) -> None:
    h = bearer(make_tokens(filled).read)
    seen: list[int] = []
    url = "/files/?limit=9&sort=-size&content_type=image/jpeg"
    while True:
        resp = await api.get(url, headers=h)
        assert resp.status == 200
        body = await resp.json()
        seen += [i["id"] for i in body["items"]]
        if body["next_cursor"] is None:
            break
        url = f"/files/?limit=9&sort=-size&content_type=image/jpeg&cursor={body['next_cursor']}"
    assert len(seen) == len(set(seen)) == body["total"]
    bad = await api.get("/files/?cursor=zzz", headers=h)
    assert bad.status == 400 and (await bad.json())["error"]["code"] == "invalid_input"


async def test_cursor_dates_past_the_ends_of_the_calendar_are_400(
    filled: Library, api: Any
) -> None:
    """A cursor's created_at/updated_at that is valid ISO 8601 but out of the calendar once in
    UTC was a 500 (OverflowError binding it); no server hands one out: 400 invalid_input."""
    h = bearer(make_tokens(filled).read)
    for sort in ("-created_at", "updated_at"):
        for moment in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00"):
            raw = json.dumps([sort, moment, 5]).encode()
            cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            resp = await api.get("/files/", params={"sort": sort, "cursor": cursor}, headers=h)
            assert resp.status == 400, (sort, moment)
            assert (await resp.json())["error"]["code"] == "invalid_input"
        # the ends themselves are moments a cursor may hold
        raw = json.dumps([sort, "9999-12-31T23:59:59+00:00", 5]).encode()
        cursor = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        resp = await api.get("/files/", params={"sort": sort, "cursor": cursor}, headers=h)
        assert resp.status == 200


def test_search_and_cursor_on_postgres(pg_library: Library) -> None:
    fill(pg_library)
    with db_of(pg_library).read() as s:
        indexes = set(s.scalars(text("SELECT indexname FROM pg_indexes")))
    # on the folds search compares (migration 0023), no longer on the originals
    assert {
        "ix_media_files_trgm_search_name",
        "ix_media_files_trgm_search_description",
        "ix_athletes_trgm_search_name",
    } <= indexes
    assert not {"ix_media_files_trgm_name", "ix_athletes_trgm_name"} & indexes
    for sort in ("-created_at", "duration", "-duration", "original_filename"):
        assert [r.id for r in walk(pg_library, sort=sort)] == by_offset(pg_library, sort=sort)
        back = [r.id for r in walk_back(pg_library, sort=sort)]
        assert back == by_offset(pg_library, sort=sort)[::-1]
    messi = {r.id for r in pg_library.list_files(athlete_id=1, limit=1000).items}
    assert {r.id for r in pg_library.list_files(q="MESSI", limit=1000).items} == messi
    assert pg_library.list_files(q="ibre en").total > 0


def test_common_terms_walk_the_sort_index_with_the_same_results(
    filled: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    import core.catalog

    def pages(sort: str) -> list[int]:
        return [r.id for r in walk(filled, q="photo", sort=sort)]

    expected = {sort: pages(sort) for sort in ("-created_at", "size", "-duration")}
    monkeypatch.setattr(core.catalog, "COMMON", 5)  # every search counts as common
    for sort, ids in expected.items():
        assert pages(sort) == ids and ids


def test_a_common_walk_that_runs_long_reads_the_matches_instead(
    filled: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Matches clustered far down the sort key's index: the walk stops after its time budget
    and the page comes from the matches (or, for a very common term, the walk goes on) —
    the same pages either way."""
    import core.catalog

    def pages(sort: str) -> list[int]:
        return [r.id for r in walk(filled, q="photo", sort=sort)]

    sorts = ("-created_at", "size", "-duration", "original_filename")
    expected = {sort: pages(sort) for sort in sorts}
    set_dates_follow_ids(filled, False)  # searches by date walk too
    every_term = core.catalog._Probe(common=True, listed=False, matches=1)
    monkeypatch.setattr(core.catalog.Catalog, "_common", lambda *a: every_term)  # every term...
    monkeypatch.setattr(core.catalog, "WALK_BUDGET", 0.0)  # ...and every walk runs long
    monkeypatch.setattr(core.catalog, "_PROGRESS_STEPS", 1)
    merged: list[int] = []
    real = core.catalog.Catalog._merged

    def spy(self: Any, *args: Any) -> Any:
        rows = real(self, *args)
        merged.append(len(rows))
        return rows

    monkeypatch.setattr(core.catalog.Catalog, "_merged", spy)
    for sort, ids in expected.items():
        assert pages(sort) == ids and ids
    assert any(merged), "the long walks were not replaced by the matches"
    merged.clear()
    monkeypatch.setattr(core.catalog, "FALLBACK_MATCHES", 1)  # very common: the walk goes on
    for sort, ids in expected.items():
        assert pages(sort) == ids
    assert merged == []
    # the session is still usable after an interrupted statement
    assert filled.list_files(limit=3).total == len(walk(filled))


def test_mid_density_terms_walk_the_index_with_the_matches_as_a_list(
    filled: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A term with too few matches for a LIKE walk but many for reading them all: the sort
    key's index walked with the matches' ids as a list (from the term, or from its rarest
    trigram and checked with LIKE: "photo-01"'s is "-01", also in Clip-01x), or (that walk
    running long) the matches read and merged: the same pages every way, forwards and
    backwards, NULL keys included (photos have no duration)."""
    import core.catalog

    # the SQL ways: no search's matches kept (tests/test_catalog_memo.py)
    monkeypatch.setattr(core.catalog, "MATCH_SET_MAX", 0)

    catalog = catalog_of(filled)
    cases = [
        (term, sort)
        for term in ("clip", "photo", "photo-01")
        for sort in ("-created_at", "size", "-duration", "duration", "original_filename")
    ]

    def pages() -> list[tuple[list[int], list[int]]]:
        catalog._probes.clear()  # each term's probe decided again
        return [
            (
                [r.id for r in walk(filled, q=term, sort=sort)],
                [r.id for r in walk_back(filled, q=term, sort=sort)],
            )
            for term, sort in cases
        ]

    monkeypatch.setattr(core.catalog, "LISTED_RATIO", 1e9)  # never listed: matches merged
    expected = pages()
    set_dates_follow_ids(filled, False)  # searches by date are listed too
    assert len(walk(filled, q="photo-01")) < len(walk(filled, q="-01"))
    assert all(forward and forward[::-1] == back for forward, back in expected)
    assert not any(key[0] == "listed" for key in catalog._prepared)
    monkeypatch.setattr(core.catalog, "LISTED_RATIO", 0.0)  # listed whenever not common
    monkeypatch.setattr(core.catalog, "READ_COST", 1.0)  # (no walk of 120 rows runs long)
    merged: list[int] = []
    real = core.catalog.Catalog._merged

    def spy(self: Any, *args: Any) -> Any:
        merged.append(1)
        return real(self, *args)

    monkeypatch.setattr(core.catalog.Catalog, "_merged", spy)
    assert pages() == expected
    assert any(key[0] == "listed" for key in catalog._prepared) and not merged
    assert {probe.trigram for _e, _g, probe in catalog._probes.values()} >= {"-01", "cli"}
    monkeypatch.setattr(core.catalog, "TRIGRAM_SUPERSET", 0)  # the lists of the terms
    assert pages() == expected
    assert not any(probe.trigram for _e, _g, probe in catalog._probes.values())
    assert not merged
    # every listed walk runs long: the matches are read instead
    monkeypatch.setattr(core.catalog, "READ_COST", 0.0)
    monkeypatch.setattr(core.catalog, "_PROGRESS_STEPS", 1)
    assert pages() == expected
    assert merged
    # filters outside the sort key's index (athlete, type): the matches are read
    merged.clear()
    for filters in ({"athlete_id": 1}, {"file_type": "video"}):
        assert [r.id for r in walk(filled, q="clip", **filters)] == [
            r.id for r in walk(filled, q="clip") if matches_filters(r, filters)
        ]
    assert merged


def set_dates_follow_ids(lib: Library, follow: bool) -> None:
    """Migration 0015's flag: whether searches by date may take the FTS matches by id."""
    with db_of(lib).write() as s:
        s.execute(text("UPDATE catalog_order SET created_follows_id = :f"), {"f": follow})


def dates_follow_ids(lib: Library) -> bool:
    with db_of(lib).read() as s:
        return bool(s.scalar(text("SELECT created_follows_id FROM catalog_order")))


def test_searches_by_date_take_the_fts_matches_in_id_order(
    filled: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every file's date follows its id (the fixture adds them in order, some dates shared):
    a search by date reads the FTS matches by id, with the matched athletes' files merged in,
    and gives the pages it gives the other ways (the flag cleared), forwards, backwards and
    with filters; a cursor whose row is gone pages the other way. Triggers clear the flag
    when a file's date goes out of its id's order."""
    import core.catalog

    # the SQL ways: no search's matches kept (tests/test_catalog_memo.py)
    monkeypatch.setattr(core.catalog, "MATCH_SET_MAX", 0)

    catalog = catalog_of(filled)
    cases = [
        {"q": term, "sort": sort, **filters}
        for term in ("photo", "clip", "messi", "libre en", "o-", "photo-01", "-00", "zzz")
        for sort in ("-created_at", "created_at")
        for filters in ({}, {"status": None}, {"file_type": "video"}, {"is_public": False})
    ]

    def pages() -> list[tuple[list[int], list[int]]]:
        catalog._probes.clear()
        return [
            ([r.id for r in walk(filled, **case)], [r.id for r in walk_back(filled, **case)])
            for case in cases
        ]

    by_id: list[int] = []
    real = core.catalog.Catalog._fts_by_id

    def spy(self: Any, run: Any, plan: Any, *args: Any) -> Any:
        by_id.append(len(plan.athletes))  # with athletes matched by name: their parts merged
        return real(self, run, plan, *args)

    monkeypatch.setattr(core.catalog.Catalog, "_fts_by_id", spy)
    assert dates_follow_ids(filled)
    fast = pages()
    assert by_id and sum(bool(forward) for forward, _ in fast) > len(cases) // 2
    assert all(forward[::-1] == back for forward, back in fast)
    set_dates_follow_ids(filled, False)
    by_id.clear()
    assert pages() == fast and not by_id
    # common terms (walked without the flag) too
    every_term = core.catalog._Probe(common=True, listed=False, matches=1)
    monkeypatch.setattr(core.catalog.Catalog, "_common", lambda *a: every_term)
    walked = pages()
    set_dates_follow_ids(filled, True)
    # a walk that never runs out of time (a loaded machine made some exceed the 5 ms budget)
    monkeypatch.setattr(core.catalog, "WALK_BUDGET", 60.0)
    assert pages() == walked == fast and by_id
    assert not any(by_id)  # a common term with athletes walks (one statement)...
    monkeypatch.setattr(core.catalog, "WALK_BUDGET", 0.0)
    monkeypatch.setattr(core.catalog, "_PROGRESS_STEPS", 1)
    by_id.clear()
    assert pages() == fast and any(by_id)  # ...and when that walk runs long, goes by id
    monkeypatch.undo()

    # the cursor's row deleted and its id taken by a file a little older: after the cursor
    # by date, not by id
    newest = max(r.created_at for r in walk(filled, status=None))
    row = {"file_type": "image", "sha256": "1" * 64, "status": "ready"}
    with db_of(filled).write() as s:
        s.add(
            MediaFile(
                storage_key="k/a",
                original_filename="photo-a.jpg",
                created_at=newest + timedelta(minutes=10),
                **row,
            )
        )
    first = filled.list_files(FileQuery(limit=1, q="photo"))
    assert first.items[0].original_filename == "photo-a.jpg"
    with db_of(filled).write() as s:
        s.execute(text("DELETE FROM media_files WHERE id = :i"), {"i": first.items[0].id})
        s.add(
            MediaFile(
                # SQLite no longer gives an id again (migration 0016); catalogs from before did
                id=first.items[0].id,
                storage_key="k/b",
                original_filename="photo-b.jpg",
                created_at=newest + timedelta(minutes=5),
                **row,
            )
        )
    assert dates_follow_ids(filled)
    second = filled.list_files(FileQuery(limit=7, q="photo", cursor=first.next_cursor))
    assert second.items[0].id == first.items[0].id  # (the id taken again)
    set_dates_follow_ids(filled, False)
    assert filled.list_files(FileQuery(limit=7, q="photo", cursor=first.next_cursor)) == second

    # triggers: a newer file keeps the flag, an older date (inserted or updated) clears it
    set_dates_follow_ids(filled, True)
    newest = max(r.created_at for r in walk(filled, status=None))
    fill_one = {"file_type": "image", "original_filename": "later.jpg", "sha256": "1" * 64}
    with db_of(filled).write() as s:
        s.add(MediaFile(storage_key="k/later", created_at=newest, **fill_one))
    assert dates_follow_ids(filled)
    with db_of(filled).write() as s:
        s.add(MediaFile(storage_key="k/older", created_at=newest - timedelta(days=1), **fill_one))
    assert not dates_follow_ids(filled)
    set_dates_follow_ids(filled, True)
    with db_of(filled).write() as s:
        s.execute(
            update(MediaFile)
            .where(MediaFile.storage_key == "k/later")
            .values(created_at=newest + timedelta(days=2))
        )
    assert not dates_follow_ids(filled)


def matches_filters(record: FileRecord, filters: dict[str, Any]) -> bool:
    return all(getattr(record, key) == value for key, value in filters.items())


def record_queries(lib: Library, monkeypatch: pytest.MonkeyPatch) -> list[FileQuery]:
    """Every FileQuery the library's list_files gets from now on (the grid's requests)."""
    asked: list[FileQuery] = []
    real = lib.list_files

    def spy(query: FileQuery | None = None, **kw: Any) -> Any:
        assert query is not None
        asked.append(query)
        return real(query)

    monkeypatch.setattr(lib, "list_files", spy)
    return asked


def test_desktop_grid_pages_by_cursor_to_the_end(
    qtbot: Any, filled: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("PySide6.QtWidgets")
    from desktop_app.models.file_grid_model import FileGridListModel
    from desktop_app.workers import TaskRunner

    expected = by_offset(filled, sort="-duration")
    asked = record_queries(filled, monkeypatch)
    runner = TaskRunner(1)
    try:
        model = FileGridListModel(filled, runner, page_size=7)
        model.set_query(FileQuery(sort="-duration"))
        wait_for(qtbot, lambda: model.rowCount() == 7, timeout=20000)
        with qtbot.waitSignal(model.reachedEnd, timeout=20000):
            model.fetch_all()
        ids = [
            model.data(model.index(r), FileGridListModel.IdRole) for r in range(model.rowCount())
        ]
        assert ids == expected
        assert all(q.offset == 0 for q in asked) and any(q.cursor for q in asked), asked
    finally:
        runner.shutdown()


def test_desktop_end_jumps_to_the_last_rows_and_scrolling_up_loads_the_ones_before(
    qtbot: Any, filled: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """End on a big library loads its last rows, not every row on the way (a million took
    minutes); the rows before come a page at a time by a backwards cursor, live changes land
    where they belong, and the list ends up the whole order."""
    pytest.importorskip("PySide6.QtWidgets")
    from desktop_app.models import file_grid_model
    from desktop_app.models.file_grid_model import FileGridListModel
    from desktop_app.workers import TaskRunner

    monkeypatch.setattr(file_grid_model, "END_JUMP", 20)
    monkeypatch.setattr(file_grid_model, "TAIL_PAGE", 9)
    expected = by_offset(filled, sort="duration")
    asked = record_queries(filled, monkeypatch)
    runner = TaskRunner(1)
    ids = lambda: [  # noqa: E731
        model.data(model.index(r), FileGridListModel.IdRole) for r in range(model.rowCount())
    ]
    try:
        model = FileGridListModel(filled, runner, page_size=7)
        model.set_query(FileQuery(sort="duration"))
        wait_for(qtbot, lambda: model.rowCount() == 7, timeout=20000)
        asked.clear()
        with qtbot.waitSignal(model.reachedEnd, timeout=20000):
            model.fetch_all()
        assert ids() == expected[-9:] and model.has_before and not model.complete
        assert len(asked) == 1 and asked[0].backwards  # one query, not every page
        assert model.total == len(expected) and not model.canFetchMore()
        # a new image (no duration: last in this order, the newest of them last) lands at the
        # end; a video shorter than any sorts before the loaded rows: the page that holds it
        # brings it
        with db_of(filled).write() as s:
            last, first = (
                MediaFile(
                    storage_key=f"general/2024/01/new{i}.jpg",
                    original_filename=f"new-{i}.jpg",
                    file_type=kind,
                    content_type="image/jpeg",
                    size=5,
                    sha256=f"{i:064x}"[::-1],
                    duration=duration,
                    status="ready",
                )
                for i, kind, duration in ((1, "image", None), (2, "video", -1.0))
            )
            s.add_all([last, first])
            s.flush()
            new_ids = (last.id, first.id)
        for file_id in new_ids:
            created = filled.get_file(file_id)
            model.apply_event(ChangeEvent("created", file_id, created.as_dict()))
        assert ids()[-1] == new_ids[0] and new_ids[1] not in ids()
        assert model.total == len(expected) + 2
        while model.has_before:
            model.fetch_previous()
            wait_for(qtbot, lambda: not model.loading)
        assert ids() == by_offset(filled, sort="duration")
        assert ids()[0] == new_ids[1] and model.complete
    finally:
        runner.shutdown()


def test_end_and_home_keys_in_the_grid(
    qtbot: Any, filled: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keys a user presses: End selects the library's last file without loading it all,
    scrolling up from there loads the files before in place, Home goes back to the first."""
    pytest.importorskip("PySide6.QtWidgets")
    from PySide6.QtCore import QPoint, Qt

    from desktop_app.models import file_grid_model
    from desktop_app.views.grid_delegate import CELL
    from desktop_app.views.main_window import MainWindow

    monkeypatch.setattr(file_grid_model, "END_JUMP", 20)
    monkeypatch.setattr(file_grid_model, "TAIL_PAGE", 40)
    expected = by_offset(filled, sort="-created_at")
    window = MainWindow(filled, page_size=10)
    qtbot.addWidget(window)
    try:
        window.show()  # at its first size: a first start at 900 × 600 has no details panel
        window.resize(900, 600)  # two columns, each page of 10 files whole rows
        window.controller.start()
        model, grid = window.controller.grid, window.browser.grid
        wait_for(qtbot, lambda: model.rowCount() >= 10 and not model.loading)
        grid.setFocus()
        qtbot.keyClick(grid, Qt.Key.Key_End)
        wait_for(qtbot, lambda: window.controller.current is not None)
        assert window.controller.current.id == expected[-1]
        assert model.rowCount() < len(expected) and model.has_before
        # scrolled to the top: the rows before are put in above, the view keeps its files
        bar = grid.verticalScrollBar()
        wait_for(qtbot, lambda: bar.maximum() > 0)
        rows, first_loaded = model.rowCount(), model.record_at(0).id
        bar.setValue(bar.minimum())
        wait_for(qtbot, lambda: model.rowCount() > rows)
        assert [model.record_at(r).id for r in range(model.rowCount())] == expected[
            len(expected) - model.rowCount() :
        ]

        def at_top() -> int | None:
            index = grid.indexAt(QPoint(CELL.width() // 2, CELL.height() // 2))
            record = model.record_at(index.row()) if index.isValid() else None
            return record.id if record is not None else None

        wait_for(qtbot, lambda: at_top() == first_loaded)  # no jump to the new rows
        qtbot.keyClick(grid, Qt.Key.Key_Home)
        # the files shown stay until the first page comes (a blank grid blinked, or stayed
        # blank with an error in a catalog outage)
        assert model.rowCount() > 0 and model.loading
        wait_for(
            qtbot,
            lambda: (
                window.controller.current is not None
                and window.controller.current.id == expected[0]
            ),
        )
        assert not model.has_before
    finally:
        window.shutdown()


def test_select_all_past_what_it_loads_says_so(
    qtbot: Any, filled: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl+A with more files still to load than it loads selects the loaded ones: "10 files
    selected" of the view's many looked like all of them, and Move to trash then acted on
    those alone. The status bar says how many of how many, and how to reach the rest."""
    pytest.importorskip("PySide6.QtWidgets")
    from PySide6.QtCore import Qt

    from desktop_app.views import browser, main_window
    from desktop_app.views.main_window import MainWindow

    monkeypatch.setattr(browser, "END_JUMP", 5)
    monkeypatch.setattr(main_window, "END_JUMP", 5, raising=False)  # the sentence says it
    total = len(by_offset(filled, sort="-created_at"))
    window = MainWindow(filled, page_size=10)
    qtbot.addWidget(window)
    try:
        window.show()
        window.controller.start()
        model, grid = window.controller.grid, window.browser.grid
        wait_for(qtbot, lambda: model.rowCount() >= 10 and not model.loading)
        loaded = model.rowCount()
        assert total - loaded > 5
        grid.setFocus()
        qtbot.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        assert len(grid.selectionModel().selectedRows()) == loaded
        said = window.status.currentMessage()
        assert f"Selected the {loaded} files loaded of the {total}" in said, said
        assert "at most 5 more" in said, said
        # all of a small view: loaded, selected, and nothing said
        monkeypatch.setattr(browser, "END_JUMP", 5000)
        window.status.clearMessage()
        qtbot.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        wait_for(qtbot, lambda: len(grid.selectionModel().selectedRows()) == total)
        assert window.status.currentMessage() == ""
    finally:
        window.shutdown()


def test_whole_library_search_totals_from_the_index_equal_the_counted_ones(
    filled: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search of the whole library counts its total from the FTS index minus the matching
    rows the listing leaves out (trashed, pending, failed, aliases): the same totals as
    counting the matches' rows, and not used where it cannot be exact."""
    import core.catalog

    # the SQL ways: no search's matches kept (tests/test_catalog_memo.py)
    monkeypatch.setattr(core.catalog, "MATCH_SET_MAX", 0)

    with db_of(filled).write() as s:
        s.execute(
            update(MediaFile).where(MediaFile.id % 9 == 0).values(deleted_at=datetime.now(UTC))
        )
        s.execute(update(MediaFile).where(MediaFile.id % 11 == 0).values(status="failed"))
        s.execute(
            update(MediaFile).where(MediaFile.id % 13 == 0).values(status="alias", alias_of=1)
        )
    terms = ("photo", "clip-0", "libre en", "messi", "nothing like it", "PHOTO-01")
    queries = [FileQuery(q=t) for t in terms]
    queries += [FileQuery(q="photo", file_type="image"), FileQuery(q="photo", status=None)]
    quick: list[str] = []
    real = core.catalog.Catalog._count_from_index

    def spy(self: Any, s: Any, q: FileQuery, plan: Any) -> Any:
        found = real(self, s, q, plan)
        if found is not None:
            quick.append(q.q)
        return found

    monkeypatch.setattr(core.catalog.Catalog, "_count_from_index", spy)
    fast = [filled.list_files(q).total for q in queries]
    assert set(quick) == {"photo", "clip-0", "libre en", "messi", "nothing like it", "PHOTO-01"}
    # more rows to test than HIDDEN_SCAN: from the index while they are fewer than the matches
    monkeypatch.setattr(core.catalog, "HIDDEN_SCAN", 0)
    catalog_of(filled)._counts.clear()
    quick.clear()
    assert [filled.list_files(q).total for q in queries] == fast
    assert "photo" in quick and not {"messi", "nothing like it"} & set(quick)
    monkeypatch.setattr(core.catalog.Catalog, "_count_from_index", lambda *a: None)
    with db_of(filled).write():
        pass  # a commit: the cached totals are dropped
    counted = [filled.list_files(q).total for q in queries]
    assert fast == counted and all(counted[:3])
    assert fast == [
        len(walk(filled, q=q.q, file_type=q.file_type, status=q.status)) for q in queries
    ]


def test_search_totals_count_each_match_once(filled: Library) -> None:
    """A file matched by its text and by its athlete's name counts once, under any filter."""
    with db_of(filled).write() as s:
        s.add(Athlete(id=3, name="The Final Four"))
        s.flush()
        # some of them also say "final" in their description
        s.execute(update(MediaFile).where(MediaFile.id % 2 == 1).values(athlete_id=3))
    for term in ("final", "FINAL F", "photo", "messi"):
        for filters in ({}, {"file_type": "image"}, {"athlete_id": 3}, {"status": None}):
            listed = walk(filled, q=term, **filters)
            assert filled.list_files(q=term, **filters).total == len(listed), (term, filters)
            assert len(listed) == len({r.id for r in listed})
    assert any(r.athlete_id == 3 and "final" in r.description for r in walk(filled, q="final"))


def test_search_totals_within_an_athlete_test_its_files(
    filled: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search within one athlete counts that athlete's files tested with LIKE (a few of
    them): the totals of reading the matches, with filters, a matched athlete's name, and
    the matches read when the athlete has too many files."""
    import core.catalog

    # the SQL ways: no search's matches kept (tests/test_catalog_memo.py)
    monkeypatch.setattr(core.catalog, "MATCH_SET_MAX", 0)

    with db_of(filled).write() as s:
        s.execute(
            update(MediaFile).where(MediaFile.id % 9 == 0).values(deleted_at=datetime.now(UTC))
        )
    catalog = catalog_of(filled)
    queries = [
        FileQuery(q=term, athlete_id=athlete, **filters)
        for term in ("photo", "clip-0", "libre en", "messi", "PHOTO-01", "nothing")
        for athlete in (1, 2)
        for filters in ({}, {"file_type": "image"}, {"status": None}, {"trashed": True})
    ]
    used: list[int] = []
    real = core.catalog.Catalog._count_in_athlete

    def spy(self: Any, *args: Any) -> Any:
        found = real(self, *args)
        used.append(found is not None)
        return found

    monkeypatch.setattr(core.catalog.Catalog, "_count_in_athlete", spy)
    tested = [filled.list_files(q).total for q in queries]
    assert used and all(used)
    assert tested == [
        len(
            walk(
                filled,
                q=q.q,
                athlete_id=q.athlete_id,
                file_type=q.file_type,
                status=q.status,
                trashed=q.trashed,
            )
        )
        for q in queries
    ]
    monkeypatch.setattr(core.catalog, "HIDDEN_SCAN", -1)  # too many files: the matches read
    catalog._counts.clear()
    used.clear()
    assert [filled.list_files(q).total for q in queries] == tested
    assert used and not any(used)
    assert sum(tested) and filled.list_files(q="messi", athlete_id=1).total == len(
        walk(filled, athlete_id=1)
    )


def test_offset_pages_near_the_end_equal_the_cursor_walk(filled: Library, media_dir: Any) -> None:
    """`?offset=` past the middle is read from the end in the opposite order: the same pages,
    for filters, both directions, a short last page and past the end (alias rows counted as
    the listing counts them)."""
    first = filled.uploads.ingest(media_dir.png, "image")
    upload = filled.uploads.create_presigned_upload("copy.png", "image", content_type="image/png")
    storage_of(filled).put_file(upload.file_key, media_dir.png, "image/png")
    assert filled.uploads.confirm_upload(upload.file.id).duplicate_of == first.id  # an alias row
    cases = [
        {"sort": "-created_at", "status": "ready"},
        {"sort": "size", "status": "ready"},
        {"sort": "original_filename", "status": None},
        {"sort": "-duration", "status": "ready", "file_type": "video"},
        {"sort": "duration", "status": "ready"},  # images' NULLs: the forward way
        {"sort": "updated_at", "status": "ready", "athlete_id": 2},
        {"sort": "-size", "status": "ready", "file_type": "image"},
    ]
    for filters in cases:
        expected = [r.id for r in walk(filled, **filters)]
        total = filled.list_files(FileQuery(limit=1, **filters)).total
        assert total == len(expected), filters
        for offset in (
            0,
            1,
            total // 2,
            total - 8,
            total - 7,
            total - 3,
            total - 1,
            total,
            total + 5,
        ):
            if offset < 0:
                continue
            page = filled.list_files(FileQuery(limit=7, offset=offset, **filters))
            assert [r.id for r in page.items] == expected[offset : offset + 7], (filters, offset)
