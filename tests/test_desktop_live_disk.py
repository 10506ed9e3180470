"""The status bar's live state while the disk holding the library is gone.

A pulled USB disk whose pages the system still has cached answers reads, so the change feed's
polling went on and the bar said "● Live" while every action failed with the disk out of
reach. An action that meets it now shows it there, and the bar comes back by itself once the
disk takes writes again (the maintenance lease's write, or a probe without a leader).

The fault is SQLite's own exception (SQLITE_IOERR_WRITE) on writes only, raised by the real
engine's DBAPI execute, as tests/test_catalog_disk_gone.py does for every statement."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.db.engine import Database
from core.library import Library
from tests.conftest import make_settings
from tests.internals import db_of
from tests.qt_helpers import shown_window, wait_for
from tests.test_catalog_disk_gone import english  # noqa: F401  (a fixture)

pytestmark = pytest.mark.timeout(120)


class CachedDiskGone:
    """While `gone`, every write fails as on a disk that went; reads are served (cached)."""

    def __init__(self, db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
        self.gone = False
        dialect = db.engine.dialect
        for name in ("do_execute", "do_execute_no_params", "do_executemany"):
            monkeypatch.setattr(dialect, name, self._failing(getattr(dialect, name)))

    def _failing(self, real: Any) -> Any:
        def run(cursor: Any, statement: str, *args: Any, **kwargs: Any) -> Any:
            words = statement.lstrip().upper()
            reads = words.startswith(("SELECT", "PRAGMA", "WITH")) or words == "BEGIN"
            if self.gone and not reads:
                exc = sqlite3.OperationalError("disk I/O error")
                exc.sqlite_errorcode = sqlite3.SQLITE_IOERR_WRITE  # type: ignore[attr-defined]
                raise exc
            return real(cursor, statement, *args, **kwargs)

        return run


def test_the_live_state_shows_a_gone_disk_and_comes_back_by_itself(
    qtbot: Any,
    data_dir: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    english: None,  # noqa: F811
) -> None:
    library = Library.open(make_settings(data_dir, maintenance_interval=4))
    try:
        path = tmp_path / "a.jpg"
        Image.new("RGB", (64, 48), (10, 90, 160)).save(path)
        record = library.uploads.ingest(path, "image")
        disk = CachedDiskGone(db_of(library), monkeypatch)
        with shown_window(qtbot, library) as window:
            monkeypatch.setattr(window, "show_error", lambda message: None)  # no modal box
            feed = window.status.feed
            wait_for(qtbot, lambda: feed.text() == "● Live")
            disk.gone = True
            window.controller.trash([record.id])
            wait_for(qtbot, lambda: feed.text() != "● Live", timeout=5000)
            assert feed.text() == "○ Live: library disk out of reach"
            assert "Connect it again" in feed.toolTip()
            qtbot.wait(3000)  # the feed's reads go on, the state stays
            assert feed.text() == "○ Live: library disk out of reach"
            assert library.feed.connected  # what the bar said before: reads are served
            disk.gone = False
            wait_for(qtbot, lambda: feed.text() == "● Live", timeout=15000)
            assert not library.get_file(record.id).is_trashed  # nothing was retried unasked
    finally:
        library.close()
