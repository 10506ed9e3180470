"""The catalog change feed: every process that shares a catalog hears of every change.

Writing: `install(db)` hooks the write sessions of a Database. A transaction that creates,
edits, trashes, restores or deletes a file, or changes an athlete or a token, also inserts one
`change_log` row per changed entity before it commits, so a change and its log row exist
together or not at all. On PostgreSQL those inserts take a transaction-scoped advisory lock
first, so change ids commit in id order (a reader that has seen id N never sees N-1 appear
later), and a `NOTIFY` carries (kind, id, version, origin, change id) to listeners at commit.
On SQLite the database-wide write lock gives the same order.

Reading: a `Feed` delivers this process's own changes to its EventBus right after the commit,
and a background thread reads the rows of other processes, in id order, from the table (on
PostgreSQL when a notification arrives, after a reconnect, and every few seconds as a safety
net; on SQLite every POLL_SECONDS). Ordered subscribers (the SSE hub) get every row, own ones
included, in id order; `since()` answers a `Last-Event-ID` catch-up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, select, text, update
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.orm import Session

from core.background import SharedThread
from core.db import schema_guard
from core.db.engine import Database
from core.db.models import ApiToken, Athlete, CatalogLease, ChangeLog, MediaFile, utcnow
from core.errors import first_of_outage, pg_words
from core.events import FILE_KINDS, PREVIOUS, ChangeEvent, EventBus, EventKind, Subscribers
from core.records import RECORD_TIMES, AthleteRecord, FileRecord, FileStatus, iso

logger = logging.getLogger(__name__)

CHANNEL = "mediadesk_changes"
COMMIT_ORDER_LOCK = 0x4D444B46  # pg_advisory_xact_lock key: change ids commit in order
POLL_SECONDS = 0.25  # SQLite: how often other processes' changes are looked for
PG_SAFETY_POLL = 5.0  # PostgreSQL: a look at the table even without a notification
RECONNECT_SECONDS = 1.0
BATCH = 500
RETENTION_DAYS = 7

_PENDING = "mediadesk_feed_pending"
_EXTRA = "mediadesk_feed_extra"
_COMMITTED = "mediadesk_feed_committed"
_TOKEN_FIELDS = ("name", "scope", "revoked_at", "token_hash")
_PRIORITY: dict[str, int] = {
    EventKind.UPDATED: 1,
    EventKind.TRASHED: 2,
    EventKind.RESTORED: 2,
    EventKind.CREATED: 3,
    EventKind.ATHLETE: 1,
    EventKind.TOKEN: 1,
}

CommitListener = Callable[[list[ChangeEvent]], None]


def new_origin() -> str:
    """Names one writer: host, process and a random part (two catalogs in one process differ)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(3)}"


def origin_of(db: Database) -> str:
    return install(db)


def install(db: Database) -> str:
    """Hooks the Database's write sessions (once); returns the Database's origin name."""
    existing = getattr(db, "mediadesk_origin", None)
    if existing is not None:
        return str(existing)
    origin = new_origin()
    listeners: list[CommitListener] = []
    db.mediadesk_origin = origin  # type: ignore[attr-defined]
    db.mediadesk_commit_listeners = listeners  # type: ignore[attr-defined]
    postgres = db.engine.dialect.name == "postgresql"

    def before_flush(session: Session, _ctx: object, _instances: object) -> None:
        pending: dict[int, list[Any]] = session.info.setdefault(_PENDING, {})
        for obj in session.new:
            _note(pending, obj, _new_kind(obj), None, None)
        for obj in session.dirty:
            if session.is_modified(obj, include_collections=False):
                _note(pending, obj, _dirty_kind(obj), None, _before(obj))
        for obj in session.deleted:
            if isinstance(obj, MediaFile | Athlete | ApiToken):
                _note(pending, obj, _deleted_kind(obj), _snapshot(session, obj), None)

    def before_commit(session: Session) -> None:
        session.flush()  # before_commit runs before the commit's own flush: note changes now
        if not session.info.get(_PENDING) and not session.info.get(_EXTRA):
            return
        pending = session.info.pop(_PENDING, {})
        extra: list[ChangeEvent] = session.info.pop(_EXTRA, [])
        rows: list[ChangeLog] = []
        with session.no_autoflush:
            for obj, kind, snapshot, before in pending.values():
                if kind is not None:
                    rows.append(_log_row(session, obj, kind, snapshot, origin, before))
        for ev in extra:
            rows.append(
                ChangeLog(
                    kind=ev.kind,
                    entity="event",
                    entity_id=ev.entity_id,
                    file_id=ev.file_id,
                    version=ev.version,
                    origin=origin,
                    at=ev.at,
                    data=_jsonable(ev.data),
                )
            )
        if not rows:
            return
        if postgres:
            session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": COMMIT_ORDER_LOCK})
        session.add_all(rows)
        session.flush()
        session.info.pop(_PENDING, None)
        if postgres:
            for row in rows:
                payload = json.dumps(
                    {
                        "kind": row.kind,
                        "id": row.entity_id,
                        "version": row.version,
                        "origin": origin,
                        "change_id": row.id,
                    }
                )
                session.execute(text("SELECT pg_notify(:c, :p)"), {"c": CHANNEL, "p": payload})
        session.info[_COMMITTED] = [_event(row) for row in rows]

    def after_commit(session: Session) -> None:
        committed = session.info.pop(_COMMITTED, None)
        if not committed:
            return
        for listener in list(listeners):
            try:
                listener(committed)
            except Exception:
                logger.exception("A change-feed listener failed")

    def after_rollback(session: Session) -> None:
        for key in (_PENDING, _EXTRA, _COMMITTED):
            session.info.pop(key, None)

    db.listen_sessions("before_flush", before_flush)
    db.listen_sessions("before_commit", before_commit)
    db.listen_sessions("after_commit", after_commit)
    db.listen_sessions("after_soft_rollback", lambda s, _t: after_rollback(s))
    return origin


def _note(
    pending: dict[int, list[Any]],
    obj: object,
    kind: str | None,
    snapshot: Any,
    before: dict[str, Any] | None,
) -> None:
    if not isinstance(obj, MediaFile | Athlete | ApiToken):
        return
    key = id(obj)
    entry = pending.get(key)
    if entry is None:
        pending[key] = [obj, kind, snapshot, before if before is not None else _UNKNOWN]
        return
    # a second flush of the transaction: the values from before the first one are the old ones
    if entry[3] is not _UNKNOWN:
        if before is None:
            entry[3] = _UNKNOWN
        else:
            entry[3] = before | entry[3]
    old = entry[1]
    if kind == EventKind.DELETED or (
        kind is not None and (old is None or _PRIORITY.get(kind, 0) > _PRIORITY.get(old, 0))
    ):
        entry[1] = kind
    if snapshot is not None:
        entry[2] = snapshot


_UNKNOWN: Any = object()  # `_before` could not tell an old value (or the row is new)
_PREVIOUS_KINDS = (EventKind.UPDATED, EventKind.TRASHED, EventKind.RESTORED)
_RECORD_FIELDS = frozenset(FileRecord.__dataclass_fields__)
_SET_BY_FLUSH = ("updated_at", "version")


# A MediaFile's fields as its listeners last heard them, when a write went round the feed
# before (core.library's claim for deletion moves a live file to the trash unannounced, then
# renews its mark): set by `heard_as`, they stand in for the committed values in `previous`
_HEARD_AS = "_mediadesk_heard_as"


def heard_as(row: MediaFile, **fields: Any) -> None:
    """The next change of `row` this session logs names `fields` as its `previous` ones (the
    version its listeners last heard of), not the unannounced writes' in between."""
    setattr(row, _HEARD_AS, fields)


def _before(obj: object) -> dict[str, Any] | None:
    """A file's changed fields with their values before this flush (updated_at and version
    too: the flush sets both, version as SQLAlchemy's version counter, after this reads), None
    when one is not known (an attribute changed without being loaded)."""
    if not isinstance(obj, MediaFile):
        return {}
    before: dict[str, Any] = {}
    for attr in sa_inspect(obj).attrs:
        if attr.key not in _RECORD_FIELDS:
            continue
        history = attr.history
        if history.deleted:
            before[attr.key] = history.deleted[0]
        elif history.added:
            return None
        elif attr.key in _SET_BY_FLUSH and history.unchanged:
            before[attr.key] = history.unchanged[0]
    return before | getattr(obj, _HEARD_AS, {})


def _new_kind(obj: object) -> str | None:
    if isinstance(obj, MediaFile):
        # pending uploads are not shown
        return EventKind.CREATED if obj.status == FileStatus.READY else None
    if isinstance(obj, Athlete):
        return EventKind.ATHLETE
    if isinstance(obj, ApiToken):
        return EventKind.TOKEN
    return None


def _changed(obj: object, name: str) -> tuple[bool, Any, Any]:
    """Whether a pending change touches the attribute, its new value and its old one."""
    history = sa_inspect(obj).attrs[name].history
    if not history.has_changes():
        return False, None, None
    return (
        True,
        history.added[0] if history.added else None,
        history.deleted[0] if history.deleted else None,
    )


def _dirty_kind(obj: object) -> str | None:
    if isinstance(obj, MediaFile):
        status_changed, status, was = _changed(obj, "status")
        if status_changed:
            if status == FileStatus.READY:
                return EventKind.CREATED
            # left the catalog, or never in it
            return EventKind.DELETED if was == FileStatus.READY else None
        if obj.status != FileStatus.READY:
            return None
        trash_changed, trashed_at, _ = _changed(obj, "deleted_at")
        if trash_changed:
            return EventKind.TRASHED if trashed_at is not None else EventKind.RESTORED
        return EventKind.UPDATED
    if isinstance(obj, Athlete):
        return EventKind.ATHLETE
    if isinstance(obj, ApiToken):
        # last_used_at moves on every use: not a change anyone needs to hear about
        return EventKind.TOKEN if any(_changed(obj, n)[0] for n in _TOKEN_FIELDS) else None
    return None


def _deleted_kind(obj: object) -> str:
    if isinstance(obj, MediaFile):
        return EventKind.DELETED
    return EventKind.ATHLETE if isinstance(obj, Athlete) else EventKind.TOKEN


def _athlete_name(session: Session, athlete_id: int | None) -> str | None:
    if athlete_id is None:
        return None
    athlete = session.get(Athlete, athlete_id)
    return athlete.name if athlete is not None else None


def _snapshot(session: Session, obj: object) -> dict[str, Any]:
    """The record of a row about to be deleted (afterwards there is nothing to read)."""
    with session.no_autoflush:
        if isinstance(obj, MediaFile):
            name = _athlete_name(session, obj.athlete_id)
            return FileRecord.from_row(obj, athlete_name=name or "").as_dict() | (
                {"athlete_name": name}
            )
        if isinstance(obj, Athlete):
            return {"id": obj.id, "name": obj.name, "version": obj.version, "deleted": True}
        return {}


def _log_row(
    session: Session,
    obj: object,
    kind: str,
    snapshot: dict[str, Any] | None,
    origin: str,
    before: Any = _UNKNOWN,
) -> ChangeLog:
    if isinstance(obj, MediaFile):
        if snapshot is None:
            name = _athlete_name(session, obj.athlete_id)
            data = FileRecord.from_row(obj, athlete_name=name or "").as_dict()
            data["athlete_name"] = name
        else:
            data = snapshot
        if kind in _PREVIOUS_KINDS and before is not _UNKNOWN:
            previous = dict(before)
            if "athlete_id" in previous:  # searches look in the athlete's name
                previous["athlete_name"] = _athlete_name(session, previous["athlete_id"])
            for key in RECORD_TIMES:
                if key in previous:
                    previous[key] = iso(previous[key])
            # stored with the record (the log has one data column); _event takes it out
            data = {**data, PREVIOUS: previous}
        return ChangeLog(
            kind=kind,
            entity="file",
            entity_id=obj.id,
            file_id=obj.id,
            version=obj.version,
            origin=origin,
            data=_jsonable(data),
        )
    if isinstance(obj, Athlete):
        if snapshot is None:
            trashed = MediaFile.deleted_at.is_not(None)
            rows = session.execute(
                select(trashed, func.count(MediaFile.id))
                .where(MediaFile.athlete_id == obj.id, MediaFile.status == FileStatus.READY)
                .group_by(trashed)
            ).all()
            counts = {bool(t): int(n or 0) for t, n in rows}
            live, trash = counts.get(False, 0), counts.get(True, 0)
            data = AthleteRecord.from_row(obj, live, trash).as_dict()
        else:
            data = snapshot
        # the version as a file's row gives it: in the log and its PostgreSQL notification
        return ChangeLog(
            kind=EventKind.ATHLETE,
            entity="athlete",
            entity_id=obj.id,
            version=obj.version,
            origin=origin,
            data=data,
        )
    assert isinstance(obj, ApiToken)
    # no secret material in the log: which token, and whether it still works
    return ChangeLog(
        kind=EventKind.TOKEN,
        entity="token",
        entity_id=obj.id,
        origin=origin,
        data={"id": obj.id, "active": obj.revoked_at is None, "scope": obj.scope},
    )


def _jsonable(data: dict[str, Any] | None) -> dict[str, Any] | None:
    if data is None:
        return None
    return dict(json.loads(json.dumps(data, default=str)))


def _event(row: ChangeLog) -> ChangeEvent:
    data = dict(row.data or {})
    previous = data.pop(PREVIOUS, None) if row.entity == "file" else None
    if row.entity == "athlete" and data and "version" not in data:
        # logged before athletes had versions (migration 0030, which gave every athlete 1): a
        # client resuming /events from before the upgrade got athlete records without the
        # version the document requires
        data["version"] = row.version or 1
    return ChangeEvent(
        kind=row.kind,
        file_id=row.file_id,
        data=data,
        previous=previous,
        at=row.at if row.at is not None else utcnow(),
        change_id=row.id,
        origin=row.origin,
        entity_id=row.entity_id,
        version=row.version,
    )


def file_record(ev: ChangeEvent) -> FileRecord | None:
    """The FileRecord a file's event carries (`_log_row` wrote its `as_dict`, times in ISO
    8601), None for another kind, or for a record a version before today's wrote without one
    of the fields a FileRecord needs."""
    if ev.kind not in FILE_KINDS or not ev.data:
        return None
    values = {k: v for k, v in ev.data.items() if k in _RECORD_FIELDS}
    try:
        for key in RECORD_TIMES:
            if isinstance(values.get(key), str):
                values[key] = datetime.fromisoformat(values[key])
        return FileRecord(**values)
    except (TypeError, ValueError):
        return None


def record_event(db: Database, ev: ChangeEvent) -> None:
    """Writes an event that is not a row change (e.g. job progress) to the feed."""
    install(db)
    with db.write() as s:
        s.info.setdefault(_EXTRA, []).append(ev)


def since(db: Database, after_id: int, limit: int = BATCH) -> list[ChangeEvent]:
    """Changes after `after_id`, oldest first."""
    with db.read() as s:
        rows = s.scalars(
            select(ChangeLog).where(ChangeLog.id > after_id).order_by(ChangeLog.id).limit(limit)
        ).all()
        return [_event(r) for r in rows]


def last_change_of(db: Database, file_id: int) -> ChangeEvent | None:
    """The newest logged change of a file (who changed it last, and when)."""
    with db.read() as s:
        row = s.scalars(
            select(ChangeLog)
            .where(ChangeLog.file_id == file_id, ChangeLog.entity == "file")
            .order_by(ChangeLog.id.desc())
            .limit(1)
        ).first()
        return _event(row) if row is not None else None


def last_change_id(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.max(ChangeLog.id))) or 0)


def pruned_through(db: Database) -> int:
    """The highest change id removed by retention (a client behind it must reload)."""
    with db.read() as s:
        lease = s.get(CatalogLease, "change_log")
        return int((lease.info or {}).get("pruned_through", 0)) if lease is not None else 0


def prune(db: Database, days: int = RETENTION_DAYS, now: datetime | None = None) -> int:
    """Deletes change-log rows older than `days` (keeping the newest); returns how many."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    with db.write() as s:
        newest = s.scalar(select(func.max(ChangeLog.id))) or 0
        through = s.scalar(
            select(func.max(ChangeLog.id)).where(ChangeLog.at < cutoff, ChangeLog.id < newest)
        )
        if not through:
            return 0
        result = s.execute(delete(ChangeLog).where(ChangeLog.id <= through))
        removed = getattr(result, "rowcount", 0) or 0
        lease = s.get(CatalogLease, "change_log")
        if lease is None:
            s.add(CatalogLease(name="change_log", info={"pruned_through": int(through)}))
        else:
            s.execute(
                update(CatalogLease)
                .where(CatalogLease.name == "change_log")
                .values(info={**(lease.info or {}), "pruned_through": int(through)})
            )
        return int(removed)


def pg_conninfo(db: Database) -> str:
    """The libpq URL of the Database's PostgreSQL, for psycopg's own connections (listeners,
    advisory locks): schema_guard.libpq_url, the one home of that rule."""
    return schema_guard.libpq_url(db.engine.url)


class Feed:
    """The change feed of one Database, delivered to one EventBus; `start()` to hear others."""

    def __init__(self, db: Database, bus: EventBus) -> None:
        self.db = db
        self.bus = bus
        self.origin = install(db)
        self.postgres = db.engine.dialect.name == "postgresql"
        self.last_id = 0
        self.connected = False
        self.error: str | None = None
        self._synced = False
        self._ordered = Subscribers()
        self._wake = threading.Event()
        self._loop = SharedThread("mediadesk-feed", self._run)
        self._stop = self._loop.stopping
        db.mediadesk_commit_listeners.append(self._on_commit)  # type: ignore[attr-defined]
        bus.set_recorder(lambda ev: record_event(db, ev))

    # ---- subscribers ------------------------------------------------------------------------
    def subscribe_ordered(self, callback: Callable[[ChangeEvent], None]) -> Callable[[], None]:
        """Every change of every process, in change-id order (called in the feed thread)."""
        return self._ordered.add(callback)

    def since(self, after_id: int, limit: int = BATCH) -> list[ChangeEvent]:
        return since(self.db, after_id, limit)

    def newest_id(self) -> int:
        """The newest change id the catalog holds (read now, not the feed's last heard)."""
        return last_change_id(self.db)

    def status(self) -> dict[str, Any]:
        return {
            "mechanism": "listen/notify" if self.postgres else "polling",
            "running": self.running,
            "connected": self.connected,
            "last_change_id": self.last_id,
            "origin": self.origin,
            **({"error": self.error} if self.error else {}),
        }

    @property
    def running(self) -> bool:
        return self._loop.alive

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        """Starts hearing other processes (counted: each start() wants one stop())."""
        self._loop.start(prepare=self._catch_up)

    def _catch_up(self) -> None:
        self._synced = False
        try:
            self.last_id = last_change_id(self.db)
            self._synced = True
        except Exception as exc:  # an unmigrated or unreachable catalog: the thread retries
            self.error = type(exc).__name__
            if first_of_outage(exc, lambda: False):
                # it met the catalog's outage first: the episode's one ERROR line (the
                # thread's retries meet it known, as WARNINGs: the outage had no ERROR line)
                logger.error("Change feed not started: %s (%s)", exc, pg_words(exc) or exc)

    def stop(self, force: bool = False) -> None:
        if self._loop.stop(5, force, wake=self._wake.set):
            self.connected = False

    # ---- delivery ---------------------------------------------------------------------------
    def _on_commit(self, events: list[ChangeEvent]) -> None:
        for ev in events:
            self.bus.deliver(ev)
        self._wake.set()

    def _dispatch(self, ev: ChangeEvent) -> None:
        if ev.origin != self.origin:
            self.bus.deliver(ev)
        for callback in self._ordered.snapshot():
            try:
                callback(ev)
            except Exception:
                logger.exception("An ordered change-feed subscriber failed")

    def catch_up(self) -> int:
        """Delivers every change after the last one seen; returns how many."""
        self.db.schema.look()  # every few seconds: a newer version migrated the catalog?
        if not self._synced:  # history from before this process started is not news
            self.last_id = last_change_id(self.db)
            self._synced = True
        count = 0
        while True:
            batch = since(self.db, self.last_id)
            for ev in batch:
                self._dispatch(ev)
                self.last_id = ev.change_id or self.last_id
            count += len(batch)
            if len(batch) < BATCH:
                return count

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.postgres:
                    self._listen()
                else:
                    self.catch_up()
                    self.connected, self.error = True, None
                    self._wake.wait(POLL_SECONDS)
                    self._wake.clear()
            except Exception as exc:
                # PostgreSQL's words, which a session's storage_unavailable keeps as its cause
                words = pg_words(exc)
                said = f"{exc}: {words}" if words and words not in str(exc) else str(exc)
                # the catalog outage's first failure of the process: its one ERROR line
                if first_of_outage(exc, self.db.outage.first_failure):
                    logger.error("Change feed interrupted (%s); retrying", said)
                elif self.connected or self.error != type(exc).__name__:
                    logger.warning("Change feed interrupted (%s); retrying", said)
                self.connected, self.error = False, type(exc).__name__
                self._stop.wait(RECONNECT_SECONDS)

    def _listen(self) -> None:
        import psycopg

        with psycopg.connect(pg_conninfo(self.db), autocommit=True, connect_timeout=5) as conn:
            conn.execute(f"LISTEN {CHANNEL}")
            if self.db.announced:  # this process runs here: an upgrade refuses meanwhile
                conn.execute(
                    "SELECT pg_advisory_lock_shared(%s, %s)",
                    (schema_guard.PRESENCE_CLASS, schema_guard.PRESENCE_KEY),
                )
            self.catch_up()  # what was missed while not listening
            self.connected, self.error = True, None
            last_look = time.monotonic()
            while not self._stop.is_set():
                heard = False
                for _ in conn.notifies(timeout=0.1, stop_after=1):
                    heard = True
                if heard:
                    with contextlib.suppress(Exception):  # drain what else is queued
                        for _ in conn.notifies(timeout=0.0):
                            pass
                now = time.monotonic()
                if heard or self._wake.is_set() or now - last_look > PG_SAFETY_POLL:
                    self._wake.clear()
                    self.catch_up()
                    last_look = now
                    if not heard:
                        conn.execute("SELECT 1")  # a dead connection shows here, not in notifies
