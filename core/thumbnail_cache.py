"""The local cache of thumbnails: one WebP per file version, beside the store's copy.

The store keeps every thumbnail (`keys.thumbnail_key`); this cache saves a round trip to a
remote bucket for the grid. It is only a cache: a failed write is logged, never raised.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from core.records import FileRecord

logger = logging.getLogger(__name__)


class ThumbnailCache:
    """Thumbnails under `folder`, named by file id and content hash (a new upload, a new name)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, record: FileRecord) -> Path:
        return self.folder / f"{record.id}-{(record.sha256 or '')[:16]}.webp"

    def get(self, record: FileRecord) -> bytes | None:
        path = self.path(record)
        return path.read_bytes() if path.is_file() else None

    def put(self, record: FileRecord, data: bytes | None) -> None:
        if not data:
            return
        path = self.path(record)
        # A name per writer: the ingest and a thumbnail loader may cache the same file at once.
        tmp = path.with_suffix(f".{threading.get_ident()}.tmp")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(data)
            tmp.replace(path)
        except OSError as exc:  # a cache: a full disk must not fail the upload or read
            logger.warning("Thumbnail not cached for file %s: %s", record.id, exc)
            tmp.unlink(missing_ok=True)

    def drop(self, record: FileRecord) -> None:
        self.path(record).unlink(missing_ok=True)
