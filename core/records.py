"""Plain, detached views of catalog rows that cross threads and serialise to JSON."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from operator import itemgetter
from typing import Any, TypeVar

from core.db.models import Athlete, MediaFile

# their one home is core.listing (light enough for scripts); re-exported here as before
from core.listing import ANY_STATUS as ANY_STATUS
from core.listing import MAX_ID as MAX_ID
from core.listing import MAX_LIMIT as MAX_LIMIT
from core.listing import SORTS as SORTS
from core.listing import STATUS_FILTERS as STATUS_FILTERS
from core.listing import FileStatus as FileStatus
from core.listing import Sort as Sort
from core.metadata import taken_at_iso, upright_size

R = TypeVar("R")


def iso(value: datetime | None) -> str | None:
    """A record's time as JSON has it (ISO 8601), None kept."""
    return value.isoformat() if value is not None else None


def expiry_iso(value: datetime) -> str:
    """An `expires_at` as the API answers it (presigned URLs, renewals, watch links, tus):
    UTC, whole seconds, +00:00. Cut down, never rounded up: a signature made with a lifetime
    of n seconds ends n seconds after its whole-second signing time (X-Amz-Date, local
    `expires`), so the answer never names a moment after the URL stopped working."""
    if value.tzinfo is None:  # the catalog's times are UTC
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).replace(microsecond=0).isoformat()


# FileRecord's times, datetimes in the record and ISO 8601 in its JSON (as_dict)
RECORD_TIMES = ("created_at", "updated_at", "deleted_at", "captured_at")

# The token that presigned a pending upload ("token:<id>"), kept in its row's `extra` while
# it is pending (core/ingest.py writes and drops it; core/resumable.py check_presign_owner
# reads it): only that token may confirm, renew or list the upload. Never part of a record,
# so that no answer, feed event or export tells one token which token uploaded what.
UPLOAD_OWNER = "upload_owner"
# The client's key of the presign that made a pending upload (its idempotency_key), kept
# beside UPLOAD_OWNER and dropped with it: a presign sent again with it (its answer lost on
# the way) is answered with this upload instead of a second one (Ingestor.presigned_again).
PRESIGN_KEY = "presign_key"
MAX_PRESIGN_KEY = 200


def shown_extra(stored: dict[str, Any] | None) -> dict[str, Any]:
    """A row's `extra` as a record carries it: a copy of its own, the upload's owner left out."""
    extra = dict(stored or {})
    extra.pop(UPLOAD_OWNER, None)
    extra.pop(PRESIGN_KEY, None)
    return extra


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELD_NAMES.get(cls)
    if names is None:  # a race only computes the same tuple twice
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return names


def from_columns(cls: type[R], row: object, **computed: Any) -> R:
    """A record of an ORM row: each field not in `computed` is the row's attribute of that name."""
    values = {n: getattr(row, n) for n in _field_names(cls) if n not in computed}
    return cls(**values, **computed)


@dataclass(frozen=True)
class FileRecord:
    id: int
    storage_key: str
    original_filename: str
    content_type: str | None
    file_type: str
    size: int | None
    sha256: str | None
    width: int | None
    height: int | None
    duration: float | None
    video_codec: str | None
    audio_codec: str | None
    frame_rate: float | None
    bit_rate: int | None
    rotation: int | None
    extra: dict[str, Any]
    athlete_id: int | None
    athlete_name: str | None
    is_public: bool
    description: str
    status: str
    failure_reason: str | None
    has_thumbnail: bool
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None
    version: int
    duplicate: bool = False
    # Set when this id is an alias: the file it names (its id is the one handed out)
    duplicate_of: int | None = None
    # The rendering its thumbnail and variants were made with (core.thumbnails.
    # THUMBNAIL_GENERATION); None: before generations were counted
    thumbnail_generation: int | None = None
    # When it was shot, in UTC (a photo without its zone: the camera's wall time), else when
    # it was catalogued: sort=captured_at's key (core.metadata.capture_instant). None: a
    # record from a server of a version before it (its JSON has no such field)
    captured_at: datetime | None = None
    # How many times the thumbnail and variants were made again at `thumbnail_generation` (a
    # reprocess, a lost or damaged thumbnail); None: not since they were made at it
    thumbnail_remade: int | None = None

    @property
    def is_trashed(self) -> bool:
        return self.deleted_at is not None

    @property
    def display_size(self) -> tuple[int, int] | None:
        """(width, height) as the file is shown, after its rotation."""
        return upright_size(self.width, self.height, self.rotation)

    @property
    def content_tag(self) -> str | None:
        """`?v=` of the links to this file's bytes and images, and the thumbnail's ETag: it
        changes only with the bytes or with the images made of them again (by a new
        rendering, core.thumbnails.THUMBNAIL_GENERATION, or by the same one: a reprocess
        replaces images that may have been bad), so a link that carries it may be cached for
        good (a link without it only briefly). Files whose images were made before
        generations were counted keep the tag they always had, and so do files not made
        again since their rendering's (no count)."""
        if not self.sha256:
            return None
        generation, remade = self.thumbnail_generation, self.thumbnail_remade
        if generation is None:
            return self.sha256[:16]
        return f"{self.sha256[:16]}-{generation}" + (f".{remade}" if remade else "")

    @classmethod
    def from_row(
        cls, row: MediaFile, athlete_name: str | None = None, duplicate: bool = False
    ) -> FileRecord:
        if athlete_name is None and row.athlete is not None:
            athlete_name = row.athlete.name
        return from_columns(
            cls,
            row,
            extra=shown_extra(row.extra),
            athlete_name=athlete_name,
            description=row.description or "",
            duplicate=duplicate,
            duplicate_of=None,
        )

    @classmethod
    def from_mapping(cls, row: Any, athlete_name: str | None) -> FileRecord:
        """From a Core row of media_files (a catalog page: no ORM objects to build).

        The fields go straight into the new instance's dict: the frozen dataclass's __init__
        sets each through object.__setattr__, which took half of a 50-row page's records."""
        values = dict(zip(_FIELD_ORDER, _PAGE_VALUES(row), strict=True))
        values.update(
            extra=shown_extra(values["extra"]),
            description=values["description"] or "",
            athlete_name=athlete_name,
            duplicate=False,
            duplicate_of=None,
        )
        record = object.__new__(cls)
        record.__dict__.update(values)
        return record

    def with_duplicate(self) -> FileRecord:
        return FileRecord(**{**asdict(self), "duplicate": True, "duplicate_of": self.id})

    def as_alias(self, alias_id: int) -> FileRecord:
        """This file seen through another id handed out for the same bytes."""
        return FileRecord(
            **{**asdict(self), "id": alias_id, "duplicate": True, "duplicate_of": self.id}
        )

    def as_dict(self) -> dict[str, Any]:
        # a shallow copy of the instance's dict (its fields, in their order), not
        # dataclasses.asdict: its deep copy of every value cost ~0.4 ms a record, most of a
        # catalog page's time; only `extra` is mutable, and it gets a copy of its own
        out = dict(self.__dict__)
        out["extra"] = extra = dict(self.extra)
        if "taken_at" in extra:  # rows catalogued before it was ISO 8601 keep EXIF's form
            taken = taken_at_iso(extra["taken_at"])
            if taken is None:  # no date is no key, as for a photo that has none
                del extra["taken_at"]
            else:
                extra["taken_at"] = taken
        for key in RECORD_TIMES:
            out[key] = iso(out[key])
        out["file_key"] = self.storage_key
        out["is_trashed"] = self.is_trashed
        return out


_FIELD_ORDER = tuple(f.name for f in fields(FileRecord))
# a page row's values in field order; the athlete's name and the alias fields are not
# columns ("id" stands in for them: from_mapping sets them)
_PAGE_VALUES = itemgetter(*(n if n in MediaFile.__table__.c else "id" for n in _FIELD_ORDER))


@dataclass(frozen=True)
class AthleteRecord:
    id: int
    name: str
    file_count: int = 0
    # their files in the trash: an athlete whose files were all trashed is not one without any
    trash_count: int = 0
    # one more with each rename: what a rename names to refuse one made meanwhile elsewhere
    version: int = 1

    @classmethod
    def from_row(cls, row: Athlete, file_count: int = 0, trash_count: int = 0) -> AthleteRecord:
        return cls(
            id=row.id,
            name=row.name,
            file_count=file_count,
            trash_count=trash_count,
            version=row.version,
        )

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class BulkOutcome:
    """What an action on many files did: the ids it changed, in the order asked, and the
    reason each other id was left (already in the trash, not found...)."""

    done: tuple[int, ...]
    failed: tuple[tuple[int, Exception], ...]


@dataclass(frozen=True)
class Page:
    items: list[FileRecord]
    total: int
    limit: int
    offset: int
    next_cursor: str | None = None  # keyset position after the last item; None at the end


MAX_DESCRIPTION = 10000  # characters of a file's description
MAX_ATHLETE_NAME = 200  # characters of an athlete's name


@dataclass(frozen=True)
class FileQuery:
    athlete_id: int | None = None
    file_type: str | None = None
    is_public: bool | None = None
    status: str | None = FileStatus.READY  # None = any status
    trashed: bool = False
    q: str = ""
    sort: str = Sort.NEWEST
    limit: int = 50
    offset: int = 0
    cursor: str | None = None  # from Page.next_cursor; replaces offset for deep pages
    content_type: str | None = None  # canonical or the seed's spelling (video/avi, ...)
    # the rows before `cursor` (or the last ones), nearest first: Page.next_cursor goes on
    # backwards (the desktop's End key; core.catalog.Catalog.query)
    backwards: bool = False
