"""core/url_keys.py on real catalogs: one link-signing key per PostgreSQL catalog, created once.

Processes racing at start-up (threads with their own data folders' key files here) all end up
with the same key, taken from one of the files; a SQLite catalog keeps using the 0600 file.
"""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import func, select

from core.db.engine import Database
from core.db.migrate import upgrade
from core.db.models import UrlSigningKey
from core.url_keys import file_grant_key
from tests.pg_server import postgres_url  # noqa: F401
from tests.test_jobs import fresh_postgres


def _rows(db: Database) -> int:
    with db.read() as s:
        return int(s.scalar(select(func.count()).select_from(UrlSigningKey)) or 0)


def test_racing_processes_share_one_key_from_a_key_file(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    db = Database(fresh_postgres(postgres_url))
    try:
        upgrade(db.engine)
        files = [tmp_path / f"folder{i}" / "secrets" / "url-signing.key" for i in range(6)]
        with ThreadPoolExecutor(6) as pool:
            keys = list(pool.map(lambda f: file_grant_key(db, f), files))
        assert len(set(keys)) == 1 and len(keys[0]) >= 32
        assert _rows(db) == 1
        winners = [f for f in files if f.exists() and f.read_bytes() == keys[0]]
        assert len(winners) == 1  # the offer that won; the others' files differ
        assert stat.S_IMODE(winners[0].stat().st_mode) == 0o600
        # a process started later, with a new data folder, gets the same key
        assert file_grant_key(db, tmp_path / "late" / "url-signing.key") == keys[0]
        assert not (tmp_path / "late" / "url-signing.key").exists()  # nothing to offer
    finally:
        db.dispose()


def test_sqlite_keeps_the_data_folders_key_file(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'catalog.sqlite3'}")
    try:
        upgrade(db.engine)
        key_file = tmp_path / "secrets" / "url-signing.key"
        key = file_grant_key(db, key_file)
        assert key == key_file.read_bytes() and stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert _rows(db) == 0  # not copied into a database file
    finally:
        db.dispose()
