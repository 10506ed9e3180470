"""The library service: the one façade the desktop app and the HTTP server both use."""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterator, KeysView, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, BinaryIO, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, text, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from core import keys, partials, shared_settings, url_keys
from core.audit import AuditLog
from core.catalog import Catalog
from core.db.engine import CatalogOutage, Database, check_catalog_path, unopenable
from core.db.left_behind import refuse_copied, refuse_left_behind, warn_kept_apart
from core.db.migrate import interrupted, upgrade
from core.db.models import DeferredDeletion, MediaFile, utcnow
from core.deferred import (
    REPLACED_GRACE_SECONDS,
    DeferredDeleter,
    collect_unless_recorded,
    discard_unless_recorded,
    named_on,
    queue_left_behind,
)
from core.errors import (
    CATALOG_BUSY,
    SETUP_FAULT_REASONS,
    Conflict,
    InvalidInput,
    LostRace,
    MediaDeskError,
    NotFound,
    StorageNotAsked,
    StorageUnavailable,
    StorageUnusable,
    catalog_locked,
    check_object_size,
    is_object_damaged,
    never_sent,
    no_room,
    object_damaged,
    outage_level,
    retry_after,
    storage_error,
    store_answered,
)
from core.events import ChangeEvent, EventBus
from core.feed import Feed, heard_as, last_change_of, pruned_through
from core.filenames import NAME_BYTES, clean_filename, fit_bytes, with_type_extension
from core.ingest import Ingestor, PresignedUpload, check_description
from core.jobs import JobQueue, forget_jobs, hand_over_jobs
from core.leader import MaintenanceLeader, Task
from core.links import Arrival
from core.locks import KeyedLocks, ObjectLocks
from core.mediatypes import FileKind
from core.paths import DataPaths
from core.records import (
    MAX_ID,
    AthleteRecord,
    BulkOutcome,
    FileQuery,
    FileRecord,
    FileStatus,
    Page,
)
from core.reserve import CatalogReserve
from core.resumable import MultipartPlan, ResumableUploads
from core.settings import Settings
from core.spool import discard, owned_temp
from core.storage import backend_of_store, signing
from core.storage.base import (
    ObjectStat,
    OpenedObject,
    PresignedRequest,
    Presigner,
    ProgressCallback,
    Storage,
)
from core.storage.factory import SIGNING_KEY_FILE, build_storage
from core.storage.routing import RoutingStorage, home_of
from core.storage.signing import (
    PUBLICITY_BUCKET_EXPIRY,
    LocalPresigner,
    SignedGrant,
    check_expires_in,
    load_or_create_secret,
    verify_signed_request,
)
from core.storage_migration import StorageBackends
from core.thumbnail_cache import ThumbnailCache
from core.thumbnail_remake import FailedRemakes, ThumbnailRemaker
from core.thumbnails import is_whole_webp, make_variant, variant_width
from core.tokens import TokenStore
from core.unkept import Keeper
from core.usage import UsageMonitor
from core.video import service as video_service

if TYPE_CHECKING:
    from core.storage.s3 import BucketLinks

logger = logging.getLogger(__name__)

# Files per transaction of `trash_many` / `restore_many` / `empty_trash` (and between two
# progress reports, the status bar's "N of M"): a commit each cost more than the change
# itself, and a batch keeps each write short for the other writers of the catalog.
BULK_BATCH = 200

# How long a claim for deletion (`_claim_for_deletion`) holds: a lease. A deletion renews its
# claim, by its exact mark, right before each batch of bytes goes (`_keep_claim`), so a live
# claim is never older; an older one was left by a deletion that died (kill -9, power loss, a
# catalog outage) and a restore or maintenance settles it (`_settle_stale_claims`). Far above
# the one storage request between a renewal and the bytes' deletion. A claim's age is read on
# each server's own clock, as the maintenance lease's is (core/leader.py): servers sharing a
# catalog need clocks that agree well within the lease (minutes), or one may settle another's
# live claim while its storage request is under way.
CLAIM_LEASE = timedelta(minutes=10)
# How far ahead of this computer's clock a trash date may be before the retention purge dates
# it now (`redate_future_trash`): beyond the drift between a team's clocks, so a file trashed
# a moment ago on a machine a little ahead is not rewritten at every maintenance run.
FUTURE_TRASH_SLACK = timedelta(hours=1)
# /health's database error for a catalog read that failed in a way core has no words for
CATALOG_UNREAD = "The catalog (database) cannot be read right now"


_T = TypeVar("_T")


class Thumbnail(NamedTuple):
    """A thumbnail's bytes and the file as they are of: read after a remake, which can move
    its content tag (the thumbnail's ETag and the links' ?v=) to today's rendering."""

    record: FileRecord
    data: bytes


class _Merged(NamedTuple):
    """A file a restore made an alias (`_merge_restored`): as it was in the trash, and the
    ready file of its bytes that its id names now."""

    record: FileRecord
    into: int


class _Claim(NamedTuple):
    """Files `_claim_for_deletion` marked, and the mark it wrote (`purging_since`)."""

    ids: set[int]
    at: datetime
    # the `deleted_at` the claim wrote on the files it moved to the trash itself (a hard
    # delete of a live file): a deletion that fails with their bytes kept takes them back out
    trashed_at: datetime | None = None
    # those files and their versions before the claim: the write went round the change feed,
    # so their deleted event tells of the live file the listeners last heard of (as the
    # answer does)
    versions: Mapping[int, int] = MappingProxyType({})

    @property
    def trashed(self) -> KeysView[int]:
        """The files the claim itself moved to the trash."""
        return self.versions.keys()


# Keys of derivatives (thumbnails, variants, video renditions): no catalog row records their size
_DERIVED = (keys.THUMBNAIL_PREFIX, keys.VARIANT_PREFIX, keys.VIDEO_PREFIX)

EDITABLE = ("original_filename", "athlete_id", "is_public", "description")


class Library:
    """Files, athletes and their storage; thread-safe, shared by every layer."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        storage: Storage,
        presigner: Presigner,
        events: EventBus | None = None,
    ) -> None:
        self.settings = settings
        self.paths: DataPaths = settings.paths
        # The parts are private: callers use the methods below, collaborators get the parts
        # they need at construction (tests/test_layering.py keeps server and desktop out).
        self._db = db
        self._storage = storage
        self._presigner = presigner
        self.events = events or EventBus()
        # every catalog change reaches this bus, whichever process makes it (core/feed.py)
        # Catalog kinds (created, updated, trashed, restored, deleted, athlete, token) are
        # announced by the feed from the rows each transaction writes, so no method here
        # publishes them; `events.publish` is for other kinds (job progress).
        self.feed = Feed(db, self.events)
        self._catalog = Catalog(db)
        # a shared object's deletion and a new reference to it take turns (core/locks.py)
        self._object_locks = ObjectLocks(db)
        self.tokens = TokenStore(db)  # the API tokens of this catalog; one store for every layer
        self.audit = AuditLog(db)
        self._grant_secret: bytes | None = None  # loaded on first use; R2 libraries sign grants too
        # the local signing key of links handed out before a switch to R2: b"" when there is
        # none (never local: no link to honour); read on first use, not at every request
        self._local_link_secret: bytes | None = None
        self.jobs = JobQueue(db, settings.job_lease_seconds, settings.job_max_attempts)
        self._thumbnails = ThumbnailCache(self.paths.cache_dir / "thumbnails")
        # direct ingest, presigned uploads and their confirmation (HTTP, desktop, resumable)
        self.uploads = Ingestor(
            settings=lambda: self.settings,  # apply_settings swaps them while uploads run
            db=db,
            catalog=self._catalog,
            storage=storage,
            presigner=presigner,
            thumbnails=self._thumbnails,
            complete_parts=lambda record, parts: self.resumable.complete_presigned(record, parts),
            on_ready=lambda record: video_service.queue_new_video(self, record),
            object_locks=self._object_locks,
        )
        # tus and presigned multipart uploads
        self.resumable = ResumableUploads(self, db=db, storage=storage, presigner=presigner)
        # One image's variants at a time (each made once); other images' go on meanwhile
        self._variant_locks = KeyedLocks()
        # thumbnails and variants a read made, served unkept when the store has no room
        self._keeper = Keeper(storage)
        self.usage = UsageMonitor(self, db)
        # which backend holds each file, and moving files between backends
        self.backends = StorageBackends(
            lambda: self.settings,
            db,
            storage,
            presigner,
            self.reading,
            writing=lambda key: self.deferred.writing(key),  # made below
        )
        self._leader: MaintenanceLeader | None = None
        self._leader_lock = threading.Lock()
        self._edit_locks = KeyedLocks()
        self.deferred = DeferredDeleter(db, storage, object_locks=self._object_locks)
        # a failed upload's multipart upload the store could not be asked to abort: kept there
        self.deferred.keep_aborts_of(storage)
        # photos' thumbnails and variants of an older rendering, made again
        self.thumbnail_remaker = ThumbnailRemaker(
            db,
            self._catalog,
            storage,
            self._thumbnails,
            self._variant_locks,
            self._keeper,
            self.reading,
            self.paths.tmp_dir,
            self._object_locks,
        )
        # lost thumbnails a read could not make again: not tried at every request (a download)
        self._failed_remakes = FailedRemakes()
        # partial files the opening removed, until the first maintenance reports them: right
        # after a crash that run found none of its own to report
        self._swept_at_open: list[Path] = []
        self._deferred_at_open: list[str] = []
        # room beside a SQLite catalog that only a deletion uses, on a full disk (core/reserve.py)
        catalog = db.engine.url.database if db.is_sqlite else None
        self._reserve = CatalogReserve(Path(catalog) if catalog and catalog != ":memory:" else None)

    @classmethod
    def open(
        cls,
        settings: Settings,
        migrate: bool = True,
        on_upgrade: Callable[[], None] | None = None,
    ) -> Library:
        """Creates the data folders, migrates the catalog and connects the storage.
        `on_upgrade`: called (on this thread) before an existing catalog is migrated to this
        version's schema (core.db.migrate.upgrade's on_start)."""
        check_catalog_path(settings.effective_database_url)  # before any folder is made
        settings.paths.ensure()
        db = Database(settings.effective_database_url)
        lib: Library | None = None
        try:
            if migrate:
                try:
                    # an old SQLite catalog the library was copied away from shares its files
                    refuse_copied(settings.effective_database_url)
                    # before a new catalog is set up: it must not hide the data folder's library
                    refuse_left_behind(db.engine, settings.paths.database_file)
                    upgrade(db.engine, on_start=on_upgrade)
                except SQLAlchemyError as exc:  # the first connection: a person's words, no trace
                    if interrupted(exc):  # a Ctrl+C's clean-up failed, not the catalog
                        raise KeyboardInterrupt from None
                    raise unopenable(db.url, exc) from exc
                db.announce()  # a newer version's upgrade refuses while this process runs
                warn_kept_apart(db.engine, settings.paths.database_file)
            storage, presigner = build_storage(settings)
            lib = cls(settings, db, storage, presigner)
            lib.backends.attach()  # rows name their backend; reads find old files
            lib._swept_at_open = lib.sweep_partials()  # what writers killed mid-way left behind
            lib._reserve.keep()
            # old keys of moves whose grace period passed while stopped
            lib._deferred_at_open = lib.deferred.run()
            lib.feed.start()
            shared_settings.follow(lib)  # settings saved by another process of this data folder
        except BaseException:
            # A process that opens again once the cause is fixed (a read-only catalog made
            # writable) kept every failed attempt's pooled connections, the presence lock
            # (PostgreSQL: a connection and its thread) and the feed's thread.
            _closed_after_failed_open(lib, db)
            raise
        return lib

    def apply_settings(self, **changes: Any) -> Settings:
        """Settings that take effect at once (limits, expiry, types): no I/O, safe on any thread.

        Settings are frozen and replaced by one reference swap, so a server thread reading
        `library.settings` sees the old or the new whole, never a mix.
        """
        self.settings = self.settings.replace(**changes)
        return self.settings

    def serve_signed_urls_at(self, host: str, port: int) -> None:
        """Local signed URLs name this server's address unless a public base URL is set; also
        those of files still on the local folder while R2 is active (backends.link_origin)."""
        self.backends.serve_links_at(host, port)
        if isinstance(self._presigner, LocalPresigner):
            self._presigner.set_base_url(self.backends.link_origin())

    def sweep_partials(self, dry_run: bool = False) -> list[Path]:
        """Removes partial files whose writing process is gone (start-up, maintenance)."""
        names = getattr(self._storage, "backend_names", None)  # every backend files live on
        stores = [self._storage.backend(n) for n in names()] if names else [self._storage]  # type: ignore[attr-defined]
        found: list[Path] = []
        for store in stores:
            sweep = getattr(store, "sweep_partials", None)
            if sweep is not None:
                found += sweep(dry_run)
        tmp = self.paths.tmp_dir
        found += partials.sweep(tmp, partials.tmp_candidates(tmp), dry_run=dry_run)
        return sorted(set(found))

    def take_swept_at_open(self) -> list[Path]:
        """The partial files the opening of this library removed; given once."""
        taken, self._swept_at_open = self._swept_at_open, []
        return taken

    def take_deferred_at_open(self) -> list[str]:
        """The deferred deletions the opening of this library made (keys); given once: a
        `mediadesk maintenance` whose own start deleted them reported none."""
        taken, self._deferred_at_open = self._deferred_at_open, []
        return taken

    @property
    def catalog_outage(self) -> CatalogOutage:
        """Whether the catalog is known out of reach, and who asks it meanwhile."""
        return self._db.outage

    def probe_catalog(self) -> None:
        """Asks the catalog as the outage's probe, once `catalog_outage.admit()` gave True."""
        self._db.probe()

    def reading(self, key: str) -> contextlib.AbstractContextManager[None]:
        """Held by a reader of `key` for its whole response: a moved file's old key waits."""
        return self.deferred.readers.hold(key)

    def close(self) -> None:
        self.resumable.close()
        self.deferred.close()
        if self._leader is not None:
            self._leader.stop(force=True)
        self.feed.stop(force=True)
        self._db.dispose()

    # ---- reading ----------------------------------------------------------------------------
    def list_files(self, query: FileQuery | None = None, **filters: Any) -> Page:
        return self._catalog.query(query or FileQuery(**filters))

    def get_file(self, file_id: int, include_trashed: bool = True) -> FileRecord:
        return self._catalog.get(file_id, include_trashed)

    def get_ready(self, file_id: int) -> FileRecord:
        """A file that can be served: ready and not in the trash, else NotFound."""
        record = self._catalog.get(file_id, include_trashed=False)
        if record.status != FileStatus.READY:
            raise NotFound(f"File {file_id} is not available (status {record.status})")
        return record

    def counts(self) -> dict[str, int]:
        return self._catalog.counts()

    def stat(self, record: FileRecord) -> ObjectStat:
        """The file's object asked for, not read (a HEAD of the stream answers as its GET
        would): NotFound when it is gone, object_damaged when it is not the recorded size."""
        stat = self._storage.stat(record.storage_key)
        if record.status == FileStatus.READY:
            check_object_size(record.storage_key, stat.size, record.size)
        return stat

    # Every read of a file's bytes checks them against the catalog's size (check_object_size),
    # so no route hands out a cut object (a bad restore, a disk fault) as the whole file, and
    # each says what is wrong: storage_unavailable with reason object_damaged.
    def open_range(
        self, record: FileRecord, start: int, end: int | None, chunk_size: int = 256 * 1024
    ) -> Iterator[bytes]:
        """The bytes of a bucket object are counted as they arrive: a body that ends before
        the recorded size raises (before any header when the first read reaches the end)."""
        chunks = self._storage.open_range(record.storage_key, start, end, chunk_size)
        if record.size is None or record.status != FileStatus.READY:
            return chunks
        # A range is read up to the recorded size at most, so a longer object (overwritten
        # behind the catalog's back) would pass as whole: a bucket says its whole size with
        # the bytes (a local file is stat'ed by local_path, which the server reads it by)
        whole = getattr(chunks, "object_size", None)
        if whole is not None:
            try:
                check_object_size(record.storage_key, whole, record.size)
            except StorageUnavailable:
                chunks.close()  # type: ignore[attr-defined]
                raise
        last = record.size - 1 if end is None else min(end, record.size - 1)
        return _counted(chunks, record.storage_key, start, last - start + 1, record.size)

    def local_path(self, record: FileRecord) -> Path | None:
        """The object's local file (None in a bucket); object_damaged when its size is not
        the recorded one (one stat: the server sends this file with sendfile)."""
        path = self._storage.local_path(record.storage_key)
        if path is not None and record.status == FileStatus.READY:
            _check_local_size(record.storage_key, path, record.size)
        return path

    def find_by_key(self, key: str) -> FileRecord | None:
        """The file stored under `key` (trashed included), or None."""
        return self._catalog.find_by_key(key)

    def open_object(self, key: str, record: FileRecord | None = None) -> OpenedObject:
        """Any stored object (a file, a variant, a video rendition) opened for a response;
        a file's object (not a derivative) must be the size its catalog row records.
        `record`: the file already read for this key (a signed link's), not read again."""
        stat = self._storage.stat(key)
        if not key.startswith(_DERIVED):
            if record is None or record.storage_key != key:
                record = self._catalog.find_by_key(key)
            if record is not None and record.status == FileStatus.READY:
                check_object_size(key, stat.size, record.size)
        return OpenedObject(key, stat, self._storage.local_path(key), self._storage)

    def put_object(self, key: str, body: BinaryIO, content_type: str) -> ObjectStat:
        """Writes a signed upload's bytes under the key its pending row reserved (Conflict
        once its file is no longer pending: see Ingestor.receive_put)."""
        return self.uploads.receive_put(key, body, content_type)

    # ---- derived objects by key (video renditions, sprites: core/video) -----------------------
    def object_path(self, key: str) -> Path | None:
        """The object's local file on the local backend, else None."""
        return self._storage.local_path(key)

    def read_object(self, key: str) -> bytes:
        return b"".join(self._storage.open_range(key, 0, None))

    def download_object(self, key: str, target: Path) -> None:
        self._storage.download_to(key, target)

    def put_object_file(
        self, key: str, path: Path, content_type: str, *, beside: str | None = None
    ) -> ObjectStat:
        """`beside`: the key of the file `key` derives from, written on that file's backend."""
        store = self._storage if beside is None else home_of(self._storage, beside)
        return store.put_file(key, path, content_type)

    def delete_object(self, key: str) -> None:
        self._storage.delete(key)

    def delete_objects_under(self, prefix: str) -> None:
        self._storage.delete_prefix(prefix)

    def sign_key(self, key: str, expires_in: int, content_type: str | None = None) -> str:
        """A signed GET URL of any stored object (a rendition for a header-less player)."""
        return self._presigner.presign_get(key, expires_in, content_type=content_type).url

    @property
    def storage_name(self) -> str:
        """The active backend ("local", "r2"), as /health, /config and files' storage_backend
        name it (not the store's own "s3")."""
        return backend_of_store(self._storage.name)

    def health(self) -> dict[str, Any]:
        """The database and storage checks of /health; failures are reported, not raised.

        A catalog failure carries its `reason` (CATALOG_OUT_REASONS) when core knows one; a
        catalog that reads but whose writes met another program's lock lately is one too
        (catalog_busy: Database.lately_busy, no write of its own to find it). A
        storage failure carries its `reason` (UNAVAILABLE_REASONS) when core knows one, and
        its `retry_after` (core.errors.retry_after) while the store is out of reach,
        throttling or failing: the quiet window left or the store's own Retry-After, what
        every request's answer of the same outage says."""
        result: dict[str, Any] = {"database": {"ok": True}, "storage": {"ok": True}}
        try:
            with self._db.read() as s:
                s.execute(text("SELECT 1"))
        except Exception as exc:  # reported, not raised: this is the health check
            # in words, as the storage part: a class name (StorageNotAsked) told a monitor's
            # reader nothing
            said = exc.message if isinstance(exc, MediaDeskError) else CATALOG_UNREAD
            result["database"] = {"ok": False, "error": said}
            # as the storage part: a monitor tells a catalog another program holds locked
            # (catalog_busy) from one out of reach or a disk gone
            if isinstance(exc, MediaDeskError) and exc.reason:
                result["database"]["reason"] = exc.reason
        else:
            if self._db.lately_busy():
                # a lock that lets reads through (WAL) refuses only writes: what they met lately
                result["database"] = {
                    "ok": False,
                    "error": catalog_locked(None).message,
                    "reason": CATALOG_BUSY,
                }
        # Upgraded under this server by a newer MediaDesk: it writes nothing until restarted,
        # which a monitor must hear (it answered ok while every write was refused)
        self._db.schema.look()
        if self._db.schema.moved is not None:
            result["database"] = {
                "ok": False,
                "error": self._db.schema.moved,
                "reason": "catalog_upgraded",
            }
        try:
            self._storage.check()
        except MediaDeskError as exc:
            result["storage"] = {"ok": False, "error": exc.message}
            if exc.reason:
                result["storage"]["reason"] = exc.reason
            if (wait := retry_after(exc)) is not None:
                result["storage"]["retry_after"] = wait
        return result

    def export(
        self, file_id: int, destination: Path, progress: ProgressCallback | None = None
    ) -> Path:
        """The file's bytes written at `destination`, whose name is cut to what a file system
        takes (NAME_BYTES, extension kept); returns the path written."""
        record = self.get_ready(file_id)
        destination = Path(destination)
        if len(destination.name.encode()) > NAME_BYTES:
            destination = destination.with_name(fit_bytes(destination.name, NAME_BYTES))
        self._storage.download_to(record.storage_key, destination, progress)
        return destination

    # ---- thumbnails and variants ------------------------------------------------------------
    def thumbnail_bytes(self, file_id: int) -> bytes:
        """The WebP thumbnail, from the local cache or the store (`thumbnail`)."""
        return self.thumbnail(file_id).data

    def thumbnail(self, file_id: int) -> Thumbnail:
        """The WebP thumbnail, from the local cache or the store, and the file it is of.

        A photo's stored thumbnail that is gone or not a whole WebP (written unsynced, a power
        cut leaves it empty, zero-filled or cut short; a lost object) is made again from its
        original here, else the grid showed no picture, or a broken one, for ever; a damaged
        cache entry is a miss. Its original gone or not decodable, NotFound, and that remake is
        not tried again for a while (FailedRemakes: each try downloads the original). A store
        with no room to keep it (a full disk or quota) serves it made but not kept, as a resized
        image (`open_variant`). Videos' poster frames are not made again (a whole video to
        fetch): a damaged one is NotFound."""
        record = self.get_file(file_id)
        if not record.has_thumbnail:
            raise NotFound(f"File {file_id} has no thumbnail")
        cached = self._thumbnails.get(record)
        if cached is not None and is_whole_webp(cached):
            return Thumbnail(record, cached)
        photo = record.file_type == FileKind.IMAGE and record.status == FileStatus.READY
        try:
            data = self._stored_thumbnail(record)
        except NotFound:
            if not photo:
                raise
            data = b""
        if is_whole_webp(data):
            self._thumbnails.put(record, data)
            return Thumbnail(record, data)
        if photo and not self._failed_remakes.failed(record):
            remade = self._remade_thumbnail(record)  # the remaker cached it under its tag
            if remade is not None:
                return remade
        raise NotFound(f"File {file_id} has no thumbnail")

    def _stored_thumbnail(self, record: FileRecord) -> bytes:
        key = keys.thumbnail_key(record.storage_key)
        return b"".join(self._storage.open_range(key, 0, None))

    def _remade_thumbnail(self, record: FileRecord) -> Thumbnail | None:
        """The photo's thumbnail made again by the remaker (its locks order it with a move,
        a deletion and another reader's remake), or None when it cannot be: the original
        gone or damaged, or not decodable; remembered then under the file's tag as the try left
        it (a photo that does not decode is marked of today's rendering)."""
        try:
            fresh, unkept, _made = self.thumbnail_remaker.remake_for_read(record.id)
        except (NotFound, StorageUnavailable) as exc:
            # a damaged original (not the recorded size) is as unusable as a gone one
            if not isinstance(exc, NotFound) and not is_object_damaged(exc):
                raise
            logger.info("Thumbnail of file %s not made again: %s", record.id, exc.message)
        else:
            if unkept is not None:  # no room in the store: served all the same (`remake_for_read`)
                return Thumbnail(fresh, unkept)
            try:
                data = self._stored_thumbnail(fresh)
            except NotFound:
                data = b""
            if is_whole_webp(data):
                return Thumbnail(fresh, data)
        with contextlib.suppress(NotFound):  # deleted meanwhile: nothing to remember
            self._failed_remakes.remember(self.get_file(record.id))
        return None

    def variant(self, record: FileRecord, width: int) -> tuple[str, ObjectStat]:
        """Key and stat of a resized WebP of an image, made once and cached in the store
        (`open_variant`: on a full store, not kept and its key holds nothing)."""
        _, opened = self.open_variant(record, width)
        return opened.key, opened.stat

    def open_variant(self, record: FileRecord, width: int) -> tuple[int, OpenedObject]:
        """The width served for `width` (thumbnails.variant_width) and its WebP, opened.

        Made once and kept in the store; when the store has no room for it (a full disk or
        quota) it is served from the bytes made in memory, not kept: a full disk keeps
        answering reads (README), and the next read after room is made keeps it."""
        if record.file_type != FileKind.IMAGE:
            raise InvalidInput("Resized variants exist for images only")
        # The ladder is of shown widths: a portrait photo stored turned is as wide as it is high.
        shown = record.display_size
        width = variant_width(width, shown)
        key = keys.variant_key(record.storage_key, width)
        with self._variant_locks.hold(record.storage_key):
            try:
                stat = self._storage.stat(key)
            except NotFound:
                with self._variant_source(record) as source:
                    data = make_variant(source, width)
                kept = self._keeper.put(key, data, f"Resized image of file {record.id}")
                if kept is None:
                    return width, self._keeper.unkept(key, data)
                stat = kept
        return width, OpenedObject(key, stat, self._storage.local_path(key), self._storage)

    @contextlib.contextmanager
    def _variant_source(self, record: FileRecord) -> Iterator[Path | BinaryIO]:
        """The original to make a variant from, for the decoder to read under the decode
        budget: a local store's own file, read in place; a remote original copied into tmp/
        chunk by chunk. Its bytes were joined in memory, outside the budget (a 40 MB JPEG held
        40 MB more for each variant made at once); boto3's download_file is not used either:
        its parallel parts held more than the whole file. With no room for the copy (a full
        disk) the remote original is read into memory as before: a full disk keeps serving
        resized images (README), and a 507 on a GET would tell the reader to free space.

        Checked against the recorded size as every read is (open_range): a cut original was
        decoded and said as a damaged image (400 corrupt_file) where /raw said object_damaged."""
        key = record.storage_key
        local = self._storage.local_path(key)
        if local is not None:
            if not local.is_file():
                raise NotFound(f"Object {key!r} not found")
            if record.status == FileStatus.READY:
                _check_local_size(key, local, record.size)
            yield local
            return
        copy: Path | None = None
        try:
            fd, copy = owned_temp(self.paths.tmp_dir, "variant")
            try:
                with os.fdopen(fd, "wb") as out:
                    for chunk in self.open_range(record, 0, None):
                        out.write(chunk)
            except OSError as exc:
                raise storage_error(exc, "Cannot copy the image to the temporary folder") from exc
        except BaseException as exc:
            if copy is not None:
                discard(copy)
            if not no_room(exc):
                raise
            copy = None
        if copy is None:
            yield io.BytesIO(b"".join(self.open_range(record, 0, None)))
            return
        try:
            yield copy
        finally:
            discard(copy)

    # ---- presigned uploads ------------------------------------------------------------------
    def presign_upload(
        self,
        parts: bool,
        size: int | None,
        arrival: Arrival | None = None,
        owner: str | None = None,
        **fields: Any,
    ) -> tuple[PresignedUpload, MultipartPlan | None]:
        """A presigned upload's pending file (`uploads.create_presigned_upload` with `fields`)
        and, when it goes in `parts` (`resumable.wants_multipart`), the multipart upload behind
        it with its signed part URLs. A URL through this server answers the request that
        arrived as `arrival` (backends.presigner_for, as a download link's). `owner`: the
        token asking, the only one that may then confirm, renew or list it (None: any; see
        resumable.check_presign_owner). A failure leaves
        nothing: the pending file, made first, goes with the request that failed to start its
        upload in parts (the bucket out of reach), instead of being listed and counted as
        pending until its expiry."""
        upload = self.uploads.create_presigned_upload(
            size=size,
            presigner_for=lambda key: self.backends.presigner_for(key, arrival),
            owner=owner,
            **fields,
        )
        if not parts or size is None:  # (wants_multipart asks a size of parts)
            return upload, None
        try:
            plan = self.resumable.start_presigned_multipart(
                upload.file, size, upload.expires_at, owner
            )
        except BaseException:
            try:
                self._catalog.drop_unfinished(upload.file.id)
            except Exception:  # noqa: BLE001 - the start's own error is the one to raise
                logger.warning("Pending upload %d not removed", upload.file.id)
            raise
        return upload, plan

    def presign_again(
        self,
        idempotency_key: str | None,
        owner: str | None,
        size: int | None,
        arrival: Arrival | None = None,
    ) -> tuple[FileRecord, dict[str, object]] | None:
        """A presign sent again with the `idempotency_key` of one that made a pending upload
        (Ingestor.presigned_again): that upload and its fresh URLs, as a renewal signs them
        (the parts the bucket lacks, all of them for an upload nothing was sent to), in the
        presign's answer; None when no pending upload has the key."""
        file_id = self.uploads.presigned_again(idempotency_key, owner, size)
        if file_id is None:
            return None
        answer = self.resumable.renew(file_id, None, arrival)
        record = self._catalog.get(file_id)
        return record, {"file_id": file_id, "file_key": record.storage_key, **answer}

    # ---- editing ----------------------------------------------------------------------------
    def update_file(
        self, file_id: int, changes: dict[str, Any], expected_version: int | None = None
    ) -> FileRecord:
        """Edits filename, athlete, public flag and description; a new athlete moves the object."""
        unknown = set(changes) - set(EDITABLE)
        if unknown:
            raise InvalidInput(f"These fields cannot be changed: {', '.join(sorted(unknown))}")
        asked, file_id = file_id, self._catalog.resolve(file_id)  # an alias edits its file
        # One edit of a file at a time in this process, and the version checked before any
        # storage work: of concurrent edits with the same version exactly one wins, the
        # others get 409. Across processes the edit's transaction locks the row and checks
        # again on it (_update_locked): with a version it then answers stale_version, without
        # one it applies over the other's change, however many processes edit the file. Only
        # a move whose object another process moved meanwhile runs again from its read.
        with self._edit_locks.hold(file_id):
            record = self._db.retrying(
                lambda: self._update_locked(file_id, changes, expected_version)
            )
        return record if asked == file_id else record.as_alias(asked)

    def _update_locked(
        self,
        file_id: int,
        changes: dict[str, Any],
        expected_version: int | None,
        trashing: Collection[int] = (),
        held: Collection[str] = (),
    ) -> FileRecord:
        """`trashing`: the files a trash is about to move there, this one among them (no
        `changes`): only its public link's end is done here (`_end_public_links`). `held`: the
        object locks the caller holds (a trash's, to its write)."""
        current = self._catalog.get(file_id, include_trashed=True)
        ends = bool(trashing) or changes.get("is_public") is False
        fresh = None
        if ends and self._shown_publicly(current):
            fresh = keys.renamed_key(current.storage_key)
        # Every key this edit may copy to, whichever way its public link's end is decided
        candidates = {
            key
            for key in (
                _plan_edit(current, changes, expected_version, fresh, bool(trashing))[1],
                _plan_edit(current, changes, expected_version, None, bool(trashing))[1],
            )
            if key
        }
        # A public file moving to another athlete's folder leaves the files sharing its object
        # on the old key, whose address its link was: trashed or private ones, none public
        # there, go to a key under a new name (decided under the old key's lock, as `fresh`)
        left = None
        if not ends and candidates and self._shown_publicly(current):
            left = keys.renamed_key(current.storage_key)
            candidates.add(left)
        # Copy and commit under the new key's locks, in this process and across the processes
        # of the catalog (the deleter's, DeferredDeleter._delete): a deferred deletion of that
        # very key (a file moved back within the grace period, by any server) waits, then sees
        # the row and keeps it; or it deleted the object before, and the copy puts it back.
        # A public link's end is decided, copied and committed under the old key's lock, as
        # every other end of a link to that object (another file sharing it made private or
        # trashed at the same moment, perhaps by another server) and a storage move of it:
        # decided before, two sharers each counted on the other to keep the object public and
        # it stayed served at its old key. It also keeps a video job that stored its files
        # under the old name's folder from being recorded done (core/video/worker.py checks
        # the key under it) with a key whose folder was copied without them.
        with contextlib.ExitStack() as guard:
            for key in sorted(candidates):
                guard.enter_context(self.deferred.key_locks.hold(key))
            objects = candidates | ({current.storage_key} if fresh or left else set())
            if objects - set(held):
                guard.enter_context(self._object_locks.hold_many(objects - set(held)))
            if fresh or left:
                locked, current = (
                    current.storage_key,
                    self._catalog.get(file_id, include_trashed=True),
                )
                if current.storage_key != locked:
                    raise LostRace()  # moved meanwhile: decided again under its new key's lock
                if fresh and not self._public_link_ends(current, trashing):
                    fresh = None
                if left and not self._leaves_hidden_sharers(current):
                    left = None
            values, new_key = _plan_edit(current, changes, expected_version, fresh, bool(trashing))
            if trashing and not new_key:
                return current
            self._refuse_duplicate(None, current, values)  # before any copy: asked again below
            if new_key and new_key not in candidates:
                raise LostRace()  # changed meanwhile: its new key's locks are not held
            hiding = fresh is not None and new_key is not None
            if not new_key:
                left = None
            if left:
                collect_unless_recorded(
                    self._db, left, self._storage, "move_copy", also=_note_video_copy
                )
            if new_key:
                # a new name's video folder is copied too (below): noted with the object for
                # deletion before any of it is written, so that a process killed in the
                # middle leaves copies a pending deletion names, which the commit takes back
                collect_unless_recorded(
                    self._db,
                    new_key,
                    self._storage,
                    "move_copy",
                    also=_note_video_copy if hiding else None,
                )
            try:
                if new_key:
                    # a refused copy (a full disk) goes with its noted deletion, as a failed
                    # commit's does: listed as pending for hours otherwise
                    self._copy_object(current.storage_key, new_key)
                if hiding and new_key:
                    # a new file name: the video's derivatives are named by it (keys.video_prefix)
                    self._copy_video_derivatives(current.storage_key, new_key)
                if left:
                    self._copy_object(current.storage_key, left)
                    self._copy_video_derivatives(current.storage_key, left)
                with self._db.write() as s:
                    if current.sha256 and {"athlete_id", "is_public"} & changes.keys():
                        # the duplicate rule's lock before the row's, in the order an upload
                        # or a restore takes them (PostgreSQL would find a deadlock crosswise)
                        Catalog.lock_sha(s, current.sha256)
                    row = Catalog.locked_file(s, file_id)
                    if row is None:
                        raise NotFound(f"File {file_id} not found")
                    if row.version != current.version:
                        # committed elsewhere since `current` was read: decided again on the
                        # row, which no one changes before this commits, so an edit is never
                        # lost to other processes' edits (a stale version is still refused).
                        # Only storage work planned for another key starts over from the reads.
                        planned = (current.storage_key, new_key)
                        current = FileRecord.from_row(row)
                        values, new_key = _plan_edit(
                            current, changes, expected_version, fresh, bool(trashing)
                        )
                        if (current.storage_key, new_key) != planned:
                            new_key = planned[1]  # the copy made, discarded below
                            raise LostRace()
                    self._refuse_duplicate(s, current, values)
                    if "athlete_id" in values:
                        Catalog.ensure_athlete(s, values["athlete_id"])
                    for name, value in values.items():
                        setattr(row, name, value)
                    if new_key:
                        row.storage_key = new_key
                        # the old key goes later, once no reader can still be using it; the
                        # copy's notes (its video folder's too) go with this commit
                        self.deferred.cancel(s, new_key)
                        # on the backend the file is on (perhaps not this process's active
                        # one, nor loaded by the process that runs the deletion)
                        self.deferred.queue(s, current.storage_key, backend=row.storage_backend)
                        if hiding:
                            self._rekey_sharers(s, file_id, current.storage_key, new_key)
                            self._queue_old_video(s, current.storage_key, row.storage_backend)
                        elif left and self._rekey_sharers(s, file_id, current.storage_key, left):
                            # (none left since: the copy goes with its note) The moved file
                            # bears the old name still: its video folder stays
                            self.deferred.cancel(s, left)
            except BaseException:
                # under the key's locks: the notes are ours alone; they go with the object's
                # copy only once the video folder's is gone too
                if new_key and (not hiding or self._drop_video_copy(new_key)):
                    discard_unless_recorded(self._db, self._storage, new_key, "move_copy")
                if left and self._drop_video_copy(left):
                    discard_unless_recorded(self._db, self._storage, left, "move_copy")
                raise
        if new_key:
            self.deferred.schedule()
        record = self._catalog.get(file_id)
        return record

    def _refuse_duplicate(
        self, s: Session | None, current: FileRecord, values: Mapping[str, Any]
    ) -> None:
        """The duplicate rule (README, "Duplicates keep their id"; core.ingest's `_same_bytes`)
        kept by an edit: a ready file given the athlete or is_public of another ready file of
        the same bytes would be its duplicate, two files an upload of those bytes can only
        answer one of. Refused, 409 conflict with reason duplicate and details.duplicate_of
        naming that file, as an upload names it; nothing changed. Merging the two would throw
        the edited file's own name and description away. With `s`, the edit's write
        transaction, asked under Catalog.lock_sha, as an upload asks it: one that readies such
        a file at the same moment, on any server, is seen here, or sees this edit."""
        athlete = values.get("athlete_id", current.athlete_id)
        public = bool(values.get("is_public", current.is_public))
        if (athlete, public) == (current.athlete_id, current.is_public):
            return
        if current.status != FileStatus.READY or current.is_trashed or not current.sha256:
            return  # no file an upload is answered with, whatever its athlete and flags
        if s is not None:
            Catalog.lock_sha(s, current.sha256)
        same = self._catalog.same_bytes(current.sha256, athlete, public, s)
        if same is not None and same.duplicate and same.file_id != current.id:
            raise Conflict(
                f"File {same.file_id} holds the same bytes for that athlete and is_public: "
                "this edit would make the two duplicates",
                reason="duplicate",
                # the athlete the edit asked for (None: none), as the desktop says whose copy
                # it is: "for this athlete" read wrong for a file given no athlete
                details={"duplicate_of": same.file_id, "athlete_id": athlete},
            )

    # An R2 public domain serves every object of the bucket by its key to anyone, and a public
    # file's link (urls.public, also in anonymous listings) names that key: a file made private
    # or trashed would stay public there until a hard delete. So its object and derivatives go
    # to a key under a new unguessable name, the athlete move's way (copy, then the old key
    # after the grace period), for every file sharing the object: one left on the old key
    # would keep it served. While another file showing the object stays public, its link is
    # the same address and the bytes are public anyway: the object stays.
    def _shown_publicly(self, current: FileRecord) -> bool:
        """Whether `current` may be named on the public domain (public_urls), its object
        perhaps in the bucket: one whose link's end is then decided (`_public_link_ends`)."""
        if not (self.settings.r2_public_domain and self.settings.r2_configured):
            return False
        return current.is_public and not current.is_trashed and current.status == FileStatus.READY

    def _public_link_ends(self, current: FileRecord, besides: Collection[int]) -> bool:
        """Whether `current`, public, is the last file that shows its object on the public
        domain (`besides`: files also leaving, a trash's batch). Asked under the object's
        lock (`_update_locked`): the answer holds to the commit."""
        if not self._shown_publicly(current):
            return False
        if not self.backends.keys_on_backend([current.storage_key], "r2"):
            return False
        with self._db.read() as s:
            other = s.scalar(
                select(MediaFile.id)
                .where(
                    MediaFile.storage_key == current.storage_key,
                    MediaFile.alias_of.is_(None),
                    MediaFile.is_public.is_(True),
                    MediaFile.deleted_at.is_(None),
                    MediaFile.status == FileStatus.READY,
                    MediaFile.id.not_in({current.id, *besides}),
                )
                .limit(1)
            )
        return other is None

    def _leaves_hidden_sharers(self, current: FileRecord) -> bool:
        """Whether `current`, public, leaving its key leaves files there and none of them
        public (trashed or private while its link was the same address): they must leave that
        address too. Asked under the object's lock, as `_public_link_ends`."""
        if not self._public_link_ends(current, ()):
            return False  # another file's link is that address: the object stays
        with self._db.read() as s:
            other = s.scalar(
                select(MediaFile.id)
                .where(
                    MediaFile.storage_key == current.storage_key,
                    MediaFile.alias_of.is_(None),
                    MediaFile.id != current.id,
                )
                .limit(1)
            )
        return other is not None

    def _copy_video_derivatives(self, src: str, dst: str) -> None:
        """A video's renditions, HLS and scrub thumbnails under the new file name's folder."""
        old, new = keys.video_prefix(src), keys.video_prefix(dst)
        store = self._r2_store()
        with self.reading(src):
            for obj in list(store.list_keys(old)):
                # one gone since the listing (a job's superseded files, deleted meanwhile) is
                # not needed under the new name either
                with contextlib.suppress(NotFound):
                    store.copy(obj.key, new + obj.key[len(old) :])

    def _drop_video_copy(self, key: str) -> bool:
        """The video folder a re-key that did not commit copied under the new name `key`,
        deleted unless a row names that key (a commit that succeeded and still raised).
        Whether its note may go: not while copies may be left, which it deletes once due."""
        try:
            with self._db.read() as s:
                if not named_on(s, key, "r2"):
                    self._r2_store().delete_prefix(keys.video_prefix(key))
        except Exception as exc:  # noqa: BLE001 - the note deletes them; the edit's error stands
            logger.warning("Copies under %s left to their noted deletion: %s", key, exc)
            return False
        return True

    def _r2_store(self) -> Storage:
        """The bucket's own store (a routing storage lists only its active backend)."""
        backend = getattr(self._storage, "backend", None)
        return backend("r2") if backend is not None else self._storage  # type: ignore[no-any-return]

    @staticmethod
    def _rekey_sharers(s: Any, file_id: int, old: str, new: str) -> int:
        """The other files sharing the object follow it (their versions move on too); how
        many."""
        moved = 0
        for other in s.scalars(
            select(MediaFile)
            .where(
                MediaFile.storage_key == old,
                MediaFile.alias_of.is_(None),
                MediaFile.id != file_id,
            )
            .with_for_update()
        ):
            other.storage_key = new
            moved += 1
        return moved

    def _queue_old_video(self, s: Any, old: str, backend: str | None) -> None:
        """The old name's video folder goes after the move's grace period (not a replaced
        job's hours: that address was public), unless a file still bears that name (a copy
        of the object moved to another athlete's folder shares the folder)."""
        name = old.rsplit("/", 1)[-1]
        s.flush()
        still = s.scalar(
            select(MediaFile.id)
            .where(
                or_(
                    MediaFile.storage_key == name,
                    MediaFile.storage_key.endswith("/" + name, autoescape=True),
                )
            )
            .limit(1)
        )
        if still is None:
            s.add(
                DeferredDeletion(
                    storage_key=keys.video_prefix(old),
                    is_prefix=True,
                    backend=backend,
                    reason="move",
                    not_before=datetime.now(UTC) + timedelta(seconds=self.deferred.grace),
                )
            )

    def _copy_object(self, src: str, dst: str) -> None:
        """The object and its thumbnail at a new key; the old ones stay for their readers."""
        with self.reading(src):
            self._storage.copy(src, dst)
            with contextlib.suppress(NotFound):
                self._storage.copy(keys.thumbnail_key(src), keys.thumbnail_key(dst))

    def trash(self, file_id: int, expected_version: int | None = None) -> FileRecord:
        """`expected_version`: stale_version unless the file is at it, checked on the row the
        trash writes (as `update_file`'s), so a change committed meanwhile is seen."""
        return self._set_trashed(file_id, True, expected_version)

    def restore(self, file_id: int, expected_version: int | None = None) -> FileRecord:
        """`expected_version`: as `trash`'s."""
        return self._set_trashed(file_id, False, expected_version)

    def trash_many(
        self, file_ids: list[int], report: Callable[[int, int], None] | None = None
    ) -> BulkOutcome:
        """Moves many files to the trash, BULK_BATCH of them per transaction.

        A thousand selected files took a commit each (12-30 ms apiece, seconds in all, and as
        many change-feed wake-ups elsewhere). Each file answers as `trash` would: one already
        in the trash or gone is listed in `failed` with its reason, the others are trashed.
        A failure of the catalog itself stops here: the batches before it stay done.
        `report(done, total)` follows each batch.
        """
        return self._set_trashed_many(file_ids, True, report)

    def restore_many(
        self, file_ids: list[int], report: Callable[[int, int], None] | None = None
    ) -> BulkOutcome:
        """`trash_many`'s way back: many files out of the trash, a batch per transaction."""
        return self._set_trashed_many(file_ids, False, report)

    def _set_trashed(
        self, file_id: int, trashed: bool, expected_version: int | None = None
    ) -> FileRecord:
        outcome = self._set_trashed_many([file_id], trashed, expected_version=expected_version)
        if outcome.failed:
            raise outcome.failed[0][1]
        return self._catalog.get(file_id)  # an alias id answers as itself, naming its target

    def _set_trashed_many(
        self,
        file_ids: list[int],
        trashed: bool,
        report: Callable[[int, int], None] | None = None,
        expected_version: int | None = None,
    ) -> BulkOutcome:
        """`expected_version`: of the one file of `file_ids` (`trash`, `restore`)."""
        asked = list(dict.fromkeys(file_ids))  # a file selected twice is one
        done: list[int] = []
        failed: list[tuple[int, Exception]] = []
        for start in range(0, len(asked), BULK_BATCH):
            chunk = asked[start : start + BULK_BATCH]
            # ids past the column's range cannot be bound (PostgreSQL) and name nothing
            targets = self._catalog.resolve_many([i for i in chunk if 0 < i <= MAX_ID])
            # the version each target must be at, by its id (an alias's is its file's)
            expected = (
                {}
                if expected_version is None
                else {target: expected_version for target in targets.values()}
            )
            # Under the edit locks (in id order: two bulk calls never wait on each other
            # crosswise): a restore during the emptying of the trash waits for that file's
            # deletion (and then answers not_found) instead of answering 200 for a file whose
            # deletion goes on.
            with contextlib.ExitStack() as locks:
                for target in sorted(set(targets.values())):
                    locks.enter_context(self._edit_locks.hold(target))
                if not trashed:  # a claim its deletion left behind when it died
                    self._settle_stale_claims(set(targets.values()))
                kept: dict[int, MediaDeskError] = {}
                if trashed:
                    # before the trash (a file whose link could not end is not trashed), under
                    # the locks of the objects it shows to the trash's write: a file sharing
                    # one, its link ending at the same moment, counts this one as showing it
                    # until then (`_update_locked`)
                    shown = self._shown_objects(set(targets.values()))
                    if shown:
                        locks.enter_context(self._object_locks.hold_many(shown))
                    kept = self._end_public_links(
                        set(targets.values()), held=shown, expected=expected
                    )
                going = [i for i in chunk if targets.get(i) not in kept]
                # A batch that lost to another write of one of its rows runs again from its
                # reads: after a trash elsewhere that file answers already_trashed as a
                # repeated trash does, after an edit it is trashed.
                merged: list[_Merged] = []
                errors = self._db.retrying(
                    functools.partial(
                        self._write_trashed, going, targets, trashed, merged, expected
                    )
                )
                errors.update((i, kept[targets[i]]) for i in chunk if targets.get(i) in kept)
                for each in merged:  # under its edit lock still: no move of it meanwhile
                    self._merged_away(each)
            for file_id in chunk:
                if file_id in errors:
                    failed.append((file_id, errors[file_id]))
                else:
                    done.append(file_id)
            if report is not None:
                report(min(start + BULK_BATCH, len(asked)), len(asked))
        return BulkOutcome(done=tuple(done), failed=tuple(failed))

    def _shown_objects(self, targets: set[int]) -> set[str]:
        """The objects of `targets` a public domain may serve by their links
        (`_shown_publicly`)."""
        if not (self.settings.r2_public_domain and self.settings.r2_configured) or not targets:
            return set()
        with self._db.read() as s:
            return set(
                s.scalars(
                    select(MediaFile.storage_key).where(
                        MediaFile.id.in_(targets),
                        MediaFile.alias_of.is_(None),
                        MediaFile.is_public.is_(True),
                        MediaFile.deleted_at.is_(None),
                        MediaFile.status == FileStatus.READY,
                    )
                )
            )

    def _end_public_links(
        self,
        targets: set[int],
        shared_only: bool = False,
        held: Collection[str] = (),
        expected: dict[int, int] | None = None,
    ) -> dict[int, MediaDeskError]:
        """Moves the objects of the public files about to be trashed whose public-domain
        link must end (`_public_link_ends`); under their edit locks. The files whose move
        failed, with its error: they stay out of the trash, their link unchanged.
        `shared_only`: only objects other files share (a hard delete removes the others).
        `held`: the object locks the caller holds. `expected`: the version each target must be
        at (stale_version, checked on the locked row), moved on to the version a link's end
        gave it, which the trash or deletion that follows then checks."""
        if not (self.settings.r2_public_domain and self.settings.r2_configured):
            return {}
        expected = {} if expected is None else expected
        failed: dict[int, MediaDeskError] = {}
        moved: set[str] = set()  # files sharing one object move together
        for target in sorted(targets):
            try:
                current = self._catalog.get(target, include_trashed=True)
                if current.storage_key in moved or not current.is_public or current.is_trashed:
                    continue
                if shared_only and not self._catalog.references(current.storage_key, target):
                    continue
                record = self._db.retrying(
                    functools.partial(
                        self._update_locked, target, {}, expected.get(target), targets, held
                    )
                )
                if target in expected:
                    expected[target] = record.version
                moved.add(record.storage_key)
            except NotFound:
                continue  # the trash's own write says so
            except MediaDeskError as exc:
                failed[target] = exc
        return failed

    def _write_trashed(
        self,
        chunk: list[int],
        targets: dict[int, int],
        trashed: bool,
        merged: list[_Merged] | None = None,
        expected: Mapping[int, int] | None = None,
    ) -> dict[int, MediaDeskError]:
        """`merged`: filled with the files a restore made aliases (`_merge_restored`), whose
        objects and jobs the caller then settles. `expected`: the version each target must be
        at, checked on the row this write changes (its version, checked again at the commit:
        a change committed meanwhile loses the race and the check is made again)."""
        errors: dict[int, MediaDeskError] = {}
        if merged is not None:
            merged.clear()  # a run again after a lost race decides anew
        with self._db.write() as s:
            rows = {
                row.id: row
                for row in s.scalars(
                    select(MediaFile).where(MediaFile.id.in_(set(targets.values())))
                )
            }
            # An id made an alias since it was resolved (a duplicate's confirm, perhaps on
            # another server): the file it names now is trashed, as through any alias. Its
            # own deleted_at is read by nothing: the trash was answered 200 and lost.
            later = {r.alias_of for r in rows.values() if r.alias_of is not None} - rows.keys()
            if later:
                rows.update(
                    (row.id, row)
                    for row in s.scalars(select(MediaFile).where(MediaFile.id.in_(later)))
                )
            now = utcnow()
            gone: set[int] = set()  # made aliases by this restore (`_merge_restored`)
            if not trashed:
                # the duplicate rule's lock on each hash the restore asks it of, taken in one
                # order, so two restores of many files never wait on each other crosswise
                shas = {r.sha256 for r in rows.values() if r.sha256 and r.deleted_at is not None}
                for sha in sorted(shas):
                    Catalog.lock_sha(s, sha)
            for file_id in chunk:
                row = rows.get(targets.get(file_id, -1))
                if row is not None and row.alias_of is not None:
                    row = rows.get(row.alias_of)
                want = (expected or {}).get(targets.get(file_id, -1))
                if row is None:
                    errors[file_id] = NotFound(f"File {file_id} not found")
                elif want is not None and row.version != want:
                    errors[file_id] = stale_version(row.version)
                elif not trashed and row.purging_since is not None:
                    # claimed by an emptying or purge (perhaps another server's): its bytes
                    # are going or gone. The claim bumped the version, so a restore that read
                    # the row before it loses the race and comes back here. (A stale claim
                    # was settled before this write, under the edit locks.)
                    errors[file_id] = Conflict(
                        "The file is being deleted for good", reason="being_deleted"
                    )
                elif (row.deleted_at is not None) == trashed:
                    # (also an alias and its file both asked for: the second finds it done)
                    errors[file_id] = Conflict(
                        "The file is already in the trash"
                        if trashed
                        else "The file is not in the trash",
                        reason="already_trashed" if trashed else "not_trashed",
                    )
                elif row.id in gone:  # an alias and its file both asked for, as above
                    errors[file_id] = Conflict("The file is not in the trash", reason="not_trashed")
                elif not trashed and (into := self.uploads.duplicate_of_restored(s, row)):
                    gone.add(row.id)
                    merge = self._merge_restored(s, row, into)
                    if merged is not None:
                        merged.append(merge)
                else:
                    row.deleted_at = now if trashed else None
        return errors

    def _merge_restored(self, s: Session, row: MediaFile, into: int) -> _Merged:
        """A file in the trash whose bytes another ready file of the same athlete and flags
        now holds (uploaded again while it was there) comes back as that file: its id becomes
        an alias of `into`, answering as it from then on, as a presigned upload's id does, and
        its aliases follow. Its row goes and the alias row takes its id, so listeners hear a
        file deleted from the trash (core.feed's snapshot of the row as it was) and nothing
        of the alias, as of any. Its object stays while another file shares it, and its jobs
        (and what they made) go to that file; else they go away, and the deletion of its
        object and its video folder is noted. All of it in the same commit, so a crash after
        it strands nothing under an id that is no file's any more (the jobs a sharer's
        processing state reads, an object or folder no row names): a restart or maintenance
        runs the noted deletions once due. `_merged_away` carries them out at once."""
        record = FileRecord.from_row(row)
        heir = s.scalar(
            select(func.min(MediaFile.id)).where(
                MediaFile.storage_key == row.storage_key,
                MediaFile.alias_of.is_(None),
                MediaFile.id != row.id,
            )
        )
        s.execute(
            update(MediaFile)
            .where(MediaFile.alias_of == row.id)
            .values(alias_of=into)
            .execution_options(synchronize_session=False)
        )
        alias = MediaFile(
            id=row.id,
            storage_key=row.storage_key,
            storage_backend=row.storage_backend,
            original_filename=row.original_filename,
            content_type=row.content_type,
            file_type=row.file_type,
            size=row.size,
            sha256=row.sha256,
            athlete_id=row.athlete_id,
            is_public=row.is_public,
            status="alias",
            alias_of=into,
            created_at=row.created_at,
        )
        s.delete(row)
        s.flush()
        s.add(alias)
        if heir is not None:
            hand_over_jobs(s, row.id, int(heir))
            return _Merged(record, into)
        forget_jobs(s, [row.id])
        self.deferred.queue(s, row.storage_key, "restored_duplicate", backend=row.storage_backend)
        # the key's deletion leaves the video folder (named by the key's file name): another
        # file bearing that name keeps it, as `release_object` asks
        if row.file_type == FileKind.VIDEO and not Catalog.name_used(s, row.storage_key, row.id):
            self.deferred.queue_prefix(
                s,
                keys.video_prefix(row.storage_key),
                "restored_duplicate",
                backend=row.storage_backend,
            )
        return _Merged(record, into)

    def _merged_away(self, merged: _Merged) -> None:
        """After `_merge_restored`'s commit, as a hard delete ends: its object, derivatives
        and video folder go unless another file keeps them (its jobs went in the commit). A
        failure is logged, never raised: the restore is done, and the noted deletions remove
        them later."""
        record = merged.record
        logger.info(
            "File %s restored as file %s: the same bytes, uploaded again while it was in the trash",
            record.id,
            merged.into,
            extra={"file_id": record.id, "outcome": "duplicate"},
        )
        try:
            if self.release_object(record.storage_key, besides=record.id):  # unless shared
                # its video folder went with it: the noted deletion would only list it for hours
                with self._db.write() as s:
                    DeferredDeleter.cancel(s, keys.video_prefix(record.storage_key))
            self._thumbnails.drop(record)
        except (MediaDeskError, SQLAlchemyError) as exc:
            logger.warning(
                "File %s, restored as file %s: its own object is left behind for now: %s",
                record.id,
                merged.into,
                exc,
                extra={"file_id": record.id},
            )

    def delete(
        self, file_id: int, hard: bool = False, expected_version: int | None = None
    ) -> FileRecord:
        """`expected_version`: stale_version unless the file is at it, checked on the row the
        trash or the deletion's claim writes, as `update_file`'s."""
        if hard:
            return self.delete_permanently(file_id, expected_version=expected_version)
        return self.trash(file_id, expected_version)

    def delete_permanently(
        self, file_id: int, only_trashed: bool = False, expected_version: int | None = None
    ) -> FileRecord:
        """Removes the object, then its jobs and derivatives, then the row.

        Why this order: every step is one a retry does again (deleting what is already gone
        succeeds, on the local folder as on S3), and the row, which a retry needs, goes last.
        Derivatives first left a file that looks whole without its thumbnail, renditions or
        jobs, which nothing reports or repairs. A probe of the object's folder before them
        would not promise the delete that follows (and a bucket has nothing to probe).
        Before any byte goes the file is claimed in the catalog (`_claim_for_deletion`), and a
        file not in the trash is moved there by the same write: from then on it is not listed
        among live files, and a restore anywhere answers being_deleted. So a crash (kill -9)
        after any step leaves a claim that maintenance or a restore settles once its lease is
        over (`_settle_stale_claims`): the object gone, the deletion is finished; still
        stored, the file stays in the trash, unmarked. Never a live file without its bytes
        (a hard delete of a live file once left one, listed, after a kill between its object
        and its row). A failure in this process whose DELETE the store refused (the folder
        unwritable, access denied), the object then confirmed stored, leaves the file as it
        was, live or in the trash. With the object gone, its DELETE unanswered (a timeout, a
        cut connection: the bucket may carry it out later) or the store unable to confirm it,
        the file stays claimed in the trash, heard as trashed, and is settled the same way.
        `only_trashed` (the trash's purge and emptying): a file restored meanwhile is kept,
        with Conflict not_trashed. On a full disk it runs in the catalog's reserve
        (`_freeing_room`).
        """
        claimed: list[int] = []  # the version a run's own claim moved on is not a change

        def deletion() -> FileRecord:
            version = None if claimed else expected_version
            return self._delete_permanently(file_id, only_trashed, version, claimed)

        return self._freeing_room(deletion)

    def _delete_permanently(
        self,
        file_id: int,
        only_trashed: bool,
        expected_version: int | None = None,
        claimed: list[int] | None = None,
    ) -> FileRecord:
        asked, file_id = file_id, self._catalog.resolve(file_id)
        expected = {} if expected_version is None else {file_id: expected_version}
        # Not during a move of the file (the edit lock in this process; across processes the
        # key checked at the row's delete): a move that committed after this read the key
        # would leave its copy, which no row names any more, in the store.
        with self._edit_locks.hold(file_id), contextlib.ExitStack() as guard:
            locked = None
            if not only_trashed:
                # a live public file whose object other files keep: that object stays, so
                # it leaves the address the link named first (as a trash would have done);
                # under the object's locks to the claim, as a trash's (`_set_trashed_many`)
                shown = self._shown_objects({file_id})
                for locked in shown:
                    guard.enter_context(self.deferred.key_locks.hold(locked))
                    guard.enter_context(self._object_locks.hold(locked))
                kept = self._end_public_links(
                    {file_id}, shared_only=True, held=shown, expected=expected
                )
                if kept:
                    raise kept[file_id]
            record = self._db.retrying(
                lambda: self._delete_permanently_locked(
                    file_id, only_trashed, locked, expected.get(file_id), claimed
                )
            )
        return record if asked == file_id else record.as_alias(asked)

    def empty_trash(self, report: Callable[[int, int], None] | None = None) -> list[int]:
        """Permanently deletes the files in the trash when asked; returns their ids.

        BULK_BATCH files at a time, in `delete_permanently`'s crash-safe order (objects, then
        jobs and derivatives, then rows; shared objects kept): a file took two commits, a
        storage request per object and a scan of the catalog (7 files/s at 60,000 files).
        A failure stops here with the files not yet reached, and those of its batch, still in
        the trash (some perhaps without their bytes, as after a crash of `delete_permanently`),
        and emptying again finishes. A file restored meanwhile (another window, the server)
        is kept, one deleted meanwhile is skipped, and one trashed after the call began
        waits for the next emptying: the user confirmed the trash they saw.
        What they saw is the trash as read here, each file with its trash date, and not the
        files trashed before this computer's clock: a date ahead of it (a machine whose clock
        ran ahead, or a clock corrected since) left the file in the trash after "emptied".
        A file is deleted while it is still in the trash since that date or before: one
        restored and trashed again meanwhile has a later date, written by the clock of
        whoever trashed it again (the same rule as `delete_permanently`'s).
        `report(done, total)` follows each batch. Files on a backend this process cannot
        use (not built, storage_not_configured, or set up too incompletely: StorageUnusable)
        stay in the trash untouched, the others go, and the emptying then raises that error.
        On a full disk it runs in the catalog's reserve (`_freeing_room`).
        """
        return self._freeing_room(lambda: self._empty_trash(report))

    def _freeing_room(self, deletion: Callable[[], _T]) -> _T:
        """`deletion`, run again in the room of the catalog's reserve (core/reserve.py) when
        one of its catalog writes met a full disk: the claim a deletion writes before any
        byte goes needs room in SQLite's -wal, so on a full disk nothing could be deleted to
        free space. Each of its steps is one a run again does again (`delete_permanently`),
        and a claim the failed run left is claimed anew. The reserve is made again once the
        disk has room for it (the deleted bytes' own, when they were on this disk), else by
        a later deletion or start; other writes never use it."""
        try:
            try:
                return deletion()
            except Exception as exc:
                full = no_room(exc)
                if not full or not self._reserve.release():
                    raise
            logger.warning("The catalog's disk is full: its reserve is given to a deletion")
            return deletion()
        finally:
            self._reserve.keep()

    def _empty_trash(self, report: Callable[[int, int], None] | None) -> list[int]:
        trash = self._catalog.trash_dates()
        ids = list(trash)
        deleted: list[int] = []
        unreachable: StorageUnusable | None = None
        for start in range(0, len(ids), BULK_BATCH):
            chunk = ids[start : start + BULK_BATCH]
            try:
                deleted += self._empty_batch({file_id: trash[file_id] for file_id in chunk})
            except StorageUnusable as exc:
                # Files on a backend this process cannot use (`_reach`, before any byte of the
                # batch went): one at a time, so they alone stay in the trash, and the rest of
                # it is still emptied.
                unreachable = exc
                for file_id in chunk:
                    with contextlib.suppress(StorageUnusable):
                        deleted += self._empty_batch({file_id: trash[file_id]})
            if report is not None:
                report(min(start + BULK_BATCH, len(ids)), len(ids))
        if unreachable is not None:
            raise unreachable
        return deleted

    def _empty_batch(self, trash: Mapping[int, datetime]) -> list[int]:
        """Deletes the files of `trash` still in the trash since their date there or before;
        returns their ids. A file sharing its object with a file kept, or moved meanwhile,
        goes the one-file way."""
        chunk = list(trash)
        deleted: list[int] = []
        batch: set[int] = set()
        claim = _Claim(set(), utcnow())
        try:
            with contextlib.ExitStack() as locks:
                for file_id in sorted(chunk):  # as `delete_permanently`: never during a move
                    locks.enter_context(self._edit_locks.hold(file_id))
                records = self._catalog.trashed_records(trash)
                objects = sorted({r.storage_key for r in records})
                for key in objects:
                    locks.enter_context(self.deferred.key_locks.hold(key))
                locks.enter_context(self._object_locks.hold_many(objects))
                self._db.schema.confirm()  # a newer schema's references are not ours to count
                # Another server's restore takes no lock of ours: only the files the catalog
                # still has in the trash at the claim are deleted, and no restore takes them back.
                claim = self._claim_for_deletion(
                    [r.id for r in records], {r.id: trash[r.id] for r in records}
                )
                records = [r for r in records if r.id in claim.ids]
                objects = sorted({r.storage_key for r in records})
                batch = {r.id for r in records}
                shared = self._catalog.referenced_by_others(objects, batch)
                records = [r for r in records if r.storage_key not in shared]
                if records:
                    deleted = self._delete_unshared(records, claim.at)
            for file_id in [i for i in chunk if i in batch and i not in deleted]:
                try:
                    self.delete_permanently(file_id, only_trashed=True)
                except (NotFound, Conflict):
                    continue
                deleted.append(file_id)
        except BaseException:
            # The files of the batch it has not reached: still under the claim as written,
            # so no byte of theirs went (`_delete_unshared` renews the mark before any goes,
            # and looks after its own; a file gone the one-file way was claimed anew).
            self._drop_claim(claim, bytes_touched=False)
            raise
        order = {file_id: n for n, file_id in enumerate(chunk)}
        return sorted(deleted, key=order.__getitem__)

    def _claim_for_deletion(
        self,
        file_ids: list[int],
        trashed_by: Mapping[int, datetime] | None,
        trash: bool = False,
        version: int | None = None,
    ) -> _Claim:
        """Marks the files as being deleted for good; returns those marked and the mark.

        The one rule that keeps a restore from answering 200 for a file whose bytes then go:
        one conditional write, atomic on SQLite and PostgreSQL alike, marks the files of
        `file_ids` still in the trash (each since its date in `trashed_by` or before, when
        given: a file restored and trashed again since has a later one), and only
        those marked may lose bytes or rows. With `trash` (a hard delete) the same write
        moves those not in the trash there first, marked alike (`_Claim.trashed`): a hard
        delete cut short by a crash then leaves a file in the trash under a claim, which is
        settled as any other, never a live file without its bytes. The write goes round the
        change feed, as the mark alone does: a hard delete that finishes is heard as deleted
        only, of the live file it was (`_Claim.versions`), as before. The version goes up with
        the mark, so a restore that read the row before it loses its race, reads the mark and
        answers being_deleted. `version`: only files at that version are marked (a hard
        delete's If-Match, checked by this write).
        The mark is a lease of CLAIM_LEASE, renewed before the bytes go (`_keep_claim`). One
        left older by a deletion that died is settled by a restore of the file or by
        maintenance (`_settle_stale_claims`): bytes still stored, the mark goes (the file is
        restored, or stays in the trash unmarked); bytes gone, the deletion is finished. Until
        then the file stays in the trash, and the next emptying or purge marks it again.
        """
        stamp = utcnow()
        if not file_ids:
            return _Claim(set(), stamp)
        conditions: list[ColumnElement[bool]] = [
            MediaFile.id.in_(file_ids),
            MediaFile.deleted_at.is_not(None),
        ]
        at_version = [] if version is None else [MediaFile.version == version]
        if trashed_by is not None:
            # a term per trash date: the files of one `trash_many` batch share theirs
            by_date: dict[datetime, list[int]] = {}
            for file_id, date in trashed_by.items():
                by_date.setdefault(date, []).append(file_id)
            conditions.append(
                or_(
                    *(
                        and_(MediaFile.id.in_(ids), MediaFile.deleted_at <= date)
                        for date, ids in by_date.items()
                    )
                )
            )

        def claim() -> _Claim:
            with self._db.write() as s:
                versions: dict[int, int] = {}
                if trash:
                    versions = {
                        file_id: version - 1
                        for file_id, version in s.execute(
                            update(MediaFile)
                            .where(
                                MediaFile.id.in_(file_ids),
                                MediaFile.deleted_at.is_(None),
                                *at_version,
                            )
                            .values(
                                deleted_at=stamp, purging_since=stamp, version=MediaFile.version + 1
                            )
                            .returning(MediaFile.id, MediaFile.version)
                            .execution_options(synchronize_session=False)
                        )
                    }
                trashed = set(versions)
                marked = set(
                    s.scalars(
                        update(MediaFile)
                        .where(*conditions, *at_version, MediaFile.id.not_in(trashed))
                        .values(purging_since=stamp, version=MediaFile.version + 1)
                        .returning(MediaFile.id)
                        .execution_options(synchronize_session=False)
                    )
                )
            return _Claim(
                marked | trashed, stamp, stamp if trashed else None, MappingProxyType(versions)
            )

        return self._db.retrying(claim)

    def _keep_claim(self, claim: _Claim) -> _Claim:
        """Those of `file_ids` still under the claim made `at`, right before their bytes go,
        and their new mark: the claim is renewed, and a file whose mark is no longer `at` (a
        restore or maintenance found the claim stale and settled it, or another deletion
        claimed it since) is not counted. Always, whatever the claim's age on this clock: a
        deletion stalled after its claim (a catalog outage, a stuck store), or another server
        whose clock runs ahead, may have seen the claim stale, and one conditional write per
        batch is cheap. So a deletion never deletes the bytes of a file a restore took back;
        what is left is the storage request itself, which the lease is far above."""
        stamp = utcnow()
        file_ids, at = claim.ids, claim.at
        if not file_ids:
            return claim._replace(at=stamp)

        def renew() -> set[int]:
            with self._db.write() as s:
                return set(
                    s.scalars(
                        update(MediaFile)
                        .where(MediaFile.id.in_(file_ids), MediaFile.purging_since == at)
                        .values(purging_since=stamp, version=MediaFile.version + 1)
                        .returning(MediaFile.id)
                        .execution_options(synchronize_session=False)
                    )
                )

        return claim._replace(ids=self._db.retrying(renew), at=stamp)

    def _drop_claim(self, claim: _Claim, bytes_touched: bool) -> None:
        """After a deletion failed in this process (the store out of reach, the catalog):
        its own claim, and only while the mark is still the one it wrote (another deletion
        may have claimed the files since), is not left to hold restores off for its lease.
        No byte touched (the mark a claim or renewal wrote before any went): the mark goes,
        the files are as before the claim, in the trash, or live again for those the claim
        moved there (`_Claim.trashed`, while still trashed by it). Bytes perhaps deleted (a request
        that got no answer may have done its work): the mark is dated back past the lease,
        so the bytes decide at the next restore or maintenance as for a deletion that died
        (`_settle_stale_claims`): the object stored, the file is kept; gone, the deletion
        is finished. Never a restored file without its bytes. Those the claim moved to the
        trash stay there, and listeners now hear them trashed. Best effort: if the catalog
        cannot take the write either, the lease settles the claim later (those files then
        unheard in the trash, as after a crash)."""
        if not claim.ids:
            return
        mark = claim.at - 2 * CLAIM_LEASE if bytes_touched else None

        def release() -> None:
            with self._db.write() as s:
                still_trashed_by_it = (
                    MediaFile.id.in_(list(claim.trashed)),
                    MediaFile.purging_since == claim.at,
                    MediaFile.deleted_at == claim.trashed_at,
                )
                if not bytes_touched and claim.trashed:
                    s.execute(
                        update(MediaFile)
                        .where(*still_trashed_by_it)
                        .values(purging_since=None, deleted_at=None, version=MediaFile.version + 1)
                        .execution_options(synchronize_session=False)
                    )
                elif claim.trashed:
                    # They stay in the trash, which the claim moved them to round the change
                    # feed: listeners (the desktop's counts, the web) still list them live.
                    # Through the feed now, as trashed from the live file they last heard of.
                    for row in s.scalars(select(MediaFile).where(*still_trashed_by_it)):
                        set_committed_value(row, "deleted_at", None)
                        # the version they last heard of, not the claim's unannounced ones
                        heard_as(row, version=claim.versions[row.id])
                        row.deleted_at = claim.trashed_at
                        row.purging_since = mark
                    s.flush()  # before the marks below: each row's version checked once
                s.execute(
                    update(MediaFile)
                    .where(MediaFile.id.in_(claim.ids), MediaFile.purging_since == claim.at)
                    .values(purging_since=mark, version=MediaFile.version + 1)
                    .execution_options(synchronize_session=False)
                )

        try:
            self._db.retrying(release)
        except Exception:  # noqa: BLE001 - the deletion's own error is the one to raise
            logger.warning("Claim for deletion of %s not released", sorted(claim.ids))

    def claimed_deletions(self) -> dict[int, datetime]:
        """The files in the trash under a claim for deletion, each with the end of its claim's
        lease: a deletion under way, or one that died, which the first maintenance from then
        on settles (`settle_stale_claims`). Reconcile tells their missing bytes from lost ones."""
        with self._db.read() as s:
            rows = s.execute(
                select(MediaFile.id, MediaFile.purging_since).where(
                    MediaFile.alias_of.is_(None),
                    MediaFile.purging_since.is_not(None),
                    MediaFile.deleted_at.is_not(None),
                )
            ).all()
        return {file_id: since + CLAIM_LEASE for file_id, since in rows if since is not None}

    def settle_stale_claims(self, now: datetime | None = None) -> tuple[list[int], list[int]]:
        """Maintenance's pass over the claims older than the lease (`_settle_stale_claims`):
        returns the ids unmarked (kept in the trash) and those whose deletion was finished."""
        released: list[int] = []
        finished: list[int] = []
        for file_id, _, _ in self._catalog.stale_claims((now or utcnow()) - CLAIM_LEASE):
            with self._edit_locks.hold(file_id):
                kept, gone = self._settle_stale_claims({file_id}, now)
            released += kept
            finished += gone
        return released, finished

    def _settle_stale_claims(
        self, file_ids: set[int], now: datetime | None = None
    ) -> tuple[list[int], list[int]]:
        """Settles the claims of `file_ids` older than CLAIM_LEASE (the caller holds their
        edit locks); returns the ids unmarked and those whose deletion was finished.

        Such a claim was left by a deletion that died; only the bytes tell how far it went.
        The object still stored (derivatives can be made again): the mark goes, if it is still
        the one read (a deletion that renewed or claimed it since is alive), and the file is
        as before the claim, in the trash. The object gone: the deletion is finished as the
        emptying would (jobs, derivatives, row), and a restore answers not_found; never a
        restored file without its bytes.
        """
        released: list[int] = []
        finished: list[int] = []
        stale = self._catalog.stale_claims((now or utcnow()) - CLAIM_LEASE, file_ids)
        for file_id, key, since in stale:
            if self._storage.exists(key):

                def release(file_id: int = file_id, since: datetime = since) -> bool:
                    with self._db.write() as s:
                        return (
                            s.scalar(
                                update(MediaFile)
                                .where(MediaFile.id == file_id, MediaFile.purging_since == since)
                                .values(purging_since=None, version=MediaFile.version + 1)
                                .returning(MediaFile.id)
                                .execution_options(synchronize_session=False)
                            )
                            is not None
                        )

                if self._db.retrying(release):
                    logger.info("File %d: a stale claim for deletion released", file_id)
                    released.append(file_id)
                continue
            try:
                self._db.retrying(functools.partial(self._delete_permanently_locked, file_id, True))
            except (NotFound, Conflict):
                continue  # deleted or restored since the read
            logger.info("File %d: a deletion cut short after its bytes went, finished", file_id)
            finished.append(file_id)
        return released, finished

    def _delete_unshared(self, records: list[FileRecord], claimed_at: datetime) -> list[int]:
        """Objects no file outside `records` references: bytes, jobs and derivatives, then the
        rows in one transaction. Returns the ids deleted (not those moved meanwhile).
        `records` are claimed at `claimed_at`; if one of them lost its claim meanwhile, none is
        deleted here and the caller's one-file way sorts them out."""
        objects = sorted({r.storage_key for r in records})
        batch = {r.id for r in records}
        self._reach(objects)
        held = self._keep_claim(_Claim(batch, claimed_at))
        if held.ids != batch:
            return []
        try:
            return self._delete_claimed(records, objects, batch)
        except BaseException:
            self._drop_claim(held, bytes_touched=True)
            raise

    def _delete_claimed(
        self, records: list[FileRecord], objects: list[str], batch: set[int]
    ) -> list[int]:
        """`_delete_unshared`'s deletions, its claim renewed."""
        self._storage.delete_many(objects)
        self.jobs.forget_files(batch)
        named = self._catalog.names_used_by_others(objects, batch)
        for key in objects:
            if key.rsplit("/", 1)[-1] not in named:
                self.delete_objects_under(keys.video_prefix(key))
            self._storage.delete_prefix(keys.variant_prefix(key))
        self._storage.delete_many([d for key in objects for d in keys.derivative_keys(key)])
        expected = {r.id: r.storage_key for r in records}

        def drop_rows() -> list[int]:
            gone: list[int] = []
            with self._db.write() as s:
                for row in s.scalars(select(MediaFile).where(MediaFile.id.in_(batch))):
                    # moved meanwhile by another process: deleted the one-file way, new key too
                    # (unmarked: restored after a stall past the lease, bytes and all: kept)
                    if row.storage_key == expected[row.id] and row.purging_since is not None:
                        self.uploads.sweep_upload_url(s, row.storage_key, row.upload_expires_at)
                        s.delete(row)
                        gone.append(row.id)
                # their aliases go with them: an id that named a deleted file answers 404
                s.execute(delete(MediaFile).where(MediaFile.alias_of.in_(gone)))
            return gone

        gone = self._db.retrying(drop_rows)
        self._drop_unnamed_videos([key for key in objects if key.rsplit("/", 1)[-1] in named])
        for record in records:
            if record.id in gone:
                self._thumbnails.drop(record)
        return gone

    def _drop_unnamed_videos(self, kept: list[str]) -> None:
        """The video folders of `kept`, objects whose deletion kept them for another file
        bearing the same file name (keys.video_prefix), deleted once no row has that name.

        Asked after the deleting rows are gone: two files with one name deleted at the same
        moment (a sharer moved to another athlete, each under its own key's locks) each saw
        the other's row before either went, and the folder stayed for good: the deletion that
        drops the last row sees none. A failure here leaves the folder to reconcile's report;
        the deletion, its rows gone, stands."""
        if not kept:
            return
        try:
            for key in sorted(set(kept)):
                if not self._catalog.name_in_use(key):
                    self.delete_objects_under(keys.video_prefix(key))
        except Exception as exc:  # noqa: BLE001 - the rows are gone: the deletion stands
            # met the catalog's outage first (the trash's purge, in maintenance's thread): the
            # episode's one ERROR line; the purge's next deletion met it known, a WARNING
            level = outage_level(exc, logging.WARNING)
            cause = getattr(exc, "cause", None)
            logger.log(
                level,
                "Video folders of %s kept after their deletion: %s%s",
                kept,
                exc,
                f" ({cause})" if cause else "",
            )

    def _delete_permanently_locked(
        self,
        file_id: int,
        only_trashed: bool,
        locked: str | None = None,
        version: int | None = None,
        claimed: list[int] | None = None,
    ) -> FileRecord:
        """`locked`: the object whose locks the caller holds. `version`: the one the file must
        be at, checked by the claim's own write (stale_version). `claimed`: told the file's id
        once this run's claim is written."""
        record = self._catalog.get(file_id)
        if version is not None and record.version != version:
            raise stale_version(record.version)
        if only_trashed and not record.is_trashed:
            raise Conflict("The file is not in the trash", reason="not_trashed")
        with contextlib.ExitStack() as locks:
            if record.storage_key != locked:
                locks.enter_context(self.deferred.key_locks.hold(record.storage_key))
                locks.enter_context(self._object_locks.hold(record.storage_key))
            # a newer version may let another file share the object: its rules, not ours
            self._db.schema.confirm()
            trashed_by = (
                {file_id: record.deleted_at}
                if only_trashed and record.deleted_at is not None
                else None
            )
            claim = self._claim_for_deletion(
                [file_id], trashed_by, trash=not only_trashed, version=version
            )
            if not claim.ids:
                # restored (or gone) since it was read, perhaps by another server
                now = self._catalog.get(file_id)  # NotFound when gone
                if version is not None and now.version != version:
                    raise stale_version(now.version)  # changed since: as an edit's check
                if only_trashed:
                    raise Conflict("The file is not in the trash", reason="not_trashed")
                raise LostRace()
            if claimed is not None:
                claimed.append(file_id)
            held, touched = claim, False  # the mark it wrote last; whether bytes were asked
            # sent: the object's DELETE was asked; gone: it answered done
            shared = sent = gone = False
            try:
                # The same bytes for another athlete or other flags share the object: it and
                # its derivatives stay while another file references them.
                shared = self._catalog.references(record.storage_key, besides=file_id) > 0
                if not shared:
                    self._reach([record.storage_key])
                held = self._keep_claim(claim)
                if not held.ids:
                    raise LostRace()  # its stale claim settled meanwhile: from the reads
                touched = True
                if not shared:
                    sent = True
                    self._storage.delete(record.storage_key)
                    gone = True
                # another file bearing the object's file name keeps the video folder (a
                # sharer moved to another athlete's folder): asked again once our row is gone
                named = not shared and self._catalog.name_in_use(record.storage_key, file_id)
                video_service.forget(self, record, objects=not shared and not named)
                if not shared:
                    self._storage.delete_prefix(keys.variant_prefix(record.storage_key))
                    # as the emptying's: no row names a thumbnail, and one delete() asked the
                    # active backend first, a half set-up bucket too, after the bytes went
                    self._storage.delete_many(keys.derivative_keys(record.storage_key))
                with self._db.write() as s:
                    row = s.get(MediaFile, file_id)
                    if row is not None and row.storage_key != record.storage_key:
                        raise LostRace()  # moved meanwhile by another process: its new key too
                    if row is not None and row.purging_since is None:
                        raise LostRace()  # unmarked (restored) after a stall past the lease
                    if row is not None:
                        # a pending upload's bucket URL outlives the row: what it still writes
                        self.uploads.sweep_upload_url(s, row.storage_key, row.upload_expires_at)
                        if file_id in held.trashed:
                            # The claim trashed it round the change feed: the deleted event
                            # (core.feed's snapshot of the row as deleted) tells of the live
                            # file listeners last heard of, as the answer does, so they take it
                            # off the library's count, not the trash's. The DELETE itself
                            # checks the version as read.
                            row.deleted_at = row.purging_since = None
                            row.version = held.versions[file_id]
                        s.delete(row)
                    # its aliases go with it: an id that named a deleted file answers 404 like it
                    s.execute(delete(MediaFile).where(MediaFile.alias_of == file_id))
                if named:
                    self._drop_unnamed_videos([record.storage_key])
            except BaseException as exc:
                # A live file this delete moved to the trash goes back out when its object
                # certainly stays: its DELETE never asked (a shared object), never sent
                # (the store not asked, out of reach a moment ago; its connection refused or
                # never opened: `never_sent`), or refused by the store (an answer: access
                # denied, a read-only folder) and the object then confirmed stored
                # (`_kept`). A failure is not a request to trash it. A DELETE that got no
                # answer (a read timeout, a cut connection) may be carried out then or
                # later, whatever a check says meanwhile, and a check that cannot answer
                # tells nothing: the file stays in the trash under its claim, which the
                # bytes settle (`_drop_claim`), never live without its bytes.
                if touched and held.trashed and isinstance(exc, Exception):
                    kept = never_sent(exc) or self._kept(record.storage_key, exc)
                    touched = sent and (gone or not kept)
                self._drop_claim(held, touched)
                raise
        if shared and record.storage_key == locked:  # its locks still the caller's
            self._release_object_locked(record.storage_key)
        elif shared:  # the other file may have been deleted meanwhile by another process
            self.release_object(record.storage_key)
        self._thumbnails.drop(record)
        return record

    def _reach(self, objects: list[str]) -> None:
        """Before a deletion touches any byte: the backends holding `objects` built, or
        StorageUnavailable (storage_not_configured) with the files left as they were. A
        process started on the local folder forgot the rows of files on the bucket (moved
        there by `storage migrate` in another process) and left their objects behind."""
        if isinstance(self._storage, RoutingStorage):
            self._storage.reach(objects)

    def _kept(self, key: str, exc: Exception) -> bool:
        """Whether the object certainly outlived its DELETE that failed with `exc`: the store
        refused it (an answer: `_refused`) and then answers that the object is stored. A
        check the store refuses as well (the folder unreadable, access denied) leaves the
        refusal's word if the refusal is certain (`_refused_for_sure`); any other check that
        cannot answer (the store gone silent meanwhile) is no confirmation."""
        if not _refused(exc):
            return False
        try:
            return self._storage.exists(key)
        except Exception:  # noqa: BLE001 - the check's failure is weighed, not raised
            return _refused_for_sure(exc)

    def ready_video_ids(self) -> list[int]:
        return self._catalog.ready_video_ids()

    def last_change_of(self, file_id: int) -> ChangeEvent | None:
        """The newest logged change of a file (who changed it last, and when)."""
        return last_change_of(self._db, file_id)

    def sign_object(self, record: FileRecord, expires_in: int) -> str:
        """A signed GET of the file's object whatever its state (the owner's trash preview)."""
        return self.sign_key(record.storage_key, expires_in, record.content_type)

    def changes_pruned_through(self) -> int:
        """The newest change id the change log no longer holds (SSE clients behind it reset)."""
        return pruned_through(self._db)

    # ---- maintenance leadership (core/leader.py) ----------------------------------------------
    def maintenance_leader(self, interval: float, task: Task | None = None) -> MaintenanceLeader:
        """This library's one participant (made on first use; each user start()s and stop()s)."""
        with self._leader_lock:
            if self._leader is None:
                self._leader = MaintenanceLeader(self, self._db, interval, task)
            return self._leader

    @property
    def leader(self) -> MaintenanceLeader | None:
        """The participant made by `maintenance_leader`, if any (/health reports it)."""
        return self._leader

    def bucket_links(
        self,
        keys: list[str],
        public: bool,
        until: int | None = None,
        by_publicity: bool = False,
    ) -> BucketLinks | None:
        """Direct bucket URLs of stored objects (HLS segments) so players skip this server:
        public-domain URLs for a public file, else presigned GETs signed afresh at each call,
        living PRESIGNED_URL_EXPIRY seconds, or until the epoch second `until` (the file grant
        the player holds) when given. None on the local backend (the server sends them).
        `by_publicity`: for a caller without a token or grant, who may have the file only
        while it is public: nothing takes a presigned URL back when the file is made private,
        so they live PUBLICITY_BUCKET_EXPIRY seconds at most (as presigned_get's)."""
        if by_publicity:
            soon = int(time.time()) + PUBLICITY_BUCKET_EXPIRY
            until = soon if until is None else min(until, soon)
        # boto3 is imported only where a bucket store is built (core.storage.factory): a process
        # on local storage (most CLI runs, the desktop's own folder) is spared its second of
        # start-up, and with no S3 module loaded no object can be in a bucket
        s3 = sys.modules.get("core.storage.s3")
        if s3 is None:
            return None
        links: BucketLinks | None = s3.bucket_links(
            self._storage, keys, public, self.settings.presigned_url_expiry, until
        )
        return links

    # ---- checking signed links: the secret never leaves core ----------------------------------
    def verify_signed_url(self, method: str, key: str, query: Mapping[str, str]) -> SignedGrant:
        """The grant of a `/signed/{key}` URL this server signed (reads a file once: not on
        an event loop).

        On local storage, uploads and downloads. After a switch to R2 a download link handed
        out before lives until its expiry: the move keeps the file's key and the signing key
        stays in the data folder; the bytes are read wherever the file now is. Upload links
        end with the switch (a pending upload is on the active backend)."""
        if isinstance(self._presigner, LocalPresigner):
            return self._presigner.verify(method, key, query)
        if self._local_link_secret is None:
            path = self.paths.secrets_dir / SIGNING_KEY_FILE
            self._local_link_secret = load_or_create_secret(path) if path.is_file() else b""
        if method != "GET" or not self._local_link_secret:  # never signed one: none to honour
            raise NotFound("Signed URLs of this server exist only with the local storage backend")
        return verify_signed_request(self._local_link_secret, method, key, query)

    def signed_file(self, grant: SignedGrant) -> FileRecord | None:
        """The ready, untrashed file a signed download may serve, else None.

        The file it was signed for, still stored under the link's key: files with the same
        bytes share one object, so the key alone would keep a trashed or deleted file's link
        working while another file holds the object. A link signed before links named their
        file (none lives over 7 days) falls back to any file under the key. A link handed to a
        caller without a token (grant.by_publicity) also needs the file still public: as
        `/download` and `/stream` without a token, it ends when the file is made private."""
        if grant.file_id is None:
            record = self._catalog.find_by_key(grant.key)
        else:
            try:
                record = self._catalog.get(grant.file_id, include_trashed=False)
            except NotFound:
                return None
            if record.storage_key != grant.key:
                return None  # moved since (a storage migration): as a link to the old key
        if record is None or record.is_trashed or record.status != FileStatus.READY:
            return None
        if grant.by_publicity and not record.is_public:
            return None
        return record

    def _file_grant_secret(self) -> bytes:
        if self._grant_secret is None:
            # one key per catalog: a link issued by one server opens on every other (team mode)
            self._grant_secret = url_keys.file_grant_key(
                self._db, self.paths.secrets_dir / SIGNING_KEY_FILE
            )
        return self._grant_secret

    def sign_file_grant(self, file_id: int, expires_in: int | None = None) -> str:
        """`exp=…&sig=…` letting a header-less player read one private file's media URLs."""
        expiry = self.settings.presigned_url_expiry if expires_in is None else expires_in
        return signing.sign_file_grant(self._file_grant_secret(), file_id, expiry)

    def verify_file_grant(self, file_id: int, query: Mapping[str, str]) -> None:
        """Raises InvalidSignature or SignatureExpired unless the query grants this file."""
        signing.verify_file_grant(self._file_grant_secret(), file_id, query)

    # ---- housekeeping (core/maintenance.py) --------------------------------------------------
    def trashed_before(self, cutoff: datetime) -> list[int]:
        return self._catalog.trashed_before(cutoff)

    def redate_future_trash(self, now: datetime) -> list[int]:
        """Dates the files trashed more than FUTURE_TRASH_SLACK ahead of `now` (by a machine
        whose clock ran ahead, or before a clock was corrected) as trashed `now`; returns
        their ids. The retention purge counts from the trash date, and one years ahead kept
        its file for ever; the true date is unknown, so the file gets the whole retention from
        when it is seen, never less. Through the change feed: lists show the new date."""

        def redate() -> list[int]:
            with self._db.write() as s:
                rows = list(
                    s.scalars(
                        select(MediaFile).where(
                            MediaFile.deleted_at > now + FUTURE_TRASH_SLACK,
                            MediaFile.purging_since.is_(None),  # its deletion's claim rules it
                        )
                    )
                )
                for row in rows:
                    row.deleted_at = now
                return [row.id for row in rows]

        redated = self._db.retrying(redate)
        if redated:
            logger.warning(
                "Files %s were dated in the trash ahead of this computer's clock; "
                "dated now, their trash retention counts from now",
                redated,
            )
        return redated

    def expired_uploads(self, moment: datetime) -> list[tuple[int, str]]:
        return self._catalog.expired_uploads(moment)

    def drop_expired_upload(self, file_id: int, key: str) -> bool:
        """Deletes an expired upload's object and thumbnail (unless another file references
        them), then its row unless it completed. A request to its bucket URL started just
        before the expiry may still land: noted first, while the row still names the key (a
        sweep due with the row still there deletes nothing, as the release then does it)."""
        with self._db.write() as s:
            row = s.get(MediaFile, file_id)
            if row is not None and row.storage_key == key:
                self.uploads.sweep_upload_url(s, key, row.upload_expires_at, now=utcnow())
        self.release_object(key, besides=file_id)
        return self._catalog.drop_unfinished(file_id)

    def release_object(self, key: str, besides: int | None = None) -> bool:
        """Deletes a stored object with its derivatives unless a file (other than `besides`)
        still references it: files with the same bytes share one object (migration 0010)."""
        with self.deferred.key_locks.hold(key), self._object_locks.hold(key):
            return self._release_object_locked(key, besides)

    def _release_object_locked(self, key: str, besides: int | None = None) -> bool:
        self._db.schema.confirm()  # a newer schema's references are not ours to count
        if self._catalog.references(key, besides):
            return False
        if not self._catalog.name_in_use(key, besides):
            self.delete_objects_under(keys.video_prefix(key))
        self._storage.delete_prefix(keys.variant_prefix(key))
        for derived in keys.derivative_keys(key):
            self._storage.delete(derived)
        self._storage.delete(key)
        return True

    def abort_stale_multipart(self, older_than_seconds: int) -> int:
        """Aborts the bucket's multipart uploads older than the cutoff that no upload in the
        catalog is still using: an upload in progress may be older (renewed presigned parts, a
        long MEDIADESK_TUS_EXPIRY) and ends only by its own expiry (ResumableUploads.expire)."""
        keep = self.resumable.tracked_multipart_ids()
        return self._storage.abort_stale_multipart(older_than_seconds, keep)

    def stored_keys(self) -> list[tuple[int, str, str, bool]]:
        return self._catalog.stored_keys()

    def list_objects(self) -> Iterator[ObjectStat]:
        """Every object in the store: the active backend's, then those of each other backend
        that still holds files (kept there after a switch, or not yet moved). Listing only the
        active one made every maintenance run report the kept files missing, and left stray
        objects there unseen; a configured backend that holds no file is not listed."""
        for storage in self._listed_storages():
            yield from storage.list_keys("")

    def _listed_storages(self) -> Iterator[Storage]:
        storage = self._storage
        if not isinstance(storage, RoutingStorage):
            yield storage
            return
        yield storage.active
        holding = self.backends.backends_in_use()
        for name in storage.backend_names():
            if name != storage.active_name and name in holding:
                yield storage.backend(name)

    def recorded_sizes(self) -> list[tuple[int, str, int]]:
        return self._catalog.recorded_sizes()

    def remember_reconcile(self, summary: dict[str, Any]) -> None:
        """Keeps a reconcile's summary in the catalog, where `mediadesk doctor` and /health
        read the last one (core/leader.py)."""
        from core.leader import record_reconcile

        record_reconcile(self._db, summary)

    def remember_maintenance(self, report: dict[str, Any], started: datetime) -> int:
        """Keeps a `mediadesk maintenance` run as the last run (/health's `last_run_at`,
        `last_run_by`, `last_report`) after pruning the change log as a scheduled run does;
        the rows pruned (core.leader.record_command_run)."""
        from core.leader import record_command_run

        return record_command_run(self._db, report, started)

    # ---- links ------------------------------------------------------------------------------
    def check_expiry(self, expires_in: int | None) -> int:
        value = self.settings.presigned_url_expiry if expires_in is None else int(expires_in)
        return check_expires_in(value)

    def public_url(self, record: FileRecord) -> str | None:
        return self.public_urls([record]).get(record.id)

    def public_urls(self, records: Sequence[FileRecord]) -> dict[int, str]:
        """The R2_PUBLIC_DOMAIN link of each public file stored on R2 (by id; the others are
        absent), with one catalog read for a whole page rather than one per file."""
        domain = self.settings.r2_public_domain
        if not (domain and self.settings.r2_configured):
            return {}
        public = [r for r in records if r.is_public]
        if not public:
            return {}
        on_r2 = self.backends.keys_on_backend([r.storage_key for r in public], "r2")
        return {
            r.id: keys.public_object_url(domain, r.storage_key)
            for r in public
            if r.storage_key in on_r2
        }

    def presigned_get(
        self,
        file_id: int,
        expires_in: int | None = None,
        attachment: bool = True,
        arrival: Arrival | None = None,
        by_publicity: bool = False,
    ) -> PresignedRequest:
        """A signed GET of the file; a local link answers the request that arrived as
        `arrival` (backends.link_origin). `by_publicity`: for a caller without a token, who
        may have it only while the file is public: this server's link is marked so and ends
        when the file is made private (signed_file); a bucket's, which nothing takes back,
        lives PUBLICITY_BUCKET_EXPIRY seconds at most."""
        record = self.get_ready(file_id)
        presigner = self.backends.presigner_for(record.storage_key, arrival)
        expiry = self.check_expiry(expires_in)
        name = record.original_filename if attachment else None
        if by_publicity and not isinstance(presigner, LocalPresigner):
            # a bucket's link cannot be taken back when the file is made private
            expiry = min(expiry, PUBLICITY_BUCKET_EXPIRY)
        return presigner.presign_get(
            record.storage_key,
            expiry,
            download_name=name,
            content_type=record.content_type,
            file_id=record.id,
            by_publicity=by_publicity,
        )

    def download_url(self, file_id: int, expires_in: int | None = None) -> str:
        """The public CDN URL of a public file, else a signed URL."""
        record = self.get_ready(file_id)
        return self.public_url(record) or self.presigned_get(file_id, expires_in).url

    # ---- athletes ---------------------------------------------------------------------------
    def athletes(self) -> list[AthleteRecord]:
        return self._catalog.athletes()

    def create_athlete(self, name: str, athlete_id: int | None = None) -> AthleteRecord:
        return self._catalog.create_athlete(name, athlete_id)

    def rename_athlete(
        self, athlete_id: int, name: str, expected_version: int | None = None
    ) -> AthleteRecord:
        return self._catalog.rename_athlete(athlete_id, name, expected_version)


def _closed_after_failed_open(lib: Library | None, db: Database) -> None:
    """Closes what a failed `Library.open` opened; a failure to close is logged, never raised
    over the error that stopped the opening."""
    try:
        if lib is not None:
            lib.close()
        else:
            db.dispose()
    except Exception:
        logger.warning("Could not close the catalog after a failed opening", exc_info=True)


def _refused(exc: BaseException) -> bool:
    """Whether a failed DELETE of an object is the store's answer (`store_answered`) or was
    never sent, so the object is as the store then tells."""
    return isinstance(exc, StorageNotAsked) or store_answered(exc)


def _refused_for_sure(exc: BaseException) -> bool:
    """Whether a failed DELETE certainly did nothing: a local disk's refusal (an unlink that
    fails removes nothing) or the bucket's refusal of the request itself (access denied, the
    bucket missing: SETUP_FAULT_REASONS). Not a request left unsent (another backend may
    have been asked before it) nor a bucket's other errors (a 500 may come after the work)."""
    if not isinstance(exc, StorageUnavailable) or isinstance(exc, StorageNotAsked):
        return False
    return exc.reason in SETUP_FAULT_REASONS or isinstance(exc.__cause__, OSError)


def _check_local_size(key: str, path: Path, recorded: int | None) -> None:
    try:
        stored = os.stat(path).st_size
    except OSError:
        return  # missing or unreadable: the read that follows says which (read_error)
    check_object_size(key, stored, recorded)


def _counted(
    chunks: Iterator[bytes], key: str, start: int, wanted: int, recorded: int
) -> Iterator[bytes]:
    got = 0
    try:
        for chunk in chunks:
            got += len(chunk)
            yield chunk
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()
    if got < wanted:
        raise object_damaged(key, start + got, recorded)


def _note_video_copy(session: Any, key: str) -> None:
    """The deletion of a re-key's copy at `key`, video folder and all (LEFT_BEHIND on the
    bucket: only while no row names the key there), due with the uploads' grace as a storage
    move's copy is (a stalled copy's late write lands before it runs)."""
    queue_left_behind(session, "r2", key, REPLACED_GRACE_SECONDS)


def _plan_edit(
    current: FileRecord,
    changes: dict[str, Any],
    expected_version: int | None,
    fresh: str | None = None,
    trashing: bool = False,
) -> tuple[dict[str, Any], str | None]:
    """The columns an edit of `current` sets, and the key its object moves to (None: stays),
    or stale_version when it named another version than `current`'s. `fresh`: the key under
    a new name the object goes to when its public link ends (made private, or `trashing`)."""
    if expected_version is not None and expected_version != current.version:
        raise stale_version(current.version)
    values = _clean_changes(changes, current)
    if (
        fresh is not None
        and current.is_public
        and not current.is_trashed
        and current.status == FileStatus.READY
        and (trashing or values.get("is_public") is False)
    ):
        athlete = values.get("athlete_id", current.athlete_id)
        if athlete == current.athlete_id:
            return values, fresh
        return values, keys.rekey_for_athlete(fresh, athlete)
    if (
        "athlete_id" in values
        and values["athlete_id"] != current.athlete_id
        and current.status == FileStatus.READY
    ):
        new_key = keys.rekey_for_athlete(current.storage_key, values["athlete_id"])
        if new_key != current.storage_key:
            return values, new_key
    return values, None


def stale_version(current: int) -> Conflict:
    """The conflict of a write that named another version than the file's `current` one:
    an edit's, a trash's, a restore's or a hard delete's (the API's 409, or 412 for If-Match)."""
    return Conflict(
        "The file was changed by someone else; reload and try again",
        reason="stale_version",
        details={"version": current},
    )


def _clean_changes(changes: dict[str, Any], current: FileRecord) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if "original_filename" in changes:
        raw_name = changes["original_filename"]
        if not isinstance(raw_name, str):
            raise InvalidInput("original_filename must be text")
        name = clean_filename(raw_name, fallback="")
        if not name:
            # ".." or "/" were told the name was empty: they are, once cleaned of what no
            # file name keeps
            raise InvalidInput(
                "original_filename cannot be empty, nor only dots, spaces or slashes",
                reason="empty_filename",
            )
        values["original_filename"] = with_type_extension(
            name, current.content_type, current.original_filename
        )
    if "athlete_id" in changes:
        raw = changes["athlete_id"]
        if raw is None:
            values["athlete_id"] = None
        else:
            # Only a JSON integer (the server already reads 7.0 as 7): int() of text took
            # "1_1" as 11, "+10", " 8 " and non-ASCII digits, and "" meant no athlete; true is
            # no number either, and an id never goes past the id column
            if isinstance(raw, bool) or not isinstance(raw, int):
                raise InvalidInput("athlete_id must be an integer or null")
            if not 1 <= raw <= MAX_ID:
                raise InvalidInput(f"athlete_id must be an integer from 1 to {MAX_ID}")
            values["athlete_id"] = raw
    if "is_public" in changes:
        if not isinstance(changes["is_public"], bool):
            raise InvalidInput("is_public must be true or false")
        values["is_public"] = changes["is_public"]
    if "description" in changes:
        values["description"] = check_description(changes["description"] or "")
    return values
