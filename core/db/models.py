"""Typed SQLAlchemy 2 models of the catalog: athletes, media files, API tokens, audit entries."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    event,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from core.metadata import capture_instant
from core.natsort import NAME_SORT_MAX, name_sort_key
from core.text import search_fold


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every database (SQLite stores naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    pass


# the columns the sort orders go by (core.listing.Sort; names by their natural key, name_sort)
SORT_KEYS = ("created_at", "name_sort", "size", "duration", "updated_at", "captured_at")


def _where(condition: str) -> dict[str, Any]:
    """A partial index's condition on both engines."""
    return {"sqlite_where": text(condition), "postgresql_where": text(condition)}


class Athlete(Base):
    __tablename__ = "athletes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # core.text.search_fold(name), kept by the ORM events below: what a search compares (0023)
    search_name: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # one more with each rename (migration 0030): what a rename's If-Match or `version` names,
    # so a rename made meanwhile elsewhere is refused, not overwritten (Catalog.rename_athlete)
    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")

    files: Mapped[list[MediaFile]] = relationship(back_populates="athlete")


class MediaFile(Base):
    __tablename__ = "media_files"
    __table_args__ = (
        Index("ix_media_files_listing", "deleted_at", "status", "created_at"),
        Index("ix_media_files_sha256", "sha256"),
        # Not redundant with the athlete_by_* indexes below, though they start with athlete_id:
        # SQLite plans without statistics, and an athlete's page in id order (the NULL sizes or
        # durations of a status=any listing) walks this one; without it, ix_media_files_alias_of
        # before 0028 made it partial, i.e. the whole catalog (an athlete of 10 files among
        # 200,000: 400 → 1.4M VM steps)
        Index("ix_media_files_athlete", "athlete_id"),
        # one per sort key (migration 0007; names by name_sort, 0015 dropped original_filename's)
        *(
            Index(f"ix_media_files_by_{key}", "deleted_at", "status", key, "id")
            for key in ("created_at", "size", "duration", "updated_at", "captured_at")
        ),
        # sort=original_filename walks this one (migration 0008): natural order
        Index("ix_media_files_by_name_sort", "deleted_at", "status", "name_sort", "id"),
        # the same within one athlete (migration 0011): ?athlete_id= and athlete-name searches
        *(
            Index(
                f"ix_media_files_athlete_by_{key}", "athlete_id", "deleted_at", "status", key, "id"
            )
            for key in SORT_KEYS
        ),
        # the Trash's pages (migration 0028): a trashed row's deleted_at is a range in the
        # indexes above, which give no key's order there; these hold the trashed rows alone,
        # found by the `deleted_at IS NOT NULL` every trash listing says
        *(
            Index(f"ix_media_files_trash_by_{key}", key, "id", **_where("deleted_at IS NOT NULL"))
            for key in SORT_KEYS
        ),
        # the aliases only (0028): `alias_of IS NULL`, every other file, cannot take it (SQLite,
        # planning without statistics, read the whole catalog through it for the Trash)
        Index("ix_media_files_alias_of", "alias_of", **_where("alias_of IS NOT NULL")),
        # an id is never handed out again (migration 0016): signed links and jobs name files by id
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Not unique (migration 0010): the same bytes for another athlete or other flags are a file
    # of their own referencing the same object; the object stays while any row references it.
    storage_key: Mapped[str] = mapped_column(String(512), index=True)
    # "local" | "r2": where the bytes are (migration 0002); set on insert by Library
    storage_backend: Mapped[str | None] = mapped_column(String(10))
    original_filename: Mapped[str] = mapped_column(String(255))
    # core.natsort.name_sort_key(original_filename), kept by the ORM events below; byte order
    # ("C" collation on PostgreSQL) so the database orders it exactly as Python does
    name_sort: Mapped[str] = mapped_column(
        String(NAME_SORT_MAX).with_variant(String(NAME_SORT_MAX, collation="C"), "postgresql"),
        default="",
        server_default="",
    )
    # core.text.search_fold() of the name and of the description, kept by the ORM events below:
    # what a search compares (migration 0023: the FTS table and pg_trgm indexes hold these).
    # Text: a fold may be longer than its original ("ß" → "ss").
    search_name: Mapped[str] = mapped_column(Text, default="", server_default="")
    search_description: Mapped[str] = mapped_column(Text, default="", server_default="")
    content_type: Mapped[str | None] = mapped_column(String(100))
    file_type: Mapped[str] = mapped_column(String(10))  # image | video
    size: Mapped[int | None] = mapped_column(BigInteger)
    declared_size: Mapped[int | None] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64))
    width: Mapped[int | None] = mapped_column(Integer)
    height: Mapped[int | None] = mapped_column(Integer)
    duration: Mapped[float | None] = mapped_column(Float)
    video_codec: Mapped[str | None] = mapped_column(String(50))
    audio_codec: Mapped[str | None] = mapped_column(String(50))
    frame_rate: Mapped[float | None] = mapped_column(Float)
    bit_rate: Mapped[int | None] = mapped_column(BigInteger)
    rotation: Mapped[int | None] = mapped_column(Integer)
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    athlete_id: Mapped[int | None] = mapped_column(
        ForeignKey("athletes.id", ondelete="SET NULL"), nullable=True
    )
    is_public: Mapped[bool] = mapped_column(Boolean, default=False)
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending|ready|failed
    failure_reason: Mapped[str | None] = mapped_column(Text)
    has_thumbnail: Mapped[bool] = mapped_column(Boolean, default=False)
    # core.thumbnails.THUMBNAIL_GENERATION the thumbnail and variants at this storage key were
    # made with (migration 0025); null: before generations were counted. Maintenance makes
    # older ones again (core/thumbnail_remake.py).
    thumbnail_generation: Mapped[int | None] = mapped_column(Integer)
    # How many times they were made again at that rendering (a reprocess, a lost or damaged
    # thumbnail; migration 0027), so the content tag is new each time; null: not since they
    # were made at it (core/thumbnail_remake.py)
    thumbnail_remade: Mapped[int | None] = mapped_column(Integer)
    upload_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When it was shot, the "Date taken" order (migration 0026): core.metadata.capture_instant
    # of extra's taken_at, else created_at, so every row sorts; kept by the ORM events below.
    # Nullable in the table only because SQLite adds a NOT NULL column by copying the table.
    captured_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Set (migration 0024) by a conditional write while the file is in the trash, before any
    # byte of it is deleted for good: a restore on any server refuses it from then on
    # (core.library.Library._claim_for_deletion).
    purging_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    # An id handed out for a duplicate upload: it keeps answering as another name of this file
    # (indexed in __table_args__: the aliases only)
    alias_of: Mapped[int | None] = mapped_column(Integer)

    athlete: Mapped[Athlete | None] = relationship(back_populates="files")

    __mapper_args__ = {"version_id_col": version}


@event.listens_for(MediaFile, "before_insert")
@event.listens_for(MediaFile, "before_update")
def _keep_name_keys(_mapper: Any, _connection: Any, row: MediaFile) -> None:
    # every ORM write of a name, description or metadata refreshes its keys, so ingest, edits,
    # renames and reprocessing need not know about them (an unchanged value is not written again)
    row.name_sort = name_sort_key(row.original_filename or "")
    row.search_name = search_fold(row.original_filename or "")
    row.search_description = search_fold(row.description or "")
    # a reprocess that reads another capture date moves the file in the "Date taken" order
    if row.created_at is None:  # the column's default comes after this event
        row.created_at = utcnow()
    extra = row.extra if isinstance(row.extra, dict) else {}  # a damaged row still saves
    row.captured_at = capture_instant(extra.get("taken_at")) or row.created_at


@event.listens_for(Athlete, "before_insert")
@event.listens_for(Athlete, "before_update")
def _keep_athlete_fold(_mapper: Any, _connection: Any, row: Athlete) -> None:
    row.search_name = search_fold(row.name or "")


class FileCount(Base):
    """How many media_files rows share these listing filters, and their bytes; kept by triggers
    (migrations 0012, 0014) in the row's own transaction, so a total without a text search
    never counts rows, nor /usage sums them."""

    __tablename__ = "file_counts"

    athlete_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # 0: no athlete
    file_type: Mapped[str] = mapped_column(String(10), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(100), primary_key=True)  # '': not known
    is_public: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    status: Mapped[str] = mapped_column(String(10), primary_key=True)
    trashed: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    alias: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")  # 0014


class UsageDay(Base):
    """One row a day: what the catalog and the store held (the Storage view's history)."""

    __tablename__ = "usage_history"

    day: Mapped[str] = mapped_column(String(10), primary_key=True)  # YYYY-MM-DD, UTC
    files: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    image_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    video_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    store_objects: Mapped[int | None] = mapped_column(BigInteger)
    store_bytes: Mapped[int | None] = mapped_column(BigInteger)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Job(Base):
    """One processing job of a file (faststart, web, hls, thumbnails); see core/jobs.py."""

    __tablename__ = "jobs"
    __table_args__ = (
        Index("ix_jobs_claim", "state", "run_after", "id"),
        Index("ix_jobs_file", "file_id", "kind"),
        # an id is never handed out again (migration 0018): the desktop and scripts act by id
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    file_id: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12))  # queued|running|done|skipped|failed|cancelled
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=3)
    error: Mapped[str | None] = mapped_column(Text)
    # the stable code of `error` (core.jobs.FAILURE_REASONS; migration 0017)
    error_code: Mapped[str | None] = mapped_column(String(32))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cancel_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    scope: Mapped[str] = mapped_column(String(10))  # read | upload | admin
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DeferredDeletion(Base):
    """An object to delete once no reader can still be using it (see Library.update_file)."""

    __tablename__ = "deferred_deletions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    storage_key: Mapped[str] = mapped_column(String(512), index=True)
    is_prefix: Mapped[bool] = mapped_column(Boolean, default=False)
    backend: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(String(40), default="move")
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # An S3 multipart upload to abort rather than an object to delete (reason
    # "multipart_upload", migration 0031): a failed upload's, at `storage_key`
    upload_id: Mapped[str | None] = mapped_column(String(1024))


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(120))  # token name/prefix, "signed-url", "app"
    action: Mapped[str] = mapped_column(String(40))
    file_id: Mapped[int | None] = mapped_column(Integer, index=True)
    remote: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str | None] = mapped_column(Text)


class ResumableUpload(Base):
    """A tus upload or a presigned multipart upload in progress (see core/resumable.py)."""

    __tablename__ = "resumable_uploads"
    __table_args__ = (
        Index("ix_resumable_uploads_expires", "expires_at"),
        Index("ix_resumable_uploads_file", "file_id"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, names the URL
    protocol: Mapped[str] = mapped_column(String(10))  # tus | multipart
    state: Mapped[str] = mapped_column(String(10), default="receiving")  # receiving|done|failed
    length: Mapped[int] = mapped_column(BigInteger)
    received: Mapped[int] = mapped_column(BigInteger, default=0)  # the tus offset
    meta: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # S3/R2 multipart: the object key, the store's upload id, equal part size, parts done
    object_key: Mapped[str | None] = mapped_column(String(512))
    s3_upload_id: Mapped[str | None] = mapped_column(String(1024))
    part_size: Mapped[int] = mapped_column(BigInteger, default=0)
    parts: Mapped[list[Any]] = mapped_column(JSON, default=list)
    file_id: Mapped[int | None] = mapped_column(Integer)  # the catalogued (or pending) file
    failure: Mapped[str | None] = mapped_column(Text)
    owner: Mapped[str | None] = mapped_column(String(120))
    # The writer holding the upload (host:pid:instance) until lease_until, across processes
    lease_owner: Mapped[str | None] = mapped_column(String(200))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The data folder (host:folder digest) whose buffer holds the tus bytes past the parts in
    # the bucket (migration 0020); null: written before it, taken as any folder's own
    buffer_at: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ChangeLog(Base):
    """One catalog change, written in the transaction that made it (see core/feed.py)."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_at", "at"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(20))  # file | athlete | token | job | event
    entity_id: Mapped[int | None] = mapped_column(Integer)
    file_id: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int | None] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(80))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    data: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class CatalogLease(Base):
    """Catalog-wide singletons: the maintenance lease (SQLite) and when maintenance last ran."""

    __tablename__ = "catalog_leases"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    holder: Mapped[str | None] = mapped_column(String(80))
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_by: Mapped[str | None] = mapped_column(String(80))
    info: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class UrlSigningKey(Base):
    """The key signing stream/watch links, one for every process sharing a PostgreSQL catalog
    (migration 0009, core/url_keys.py). Never logged; a SQLite catalog keeps it in a file."""

    __tablename__ = "url_signing_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
