"""The key that signs stream/watch links (file grants): one per catalog, shared by its processes.

A link a player follows (`/watch/{id}?exp=…&sig=…`, `/stream/{id}/…`) may reach any server of a
team behind one address, so every process sharing a PostgreSQL catalog must check it with the
same key. The key lives in the catalog (`url_signing_keys`, migration 0009) and is created once:
the first process that needs it offers its data folder's key file (so the links it issued
before keep working), `INSERT … ON CONFLICT DO NOTHING` lets exactly one offer win, and every
process then reads the winner.

A SQLite catalog is a file on one machine whose processes share the data folder: there the key
stays in the folder's 0600 key file rather than in a database file other local users may read.
The key is never logged.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.dialects import postgresql

from core.db.engine import Database
from core.db.models import UrlSigningKey, utcnow
from core.storage.signing import SECRET_BYTES, load_or_create_secret

FILE_GRANTS = "file-grants"  # the row's name: the key of stream/watch links


def file_grant_key(db: Database, key_file: Path) -> bytes:
    """The catalog's link-signing key (PostgreSQL), else the data folder's key file (SQLite)."""
    if db.is_sqlite:
        return load_or_create_secret(key_file)
    found = _read(db)
    if found is None:
        offer = load_or_create_secret(key_file)
        with db.write() as s:
            s.execute(
                postgresql.insert(UrlSigningKey)
                .values(name=FILE_GRANTS, secret=offer, created_at=utcnow())
                .on_conflict_do_nothing(index_elements=["name"])
            )
        found = _read(db)
    if found is None or len(found) < SECRET_BYTES:
        raise RuntimeError("The catalog holds no usable URL-signing key")
    return found


def _read(db: Database) -> bytes | None:
    with db.read() as s:
        value = s.scalar(select(UrlSigningKey.secret).where(UrlSigningKey.name == FILE_GRANTS))
    return bytes(value) if value is not None else None
