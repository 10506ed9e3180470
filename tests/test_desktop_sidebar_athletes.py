"""The sidebar while athletes are added or renamed, here or by another client of the catalog.

- An athlete added or renamed anywhere (another desktop, the HTTP API, this window's F2) keeps
  the athlete being viewed selected: the view did not jump to "All files", and unsaved edits in
  the details panel did not bring up "Save the changes to …?" by themselves.
- Type-ahead in the sidebar ignores accents and case as search does: "oscar" finds
  "Óscar de la Fuente", "alv" "Álvaro …".
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from core.library import Library
from core.records import FileRecord
from desktop_app.models.sidebar_model import SidebarFilter, SidebarModel
from desktop_app.views.main_window import MainWindow
from tests.qt_helpers import shown_window, wait_for

pytestmark = pytest.mark.timeout(120)


class ModalWatch:
    """Every modal question that opens, its words noted and cancelled at once (the window must
    ask nothing while another client changes athletes)."""

    def __init__(self) -> None:
        self.seen: list[str] = []
        self._timer = QTimer()
        self._timer.setInterval(20)
        self._timer.timeout.connect(self._check)
        self._timer.start()

    def _check(self) -> None:
        modal = QApplication.activeModalWidget()
        if isinstance(modal, QMessageBox):
            self.seen.append(modal.text())
            modal.reject()

    def stop(self) -> None:
        self._timer.stop()


@pytest.fixture
def modals(qtbot: Any) -> Iterator[ModalWatch]:
    watch = ModalWatch()
    yield watch
    watch.stop()


def _photo(library: Library, folder: Path, name: str, athlete_id: int) -> FileRecord:
    path = folder / name
    Image.new("RGB", (64, 48), (200, 90, 40)).save(path)
    return library.uploads.ingest(path, "image", athlete_id=athlete_id)


def _view_athlete(qtbot: Any, window: MainWindow, athlete_id: int) -> None:
    key = SidebarFilter("athlete", athlete_id).key
    wait_for(qtbot, lambda: window.controller.sidebar.index_of(key).isValid())
    window.sidebar.setCurrentIndex(window.controller.sidebar.index_of(key))
    wait_for(qtbot, lambda: window.controller.filter == SidebarFilter("athlete", athlete_id))


def _selected_key(window: MainWindow) -> str:
    rows = window.sidebar.selectionModel().selectedRows(0)
    return str(rows[0].data(SidebarModel.KeyRole)) if len(rows) == 1 else repr(rows)


def _names(window: MainWindow) -> list[str]:
    return [a.name for a in window.controller.sidebar.athletes()]


def _settle(qtbot: Any, window: MainWindow, names: list[str]) -> None:
    wait_for(qtbot, lambda: _names(window) == names)
    qtbot.wait(300)  # a jump or a question would come with the next turns of the event loop


def test_athletes_added_and_renamed_elsewhere_keep_the_athlete_viewed(
    qtbot: Any, library: Library, settings: Any, tmp_path: Path, modals: ModalWatch
) -> None:
    ana = library.create_athlete("Ana García")
    bea = library.create_athlete("Beatriz Soto")
    record = _photo(library, tmp_path, "x0.jpg", ana.id)
    other = Library.open(settings)  # another client of the same catalog
    try:
        with shown_window(qtbot, library) as window:
            _view_athlete(qtbot, window, ana.id)
            grid = window.controller.grid
            wait_for(qtbot, lambda: grid.row_of(record.id) >= 0)
            window.browser.select_row(grid.row_of(record.id))
            wait_for(qtbot, lambda: window.details.record is not None)
            window.details.description.setPlainText("Podium, unsaved")
            assert window.details.dirty
            viewed = SidebarFilter("athlete", ana.id)

            # (a, b) a new athlete sorting after the one viewed, with unsaved edits
            other.create_athlete("Zulema Nueva")
            _settle(qtbot, window, ["Ana García", "Beatriz Soto", "Zulema Nueva"])
            assert window.controller.filter == viewed
            assert _selected_key(window) == viewed.key
            assert modals.seen == []

            # one sorting before it: its row moves down, still selected
            other.create_athlete("Aaron Primero")
            _settle(qtbot, window, ["Aaron Primero", "Ana García", "Beatriz Soto", "Zulema Nueva"])
            assert window.controller.filter == viewed
            assert _selected_key(window) == viewed.key
            assert modals.seen == []

            # (c) the athlete viewed renamed elsewhere to a name sorting last
            other.rename_athlete(ana.id, "Zoe García")
            _settle(qtbot, window, ["Aaron Primero", "Beatriz Soto", "Zoe García", "Zulema Nueva"])
            assert window.controller.filter == viewed
            assert _selected_key(window) == viewed.key
            assert window.windowTitle().startswith("Zoe García")  # the new name, at once
            assert modals.seen == []
            assert window.details.dirty  # the typed text is still there, unsaved
            assert window.details.description.toPlainText() == "Podium, unsaved"

            # another athlete renamed past it, with this window's own F2 rename of the viewed one
            other.rename_athlete(bea.id, "Zz Beatriz")
            _settle(qtbot, window, ["Aaron Primero", "Zoe García", "Zulema Nueva", "Zz Beatriz"])
            window.controller.rename_athlete(ana.id, "Ana G.")
            _settle(qtbot, window, ["Aaron Primero", "Ana G.", "Zulema Nueva", "Zz Beatriz"])
            assert window.controller.filter == viewed
            assert _selected_key(window) == viewed.key
            assert window.sidebar.currentIndex().data(SidebarModel.KeyRole) == viewed.key
            assert modals.seen == []
    finally:
        other.close()


def test_the_athlete_viewed_gone_from_the_list_shows_all_files(
    qtbot: Any, library: Library, modals: ModalWatch
) -> None:
    """The one change that does take the view away: its athlete is no longer listed (a catalog
    restored from a backup made before it was added)."""
    ana = library.create_athlete("Ana García")
    bea = library.create_athlete("Beatriz Soto")
    with shown_window(qtbot, library) as window:
        _view_athlete(qtbot, window, ana.id)
        window.controller.sidebar.set_athletes([bea])
        wait_for(qtbot, lambda: window.controller.filter == SidebarFilter())
        assert _selected_key(window) == "all"
        assert modals.seen == []


def test_type_ahead_ignores_accents(qtbot: Any, library: Library) -> None:
    for name in ("Ana García", "Álvaro Ruiz", "Óscar de la Fuente", "oscar Bajo"):
        library.create_athlete(name)
    with shown_window(qtbot, library) as window:
        sidebar = window.sidebar
        wait_for(qtbot, lambda: len(_names(window)) == 4)
        sidebar.setFocus()
        current = sidebar.currentIndex

        assert _names(window) == ["Álvaro Ruiz", "Ana García", "oscar Bajo", "Óscar de la Fuente"]
        qtbot.keyClicks(sidebar, "oscar d")
        assert current().data() == "Óscar de la Fuente"
        qtbot.wait(QApplication.keyboardInputInterval() + 100)  # a new search
        qtbot.keyClicks(sidebar, "alv")
        assert current().data() == "Álvaro Ruiz"
        qtbot.wait(QApplication.keyboardInputInterval() + 100)
        qtbot.keyClicks(sidebar, "ÓSCAR B")
        assert current().data() == "oscar Bajo"
        qtbot.wait(QApplication.keyboardInputInterval() + 100)
        # the same letter again steps through the names that start with it, as Qt's does
        qtbot.keyClicks(sidebar, "o")
        assert current().data() == "Óscar de la Fuente"
        qtbot.keyClicks(sidebar, "o")
        assert current().data() == "oscar Bajo"  # round again past the end
        qtbot.wait(QApplication.keyboardInputInterval() + 100)
        qtbot.keyClicks(sidebar, "xyz")  # nothing matches: nothing moves
        assert current().data() == "oscar Bajo"
        assert window.controller.filter.section == "athlete"
