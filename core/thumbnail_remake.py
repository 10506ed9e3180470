"""Thumbnails (photos' and videos' posters) and photos' ?w= variants made again when the
rendering changed.

They are stored once and served for good, so a fix to how they are made (an iPhone's Display
P3 converted to sRGB, a 16-bit grey PNG that was a white tile; a video's poster deinterlaced,
its BT.2020 converted, its matrix read as the renditions') never reached the files uploaded
before it. Each row records the rendering its images were made with
(media_files.thumbnail_generation, `rendering`); a photo whose generation is older than
core.thumbnails.THUMBNAIL_GENERATION has them made again here: by maintenance, a batch per
run (the leader's, in team mode), and at once by `mediadesk reprocess --photos` or ids and
by POST /files/{id}/reprocess (`remake`, whatever the photo's generation). A video's poster
(core.thumbnails.POSTER_GENERATION) is made again by its thumbnails job
(core/video/worker.py), which has the original at hand, when the row's is older (`behind`):
a reprocess of the video queues that job; maintenance never does, nor does the reprocess's
request (a whole video to fetch each). The job's poster is stored here (`keep_poster`), by
the same path as a remade photo's thumbnail.

A remade thumbnail writes the row (thumbnail_generation, or thumbnail_remade when made
again by the rendering it had, and so its version): the file's content tag changes with it
(records.FileRecord.content_tag), so the links that carry it, the thumbnail's ETag and the
local cache's name (core/thumbnail_cache.py) are new, and nothing cached for good under the
old ones is served as the new images. A photo that could not be decoded keeps its images,
and its tag.

With the original at hand, its metadata is read again by today's readers too
(core.metadata.read_again): a file catalogued by an older version otherwise kept that
version's reading for good (a photo's EXIF date without its offset, so sorted in the
machine's zone; a date or size an older reader got wrong). A remake writes what changed with
its marks, a video's thumbnails job with its poster (`keep_poster`) or alone
(`keep_metadata`), and `reread` reads a photo whose images are today's. Only the readers'
fields are written (core.metadata.READ_COLUMNS, READ_EXTRA_KEYS), never what a person edits,
and a row whose metadata did not change keeps its version.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import or_, select

from core import keys
from core.catalog import Catalog
from core.db.engine import Database
from core.db.models import MediaFile
from core.deferred import backend_of_file
from core.errors import (
    Conflict,
    CorruptFile,
    InsufficientStorage,
    InvalidInput,
    NotFound,
    StorageUnavailable,
    UnsupportedType,
    check_object_size,
    is_object_damaged,
    not_ready,
)
from core.listing import FileStatus
from core.locks import KeyedLocks, ObjectLocks
from core.mediatypes import FileKind
from core.metadata import READ_COLUMNS, read_again, reread_changes
from core.records import FileRecord
from core.spool import discard, owned_temp
from core.storage.base import Storage
from core.storage.routing import home_of
from core.thumbnail_cache import ThumbnailCache
from core.thumbnails import (
    POSTER_GENERATION,
    THUMBNAIL_GENERATION,
    VARIANT_WIDTHS,
    make_thumbnail,
    make_variant,
)
from core.unkept import Keeper

logger = logging.getLogger(__name__)

# Photos made again per maintenance run, and the time after which a run stops early: each is
# a download and up to a dozen decodes, and the run's other tasks wait behind it. An hourly
# run thus catches up on ~200 photos an hour; `mediadesk reprocess --photos` does them all now.
BATCH = 200
RUN_SECONDS = 120.0

# What cannot be made from the file's bytes however often it is tried: counted as done
_UNDECODABLE = (CorruptFile, UnsupportedType, InvalidInput)

# How long a read that could not make a photo's lost thumbnail again (its original gone or not
# decodable) is remembered, and for how many photos: each try downloads the whole original
# (up to a 100 MB TIFF, paid for on R2) for a 404, and the grid asks at every scroll. Minutes:
# an original put back is shown again soon without a restart.
FAILED_REMAKE_SECONDS = 600.0
# Storage moves of a photo followed while its thumbnail is stored (each stores it again)
MOVES_FOLLOWED = 2
FAILED_REMAKES_KEPT = 4096


def rendering(kind: str) -> int:
    """Today's rendering of the thumbnail of a file of `kind` (a FileKind): what a thumbnail
    made now records in its row (media_files.thumbnail_generation). Videos' posters count
    theirs apart, so a fix to either never makes the other again nor changes its tag."""
    return POSTER_GENERATION if kind == FileKind.VIDEO else THUMBNAIL_GENERATION


def behind(record: FileRecord) -> bool:
    """The file's thumbnail was made by an older rendering than today's for its kind (a video's
    thumbnails job makes its poster again then; a new video's is today's, made at its upload)."""
    return (record.thumbnail_generation or 0) < rendering(record.file_type)


class FailedRemakes:
    """Photos whose thumbnail a read could not make again lately, in this process, by id and
    content tag: new bytes or a new rendering is a new tag, tried again at once. Bounded (the
    oldest forgotten first); threads of the server's pool share it."""

    def __init__(
        self,
        seconds: float = FAILED_REMAKE_SECONDS,
        kept: int = FAILED_REMAKES_KEPT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seconds = seconds
        self._kept = kept
        self._clock = clock
        self._lock = threading.Lock()
        self._until: OrderedDict[tuple[int, str | None], float] = OrderedDict()

    def remember(self, record: FileRecord) -> None:
        key = (record.id, record.content_tag)
        with self._lock:
            self._until.pop(key, None)  # to the young end: the oldest go first
            self._until[key] = self._clock() + self._seconds
            while len(self._until) > self._kept:
                self._until.popitem(last=False)

    def failed(self, record: FileRecord) -> bool:
        """A remake of the file as `record` has it failed less than the time ago."""
        key = (record.id, record.content_tag)
        with self._lock:
            until = self._until.get(key)
            if until is None:
                return False
            if self._clock() < until:
                return True
            del self._until[key]
            return False


class Remade(NamedTuple):
    """A remake's outcome: the file as it is after it, the thumbnail made when the store had
    no room to keep it (a read's, `remake_for_read`; None: kept, or not made), and whether a
    thumbnail was made at all (False: the original could not be decoded, what it had stays)."""

    record: FileRecord
    unkept: bytes | None
    made: bool = True


class ThumbnailRemaker:
    """Finds photos whose images are of an older rendering and makes them again; stores a
    video's poster its thumbnails job made again."""

    def __init__(
        self,
        db: Database,
        catalog: Catalog,
        storage: Storage,
        cache: ThumbnailCache,
        variant_locks: KeyedLocks,
        keeper: Keeper,
        reading: Callable[[str], contextlib.AbstractContextManager[None]],
        tmp_dir: Path,
        object_locks: ObjectLocks,
    ) -> None:
        self._db = db
        self._catalog = catalog
        self._storage = storage
        self._cache = cache
        self._variant_locks = variant_locks  # Library._variant's: no variant made meanwhile
        self._keeper = keeper  # Library._variant's too: a full store said once for both
        self._reading = reading  # a move's deletion of the old key waits for the remake
        self._object_locks = object_locks  # a storage move's, from its copy to its switch
        # the original is decoded from a file here, never whole in memory (a 100 MB TIFF)
        self._tmp_dir = tmp_dir
        # The id the next batch starts after: a photo that cannot be made now (its object
        # gone) is passed over, so it never holds up those behind it; back to 0 at the end.
        self._after = 0

    def stale_ids(self, after: int = 0, limit: int | None = None, every: bool = False) -> list[int]:
        """Ready photos (not in the trash) whose images are older than the rendering (or
        `every` one), by id; never videos (maintenance's list: a whole video to fetch each)."""
        stale = or_(
            MediaFile.thumbnail_generation.is_(None),
            MediaFile.thumbnail_generation < THUMBNAIL_GENERATION,
        )
        stmt = (
            select(MediaFile.id)
            .where(
                MediaFile.file_type == FileKind.IMAGE,
                MediaFile.status == FileStatus.READY,
                MediaFile.alias_of.is_(None),
                MediaFile.deleted_at.is_(None),
                MediaFile.id > after,
            )
            .order_by(MediaFile.id)
        )
        if not every:
            stmt = stmt.where(stale)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._db.read() as s:
            return list(s.scalars(stmt))

    def run(
        self, limit: int = BATCH, seconds: float = RUN_SECONDS, skipped: list[int] | None = None
    ) -> list[int]:
        """One maintenance batch: the ids whose images were made again. A photo whose row
        another writer changed meanwhile (Conflict: an edit, a trash, another remake) is
        added to `skipped` and tried again first in the next batch: one such race ended the
        whole batch, and the run reported remake_thumbnails as failed."""
        ids = self.stale_ids(self._after, limit)
        raced: list[int] = []
        if len(ids) < limit:  # the end of the list: the next batch starts over
            self._after = 0
        deadline = time.monotonic() + seconds
        remade: list[int] = []
        for file_id in ids:
            if time.monotonic() > deadline:
                break
            if len(ids) == limit:
                self._after = file_id
            try:
                if self._catalog.get(file_id).thumbnail_generation == THUMBNAIL_GENERATION:
                    continue  # made with another file's of the same object, earlier on
                made = self.remake_told(file_id).made
            except NotFound as exc:  # deleted since, or its bytes are gone (reconcile says)
                logger.info("Thumbnail of file %s not made again: %s", file_id, exc.message)
                continue
            except StorageUnavailable as exc:
                if not is_object_damaged(exc):  # an outage ends the batch
                    raise
                # its bytes are not the recorded size (reconcile says): the ones behind it go on
                logger.warning("Thumbnail of file %s not made again: %s", file_id, exc.message)
                continue
            except Conflict as exc:
                logger.info("Thumbnail of file %s not made again now: %s", file_id, exc.message)
                raced.append(file_id)
                continue
            if made:  # (one that cannot be decoded is marked, and said by _make's warning)
                remade.append(file_id)
        if raced:  # the next batch starts at the first of them (those done since are not stale)
            self._after = min(self._after, raced[0] - 1)
            if skipped is not None:
                skipped.extend(raced)
        return remade

    def remake(self, file_id: int) -> FileRecord:
        """The photo's thumbnail and stored variants made by today's rendering, and its row
        (and every row sharing its object) marked so. A photo that cannot be decoded keeps
        what it had and is marked too: trying again would give the same answer. A store with
        no room for them raises InsufficientStorage."""
        return self.remake_told(file_id).record

    def remake_told(self, file_id: int) -> Remade:
        """`remake`, saying whether a thumbnail was made (`Remade.made`): `mediadesk
        reprocess` listed a photo that could not be decoded among those "remade"."""
        return self._remake(file_id, for_read=False)

    def keep_poster(
        self, file_id: int, poster: bytes, meta: dict[str, Any] | None = None
    ) -> FileRecord:
        """A video's poster made by today's rendering from its original elsewhere (its
        thumbnails job, which has the original at hand: never fetched again here) stored as
        `remake` stores a photo's thumbnail: under the same locks, a deletion or move meanwhile
        cleaned up or followed, every row sharing its object marked, the local cache's entry
        replaced. A store that cannot keep it raises (StorageUnavailable, InsufficientStorage)
        and leaves the old poster and rows as they were. `meta`: the video's metadata the job
        read again (core.metadata.read_again), written with the marks."""
        return self._remake(file_id, for_read=False, poster=poster, meta=meta).record

    def keep_metadata(self, file_id: int, meta: dict[str, Any]) -> None:
        """A video's metadata its thumbnails job read again from the original at hand
        (core.metadata.read_again) written to the rows of its object, when no poster was made
        again to carry it: a row whose metadata did not change is not written (no new version).
        Moved or deleted meanwhile: nothing is written (the next reprocess reads it again)."""
        self._write_metadata(self._catalog.get(file_id).storage_key, meta)

    def reread(self, file_id: int) -> FileRecord:
        """A photo's metadata read again from its original by today's readers and written
        to the rows of its object where it changed (`mediadesk reprocess --all-photos` for a
        photo whose images are today's: only its header is read, nothing is decoded)."""
        record = self._catalog.get(file_id, include_trashed=False)
        if record.file_type != FileKind.IMAGE:
            raise InvalidInput(f"File {file_id} is not a photo")
        if record.status != FileStatus.READY:
            raise not_ready(file_id, record.status)
        key = record.storage_key
        with self._reading(key), self._original(record) as source:
            meta = read_metadata(record, source)
        if meta is not None:
            self._write_metadata(key, meta)
        own_id = record.duplicate_of or record.id
        fresh = self._catalog.get(own_id)
        return fresh if own_id == file_id else fresh.as_alias(file_id)

    def _write_metadata(self, key: str, meta: dict[str, Any]) -> None:
        """`meta` written to the rows of `key` (none left: moved or deleted meanwhile, nothing
        is written; the next reprocess reads it again)."""
        with self._db.write() as s:
            for row in s.scalars(select(MediaFile).where(MediaFile.storage_key == key)).all():
                if row.alias_of is None:
                    _write_read(row, meta)

    def remake_for_read(self, file_id: int) -> Remade:
        """`remake` for a read of the photo's lost thumbnail: a store with no room (a full disk
        or quota) keeps what it had, the row is not marked, and the thumbnail made is
        returned to be served (`Remade.unkept`, said once by the keeper): a full disk keeps
        answering reads (README), and the next read after room is made keeps it."""
        return self._remake(file_id, for_read=True)

    def _remake(
        self,
        file_id: int,
        for_read: bool,
        poster: bytes | None = None,
        meta: dict[str, Any] | None = None,
    ) -> Remade:
        """A photo's images made again from its original, or (`poster`) a video's poster made
        already stored, and the rows marked, with the metadata read again from the original
        (a photo's here, a video's by its job: `meta`)."""
        record = self._catalog.get(file_id, include_trashed=False)
        # A video's poster is made by its thumbnails job, never here: a whole video to fetch
        if record.file_type != (FileKind.IMAGE if poster is None else FileKind.VIDEO):
            raise InvalidInput(f"File {file_id} is not a {'photo' if poster is None else 'video'}")
        if record.status != FileStatus.READY:
            raise not_ready(file_id, record.status)
        own_id = record.duplicate_of or record.id  # an alias names its file
        key = record.storage_key
        thumb: bytes | None = poster
        kept = True  # the thumbnail made, if any, is in the store
        room = True  # and so is every variant made
        with self._reading(key), self._variant_locks.hold(key):
            if poster is None:
                thumb, room, meta = self._make(record, for_read)
            thumb_key = keys.thumbnail_key(key)
            today = rendering(record.file_type)
            for _ in range(MOVES_FOLLOWED + 1):
                # read before the write: a storage move's switch after it is seen below
                home = self._home(own_id)
                if thumb is not None and for_read:
                    kept = (
                        self._keeper.put(
                            thumb_key, thumb, f"Thumbnail of file {file_id}", beside=key
                        )
                        is not None
                    )
                    room = room and kept
                elif thumb is not None:  # beside its original (core/storage/routing.py `home`)
                    home_of(self._storage, key).put_bytes(thumb_key, thumb, "image/webp")
                # A storage move holds this lock from its copy of the thumbnail to its switch:
                # one written before it, on the old storage, was not in its copy, and the new
                # storage kept the old rendering under the row's new tag. Stored again there.
                with self._object_locks.hold(key):
                    if thumb is not None and self._home(own_id) not in (home, None):
                        continue
                    # With no room the rows stay as they are: not every image of today's
                    # rendering is stored, and the row's tag would name images that are not there
                    made = thumb is not None
                    marked = self._mark(key, made, today, meta) if room else self._named(key)
                    break
            else:
                raise Conflict(
                    f"File {file_id} moved to another storage {MOVES_FOLLOWED + 1} times while "
                    "its thumbnail was stored; try again"
                )
            # A deletion (the trash's or a hard delete, any server) deletes the object, then
            # its derivatives, then the row: a remake that wrote after the derivatives went
            # still finds the row. Checked after the write, the object is gone, or it went
            # after the write and so did the derivatives. (The row's claim, purging_since,
            # would not do: a hard delete of a live file claims nothing, and a claim that a
            # dead deletion left and maintenance releases keeps its object and images.)
            gone = marked and not self._storage.exists(key)
            if not marked or gone:
                # deleted or moved meanwhile, its derivatives with it: what was written here
                # is nobody's
                self._storage.delete(thumb_key)
                self._storage.delete_prefix(keys.variant_prefix(key))
        if gone:
            raise NotFound(f"File {file_id} was deleted meanwhile")
        if not marked:  # moved: made again at its new key (gone: NotFound)
            return self._remake(file_id, for_read, poster, meta)  # the same bytes: the same poster
        fresh = self._catalog.get(own_id)
        if room:
            self._cache.drop(record)  # the old rendering's name, never read again
            if thumb is not None and fresh.storage_key == key:
                self._cache.put(fresh, thumb)
        # An unkept thumbnail is not cached either: a read served from the cache would never
        # keep it in the store once there is room
        fresh = fresh if own_id == file_id else fresh.as_alias(file_id)
        return Remade(fresh, None if kept else thumb, made=thumb is not None)

    def _make(
        self, record: FileRecord, for_read: bool
    ) -> tuple[bytes | None, bool, dict[str, Any] | None]:
        """The photo's thumbnail (None: not decodable) made from its original, its variants
        made again, whether the store had room for them all (a read's, `for_read`; else
        InsufficientStorage raises), and its metadata read again by today's readers (None:
        not readable now, the row keeps its own)."""
        thumb: bytes | None = None
        with self._original(record) as source:
            # With the original at hand: a photo catalogued by an older version otherwise kept
            # that version's reading for good (a date without its EXIF offset, a zero date)
            meta = read_metadata(record, source)
            try:
                thumb = make_thumbnail(source, record.content_type or "")
                self._remake_variants(record, source)
            except _UNDECODABLE as exc:
                logger.warning("Thumbnail of file %s not made again: %s", record.id, exc.message)
            except InsufficientStorage:
                if not for_read:
                    raise
                # the variants not made again stay, whole, of their rendering
                return thumb, False, meta
        return thumb, True, meta

    @contextlib.contextmanager
    def _original(self, record: FileRecord) -> Iterator[Path]:
        """The ready file's original as a file to decode (`_source`), object_damaged when it is
        not the recorded size: a cut original was decoded as it was, its metadata read and the
        photo marked of today's rendering, and a reprocess answered 200."""
        key = record.storage_key
        path, copied = self._source(key)
        try:
            check_object_size(key, path.stat().st_size, record.size)
            yield path
        except FileNotFoundError as exc:  # read in place, deleted meanwhile: as a download says
            raise NotFound(f"Object {key!r} not found") from exc
        finally:
            if copied:
                discard(path)

    def _source(self, key: str) -> tuple[Path, bool]:
        """A copy of the original in tmp/ (True), even of a local object: decoding holds it
        open, and a deletion of the original must not fail for it (Windows). With no room for
        the copy (a full disk), a local store's own file (False): a full disk keeps answering
        reads (README); a remote store's original has nowhere else to go."""
        copy: Path | None = None
        try:
            fd, copy = owned_temp(self._tmp_dir, "remake")
            os.close(fd)
            self._storage.download_to(key, copy)
        except BaseException as exc:
            if copy is not None:
                discard(copy)
            if not isinstance(exc, InsufficientStorage):
                raise
            in_place = self._storage.local_path(key)
            if in_place is None:
                raise
            return in_place, False
        return copy, True

    def _remake_variants(self, record: FileRecord, source: Path) -> None:
        """Every stored variant made again in place (a reader gets the old or the new one,
        never none); one of a width no longer on the photo's ladder (a turned photo's before
        its ladder was of its shown width) is never served again, so it goes."""
        shown = record.display_size
        ladder = {w for w in VARIANT_WIDTHS if not shown or w < shown[0]}
        if shown:
            ladder.add(shown[0])
        prefix = keys.variant_prefix(record.storage_key)
        # the active backend's (its cache, Library.open_variant) and its original's: a photo
        # on R2 made again by a process on the local folder kept the old ones on the bucket
        stores = [self._storage]
        home = home_of(self._storage, record.storage_key)
        if home is not self._storage:
            stores.append(home)
        for store in stores:
            for stored in list(store.list_keys(prefix)):
                width = _variant_width(stored.key[len(prefix) :])
                if width is None:
                    continue  # not a variant's name: not ours to judge
                if width in ladder:
                    store.put_bytes(stored.key, make_variant(source, width), "image/webp")
                else:
                    with contextlib.suppress(NotFound):
                        store.delete(stored.key)

    def _mark(
        self, key: str, has_thumbnail: bool, today: int, meta: dict[str, Any] | None = None
    ) -> bool:
        """The rows of `key` marked as of today's rendering (`today`: the rows of a key are
        of one kind, its bytes'), and given `meta` (read_again's), through the ORM so the
        version goes up and the change feed tells every client (a grid shows the new
        thumbnail). A thumbnail made again (`has_thumbnail`) by the rendering the row
        already has is counted (thumbnail_remade), so its content tag is new all the same:
        a reprocess is asked for images that may be bad, and under the old tag browsers and
        the desktop's cache kept them for good. False: no row names `key` any more."""
        with self._db.write() as s:
            rows = s.scalars(select(MediaFile).where(MediaFile.storage_key == key)).all()
            for row in rows:
                if row.alias_of is not None:
                    continue  # an alias is seen through its file
                if row.thumbnail_generation != today:
                    row.thumbnail_generation = today
                    row.thumbnail_remade = None  # the new generation is a new tag already
                elif has_thumbnail:
                    row.thumbnail_remade = (row.thumbnail_remade or 0) + 1
                if has_thumbnail and not row.has_thumbnail:
                    row.has_thumbnail = True
                if meta is not None:
                    _write_read(row, meta)
            return bool(rows)

    def _home(self, file_id: int) -> str | None:
        """The storage holding the file's object and thumbnail now (None: no such row)."""
        with self._db.read() as s:
            return backend_of_file(s, file_id)

    def _named(self, key: str) -> bool:
        """Some row still names `key` (`_mark`'s answer, the rows left as they are)."""
        with self._db.read() as s:
            named = s.scalars(select(MediaFile.id).where(MediaFile.storage_key == key)).first()
            return named is not None


def read_metadata(record: FileRecord, source: Path) -> dict[str, Any] | None:
    """core.metadata.read_again of a file's original at hand (a remake's, a video job's), or
    None when today's readers cannot read it: the row then keeps what it has, and the remake
    or job goes on (a thumbnail made again is worth having all the same)."""
    try:
        return read_again(source, record.file_type)
    except _UNDECODABLE as exc:
        logger.warning("Metadata of file %s not read again: %s", record.id, exc.message)
        return None


def _write_read(row: MediaFile, meta: dict[str, Any]) -> None:
    """`meta` (read_again's) written to `row`'s metadata, only what changed: an unchanged row
    keeps its version, and the fields a person edits are never among them."""
    columns = {name: getattr(row, name) for name in READ_COLUMNS}
    extra = row.extra if isinstance(row.extra, dict) else {}
    for name, value in reread_changes(columns, extra, meta).items():
        setattr(row, name, value)


def _variant_width(name: str) -> int | None:
    """The width of a variant key's tail (`w640.webp`, keys.variant_key), or None."""
    if name.startswith("w") and name.endswith(".webp") and name[1:-5].isdigit():
        return int(name[1:-5])
    return None
