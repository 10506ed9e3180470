"""A SQLite catalog backed up and restored as README's *Backups and restoring* says: the backup
and restore tests' shared pieces."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from core.settings import Settings


def backup_catalog(settings: Settings, to: Path) -> None:
    """The catalog copied as README says for a running library (sqlite3's .backup)."""
    source = sqlite3.connect(settings.paths.database_file)
    target = sqlite3.connect(to)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()


def restore_catalog(settings: Settings, backup: Path) -> None:
    """The backup put back in place of the (stopped) library's catalog, as README says: the old
    -wal and -shm beside it removed."""
    catalog = settings.paths.database_file
    for leftover in (Path(f"{catalog}-wal"), Path(f"{catalog}-shm")):
        leftover.unlink(missing_ok=True)
    catalog.write_bytes(backup.read_bytes())
