"""One lock per key, for flows that must not overlap on the same file, hash or storage key."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


class KeyedLocks:
    """One lock per key (a sha256, a file id, a storage key).

    Entries are reference-counted and dropped when no thread holds or waits for them, so a
    long-running server does not keep a lock for every file it has ever seen.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[object, list[Any]] = {}  # key -> [lock, holders and waiters]

    @contextmanager
    def hold(self, key: object) -> Iterator[None]:
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)
