"""Deleting an object only when no reader can still be using it.

A file moved to another athlete is copied to its new key and the row is committed before the
old key goes. A reader that resolved the old key a moment earlier (a stream request, a player's
next range, another process on the same catalog) must still find it. So the old key gets a
`deferred_deletions` row (it survives restarts) and is deleted when both hold:

- its grace period has passed (covers readers between "resolved the key" and "opened it", and
  readers in other processes that this process cannot count);
- no reader in this process holds it (`Readers`, a count per key, covers long streams).

Before deleting, the catalog is asked again: a key that a row references (a file moved back
within the grace period, or bytes shared by another record) is never deleted. Asked and deleted
under the key's ObjectLocks, which a move's copy and commit to that key hold too, in whichever
process of the catalog (core/library.py `_update_locked`; a migration back to a backend where
the key's old copy waits, core/storage_migration.py `_move_one`, through `writing`).

A prefix is queued the same way (`queue_prefix`): the derivatives of a video job that a newer
job replaced (core/video/service.py, `superseded`), which a player holding the old playlists
keeps reading until the grace period ends. No catalog row names such a prefix again (a job
writes under a folder of its own id, and a replaced job never becomes the current one again),
so it is deleted once due and no reader of this process holds a key under it.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from core import keys
from core.catalog import same_file_name
from core.db.engine import Database
from core.db.models import DeferredDeletion, MediaFile
from core.errors import MediaDeskError, NotFound, is_no_space, no_space, outage_level
from core.locks import KeyedLocks, ObjectLocks
from core.storage import backend_of_store
from core.storage.base import MultipartStorage, Storage
from core.storage.routing import Unusable

logger = logging.getLogger(__name__)

GRACE_SECONDS = 60.0
# The files of a video job that a reprocess replaced: a player that took the old playlists
# before the swap plays them to the end (a whole match, with pauses), and hls.js does not
# fetch a VOD playlist again. A moved file's old key needs only the short grace: its readers
# resolve the key again at each request.
REPLACED_GRACE_SECONDS = 6 * 3600.0
# The reason of a deletion that sweeps an upload URL's key once the URL has expired.
URL_SWEEP = "upload_url"
# The reason of a deletion of what a file moved to another backend left on the one named by
# the entry's `backend` (core/storage_migration.py: the source's delete failed after the
# switch). The moved row names the key again, on its new backend: only the named backend's
# object and derivatives go, and only while no row names the key on that backend.
LEFT_BEHIND = "left_behind"
# The reason of an entry that aborts the multipart upload `upload_id` at `storage_key` (on the
# entry's `backend`) rather than deleting an object: a failed upload's, whose abort the store
# could not be asked for when the upload failed (`DeferredDeleter.keep_abort`). Due at once.
ABORT_UPLOAD = "multipart_upload"
# A timed run that could not finish (the catalog or the store out of reach) runs again this
# much later: the next move, maintenance run or start could be an hour away, and meanwhile
# the old objects stay in the bucket.
RETRY_SECONDS = 30.0
# An entry's `backend` is a routing storage's name for it ("local", "r2"), or, in entries
# queued with the storage's own name (`DeferredDeleter.queue` without a backend), the active
# store's: S3Storage's "s3" is the "r2" backend (core/storage backend_of_store).


def queue_until_recorded(
    session: object, key: str, storage: object, reason: str, not_before: datetime | None = None
) -> None:
    """Adds, in the caller's transaction, the deletion of an object that no row names: not yet
    (see collect_unless_recorded, the way to note an object about to be written) or no longer
    (an uploaded copy that the row's commit gives up for the same bytes stored elsewhere,
    core/ingest.py `_make_ready`). The commit of a row that names the key cancels it
    (`DeferredDeleter.cancel`); left queued it deletes nothing a row names. The long grace: a
    big upload or copy on S3 takes minutes, and another process on the catalog must not delete
    the object before its row is in. `not_before`: another due time than that grace."""
    when = not_before or datetime.now(UTC) + timedelta(seconds=REPLACED_GRACE_SECONDS)
    session.add(  # type: ignore[attr-defined]
        DeferredDeletion(
            storage_key=key,
            is_prefix=False,
            backend=getattr(storage, "name", None),  # the backend the object goes to
            reason=reason,
            not_before=when,
        )
    )


def collect_unless_recorded(
    db: Database,
    key: str,
    storage: object,
    reason: str,
    also: Callable[[Session, str], None] | None = None,
) -> None:
    """Called before an object is written at `key`, which no row names yet (an upload, a
    move's copy): its deletion is committed first, in a transaction of its own (with
    `also(session, key)`, a write that must commit with it), so that a process killed between
    writing the object and committing the row that names it leaves a known pending deletion
    (run once due, by the next start or `mediadesk maintenance`) instead of an object no row
    names. The caller then:

    - cancels it in the transaction of the row that names the key (`DeferredDeleter.cancel`);
    - or, should the write or that commit fail, drops it: `forget_noted` when nothing was
      stored, `discard_unless_recorded` when the object (maybe) was. Only the caller knows
      which (a store that got no answer may hold the bytes), so it decides; a note it keeps
      deletes, later, whatever no row names by then.
    """
    with db.write() as s:
        queue_until_recorded(s, key, storage, reason)
        if also is not None:
            also(s, key)


def discard_unless_recorded(
    db: Database, storage: Storage, key: str, note: str | None = None
) -> None:
    """Undoes a write that collect_unless_recorded noted (an upload's object, a move's copy,
    each with its thumbnail) once the write or the commit of its row failed, or once the row's
    commit gave it up (the same bytes stored elsewhere meanwhile, queue_until_recorded): the
    object goes, then its note (forget_noted). Called while the write's own error propagates,
    or after the upload succeeded, so it never raises: the caller must see that error, or that
    success (a client told of a failure retries an upload that is in the library).

    Never deleted while a row names the key: a commit can succeed and still raise (PostgreSQL's
    acknowledgement lost with the connection), and another process's move of the same file
    may have recorded the same key. A catalog that cannot say, or a delete that fails, leaves
    the object to its note: the deferred deletion asks again once due.

    `note`: the reason of the caller's note, dropped when a row names the key (the object is
    then that row's, and the note would only be listed as pending for hours). Only for a
    caller that holds the key's ObjectLocks, so that no other writer's note of it is taken."""
    try:
        with db.read() as s:
            named = _named(s, key)
    except Exception as exc:  # noqa: BLE001 - unknown is not "no row": the note decides later
        logger.warning("Kept %s for its noted deletion: %s", key, _said(exc))
        return
    if named:
        if note is not None:
            forget_noted(db, key, note)
        return
    try:
        storage.delete(keys.thumbnail_key(key))
        storage.delete(key)
    except Exception as exc:  # noqa: BLE001 - the note deletes it later; the write's error stands
        logger.warning("Could not delete %s yet (its noted deletion will): %s", key, _said(exc))
        return
    forget_noted(db, key)


def queue_left_behind(
    session: Session, backend: str, key: str, seconds: float = GRACE_SECONDS
) -> DeferredDeletion:
    """Adds, in the caller's transaction, the deletion of file `key`'s object and derivatives
    from `backend`, which the file has left (see LEFT_BEHIND), due `seconds` from now."""
    entry = DeferredDeletion(
        storage_key=key,
        is_prefix=False,
        backend=backend,
        reason=LEFT_BEHIND,
        not_before=datetime.now(UTC) + timedelta(seconds=seconds),
    )
    session.add(entry)
    return entry


def cancel_left_behind(session: Session, backend: str, key: str) -> int:
    """Drops, in the caller's transaction, the queued deletions of `key` from `backend` (a
    file about to move back there: its copy must not be deleted under it); returns how many."""
    result = session.execute(
        delete(DeferredDeletion).where(
            DeferredDeletion.storage_key == key,
            DeferredDeletion.backend == backend,
            DeferredDeletion.reason == LEFT_BEHIND,
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)


def drop_left_behind(db: Database, store: Storage, entry_id: int, key: str, backend: str) -> bool:
    """Runs one LEFT_BEHIND entry: deletes `key`'s object and derivatives from `store` (the
    `backend` it names) unless a row names the key there again (moved back meanwhile), then
    the entry. Returns whether anything was deleted; a failing store raises, the entry stays."""
    with db.read() as s:
        back = named_on(s, key, backend)
        # the video folder is named by the file name alone (keys.video_prefix): a file that
        # shared this object and then moved to another athlete's folder keeps the name, and
        # its renditions there are its own, not this leftover's
        video_kept = not back and name_named_on(s, key, backend)
    if not back:
        delete_file_objects(store, key, video=not video_kept)
    with db.write() as s:
        s.execute(delete(DeferredDeletion).where(DeferredDeletion.id == entry_id))
    return not back


def delete_file_objects(storage: Storage, key: str, video: bool = True) -> None:
    """Deletes a file's object and every derivative of it from `storage` (one backend); its
    video folder only when `video` (no other row there has its file name: name_named_on)."""
    storage.delete(key)
    for derivative in keys.derivative_keys(key):
        storage.delete(derivative)
    prefixes = [keys.variant_prefix(key)] + ([keys.video_prefix(key)] if video else [])
    for prefix in prefixes:
        with contextlib.suppress(NotFound):
            storage.delete_prefix(prefix)


def name_named_on(session: Session, key: str, backend: str) -> bool:
    """Whether a row on `backend` has another key with `key`'s file name, and so the same
    video folder (Catalog.name_in_use's rule, on one backend)."""
    stmt = (
        select(MediaFile.id)
        .where(
            MediaFile.storage_backend == backend,
            MediaFile.storage_key != key,
            same_file_name(key),
        )
        .limit(1)
    )
    return session.scalar(stmt) is not None


def named_on(session: Session, key: str, backend: str) -> bool:
    """Whether a row (an alias too) names the object at `key` on `backend`: a moved file's copy
    there is then the truth, never a leftover to delete."""
    stmt = (
        select(MediaFile.id)
        .where(MediaFile.storage_key == key, MediaFile.storage_backend == backend)
        .limit(1)
    )
    return session.scalar(stmt) is not None


def backend_of_file(session: Session, file_id: int) -> str | None:
    """The backend holding file `file_id`'s object and derivatives (None: no such row), read in
    the caller's transaction: the one to name in the deferred deletion of a derivative it
    replaces, which this process's active backend may not be (`DeferredDeleter.queue`)."""
    stmt = select(MediaFile.storage_backend).where(MediaFile.id == file_id)
    found = session.scalar(stmt)
    return str(found) if found else None


def _named(session: Session, key: str) -> bool:
    """Whether a row (any status, trashed too) names the object at `key`. Not an alias: it is
    another id of its target file, served from the target's object, and keeps the key of the
    upload that turned out a duplicate, whose copy goes (core/ingest.py `_make_ready`)."""
    stmt = (
        select(MediaFile.id)
        .where(MediaFile.storage_key == key, MediaFile.alias_of.is_(None))
        .limit(1)
    )
    return session.scalar(stmt) is not None


def _said(exc: BaseException) -> str:
    return exc.message if isinstance(exc, MediaDeskError) else str(exc) or type(exc).__name__


def forget_noted(db: Database, key: str, reason: str | None = None) -> None:
    """Drops the deletion collect_unless_recorded noted for `key` once nothing is left there
    (the store refused the bytes, or they were deleted again), or, given its `reason`, once a
    row names the key: left, reconcile lists it as pending for hours. Best effort: should the
    catalog not take the write (a full disk), the deletion runs later and keeps or finds
    nothing."""
    try:
        with db.write() as s:
            if reason is None:
                DeferredDeleter.cancel(s, key)
            else:
                s.execute(
                    delete(DeferredDeletion).where(
                        DeferredDeletion.storage_key == key, DeferredDeletion.reason == reason
                    )
                )
    except Exception as exc:  # noqa: BLE001 - a full or read-only catalog: the entry stays
        logger.debug("Deletion noted for %s kept: %s", key, exc)


class Readers:
    """How many readers of this process hold each key; `on_idle(key)` when one drops to 0."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self.on_idle: Callable[[str], None] | None = None

    @contextlib.contextmanager
    def hold(self, key: str) -> Iterator[None]:
        with self._lock:
            self._counts[key] = self._counts.get(key, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._counts[key] - 1
                if left:
                    self._counts[key] = left
                else:
                    del self._counts[key]
            if not left and self.on_idle is not None:
                self.on_idle(key)

    def busy(self, key: str) -> bool:
        with self._lock:
            return key in self._counts

    def busy_under(self, prefix: str) -> bool:
        with self._lock:
            return any(k.startswith(prefix) for k in self._counts)


class DeferredDeleter:
    """Queues old keys, and deletes them (with their derivatives) once nobody can read them."""

    def __init__(
        self,
        db: Database,
        storage: Storage,
        grace: float = GRACE_SECONDS,
        object_locks: ObjectLocks | None = None,
    ) -> None:
        self.db = db
        self.storage = storage
        self.grace = grace
        self.replaced_grace = REPLACED_GRACE_SECONDS  # queue(..., replaced=True), queue_prefix
        self.readers = Readers()
        self.readers.on_idle = self._idle
        self._waiting: set[str] = set()  # due keys that waited for their readers
        self._guard = threading.Lock()
        self._run_lock = threading.Lock()
        self._timers: set[threading.Timer] = set()
        self._closed = False
        self.retry = RETRY_SECONDS
        self._failing = False  # the last timed run could not finish (said once, not per retry)
        # Held while a key is written to (a move's copy and commit) and while it is deleted:
        # a file moved back to a key that is due for deletion is never deleted under it. The
        # threads of this process take turns in key_locks, then every process sharing the
        # catalog in object_locks: a move back committed by another server between this
        # deletion's check and its delete lost the object its row names.
        self.key_locks = KeyedLocks()
        self.object_locks = object_locks or ObjectLocks(db)

    # ---- queueing ---------------------------------------------------------------------------
    def queue(
        self,
        session: object,
        key: str,
        reason: str = "move",
        *,
        replaced: bool = False,
        backend: str | None = None,
    ) -> None:
        """Adds the deferred deletion of `key` in the caller's transaction (with the row);
        `replaced`: a replaced video rendition's key (the long grace); `backend`: the one
        holding the object ("local", "r2": a moved file's, which may not be the active one),
        reached when the deletion runs (`_stores`)."""
        grace = self.replaced_grace if replaced else self.grace
        when = datetime.now(UTC) + timedelta(seconds=grace)
        session.add(  # type: ignore[attr-defined]
            DeferredDeletion(
                storage_key=key,
                is_prefix=False,
                backend=backend or getattr(self.storage, "name", None),
                reason=reason,
                not_before=when,
            )
        )

    def queue_prefix(
        self, session: object, prefix: str, reason: str, *, backend: str | None = None
    ) -> None:
        """Adds the deferred deletion of every object under `prefix` (ending with "/") in the
        caller's transaction: a replaced video job's folder, kept for `replaced_grace`.
        `backend`: the one holding the objects, as `queue`'s."""
        if not prefix.endswith("/"):  # "a/b" would also take "a/bc/…"
            raise ValueError(f"A deferred prefix must end with '/': {prefix!r}")
        session.add(  # type: ignore[attr-defined]
            DeferredDeletion(
                storage_key=prefix,
                is_prefix=True,
                backend=backend or getattr(self.storage, "name", None),
                reason=reason,
                not_before=datetime.now(UTC) + timedelta(seconds=self.replaced_grace),
            )
        )

    @staticmethod
    def cancel(session: object, key: str) -> None:
        """A key in use again (a file moved back) must not be deleted later. A failed upload's
        multipart upload at the key is still aborted (ABORT_UPLOAD): a retry that stored the
        key names its own upload."""
        session.execute(  # type: ignore[attr-defined]
            delete(DeferredDeletion).where(
                DeferredDeletion.storage_key == key, DeferredDeletion.upload_id.is_(None)
            )
        )

    def keep_aborts_of(self, storage: Storage) -> None:
        """Has each bucket of `storage` (with a routing storage, each backend it holds or
        builds later) leave here the aborts of failed uploads' multipart uploads that it cannot
        make now (core/storage/s3.py S3Storage.abort_later)."""
        prepare = getattr(storage, "prepare_backends", None)
        if prepare is not None:
            prepare(self._give_aborts)
        else:
            self._give_aborts(str(getattr(storage, "name", "")), storage)

    def _give_aborts(self, backend: str, storage: Storage) -> None:
        if hasattr(type(storage), "abort_later"):  # a bucket; boto3 is not imported for it
            storage.abort_later = functools.partial(self.keep_abort, backend)  # type: ignore[attr-defined]

    def keep_abort(self, backend: str, key: str, upload_id: str) -> None:
        """Remembers the abort of the multipart upload `upload_id` at `key` on `backend` that a
        failed upload left and the store could not be asked for (out of reach; one found
        silent is not asked again for a while): due at once, it is made by the timed retries
        that follow (every `retry` seconds while they fail), maintenance and the next start,
        so the parts leave the bucket soon after the store answers again, not after the
        stale-upload sweep's day. Never raises: the upload's own error is the answer."""
        try:
            with self.db.write() as s:
                s.add(
                    DeferredDeletion(
                        storage_key=key,
                        is_prefix=False,
                        backend=backend,
                        reason=ABORT_UPLOAD,
                        upload_id=upload_id,
                        not_before=datetime.now(UTC),
                    )
                )
        except Exception as exc:  # noqa: BLE001 - the catalog out too: the sweep's day it is
            # from a video worker's upload too, whose thread nobody tells: when it met the
            # catalog's outage first, the episode's one ERROR line (a WARNING left it none)
            logger.log(
                outage_level(exc, logging.WARNING),
                "The multipart upload of %s is left to the stale-upload sweep: %s",
                key,
                _said(exc),
            )
            return
        if not self._failing:  # else the retries under way make it
            self._start_timer(self.retry)

    def schedule(self) -> None:
        """Runs the due deletions once the grace period has passed (in a timer thread)."""
        self._start_timer(self.grace + 0.05)

    def _start_timer(self, delay: float) -> None:
        with self._guard:
            if self._closed:
                return
            timer = threading.Timer(delay, self._timer_fired)
            timer.daemon = True
            timer.name = "mediadesk-deferred-delete"
            self._timers.add(timer)
        timer.start()

    def _timer_fired(self) -> None:
        me = threading.current_thread()
        with self._guard:
            self._timers = {t for t in self._timers if t is not me and t.is_alive()}
        level = logging.WARNING
        try:
            kept = self._run(datetime.now(UTC))[1]
            cause = "a deletion failed" if kept else ""
        except MediaDeskError as exc:  # the catalog out of reach: nothing was read
            kept, cause = True, exc.message
            # this timer met the catalog's outage first: the episode's one ERROR line, even
            # while retrying (said as a WARNING, or not at all, the outage had no ERROR line)
            level = outage_level(exc, level)
            if words := getattr(exc, "cause", None):
                cause = f"{cause} ({words})"
        except Exception as exc:  # noqa: BLE001 - a timer thread: nobody else would see it
            if not is_no_space(exc):
                logger.exception("Deferred deletions failed")
            kept, cause = True, str(no_space().message if is_no_space(exc) else exc)
        if kept:
            if not self._failing or level == logging.ERROR:
                logger.log(
                    level,
                    "Deferred deletions wait (%s): trying again every %g s",
                    cause,
                    self.retry,
                )
            self._failing = True
            self._start_timer(self.retry)
        elif self._failing:
            self._failing = False
            logger.info("Deferred deletions run again")

    def _idle(self, key: str) -> None:
        with self._guard:
            # a key, or a key under a prefix that waited for its readers
            waited = {w for w in self._waiting if w == key or (w[-1:] == "/" and key.startswith(w))}
            if not waited:
                return
            self._waiting -= waited
        self._start_timer(0)

    def close(self) -> None:
        with self._guard:
            self._closed = True
            timers, self._timers = self._timers, set()
        for timer in timers:
            timer.cancel()

    # ---- deleting ---------------------------------------------------------------------------
    def pending_keys(self) -> set[str]:
        """Keys (and their thumbnails) and prefixes still waiting for deletion: known, not
        orphans."""
        with self.db.read() as s:
            queued = s.execute(
                select(DeferredDeletion.storage_key, DeferredDeletion.is_prefix).where(
                    DeferredDeletion.upload_id.is_(None)  # an upload to abort names no object
                )
            )
            rows = [(key, bool(is_prefix)) for key, is_prefix in queued]
        return {k for k, _ in rows} | {keys.thumbnail_key(k) for k, prefix in rows if not prefix}

    def left_behind(self) -> list[tuple[str, str]]:
        """(backend, key) of every queued LEFT_BEHIND deletion: the file's object and its
        derivatives there go with it (delete_file_objects), so none of them is a stray."""
        with self.db.read() as s:
            found = s.execute(
                select(DeferredDeletion.backend, DeferredDeletion.storage_key).where(
                    DeferredDeletion.reason == LEFT_BEHIND
                )
            )
            return [(str(backend), key) for backend, key in found]

    def url_sweeps(self) -> set[str]:
        """Keys whose deletion only sweeps what a still-valid upload URL may write there after
        the confirm moved the file away (core/ingest.py _out_of_reach): usually nothing is there."""
        with self.db.read() as s:
            found = s.scalars(
                select(DeferredDeletion.storage_key).where(DeferredDeletion.reason == URL_SWEEP)
            )
            return set(found)

    def run(self, now: datetime | None = None) -> list[str]:
        """Deletes every due key that no reader holds; returns the deleted keys."""
        return self._run(now or datetime.now(UTC))[0]

    def _run(self, moment: datetime) -> tuple[list[str], bool]:
        """The deleted keys, and whether a due one was kept by a failure (to run again)."""
        deleted: list[str] = []
        kept = False
        # said once per outage: a timed retry of a failing store would repeat every key's line
        level = logging.DEBUG if self._failing else logging.WARNING
        with self._run_lock:
            with self.db.read() as s:
                due = s.execute(
                    select(
                        DeferredDeletion.id,
                        DeferredDeletion.storage_key,
                        DeferredDeletion.is_prefix,
                        DeferredDeletion.reason,
                        DeferredDeletion.backend,
                        DeferredDeletion.upload_id,
                    ).where(DeferredDeletion.not_before <= moment)
                ).all()
            for entry_id, key, is_prefix, reason, backend, upload_id in due:
                busy = self.readers.busy_under if is_prefix else self.readers.busy
                if upload_id is None and busy(key):
                    with self._guard:
                        self._waiting.add(key)
                    if busy(key):
                        continue
                    with self._guard:
                        self._waiting.discard(key)
                try:
                    if upload_id is not None:
                        self._abort_upload(entry_id, key, upload_id, backend)
                    elif reason == LEFT_BEHIND:
                        if self._delete_left_behind(entry_id, key, str(backend)):
                            deleted.append(key)
                    elif is_prefix:
                        self._delete_prefix(entry_id, key, backend)
                        deleted.append(key)
                    elif self._delete(entry_id, key, backend):
                        deleted.append(key)
                except MediaDeskError as exc:  # kept queued: the next run tries again
                    kept = True
                    said = outage_level(exc, level)  # met the catalog's outage first: the ERROR
                    words = getattr(exc, "cause", None)  # PostgreSQL's, as the timer's line
                    logger.log(
                        said,
                        "Deferred deletion of %s failed: %s",
                        key,
                        f"{exc.message} ({words})" if words else exc.message,
                    )
                except Exception as exc:
                    # The catalog's own "database or disk is full" (the object may be gone
                    # already; its entry goes next run): start-up runs this, and a full disk
                    # must not stop the server from starting.
                    if not is_no_space(exc):
                        raise
                    kept = True
                    logger.log(level, "Deferred deletion of %s failed: %s", key, no_space().message)
        if deleted:
            logger.info(
                "Deleted %d objects (or folders) left behind by moves and reprocessing",
                len(deleted),
            )
        return deleted, kept

    def _stores(self, backend: str | None) -> list[Storage]:
        """Where an entry's objects go from: this storage (with a routing storage, every
        backend it has), and the backend the entry names when this process has not loaded
        it, built from the saved settings (RoutingStorage.backend): a process started on the
        local folder dropped a moved file's old key on the bucket as done, the object left
        there for good. One that cannot be built (or set up too incompletely to be used)
        raises StorageUnavailable: the entry stays for a later run."""
        named = backend_of_store(backend) if backend else backend
        store = getattr(self.storage, "backend", None)  # a routing storage's
        names = getattr(self.storage, "backend_names", None)
        if store is None or names is None or not named:
            return [self.storage]
        if named in names() and not isinstance(store(named), Unusable):
            return [self.storage]  # its own deletions reach it
        return [self.storage, store(named)]

    def _abort_upload(self, entry_id: int, key: str, upload_id: str, backend: str | None) -> None:
        """Aborts a failed upload's multipart upload (ABORT_UPLOAD) on the backend it went to;
        one already gone (completed, aborted by the stale sweep or a lifecycle rule) is done."""
        named = backend_of_store(backend) if backend else None
        of = getattr(self.storage, "backend", None)  # a routing storage's
        store = of(named) if of is not None and named else self.storage
        if isinstance(store, MultipartStorage):  # else no bucket: nothing of it is left
            store.abort_multipart(key, upload_id)
            logger.info("Aborted the multipart upload of %s that a failed upload left", key)
        with self.db.write() as s:
            s.execute(delete(DeferredDeletion).where(DeferredDeletion.id == entry_id))

    def _delete_prefix(self, entry_id: int, prefix: str, backend: str | None) -> None:
        for storage in self._stores(backend):
            storage.delete_prefix(prefix)
        with self.db.write() as s:
            s.execute(delete(DeferredDeletion).where(DeferredDeletion.id == entry_id))

    @contextlib.contextmanager
    def writing(self, key: str) -> Iterator[None]:
        """Held while `key` is written to and the row naming it committed (a migration's copy
        of a file back to a backend where its old copy waits for deletion): that deletion
        (`_delete_left_behind`, `_delete`) waits, then sees the row, in this process or any
        other of the catalog. The same order as the deletion: key_locks, then object_locks."""
        with self.key_locks.hold(key), self.object_locks.hold(key):
            yield

    def _delete_left_behind(self, entry_id: int, key: str, backend: str) -> bool:
        # the one backend's store: the routing storage would find the moved copy first
        store = getattr(self.storage, "backend", None)
        if store is None:  # a single-backend library: the file cannot have left it
            with self.db.write() as s:
                s.execute(delete(DeferredDeletion).where(DeferredDeletion.id == entry_id))
            return False
        # under the locks a migration moving the file back there holds (`writing`): else its
        # copy, written and committed by another process between this check and this delete,
        # went, and the row named an object that was not there
        with self.key_locks.hold(key), self.object_locks.hold(key):
            return drop_left_behind(self.db, store(backend), entry_id, key, backend)

    def _delete(self, entry_id: int, key: str, backend: str | None = None) -> bool:
        with self.key_locks.hold(key), self.object_locks.hold(key):
            return self._delete_locked(entry_id, key, backend)

    def _delete_locked(self, entry_id: int, key: str, backend: str | None = None) -> bool:
        with self.db.read() as s:
            in_use = _named(s, key)
        if not in_use:
            for storage in self._stores(backend):
                storage.delete_prefix(keys.variant_prefix(key))
                for derivative in keys.derivative_keys(key):
                    storage.delete(derivative)
                storage.delete(key)
        with self.db.write() as s:
            s.execute(delete(DeferredDeletion).where(DeferredDeletion.id == entry_id))
        return not in_use
