"""Test-only access to a Library's private parts, for setup and checks no façade method offers
(raw rows, objects in the store, instrumenting the parts).

Production code never reaches these: server/ and desktop_app/ use the façade's methods
(tests/test_layering.py), core collaborators get their parts at construction.
"""

from __future__ import annotations

from typing import Any

import pytest

from core.catalog import Catalog
from core.db.engine import Database
from core.library import Library
from core.locks import CatalogLocks, KeyedLocks
from core.storage.base import Presigner, Storage


def db_of(library: Library) -> Database:
    return library._db


def storage_of(library: Library) -> Storage:
    return library._storage


def catalog_of(library: Library) -> Catalog:
    return library._catalog


def presigner_of(library: Library) -> Presigner:
    return library._presigner


def confirm_locks_of(library: Library) -> CatalogLocks:
    """The per-file locks a presigned upload's confirm holds (and a signed PUT's last step)."""
    return library.uploads._confirm_locks


def sha_locks_of(library: Library) -> KeyedLocks:
    """The per-hash locks a confirm takes once it has validated and hashed the object."""
    return library.uploads._sha_locks


def lock_users(locks: KeyedLocks | CatalogLocks, key: object) -> int:
    """Threads of this process holding or waiting for `key`'s lock."""
    turns = locks._turns if isinstance(locks, CatalogLocks) else locks
    entry = turns._locks.get(key)
    return 0 if entry is None else int(entry[1])


def original_reads(monkeypatch: pytest.MonkeyPatch, lib: Library, key: str) -> list[str]:
    """Every read of `key`'s bytes from the store from now on (a download or a range)."""
    store = storage_of(lib)
    backend = type(getattr(store, "active", store))  # behind a router or not
    reads: list[str] = []
    for name in ("download_to", "open_range"):
        real = getattr(backend, name)

        def counted(self: Any, asked: str, *a: Any, _real: Any = real, **k: Any) -> Any:
            if asked == key:
                reads.append(asked)
            return _real(self, asked, *a, **k)

        monkeypatch.setattr(backend, name, counted)
    return reads


def edit_locks_of(library: Library) -> KeyedLocks:
    """The per-file locks under which this process edits, trashes, restores or deletes a file."""
    return library._edit_locks
