"""Room kept beside a SQLite catalog so that a deletion can free space on a full disk.

Every hard delete first writes its claim to the catalog (core.library's `_claim_for_deletion`)
before any byte goes, so a crash never leaves a live file without its bytes. SQLite writes that
claim to its -wal file, which grows into new disk blocks once a checkpoint has cut it back: on a
full disk the claim failed with "database or disk is full", and so did every way staff had to
free space (the API's 507, the desktop's Delete permanently). Deleting the bytes before the
claim would give that safety up.

So a file of RESERVE_BYTES is kept next to the catalog (`<catalog>-reserve`). A deletion whose
catalog write meets a full disk removes it (`release`) and runs again in the room it gave; the
file is made again (`keep`) once the disk has room for it and RESERVE_BYTES more, so that making
it never fills the disk itself. Nothing else uses it: uploads and edits on a full disk are still
refused, and the next deletion finds it there again once room came back.

Crash safety: the reserve is made under a temporary name, given its blocks, synced, and renamed
into place; a process killed meanwhile leaves that temporary file, which the next `keep` or
`release` (both in any process) reuses or removes. Losing the reserve costs nothing but the
room it would have given; it holds no data.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import shutil
import threading
from pathlib import Path

from core.storage.local import fsync_dir

logger = logging.getLogger(__name__)

# A hard delete grows the -wal by about 200 KB (its claim, the renewal, the jobs and the row);
# 2 MiB lets several through before the objects they remove give room back (on R2 they give
# none on this disk), at a cost no working disk notices.
RESERVE_BYTES = 2 * 1024 * 1024
_CHUNK = 256 * 1024


class CatalogReserve:
    """The reserve beside one SQLite catalog file; `catalog` None (PostgreSQL, a catalog in
    memory) keeps none, and every call is then a no-op."""

    def __init__(self, catalog: Path | None, size: int = RESERVE_BYTES) -> None:
        self.path = None if catalog is None else catalog.with_name(f"{catalog.name}-reserve")
        self.size = size
        self._lock = threading.Lock()  # one maker or releaser at a time in this process

    @property
    def _making(self) -> Path:
        assert self.path is not None
        return self.path.with_name(f"{self.path.name}.part")

    def held(self) -> bool:
        """Whether the reserve is in place, whole."""
        if self.path is None:
            return False
        try:
            return self.path.stat().st_size == self.size
        except OSError:
            return False

    def keep(self) -> bool:
        """Makes the reserve when it is missing and the disk has room for it and as much again
        (never the write that fills the disk); whether it is in place. Never raises: a
        read-only or full disk leaves it missing, to be made by a later call."""
        if self.path is None:
            return False
        with self._lock:
            if self.held():
                return True
            try:
                if shutil.disk_usage(self.path.parent).free < 2 * self.size:
                    return False
                self._make()
            except OSError as exc:
                with contextlib.suppress(OSError):
                    self._making.unlink()
                logger.debug("The catalog's reserve %s not made: %s", self.path, exc)
                return False
            return True

    def _make(self) -> None:
        assert self.path is not None
        fd = os.open(self._making, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            try:
                os.posix_fallocate(fd, 0, self.size)  # blocks taken, nothing written
            except OSError as exc:
                if exc.errno not in (errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
                    raise
                # A file system without it (ZFS): bytes a compressing one cannot shrink
                block = os.urandom(_CHUNK)
                for _ in range(self.size // _CHUNK):
                    os.write(fd, block)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(self._making, self.path)
        fsync_dir(self.path.parent)

    def release(self) -> bool:
        """Removes the reserve (and a half-made one) to give its room to a deletion; whether
        there was room to give."""
        if self.path is None:
            return False
        freed = False
        with self._lock:
            for path in (self._making, self.path):
                try:
                    path.unlink()
                    freed = True
                except FileNotFoundError:
                    continue
                except OSError as exc:
                    logger.warning("The catalog's reserve %s could not be removed: %s", path, exc)
        return freed
