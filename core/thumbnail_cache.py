"""The local cache of thumbnails: one WebP per file version, beside the store's copy.

The store keeps every thumbnail (`keys.thumbnail_key`); this cache saves a round trip to a
remote bucket for the grid. It is only a cache: a failed write is logged, never raised.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from pathlib import Path

from core.fsmodes import FILE_MODE, make_dirs, set_file_mode
from core.records import FileRecord

logger = logging.getLogger(__name__)


class ThumbnailCache:
    """Thumbnails under `folder`, named by file id and content tag: a new upload, or its
    thumbnail made again by a new rendering (core.thumbnails.THUMBNAIL_GENERATION), is a new
    name, so an old entry is never served for it (those of files uploaded before the tag
    counted renderings keep their names)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._failing = False  # a read failed: warned once, until a read works again

    def path(self, record: FileRecord) -> Path:
        return self.folder / f"{record.id}-{record.content_tag or ''}.webp"

    def get(self, record: FileRecord) -> bytes | None:
        """The cached thumbnail, or None: a miss sends the caller to the store's copy, which
        is the truth. A cache folder that cannot be read (its permissions removed, a failing
        disk) is a miss too, said once in the log until the cache works again; the store
        read that follows reports the storage's own failure if there is one."""
        try:
            data = self.path(record).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        except OSError as exc:
            if not self._failing:
                self._failing = True
                logger.warning("Thumbnail cache %s cannot be read: %s", self.folder, exc)
            return None
        self._failing = False
        return data

    def put(self, record: FileRecord, data: bytes | None) -> None:
        if not data:
            return
        path = self.path(record)
        # A name per writer: the ingest and a thumbnail loader may cache the same file at once.
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
        try:
            make_dirs(path.parent)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
            with os.fdopen(fd, "wb") as out:
                set_file_mode(out.fileno())  # a file left by an older version keeps its mode
                out.write(data)
            tmp.replace(path)
        except OSError as exc:  # a cache: a full disk must not fail the upload or read
            logger.warning("Thumbnail not cached for file %s: %s", record.id, exc)
            with contextlib.suppress(OSError):  # fails the same way in an unwritable folder
                tmp.unlink(missing_ok=True)

    def drop(self, record: FileRecord) -> None:
        """Called once the file is gone from the catalog: a failure here must not turn that
        done deletion into an error (the stale entry is never read: ids are not reused)."""
        try:
            self.path(record).unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("Cached thumbnail of file %s not removed: %s", record.id, exc)
