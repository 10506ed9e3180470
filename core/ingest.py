"""Bringing files into the library: direct ingest, presigned uploads and their confirmation."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import keys
from core.catalog import Catalog, SameBytes
from core.db.engine import RACE_ATTEMPTS, Database
from core.db.models import MediaFile, ResumableUpload
from core.deferred import (
    URL_SWEEP,
    DeferredDeleter,
    collect_unless_recorded,
    discard_unless_recorded,
    forget_noted,
    queue_until_recorded,
)
from core.errors import (
    Cancelled,
    Conflict,
    InvalidInput,
    LostRace,
    MediaDeskError,
    NotFound,
    SizeMismatch,
    StorageUnavailable,
    TooLarge,
    TypeMismatch,
    UploadNotReceived,
    store_answered,
)
from core.filenames import clean_filename, with_type_extension
from core.locks import CatalogLocks as _CatalogLocks
from core.locks import KeyedLocks as _KeyedLocks
from core.locks import ObjectLocks
from core.mediatypes import BY_MIME, canonical_mime, check_kind, guess_from_name, unsupported
from core.metadata import MediaInfo
from core.records import (
    MAX_DESCRIPTION,
    MAX_PRESIGN_KEY,
    PRESIGN_KEY,
    UPLOAD_OWNER,
    FileRecord,
    FileStatus,
    expiry_iso,
)
from core.settings import Settings
from core.spool import Spooled, discard, hash_file, owned_temp, spool_stream, too_large
from core.storage.base import ObjectStat, PresignedRequest, Presigner, Storage
from core.storage.local import LocalStorage
from core.storage.routing import RoutingStorage
from core.text import composed
from core.thumbnail_cache import ThumbnailCache
from core.thumbnail_remake import rendering
from core.thumbnails import make_thumbnail
from core.validation import validate_file

logger = logging.getLogger(__name__)
# pg_advisory_lock(class, key) of a presigned upload being confirmed, keyed by its file id
# (Ingestor.confirm_upload_once): a class of its own beside core/catalog.py's SHA_LOCK_CLASS
CONFIRM_LOCK_CLASS = 0x4D444B43
# A signed PUT to a file no longer waiting for its upload (server/routes/signed.py says the same)
UPLOAD_URL_USED = "This upload URL has already been used or its upload was removed"
# Seconds after a presigned PUT URL's expiry when what it may have written after the confirm's
# copy (R2/S3) is deleted: a request started just before the expiry may still be landing.
URL_SWEEP_MARGIN = 300

IngestProgress = Callable[[str, int, int], None]
"""(stage, bytes done, bytes total); stages: reading, validating, uploading, finishing."""
Parts = list[dict[str, Any]]
"""[{part_number, etag}]: the client's ETags of an upload sent in parts."""
Placing = Callable[[Session, str], None]
"""(the catalog transaction, the key a new object goes to): see Ingestor.ingest."""


def _check_size(size: int, declared: int | None, max_size: int) -> None:
    """An uploaded object's size against the limit and the size its presign declared."""
    if size > max_size:
        raise too_large(max_size)
    if declared and size != declared:
        raise SizeMismatch(f"The uploaded object has {size} bytes but {declared} were declared")


def check_description(value: object) -> str:
    """A description as stored ("" for none): text of at most MAX_DESCRIPTION characters, in
    NFC so that a search finds it however it was typed (core.text.composed). Every write of
    one comes here: uploads, presigned and resumable metadata, edits (Library.update_file)."""
    text = "" if value is None else value
    if not isinstance(text, str):
        raise InvalidInput(f"description must be text (of at most {MAX_DESCRIPTION} characters)")
    # counted as stored: "é" typed decomposed (macOS) is two code points sent, one kept; the
    # first bound only spares composing a body far past any decomposed description
    if len(text) > 4 * MAX_DESCRIPTION or len(text := composed(text)) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"description must be text of at most {MAX_DESCRIPTION} characters",
            reason="description_too_long",
        )
    return text


@dataclass(frozen=True)
class PresignedUpload:
    file: FileRecord
    request: PresignedRequest
    file_key: str
    expires_in: int
    expires_at: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "file_id": self.file.id,
            "upload_url": self.request.url,
            "method": self.request.method,
            "headers": self.request.headers,
            "file_key": self.file_key,
            "expires_in": self.expires_in,
            "expires_at": expiry_iso(self.expires_at),
        }


def _other_kind(filename: str, mime: str, found: str, kind: str, content_type: str) -> str:
    """A presign's type_mismatch message: names what the client sent (its content_type, else
    the file name the type was told from), and the kinds with their articles."""
    said = f"content_type {content_type}" if content_type else filename
    return f"{said} is {_a(found)} ({mime}), not {_a(kind)}"


def _a(kind: str) -> str:
    return ("an " if kind[:1] in "aeiou" else "a ") + kind


def _accepted_type(declared: str, filename: str, accepted: tuple[str, ...]) -> str:
    """The canonical type of a presign's declared type (`declared`: its content_type, else the
    type of the file name's extension; "" when neither says). UnsupportedType, naming the
    `accepted` types, for a type MediaDesk does not validate or a name whose extension is not
    an accepted type's; InvalidInput when there is nothing to go by."""
    mime = canonical_mime(declared)
    if mime is not None:
        return mime
    if declared:
        raise unsupported(
            f"Unsupported content_type {declared!r}", accepted, details={"content_type": declared}
        )
    stem, dot, ext = filename.rpartition(".")
    if dot and stem and ext:
        raise unsupported(
            f"Unsupported file type .{ext} (from the file name; send content_type if the file "
            "is of an accepted type)",
            accepted,
            details={"extension": ext},
        )
    raise InvalidInput(
        "Send content_type (one of the accepted types); it could not be told from the file "
        f"name {filename!r}"
    )


@dataclass(frozen=True)
class _NewFile:
    """What a direct ingest knows of a new file before its row exists."""

    path: Path
    info: MediaInfo
    sha: str
    filename: str
    athlete_id: int | None
    is_public: bool
    description: str
    created_at: datetime | None = None  # None: now


@dataclass(frozen=True)
class _Placed:
    """What the transaction that recorded an upload made of it: the file `file_id`, stored at
    `key`; `duplicate`: that file is the existing one the bytes turned out to be (no new file:
    nothing, or an alias row of it, was recorded)."""

    file_id: int
    key: str
    duplicate: bool = False
    backend: str | None = None  # for a duplicate: the backend its file's row names
    trashed: bool = False  # a pending upload trashed meanwhile: left pending, refused


def _keeps(same: SameBytes | None, key: str) -> bool:
    """Whether an upload stored at `key` keeps its own object by the duplicate rule: it is no
    duplicate, and no other object holds its bytes."""
    return same is None or (not same.duplicate and same.storage_key == key)


class Ingestor:
    """The ingest and upload flows of one library (`library.uploads`), given its parts.

    `settings` is called for the current settings at each use (`Library.apply_settings`
    swaps them while uploads run); `complete_parts` finishes an upload sent in parts before
    its confirmation (core/resumable.py); `on_ready` hears of each new ready file (the video
    jobs). Catalog changes reach the event bus through the change feed (core/feed.py).
    """

    def __init__(
        self,
        *,
        settings: Callable[[], Settings],
        db: Database,
        catalog: Catalog,
        storage: Storage,
        presigner: Presigner,
        thumbnails: ThumbnailCache,
        complete_parts: Callable[[FileRecord, Parts | None], None],
        on_ready: Callable[[FileRecord], object],
        object_locks: ObjectLocks,
    ) -> None:
        self._settings = settings
        self._db = db
        self._catalog = catalog
        self._storage = storage
        self._presigner = presigner
        self._thumbnails = thumbnails
        self._complete_parts = complete_parts
        self._on_ready = on_ready
        self._sha_locks = _KeyedLocks()
        self._confirm_locks = _CatalogLocks(db, "confirm", CONFIRM_LOCK_CLASS)
        self._object_locks = object_locks  # the library's: its deletions take the same turns

    # ---- direct ingest ----------------------------------------------------------------------
    def ingest(
        self,
        source: Path | BinaryIO | Spooled,
        file_type: str,
        *,
        original_filename: str | None = None,
        athlete_id: int | None = None,
        is_public: bool = False,
        description: str = "",
        progress: IngestProgress | None = None,
        cancel: threading.Event | None = None,
        adopt: bool = False,
        stored_key: str | None = None,
        placing: Placing | None = None,
        created_at: datetime | None = None,
    ) -> FileRecord:
        """Validates, stores and catalogues one file; a known SHA-256 returns the existing file.

        `adopt` (a Spooled source only): the store may take the file itself (a rename on local
        storage) instead of a copy; resumable uploads use it for big files. `stored_key`: the
        same bytes are already in the store under this key (a resumable upload in parts from
        this machine), so they are checked here and not sent again; a duplicate, a refusal or a
        failure leaves that object (and a thumbnail made for it) to the caller.
        `placing(session, key)`: called with the key a new object goes to, in the transaction
        that notes its deletion until its row is in, before the bytes are stored (a resumable
        upload records where its adopted bytes went, and finds them there after a kill).
        `created_at`: when the file came into the library, if not now (a stored object taken
        into the catalog by core/adopt.py: its own time), written with the row.
        """
        kind = check_kind(file_type)
        description = check_description(description)
        settings = self._settings()
        max_size = settings.max_file_size
        owned: Path | None = None
        try:
            if isinstance(source, Spooled):
                path, size, sha = source.path, source.size, source.sha256
                owned = source.path
            elif isinstance(source, Path | str):
                path = Path(source)
                if not path.is_file():
                    raise NotFound(f"{path} is not a file")
                total = path.stat().st_size
                if total > max_size:
                    raise too_large(max_size)
                size, sha = hash_file(path, _bytes(progress, "reading", total), cancel)
                original_filename = original_filename or path.name
            else:
                spooled = spool_stream(
                    source, settings.paths.tmp_dir, max_size, _bytes(progress, "reading", 0), cancel
                )
                owned, path, size, sha = spooled.path, spooled.path, spooled.size, spooled.sha256
            _report(progress, "validating", 0, size)
            try:
                info = validate_file(path, kind, max_size, settings.allowed_types(kind))
                settings.check_allowed(info.mime)
            except MediaDeskError as exc:
                log_rejected(exc, original_filename, kind)
                raise
            new = _NewFile(
                path,
                info,
                sha,
                with_type_extension(clean_filename(original_filename), info.mime),
                athlete_id,
                is_public,
                description,
                created_at,
            )
            with self._sha_locks.hold(sha):  # see _same_bytes
                # Again when the file these bytes were found to be was deleted for good before
                # it was answered (_duplicate): they are then a file of their own
                for _ in range(RACE_ATTEMPTS):
                    same = self._same_bytes(sha, athlete_id, is_public)
                    if same is not None and same.duplicate:
                        self._repair_if_broken(
                            same,
                            size,
                            lambda target, key: target.put_file(key, path, info.mime),
                            original_filename,
                        )
                        stored = self._duplicate(same.file_id, original_filename)
                    elif same is not None:
                        stored = self._store_shared(new, same)
                    else:
                        return self._store_new(
                            new,
                            progress,
                            cancel,
                            adopt=adopt and owned is not None,
                            stored_key=stored_key,
                            placing=placing,
                        )
                    if stored is not None:
                        return stored
                raise _vanished_every_time(sha)
        finally:
            if owned is not None:
                discard(owned)

    def _same_bytes(
        self, sha: str, athlete_id: int | None, is_public: bool, s: Session | None = None
    ) -> SameBytes | None:
        """The duplicate rule (README, "Duplicates keep their id"), asked here by every flow:
        direct upload, presigned confirm and the end of a tus upload (one of those two).

        The same bytes for the same athlete and is_public as a ready, untrashed file
        (`duplicate`): the upload is that file (a direct or tus upload answers it, a presigned
        upload's id becomes its alias). The same bytes as another ready file: the upload is a
        file of its own that references that file's object. None: a new object.

        The caller holds this process's lock on `sha` (self._sha_locks) from its first look
        to the commit of the row that records the answer, so one upload of these bytes at a
        time decides and the others then see its file. Without `s` this is that first look,
        which spares storing what will not be needed. With `s`, the write transaction that
        inserts or readies the row, it is asked again under Catalog.lock_sha, which holds
        against the other processes sharing the catalog (team mode) until the commit: what
        one of them recorded meanwhile is seen here, and the row follows it.
        """
        if s is not None:
            Catalog.lock_sha(s, sha)
        return self._catalog.same_bytes(sha, athlete_id, is_public, s)

    def known_duplicate(
        self,
        path: Path,
        *,
        original_filename: str | None = None,
        athlete_id: int | None = None,
        is_public: bool = False,
        progress: IngestProgress | None = None,
        cancel: threading.Event | None = None,
    ) -> FileRecord | None:
        """The file a local file would be answered with as a duplicate (flagged, and logged as
        any duplicate), found before any of its bytes is sent; None when it must be sent.

        For the desktop's big files, which go to the store in parts (core/resumable.py) and
        met the duplicate rule only at their end, after gigabytes sent again. The file is
        hashed ("reading") only when the catalog holds a ready file of its size for this
        athlete and is_public (Catalog.holds_size): the other big files are read once, as
        they are sent. A duplicate whose stored object is missing or of another size is left
        to the upload, whose end repairs it (_repair_if_broken); a store that cannot say
        answers the duplicate, as that rule does. Asked without the sha lock: nothing is
        written, and a file deleted meanwhile sends the bytes after all (_duplicate)."""
        size = path.stat().st_size
        if not self._catalog.holds_size(size, athlete_id, is_public):
            return None
        read, sha = hash_file(path, _bytes(progress, "reading", size), cancel)
        same = self._same_bytes(sha, athlete_id, is_public)
        if same is None or not same.duplicate:
            return None
        try:
            stat = self._storage.stat(same.storage_key)
        except NotFound:
            return None
        except MediaDeskError as exc:
            logger.warning("Could not check the object of file %s: %s", same.file_id, exc)
        else:
            if stat.size != read:
                return None
        return self._duplicate(same.file_id, original_filename or path.name)

    def duplicate_of_restored(self, s: Session, row: MediaFile) -> int | None:
        """The duplicate rule for a ready file coming out of the trash (Library.restore), asked
        in the restore's write transaction `s`: the id of the ready, untrashed file of the same
        bytes for the same athlete and is_public, which an upload of these bytes would be
        answered with, else None (the file comes back as itself). A file in the trash is no
        file an upload duplicates, so its bytes uploaded again made a new file; restored as
        well, the library held the same bytes twice. The restored id becomes that file's alias
        instead, as a presigned upload's id does (Library._merge_restored). That file's row is
        held to the commit: a hard delete of it meanwhile then sees the alias and takes it along."""
        if row.status != FileStatus.READY or row.sha256 is None:
            return None
        same = self._same_bytes(row.sha256, row.athlete_id, row.is_public, s)
        if same is None or not same.duplicate or same.file_id == row.id:
            return None
        kept = Catalog.locked_file(s, same.file_id)
        if kept is None or kept.deleted_at is not None:  # trashed or deleted since it was read
            return None
        return same.file_id

    def _repair_if_broken(
        self,
        same: SameBytes,
        size: int,
        put: Callable[[Storage, str], object],
        original_filename: str | None,
    ) -> None:
        """An upload found to be a duplicate of `same` puts its bytes back there (`put(storage,
        key)`) when that object is missing or of another size than these `size` bytes (whose
        SHA-256 is the row's, so theirs is the row's size): a failed move, a crash between
        steps, or an object deleted behind the catalog's back. Else the user could never repair
        the file by uploading it again: each upload was answered with the broken file and its
        good bytes thrown away. Only a stat, on the duplicate path alone: the object's bytes are
        never hashed (a same-size corruption is not caught; the size is what a stat gives).

        The same key, written whole (a local write is a rename of a finished file, a bucket
        stores an object whole), so the row and its readers need no change, and on the backend
        the row names (core/storage/routing.py). Under the object's lock: a hard delete of the
        file by another process either deleted the object before (no row names the key any
        more, and nothing is put back) or waits for the repair. A store that cannot say
        whether the object is there answers the duplicate as before; a failed repair raises
        (the upload did not bring these bytes into the library)."""
        key = same.storage_key
        with self._object_locks.hold(key):
            try:
                stat = self._storage.stat(key)
            except NotFound:
                found: int | None = None
            except MediaDeskError as exc:
                logger.warning("Could not check the object of file %s: %s", same.file_id, exc)
                return
            else:
                found = stat.size
                if found == size:
                    return
            if self._catalog.references(key) == 0:  # deleted meanwhile: nothing to repair
                return
            put(self._backend_of(same.storage_backend), key)
        logger.warning(
            "Repaired file %s: its object %s was %s; restored from the upload of %s",
            same.file_id,
            key,
            "missing" if found is None else f"{found} bytes, not {size}",
            original_filename,
            extra={"file_id": same.file_id, "key": key},  # its duplicate line follows
        )

    def _backend_of(self, name: str | None) -> Storage:
        """The store the row's backend names (a file kept on local storage after a switch to
        R2 is repaired there, where core/storage_migration.py looks for it), else the active."""
        if name is not None and isinstance(self._storage, RoutingStorage):
            try:
                return self._storage.backend(name)
            except NotFound:
                pass
        return self._storage

    def _duplicate(self, file_id: int, original_filename: str | None) -> FileRecord | None:
        """A direct (or tus) upload of a ready file's bytes: that file, flagged. None when it
        was deleted for good since it was found (a hard delete by another request or process,
        which nothing here waits for): the upload is no duplicate any more, and its caller
        decides again, so its bytes make a file of their own (README). Answered with that
        file's 404, they were thrown away."""
        try:
            record = self._catalog.get(file_id)
        except NotFound:
            logger.info(
                "File %s, of the same bytes as %s, was deleted meanwhile: decided again",
                file_id,
                original_filename,
                extra={"file_id": file_id},
            )
            return None
        # the seed's line, as a confirm's duplicate logs it (it was "Duplicate of file N: …")
        logger.info(
            "Successfully uploaded file: %s as %s (duplicate of file %s)",
            original_filename,
            record.storage_key,
            file_id,
            extra={
                "file_id": file_id,
                "key": record.storage_key,
                "outcome": "duplicate",
                "file_type": record.file_type,
            },
        )
        return record.with_duplicate()

    def _store_shared(self, new: _NewFile, shared: SameBytes) -> FileRecord | None:
        """A file of its own whose key references the object another file stored: nothing
        is uploaded. Library.release_object keeps the object while any file references it.
        None: a duplicate's file recorded meanwhile was deleted before it was answered."""
        placed = self._insert_ready(
            new, shared.storage_key, shared.storage_backend, shared.has_thumbnail
        )
        if placed.duplicate:  # another process recorded these bytes meanwhile
            return self._duplicate(placed.file_id, new.filename)
        self._restore_if_gone(placed.key, new.path, new.info, placed.file_id)
        return self._announce(placed.file_id, placed.key, shared=True)

    def _insert_ready(
        self,
        new: _NewFile,
        key: str,
        backend: str | None,
        has_thumb: bool,
        noted: str | None = None,
    ) -> _Placed:
        """The catalog row of a stored file (`backend` None: the store uploads go to now), as
        the duplicate rule answers in its transaction: no row for a duplicate, a reference to
        the object of the same bytes that another process stored meanwhile. `noted`: the key
        whose deletion was noted until a row names it (collect_unless_recorded), cancelled
        with the row that does."""
        with self._db.write() as s:
            same = self._same_bytes(new.sha, new.athlete_id, new.is_public, s)
            if same is not None and same.duplicate:
                return _Placed(same.file_id, same.storage_key, duplicate=True)
            if same is not None:  # stored meanwhile for another file: referenced
                key, backend, has_thumb = same.storage_key, same.storage_backend, same.has_thumbnail
            if noted is not None and noted == key:
                DeferredDeleter.cancel(s, key)
            Catalog.ensure_athlete(s, new.athlete_id)
            row = MediaFile(
                storage_key=key,
                storage_backend=backend,
                original_filename=new.filename,
                athlete_id=new.athlete_id,
                is_public=new.is_public,
                description=new.description or "",
                status=FileStatus.READY,
                created_at=new.created_at,
            )
            shown = rendering(new.info.kind) if same is None else _shown_generation(s, same)
            _apply_info(row, new.info, new.sha, has_thumb, shown)
            s.add(row)
            s.flush()
            return _Placed(row.id, key)

    def _restore_if_gone(self, key: str, path: Path, info: MediaInfo, file_id: int) -> None:
        """The shared object was deleted in the moment before the new row referenced it (the
        other file deleted by another process): these very bytes go there again. Asked under
        the object's lock: a deletion that checked the references before this row was in
        has then deleted the object, or sees the row (core/locks.py ObjectLocks).

        A check or put that fails (the store out) takes the row `file_id` back out, still
        under the lock, and raises: the upload failed, and its row, committed ready, named an
        object perhaps missing (a listed file that streamed 404). Only a kill between the
        row's commit and the end of this check can still leave one, when the object was gone:
        maintenance reports it (rows_without_objects), and the same upload again restores it.
        """
        with self._object_locks.hold(key):
            try:
                try:
                    self._storage.stat(key)
                except NotFound:
                    self._storage.put_file(key, path, info.mime)
            except BaseException:
                self._withdraw(file_id)
                raise

    def _withdraw(self, file_id: int) -> None:
        """Deletes the row of a new file whose upload then failed (its object not confirmed),
        as a hard delete does, by its own transaction: the change feed tells of the deletion,
        the triggers take it off the counts. The caller holds its object's lock (a deletion
        that waited for it then finds no reference to keep) and raises its own error: one
        here is only logged, the row then left for maintenance to report."""
        try:
            with self._db.write() as s:
                row = s.get(MediaFile, file_id)
                if row is not None:
                    s.delete(row)
                # an alias another process made of it meanwhile goes with it (404, as after
                # a hard delete)
                s.execute(delete(MediaFile).where(MediaFile.alias_of == file_id))
        except Exception:  # noqa: BLE001 - the upload's own error is the answer
            logger.exception(
                "Could not remove file %s after its upload failed",
                file_id,
                extra={"file_id": file_id},
            )
        else:
            logger.warning(
                "Removed file %s: its object could not be confirmed stored",
                file_id,
                extra={"file_id": file_id},
            )

    def _store_new(
        self,
        new: _NewFile,
        progress: IngestProgress | None,
        cancel: threading.Event | None,
        adopt: bool = False,
        stored_key: str | None = None,
        placing: Placing | None = None,
    ) -> FileRecord:
        path, info = new.path, new.info
        key = stored_key or keys.media_key(new.athlete_id, info.ext)
        _report(progress, "thumbnail", 0, 0)  # no fraction: one decode, but a visible stage
        thumb = self._thumbnail(path, info)
        storage = self._storage
        uploaded = _bytes(progress, "uploading", info.size, cancel)
        adopt_file = getattr(storage, "adopt_file", None) if adopt else None
        if stored_key is None:  # else the caller's object, noted as it was written
            collect_unless_recorded(self._db, key, storage, "upload", also=placing)
        try:
            if stored_key is not None:
                pass  # already there
            elif adopt_file is not None:
                adopt_file(key, path)
            else:
                storage.put_file(key, path, info.mime, progress=uploaded)
        except BaseException as exc:
            if stored_key is None and store_answered(exc):  # nothing left at the key
                forget_noted(self._db, key)
            raise
        try:
            if thumb is not None:
                storage.put_bytes(keys.thumbnail_key(key), thumb, "image/webp")
            _report(progress, "finishing", info.size, info.size)
            for _ in range(RACE_ATTEMPTS):
                placed = self._insert_ready(new, key, None, thumb is not None, noted=key)
                duplicate = None
                if not placed.duplicate or placed.key == key:
                    break
                # another process recorded these bytes meanwhile: that file is the answer while
                # it is there; deleted since, our copy is recorded after all
                duplicate = self._duplicate(placed.file_id, new.filename)
                if duplicate is not None:
                    break
            else:
                raise _vanished_every_time(new.sha)
        except BaseException:
            if stored_key is None:  # else the caller's object (and its thumbnail) to clean up
                discard_unless_recorded(self._db, storage, key)
            raise
        if placed.key != key:  # another process stored these bytes meanwhile
            self._give_way(key, placed.key, None if duplicate is not None else placed.file_id)
            if duplicate is not None:
                return duplicate
            return self._announce(placed.file_id, placed.key, shared=True)
        return self._announce(placed.file_id, key, thumb)

    def _give_way(self, ours: str, theirs: str, withdraw: int | None = None) -> None:
        """Our copy of the bytes that `theirs` holds goes (with its thumbnail), or takes the
        place of that object when it was deleted meanwhile (its file deleted by another
        process). Library.release_object keeps `theirs` while any file references it; asked
        under its lock, as in _restore_if_gone.

        The row is committed: the upload succeeded, and a copy that cannot be deleted now is
        left to its note (a client told of a failure would retry). A failed move is no success:
        the row names an object that is not there, so it raises, and the row `withdraw` (a
        direct upload's new file) goes first (_withdraw). A store that cannot say
        whether `theirs` is there (unreachable) is no failure of the upload either: our copy
        stays, to its note, which asks again once due."""
        with self._object_locks.hold(theirs):
            try:
                self._storage.stat(theirs)
            except NotFound:
                try:
                    self._storage.move(ours, theirs)
                except BaseException:
                    self._keep_if_only_copy(ours, theirs)
                    if withdraw is not None:
                        self._withdraw(withdraw)
                    raise
            except MediaDeskError as exc:
                logger.warning(
                    "Kept %s for its noted deletion: could not check %s: %s", ours, theirs, exc
                )
                return
        discard_unless_recorded(self._db, self._storage, ours)  # what is left, with its note

    def _keep_if_only_copy(self, ours: str, theirs: str) -> None:
        """A move of our copy to `theirs` failed: unless `theirs` is there after all, our copy
        holds the only bytes of the files that name `theirs`, and its note would delete them
        once due. It stays, unnoted: reconcile lists it (objects_without_rows) beside those
        files (rows_without_objects), for someone to put back."""
        try:
            there = self._storage.exists(theirs)
        except Exception:  # noqa: BLE001 - unknown: keep the bytes; the move's error stands
            there = False
        if not there:
            forget_noted(self._db, ours)

    def _announce(
        self, file_id: int, key: str, thumb: bytes | None = None, shared: bool = False
    ) -> FileRecord:
        """A file now ready: its record, its cached thumbnail, the ready hook and the seed's
        "Successfully uploaded file" log line (a duplicate, an alias, logs its own)."""
        record = self._catalog.get(file_id)
        self._thumbnails.put(record, thumb)
        self._on_ready(record)
        logger.info(
            "Successfully uploaded file: %s as %s"
            + (" (shared with the file stored there)" if shared else ""),
            record.original_filename,
            key,
            extra={
                "file_id": record.id,
                "key": key,
                "outcome": "created",
                "file_type": record.file_type,
            },
        )
        return record

    def _thumbnail(self, path: Path, info: MediaInfo) -> bytes | None:
        try:
            return make_thumbnail(path, info)
        except MediaDeskError as exc:
            logger.warning("No thumbnail for %s: %s", path.name, exc.message)
            return None

    # ---- presigned upload -------------------------------------------------------------------
    def create_presigned_upload(
        self,
        original_filename: str,
        file_type: str,
        is_public: bool = False,
        athlete_id: int | None = None,
        content_type: str | None = None,
        size: int | None = None,
        description: str = "",
        presigner_for: Callable[[str], Presigner] | None = None,
        owner: str | None = None,
        idempotency_key: str | None = None,
    ) -> PresignedUpload:
        """A pending file and its signed PUT, signed by `presigner_for(key)` when given (the
        library's StorageBackends.presigner_for: a link through this server names the address
        the request reached), else by the active storage's presigner. `owner`: the token
        asking ("token:<id>", as a tus upload's), the only one that may then confirm, renew or
        list the upload (ResumableUploads.check_presign_owner); None lets any.
        `idempotency_key`: the client's name for this presign, kept while the upload is pending
        (see presigned_again)."""
        kind = check_kind(file_type)
        key_given = check_presign_key(idempotency_key)
        filename = clean_filename(original_filename)
        description = check_description(description)
        settings = self._settings()
        # The type as the client spells it (the signed PUT must send it), else the name's
        given = (content_type or "").split(";", 1)[0].strip().lower()
        declared = given or guess_from_name(filename) or ""
        try:  # the seed's validation error, logged here as at confirm and direct upload
            mime = _accepted_type(declared, filename, settings.allowed_types(kind))
            media = BY_MIME[mime]
            if media.kind != kind:
                raise TypeMismatch(_other_kind(filename, mime, media.kind, kind, given))
            settings.check_allowed(mime)  # refused before anything is uploaded
            if size is not None:
                if size <= 0:
                    raise InvalidInput("size must be a positive number of bytes")
                if size > settings.max_file_size:
                    raise too_large(settings.max_file_size)
        except MediaDeskError as exc:
            log_rejected(exc, filename, kind)
            raise
        expires_in = settings.presigned_url_expiry
        expires_at = datetime.now(UTC) + timedelta(seconds=expires_in)
        key = keys.media_key(athlete_id, media.ext)
        with self._db.write() as s:
            Catalog.ensure_athlete(s, athlete_id)
            row = MediaFile(
                storage_key=key,
                original_filename=filename,
                content_type=mime,
                file_type=kind,
                declared_size=size,
                athlete_id=athlete_id,
                is_public=is_public,
                description=description,
                status=FileStatus.PENDING,
                upload_expires_at=expires_at,
                extra={
                    **({UPLOAD_OWNER: owner} if owner else {}),
                    **({PRESIGN_KEY: key_given} if key_given else {}),
                },
            )
            s.add(row)
            s.flush()
            file_id = row.id
        # A URL signs only a type the client named (S3Presigner.presign_put): the name's type
        # may not be the spelling its PUT sends (a browser's file.type: "", video/avi,
        # application/octet-stream). This server's URL signed the name's too, and refused
        # such a PUT (403 content_type_mismatch) that R2 took; the confirm sniffs the bytes.
        presigner = self._presigner if presigner_for is None else presigner_for(key)
        signed = declared if given else ""
        request = presigner.presign_put(
            key, signed, expires_in, content_length=size, max_size=settings.max_file_size
        )
        logger.info(
            "Generated presigned upload URL for key: %s",
            key,
            extra={"file_id": file_id, "key": key, "outcome": "presigned", "file_type": kind},
        )
        return PresignedUpload(self._catalog.get(file_id), request, key, expires_in, expires_at)

    def presigned_again(
        self, idempotency_key: str | None, owner: str | None, size: int | None
    ) -> int | None:
        """The pending upload a presign with this `idempotency_key` by `owner` made already,
        else None: a client whose presign's answer was lost (the connection dropped after the
        server made the upload) sends it again, and a second pending upload, whose URL it never
        used, stayed listed until its presign expired. The same key for a file of another
        `size` is a Conflict: its URL would refuse the file's bytes."""
        key = check_presign_key(idempotency_key)
        if key is None:
            return None
        with self._db.read() as s:
            rows = s.execute(
                select(MediaFile.id, MediaFile.extra, MediaFile.declared_size).where(
                    MediaFile.status == FileStatus.PENDING,
                    MediaFile.deleted_at.is_(None),
                    MediaFile.extra[PRESIGN_KEY].as_string() == key,
                )
            ).all()
        for file_id, extra, declared in rows:
            if not isinstance(extra, dict) or extra.get(UPLOAD_OWNER) != owner:
                continue  # another token's key: never its upload
            if declared != size:
                raise Conflict(
                    f"idempotency_key {key!r} was used for another upload "
                    f"(file {file_id}, of another size)",
                    details={"file_id": int(file_id)},
                    reason="idempotency_key_reused",
                )
            return int(file_id)
        return None

    def receive_put(self, key: str, body: BinaryIO, content_type: str) -> ObjectStat:
        """A signed PUT's bytes (this server's `/signed/` URLs), written under the key its
        pending row reserved. They take the key's place under the confirm lock of that file,
        and only while the file is still pending: a PUT ending during a confirm waits for it
        and is then refused as one after it, instead of replacing the bytes being checked
        (the file was made ready with the first bytes' type and hash and served the others).
        Only the last step waits: the body is received beside the object first."""
        storage = self._storage
        target = storage.active if isinstance(storage, RoutingStorage) else storage
        if isinstance(target, LocalStorage):
            return target.put_stream(key, body, content_type, commit=lambda: self._receiving(key))
        with self._receiving(key):  # a URL signed before a switch to a bucket: no staging there
            return storage.put_stream(key, body, content_type)

    def refuse_put(self, key: str, exc: TooLarge) -> None:
        """A signed PUT to `key` refused as too large, nothing of it kept: noted on the
        pending file, so that its confirm answers this refusal (413) and fails the file, as a
        bucket's confirm does with the oversized object its PUT took. Forgotten, the confirm
        answered 400 upload_not_received and left the file pending, unlogged and uncounted. A
        later PUT that is kept is what the confirm checks instead (the note is read only when
        no object is there)."""
        record = self._catalog.find_by_key(key)
        if record is None or record.status != FileStatus.PENDING:
            return
        with self._db.write() as s:
            row = s.get(MediaFile, record.id)
            if row is not None and row.status == FileStatus.PENDING:
                row.failure_reason = failure_text(exc)

    def planned_parts(self, file_id: int) -> int | None:
        """How many parts a pending upload's URLs are for: its plan's for an upload in parts,
        1 for a single PUT (the one part a renewal may name); None when the file is not a
        pending upload, or its upload in parts was given up (the renewal answers those
        itself)."""
        with self._db.read() as s:
            row = s.get(MediaFile, file_id)
            if row is None or row.status != FileStatus.PENDING or row.deleted_at is not None:
                return None  # in the trash too: renew answers it, whatever part it names
            plan = s.execute(
                select(
                    ResumableUpload.length, ResumableUpload.part_size, ResumableUpload.state
                ).where(
                    ResumableUpload.protocol == "multipart",
                    ResumableUpload.file_id == file_id,
                    ResumableUpload.state.in_(("receiving", "failed")),
                )
            ).first()
        if plan is not None and plan.state == "failed":
            # its parts aborted, the file not yet failed (resumable's renew ends it): counted
            # as a single PUT, a named part got 'between 1 and 1' instead of the 410
            return None
        if plan is None or not plan.part_size:
            return 1
        return -(-plan.length // plan.part_size)

    def end_given_up(self, file_id: int, gone: MediaDeskError) -> NoReturn:
        """Fails a pending upload whose upload in parts was given up but not the file (a
        give-up cut between its two writes: the catalog lost, a kill), with `gone`, and
        raises it: what the give-up's own call answered. Under the confirm lock, as a confirm
        gives up: one that did meanwhile keeps its own reason, and its answer is raised."""
        with self._confirm_locks.hold(file_id):
            record = self._catalog.get(file_id)
            if self._answered(record) is None:
                self._fail(record, gone)
                raise gone
        raise Conflict(f"File {file_id} has no upload in progress (status {record.status})")

    @contextmanager
    def _receiving(self, key: str) -> Iterator[None]:
        """Holds the confirm lock of the pending file stored at `key`; Conflict if none is."""
        record = self._catalog.find_by_key(key)
        if record is None:
            raise Conflict(UPLOAD_URL_USED)
        with self._confirm_locks.hold(record.id):
            record = self._catalog.find_by_key(key)
            if record is None or record.status != FileStatus.PENDING or record.is_trashed:
                raise Conflict(UPLOAD_URL_USED)
            yield

    def confirm_upload(self, file_id: int, parts: Parts | None = None) -> FileRecord:
        """Checks the uploaded object and makes the record ready; idempotent.

        `parts` ([{part_number, etag}]) are the client's ETags of an upload in parts."""
        return self.confirm_upload_once(file_id, parts)[0]

    def confirm_upload_once(
        self, file_id: int, parts: Parts | None = None
    ) -> tuple[FileRecord, bool]:
        """confirm_upload, and whether this call did the confirming (False for a repeat):
        metrics count a file once, whatever the retries.

        One confirm of a file at a time in every process sharing the catalog (team mode):
        the others wait for it and then answer as a repeat does, so the object is checked,
        and the ready hook (video jobs, events) run, once. The row's re-check in the
        transaction (_make_ready) alone made one file, but each process went on to announce it.
        """
        answer = self._answered(self._catalog.get(file_id))
        if answer is not None:  # a repeat: no lock, no connection of its own
            return answer, False
        with self._confirm_locks.hold(file_id):
            record = self._catalog.get(file_id)
            answer = self._answered(record)  # confirmed (or trashed) while this one waited
            if answer is not None:
                return answer, False
            self._complete_parts(record, parts)  # an upload in parts
            return self._confirm_pending(record), True

    def _answered(self, record: FileRecord) -> FileRecord | None:
        """What a confirm of an upload already confirmed answers (Conflict for one that failed
        validation, or one in the trash), or None while it is pending."""
        if record.is_trashed:
            raise _in_trash(record.id)
        if record.status == FileStatus.READY:
            return record
        if record.status == FileStatus.FAILED:
            dup = record.extra.get("duplicate_of")
            if dup:
                return self._catalog.get(int(dup)).with_duplicate()
            code, message = stored_failure(record.failure_reason)
            raise Conflict(f"This upload failed: {message}", reason=code)
        return None

    def _confirm_pending(self, record: FileRecord) -> FileRecord:
        storage = self._storage
        settings = self._settings()
        max_size = settings.max_file_size
        try:
            stat = storage.stat(record.storage_key)
        except NotFound:
            refused = _refused_put(record, max_size)
            if refused is not None:  # as a bucket's confirm refuses the object it took
                self._fail(record, refused)
                raise refused from None
            raise UploadNotReceived(
                "The file has not been uploaded to the upload URL yet"
            ) from None
        declared = self._declared_size(record.id)
        try:
            _check_size(stat.size, declared, max_size)  # before any copy
        except MediaDeskError as exc:
            self._fail(record, exc)
            raise
        if self._reached_by_bucket_url(record.storage_key):
            record, stat = self._out_of_reach(record)
        try:
            _check_size(stat.size, declared, max_size)  # the bytes kept may differ
            with self._local_copy(record.storage_key, settings.paths.tmp_dir) as path:
                info = validate_file(
                    path, record.file_type, max_size, settings.allowed_types(record.file_type)
                )
                settings.check_allowed(info.mime)  # the sniffed type, not the declared
                _, sha = hash_file(path)
                thumb = self._thumbnail(path, info)
        except StorageUnavailable:
            # No verdict on the bytes: the store out of reach while they were copied down, a
            # full disk here (507), a store set up wrong. The file stays pending with its
            # object, so the same confirm succeeds once that passes, as the 500 says. Failed,
            # its object went with it and the retried confirm answered 409 for good.
            raise
        except MediaDeskError as exc:
            self._fail(record, exc)
            raise
        with self._sha_locks.hold(sha):  # see _same_bytes
            return self._confirm_checked(record, info, sha, thumb)

    def _reached_by_bucket_url(self, key: str, session: Session | None = None) -> bool:
        """Whether a URL that cannot be revoked writes a pending file's object at `key`: a
        bucket's presigned PUT (R2/S3) works until it expires, whatever the catalog says. Not a
        tus upload's object (this server wrote it), nor a local one (`/signed/` PUTs ask the
        catalog first, receive_put). `session`: the caller's transaction, to read in."""
        if self._storage.local_path(key) is not None:
            return False
        query = (
            select(ResumableUpload.id)
            .where(ResumableUpload.protocol == "tus", ResumableUpload.object_key == key)
            .limit(1)
        )
        if session is not None:
            return session.scalar(query) is None
        with self._db.read() as s:
            return s.scalar(query) is None

    def sweep_upload_url(
        self, s: Session, key: str, url_ends: datetime | None, now: datetime | None = None
    ) -> None:
        """The one rule for a key that a pending (or failed) upload's row stops naming (the
        confirm copied its object away, the file was deleted for good, its upload expired):
        a bucket's presigned PUT URL for it cannot be revoked and writes there until it
        expires, so what it may still write goes URL_SWEEP_MARGIN after that, noted in `s`,
        the caller's transaction. Else an object no row names, which reconcile only lists.
        `url_ends`: the row's upload_expires_at (renewals move it; None once the upload is
        used, ready or an alias). Nothing for a key no bucket URL writes, or once the sweep
        time has passed (`now`, when given): the URL can no longer write there."""
        if url_ends is None:
            return
        sweep = url_ends + timedelta(seconds=URL_SWEEP_MARGIN)
        if now is not None and sweep <= now:
            return
        if self._reached_by_bucket_url(key, s):
            queue_until_recorded(s, key, self._storage, URL_SWEEP, not_before=sweep)

    def _out_of_reach(self, record: FileRecord) -> tuple[FileRecord, ObjectStat]:
        """The uploaded object copied, in the store (CopyObject, UploadPartCopy when big), to a
        key of its own that no URL handed out writes, and the row moved there, before anything
        is checked: the confirm validates, hashes and keeps those bytes. A client still holding
        the presigned PUT URL (it lives until it expires) then only writes the uploaded key,
        which no row names any more, and whose deletion is queued for after that expiry.
        Before, such a PUT replaced the confirmed file's bytes with any others of the same
        length, served as the validated type.

        One server-side copy per upload: no bytes through this server (R2 charges no egress),
        and the confirm downloads the object to validate it anyway. An upload in parts too:
        its part URLs die with CompleteMultipartUpload, but its single PUT URL does not."""
        storage = self._storage
        old = record.storage_key
        new = keys.media_key(record.athlete_id, old.rsplit(".", 1)[-1])
        collect_unless_recorded(self._db, new, storage, "upload")
        try:
            # the type the file is recorded as, not the one the client's PUT sent (an alias,
            # application/octet-stream): a public domain's link serves the stored one
            stat = storage.copy(old, new, content_type=record.content_type)
            with self._db.write() as s:
                row = s.get(MediaFile, record.id)
                if row is None or row.status != FileStatus.PENDING or row.storage_key != old:
                    raise Conflict(f"File {record.id} is no longer waiting for its upload")
                row.storage_key = new
                url_ends = row.upload_expires_at  # the presigned PUT URL's (renewals too)
                DeferredDeleter.cancel(s, new)
                queue_until_recorded(s, old, storage, "upload")  # a kill before the delete
        except BaseException:
            discard_unless_recorded(self._db, storage, new)
            raise
        discard_unless_recorded(self._db, storage, old)  # (its notes go, the sweep's too)
        with contextlib.suppress(Exception), self._db.write() as s:  # best effort, as the delete
            self.sweep_upload_url(s, old, url_ends)
        return self._catalog.get(record.id), stat

    def _confirm_checked(
        self, record: FileRecord, info: MediaInfo, sha: str, thumb: bytes | None
    ) -> FileRecord:
        """A pending upload whose object passed validation, made ready by the duplicate rule
        (the caller holds the lock on `sha`): its own object (named by the content's type, its
        thumbnail beside it); a reference to the object of the same bytes for another athlete
        or other flags (the copy just uploaded goes, or takes that object's place when it was
        deleted meanwhile); or, for a duplicate, an alias of the existing file: the client
        keeps the id it was handed, another name of that file (GET, stream, download, PATCH
        and DELETE follow it), and the copy goes."""
        storage = self._storage
        key = record.storage_key
        own = _keeps(self._same_bytes(sha, record.athlete_id, record.is_public), key)
        left: str | None = None  # the key the object was copied from, deleted once not named
        if own:  # storage work only for an object that stays
            # Named by the content's type and by the athlete the file has now: one changed
            # while the upload was pending (a PATCH) moves it here, not at the PATCH, since
            # the upload URL handed out names the key it was signed for (R2/S3's confirm
            # already copied it to a key of the athlete's, _out_of_reach).
            new_key = keys.rekey_for_athlete(key, record.athlete_id).rsplit(".", 1)[0]
            new_key += "." + info.ext
            if new_key != key or storage.local_path(key) is not None:
                # A local signed URL's key: the file leaves it for a name of its own, as a
                # bucket's confirm copies it away. A catalog backed up before this confirm
                # and restored still lists the upload as pending at that key, and its expiry
                # (maintenance, a server's start) deleted the confirmed file with it; now it
                # finds nothing there, and the file is a stray --adopt-strays catalogues.
                # A fresh name on every backend, not the old one's with another extension:
                # the old key's deletion (below) takes its thumbnail and variants, named by
                # the stem, which would be this file's.
                new_key = keys.media_key(record.athlete_id, info.ext)
            if new_key != key:
                # Copied, not moved: the row names the old key until _make_ready commits, and
                # a kill after a move (a rename, a bucket's copy and delete) and before that
                # commit left it naming a key with no object: the retried confirm answered
                # 400 upload_not_received, and the client had to send the file again. Now the
                # old key goes only once the row names the copy (a local copy is a hard link).
                # The copy is noted first: a kill before the row names it leaves a known
                # deletion.
                collect_unless_recorded(self._db, new_key, storage, "upload")
                try:  # with the type the bytes are (another extension: another type)
                    storage.copy(key, new_key, content_type=info.mime)
                except BaseException:
                    discard_unless_recorded(self._db, storage, new_key)
                    raise
                key, left = new_key, key
        try:
            if own and thumb is not None:
                storage.put_bytes(keys.thumbnail_key(key), thumb, "image/webp")
            placed = self._make_ready(record, info, sha, key, own and thumb is not None, left)
        except BaseException:
            if left is not None:  # the row still names `left` (unless the commit did go in)
                discard_unless_recorded(self._db, storage, key)
            raise
        if left is not None:  # its deletion committed with the row: never raises
            discard_unless_recorded(self._db, storage, left)
        if placed.trashed:
            raise _in_trash(record.id)
        if placed.duplicate:
            if placed.key != key:  # else it is the file's own object (a resumed tus finish)
                existing = SameBytes(placed.file_id, placed.key, placed.backend, False, True)

                def put(target: Storage, k: str) -> None:
                    active = storage.active if isinstance(storage, RoutingStorage) else storage
                    if target is storage or target is active:
                        storage.copy(key, k)  # our copy is where new objects go: copied there
                    else:  # the file's row names another backend (a switch): the bytes cross
                        with self._local_copy(key, self._settings().paths.tmp_dir) as path:
                            target.put_file(k, path, info.mime)

                self._repair_if_broken(existing, info.size, put, record.original_filename)
                # with its thumbnail; never raises: the answer is the duplicate, and a copy
                # that cannot be deleted now is left to the note _make_ready committed
                discard_unless_recorded(self._db, storage, key)
            logger.info(
                "Successfully uploaded file: %s as %s (duplicate of file %s)",
                record.original_filename,
                placed.key,
                placed.file_id,
                extra={
                    "file_id": record.id,
                    "key": placed.key,
                    "outcome": "duplicate",
                    "file_type": info.kind,
                },
            )
            return self._catalog.get(record.id)
        if placed.key != key:
            self._give_way(key, placed.key)
            return self._announce(record.id, placed.key, shared=True)
        return self._announce(record.id, key, thumb)

    def _make_ready(
        self,
        record: FileRecord,
        info: MediaInfo,
        sha: str,
        key: str,
        has_thumb: bool,
        left: str | None = None,
    ) -> _Placed:
        """A pending row made ready with its object's facts (stored at `key`), as the duplicate
        rule answers in this transaction: an alias of a duplicate's file, or a reference to
        the object of the same bytes stored for another file. `left`: the key the confirm
        copied the object from to `key` (whose deletion it noted until a row names it). From
        this commit no row names `left` (whichever way the rule answers), so its deletion is
        queued in it: a kill before the confirm deletes it leaves a known deletion."""
        with self._db.write() as s:
            if left is not None:
                DeferredDeleter.cancel(s, key)  # named below, or given up with a note again
            placed = self._settle(s, record, info, sha, key, has_thumb, left is not None)
            if left is not None:
                row = s.get(MediaFile, record.id)
                # but a row confirmed meanwhile by another process that kept that key
                if row is None or row.alias_of is not None or row.storage_key != left:
                    queue_until_recorded(s, left, self._storage, "upload")
            return placed

    def _settle(
        self,
        s: Session,
        record: FileRecord,
        info: MediaInfo,
        sha: str,
        key: str,
        has_thumb: bool,
        copied: bool,
    ) -> _Placed:
        """_make_ready's row, in its transaction `s`. `copied`: the note of the confirm's copy
        at `key` was cancelled, to be named by the row or noted again."""
        same = self._same_bytes(sha, record.athlete_id, record.is_public, s)
        row = Catalog.locked_file(s, record.id)
        if row is None:
            raise NotFound(f"File {record.id} not found")
        if row.deleted_at is not None:
            # trashed since the confirm looked (a DELETE on another server): answered as
            # a confirm after the trash, the file left pending with the bytes where this
            # confirm put them, for a restore and a confirm. An alias made of it kept the
            # trash on its own row, which nothing reads: the DELETE's 200 was lost.
            row.storage_key = key
            return _Placed(record.id, key, trashed=True)
        row.failure_reason = None
        row.upload_expires_at = None
        _upload_over(row)
        if same is not None and same.duplicate:
            if same.file_id == record.id:  # confirmed meanwhile by another process
                if copied and row.storage_key != key:  # our copy goes (_give_way): noted
                    queue_until_recorded(s, key, self._storage, "upload")
                return _Placed(record.id, row.storage_key)
            row.status = "alias"
            row.alias_of = same.file_id
            if same.storage_key != key:  # the copy goes: noted, as below
                queue_until_recorded(s, key, self._storage, "upload")
            return _Placed(same.file_id, same.storage_key, True, same.storage_backend)
        if same is not None and same.storage_key != key:  # the same bytes stored elsewhere
            # from this commit no row names the uploaded copy (nor its thumbnail): a
            # process killed before _give_way removes it must leave a known pending
            # deletion, not an object no row names
            queue_until_recorded(s, key, self._storage, "upload")
            key, has_thumb = same.storage_key, same.has_thumbnail
            row.storage_backend = same.storage_backend
        row.storage_key = key
        row.status = FileStatus.READY
        # the name the presign (or tus metadata) gave, fitted to the type the bytes are
        row.original_filename = with_type_extension(row.original_filename, info.mime)
        shown = rendering(info.kind) if same is None else _shown_generation(s, same)
        _apply_info(row, info, sha, has_thumb, shown)
        return _Placed(record.id, key)

    @contextmanager
    def _local_copy(self, key: str, tmp_dir: Path) -> Iterator[Path]:
        """The object as a local file: the backend's own file, or a temporary download."""
        local = self._storage.local_path(key)
        if local is not None:
            yield local
            return
        fd, tmp = owned_temp(tmp_dir, "confirm")
        os.close(fd)
        try:
            self._storage.download_to(key, tmp)
            yield tmp
        finally:
            discard(tmp)

    def _declared_size(self, file_id: int) -> int | None:
        with self._db.read() as s:
            return s.scalar(select(MediaFile.declared_size).where(MediaFile.id == file_id))

    def fail_pending(self, record: FileRecord, exc: MediaDeskError) -> None:
        """A pending upload that can no longer be completed (its parts were aborted): failed
        with `exc` as the reason, as one refused by validation, so that a repeated confirm
        answers that reason and nothing offers to renew it."""
        self._fail(record, exc)

    def _fail(self, record: FileRecord, exc: MediaDeskError) -> None:
        """`exc` is the answer, so deleting the object is best effort: one that fails is
        noted in the transaction that marks the row failed. The note deletes nothing while
        that row names the object: a tus upload's row goes at once (core/resumable.py), a
        presigned upload's at its URL's expiry, and takes its object along (expire_pending)."""
        key, kept = record.storage_key, None
        if not self._catalog.references(key, besides=record.id):
            try:
                self._storage.delete(key)
            except MediaDeskError as err:
                logger.warning(
                    "Could not delete %s yet (its noted deletion will): %s", key, err.message
                )
                kept = key
        self._mark(record.id, status=FileStatus.FAILED, reason=failure_text(exc), noted=kept)
        log_rejected(  # named by the file's name, as presign and direct upload name it
            exc,
            record.original_filename,
            record.file_type,
            file_id=record.id,
            key=record.storage_key,
        )

    def _mark(self, file_id: int, status: str, reason: str | None, noted: str | None) -> None:
        with self._db.write() as s:
            row = s.get(MediaFile, file_id)
            if row is not None:
                row.status = status
                row.failure_reason = reason
                _upload_over(row)
            if noted is not None:
                queue_until_recorded(s, noted, self._storage, "upload")


def _upload_over(row: MediaFile) -> None:
    """A pending upload made ready (an alias of a duplicate too) or failed: its owner and its
    presign's key are no longer kept, as nothing can renew or complete it any more."""
    if isinstance(row.extra, dict) and (UPLOAD_OWNER in row.extra or PRESIGN_KEY in row.extra):
        row.extra = {k: v for k, v in row.extra.items() if k not in (UPLOAD_OWNER, PRESIGN_KEY)}


def check_presign_key(key: str | None) -> str | None:
    """A presign's idempotency_key as kept, None when not given; InvalidInput when too long."""
    if not key:
        return None
    if len(key) > MAX_PRESIGN_KEY:
        raise InvalidInput(f"idempotency_key must be at most {MAX_PRESIGN_KEY} characters")
    return key


def failure_text(exc: MediaDeskError) -> str:
    """How a failed upload keeps its failure (failure_reason): `code: message`."""
    return f"{exc.code}: {exc.message}"


def stored_failure(text: str | None) -> tuple[str | None, str]:
    """The code and message of a failure kept by failure_text: a repeated confirm answers the
    message in words and the code as its reason ("This upload failed: invalid_input: The
    parts…" showed a client the code). A text of another form (older rows) is all message."""
    code, sep, message = (text or "").partition(": ")
    if sep and code and code.replace("_", "").isalpha() and code.islower():
        return code, message
    return None, text or "unknown reason"


def _refused_put(record: FileRecord, max_size: int) -> TooLarge | None:
    """The refusal of a pending upload's signed PUT noted by refuse_put, if any; with the
    limit in its details when the PUT was refused at today's limit."""
    code, message = stored_failure(record.failure_reason)
    if code != TooLarge.code:
        return None
    exc = too_large(max_size)
    return exc if exc.message == message else TooLarge(message)


def _in_trash(file_id: int) -> Conflict:
    """The one answer of a confirm of a file in the trash, whether it was trashed before the
    confirm or while it ran: the file is there (GET answers it, trashed) and a restore brings
    a pending upload back to be confirmed, so not the 404 of a file that does not exist."""
    return Conflict(
        f"File {file_id} is in the trash: restore it, then confirm its upload",
        reason="already_trashed",
        details={"file_id": file_id},
    )


def _vanished_every_time(sha: str) -> LostRace:
    """The files of an upload's bytes were deleted for good between each look that found one
    and its answer, RACE_ATTEMPTS times: a conflict to retry, not the last one's 404."""
    logger.warning("Every file found of the bytes %s was deleted before it was answered", sha)
    return LostRace("The file of these bytes was deleted at the same moment; upload it again")


def log_rejected(exc: MediaDeskError, name: str | None, kind: str, **extra: object) -> None:
    """The seed's "File validation error" line, one home for presign, confirm and direct
    uploads: the message and the file's name (or key), with the outcome and code for JSON logs."""
    logger.error(
        "File validation error: %s" + (" (%s)" if name else "%s"),
        exc.message,
        name or "",  # a form refused unread: its name unknown
        extra={**extra, "outcome": "rejected", "file_type": kind, "code": exc.code},
    )


def _shown_generation(s: Session, same: SameBytes) -> int | None:
    """The rendering of the thumbnail (and variants) that a file referencing `same`'s object
    shows: the ones stored with that object, whose generation its file's row records
    (maintenance marks every row of a key at once, core/thumbnail_remake.py). Counted as old
    (null) instead, the new file answered null while it showed today's thumbnail, and the next
    maintenance decoded the photo again and changed its `?v=` for nothing."""
    return s.scalar(select(MediaFile.thumbnail_generation).where(MediaFile.id == same.file_id))


def _apply_info(
    row: MediaFile, info: MediaInfo, sha: str, has_thumb: bool, generation: int | None
) -> None:
    """`generation`: the rendering of the thumbnail the row shows: today's for one this upload
    made, the stored one's for an object shared with another file (_shown_generation)."""
    row.content_type = info.mime
    row.file_type = info.kind
    row.size = info.size
    row.sha256 = sha
    row.width, row.height = info.width, info.height
    row.duration = info.duration
    row.video_codec, row.audio_codec = info.video_codec, info.audio_codec
    row.frame_rate, row.bit_rate, row.rotation = info.frame_rate, info.bit_rate, info.rotation
    row.extra = {**(row.extra or {}), **dict(info.extra or {})}
    row.has_thumbnail = has_thumb
    row.thumbnail_generation = generation


def _report(progress: IngestProgress | None, stage: str, done: int, total: int) -> None:
    if progress is not None:
        progress(stage, done, total)


def _bytes(
    progress: IngestProgress | None, stage: str, total: int, cancel: threading.Event | None = None
) -> Callable[[int], None] | None:
    """Adapts a per-chunk byte callback to the (stage, done, total) progress callback."""
    if progress is None and cancel is None:
        return None
    done = 0

    def on_bytes(n: int) -> None:
        nonlocal done
        if cancel is not None and cancel.is_set():
            raise Cancelled("Cancelled")
        done += n
        if progress is not None:
            progress(stage, done, total)

    return on_bytes
