"""PRAGMAs every SQLite connection of the real engine gets (core/db/engine.py)."""

from __future__ import annotations

from sqlalchemy import text

from core.library import Library
from tests.internals import db_of

MEMORY = 2  # PRAGMA temp_store: 0 default (a file here), 1 file, 2 memory


def test_temporary_data_stays_in_memory_on_every_connection(library: Library) -> None:
    """Statement journals, sorts and temporary b-trees go to memory, not to files under
    /var/tmp (each a slow write on a NAS or a USB stick): on reading and writing sessions, and
    on connections opened while others are held."""
    db = db_of(library)
    with db.read() as first, db.read() as second, db.write() as writing:
        for session in (first, second, writing):
            assert session.execute(text("PRAGMA temp_store")).scalar() == MEMORY
