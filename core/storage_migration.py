"""Where each file's bytes live, and moving them between storage backends.

Every `media_files` row names its backend (`storage_backend`, migration 0002). New rows are
labelled with the active backend as they are flushed; rows from before that revision are
labelled at the first start with the backend configured then (where they all were).

`library.backends.migrate()` moves files one at a time: copy to the target, read the copy
back and compare its SHA-256 with the catalog's, switch the row (only if it still names the
same key and source), then delete the source. Killed at any point, no row ever names bytes that
are not there: before the switch the source is intact; after it the copy is verified. Running
it again resumes with the files still on the source. Derivatives (thumbnails) move with their
file; resized variants and video renditions are caches and are rebuilt on demand at the target.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event, func, select, update
from sqlalchemy.orm import Session

from core import keys
from core.db.engine import Database
from core.db.models import MediaFile
from core.errors import (
    Cancelled,
    Conflict,
    MediaDeskError,
    NotFound,
    StorageUnavailable,
    catalog_unreachable,
)
from core.records import FileStatus
from core.settings import Settings
from core.spool import owned_temp
from core.storage.base import Presigner, Storage
from core.storage.factory import SIGNING_KEY_FILE
from core.storage.routing import RoutingStorage
from core.storage.s3 import S3Presigner, S3Storage
from core.storage.signing import LocalPresigner, load_or_create_secret

logger = logging.getLogger(__name__)

BACKENDS = ("local", "r2")
MigrationProgress = Callable[[int, int, str], None]  # files done, files in total, file name


class ChecksumMismatch(MediaDeskError):
    code = "checksum_mismatch"
    status = 500


@dataclass
class MigrationReport:
    target: str
    moved: int = 0
    skipped: int = 0  # changed meanwhile (renamed, deleted): picked up by the next run
    failed: list[tuple[int, str]] = field(default_factory=list)  # (file id, why)

    @property
    def complete(self) -> bool:
        return not self.failed and not self.skipped


class StorageBackends:
    """Which backend holds each file, and moving files between backends (`library.backends`).

    `settings` is called for the current settings; `reading(key)` is held while a file's
    bytes are copied, so a deferred deletion of that key waits (core/deferred.py).
    """

    def __init__(
        self,
        settings: Callable[[], Settings],
        db: Database,
        storage: Storage,
        presigner: Presigner,
        reading: Callable[[str], AbstractContextManager[None]],
    ) -> None:
        self._settings = settings
        self._db = db
        self._storage = storage
        self._presigner = presigner
        self._reading = reading

    def attach(self) -> None:
        """Labels new rows with the active backend and lets reads find files on other backends."""
        storage = self._storage
        active = self._settings().backend_name

        def label(session: Session, _context: Any, _instances: Any) -> None:
            for obj in session.new:
                if isinstance(obj, MediaFile) and obj.storage_backend is None:
                    obj.storage_backend = active

        for factory in (self._db._read_factory, self._db._write_factory):  # noqa: SLF001
            event.listen(factory, "before_flush", label)
        with self._db.write() as s:
            s.execute(
                update(MediaFile)
                .where(MediaFile.storage_backend.is_(None))
                .values(storage_backend=active)
            )
        if isinstance(storage, RoutingStorage):
            storage.locate = self._first_to_ask

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

    def backend_of_key(self, key: str) -> str | None:
        with self._db.read() as s:
            return s.scalar(select(MediaFile.storage_backend).where(MediaFile.storage_key == key))

    def counts_by_backend(self) -> dict[str, int]:
        """How many files (trashed ones included) each backend holds."""
        with self._db.read() as s:
            rows = s.execute(
                select(MediaFile.storage_backend, func.count()).group_by(MediaFile.storage_backend)
            ).all()
        return {str(name): int(n) for name, n in rows if name}

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
    ) -> MigrationReport:
        """Moves every file that is not on `target` there (see the module text for the order)."""
        if target not in BACKENDS:
            raise ValueError(f"Unknown storage backend {target!r}")
        routing = self._routing()
        if target_storage is not None:
            routing.add_backend(target, target_storage)
        destination = routing.backend(target)
        destination.check()  # fail before touching anything when the target is unreachable
        with self._db.read() as s:
            todo = (
                s.execute(
                    select(MediaFile.id)
                    .where(
                        MediaFile.storage_backend != target, MediaFile.status == FileStatus.READY
                    )
                    .order_by(MediaFile.id)
                )
                .scalars()
                .all()
            )
        report = MigrationReport(target)
        total = len(todo)
        moved_keys: set[str] = set()  # a shared object moves once, for all its files
        for done, file_id in enumerate(todo):
            if cancel is not None and cancel.is_set():
                raise Cancelled("Storage migration cancelled; run it again to continue")
            name = ""
            try:
                name = self._move_one(routing, file_id, target, moved_keys)
                if name:
                    report.moved += 1
                else:
                    report.skipped += 1
            except (MediaDeskError, OSError) as exc:
                logger.warning("File %s was not moved to %s: %s", file_id, target, exc)
                report.failed.append((file_id, str(exc)))
            if progress is not None:
                progress(done + 1, total, name)
        logger.info(
            "Storage migration to %s: %s moved, %s skipped, %s failed",
            target,
            report.moved,
            report.skipped,
            len(report.failed),
        )
        return report

    def _move_one(
        self, routing: RoutingStorage, file_id: int, target: str, moved_keys: set[str]
    ) -> str:
        """Returns the file's name when it moved, "" when it changed meanwhile (left as it is)."""
        with self._db.read() as s:
            row = s.get(MediaFile, file_id)
            if row is not None and row.storage_backend == target and row.storage_key in moved_keys:
                return row.original_filename  # moved with another file sharing its object
            if row is None or row.storage_backend in (None, target):
                return ""
            key, source_name, sha = row.storage_key, str(row.storage_backend), row.sha256
            content_type = row.content_type or "application/octet-stream"
            name, has_thumb = row.original_filename, row.has_thumbnail
        source = routing.backend(source_name)
        destination = routing.backend(target)
        with self._reading(key), contextlib.ExitStack() as cleanup:
            # An owned partial file, not a temp folder: maintenance removes the copy of a
            # migration killed mid-way (core.partials), and never a running migration's.
            fd, local = owned_temp(self._settings().paths.tmp_dir, "migrate")
            os.close(fd)
            cleanup.callback(local.unlink, missing_ok=True)
            source.download_to(key, local)
            destination.put_file(key, local, content_type)
            copied = hashlib.sha256()
            for chunk in destination.open_range(key, 0, None):
                copied.update(chunk)
            if sha and copied.hexdigest() != sha:
                destination.delete(key)
                raise ChecksumMismatch(f"The copy of {key} at {target} does not match its SHA-256")
            thumb = keys.thumbnail_key(key)
            if has_thumb:
                with contextlib.suppress(NotFound):
                    data = b"".join(source.open_range(thumb, 0, None))
                    destination.put_bytes(thumb, data, "image/webp")
            with self._db.write() as s:
                switched = s.execute(
                    update(MediaFile)
                    .where(
                        # every file sharing the object (the same bytes for another athlete)
                        # moves with it: none may be left pointing at the source
                        MediaFile.storage_key == key,
                        MediaFile.storage_backend == source_name,
                    )
                    .values(storage_backend=target)
                ).rowcount  # type: ignore[attr-defined]
            if not switched:  # renamed or deleted meanwhile: the source is still the truth
                destination.delete(key)
                return ""
            moved_keys.add(key)
            # Only now, with the catalog pointing at the verified copy, does the source go.
            source.delete(key)
            for derived in keys.derivative_keys(key):
                source.delete(derived)
            with contextlib.suppress(NotFound):
                source.delete_prefix(keys.variant_prefix(key))
        return name

    def presigner_for(self, key: str) -> Presigner:
        """The presigner of the backend holding `key`: a file kept on the old backend gets a
        link that works (a signed link through this server for local files, an R2 URL for R2
        files)."""
        settings = self._settings()
        active = settings.backend_name
        backend = self.backend_of_key(key)
        if backend in (None, active) or not isinstance(self._storage, RoutingStorage):
            return self._presigner
        if backend == "local":
            presigner = self._presigner
            secret = load_or_create_secret(settings.paths.secrets_dir / SIGNING_KEY_FILE)
            base = getattr(presigner, "base_url", "") or settings.server_url
            return LocalPresigner(secret, base)
        storage = self._storage.backend(backend)
        return S3Presigner(storage) if isinstance(storage, S3Storage) else self._presigner

    def on_backend(self, key: str, backend: str) -> bool:
        return (self.backend_of_key(key) or self._settings().backend_name) == backend
