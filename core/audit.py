"""The audit log of accesses to private files: who, what, when and from where."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select

from core.db.engine import Database
from core.db.models import AuditEntry, utcnow
from core.errors import InvalidInput
from core.records import from_columns
from core.text import storable

MAX_LIMIT = 1000
MAX_DETAIL = 1000  # details come from request headers (Range): bounded and storable
# Entries a pruning transaction deletes: a first prune of a million entries is 200 short
# transactions, so SQLite's write lock (every other writer waits on it) and a PostgreSQL
# transaction (its WAL, its row locks) stay small; the requests' own entries go in between.
PRUNE_BATCH = 5000


@dataclass(frozen=True)
class AuditRecord:
    """One audit entry; `id` is 0 until it is written."""

    actor: str
    action: str
    file_id: int | None = None
    remote: str | None = None
    detail: str | None = None
    at: datetime = field(default_factory=utcnow)
    id: int = 0

    @classmethod
    def from_row(cls, row: AuditEntry) -> AuditRecord:
        return from_columns(cls, row)

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "file_id": self.file_id,
            "remote": self.remote,
            "detail": self.detail,
        }


class AuditLog:
    """Writes and reads audit entries of one catalog database."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(
        self,
        actor: str,
        action: str,
        file_id: int | None = None,
        remote: str | None = None,
        detail: str | None = None,
    ) -> None:
        self.record_many([AuditRecord(actor, action, file_id, remote, detail)])

    def record_many(self, entries: Iterable[AuditRecord], wait: float | None = None) -> int:
        """Writes entries in one transaction; returns how many. `wait`: as Database.write's."""
        rows = [
            AuditEntry(
                at=e.at,
                actor=storable(e.actor)[:120],
                action=storable(e.action)[:40],
                file_id=e.file_id,
                remote=storable(e.remote)[:64] if e.remote else None,
                detail=storable(e.detail)[:MAX_DETAIL] if e.detail is not None else None,
            )
            for e in entries
        ]
        if rows:
            with self.db.write(wait) as s:
                s.add_all(rows)
        return len(rows)

    def prune(self, before: datetime, batch: int = PRUNE_BATCH) -> Iterator[int]:
        """Deletes the entries dated before `before`, oldest first, `batch` of them a
        transaction; yields each transaction's count once committed (a run stopped by a failing
        batch still counts those done). Found by the index on `at`, on both engines."""
        while True:
            oldest = (
                select(AuditEntry.id)
                .where(AuditEntry.at < before)
                .order_by(AuditEntry.at)
                .limit(batch)
            )
            with self.db.write() as s:
                result = s.execute(
                    delete(AuditEntry).where(AuditEntry.id.in_(oldest)),
                    execution_options={"synchronize_session": False},
                )
                removed = int(getattr(result, "rowcount", 0) or 0)
            if removed:
                yield removed
            if removed < batch:
                return

    def query(
        self,
        *,
        file_id: int | None = None,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[AuditRecord], int]:
        """Newest first; (entries, total matching)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
        if offset < 0:
            raise InvalidInput("offset cannot be negative")
        conditions = []
        if file_id is not None:
            conditions.append(AuditEntry.file_id == file_id)
        if actor:
            conditions.append(AuditEntry.actor == actor)
        if action:
            conditions.append(AuditEntry.action == action)
        if since is not None:
            conditions.append(AuditEntry.at >= since)
        with self.db.read() as s:
            total = s.scalar(select(func.count(AuditEntry.id)).where(*conditions)) or 0
            rows = s.scalars(
                select(AuditEntry)
                .where(*conditions)
                .order_by(AuditEntry.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [AuditRecord.from_row(r) for r in rows], int(total)
