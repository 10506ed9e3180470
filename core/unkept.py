"""Images made from a photo for a read (its thumbnail, its resized variants) that the store has
no room to keep: served from the bytes made in memory all the same, since a full disk or quota
keeps answering reads (README); the next read after room is made keeps them."""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from core.errors import InsufficientStorage
from core.storage.base import ObjectStat, OpenedObject, Storage
from core.storage.routing import home_of

logger = logging.getLogger(__name__)

WEBP = "image/webp"


@dataclass(frozen=True)
class UnkeptObject(OpenedObject):
    """An image made in memory that the store had no room to keep: served from `data`."""

    data: bytes = field(default=b"", repr=False, compare=False)

    def open_range(
        self, start: int, end: int | None, chunk_size: int = 256 * 1024
    ) -> Iterator[bytes]:
        last = len(self.data) if end is None else min(end + 1, len(self.data))
        view = memoryview(self.data)
        return (
            bytes(view[at : min(at + chunk_size, last)]) for at in range(start, last, chunk_size)
        )

    def read_all(self) -> bytes:
        return self.data


class Keeper:
    """Stores the WebP images a read made; one per library, so that a full store is said once
    in the log (every read of an image would say it) until an image is kept again."""

    def __init__(self, storage: Storage) -> None:
        self._storage = storage
        self._lock = threading.Lock()
        self._unkept = False

    def put(
        self, key: str, data: bytes, what: str, *, beside: str | None = None
    ) -> ObjectStat | None:
        """`data` stored at `key`, its stat; None when the store had no room for it (a full disk
        or quota: InsufficientStorage), nothing kept and the caller serves `data`. Other
        failures raise. `what` names the image in the warning ("Thumbnail of file 7").
        `beside`: the key of its original, whose backend keeps it (a thumbnail); without it,
        the active backend (a variant: a cache of the process that serves it)."""
        store = self._storage if beside is None else home_of(self._storage, beside)
        try:
            stat = store.put_bytes(key, data, WEBP)
        except InsufficientStorage as exc:
            with self._lock:
                said, self._unkept = self._unkept, True
            if not said:
                logger.warning("%s served but not kept: %s", what, exc)
            return None
        with self._lock:
            self._unkept = False
        return stat

    def unkept(self, key: str, data: bytes) -> UnkeptObject:
        """`data` opened as if stored at `key` (ranges, an ETag of the bytes)."""
        etag = '"' + hashlib.blake2b(data, digest_size=16).hexdigest() + '"'
        stat = ObjectStat(key, len(data), etag, datetime.now(UTC), WEBP)
        return UnkeptObject(key, stat, None, self._storage, data)
