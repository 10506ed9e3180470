"""A `Library.open` that fails after the catalog was opened closes what it opened: pooled
connections, the presence lock (PostgreSQL: its own connection and thread). Each failed
attempt kept them, so a process opening again after a refusal leaked one set per attempt."""

from __future__ import annotations

import os
import time
from pathlib import Path

import psycopg
import pytest

from core.library import Library
from core.storage.factory import SIGNING_KEY_FILE
from tests.conftest import make_settings
from tests.faults import immutable
from tests.pg_server import fresh_database, postgres_url  # noqa: F401

ATTEMPTS = 4


def _open_to(prefix: Path) -> list[str]:
    """What this process's file descriptors name under `prefix` (the catalog and its files)."""
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue  # the listing's own descriptor, closed meanwhile
        if target.startswith(str(prefix)):
            found.append(target)
    return sorted(found)


def test_a_read_only_sqlite_catalog_refused_again_and_again_leaves_no_descriptor(
    tmp_path: Path,
) -> None:
    """The refusal comes after the upgrade and the presence lock (backends.attach): each of
    the attempts kept the catalog, its -wal and -shm open, the first one the lock file too."""
    settings = make_settings(tmp_path)
    library = Library.open(settings)
    catalog = settings.paths.database_file
    library.close()
    assert _open_to(catalog) == []
    with immutable(catalog):
        for _ in range(ATTEMPTS):
            with pytest.raises(Exception, match="cannot be written"):
                Library.open(settings)
    assert _open_to(catalog) == []
    Library.open(settings).close()  # writable again: opens, nothing held against it


def _connections(admin: str, database: str) -> int:
    """The connections to `database` once the closed ones are gone: a backend leaves
    pg_stat_activity a moment after its client hung up, so a count is asked until it is 0
    (or for 10 s: a connection kept open never leaves)."""
    deadline = time.monotonic() + 10
    with psycopg.connect(admin, autocommit=True) as conn:
        while True:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s", (database,)
            ).fetchone()
            assert row is not None
            if row[0] == 0 or time.monotonic() > deadline:
                return int(row[0])
            time.sleep(0.05)


def test_a_failing_open_on_postgresql_leaves_no_connection(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    """The signing key's place taken by a folder: build_storage fails after the presence's
    connection was made, and every attempt kept it and the pool's."""
    url = fresh_database(postgres_url, "open_fails")
    name = url.rsplit("/", 1)[1]
    admin = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    settings = make_settings(tmp_path, database_url=url)
    Library.open(settings).close()
    assert _connections(admin, name) == 0
    key = settings.paths.secrets_dir / SIGNING_KEY_FILE
    key.unlink()
    key.mkdir(mode=0o700)
    for _ in range(ATTEMPTS):
        with pytest.raises(IsADirectoryError):
            Library.open(settings)
    assert _connections(admin, name) == 0
