"""`mediadesk catalog copy --to URL`: the whole catalog copied into a new, empty database.

Growing from one desktop to a team (README's team set-up) moves the library's catalog from the
data folder's SQLite file to PostgreSQL; the stored files stay where they are (`objects/` or
the bucket), and every row names them as before. Nothing did it: a club that set DATABASE_URL
started an empty library (core/db/left_behind.py now refuses that start).

- Refused while any MediaDesk process has the source open (the presence an upgrade looks for,
  core/db/schema_guard.py) and while the target holds any of MediaDesk's tables.
- The source is read in one transaction holding its write lock (SQLite) or one snapshot
  (PostgreSQL): nothing written meanwhile is missed. An older schema is brought to this
  version's first (core/db/migrate.upgrade, which refuses a newer one): a PostgreSQL source in
  place, a SQLite file through an upgraded copy, so the file stays the old version's backup.
- The target is set up and filled in ONE transaction (core/db/migrate.setting_up): the schema
  by the same migrations, every table in foreign-key order in batches, the id sequences set
  past the highest id each table ever handed out (signed links, jobs and the change feed name
  rows by id: a deleted file's id must never come back), then the counts compared. Stopped,
  failed or killed at any point, the target is left as new as it was, and a second run works.
- Tables the catalog keeps by itself (`file_counts`, SQLite's search index and order flag) are
  made by the target's own triggers as the rows arrive, and compared where both have them.
"""

from __future__ import annotations

import logging
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import JSON, Column, MetaData, Table, func, inspect, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from core.db import schema_guard
from core.db.engine import DRIVER_MISSING, Database, driver_missing, unopenable
from core.db.left_behind import (
    create_another,
    holding,
    library_counts,
    make_new,
    mark_copied,
    same_catalog,
)
from core.db.migrate import NOT_NEW, VERSION_TABLE, catalog_heads, setting_up, upgrade
from core.db.models import Base, FileCount, UrlSigningKey, utcnow
from core.errors import Conflict, InvalidInput, MediaDeskError, StorageUnavailable
from core.secrets import shown_database_url
from core.settings import Settings

logger = logging.getLogger(__name__)

BATCH = 1000  # rows a statement: few round trips, a small list in memory
# Kept by the catalog's own triggers (migrations 0012, 0014): filled as media_files arrive
DERIVED = frozenset({FileCount.__tablename__})
COPIED = tuple(t for t in Base.metadata.sorted_tables if t.name not in DERIVED)
# A SQLite catalog's own bookkeeping, made again by a SQLite target's migrations and triggers
# (sqlite_sequence is carried to the target's sequences)
SQLITE_OWN = ("sqlite_sequence", "catalog_order", "media_files_fts")
OURS = frozenset(Base.metadata.tables) | {VERSION_TABLE}
# Columns naming a file by id (migration 0016): the files' sequence starts past all of them
FILE_REFERENCES = (
    ("jobs", "file_id"),
    ("audit_log", "file_id"),
    ("change_log", "file_id"),
    ("resumable_uploads", "file_id"),
    ("media_files", "alias_of"),
)
# Conflict reason: a MediaDesk process has the source catalog open
IN_USE = "catalog_in_use"


class CopyFailed(Conflict):
    """The copy began and was undone (a row the target refused, counts that disagree): the
    target is as new as before."""


class Progress(NamedTuple):
    table: str
    done: int
    total: int


@dataclass(frozen=True)
class CopyReport:
    source: str  # shown without passwords
    target: str
    revision: str
    tables: dict[str, int]  # rows copied, in copy order
    next_ids: dict[str, int]  # the id each table hands out next
    migrated_from: str = ""  # the source's schema when it had to be brought to head first
    signing_key: bool = False  # the data folder's link-signing key put in the catalog
    other_tables: tuple[str, ...] = field(default=())  # the source's, not MediaDesk's: left

    def as_dict(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "target": self.target,
            "revision": self.revision,
            "tables": self.tables,
            "next_ids": self.next_ids,
            "migrated_from": self.migrated_from or None,
            "signing_key": self.signing_key,
            "not_copied": list(self.other_tables),
        }


def source_of(settings: Settings, target: str) -> str:
    """The catalog to copy into `target`: the one the settings name, or, when they already
    name `target` (DATABASE_URL set first, as the start-up refusal finds it), the data
    folder's SQLite catalog."""
    url = settings.effective_database_url
    if not same_catalog(url, target):
        return url
    own = f"sqlite:///{settings.paths.database_file}"
    if not same_catalog(own, target) and settings.paths.database_file.is_file():
        return own
    raise InvalidInput(
        f"{shown_database_url(target)} is the catalog these settings use, and this data folder "
        "has no other catalog to copy into it. Nothing was copied.",
        reason="same_catalog",
    )


def copy_catalog(
    source_url: str,
    target_url: str,
    key_file: Path | None = None,
    progress: Callable[[Progress], None] | None = None,
) -> CopyReport:
    """Copies the catalog at `source_url` into the new one at `target_url` (see the module).
    `key_file`: the source's data folder's link-signing key, put in a PostgreSQL target that
    would otherwise take the first starting process's (links issued before keep working)."""
    if same_catalog(source_url, target_url):
        raise InvalidInput(
            f"{shown_database_url(target_url)} is the catalog to copy: copy it into another "
            "one. Nothing was copied.",
            reason="same_catalog",
        )
    source = open_existing(source_url)
    try:
        target = _open_target(target_url)
        try:
            return _copy(source, target, key_file, progress or (lambda _step: None))
        finally:
            target.dispose()
    finally:
        source.dispose()


def open_existing(url: str) -> Database:
    """The catalog at `url`, refused when it is a SQLite file that is not there: opening it
    would make an empty one."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[-1].split("?", 1)[0])
        if not path.is_file() or path.stat().st_size == 0:  # opening it would make it
            raise InvalidInput(
                f"There is no catalog at {path} to copy. Nothing was copied.",
                reason="no_catalog",
            )
    return Database(url, warn_remote=False)


def _open_target(url: str) -> Database:
    try:
        return Database(url, warn_remote=False)
    except MediaDeskError as exc:
        if exc.reason == DRIVER_MISSING:  # the URL given with --to, not DATABASE_URL
            raise driver_missing(str(exc.details.get("module")), "The --to URL") from None
        raise
    except Exception as exc:  # noqa: BLE001 - a URL SQLAlchemy cannot read: said, not traced
        raise InvalidInput(
            f"The target {shown_database_url(url)} is not a database URL MediaDesk can use "
            f"({exc}): e.g. postgresql+psycopg://USER:PASSWORD@HOST/DATABASE. Nothing was copied.",
            reason="bad_url",
        ) from None


def _copy(
    source: Database,
    target: Database,
    key_file: Path | None,
    progress: Callable[[Progress], None],
) -> CopyReport:
    shown_source, shown_target = shown_database_url(source.url), shown_database_url(target.url)
    try:
        with source.engine.connect() as conn:
            others = schema_guard.others_alive(conn)
            heads = catalog_heads(conn)
            source_tables = set(inspect(conn).get_table_names())
    except SQLAlchemyError as exc:
        raise unopenable(source.url, exc) from exc
    _refuse_in_use(others, shown_source)
    if not heads:
        raise InvalidInput(
            f"{shown_source} holds no MediaDesk catalog: nothing to copy.", reason="no_catalog"
        )
    migrated_from = ""
    from core.db.migrate import script_heads

    older = heads != script_heads()
    if older:
        migrated_from = ", ".join(sorted(heads))
        if not source.is_sqlite:  # (a SQLite file through an upgraded copy: _upgraded_copy)
            upgrade(source.engine)  # refuses a newer catalog, and one others have open
    _refuse_filled(target, shown_target)
    left = source_tables - OURS
    if source.is_sqlite:
        left = {t for t in left if not t.startswith(SQLITE_OWN)}
    counts: dict[str, int] = {}
    try:
        with ExitStack() as stack:
            src = stack.enter_context(_reading(source))
            held = src  # the source's own: its write lock held to the end
            if older and source.is_sqlite:
                src = stack.enter_context(_upgraded_copy(src))
            dst = stack.enter_context(setting_up(target.engine))
            revision = ", ".join(sorted(catalog_heads(dst)))
            if catalog_heads(src) != catalog_heads(dst):
                raise CopyFailed(
                    f"The source is at schema {', '.join(sorted(catalog_heads(src)))}, the "
                    f"target was set up at {revision}. Nothing was copied.",
                    reason="copy_undone",
                )
            for table in COPIED:
                counts[table.name] = _copy_table(src, dst, table, progress)
            highest = _highest_ids(src, source.is_sqlite)
            _set_sequences(dst, target.is_sqlite, highest)
            _verify(src, dst, counts)
            carried = _carry_signing_key(src, dst, target.is_sqlite, key_file)
            # a process that started on the source meanwhile may have served from it
            again = schema_guard.others_alive(held)
            _refuse_in_use(again, shown_source)
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        raise CopyFailed(
            f"The copy into {shown_target} stopped: {cause}. Nothing was copied: the target is "
            "left empty.",
            reason="copy_undone",
        ) from exc
    if source.is_sqlite and source.engine.url.database:
        # later starts on the old file are refused (core/db/left_behind.CopiedAway): it
        # shares the stored files, and its maintenance would delete what the new one lists
        at = utcnow().isoformat(timespec="seconds")
        try:
            mark_copied(Path(source.engine.url.database), shown_target, at)
        except OSError as exc:
            logger.warning(
                "The copy is done, but %s could not be marked as copied (%s): move it out of "
                "its folder, or no start on it is refused",
                source.engine.url.database,
                exc,
            )
    return CopyReport(
        shown_source,
        shown_target,
        revision,
        counts,
        {name: n + 1 for name, n in highest.items()},
        migrated_from,
        carried,
        tuple(sorted(left)),
    )


def _refuse_in_use(others: list[str], shown: str) -> None:
    if others:
        raise Conflict(
            f"Other MediaDesk processes are running on the catalog {shown} "
            f"({', '.join(others)}): stop them (the desktop app, mediadesk serve, workers) and "
            "copy again. Nothing was copied.",
            reason=IN_USE,
            details={"processes": others},
        )


def _refuse_filled(target: Database, shown: str) -> None:
    """Refuses a target that holds any of MediaDesk's tables (one started on it, a copy done
    before): rows there would mix with the copy's, or their ids collide. It said "not empty",
    the tables' names and "drop its MediaDesk tables first": not that a MediaDesk had been
    started on it, what it holds, or how to make it new; what it holds decides that."""
    try:
        with target.engine.connect() as conn:
            tables = inspect(conn).get_table_names()
            heads = catalog_heads(conn)
            counts = library_counts(conn) if heads else None
            running = schema_guard.others_alive(conn) if heads else []
    except SQLAlchemyError as exc:
        cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:300]
        raise StorageUnavailable(
            f"The target database {shown} cannot be reached: {cause}. Nothing was copied."
        ) from exc
    ours = sorted(set(tables) & OURS)
    if not ours:
        return
    if counts is None:  # MediaDesk's tables, no record of their schema
        shown_tables = ", ".join(ours[:6]) + (f" and {len(ours) - 6} more" if len(ours) > 6 else "")
        said = (
            f"The target {shown} is not new: it holds MediaDesk's tables ({shown_tables}) "
            "without a record of their schema. A copy goes only into a new, empty database. "
            f"If nothing in it is to be kept, {make_new(target.url)} and copy again; else "
            "copy into another new, empty database."
        )
    else:
        files, athletes, tokens = counts
        schema = ", ".join(sorted(heads))
        said = (
            f"The target {shown} is not new: a MediaDesk was started on it and set it up "
            f"(schema {schema}); it holds {holding(files, athletes, tokens)}. A copy goes only "
            "into a new, empty database, so that the rows and ids of two libraries never mix. "
        )
        stop = (
            f"stop every MediaDesk on it (running now: {', '.join(running)})"
            if running
            else "stop every MediaDesk on it"
        )
        if not (files or athletes):
            said += (
                f"Nothing in it is to be kept (a first start's token at most): {stop}, "
                f"{make_new(target.url)}, then run this copy again."
            )
        else:
            said += (
                "It is a library of its own: to keep it, do not copy into it; to carry this "
                f"one, copy into another new, empty database ({create_another(target.url)}) "
                "and point DATABASE_URL at that one."
            )
    raise Conflict(
        f"{said} Nothing was copied.",
        reason=NOT_NEW,
        details={"tables": ours, **({"processes": running} if counts is not None else {})},
    )


@contextmanager
def _reading(db: Database) -> Iterator[Connection]:
    """One transaction over the whole source: on SQLite it holds the write lock (BEGIN
    IMMEDIATE), so no process writes what the copy would miss; on PostgreSQL one snapshot."""
    engine = db.engine.execution_options(mediadesk_write=True) if db.is_sqlite else db.engine
    with engine.connect() as conn:
        if not db.is_sqlite:
            conn.execution_options(isolation_level="REPEATABLE READ")
        with conn.begin():
            if not db.is_sqlite:
                conn.execute(text("SET TRANSACTION READ ONLY"))
            yield conn


@contextmanager
def _upgraded_copy(held: Connection) -> Iterator[Connection]:
    """An older SQLite source read through an upgraded copy of it, taken under `held`'s write
    lock: upgraded in place, the file README keeps as the backup could no longer be opened
    by the version that wrote it (it refuses a newer schema), and going back was impossible."""
    database = held.engine.url.database
    assert database
    # read by a connection of its own: SQLite's backup from the one holding the write lock
    # answers "locked" forever; in WAL mode a reader is not kept out by it
    reader = sqlite3.connect(Path(database).resolve().as_uri() + "?mode=ro", uri=True)
    with closing(reader), tempfile.TemporaryDirectory(prefix="mediadesk-catalog-copy-") as folder:
        path = Path(folder) / "catalog.sqlite3"
        with closing(sqlite3.connect(path)) as staged:
            reader.backup(staged)  # the WAL's rows too, as the source's readers see them
        copy = Database(f"sqlite:///{path}", warn_remote=False)
        try:
            upgrade(copy.engine)
            with _reading(copy) as conn:
                yield conn
        finally:
            copy.dispose()


def _writer(table: Table) -> Table:
    """`table` for the inserts: a JSON column's None is SQL NULL, as the source held it (the
    model's JSON writes None as the JSON text null)."""
    columns = [
        Column(
            c.name,
            JSON(none_as_null=True) if isinstance(c.type, JSON) else c.type,
            primary_key=c.primary_key,
            autoincrement=False,
        )
        for c in table.columns
    ]
    return Table(table.name, MetaData(), *columns)


def _copy_table(
    src: Connection, dst: Connection, table: Table, progress: Callable[[Progress], None]
) -> int:
    total = int(src.scalar(select(func.count()).select_from(table)) or 0)
    order = list(table.primary_key.columns)
    writer = _writer(table)
    # rows the migrations put in the new table (catalog_leases' first ones, 0006): the
    # source's, through the same migrations and maybe changed since, take their place
    dst.execute(writer.delete())
    done = 0
    rows = src.execute(select(table).order_by(*order).execution_options(yield_per=BATCH))
    for batch in rows.partitions():
        dst.execute(writer.insert(), [dict(row._mapping) for row in batch])
        done += len(batch)
        progress(Progress(table.name, done, total))
    if done == 0:
        progress(Progress(table.name, 0, 0))
    return done


def _highest_ids(src: Connection, sqlite: bool) -> dict[str, int]:
    """The highest id each table with an id sequence ever handed out: its rows', SQLite's
    AUTOINCREMENT record (ids of deleted rows), PostgreSQL's sequence, and for files every id
    another table names."""
    highest: dict[str, int] = {}
    for table in COPIED:
        column = table.autoincrement_column
        if column is not None:
            highest[table.name] = int(src.scalar(select(func.max(column))) or 0)
    if sqlite:
        for name, seq in src.execute(text("SELECT name, seq FROM sqlite_sequence")):
            if name in highest:
                highest[name] = max(highest[name], int(seq or 0))
    else:
        for name in list(highest):
            sequence = src.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": name})
            if sequence:
                last, called = src.execute(
                    text(f"SELECT last_value, is_called FROM {sequence}")  # noqa: S608 - catalog's own name
                ).one()
                if called:
                    highest[name] = max(highest[name], int(last))
    tables = Base.metadata.tables
    for name, naming in FILE_REFERENCES:
        named = src.scalar(select(func.max(tables[name].c[naming])))
        highest["media_files"] = max(highest["media_files"], int(named or 0))
    return highest


def _set_sequences(dst: Connection, sqlite: bool, highest: dict[str, int]) -> None:
    for name, n in highest.items():
        if sqlite:
            declared = dst.scalar(
                text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"),
                {"t": name},
            )
            if "AUTOINCREMENT" not in str(declared or "").upper():
                continue  # ids follow the largest row's, as in the source
            dst.execute(text("DELETE FROM sqlite_sequence WHERE name = :t"), {"t": name})
            dst.execute(
                text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :n)"),
                {"t": name, "n": n},
            )
            continue
        sequence = dst.scalar(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": name})
        if sequence:
            dst.execute(
                text("SELECT setval(CAST(:s AS regclass), :n, :called)"),
                {"s": sequence, "n": max(n, 1), "called": n > 0},
            )


def _verify(src: Connection, dst: Connection, counts: dict[str, int]) -> None:
    """Every table's rows counted again on both sides, and the counts the target's triggers
    kept: the copy commits only if they agree."""
    wrong = []
    for table in COPIED:
        there = int(dst.scalar(select(func.count()).select_from(table)) or 0)
        here = int(src.scalar(select(func.count()).select_from(table)) or 0)
        if not here == there == counts[table.name]:
            wrong.append(f"{table.name}: {here} in the source, {there} copied")
    kept = Base.metadata.tables[FileCount.__tablename__]
    dims = [c for c in kept.columns]

    def nonzero(conn: Connection) -> set[tuple[Any, ...]]:
        return {tuple(r) for r in conn.execute(select(*dims).where(kept.c.n != 0))}

    if nonzero(src) != nonzero(dst):
        wrong.append("file_counts: the target's counts differ from the source's")
    if wrong:
        raise CopyFailed(
            f"The copy did not verify ({'; '.join(wrong)}). Nothing was copied: the target is "
            "left empty.",
            reason="copy_undone",
            details={"mismatch": wrong},
        )


def _carry_signing_key(
    src: Connection, dst: Connection, target_sqlite: bool, key_file: Path | None
) -> bool:
    """A SQLite catalog keeps its link-signing key in the data folder's key file, a
    PostgreSQL one in the catalog (core/url_keys.py), where the first process to start would
    offer its own folder's: maybe another machine's, and links issued before would fail."""
    from core.storage.signing import load_or_create_secret
    from core.url_keys import FILE_GRANTS

    if target_sqlite or key_file is None or not key_file.is_file():
        return False
    keys = Base.metadata.tables[UrlSigningKey.__tablename__]
    if src.scalar(select(func.count()).select_from(keys).where(keys.c.name == FILE_GRANTS)):
        return False  # copied with the rows
    secret = load_or_create_secret(key_file)  # refuses a key others could have planted
    dst.execute(keys.insert().values(name=FILE_GRANTS, secret=secret, created_at=utcnow()))
    return True
