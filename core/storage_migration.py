"""Where each file's bytes live, and moving them between storage backends.

Every `media_files` row names its backend (`storage_backend`, migration 0002). New rows are
labelled with the active backend as they are flushed; rows from before that revision are
labelled at the first start with the backend configured then (where they all were).

`library.backends.migrate()` moves files one at a time: queue the copy's deletion at the target
(core/deferred.py, LEFT_BEHIND, due COPY_KEPT_SECONDS later), copy to the target, read the copy
back and compare its SHA-256 with the catalog's, switch the row (only if it still names the
same key and source) and, in the same transaction, take the copy's deletion back and queue the
source's, due SOURCE_KEPT_SECONDS later; the run deletes each source once due (waiting at its
end for the last ones, a wait its progress reports: MigrationStep.removing; a cancel ends it).
Killed at any point, no row ever names bytes that are not there (before
the switch the source is intact; after it the copy is verified) and neither a copy nor a source
is left untracked (its queued deletion runs once due, at a start or maintenance). A file that
did not move keeps its copy's deletion queued: running the move again resumes with the files
still on the source, and takes it back as it switches them. Derivatives move with their file: the
thumbnail, and a video's renditions, HLS ladder and scrub sprites (`keys.video_prefix`), which
no job would rebuild (its job is done) and which the old store may no longer hold. Resized
image variants are caches, rebuilt on demand at the target. Alias rows (duplicates served from
their target file's object) follow their file's backend.

One migration at a time per catalog (`_one_migration`): two at once (the desktop and the CLI of
another machine sharing the catalog) each copy a file to the same key, and the one that lost
the row's switch used to delete the copy the other had just made the truth. The copy is also
only ever dropped when no row names it on the target (`_drop_copy`).

A source that cannot be deleted once due does not make the file fail (it moved): it is tried
again at the end of the run, and what is still left is logged, listed in the report's
`leftovers` and stays queued, which maintenance and every start retry.

A file moving back to a backend where its old copy waits for deletion first takes that queued
deletion back (`cancel_left_behind`) for its copy's, later: the deletion only ever runs while no
row names the key on that backend (`drop_left_behind`). The copy and the
switch hold the key's locks, which that deletion holds from its check to its delete, in any
process of the catalog (core/deferred.py `DeferredDeleter.writing`).

A failure's `error` is a sentence for the user (`_in_user_terms`): the storages' messages name
keys and the endpoint, which go to the log only. Its `code` and `reason` say which failure it is,
for a client's own sentence: besides core/errors.py's reasons, a move's own two, `object_missing`
(not_found: the source's object is gone while its row still names it; `mediadesk maintenance`
lists such files) and `copy_mismatch` (checksum_mismatch: the copy read back from the target
differs, the file stays on its source). Its `retryable` is the one rule of whether running the
move again can move the file as it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import threading
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from core import keys, shared_settings
from core.db.engine import Database, catalog_read_only
from core.db.models import MediaFile
from core.deferred import (
    REPLACED_GRACE_SECONDS,
    cancel_left_behind,
    drop_left_behind,
    named_on,
    queue_left_behind,
)
from core.errors import (
    OBJECT_MISSING,
    Cancelled,
    Conflict,
    MediaDeskError,
    NotFound,
    StorageUnavailable,
    catalog_unreachable,
    object_damaged,
    passing_outage,
    storage_error,
)
from core.links import Arrival, link_origin
from core.locks import lock_file
from core.records import FileStatus
from core.settings import Settings
from core.spool import hash_file, owned_temp
from core.storage.base import Presigner, Storage
from core.storage.factory import SIGNING_KEY_FILE, build_backend
from core.storage.routing import RoutingStorage, refusing
from core.storage.signing import LocalPresigner, load_or_create_secret
from core.video.service import content_type_of

try:  # POSIX; elsewhere one migration at a time holds within this process only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

BACKENDS = ("local", "r2")
_KEYS_A_READ = 500  # keys in one IN (...) of _backends_named: under SQLite's variable limit


class MigrationStep(NamedTuple):
    """What a running migration reports: files done of `total` and the last one's name; then,
    while it waits at its end for the moved files' old copies to be deleted (`removing` > 0),
    how many are still waiting and the seconds until the last one goes. Without the second
    phase a progress window sat at N of N for up to SOURCE_KEPT_SECONDS, looking stuck."""

    done: int
    total: int
    name: str
    removing: int = 0
    seconds_left: int = 0


MigrationProgress = Callable[[MigrationStep], None]
# pg_try_advisory_lock key (the one-key space, beside core/leader.py's LEADER_LOCK) held by the
# running migration of a PostgreSQL catalog
MIGRATION_LOCK = 0x4D444B4D
MIGRATION_LOCK_NAME = "migrate"  # SQLite: flock on `<catalog>-migrate.lock` (core.locks.lock_file)
_in_process = threading.Lock()  # an in-memory catalog, or no fcntl
# A backend's files, as `storage status`, the desktop's move question and a move count them:
# ready ones, trashed ones included (their bytes are stored). A duplicate's alias row is its
# file's (it follows it on a move), a pending upload's or a failed file's row stays where it
# is: counted, one photo uploaded twice was two files there while the library listed one.
_FILES = MediaFile.status == FileStatus.READY


def files_by_backend(db: Database) -> dict[str, int]:
    """How many files (`_FILES`) each backend holds: what a move takes, and the storages
    `mediadesk doctor` must find usable (files on one this set-up cannot read are lost to it)."""
    with db.read() as s:
        rows = s.execute(
            select(MediaFile.storage_backend, func.count())
            .where(_FILES)
            .group_by(MediaFile.storage_backend)
        ).all()
    return {str(name): int(n) for name, n in rows if name}


# How long a moved file's source outlives the switch of its row. Servers of other processes (or
# machines) on the catalog may still read the old location: a record and its local path are
# cached for up to server/record_cache.py TTL_SECONDS (2 s) after the change feed carries the
# switch, and the feed itself takes a moment (a poll, a reconnect); a range read that resolved
# the path just before must still open it. A minute covers all of that with room to spare.
SOURCE_KEPT_SECONDS = 60.0
# How long the copy of a file that did not move outlives the run at the target, when no run of
# the same move switches the file onto it first (which takes its deletion back). A store that
# stalled may take in a PUT the move gave up on long after: deleted sooner, the copy lands
# after its deletion ran, untracked again. The uploads' grace for an object written before its
# row (core.deferred.queue_until_recorded), for the same reason. A move running again holds
# the key's locks from its copy to its switch, which the deletion takes too (`writing`).
COPY_KEPT_SECONDS = REPLACED_GRACE_SECONDS
# A failure's `error`, by its code and reason: what the user can do, never a key or endpoint.
_UNREACHABLE = "The storage cannot be reached; run the move again later"
_SENTENCES: dict[tuple[str, str | None], str] = {
    ("storage_unavailable", None): _UNREACHABLE,
    ("storage_unavailable", "endpoint_unreachable"): _UNREACHABLE,
    ("storage_unavailable", "catalog_unreachable"): (
        "The catalog (database) cannot be reached; run the move again later"
    ),
    ("storage_unavailable", "catalog_disk_unreachable"): (
        "The disk holding the library cannot be read or written (unplugged, or the network "
        "share is gone); connect it again and run the move again"
    ),
    # the source's bytes: moving it again cannot help, only restoring them
    ("storage_unavailable", "object_damaged"): (
        "The stored copy of this file is damaged (a bad restore or a disk fault), so it stayed "
        "where it is; restore it from a backup, then it moves with the next run (`mediadesk "
        "maintenance` lists files that are not their recorded size)"
    ),
    ("not_found", None): (
        "The stored copy of this file is missing; `mediadesk maintenance` lists such files"
    ),
    ("checksum_mismatch", None): (
        "The copy at the target did not match the original, so the file stayed where it is; "
        "run the move again"
    ),
}
_REFUSED = (
    "The storage refuses the move: its address, bucket or access keys are set wrong; check "
    "them (`mediadesk doctor`) and run the move again"
)


# A move's own reason (the module text); OBJECT_MISSING is every storage's (core.errors)
COPY_MISMATCH = "copy_mismatch"


class ChecksumMismatch(MediaDeskError):
    code = "checksum_mismatch"
    status = 500


class MigrationFailure(NamedTuple):
    """A file that was not moved: why in user terms, and the error's code and reason
    (core/errors.py, or a move's own: OBJECT_MISSING, COPY_MISMATCH), as the API would answer
    them."""

    file_id: int
    error: str
    code: str
    reason: str | None = None

    @property
    def retryable(self) -> bool:
        """Whether running the move again can move this file as it is: after an outage that
        passes (core.errors.passing_outage) or a copy spoiled on its way, not a damaged or
        missing source, a full disk or a storage set up wrong, which need someone to act
        first. Told from the code and reason alone, so a client holding only those (the
        desktop's report) follows the same rule."""
        if self.code == ChecksumMismatch.code:
            return True
        return self.code == StorageUnavailable.code and passing_outage(
            StorageUnavailable(self.error, reason=self.reason)
        )


@dataclass
class MigrationReport:
    target: str
    moved: int = 0
    skipped: int = 0  # changed meanwhile (renamed, deleted): picked up by the next run
    failed: list[MigrationFailure] = field(default_factory=list)
    # moved files whose old copy the source would not delete: (backend, key), queued for later
    leftovers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.skipped


class StorageBackends:
    """Which backend holds each file, and moving files between backends (`library.backends`).

    `settings` is called for the current settings; `reading(key)` is held while a file's
    bytes are copied, so a deferred deletion of that key waits (core/deferred.py), and
    `writing(key)` (DeferredDeleter.writing) while its copy is written and its row switched,
    so that the deletion of an old copy at the target, in any process, takes turns with it.
    """

    def __init__(
        self,
        settings: Callable[[], Settings],
        db: Database,
        storage: Storage,
        presigner: Presigner,
        reading: Callable[[str], AbstractContextManager[None]],
        writing: Callable[[str], AbstractContextManager[None]] | None = None,
    ) -> None:
        self._settings = settings
        self._db = db
        self._storage = storage
        self._presigner = presigner
        self._reading = reading
        self._writing = writing or (lambda _key: contextlib.nullcontext())
        # the host and port this process's server listens on, once it does
        self._bound: tuple[str, int] | None = None
        # backends _configure could not build, by name: (the saved settings' stamp, why)
        self._unconfigured: dict[str, tuple[object, str]] = {}
        self._configuring = threading.Lock()

    def serve_links_at(self, host: str, port: int) -> None:
        """Records the address this process's server listens on (known only once it is bound:
        `--port`, port 0), for the links `link_origin` names."""
        self._bound = (host, port)

    @property
    def bound(self) -> tuple[str, int] | None:
        """The host and port this process's server listens on (serve_links_at), if it does."""
        return self._bound

    def link_origin(self, arrival: Arrival | None = None) -> str:
        """The origin of every absolute link this process hands out (local signed links,
        whichever presigner signs them, and watch pages), answering the request that arrived
        as `arrival` (None: not answering one): the rule is core.links.link_origin."""
        settings = self._settings()
        return link_origin(settings.public_origin, self._bound, settings.server_url, arrival)

    def attach(self) -> None:
        """Labels new rows with the active backend and lets reads find files on other backends."""
        storage = self._storage
        active = self._settings().backend_name

        def label(session: Session, _context: Any, _instances: Any) -> None:
            for obj in session.new:
                if isinstance(obj, MediaFile) and obj.storage_backend is None:
                    obj.storage_backend = active

        self._db.listen_sessions("before_flush", label, reads=True)
        # The first write of every start (serve, maintenance, the desktop app): a catalog file
        # that cannot be written is refused here in one line naming it, exit status 2, as a
        # read-only data folder is; its write failed as SQLAlchemy's traceback.
        read_only = catalog_read_only(self._db.url)
        if read_only is not None:
            raise read_only
        with self._db.write() as s:
            s.execute(
                update(MediaFile)
                .where(MediaFile.storage_backend.is_(None))
                # bookkeeping, not an edit: 'Recently edited' and edit dates keep their order
                .values(storage_backend=active, updated_at=MediaFile.updated_at)
            )
        if isinstance(storage, RoutingStorage):
            storage.locate = self._first_to_ask
            storage.locate_many = self._backends_named
            storage.resolve = self._configure
            storage.locate_owner = self._owner_backend

    def _configure(self, name: str) -> Storage:
        """The backend `name` built from the settings saved now: a row names a backend this
        process started without (`storage migrate --to r2 --save-keys` ran in another process,
        or the desktop's storage switch). The settings are read again only when their file or
        the secrets folder changed since the last attempt that found the backend unconfigured;
        the routing storage keeps what is built. Raises StorageUnavailable saying what to do."""
        with self._configuring:
            settings = self._settings()
            stamp = _saved_stamp(settings)
            known = self._unconfigured.get(name)
            if known is not None and known[0] == stamp:
                raise StorageUnavailable(known[1], reason="storage_not_configured")
            try:
                storage = build_backend(shared_settings.load_again(settings), name)
            except (MediaDeskError, OSError) as exc:
                why = (
                    f"Files of this library are on the {name} storage, which this process was "
                    f"started without and cannot use from the saved settings ({exc}). Restart "
                    "MediaDesk with that storage's settings: save them once (`mediadesk storage "
                    "migrate --to r2 --save-keys` with R2_* set, or the desktop app's Settings ▸ "
                    "Storage) or set R2_* in its environment"
                )
                self._unconfigured[name] = (stamp, why)
                logger.warning("%s", why)
                raise StorageUnavailable(why, reason="storage_not_configured") from None
            logger.info("Storage %s: found in the saved settings, read from now on", name)
            return storage

    def _first_to_ask(self, key: str) -> str | None:
        """Where the routing storage looks for `key` first. The catalog's answer only saves
        asking the other backends: while the catalog cannot be reached every backend is asked
        in turn, so the bytes of a file whose record a server still holds go on streaming
        through a short outage (server/record_cache.py)."""
        try:
            return self.backend_of_key(key)
        except StorageUnavailable as exc:
            if not catalog_unreachable(exc):
                raise
            return None

    def _backends_named(self, keys: Sequence[str]) -> set[str]:
        """The backends the catalog names for any of `keys` (RoutingStorage.reach). While the
        catalog cannot be reached, none: the deletions that free a full disk (core/maintenance.py
        FILE_ONLY_TASKS) still reach the backends this process has, and one that would drop a
        row cannot write it either."""
        names: set[str] = set()
        unique = sorted(set(keys))
        try:
            for start in range(0, len(unique), _KEYS_A_READ):
                with self._db.read() as s:
                    names.update(
                        str(name)
                        for name in s.scalars(
                            select(MediaFile.storage_backend)
                            .where(MediaFile.storage_key.in_(unique[start : start + _KEYS_A_READ]))
                            .distinct()
                        )
                        if name
                    )
        except StorageUnavailable as exc:
            if not catalog_unreachable(exc):
                raise
            return set()
        return names

    def _owner_backend(self, key: str) -> str | None:
        """The backend of the file the derived `key` is of (RoutingStorage.locate_owner), None
        for another key or while the catalog cannot be reached. One read, only for a key no
        backend this process has holds."""
        pattern = _owner_pattern(key)
        if pattern is None:
            return None
        try:
            with self._db.read() as s:
                found = s.scalar(
                    select(MediaFile.storage_backend)
                    .where(MediaFile.storage_key.like(pattern, escape="\\"))
                    .limit(1)
                )
        except StorageUnavailable as exc:
            if not catalog_unreachable(exc):
                raise
            return None
        return str(found) if found else None

    def backend_of_key(self, key: str) -> str | None:
        with self._db.read() as s:
            return s.scalar(select(MediaFile.storage_backend).where(MediaFile.storage_key == key))

    def keys_on_backend(self, keys: Collection[str], backend: str) -> set[str]:
        """on_backend for many keys in one catalog read (a listing's page)."""
        if not keys:
            return set()
        with self._db.read() as s:
            rows = s.execute(
                select(MediaFile.storage_key, MediaFile.storage_backend).where(
                    MediaFile.storage_key.in_(set(keys))
                )
            ).all()
        where = {str(key): name for key, name in rows}
        active = self._settings().backend_name
        return {key for key in keys if (where.get(key) or active) == backend}

    def configured(self) -> list[tuple[str, Storage]]:
        """Every configured backend by name, the active one first (reconcile lists each: a
        backend that holds no file may still hold objects, e.g. a variant cached there while
        it was active), and every backend the catalog names: one this process started without
        is built from the saved settings, and one that cannot be answers every call with why
        (reconcile reports it unreachable rather than its files' bytes lost)."""
        storage = self._storage
        if not isinstance(storage, RoutingStorage):
            return [(self._settings().backend_name, storage)]
        names = list(storage.backend_names())
        names += sorted(self.backends_in_use() - set(names))
        found: list[tuple[str, Storage]] = [(storage.active_name, storage.active)]
        for name in names:
            if name == storage.active_name:
                continue
            try:
                found.append((name, storage.backend(name)))
            except StorageUnavailable as exc:
                found.append((name, refusing(exc)))
            except NotFound as exc:  # not attached: no saved settings are read
                found.append(
                    (
                        name,
                        refusing(StorageUnavailable(exc.message, reason="storage_not_configured")),
                    )
                )
        return found

    def backend_of_every_key(self) -> dict[str, str]:
        """The backend each row's key lives on (unlabelled rows: the active one), one read."""
        active = self._settings().backend_name
        with self._db.read() as s:
            rows = s.execute(select(MediaFile.storage_key, MediaFile.storage_backend)).all()
        return {str(key): str(name or active) for key, name in rows}

    def counts_by_backend(self) -> dict[str, int]:
        """How many files (`_FILES`: ready, trashed ones included) each backend holds: what a
        move takes. A pending upload or a failed file counted as left behind was offered to
        the desktop's every Save as a move that then moved nothing."""
        return files_by_backend(self._db)

    def backends_in_use(self) -> set[str]:
        """Every backend a row names, whatever its status: a pending upload's or a failed
        file's object is there too, for listings of the store (reconcile, maintenance)."""
        with self._db.read() as s:
            names = s.execute(select(MediaFile.storage_backend).distinct()).scalars().all()
        return {str(name) for name in names if name}

    def files_elsewhere(self) -> int:
        """Files that are not on the active backend."""
        active = self._settings().backend_name
        return sum(n for name, n in self.counts_by_backend().items() if name != active)

    def _routing(self) -> RoutingStorage:
        storage = self._storage
        if not isinstance(storage, RoutingStorage):
            raise Conflict("This library's storage cannot hold several backends")
        return storage

    def migrate(
        self,
        target: str,
        target_storage: Storage | None = None,
        progress: MigrationProgress | None = None,
        cancel: threading.Event | None = None,
        ready: Callable[[], None] | None = None,
    ) -> MigrationReport:
        """Moves every file that is not on `target` there (see the module text for the order).
        Raises Conflict (reason `migration_running`) at once while another migration of this
        catalog runs, in any process. `ready` is called once the target answered and this run
        holds the migration, before the first file moves: what the moved files will need to be
        read (`--save-keys`' keys) is saved there, never after a run that may be killed."""
        if target not in BACKENDS:
            raise ValueError(f"Unknown storage backend {target!r}")
        routing = self._routing()
        if target_storage is not None:
            routing.add_backend(target, target_storage)
        destination = routing.backend(target)
        with _one_migration(self._db):
            destination.check()  # fail before touching anything when the target is unreachable
            if ready is not None:
                ready()
            return self._migrate(routing, target, progress, cancel)

    def _migrate(
        self,
        routing: RoutingStorage,
        target: str,
        progress: MigrationProgress | None,
        cancel: threading.Event | None,
    ) -> MigrationReport:
        with self._db.read() as s:
            todo = (
                s.execute(
                    select(MediaFile.id)
                    .where(MediaFile.storage_backend != target, _FILES)
                    .order_by(MediaFile.id)
                )
                .scalars()
                .all()
            )
        report = MigrationReport(target)
        total = len(todo)
        moved_keys: set[str] = set()  # a shared object moves once, for all its files
        sources: list[_Source] = []  # moved files' sources, queued for deletion, by due time
        retry: list[_Source] = []  # due sources whose deletion failed: tried once more at the end
        try:
            for done, file_id in enumerate(todo):
                if cancel is not None and cancel.is_set():
                    # the files moved so far are done (their old copies queued): the caller
                    # reports them as a finished run's are
                    raise Cancelled(
                        "Storage migration cancelled; run it again to continue",
                        details={"report": report},
                    )
                name = ""
                try:
                    name = self._move_one(routing, file_id, target, moved_keys, sources)
                    if name:
                        report.moved += 1
                    else:
                        report.skipped += 1
                except (MediaDeskError, OSError) as exc:
                    logger.warning("File %s was not moved to %s: %s", file_id, target, exc)
                    # an OS error met below the storages' own translation (the bucket's
                    # download into the temp folder) is said as every other path says it: a
                    # full disk as insufficient_storage, not "[Errno 28] No space left..."
                    error = (
                        exc
                        if isinstance(exc, MediaDeskError)
                        else storage_error(exc, f"Cannot move the file to {target}")
                    )
                    report.failed.append(
                        MigrationFailure(file_id, _in_user_terms(error), error.code, error.reason)
                    )
                if progress is not None:
                    progress(MigrationStep(done + 1, total, name))
                _drop_sources(self._db, routing, sources, time.monotonic(), retry)
            # the last sources come due after the last move: waited for (a CLI run would
            # otherwise leave them to the next maintenance); a cancel leaves them queued
            _await_sources(self._db, routing, sources, retry, total, progress, cancel)
            _retry_sources(self._db, routing, retry, report.leftovers)
        finally:
            self._aliases_follow(target)
        logger.info(
            "Storage migration to %s: %s moved, %s skipped, %s failed",
            target,
            report.moved,
            report.skipped,
            len(report.failed),
        )
        return report

    def _aliases_follow(self, target: str) -> None:
        """An alias is counted on its file's backend: it has no object of its own."""
        moved = select(MediaFile.id).where(MediaFile.storage_backend == target)
        with self._db.write() as s:
            s.execute(
                update(MediaFile)
                .where(
                    MediaFile.alias_of.in_(moved),
                    MediaFile.storage_backend != target,
                )
                .values(storage_backend=target, updated_at=MediaFile.updated_at)
                .execution_options(synchronize_session=False)
            )

    def _named_on(self, key: str, backend: str) -> bool:
        with self._db.read() as s:
            return named_on(s, key, backend)

    def _drop_copy(self, destination: Storage, target: str, key: str, video: list[str]) -> None:
        """Deletes this run's copy of `key` (and of its video files) from the target, unless a
        row names `key` there: then another migration moved the file and the copy is the truth."""
        if self._named_on(key, target):
            return
        destination.delete(key)
        for derived in video:
            destination.delete(derived)

    def _move_one(
        self,
        routing: RoutingStorage,
        file_id: int,
        target: str,
        moved_keys: set[str],
        sources: list[_Source],
    ) -> str:
        """Returns the file's name when it moved, "" when it changed meanwhile (left as it is)."""
        with self._db.read() as s:
            row = s.get(MediaFile, file_id)
            if row is not None and row.storage_backend == target and row.storage_key in moved_keys:
                return row.original_filename  # moved with another file sharing its object
            if row is None or row.storage_backend in (None, target):
                return ""
            key, source_name, sha = row.storage_key, str(row.storage_backend), row.sha256
            size = row.size
            content_type = row.content_type or "application/octet-stream"
            name, has_thumb = row.original_filename, row.has_thumbnail
        destination = routing.backend(target)
        source = routing.backend(source_name)
        # Copied and committed under the key's locks (`writing`), which the deletion of an old
        # copy of it at the target takes too, in any process of the catalog: that deletion,
        # having found no row naming the key there, deleted the copy this move had just
        # written, and the row switched to an object that was gone (the source went later).
        with self._writing(key), self._reading(key), contextlib.ExitStack() as cleanup:
            with self._db.write() as s:
                # Nothing is written at the target before its deletion is queued there (the
                # README's rule for every object stored before the row that names it): a move
                # killed before its switch, or one that gave up on a store that stalled while
                # its PUT still landed, left copies no row named and nothing would remove. An
                # old copy of the file waiting there (a move back within SOURCE_KEPT_SECONDS)
                # is taken back for the same note: due later, it must not go under this copy.
                cancel_left_behind(s, target, key)
                queue_left_behind(s, target, key, COPY_KEPT_SECONDS)
            # An owned partial file, not a temp folder: maintenance removes the copy of a
            # migration killed mid-way (core.partials), and never a running migration's.
            fd, local = owned_temp(self._settings().paths.tmp_dir, "migrate")
            os.close(fd)
            cleanup.callback(local.unlink, missing_ok=True)
            try:
                source.download_to(key, local)
            except NotFound as exc:
                # a row naming bytes that are not there: its own reason, so that clients say
                # so (only a restore helps), not a storage's "not found" for any request
                raise NotFound(
                    f"The stored object {key!r} of file {file_id} is missing from {source_name}",
                    reason=OBJECT_MISSING,
                ) from exc
            # The source is held to the catalog before anything is written at the target: a
            # damaged one (a bad restore, a disk fault) failed as a copy that "did not match",
            # and the advice to run the move again failed the same way at every run.
            _check_source(key, local, size, sha)
            destination.put_file(key, local, content_type)
            copied = hashlib.sha256()
            for chunk in destination.open_range(key, 0, None):
                copied.update(chunk)
            if sha and copied.hexdigest() != sha:
                self._drop_copy(destination, target, key, [])
                raise ChecksumMismatch(
                    f"The copy of {key} at {target} does not match its SHA-256",
                    reason=COPY_MISMATCH,
                )
            thumb = keys.thumbnail_key(key)
            if has_thumb:
                with contextlib.suppress(NotFound):
                    data = b"".join(source.open_range(thumb, 0, None))
                    destination.put_bytes(thumb, data, "image/webp")
            video = _copy_video(source, destination, key, local)
            with self._db.write() as s:
                entry = None
                switched = s.execute(
                    update(MediaFile)
                    .where(
                        # every file sharing the object (the same bytes for another athlete)
                        # moves with it: none may be left pointing at the source
                        MediaFile.storage_key == key,
                        MediaFile.storage_backend == source_name,
                    )
                    # a move is not the user's edit (no event either: the file reads the same)
                    .values(storage_backend=target, updated_at=MediaFile.updated_at)
                ).rowcount  # type: ignore[attr-defined]
                if switched:
                    # the copy is the file's now: its note goes with the switch, in one commit
                    cancel_left_behind(s, target, key)
                    # Not deleted now: readers in other processes may still hold the source's
                    # location (SOURCE_KEPT_SECONDS). Queued with the switch, so a kill after
                    # it leaves a known pending deletion, never an untracked object.
                    entry = queue_left_behind(s, source_name, key, SOURCE_KEPT_SECONDS)
                    s.flush()
                    sources.append(
                        _Source(time.monotonic() + SOURCE_KEPT_SECONDS, entry.id, source_name, key)
                    )
            if not switched:
                with self._db.write() as s:
                    if named_on(s, key, target):  # moved meanwhile (by another migration)
                        cancel_left_behind(s, target, key)
                        moved_keys.add(key)
                        return name
                # renamed or deleted meanwhile: the source is still the truth (the note takes
                # what the drop leaves: the thumbnail, a failed delete)
                self._drop_copy(destination, target, key, video)
                return ""
            moved_keys.add(key)
        return name

    def presigner_for(self, key: str, arrival: Arrival | None = None) -> Presigner:
        """The presigner of the backend holding `key`: a file kept on the old backend gets a
        link that works (a signed link through this server for local files, an R2 URL for R2
        files). Local links name `link_origin(arrival)`."""
        settings = self._settings()
        active = settings.backend_name
        backend = self.backend_of_key(key)
        if backend in (None, active) or not isinstance(self._storage, RoutingStorage):
            if arrival is not None and isinstance(self._presigner, LocalPresigner):
                return self._presigner.at(self.link_origin(arrival))
            return self._presigner
        if backend == "local":
            secret = load_or_create_secret(settings.paths.secrets_dir / SIGNING_KEY_FILE)
            return LocalPresigner(secret, self.link_origin(arrival))
        storage = self._storage.backend(backend)
        from core.storage.s3 import S3Presigner, S3Storage  # loaded by build_r2 (factory)

        return S3Presigner(storage) if isinstance(storage, S3Storage) else self._presigner

    def on_backend(self, key: str, backend: str) -> bool:
        return (self.backend_of_key(key) or self._settings().backend_name) == backend


def _owner_pattern(key: str) -> str | None:
    """A LIKE pattern of the storage key of the file the derived `key` is of (core/keys.py)."""

    def literal(text: str) -> str:
        return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

    if key.startswith(keys.VIDEO_PREFIX):
        name = keys.video_owner_name(key)
        return f"%/{literal(name)}.%" if name else None
    for prefix, dots in ((keys.THUMBNAIL_PREFIX, 1), (keys.VARIANT_PREFIX, 2)):
        if key.startswith(prefix):
            return f"{literal(key[len(prefix) :].rsplit('.', dots)[0])}.%"
    return None


def _saved_stamp(settings: Settings) -> object:
    """What changes when settings are saved (the file is replaced, a secret written): the
    settings file's and the secrets folder's identity and times."""

    def stamp(path: Path) -> tuple[int, int, int] | None:
        try:
            st = path.stat()
        except OSError:
            return None
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    config = Path(settings.config_file or settings.paths.settings_file)
    return (stamp(config), stamp(settings.paths.secrets_dir))


@contextmanager
def _one_migration(db: Database) -> Iterator[None]:
    """Held while a migration runs: another one of the same catalog, in any process on any
    machine, is refused at once. Released however the holder ends (the kernel drops the flock,
    PostgreSQL the advisory lock with the session), so there is no expiry to wait out."""
    busy = Conflict(
        "Another storage migration of this library is running (in another window, process or "
        "machine); run this one again once it has finished",
        reason="migration_running",
    )
    database = db.engine.url.database
    if db.engine.dialect.name == "postgresql":
        import psycopg

        from core.feed import pg_conninfo

        try:
            conn = psycopg.connect(pg_conninfo(db), autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            raise StorageUnavailable(f"The catalog cannot be reached: {exc}") from exc
        try:
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (MIGRATION_LOCK,)).fetchone()
            if not row or not row[0]:
                raise busy
            try:
                yield
            finally:
                # the server ends a closed session a moment later: a migration started right
                # after this one must not find the lock still held
                with contextlib.suppress(psycopg.Error):
                    conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
        finally:
            conn.close()  # ends the session, and the lock with it (a holder that died)
    elif fcntl is not None and database and database != ":memory:":
        # flock, not core.locks' record locks: an flock belongs to its open file, so two
        # migrations in one process (threads) exclude each other too
        fd = os.open(lock_file(Path(database), MIGRATION_LOCK_NAME), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise busy from None
            yield
        finally:
            os.close(fd)  # drops the lock
    else:
        if not _in_process.acquire(blocking=False):
            raise busy
        try:
            yield
        finally:
            _in_process.release()


def _check_source(key: str, local: Path, size: int | None, sha: str | None) -> None:
    """Raises object_damaged when the source's bytes, as fetched to `local`, are not the size
    or the SHA-256 the catalog records: the first as every read path says it (core.library),
    the second as the same fault with the same remedy (a local read of the fetched copy; the
    source is not read twice)."""
    stored = local.stat().st_size
    if size is not None and stored != size:
        raise object_damaged(key, stored, size)
    if sha and hash_file(local)[1] != sha:
        raise StorageUnavailable(
            f"The stored object {key!r} is not the one the catalog records (its SHA-256 "
            "differs): it is damaged (a bad restore or a disk fault); restore it from a backup",
            reason="object_damaged",
            details={"stored_size": stored, "recorded_size": size},
        )


def _copy_video(source: Storage, destination: Storage, key: str, local: Path) -> list[str]:
    """Copies a video's renditions, HLS files and sprites (every object under its video folder)
    to the destination, each checked by its size; returns their keys."""
    copied: list[str] = []
    for obj in list(source.list_keys(keys.video_prefix(key))):
        source.download_to(obj.key, local)
        destination.put_file(obj.key, local, obj.content_type or content_type_of(obj.key))
        copied.append(obj.key)
        if destination.stat(obj.key).size != obj.size:
            raise ChecksumMismatch(
                f"The copy of {obj.key} does not have the size of the original",
                reason=COPY_MISMATCH,
            )
    return copied


class _Source(NamedTuple):
    """A moved file's source, queued for deletion (its entry) once `due` (monotonic)."""

    due: float
    entry_id: int
    backend: str
    key: str


def _drop_sources(
    db: Database, routing: RoutingStorage, sources: list[_Source], now: float, retry: list[_Source]
) -> None:
    """Deletes the sources due by `now` (taking them off `sources`); a failing one goes to
    `retry`, its entry kept."""
    while sources and sources[0].due <= now:
        source = sources.pop(0)
        try:
            drop_left_behind(
                db, routing.backend(source.backend), source.entry_id, source.key, source.backend
            )
        except (MediaDeskError, OSError) as exc:
            logger.debug("Deleting %s from %s failed: %s", source.key, source.backend, exc)
            retry.append(source)


def _await_sources(
    db: Database,
    routing: RoutingStorage,
    sources: list[_Source],
    retry: list[_Source],
    total: int,
    progress: MigrationProgress | None,
    cancel: threading.Event | None,
) -> None:
    """Deletes the last sources as they come due, reporting how many are left and the seconds
    to go (each change of either); a cancel ends the wait at once, leaving them queued."""
    said: MigrationStep | None = None
    while sources:
        now = time.monotonic()
        _drop_sources(db, routing, sources, now, retry)
        if not sources:
            return
        step = MigrationStep(total, total, "", len(sources), math.ceil(sources[-1].due - now))
        if progress is not None and step != said:
            progress(step)
            said = step
        # woken for the next due source, or the countdown's next second
        pause = min(1.0, max(0.0, sources[0].due - now), (sources[-1].due - now) % 1.0 or 1.0)
        if cancel is None:
            time.sleep(pause)
        elif cancel.wait(pause):
            return


def _retry_sources(
    db: Database, routing: RoutingStorage, retry: list[_Source], leftovers: list[tuple[str, str]]
) -> None:
    """Tries the sources that would not go once more (a store's hiccup has often passed); what
    is still there stays queued, which maintenance and every start retry (`pending_deletions`
    in reconcile's report), and is named in `leftovers` and the log."""
    left: list[_Source] = []
    _drop_sources(db, routing, retry, float("inf"), left)
    leftovers.extend((source.backend, source.key) for source in left)
    if left:
        logger.warning(
            "Storage migration: moved files whose old copy could not be deleted yet (deleted "
            "later, by maintenance or the next start): %s",
            ", ".join(f"{backend}:{key}" for backend, key in leftovers),
        )


def _in_user_terms(error: MediaDeskError) -> str:
    """A failure's sentence for the report (the log has the storage's own message)."""
    if error.code == "insufficient_storage":
        return error.message  # already the user's sentence (core.errors.no_space)
    known = _SENTENCES.get((error.code, error.reason)) or _SENTENCES.get((error.code, None))
    # an outage that passes (core.errors.passing_outage: the store, the catalog or the disk
    # under it out of reach) is "run the move again later", never "refused"
    if (
        error.code == "storage_unavailable"
        and error.reason not in (None, "object_damaged")
        and not passing_outage(error)
    ):
        return _REFUSED
    return known or "The file could not be moved; run the move again later"
