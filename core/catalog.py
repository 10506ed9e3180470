"""Catalog queries over the database: files, athletes and counts, returned as records."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Select, func, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, selectinload

from core.db.engine import Database
from core.db.models import Athlete, MediaFile
from core.errors import Conflict, InvalidInput, NotFound
from core.records import SORTS, AthleteRecord, FileQuery, FileRecord, Page

MAX_LIMIT = 1000


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Catalog:
    """Reads and writes catalog rows; every method opens its own short transaction."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- files ------------------------------------------------------------------------------
    def get(self, file_id: int, include_trashed: bool = True) -> FileRecord:
        with self.db.read() as s:
            row = s.get(MediaFile, file_id, options=[joinedload(MediaFile.athlete)])
            if row is None or (row.deleted_at is not None and not include_trashed):
                raise NotFound(f"File {file_id} not found")
            return FileRecord.from_row(row)

    def query(self, q: FileQuery) -> Page:
        if q.sort not in SORTS:
            raise InvalidInput(f"sort must be one of {', '.join(sorted(SORTS))}")
        if not 1 <= q.limit <= MAX_LIMIT:
            raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}")
        if q.offset < 0:
            raise InvalidInput("offset cannot be negative")
        stmt = self._filtered(select(MediaFile), q)
        count = self._filtered(select(func.count(MediaFile.id)), q)
        column = getattr(MediaFile, q.sort.lstrip("-"))
        order = column.desc() if q.sort.startswith("-") else column.asc()
        id_order = MediaFile.id.desc() if q.sort.startswith("-") else MediaFile.id.asc()
        if column.nullable:  # images have no duration: keep them after the videos either way
            order = order.nulls_last()
        # (NULLS LAST on a NOT NULL column would stop SQLite from walking the listing index)
        stmt = stmt.order_by(order, id_order).limit(q.limit).offset(q.offset)
        with self.db.read() as s:
            total = s.scalar(count) or 0
            # selectinload, not a JOIN: SQLite would join every row skipped by OFFSET
            rows = s.scalars(stmt.options(selectinload(MediaFile.athlete))).all()
            return Page([FileRecord.from_row(r) for r in rows], total, q.limit, q.offset)

    @staticmethod
    def _filtered(stmt: Select[Any], q: FileQuery) -> Select[Any]:
        if q.trashed:
            stmt = stmt.where(MediaFile.deleted_at.is_not(None))
        else:
            stmt = stmt.where(MediaFile.deleted_at.is_(None))
        if q.status:
            stmt = stmt.where(MediaFile.status == q.status)
        if q.athlete_id is not None:
            stmt = stmt.where(MediaFile.athlete_id == q.athlete_id)
        if q.file_type:
            if q.file_type not in ("image", "video"):
                raise InvalidInput("file_type must be 'image' or 'video'")
            stmt = stmt.where(MediaFile.file_type == q.file_type)
        if q.is_public is not None:
            stmt = stmt.where(MediaFile.is_public == q.is_public)
        if q.q.strip():
            pattern = _like(q.q.strip())
            stmt = stmt.where(
                or_(
                    MediaFile.original_filename.ilike(pattern, escape="\\"),
                    MediaFile.description.ilike(pattern, escape="\\"),
                )
            )
        return stmt

    def find_ready_by_sha(self, sha256: str) -> FileRecord | None:
        with self.db.read() as s:
            row = s.scalars(
                select(MediaFile)
                .options(joinedload(MediaFile.athlete))
                .where(
                    MediaFile.sha256 == sha256,
                    MediaFile.status == "ready",
                    MediaFile.deleted_at.is_(None),
                )
                .order_by(MediaFile.id)
                .limit(1)
            ).first()
            return FileRecord.from_row(row) if row else None

    def find_by_key(self, storage_key: str) -> FileRecord | None:
        """The file stored under a key (any status, trashed too), or None."""
        with self.db.read() as s:
            row = s.scalars(
                select(MediaFile)
                .options(joinedload(MediaFile.athlete))
                .where(MediaFile.storage_key == storage_key)
            ).first()
            return FileRecord.from_row(row) if row else None

    def counts(self) -> dict[str, int]:
        with self.db.read() as s:
            live = MediaFile.deleted_at.is_(None) & (MediaFile.status == "ready")
            rows = s.execute(
                select(MediaFile.file_type, MediaFile.is_public, func.count())
                .where(live)
                .group_by(MediaFile.file_type, MediaFile.is_public)
            )
            out = {"all": 0, "image": 0, "video": 0, "public": 0, "trash": 0, "bytes": 0}
            for file_type, is_public, n in rows:
                out["all"] += n
                out[file_type] = out.get(file_type, 0) + n
                if is_public:
                    out["public"] += n
            out["trash"] = (
                s.scalar(select(func.count()).where(MediaFile.deleted_at.is_not(None))) or 0
            )
            out["bytes"] = int(
                s.scalar(select(func.coalesce(func.sum(MediaFile.size), 0)).where(live)) or 0
            )
            return out

    # ---- athletes ---------------------------------------------------------------------------
    def athletes(self) -> list[AthleteRecord]:
        with self.db.read() as s:
            counts = dict(
                s.execute(
                    select(MediaFile.athlete_id, func.count())
                    .where(MediaFile.deleted_at.is_(None), MediaFile.status == "ready")
                    .group_by(MediaFile.athlete_id)
                ).all()
            )
            rows = s.scalars(select(Athlete).order_by(Athlete.name)).all()
            return [AthleteRecord.from_row(a, counts.get(a.id, 0)) for a in rows]

    def get_athlete(self, athlete_id: int) -> AthleteRecord:
        with self.db.read() as s:
            row = s.get(Athlete, athlete_id)
            if row is None:
                raise NotFound(f"Athlete {athlete_id} not found")
            return AthleteRecord.from_row(row)

    def create_athlete(self, name: str, athlete_id: int | None = None) -> AthleteRecord:
        name = _clean_name(name)
        try:
            with self.db.write() as s:
                row = (
                    Athlete(name=name) if athlete_id is None else Athlete(id=athlete_id, name=name)
                )
                s.add(row)
                s.flush()
                if athlete_id is not None:
                    _advance_sequence(s)
                return AthleteRecord.from_row(row)
        except IntegrityError:
            raise Conflict(f"An athlete named {name!r} or id already exists") from None

    def rename_athlete(self, athlete_id: int, name: str) -> AthleteRecord:
        name = _clean_name(name)
        try:
            with self.db.write() as s:
                row = s.get(Athlete, athlete_id)
                if row is None:
                    raise NotFound(f"Athlete {athlete_id} not found")
                row.name = name
                s.flush()
                return AthleteRecord.from_row(row)
        except IntegrityError:
            raise Conflict(f"An athlete named {name!r} already exists") from None

    @staticmethod
    def ensure_athlete(s: Session, athlete_id: int | None) -> None:
        """Creates a placeholder athlete for an id coming from another system (the seed's)."""
        if athlete_id is None:
            return
        if athlete_id <= 0:
            raise InvalidInput("athlete_id must be a positive integer")
        if s.get(Athlete, athlete_id) is None:
            name = f"Athlete {athlete_id}"
            if s.scalar(select(Athlete.id).where(Athlete.name == name)) is not None:
                name = f"Athlete {athlete_id} (#{athlete_id})"
            s.add(Athlete(id=athlete_id, name=name))
            s.flush()
            _advance_sequence(s)


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
    clean = " ".join((name or "").split())
    if not clean or len(clean) > 200:
        raise InvalidInput("An athlete name needs 1 to 200 characters")
    return clean
