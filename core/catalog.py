"""Catalog queries over the database: files, athletes and counts, returned as records."""

from __future__ import annotations

import base64
import binascii
import contextlib
import itertools
import json
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import (
    Boolean,
    ColumnElement,
    Connection,
    CursorResult,
    Executable,
    Integer,
    Join,
    Select,
    String,
    and_,
    bindparam,
    event,
    func,
    or_,
    select,
    table,
    text,
    type_coerce,
)
from sqlalchemy import column as sql_column
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql.elements import BindParameter, TextClause

from core.catalog_memo import Anchors, MatchSet, Memo, Token
from core.db.engine import RACE_ATTEMPTS, Database
from core.db.models import Athlete, ChangeLog, FileCount, MediaFile, UTCDateTime
from core.errors import Conflict, InvalidInput, NotFound
from core.filenames import visible_text
from core.instants import client_instant
from core.mediatypes import canonical_mime
from core.natsort import natural_key
from core.query import (
    NAME_FIELD,
    content_type_filter,
    file_type_filter,
    finds_nothing,
    parse_sort,
    searched,
)
from core.records import (
    MAX_ATHLETE_NAME,
    MAX_ID,
    MAX_LIMIT,
    SORTS,
    AthleteRecord,
    FileQuery,
    FileRecord,
    FileStatus,
    Page,
)
from core.text import storable

# pg_advisory_xact_lock(class, key) of the bytes a new file is decided on (Catalog.lock_sha): the
# two-key space, apart from the one-key locks of core/feed.py and core/leader.py
SHA_LOCK_CLASS = 0x4D444B53
# pg_advisory_xact_lock(class, athlete id) of a placeholder athlete being made (ensure_athlete)
ATHLETE_LOCK_CLASS = 0x4D444B41
BACKWARDS = "<"  # marks a backwards cursor's sort: it cannot be used to page forwards
# Totals are cached per filter set: counting a million rows costs more than the page itself.
# Any change to ready files (here or in another process) is seen at once (Catalog._count);
# the TTL bounds the rest.
COUNT_TTL = 30.0
COMMON = 100  # a search matching fewer files never walks the sort key's index
# Reading one FTS match and its row costs about what testing one row of an index walk does
# when the sort key's order is not the table's (measured at 1M files, sort=size: ~6 us a match
# against ~5 us a row; walking the date index is cheaper, but a page must not depend on the
# sort to stay bounded); _common balances the two.
WALK_RATIO = 1
# Walking the sort key's index with the matches' ids as a list costs per row about this much
# of reading one match (at 1M files: ~0.6 us an index entry, ~4.5 us a match spread over the
# table, whose row is read); Catalog._listed gives up after READ_COST a match
LISTED_RATIO = 0.15
READ_COST = 4.5e-6
# ...and its list comes from the term's rarest trigram when that is in at most this many times
# the term's files (the others, checked with LIKE, are walked past)
TRIGRAM_SUPERSET = 2
ATHLETE_PARTS = 8  # a rare search seeks each matched athlete's index, up to this many
# A common term's walk assumes its matches spread evenly down the sort key's index; when they
# cluster far down it (a season's files, a series of names), the walk is stopped after this
# long and the page is read from the matches instead (both ways give the same page). At 1M
# files the walks of evenly spread terms took under 5 ms, and a clustered term's page came
# 10 ms sooner than with 15 ms (30 ms instead of 40).
WALK_BUDGET = 0.005
# ...unless the term has so many matches that reading them all would cost more than walking on
FALLBACK_MATCHES = 30_000
# A whole-library search counts its total from the FTS index alone when the rows to test with
# LIKE (those a listing leaves out: trashed, pending, failed, aliases; the files of matched
# athletes) are at most this many, or fewer than the term's matches
HIDDEN_SCAN = 20_000
ALL_MATCHES = 1 << 62  # _fts_matches without a cap
NAMES_TTL = 2.0  # athletes' names folded for searches, unless a write here changes them first
MIN_TRIGRAM = 3  # the FTS5 trigram tokenizer (and pg_trgm's index) need 3 characters
# ?offset= in a listing without search (SQLite): the sort key and id of every SPACING-th row are
# kept (core/catalog_memo.py), read by the first deep offset up to where it asks, so an offset
# steps fewer than SPACING index entries from the nearest anchor (at 1M files stepping 8,192
# entries took ~0.2 ms, the middle of the listing ~30-45 ms; a wider spacing makes the first
# deep offset cost more statements)
SPACING = 8192
LISTINGS_KEPT = 8
# A search's matches (ids and sort keys) are kept for a term with up to MATCH_SET_MAX of them,
# MATCH_SETS_ROWS in all (0.5-0.8 KB a match with its orders): its pages in any sort, by cursor
# or offset, come from them in Python until the catalog changes. At 1M files the 5,175 matches
# of "p-jump" sorted by size: a walk of ~9,700 size-index entries probing the matches took 8-10
# ms a page in-process; reading the matches once takes ~30 ms, a page from them ~2.5 ms.
MATCH_SET_MAX = 20_000
MATCH_SETS_ROWS = 60_000


def same_file_name(storage_key: str) -> ColumnElement[bool]:
    """Rows whose key has `storage_key`'s file name (in any folder, or none): the name that
    names a video's derivatives (core.keys.video_prefix)."""
    name = storage_key.rsplit("/", 1)[-1]
    return or_(
        MediaFile.storage_key == name,
        MediaFile.storage_key.like("%/" + _like(name)[1:-1], escape="\\"),
    )


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SameBytes(NamedTuple):
    """A ready file with some bytes (Catalog.same_bytes)."""

    file_id: int
    storage_key: str
    storage_backend: str | None
    has_thumbnail: bool
    duplicate: bool  # for the same athlete and is_public, not trashed: the upload is this file


_SAME_ATHLETE_AND_FLAGS = and_(
    MediaFile.athlete_id.is_not_distinct_from(bindparam("athlete", type_=Integer)),
    MediaFile.is_public == bindparam("public", type_=Boolean),
    MediaFile.deleted_at.is_(None),
)
_SAME_BYTES = (
    select(
        MediaFile.id,
        MediaFile.storage_key,
        MediaFile.storage_backend,
        MediaFile.has_thumbnail,
        _SAME_ATHLETE_AND_FLAGS,
    )
    .where(MediaFile.sha256 == bindparam("sha"), MediaFile.status == "ready")
    .order_by(_SAME_ATHLETE_AND_FLAGS.desc(), MediaFile.id)
    .limit(1)
)
_LOCK_SHA = text(f"SELECT pg_advisory_xact_lock({SHA_LOCK_CLASS}, :k)")
_LOCK_ATHLETE = text(f"SELECT pg_advisory_xact_lock({ATHLETE_LOCK_CLASS}, :k)")


def _session(db: Database, session: Session | None) -> contextlib.AbstractContextManager[Session]:
    """`session` as it is, or a read transaction of its own."""
    return contextlib.nullcontext(session) if session is not None else db.read()


class Catalog:
    """Reads and writes catalog rows; every method opens its own short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._counts: dict[tuple[Any, ...], tuple[float, Token, int]] = {}
        self._generation = 0
        self._counts_lock = threading.Lock()
        self._fts: bool | None = None
        # (expiry, generation, [(athlete id, folded name)]): a search matches names in Python
        self._names: tuple[float, int, list[tuple[int, str]]] | None = None
        self._prepared: dict[tuple[Any, ...], Any] = {}  # statements by shape (_prepare)
        # (expiry, generation, probe) of a term (_common), kept like the totals
        self._probes: dict[tuple[Any, ...], tuple[float, int, _Probe]] = {}
        self._anchors = Memo(LISTINGS_KEPT, LISTINGS_KEPT)
        self._match_sets = Memo(64, MATCH_SETS_ROWS)
        self._raw_binds: dict[str, Any] = {}
        event.listen(db.engine, "commit", self._bump)
        # ...and again once the commit is done: the engine's event comes before it, so a query
        # whose snapshot began in between would keep what it read under the new generation
        db.listen_sessions("after_commit", self._bump)

    def _bump(self, _conn: Any) -> None:
        self._generation += 1

    def _has_fts(self, s: Session) -> bool:
        if self._fts is None:
            self._fts = self.db.is_sqlite and bool(
                s.scalar(
                    text(
                        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='media_files_fts'"
                    )
                )
            )
        return self._fts

    # ---- files ------------------------------------------------------------------------------
    def get(self, file_id: int, include_trashed: bool = True) -> FileRecord:
        """The file, also through an alias id (then seen under that id, naming its target)."""
        with self.db.read() as s:
            row = s.get(MediaFile, file_id, options=[joinedload(MediaFile.athlete)])
            alias = row is not None and row.alias_of is not None
            if alias:
                assert row is not None and row.alias_of is not None
                row = s.get(MediaFile, row.alias_of, options=[joinedload(MediaFile.athlete)])
            if row is None or (row.deleted_at is not None and not include_trashed):
                raise NotFound(f"File {file_id} not found")
            record = FileRecord.from_row(row)
            return record.as_alias(file_id) if alias else record

    def resolve(self, file_id: int) -> int:
        """The id of the file an id names: itself, or the target of an alias."""
        with self.db.read() as s:
            target = s.scalar(select(MediaFile.alias_of).where(MediaFile.id == file_id))
            return int(target) if target is not None else file_id

    def resolve_many(self, file_ids: list[int]) -> dict[int, int]:
        """`resolve` for many ids in one read: {asked id: the id of the file it names}."""
        with self.db.read() as s:
            rows = s.execute(
                select(MediaFile.id, MediaFile.alias_of).where(
                    MediaFile.id.in_(file_ids), MediaFile.alias_of.is_not(None)
                )
            )
            aliases = {int(i): int(target) for i, target in rows if target is not None}
        return {i: aliases.get(i, i) for i in file_ids}

    def query(self, q: FileQuery) -> Page:
        """One page in the sort's order, with the total and a keyset cursor to the next.

        Without an offset (first page or `cursor`) the page is a keyset seek on the sort key's
        index: its cost does not grow with the depth. `offset` is kept for older clients.
        `backwards`: the rows before the cursor (without one, the last rows of the order),
        nearest first, and a cursor that goes on backwards: the grid's End key.
        """
        sort = parse_sort(q.sort)
        if not 1 <= q.limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
        if q.offset < 0:
            raise InvalidInput("offset cannot be negative")
        if q.cursor and q.offset:
            raise InvalidInput("Send either cursor or offset, not both")
        if q.backwards and q.offset:
            raise InvalidInput("Paging backwards goes by cursor, not offset")
        key = sort.field
        # backwards: the same seeks in the opposite order (NULL keys, last going forward, first)
        desc = sort.descending != q.backwards
        cursor_sort = BACKWARDS + q.sort if q.backwards else q.sort
        after = _decode_cursor(q.cursor, cursor_sort) if q.cursor else None
        # names sort naturally (game_2 < game_10) by their stored key (core.natsort)
        column = MediaFile.name_sort if key == NAME_FIELD else getattr(MediaFile, key)
        if finds_nothing(q.q):  # (its filters checked as any listing's)
            _filter_values(q)
            return Page([], 0, q.limit, q.offset)
        generation = self._generation  # read before the snapshot begins (_token)
        with self.db.read() as s:
            shape, params = _filter_values(q)
            run = _Run(s.connection(), params)
            plan = self._plan(s, q, params)
            token = _Once(lambda: self._token(run, generation))
            ask = _Ask(s, run, q, plan, shape, column, desc, after, token)
            matched = None
            if plan is not None and self._may_keep(q, plan):
                matched = self._matched_page(ask, plan)
            if matched is not None:
                total, page_ids = matched
                rows = self._rows_by_ids(run, page_ids)
            else:
                total = self._count(s, q, plan, run, token)
                rows = self._page(ask, total)
            # names in a second small query, not a JOIN: SQLite would join the skipped rows
            athlete_ids = {r["athlete_id"] for r in rows if r["athlete_id"] is not None}
            names: dict[int, str] = {}
            if athlete_ids:
                params["page_athletes"] = list(athlete_ids)
                names = {r.id: r.name for r in run(self._prepare(("names",), _names_stmt))}
            items = [FileRecord.from_mapping(r, names.get(r["athlete_id"])) for r in rows]
        next_cursor = None
        if len(items) == q.limit:
            last = rows[-1]
            next_cursor = _encode_cursor(cursor_sort, last[column.key], last["id"])
        return Page(items, total, q.limit, q.offset, next_cursor)

    def _page(self, ask: _Ask, total: int) -> list[Any]:
        """The page's rows by SQL (query): a keyset seek, a search's walk or parts, an offset."""
        s, run, q, plan, shape = ask.s, ask.run, ask.q, ask.plan, ask.shape
        column, desc, after = ask.column, ask.desc, ask.after
        key = column.key if column is not MediaFile.name_sort else NAME_FIELD
        plan_key = plan.key if plan is not None else ()

        def seek(base_key: tuple[Any, ...], build: Callable[[], Select[Any]]) -> list[Any]:
            """The page after `after` in this order, by the sort key's index."""
            never_null = _never_null(key, q)
            return self._seek(
                run,
                base_key,
                build,
                column,
                desc,
                after,
                q.limit,
                never_null,
                q.backwards,
                _pinned(shape),
            )

        def rows_of(search: str) -> tuple[tuple[Any, ...], Callable[[], Select[Any]]]:
            """The key and builder of the page's statement over the plan's `search` clause."""
            page_key = ("page", shape, plan_key, search)

            def build() -> Select[Any]:
                clause = getattr(plan, search) if plan is not None else None
                return _where_filters(_COLUMNS, shape, clause)

            return page_key, build

        def by_id() -> list[Any]:
            """The page with the FTS part in id order (_in_id_order)."""
            assert plan is not None
            return self._merged(
                ask,
                plan,
                seek,
                lambda: self._fts_by_id(run, plan, shape, column, desc, after, q.limit),
            )

        if q.offset:  # (never backwards)
            listing = None
            if plan is None and self._may_keep_listing(q):
                listing = ("offset", column.key, shape, _values_of(run.params))
            rows = self._offset_page(ask, rows_of("every"), total, plan is None, listing)
        elif (
            plan is not None
            # a common term's walk is one statement where the athletes' parts are several;
            # a rare term's matches, all on the page, are read as cheaply
            and (not plan.athletes if plan.common else plan.matches > q.limit)
            and self._in_id_order(run, q, plan, key, after)
        ):
            rows = by_id()
        elif plan is not None and plan.parts and not plan.common:
            rows = self._listed(ask, plan, seek)
        elif plan is not None and plan.common:
            try:
                with _time_limit(s, WALK_BUDGET):
                    rows = seek(*rows_of("walk"))
            except _Interrupted:
                if self._in_id_order(run, q, plan, key, after):
                    rows = by_id()
                elif self._fts_matches(s, plan.phrase, FALLBACK_MATCHES) < FALLBACK_MATCHES:
                    rows = self._merged(ask, plan, seek)
                else:  # very many matches: the walk will find them, however long it takes
                    rows = seek(*rows_of("walk"))
        else:
            rows = seek(*rows_of("walk"))
        return rows

    def _prepare(self, key: tuple[Any, ...], build: Callable[[], Any]) -> Any:
        """The statement of this shape, built once: its values are bound when it runs. Building
        a statement and its cache key again for every page cost SQLAlchemy more than the page's
        SQL (a reused statement keeps its cache key)."""
        stmt = self._prepared.get(key)
        if stmt is None:
            stmt = self._prepared.setdefault(key, build())
        return stmt

    def _offset_page(
        self,
        ask: _Ask,
        page: tuple[tuple[Any, ...], Callable[[], Select[Any]]],
        total: int,
        exact: bool,
        listing: tuple[Any, ...] | None,
    ) -> list[Any]:
        """The old `?offset=` page. SQLite and PostgreSQL step over `offset` index entries one
        by one, so a page nearer the end is read from the end, in the opposite order, when
        the total is exact (counted in this transaction from the kept counts: no search).
        NULLs (a duration filter that allows images) keep the forward way: the index cannot
        give them first in the opposite order. The steps select ids only, the page's rows
        read at the end: in the middle of a million files 37 ms instead of 59 in plain sqlite3
        (an index entry skipped costs less when no column of its row is asked for). A
        `listing` (SQLite, no search) keeps anchors for deep offsets (_offset_ids)."""
        run, q, column, desc, token = ask.run, ask.q, ask.column, ask.desc, ask.token
        nullable = column.nullable and not _never_null(column.key, q)
        remaining = total - q.offset  # rows from the page's first to the last
        if exact and not nullable:
            if remaining <= 0:
                return []
            count = min(q.limit, remaining)
            if remaining - count < q.offset:
                ids = self._offset_ids(
                    run,
                    page,
                    column,
                    not desc,
                    False,
                    remaining - count,
                    count,
                    listing,
                    token,
                    _pinned(ask.shape),
                )
                return self._rows_by_ids(run, ids[::-1])
        ids = self._offset_ids(
            run,
            page,
            column,
            desc,
            nullable,
            q.offset,
            q.limit,
            listing,
            token,
            _pinned(ask.shape),
        )
        return self._rows_by_ids(run, ids)

    def _offset_ids(
        self,
        run: _Run,
        page: tuple[tuple[Any, ...], Callable[[], Select[Any]]],
        column: Any,
        desc: bool,
        nullable: bool,
        offset: int,
        limit: int,
        listing: tuple[Any, ...] | None,
        token: _Once,
        pinned: tuple[Any, ...] = (),
    ) -> list[int]:
        """The ids at `offset` of a listing in this direction. Past SPACING rows, from the
        nearest of its anchors (core/catalog_memo.Anchors), those up to the offset read first
        when missing: the first deep offset steps as far as OFFSET would, the next ones fewer
        than SPACING entries."""
        if listing is None or offset < SPACING:
            run.params.update(lim=limit, off=offset)
            page_key, rows_base = page
            stmt = self._prepare(
                (*page_key, "offset_ids", column.key, desc, nullable),
                lambda: _ordered(
                    rows_base().with_only_columns(MediaFile.id),
                    column,
                    desc,
                    nullable,
                    pinned=pinned,
                ).offset(_OFFSET),
            )
            return [r.id for r in run(stmt)]
        key = (*listing, desc)
        found: Anchors | None = self._anchors.get(key, token())
        anchors = list(found.keys) if found is not None else []
        complete = found is not None and found.complete
        wanted = offset // SPACING  # the anchor at position wanted * SPACING - 1
        while len(anchors) < wanted and not complete:
            start = anchors[-1] if anchors else None
            step = self._after(run, page, column, desc, nullable, start, SPACING - 1, 1)
            if step:
                anchors.append(step[0])
            else:
                complete = True
        if found is None or len(anchors) > len(found.keys) or complete != found.complete:
            self._anchors.put(key, token(), Anchors(tuple(anchors), complete))
        if len(anchors) < wanted:
            return []  # past the end
        return [
            i
            for _v, i in self._after(
                run, page, column, desc, nullable, anchors[wanted - 1], offset % SPACING, limit
            )
        ]

    def _after(
        self,
        run: _Run,
        page: tuple[tuple[Any, ...], Callable[[], Select[Any]]],
        column: Any,
        desc: bool,
        nullable: bool,
        anchor: tuple[Any, int] | None,
        skip: int,
        limit: int,
    ) -> list[tuple[Any, int]]:
        """(stored key, id) of `limit` rows after `skip` rows past `anchor` (or the start), in
        the order of plain OFFSET: the values by (key, id), then NULL keys by id. The anchor's
        key is bound as stored (a date as its text), so the ranges compare what ORDER BY does:
        the rest of the anchor's value by id, the values beyond it, then the NULLs."""
        page_key, rows_base = page
        stored = _stored(column)
        newer = (lambda a, b: a < b) if desc else (lambda a, b: a > b)  # noqa: E731
        conditions: dict[str, Callable[[], list[ColumnElement[bool]]]] = {
            "all": lambda: [],
            "valued": lambda: [column.is_not(None)],
            "null": lambda: [column.is_(None)],
            "null_later": lambda: [column.is_(None), newer(MediaFile.id, _ANCHOR_ID)],
            "same": lambda: [stored == _anchor_value(column), newer(MediaFile.id, _ANCHOR_ID)],
            "beyond": lambda: [newer(stored, _anchor_value(column))],
        }
        if anchor is None:
            ranges = ["valued", "null"] if nullable else ["all"]
        elif anchor[0] is None:
            ranges = ["null_later"]
        else:
            ranges = ["same", "beyond", "null"] if nullable else ["same", "beyond"]
            run.params["anchor_value"] = anchor[0]
        if anchor is not None:
            run.params["anchor_id"] = anchor[1]
        out: list[tuple[Any, int]] = []
        for name in ranges:
            by_id = name.startswith("null")

            def build(name: str = name, by_id: bool = by_id) -> Select[Any]:
                stmt = rows_base().with_only_columns(MediaFile.id, stored)
                return _ordered(
                    stmt.where(*conditions[name]()), column, desc, False, by_id_only=by_id
                )

            rows_key = (*page_key, "after", column.key, desc, name)
            stmt = self._prepare(rows_key, lambda build=build: build().offset(_OFFSET))  # type: ignore[misc]
            if name == "same":
                # few rows share the anchor's value, mostly none: those up to the page are read
                # in the statement that tells how many to skip
                run.params.update(lim=skip + limit - len(out), off=0)
                rows: list[Any] = list(run(stmt).all())
                taken, skip = rows[skip:], max(0, skip - len(rows))
            else:
                run.params.update(lim=limit - len(out), off=skip)
                taken = rows = list(run(stmt).all())
                if rows:
                    skip = 0
                elif skip:  # the range holds at most `skip` rows: how many of them to skip still
                    count = self._prepare(
                        (*rows_key, "count"),
                        lambda build=build: select(func.count()).select_from(build().subquery()),  # type: ignore[misc]
                    )
                    run.params["lim"] = skip
                    skip -= int(run(count).scalar() or 0)
            out += [(row[1], row[0]) for row in taken]
            if len(out) == limit:
                break
        return out

    def _token(self, run: _Run, generation: int) -> Token:
        """The catalog's state a kept entry was read in (core/catalog_memo.py): the generation
        of this process's commits read before the snapshot began, and the newest change-log id
        read in it (every change of a file or athlete by any process writes one, core/feed.py).
        A commit here bumps the generation before and after it lands."""
        stmt = self._prepare(("change_id",), lambda: select(func.max(ChangeLog.id)))
        return generation, int(run(stmt).scalar() or 0)

    def _may_keep_listing(self, q: FileQuery) -> bool:
        """Whether what a query reads may be kept for the next ones: SQLite (a read is one
        snapshot), ready files only (the change log, the token's other half, logs every change
        of a ready file but not those of pending or failed uploads: core/feed.py)."""
        return self.db.is_sqlite and q.status == FileStatus.READY

    def _may_keep(self, q: FileQuery, plan: _SearchPlan) -> bool:
        """Whether a search's matches may be kept (MatchSet): SQLite's FTS index counted them
        (an ASCII term, not a common one) and they are few enough; or a term too short for
        that index, whose total tells (_matched_page). An FTS count of 0 is not trusted: a
        term the probe does not count (not ASCII) has 0 there."""
        if not self._may_keep_listing(q):
            return False
        if plan.key[0] == "short":
            return True
        return plan.key[0] == "fts" and not plan.common and 0 < plan.matches <= MATCH_SET_MAX

    def _matched_page(self, ask: _Ask, plan: _SearchPlan) -> tuple[int, list[int]] | None:
        """(total, page ids) from the search's kept matches, read now when missing unless SQL
        finds this page cheaply (a search by date taking the matches by id); None to use SQL."""
        s, run, q, shape, column, token = ask.s, ask.run, ask.q, ask.shape, ask.column, ask.token
        desc, after = ask.desc, ask.after
        key = ("matches", searched(q.q), plan.athletes, shape, _values_of(run.params))
        kept: MatchSet | None = self._match_sets.get(key, token())
        if kept is None and plan.key[0] == "short":
            # its total (counted and cached as any search's, for this state of the catalog)
            # tells whether its matches are few: a term with none or a few was walked over the
            # whole catalog with LIKE for every page (0.7-1 s at 1M files), now read once in
            # one scan as the count is; a common one (a page found early) keeps its walk
            if self._count(s, q, plan, run, token) > MATCH_SET_MAX:
                return None
            kept = self._read_matches(run, plan, shape)
            self._match_sets.put(key, token(), kept, len(kept))
        if kept is None:
            if not q.offset and plan.matches > q.limit:
                sort_key = NAME_FIELD if column is MediaFile.name_sort else column.key
                if self._in_id_order(run, q, plan, sort_key, after):
                    return None
            athletes_files = self._counted(s, q, plan.athletes) if plan.athletes else 0
            if plan.matches + athletes_files > MATCH_SET_MAX:
                return None
            kept = self._read_matches(run, plan, shape)
            self._match_sets.put(key, token(), kept, len(kept))
        try:
            stored = None
            if after is not None:
                value = after[0]
                if value is not None and isinstance(column.type, UTCDateTime):
                    value = self._bind_stored(run, column, value)
                stored = (value, after[1])
            ids = kept.page(column.key, desc, q.backwards, stored, q.limit, q.offset)
        except TypeError:  # a cursor's value of another type than the column's: SQL decides
            return None
        return len(kept), ids

    def _bind_stored(self, run: _Run, column: Any, value: Any) -> Any:
        """A cursor's value as SQLite stores and compares it (a date's text)."""
        process = self._raw_binds.get(column.key)
        if process is None:
            # the dialect's own type: the generic one's processor left a datetime, which no
            # kept text compares with (a date sort's cursor page always went back to SQL)
            dialect = run.conn.dialect
            process = column.type.dialect_impl(dialect).bind_processor(dialect) or (lambda v: v)
            self._raw_binds[column.key] = process
        return process(value)

    def _read_matches(self, run: _Run, plan: _SearchPlan, shape: tuple[bool, ...]) -> MatchSet:
        """Every match of the search under its filters, with every sort key as stored: the
        plan's parts (the FTS matches, the matched athletes' files), each file once; a short
        term's, which has no parts, by its LIKE over every row."""
        found: dict[int, tuple[Any, ...]] = {}
        parts = plan.parts or (select().where(plan.every),)
        for i, part in enumerate(parts):
            stmt = self._prepare(
                ("match_set", shape, plan.key, i),
                lambda part=part: _where_filters(  # type: ignore[misc]
                    part.with_only_columns(MediaFile.id, *_KEPT_KEYS), shape
                ),
            )
            for row in run(stmt).all():
                found.setdefault(row[0], tuple(row))
        return MatchSet(tuple(found.values()), tuple(c.key for c in _SORT_KEYS))

    def _listed(self, ask: _Ask, plan: _SearchPlan, seek: _Seek) -> list[Any]:
        """A term too rare to walk with LIKE: its matches read and sorted (_merged) or, when
        there are many and the filters are all in the sort key's index, that index walked with
        the matches' ids as a list (read from the FTS index once, never a row): at 1M files
        the 5,175 matches of a term spread over the catalog took 9.5 ms that way, 23 ms read.
        Matches clustered far down the index make that walk long: after what reading them would
        have cost (READ_COST each), they are read."""
        s, run, shape, column = ask.s, ask.run, ask.shape, ask.column
        if plan.listed and len(plan.parts) == 1 and _covered(shape):
            # the rarest trigram's files checked with LIKE are the term's (an ASCII term: what
            # SQLite's LIKE and the trigram index agree on; _common lists no other)
            by_trigram = bool(plan.trigram)
            if by_trigram:
                run.params["fts_trigram"] = _phrase(plan.trigram)

            def build() -> Select[Any]:
                listed = (
                    and_(MediaFile.id.in_(_fts_ids(_TRIGRAM_MATCH)), _in_text(_LIKE_PATTERN))
                    if by_trigram
                    else plan.every
                )
                return _where_filters(select(MediaFile.id, column), shape, listed)

            try:
                with _time_limit(s, plan.matches * READ_COST):
                    found = seek(("listed", shape, plan.key, column.key, by_trigram), build)
                return self._rows_by_ids(run, [r["id"] for r in found])
            except _Interrupted:
                pass
        return self._merged(ask, plan, seek)

    def _merged(
        self,
        ask: _Ask,
        plan: _SearchPlan,
        seek: _Seek,
        fts_page: Callable[[], list[Any]] | None = None,
    ) -> list[Any]:
        """A rare term's page: each part seeks its own index, and one page of each is merged.

        The parts read the id and the sort key only, and the page's rows come in one query at
        the end: sorting thousands of FTS matches as whole rows cost four times as much.
        `fts_page` reads the FTS part's page another way (_fts_by_id)."""
        shape, column, q = ask.shape, ask.column, ask.q
        key = column.key
        pages = [
            fts_page()
            if i == 0 and fts_page is not None
            else seek(
                ("part", shape, plan.key, i, key),
                lambda part=part: _where_filters(  # type: ignore[misc]
                    part.with_only_columns(MediaFile.id, column), shape
                ),
            )
            for i, part in enumerate(plan.parts)
        ]
        return self._rows_by_ids(
            ask.run, [r["id"] for r in _merge(pages, key, ask.desc, q.limit, q.backwards)]
        )

    def _in_id_order(
        self,
        run: _Run,
        q: FileQuery,
        plan: _SearchPlan,
        key: str,
        after: tuple[Any, int] | None,
    ) -> bool:
        """Whether this search's page by date can take the FTS matches in id order: every file's
        date follows its id (kept by triggers, migration 0015), so the FTS index hands the
        matches in the page's order and stops after a page (at 1M files 0.2 ms for 11,111
        matches clustered far down the date index, where reading them took 7 ms and walking
        that index gave up after 5). Not for filters that the sort key's index narrows better
        (trash, another status, one athlete: most matches would be read and dropped), nor for
        many matched athletes (their files sorted). A cursor's row must still hold its date:
        then the rows after it by date are those after its id."""
        if (
            key != "created_at"
            or not plan.phrase
            or len(plan.athletes) > ATHLETE_PARTS
            or q.trashed
            or q.status not in (None, FileStatus.READY)
            or q.athlete_id is not None
            or not run(self._prepare(("created_order",), lambda: _CREATED_FOLLOWS_ID)).scalar()
        ):
            return False
        if after is None:
            return True
        run.params.update(after_value=after[0], after_id=after[1])
        stmt = self._prepare(
            ("cursor_row",),
            lambda: select(MediaFile.id).where(
                MediaFile.id == _AFTER_ID, MediaFile.created_at == _AFTER_VALUE
            ),
        )
        return run(stmt).first() is not None

    def _fts_by_id(
        self,
        run: _Run,
        plan: _SearchPlan,
        shape: tuple[bool, ...],
        column: Any,
        desc: bool,
        after: tuple[Any, int] | None,
        limit: int,
    ) -> list[Any]:
        """The FTS part's page in id order, the date order here (_in_id_order): FTS5 reads its
        matches by rowid in either direction and SQLite stops after a page of rows that pass
        the filters."""
        run.params.update(lim=limit, after_id=after[1] if after is not None else None)

        def build() -> Select[Any]:
            stmt = _where_filters(plan.parts[0].with_only_columns(MediaFile.id, column), shape)
            if after is not None:
                stmt = stmt.where(_FTS.c.rowid < _AFTER_ID if desc else _FTS.c.rowid > _AFTER_ID)
            return stmt.order_by(_FTS.c.rowid.desc() if desc else _FTS.c.rowid.asc()).limit(_LIMIT)

        stmt = self._prepare(
            ("fts_by_id", shape, plan.key, column.key, desc, after is not None), build
        )
        return list(run(stmt).mappings().all())

    def _rows_by_ids(self, run: _Run, ids: list[int]) -> list[Any]:
        """The rows of these ids, in this order."""
        if not ids:
            return []
        run.params["page_ids"] = ids
        stmt = self._prepare(("by_ids",), lambda: _COLUMNS.where(MediaFile.id.in_(_PAGE_IDS)))
        # fetched at once: row by row, SQLAlchemy's fetches took 0.5 ms more for 50 rows
        found = {r["id"]: r for r in run(stmt).mappings().all()}
        return [found[i] for i in ids if i in found]

    @staticmethod
    def _fts_matches(s: Session, phrase: str, cap: int) -> int:
        """How many files the FTS index matches, counting up to `cap` (no rows are read)."""
        return int(
            s.scalar(
                text(
                    "SELECT count(*) FROM (SELECT rowid FROM media_files_fts "
                    "WHERE media_files_fts MATCH :fts_phrase LIMIT :cap)"
                ).bindparams(fts_phrase=phrase, cap=cap)
            )
            or 0
        )

    def _seek(
        self,
        run: _Run,
        base_key: tuple[Any, ...],
        base: Callable[[], Select[Any]],
        column: Any,
        desc: bool,
        after: tuple[Any, int] | None,
        limit: int,
        never_null: bool,
        nulls_first: bool = False,
        pinned: tuple[Any, ...] = (),
    ) -> list[Any]:
        """Rows after a keyset position. A nullable key is read in two index walks, values then
        NULLs, so NULLS LAST never forces a sort of the whole catalog; `nulls_first` (paging
        backwards, `desc` already flipped) reads the NULLs first. `pinned`: the columns the
        filters hold constant before the key in its index (_pinned)."""
        newer = (lambda a, b: a < b) if desc else (lambda a, b: a > b)  # noqa: E731
        conditions: dict[str, Callable[[], ColumnElement[bool]]] = {
            "valued": lambda: column.is_not(None),
            "null": lambda: column.is_(None),
            "same": lambda: column == _AFTER_VALUE,
            "beyond": lambda: newer(column, _AFTER_VALUE),
            "later_id": lambda: newer(MediaFile.id, _AFTER_ID),
        }

        def walk(where: tuple[str, ...], n: int, null_part: bool) -> list[Any]:
            def build() -> Select[Any]:
                stmt = base().where(*(conditions[c]() for c in where))
                return _ordered(stmt, column, desc, False, by_id_only=null_part, pinned=pinned)

            stmt = self._prepare((*base_key, column.key, desc, where, null_part), build)
            run.params["lim"] = n
            return list(run(stmt).mappings().all())

        value, last_id = after if after is not None else (None, None)
        run.params.update(after_value=value, after_id=last_id)

        def valued(where: tuple[str, ...]) -> list[Any]:
            if after is None:
                return walk(where, limit, False)
            # (key, id) after (value, last id), as two index ranges: the rest of the rows that
            # share the value, then the next values. SQLite seeks a row value by its first
            # column only, so one range would read every row sharing the value (a whole
            # catalog whose updated_at a bulk update set at once).
            rows = walk((*where, "same", "later_id"), limit, False)
            if len(rows) < limit:
                rows += walk((*where, "beyond"), limit - len(rows), False)
            return rows

        if never_null:
            return valued(())
        rows: list[Any] = []
        if nulls_first:
            if after is not None and value is not None:  # already past the NULLs
                return valued(("valued",))
            rows = walk(("null", "later_id") if after is not None else ("null",), limit, True)
            if len(rows) < limit:  # the values from their first one
                rows += walk(("valued",), limit - len(rows), False)
            return rows
        if after is None or value is not None:
            rows = valued(("valued",))
        if len(rows) < limit:
            later = after is not None and value is None
            rows += walk(("null", "later_id") if later else ("null",), limit - len(rows), True)
        return rows

    def _count(
        self, s: Session, q: FileQuery, plan: _SearchPlan | None, run: _Run, token: _Once
    ) -> int:
        if plan is None:
            return self._counted(s, q)
        key = (
            q.athlete_id,
            q.file_type,
            q.is_public,
            q.status,
            q.trashed,
            # the term as searched: "José", "jose" and "JOSE" list the same files, one total
            searched(q.q),
            canonical_mime(q.content_type) if q.content_type else None,
        )
        now = time.monotonic()
        # Ready files: the catalog's state with the change log's newest id, read before the
        # count, so that another process's change is seen at once (_token); other listings
        # (pending, failed: not logged) within COUNT_TTL.
        state = token() if q.status == FileStatus.READY else (self._generation, -1)
        with self._counts_lock:
            cached = self._counts.get(key)
            if cached and cached[0] > now and cached[1] == state:
                return cached[2]
        shape = _filter_values(q)[0]
        if plan.matched_text is None:
            stmt = self._prepare(
                ("count", shape, plan.key),
                lambda: _where_filters(select(func.count()), shape, plan.every),
            )
            total = int(run(stmt).scalar() or 0)
        elif (quick := self._count_from_index(s, q, plan)) is not None:
            total = quick
        elif (in_athlete := self._count_in_athlete(s, q, plan, shape, run)) is not None:
            total = in_athlete
        else:
            # the FTS matches read first (CROSS JOIN) and checked against the filters, plus the
            # matched athletes' files from the kept counts; a file found both ways counts once
            def build() -> Select[Any]:
                assert plan.matched_text is not None
                in_text = plan.matched_text.with_only_columns(func.count())
                if plan.athletes:
                    in_text = in_text.where(
                        or_(
                            MediaFile.athlete_id.is_(None),
                            MediaFile.athlete_id.not_in(_ATHLETES),
                        )
                    )
                return _where_filters(in_text, shape)

            stmt = self._prepare(("count_text", shape, plan.key), build)
            total = int(run(stmt).scalar() or 0)
            if plan.athletes:
                total += self._counted(s, q, plan.athletes)
        with self._counts_lock:
            if len(self._counts) > 256:
                self._counts.clear()
            self._counts[key] = (now + COUNT_TTL, state, total)
        return total

    def _count_from_index(self, s: Session, q: FileQuery, plan: _SearchPlan) -> int | None:
        """A whole-library search's total without reading its matches' rows: the FTS index
        counts its matches alone (~20 ms for 100,000, where reading them took ~170 ms), minus
        the matching rows the listing leaves out (trashed, pending, failed, aliases: found by
        their index and tested with LIKE, the same matches for an ASCII term); the files of
        athletes whose name matches come from the kept counts, those of them the text matches
        too taken off the index's count. None when that does not apply: filters, or more rows
        to test than HIDDEN_SCAN and than the matches."""
        term = searched(q.q)
        if (
            not term.isascii()
            or q.trashed
            or q.status != FileStatus.READY
            or q.athlete_id is not None
            or file_type_filter(q)
            or q.is_public is not None
            or content_type_filter(q)
        ):
            return None
        c = FileCount
        hidden_groups = s.execute(
            select(c.trashed, c.status, func.sum(c.n))
            .where(or_(c.trashed == True, c.status != FileStatus.READY))  # noqa: E712
            .group_by(c.trashed, c.status)
            .having(func.sum(c.n) > 0)
        ).all()
        by_athletes = self._counted(s, q, plan.athletes) if plan.athletes else 0
        to_test = sum(int(n) for _t, _s, n in hidden_groups) + by_athletes
        matches = None
        if to_test > HIDDEN_SCAN:
            # the other way reads each match's row: fewer rows to test still win (at 1M files
            # "jump" tests 27,000 files of its athletes instead of reading 97,000 matches)
            matches = self._fts_matches(s, _phrase(term), ALL_MATCHES)
            if to_test > matches:
                return None
        in_text = _in_text(_like(term))

        def matching(*where: ColumnElement[bool]) -> int:
            return int(s.scalar(select(func.count()).where(*where, in_text)) or 0)

        hidden = 0
        if any(trashed for trashed, _s, _n in hidden_groups):
            hidden += matching(MediaFile.deleted_at.is_not(None))
        for status in {status for trashed, status, _n in hidden_groups if not trashed}:
            hidden += matching(MediaFile.deleted_at.is_(None), MediaFile.status == status)
        if plan.athletes:  # listed, found by name and by text: counted once, by name
            hidden += matching(
                MediaFile.athlete_id.in_(plan.athletes),
                MediaFile.deleted_at.is_(None),
                MediaFile.status == FileStatus.READY,
            )
        if matches is None:
            matches = self._fts_matches(s, _phrase(term), ALL_MATCHES)
        return matches - hidden + by_athletes

    def _count_in_athlete(
        self, s: Session, q: FileQuery, plan: _SearchPlan, shape: tuple[bool, ...], run: _Run
    ) -> int | None:
        """A search within one athlete's files: those files tested with LIKE through the
        athlete's index, when they are at most HIDDEN_SCAN (at 1M files "dive" within one
        athlete: 3,336 files tested instead of its 100,000 matches read). An ASCII term only,
        where LIKE and the trigram index agree; else None."""
        if q.athlete_id is None or not searched(q.q).isascii():
            return None
        if self._counted(s, q) > HIDDEN_SCAN:
            return None
        has_athletes = bool(plan.athletes)

        def build() -> Select[Any]:
            by_name = [MediaFile.athlete_id.in_(_ATHLETES)] if has_athletes else []
            return _where_filters(
                select(func.count()), shape, or_(_in_text(_LIKE_PATTERN), *by_name)
            )

        stmt = self._prepare(("count_in_athlete", shape, has_athletes), build)
        return int(run(stmt).scalar() or 0)

    def _counted(self, s: Session, q: FileQuery, athletes: tuple[int, ...] | None = None) -> int:
        """A total without a text search (or of these athletes' files): a SUM over the counts
        kept by triggers (migration 0012), the same filters as _where_filters, never a COUNT over
        the rows."""
        shape, params = _filter_values(q)
        params["athletes"] = athletes

        def build() -> Select[Any]:
            alias, mime, trashed, _status, athlete, file_type, public = shape
            c = FileCount
            stmt = select(func.coalesce(func.sum(c.n), 0)).where(c.trashed == trashed)
            # alias ids are other names of listed files, not files
            stmt = stmt.where(c.alias == False if alias else c.status == _STATUS)  # noqa: E712
            if mime:
                stmt = stmt.where(c.content_type == _MIME)
            if athlete:
                stmt = stmt.where(c.athlete_id == _ATHLETE)
            if athletes is not None:
                stmt = stmt.where(c.athlete_id.in_(_ATHLETES))
            if file_type:
                stmt = stmt.where(c.file_type == _FILE_TYPE)
            if public:
                stmt = stmt.where(c.is_public == _PUBLIC)
            return stmt

        stmt = self._prepare(("counted", shape, athletes is not None), build)
        return int(s.connection().execute(stmt, params).scalar() or 0)

    def _plan(self, s: Session, q: FileQuery, params: dict[str, Any]) -> _SearchPlan | None:
        """How to find one page of a text search (file name, description or athlete name
        contains q), or None without one.

        SQLite: athletes are matched by name first (a few hundred rows); the files come from
        the FTS5 trigram index on name and description (migrations 0007, 0013) and from the
        (athlete, sort key) indexes (0011). A rare term seeks each of these in the sort's order
        and merges one page of each; a common one (a page holds many matches) walks the sort
        key's index and tests each row, which stops after one page instead of reading and
        sorting every match. A bounded probe (and the cache of it) tells them apart.

        The clauses are built once per shape (_search_clauses); `params` gets their values.
        """
        # the term folded as the stored texts are (core.text.folded): every way below compares
        # folds, so "jose" finds "José" and a term of any letters any case
        term = searched(q.q)
        if not term:
            return None
        params["like_pattern"] = _like(term)
        if not self._has_fts(s):
            return self._plan_of(("pg",), ())
        athletes = tuple(i for i, name in self._folded_names(s) if term in name)
        params["athletes"] = list(athletes)
        # too short for the trigram index: walked with LIKE (a short term is mostly common),
        # or its matches kept when its total is at most MATCH_SET_MAX (_matched_page)
        if len(term) < MIN_TRIGRAM:
            return self._plan_of(("short", bool(athletes)), athletes)
        phrase = _phrase(term)
        params["fts_phrase"] = phrase
        parts = len(athletes) if len(athletes) <= ATHLETE_PARTS else -1
        params.update({f"part_athlete_{i}": athlete for i, athlete in enumerate(athletes)})
        probe = self._common(s, term, list(athletes), q.limit)
        plan_key = ("fts", bool(athletes), parts, probe.common)
        return self._plan_of(plan_key, athletes, probe, phrase)

    def _plan_of(
        self,
        key: tuple[Any, ...],
        athletes: tuple[int, ...],
        probe: _Probe | None = None,
        phrase: str = "",
    ) -> _SearchPlan:
        every, parts, walk, matched = self._prepare(("plan", *key), lambda: _search_clauses(key))
        probe = probe or _Probe(False, False, 0)
        return _SearchPlan(
            every,
            parts,
            walk,
            matched,
            athletes,
            key,
            common=probe.common,
            phrase=phrase,
            trigram=probe.trigram,
            listed=probe.listed,
            matches=probe.matches,
        )

    def _folded_names(self, s: Session) -> list[tuple[int, str]]:
        """Every athlete's id and folded name (stored, migration 0023), kept briefly: reading a
        thousand names cost a search more than its page. Renames here show at once, other
        processes' within NAMES_TTL."""
        now = time.monotonic()
        cached = self._names
        if cached is not None and cached[0] > now and cached[1] == self._generation:
            return cached[2]
        generation = self._generation
        names = [(i, name) for i, name in s.execute(select(Athlete.id, Athlete.search_name))]
        self._names = (now + NAMES_TTL, generation, names)
        return names

    def _common(self, s: Session, term: str, athletes: list[int], limit: int) -> _Probe:
        """Whether a page of the sort key's index holds enough matches to walk it testing
        each row (common), or to walk it with the matches as a list (listed), and the matches
        counted (up to where that is decided).

        Reading and sorting N matches costs N x WALK_RATIO; walking the index to a page costs
        limit x files / N: the walk wins above sqrt(limit x files / WALK_RATIO) matches. With
        the list, a row costs LISTED_RATIO of a match read, and reading the list a fraction
        of it: that walk wins above sqrt(limit x files x LISTED_RATIO) matches. The probes read
        at most that many entries, and their answer is cached like a total."""
        if not term.isascii():
            return _Probe(False, False, 0)
        key = ("common", term, tuple(athletes), limit)
        now = time.monotonic()
        with self._counts_lock:
            cached = self._probes.get(key)
            if cached and cached[0] > now and cached[1] == self._generation:
                return cached[2]
        total = self._counted(s, FileQuery(status="ready"))
        cap = max(COMMON, int(math.sqrt(limit * total / WALK_RATIO)))
        generation = self._generation
        found = self._fts_matches(s, _phrase(term), cap)
        # a few athletes are sought through their own indexes, a page at a time: only many
        # athletes (their files merged and sorted) count against the walk
        if len(athletes) > ATHLETE_PARTS and found < cap:
            found += int(
                s.scalar(
                    select(func.count()).select_from(
                        select(MediaFile.id)
                        .where(MediaFile.athlete_id.in_(athletes))
                        .limit(cap - found)
                        .subquery()
                    )
                )
                or 0
            )
        common = found >= cap
        listed = not common and found >= math.sqrt(limit * total * LISTED_RATIO)
        probe = _Probe(
            common, listed, found, self._rarest_trigram(s, term, found) if listed else ""
        )
        with self._counts_lock:
            if len(self._probes) > 256:
                self._probes.clear()
            self._probes[key] = (now + COUNT_TTL, generation, probe)
        return probe

    def _rarest_trigram(self, s: Session, term: str, found: int) -> str:
        """The term's trigram in the fewest files, when they are not many more than the term's
        own matches, else "". FTS5 finds a phrase by reading the position lists of all its
        trigrams: at 1M files "p-jump" took 5.4 ms where its rarest trigram "p-j" (the same
        5,175 files) took 0.4; the files are then checked with LIKE (_listed)."""
        grams = sorted({term[i : i + MIN_TRIGRAM] for i in range(len(term) - MIN_TRIGRAM + 1)})
        if len(grams) < 2:
            return ""
        cap = TRIGRAM_SUPERSET * found + 1
        n, gram = min((self._fts_matches(s, _phrase(g), cap), g) for g in grams)
        return gram if n < cap else ""

    @staticmethod
    def _filtered(stmt: Select[Any], q: FileQuery) -> Select[Any]:
        """`stmt` with the filters of `q`, their values bound (tests compare totals with it)."""
        shape, params = _filter_values(q)
        return _where_filters(stmt, shape).params(params)

    def same_bytes(
        self,
        sha256: str,
        athlete_id: int | None,
        is_public: bool,
        session: Session | None = None,
    ) -> SameBytes | None:
        """The ready file the duplicate rule goes by for these bytes (core/ingest.py): the
        untrashed one for this athlete and flags (`duplicate`), else the first with these bytes
        (its object is shared), else None. `session`: read in that transaction (one holding
        lock_sha). One statement, built once: every new file asks it twice."""
        with _session(self.db, session) as s:
            row = s.execute(
                _SAME_BYTES, {"sha": sha256, "athlete": athlete_id, "public": bool(is_public)}
            ).first()
        return SameBytes(row[0], row[1], row[2], bool(row[3]), bool(row[4])) if row else None

    def holds_size(self, size: int, athlete_id: int | None, is_public: bool) -> bool:
        """Whether a ready, untrashed file of this size is filed for this athlete and is_public:
        only then can a file of this size be a duplicate (same_bytes), so only then is a big
        local file hashed before it is sent (Ingestor.known_duplicate). The athlete is the
        rule's own: a copy renamed on the card is still found, and another athlete's file of
        the same size, which could never be a duplicate, costs no read. A seek in
        ix_media_files_athlete_by_size (athlete, deleted_at, status, size) on both engines:
        `athlete_id IS NULL` for none, never IS NOT DISTINCT FROM, which PostgreSQL cannot
        look up in an index."""
        athlete = (
            MediaFile.athlete_id.is_(None)
            if athlete_id is None
            else MediaFile.athlete_id == athlete_id
        )
        with self.db.read() as s:
            found = s.scalar(
                select(MediaFile.id)
                .where(
                    athlete,
                    MediaFile.deleted_at.is_(None),
                    MediaFile.status == "ready",
                    MediaFile.size == size,
                    MediaFile.is_public == bool(is_public),
                )
                .limit(1)
            )
        return found is not None

    def find_by_key(self, storage_key: str) -> FileRecord | None:
        """The file stored under a key (any status, trashed too), or None."""
        with self.db.read() as s:
            row = s.scalars(
                select(MediaFile)
                .options(joinedload(MediaFile.athlete))
                .where(MediaFile.storage_key == storage_key)
            ).first()
            return FileRecord.from_row(row) if row else None

    @staticmethod
    def lock_sha(s: Session, sha256: str) -> None:
        """Holds the decision over these bytes (duplicate, shared object or new file) for the
        rest of `s`'s write transaction, against every process that shares the catalog: on
        PostgreSQL a transaction-level advisory lock keyed by the hash, released at commit, so
        the next holder's reads see this one's row; on SQLite the write transaction already
        holds the database's write lock from its start (BEGIN IMMEDIATE)."""
        if s.get_bind().dialect.name == "postgresql":
            key = int(sha256[:8], 16)
            s.execute(_LOCK_SHA, {"k": key - (1 << 32) if key >= 1 << 31 else key})

    def references(self, storage_key: str, besides: int | None = None) -> int:
        """How many rows (any status, trashed ones too) reference the object at this key,
        `besides` not counted: an object is deleted only when none is left."""
        with self.db.read() as s:
            stmt = select(func.count()).where(MediaFile.storage_key == storage_key)
            if besides is not None:
                stmt = stmt.where(MediaFile.id != besides)
            return int(s.scalar(stmt) or 0)

    def name_in_use(self, storage_key: str, besides: int | None = None) -> bool:
        """Whether a row (other than `besides`) has a key with this key's file name: video
        derivatives are named by it (core.keys.video_prefix), and a file that shared an object
        and then moved to another athlete's folder keeps the name."""
        with self.db.read() as s:
            return self.name_used(s, storage_key, besides)

    @staticmethod
    def name_used(s: Session, storage_key: str, besides: int | None = None) -> bool:
        """`name_in_use` in the caller's transaction."""
        stmt = select(MediaFile.id).where(same_file_name(storage_key))
        if besides is not None:
            stmt = stmt.where(MediaFile.id != besides)
        return s.scalar(stmt.limit(1)) is not None

    def trashed_records(self, trash: Mapping[int, datetime]) -> list[FileRecord]:
        """Those of the files of `trash` (not aliases) still in the trash since their date
        there (`trash_dates`) or before."""
        with self.db.read() as s:
            rows = s.scalars(
                select(MediaFile)
                .options(joinedload(MediaFile.athlete))
                .where(
                    MediaFile.id.in_(list(trash)),
                    MediaFile.alias_of.is_(None),
                    MediaFile.deleted_at.is_not(None),
                )
            )
            return [
                FileRecord.from_row(row)
                for row in rows
                if row.deleted_at is not None and row.deleted_at <= trash[row.id]
            ]

    def referenced_by_others(self, storage_keys: list[str], besides: set[int]) -> set[str]:
        """`references` of many keys in one read: those a row outside `besides` references."""
        with self.db.read() as s:
            return set(
                s.scalars(
                    select(MediaFile.storage_key).where(
                        MediaFile.storage_key.in_(storage_keys), MediaFile.id.not_in(besides)
                    )
                )
            )

    def names_used_by_others(self, storage_keys: list[str], besides: set[int]) -> set[str]:
        """`name_in_use` of many keys: the file names among theirs that a row outside
        `besides` has. One pass over the keys for them all: `name_in_use` scans the table
        (a name is at the end of a key) for each one."""
        names = {key.rsplit("/", 1)[-1] for key in storage_keys}
        with self.db.read() as s:
            found = s.scalars(select(MediaFile.storage_key).where(MediaFile.id.not_in(besides)))
            return {name for key in found if (name := key.rsplit("/", 1)[-1]) in names}

    # ---- housekeeping (core/maintenance.py) ----------------------------------------------------
    def trash_dates(self) -> dict[int, datetime]:
        """Every file in the trash and the date it was moved there, by id."""
        with self.db.read() as s:
            rows = s.execute(
                select(MediaFile.id, MediaFile.deleted_at)
                .where(MediaFile.deleted_at.is_not(None))
                .order_by(MediaFile.id)
            )
            return {file_id: date for file_id, date in rows if date is not None}

    def trashed_before(self, cutoff: datetime) -> list[int]:
        """Ids of the files moved to the trash at or before `cutoff`."""
        with self.db.read() as s:
            return list(
                s.scalars(
                    select(MediaFile.id).where(
                        MediaFile.deleted_at.is_not(None), MediaFile.deleted_at <= cutoff
                    )
                )
            )

    def stale_claims(
        self, claimed_before: datetime, file_ids: set[int] | None = None
    ) -> list[tuple[int, str, datetime]]:
        """(id, key, claimed at) of the files (of `file_ids`, when given) claimed for deletion
        before `claimed_before` (core/library.py CLAIM_LEASE), oldest claim first."""
        stmt = select(MediaFile.id, MediaFile.storage_key, MediaFile.purging_since).where(
            MediaFile.alias_of.is_(None),
            MediaFile.purging_since.is_not(None),
            MediaFile.purging_since < claimed_before,
        )
        if file_ids is not None:
            stmt = stmt.where(MediaFile.id.in_(file_ids))
        with self.db.read() as s:
            rows = s.execute(stmt.order_by(MediaFile.purging_since, MediaFile.id))
            return [(file_id, key, since) for file_id, key, since in rows if since is not None]

    def expired_uploads(self, moment: datetime) -> list[tuple[int, str]]:
        """(id, key) of pending or failed uploads whose URL expired at or before `moment`."""
        with self.db.read() as s:
            rows = s.execute(
                select(MediaFile.id, MediaFile.storage_key).where(
                    MediaFile.status.in_(("pending", "failed")),
                    MediaFile.upload_expires_at.is_not(None),
                    MediaFile.upload_expires_at <= moment,
                )
            ).all()
        return [(file_id, key) for file_id, key in rows]

    def drop_unfinished(self, file_id: int) -> bool:
        """Deletes the row unless its upload completed meanwhile; True when it was deleted."""
        with self.db.write() as s:
            row = s.get(MediaFile, file_id)
            if row is not None and row.status != "ready":
                s.delete(row)
                return True
        return False

    def ready_video_ids(self) -> list[int]:
        """Ids of the ready videos outside the trash (`mediadesk-server video reprocess --all`)."""
        with self.db.read() as s:
            return list(
                s.scalars(
                    select(MediaFile.id).where(
                        MediaFile.file_type == "video",
                        MediaFile.status == "ready",
                        MediaFile.deleted_at.is_(None),
                    )
                )
            )

    def stored_keys(self) -> list[tuple[int, str, str, bool]]:
        """(id, storage key, status, has thumbnail) of every row, for the reconcile report."""
        with self.db.read() as s:
            rows = s.execute(
                select(
                    MediaFile.id, MediaFile.storage_key, MediaFile.status, MediaFile.has_thumbnail
                )
            ).all()
        return [(i, k, st, bool(t)) for i, k, st, t in rows]

    def recorded_sizes(self) -> list[tuple[int, str, int]]:
        """(id, storage key, size) of every ready row that records a size, for the reconcile
        report's size check."""
        with self.db.read() as s:
            rows = s.execute(
                select(MediaFile.id, MediaFile.storage_key, MediaFile.size).where(
                    MediaFile.status == FileStatus.READY, MediaFile.size.is_not(None)
                )
            ).all()
        return [(i, k, n) for i, k, n in rows if n is not None]

    def counts(self) -> dict[str, int]:
        with self.db.read() as s:
            live = MediaFile.deleted_at.is_(None) & (MediaFile.status == "ready")
            rows = s.execute(
                select(MediaFile.file_type, MediaFile.is_public, func.count())
                .where(live)
                .group_by(MediaFile.file_type, MediaFile.is_public)
            )
            out = {"all": 0, "image": 0, "video": 0, "public": 0, "trash": 0, "bytes": 0}
            out |= {"trash_image": 0, "trash_video": 0}
            for file_type, is_public, n in rows:
                out["all"] += n
                out[file_type] = out.get(file_type, 0) + n
                if is_public:
                    out["public"] += n
            # the trash by kind too (trash_image, trash_video), in the same query: an Images
            # view emptied into the trash must not read as a library without photos
            trashed = s.execute(
                select(MediaFile.file_type, func.count())
                .where(MediaFile.deleted_at.is_not(None))
                .group_by(MediaFile.file_type)
            )
            for file_type, n in trashed:
                out["trash"] += n
                out[f"trash_{file_type}"] = n
            out["bytes"] = int(
                s.scalar(select(func.coalesce(func.sum(MediaFile.size), 0)).where(live)) or 0
            )
            return out

    # ---- athletes ---------------------------------------------------------------------------
    def athletes(self) -> list[AthleteRecord]:
        with self.db.read() as s:
            counts = _athlete_file_counts(s)
            # natural order ("Team 2" before "Team 10"): the sidebar and /athletes show it as is
            # names that differ only in accents tie: the id decides, as in the files' order
            rows = sorted(
                s.scalars(select(Athlete)).all(), key=lambda a: (natural_key(a.name), a.id)
            )
            return [AthleteRecord.from_row(a, *counts.get(a.id, (0, 0))) for a in rows]

    def create_athlete(self, name: str, athlete_id: int | None = None) -> AthleteRecord:
        name = _clean_name(name)
        try:
            with self.db.write() as s:
                if athlete_id is not None and s.get_bind().dialect.name == "postgresql":
                    # _free_id looks at an id under this lock: it waits for this insert
                    s.execute(_LOCK_ATHLETE, {"k": athlete_id})
                new_id = athlete_id if athlete_id is not None else _free_id(s)
                row = Athlete(name=name) if new_id is None else Athlete(id=new_id, name=name)
                s.add(row)
                s.flush()
                if new_id is not None:
                    _advance_sequence(s)
                return _athlete_record(s, row)
        except IntegrityError:
            raise (
                self._athlete_exists(name)
                or self._athlete_id_taken(athlete_id)
                or Conflict(
                    f"An athlete named {name!r} already exists"
                    if athlete_id is None
                    else f"An athlete named {name!r} or with id {athlete_id} already exists"
                )
            ) from None

    def rename_athlete(
        self, athlete_id: int, name: str, expected_version: int | None = None
    ) -> AthleteRecord:
        """`expected_version`: the version the caller showed or read, refused with
        stale_version (details: the current version and name) when the athlete is no longer
        at it: in team mode another desktop or the API may have renamed it since, and this
        rename wrote over theirs. None: the last rename wins, as scripts expect."""
        name = _clean_name(name)
        try:
            with self.db.write() as s:
                # on the locked row (FOR UPDATE on PostgreSQL, SQLite's write transaction holds
                # the catalog): of two renames naming one version exactly one passes
                row = s.get(Athlete, athlete_id, with_for_update=True, populate_existing=True)
                if row is None:
                    raise NotFound(f"Athlete {athlete_id} not found")
                if expected_version is not None and expected_version != row.version:
                    raise stale_athlete(row)
                if row.name != name:  # the same name again changes nothing, its version too
                    row.name = name
                    row.version = row.version + 1
                s.flush()
                # the same count as the list's (athletes()): a rename answers it too
                return _athlete_record(s, row)
        except IntegrityError:
            raise self._athlete_exists(name) or Conflict(
                f"An athlete named {name!r} already exists"
            ) from None

    def _athlete_exists(self, name: str) -> Conflict | None:
        """The conflict of a name another athlete has (reason athlete_exists, naming it): the
        bare conflict read as "the file changed in the meantime" in the desktop. None when no
        athlete has it (an id taken)."""
        with self.db.read() as s:
            other = s.scalars(select(Athlete).where(Athlete.name == name)).first()
            if other is None:
                return None
            return Conflict(
                f"An athlete named {name!r} already exists",
                reason="athlete_exists",
                details={"name": other.name, "athlete_id": other.id},
            )

    def _athlete_id_taken(self, athlete_id: int | None) -> Conflict | None:
        """The conflict of an id another athlete holds under a free name (reason
        athlete_id_taken, naming it and its athlete): it was said as "named <the free name> or
        id", which blamed the name. None when no athlete has it."""
        if athlete_id is None:
            return None
        with self.db.read() as s:
            other = s.get(Athlete, athlete_id)
            if other is None:
                return None
            return Conflict(
                f"The athlete id {athlete_id} is taken by {other.name!r}",
                reason="athlete_id_taken",
                details={"athlete_id": other.id, "name": other.name},
            )

    @staticmethod
    def locked_file(s: Session, file_id: int) -> MediaFile | None:
        """The file's row, as no other transaction may change it until `s` ends: FOR UPDATE on
        PostgreSQL (its other writers wait for the commit); SQLite's write transaction (BEGIN
        IMMEDIATE) already holds the whole catalog. A write decided on this row never loses
        the row's race, which optimistic tries did again and again under many processes."""
        return s.get(MediaFile, file_id, with_for_update=True, populate_existing=True)

    @staticmethod
    def ensure_athlete(s: Session, athlete_id: int | None) -> None:
        """Creates a placeholder athlete for an id coming from another system (the seed's)."""
        if athlete_id is None:
            return
        if athlete_id <= 0:
            raise InvalidInput("athlete_id must be a positive integer")
        if s.get(Athlete, athlete_id) is None:
            if s.get_bind().dialect.name == "postgresql":
                # Two first uploads naming one new id (through two servers, or two threads)
                # would both insert it and one fail on the key; the lock makes the second wait
                # for the first's commit and find its row. (SQLite's writes are serialised.)
                s.execute(_LOCK_ATHLETE, {"k": athlete_id})
                if s.get(Athlete, athlete_id) is not None:
                    return
            for attempt in itertools.count(1):
                try:
                    # a savepoint: on PostgreSQL another transaction may take the free name
                    # between the look and the insert; the next turn looks again
                    with s.begin_nested():
                        s.add(Athlete(id=athlete_id, name=_placeholder_name(s, athlete_id)))
                        s.flush()
                    break
                except IntegrityError:
                    if s.scalar(select(Athlete.id).where(Athlete.id == athlete_id)) is not None:
                        return  # made meanwhile with this id by a create (POST /athletes)
                    if attempt == RACE_ATTEMPTS:
                        raise
            _advance_sequence(s)


def stale_athlete(row: Athlete) -> Conflict:
    """The conflict of a rename that named another version than the athlete's: the API's 409
    (412 for If-Match); its details name the current version and name, which the desktop
    tells the user (renamed meanwhile to …) and a client shows or sends again."""
    return Conflict(
        f"The athlete was renamed by someone else (to {row.name!r}); reload and try again",
        reason="stale_version",
        details={"version": row.version, "athlete_id": row.id, "name": row.name},
    )


def _athlete_record(s: Session, row: Athlete) -> AthleteRecord:
    """One athlete with the list's counts (athletes()): a create or rename answers them too."""
    return AthleteRecord.from_row(row, *_athlete_file_counts(s, row.id).get(row.id, (0, 0)))


def _athlete_file_counts(s: Session, athlete_id: int | None = None) -> dict[int, tuple[int, int]]:
    """Ready files per athlete (or of one athlete), untrashed and trashed, from the counts kept
    by triggers (migration 0012): a GROUP BY over the rows took a second at 1M files, and the
    desktop's sidebar and /athletes ask for it. The one count of `file_count` and
    `trash_count` everywhere."""
    c = FileCount
    query = select(c.athlete_id, c.trashed, func.sum(c.n)).where(c.status == FileStatus.READY)
    if athlete_id is not None:
        query = query.where(c.athlete_id == athlete_id)
    out: dict[int, tuple[int, int]] = {}
    for a, trashed, n in s.execute(query.group_by(c.athlete_id, c.trashed)):
        live, trash = out.get(a, (0, 0))
        out[a] = (live, trash + int(n or 0)) if trashed else (live + int(n or 0), trash)
    return out


class _CrossJoin(Join):
    """A join SQLite keeps in the written order (its documented planner control)."""

    inherit_cache = True


@compiles(_CrossJoin, "sqlite")
def _compile_cross_join(element: _CrossJoin, compiler: Any, **kw: Any) -> str:
    return str(compiler.visit_join(element, **kw)).replace(" JOIN ", " CROSS JOIN ", 1)


# Core rows, not ORM objects: building 50 ORM objects costs ten times the query. Built once:
# coercing thirty columns again for every page cost more than reading the page.
# a page's rows without the folds a search compares (migration 0023): no record shows them
_COLUMNS = select(
    *(c for c in MediaFile.__table__.c if c.key not in ("search_name", "search_description"))
)


@dataclass(frozen=True)
class _SearchPlan:
    every: ColumnElement[bool]  # every match: the total, and ?offset= pages
    parts: tuple[Select[Any], ...]  # a rare term: each part read in the sort's order
    walk: ColumnElement[bool]  # a common term: tested on each row of the sort key's index
    matched_text: Select[Any] | None  # the FTS matches of name and description (SQLite)
    athletes: tuple[int, ...]  # athletes whose name matched (with matched_text)
    key: tuple[Any, ...]  # the shape of the clauses above (_search_clauses)
    common: bool = False  # walk first; the parts when the walk runs long (SQLite, FTS)
    phrase: str = ""  # the FTS5 phrase of the term (with common)
    trigram: str = ""  # the term's rarest trigram (with listed)
    listed: bool = False  # walk with the matches' ids as a list (_common, Catalog._listed)
    matches: int = 0  # the FTS index's matches, counted up to the common ones


# The values of prepared statements (Catalog._prepare), bound when they run: filters...
_STATUS: BindParameter[Any] = bindparam("f_status")
_MIME: BindParameter[Any] = bindparam("f_mime")
_ATHLETE: BindParameter[Any] = bindparam("f_athlete")
_FILE_TYPE: BindParameter[Any] = bindparam("f_file_type")
_PUBLIC: BindParameter[Any] = bindparam("f_public")
# ...searches...
_LIKE_PATTERN: BindParameter[Any] = bindparam("like_pattern")
_ATHLETES: BindParameter[Any] = bindparam("athletes", expanding=True)
_MATCH = text("media_files_fts MATCH :fts_phrase")
_FTS = table("media_files_fts", sql_column("rowid"))
_CREATED_FOLLOWS_ID = text("SELECT created_follows_id FROM catalog_order")
_TRIGRAM_MATCH = text("media_files_fts MATCH :fts_trigram")
# ...and paging
_AFTER_VALUE: BindParameter[Any] = bindparam("after_value")
_AFTER_ID: BindParameter[Any] = bindparam("after_id")
_LIMIT: BindParameter[Any] = bindparam("lim")
_OFFSET: BindParameter[Any] = bindparam("off")
_PAGE_IDS: BindParameter[Any] = bindparam("page_ids", expanding=True)
_ANCHOR_ID: BindParameter[Any] = bindparam("anchor_id")
# the sort keys a search's kept matches hold (MatchSet), as stored
_SORT_KEYS = (
    MediaFile.created_at,
    MediaFile.updated_at,
    MediaFile.captured_at,
    MediaFile.name_sort,
    MediaFile.size,
    MediaFile.duration,
)


def _stored(column: Any) -> Any:
    """The column as SQLite stores and compares it: a date's text, not the datetime read from
    it (dates written in another format than SQLAlchemy's still sort as SQLite sorts them)."""
    return type_coerce(column, String()) if isinstance(column.type, UTCDateTime) else column


def _anchor_value(column: Any) -> BindParameter[Any]:
    """An anchor's key, bound as read (_stored)."""
    return bindparam("anchor_value", type_=_stored(column).type)


_KEPT_KEYS = tuple(_stored(c) for c in _SORT_KEYS)


# A page by the sort key's index after the cursor (Catalog._page's seek): (key, builder).
_Seek = Callable[[tuple[Any, ...], Callable[[], Select[Any]]], list[Any]]


@dataclass(frozen=True)
class _Ask:
    """One page asked of Catalog.query, as its planners see it (given whole, not piece by
    piece to each)."""

    s: Session
    run: _Run
    q: FileQuery
    plan: _SearchPlan | None
    shape: tuple[bool, ...]  # the filters present (_filter_values)
    column: Any  # the sort key's column
    desc: bool  # the order the index is read in (a backwards page reads it reversed)
    after: tuple[Any, int] | None  # the cursor's (key, id)
    token: _Once  # the catalog's state, for kept results (Catalog._token)


class _Once:
    """A value computed the first time it is asked for (a query's token, Catalog._token)."""

    __slots__ = ("_get", "_value")

    def __init__(self, get: Callable[[], Token]) -> None:
        self._get = get
        self._value: Token | None = None

    def __call__(self) -> Token:
        if self._value is None:
            self._value = self._get()
        return self._value


def _values_of(params: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """The filters' values of a query (_filter_values), as part of a kept entry's key."""
    return tuple(sorted((k, v) for k, v in params.items() if k.startswith("f_")))


class _Run:
    """Runs prepared statements on one query's connection with that query's values."""

    __slots__ = ("conn", "params")

    def __init__(self, conn: Connection, params: dict[str, Any]) -> None:
        self.conn = conn
        self.params = params

    def __call__(self, stmt: Executable) -> CursorResult[Any]:
        return self.conn.execute(stmt, self.params)


def _filter_values(q: FileQuery) -> tuple[tuple[bool, ...], dict[str, Any]]:
    """Which filters a listing has (the shape of its statements) and their values."""
    mime = content_type_filter(q)
    file_type = file_type_filter(q)
    shape = (
        q.status is None,
        mime is not None,
        bool(q.trashed),
        bool(q.status),
        q.athlete_id is not None,
        file_type is not None,
        q.is_public is not None,
    )
    values = {
        "f_status": q.status,
        "f_mime": mime,
        "f_athlete": q.athlete_id,
        "f_file_type": file_type,
        "f_public": q.is_public,
    }
    return shape, values


def _where_filters(
    stmt: Select[Any], shape: tuple[bool, ...], search: ColumnElement[bool] | None = None
) -> Select[Any]:
    """`stmt` with the filters of this shape (_filter_values) and a search clause."""
    alias, mime, trashed, status, athlete, file_type, public = shape
    if alias:  # alias ids are other names of listed files, not files
        stmt = stmt.where(MediaFile.alias_of.is_(None))
    if search is not None:
        stmt = stmt.where(search)
    if mime:
        stmt = stmt.where(MediaFile.content_type == _MIME)
    if trashed:
        stmt = stmt.where(MediaFile.deleted_at.is_not(None))
    else:
        stmt = stmt.where(MediaFile.deleted_at.is_(None))
    if status:
        stmt = stmt.where(MediaFile.status == _STATUS)
    if athlete:
        stmt = stmt.where(MediaFile.athlete_id == _ATHLETE)
    if file_type:
        stmt = stmt.where(MediaFile.file_type == _FILE_TYPE)
    if public:
        stmt = stmt.where(MediaFile.is_public == _PUBLIC)
    return stmt


def _ordered(
    stmt: Select[Any],
    column: Any,
    desc: bool,
    nulls_last: bool,
    by_id_only: bool = False,
    pinned: tuple[Any, ...] = (),
) -> Select[Any]:
    """`stmt` in the order of `column` (ties by id the same way), `lim` rows.

    `pinned` columns, constant in `stmt`'s rows (_pinned), are ordered by first: they change
    no order, but PostgreSQL takes `deleted_at IS NULL` for no equality, so without them it
    cannot read the (athlete_id, deleted_at, status, key, id) indexes in the key's order and
    sorted every row of the listing (an athlete's thousands) for each page. A `by_id_only`
    walk (NULL keys, or one key's value) pins its key as well."""
    id_order = MediaFile.id.desc() if desc else MediaFile.id.asc()
    if pinned and by_id_only:
        pinned = (*pinned, column)
    prefix = [c.desc() if desc else c.asc() for c in pinned]
    if by_id_only:
        return stmt.order_by(*prefix, id_order).limit(_LIMIT)
    order = column.desc() if desc else column.asc()
    if nulls_last:
        order = order.nulls_last()  # images have no duration: after the videos
    return stmt.order_by(*prefix, order, id_order).limit(_LIMIT)


def _pinned(shape: tuple[bool, ...]) -> tuple[Any, ...]:
    """The columns before the key in its index ((athlete_id,) deleted_at, status, key, id) that
    a listing of this shape holds constant: none unless it pins all of them (the trash's
    deleted_at and status=any vary, so no index gives their key's order)."""
    _alias, _mime, trashed, status, athlete, _file_type, _public = shape
    if trashed or not status:
        return ()
    return (*((MediaFile.athlete_id,) if athlete else ()), MediaFile.deleted_at, MediaFile.status)


def _names_stmt() -> Any:
    return select(Athlete.id, Athlete.name).where(
        Athlete.id.in_(bindparam("page_athletes", expanding=True))
    )


def _fts_ids(match: TextClause) -> Select[Any]:
    """The ids of the files the FTS index matches."""
    return select(text("rowid")).select_from(text("media_files_fts")).where(match)


def _search_clauses(
    key: tuple[Any, ...],
) -> tuple[ColumnElement[bool], tuple[Select[Any], ...], ColumnElement[bool], Select[Any] | None]:
    """(every, parts, walk, matched_text) of a _SearchPlan of this shape (Catalog._plan)."""
    if key[0] == "pg":
        # PostgreSQL: pg_trgm GIN indexes on the folds (migration 0023) serve these LIKEs;
        # its planner chooses between them and the sort key's index. LIKE, not ILIKE: the
        # folds and the term are already case-folded, as Python folds them (core.query).
        every = or_(
            _in_text(_LIKE_PATTERN),
            MediaFile.athlete_id.in_(
                select(Athlete.id).where(Athlete.search_name.like(_LIKE_PATTERN, escape="\\"))
            ),
        )
        return every, (), every, None
    by_name = [MediaFile.athlete_id.in_(_ATHLETES)] if key[1] else []
    # a term whose fold keeps letters other than ASCII's (ø, ł, Greek, CJK) is never walked
    # when the FTS index can serve it (_common): the trigram tokenizer folds their case again
    # and LIKE does not, so only for ASCII folds are both ways known to find the same files
    if key[0] == "short":
        # the trigram index cannot serve a short term: LIKE tests the folds
        short = or_(_in_text(_LIKE_PATTERN), *by_name)
        return short, (), short, None
    walk = or_(_in_text(_LIKE_PATTERN), *by_name)
    _fts, _has_athletes, parts, common = key  # (the athletes: by_name above)
    # the athletes' names are matched in Python; the FTS index holds names and descriptions
    in_text: ColumnElement[bool] = MediaFile.id.in_(_fts_ids(_MATCH))
    every = or_(in_text, *by_name)
    # CROSS JOIN: SQLite reads the matches, then sorts or counts them; left to itself it
    # would walk the sort key's index testing each row against the list of matches
    in_fts = _COLUMNS.select_from(
        _CrossJoin(_FTS, MediaFile.__table__, MediaFile.id == _FTS.c.rowid)
    ).where(_MATCH)
    by_athlete = (
        [
            _COLUMNS.where(MediaFile.athlete_id == bindparam(f"part_athlete_{i}"))
            for i in range(parts)
        ]
        if parts >= 0
        else [_COLUMNS.where(MediaFile.athlete_id.in_(_ATHLETES))]
    )
    return every, (in_fts, *by_athlete), walk if common else every, in_fts


class _Probe(NamedTuple):
    common: bool
    listed: bool
    matches: int
    trigram: str = ""  # the rarest of the term's trigrams, for a listed walk (or "")


class _Interrupted(Exception):
    """A statement ran past its time limit (_time_limit) and SQLite stopped it."""


# SQLite calls the progress handler every this many virtual-machine steps (a few rows' worth)
_PROGRESS_STEPS = 1000


@contextlib.contextmanager
def _time_limit(s: Session, seconds: float) -> Iterator[None]:
    """Statements run through `s` inside this block stop after `seconds` (_Interrupted).
    SQLite only: its progress handler returns non-zero to interrupt the running statement, a
    SELECT's read transaction stays as it was."""
    raw = s.connection().connection.driver_connection
    if not isinstance(raw, sqlite3.Connection):
        yield
        return
    deadline = time.perf_counter() + seconds
    raw.set_progress_handler(lambda: int(time.perf_counter() > deadline), _PROGRESS_STEPS)
    try:
        yield
    except OperationalError as exc:
        if "interrupted" not in str(exc.orig):
            raise
        raise _Interrupted from exc
    finally:
        raw.set_progress_handler(None, 0)


def _merge(
    pages: list[list[Any]], key: str, desc: bool, limit: int, nulls_first: bool = False
) -> list[Any]:
    """One page from pages of the same sort (values, then NULLs last, ids breaking ties; the
    NULLs first when paging backwards)."""
    seen: dict[int, Any] = {}
    for page in pages:
        for row in page:
            seen.setdefault(row["id"], row)
    valued = sorted(
        (r for r in seen.values() if r[key] is not None),
        key=lambda r: (r[key], r["id"]),
        reverse=desc,
    )
    nulls = sorted(
        (r for r in seen.values() if r[key] is None), key=lambda r: r["id"], reverse=desc
    )
    return (nulls + valued if nulls_first else valued + nulls)[:limit]


def _in_text(pattern: Any) -> ColumnElement[bool]:
    """The fold of the file's name or description (migration 0023) is LIKE `pattern` (_like:
    contains the folded term; for an ASCII term SQLite's LIKE matches what the FTS trigram
    index does)."""
    return or_(
        MediaFile.search_name.like(pattern, escape="\\"),
        MediaFile.search_description.like(pattern, escape="\\"),
    )


def _phrase(term: str) -> str:
    """The search text as one FTS5 phrase: its own syntax (quotes, AND, *) is plain text."""
    return '"' + term.replace('"', '""') + '"'


def _covered(shape: tuple[bool, ...]) -> bool:
    """Whether the sort keys' indexes (deleted_at, status, key, id) hold every filter."""
    alias, mime, _trashed, _status, athlete, file_type, public = shape
    return not (alias or mime or athlete or file_type or public)


def _never_null(key: str, q: FileQuery) -> bool:
    """Whether no listed row can have a NULL sort key (then one index walk is enough)."""
    if key in ("created_at", "updated_at", "captured_at", "original_filename"):
        return True  # captured_at: every row's, created_at without a capture date (0026)
    if key == "size":
        return q.status == "ready"  # sizes are known once a file is ready
    return q.status == "ready" and q.file_type == "video"  # only images lack a duration


_TIME_KEYS = ("created_at", "updated_at", "captured_at")  # the sort keys that are instants
# what a cursor's first field may be: a sort, forwards or marked backwards
_CURSOR_SORTS = frozenset(SORTS | {BACKWARDS + sort for sort in SORTS})


def _encode_cursor(sort: str, value: Any, last_id: int) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    raw = json.dumps([sort, value, last_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(cursor: str, sort: str) -> tuple[Any, int]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        fields = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, TypeError, binascii.Error):
        raise InvalidInput("cursor is not one this server handed out") from None
    # only a list of three unpacks as one: a JSON string "str" or an object of three keys did
    # too, and the refusal then named "sort=s" (so did a number or a list where the sort goes)
    if not (
        isinstance(fields, list)
        and len(fields) == 3
        and isinstance(fields[0], str)
        and fields[0] in _CURSOR_SORTS
    ):
        raise InvalidInput("cursor is not one this server handed out")
    cursor_sort, value, last_id = fields
    if cursor_sort != sort:
        if BACKWARDS in (cursor_sort[0], sort[0]):
            # the desktop's End key pages backwards in-process: its marked sort ("<-size") is
            # no order a client can name, so an HTTP client holding one edited it
            raise InvalidInput("cursor is not one this server handed out")
        raise InvalidInput(f"cursor belongs to sort={cursor_sort}, not sort={sort}")
    if not _fits_id(last_id):
        raise InvalidInput("cursor is not one this server handed out")
    key = sort.removeprefix(BACKWARDS).lstrip("-")
    if value is not None and key in _TIME_KEYS:
        value = client_instant(value, "cursor is not one this server handed out")
    elif value is not None and not _cursor_value_fits(key, value):
        raise InvalidInput("cursor is not one this server handed out")
    return value, last_id


def _cursor_value_fits(key: str, value: Any) -> bool:
    """A value the sort key's column can be compared with: PostgreSQL refuses a name holding
    NUL or a lone surrogate, and a float for the BIGINT size (1e308: "bigint out of range"),
    both answered 500 to an edited cursor where SQLite read past them."""
    if key == "original_filename":
        return isinstance(value, str) and storable(value) == value
    if key == "size":
        return _fits_column(value)
    return _fits_column(value) or (isinstance(value, float) and math.isfinite(value))


def _fits_id(value: Any) -> bool:
    """An id the INTEGER id column holds: 32 bits on PostgreSQL, where a cursor's id past them
    (99999999999) failed in the database (500) instead of being refused."""
    return isinstance(value, int) and not isinstance(value, bool) and -MAX_ID - 1 <= value <= MAX_ID


def _fits_column(value: Any) -> bool:
    """An integer a 64-bit column holds: an edited cursor's 2**70 reached the database driver
    (OverflowError, a 500) and JSON's NaN or Infinity would compare with nothing."""
    return isinstance(value, int) and not isinstance(value, bool) and -(2**63) <= value < 2**63


def _advance_sequence(s: Session) -> None:
    """After an explicit id, move PostgreSQL's id sequence past it (SQLite needs nothing)."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(
            text(
                "SELECT setval(pg_get_serial_sequence('athletes', 'id'), "
                "(SELECT MAX(id) FROM athletes))"
            )
        )


def _clean_name(name: str) -> str:
    """An athlete's name under the file names' rule (core.filenames.visible_text: no control,
    zero-width or bidi characters, NFC), each run of spaces, tabs and line breaks one space:
    "Ana<U+200B>Pérez" or a U+202E spoof is no longer stored as it came, an invisible name is
    refused as a blank one is, and "Óscar" typed in NFD is the "Óscar" already there (409)."""
    clean = " ".join(visible_text(" ".join((name or "").split())).split())
    if not clean or len(clean) > MAX_ATHLETE_NAME:
        raise InvalidInput(f"An athlete name needs 1 to {MAX_ATHLETE_NAME} visible characters")
    return clean


def _placeholder_name(s: Session, athlete_id: int) -> str:
    """The first of "Athlete N", "Athlete N (#N)", "Athlete N (#N, 2)"... no athlete has: any
    client may already have given the first two to others (a 500 before)."""
    base = f"Athlete {athlete_id}"
    query = select(Athlete.name).where(Athlete.name.startswith(base, autoescape=True))
    taken = set(s.scalars(query))
    more = (f"{base} (#{athlete_id}, {n})" for n in itertools.count(2))
    return next(
        n for n in itertools.chain((base, f"{base} (#{athlete_id})"), more) if n not in taken
    )


# The lowest id no athlete has (ids run from 1), computed in 64 bits: id + 1 of MAX_ID would
# overflow PostgreSQL's integer.
_LOWEST_FREE_ID = text(
    "SELECT CASE WHEN NOT EXISTS (SELECT 1 FROM athletes WHERE id = 1) THEN 1 ELSE ("
    "SELECT MIN(CAST(a.id AS BIGINT) + 1) FROM athletes a WHERE a.id < :top AND NOT EXISTS "
    "(SELECT 1 FROM athletes b WHERE b.id = CAST(a.id AS BIGINT) + 1)) END"
).bindparams(top=MAX_ID)
# The (ATHLETE_LOCK_CLASS, key) lock _free_id hands ids out under, one creation at a time: no
# athlete's own (ids run from 1)
_NEW_ATHLETE_KEY = 0


def _free_id(s: Session) -> int | None:
    """The id of a new athlete given none: the highest + 1 while that is at most MAX_ID, else
    the lowest id no athlete has. One upload naming athlete 2147483647 (any upload token may,
    ensure_athlete) made every later new athlete fail: id 2147483648 on SQLite, refused by
    every other request, and the end of the sequence (a 500) on PostgreSQL.

    SQLite: None below MAX_ID, its own rowid rule being the highest + 1, under the write lock
    its transaction holds. PostgreSQL: the id is chosen here, not by the table's sequence, which
    a refused creation (409 athlete_exists) used up as well, so the next athlete skipped an id;
    creations take turns on a lock, and athletes are never deleted, so no id comes back."""
    postgres = s.get_bind().dialect.name == "postgresql"
    if postgres:
        s.execute(_LOCK_ATHLETE, {"k": _NEW_ATHLETE_KEY})
    while True:
        top = s.scalar(select(func.max(Athlete.id))) or 0
        if top < MAX_ID:
            if not postgres:
                return None
            free = top + 1
        else:
            free = s.scalar(_LOWEST_FREE_ID)
            if free is None:
                raise Conflict(f"Every athlete id up to {MAX_ID} is taken")
            if not postgres:
                return int(free)
        # another writer may be making this id under its lock (ensure_athlete's placeholder
        # for an upload, a create naming it): after the wait, it is looked at again
        s.execute(_LOCK_ATHLETE, {"k": free})
        if s.scalar(select(Athlete.id).where(Athlete.id == free)) is None:
            return int(free)
