"""Test-only access to a Library's private parts, for setup and checks no façade method offers
(raw rows, objects in the store, instrumenting the parts).

Production code never reaches these: server/ and desktop_app/ use the façade's methods
(tests/test_layering.py), core collaborators get their parts at construction.
"""

from __future__ import annotations

from core.catalog import Catalog
from core.db.engine import Database
from core.library import Library
from core.storage.base import Presigner, Storage


def db_of(library: Library) -> Database:
    return library._db


def storage_of(library: Library) -> Storage:
    return library._storage


def catalog_of(library: Library) -> Catalog:
    return library._catalog


def presigner_of(library: Library) -> Presigner:
    return library._presigner
