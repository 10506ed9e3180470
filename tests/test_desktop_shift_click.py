"""Shift+click in the grid: the details panel describes the file just clicked (the one with the
focus frame), as digiKam and Finder do, and the selection note names that same file."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402
from tests.test_desktop_models import add_rows  # noqa: E402

LEFT = Qt.MouseButton.LeftButton
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL = Qt.KeyboardModifier.ControlModifier


@pytest.fixture
def window(qtbot, library: Library) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    install_translations("en")
    win = MainWindow(library, page_size=50)
    qtbot.addWidget(win)
    win.show()
    add_rows(library, 8)  # newest first: file-00007 … file-00000
    win.controller.refresh()
    grid = win.controller.grid
    wait_for(qtbot, lambda: grid.rowCount() == 8 and not grid.loading)
    yield win
    win.shutdown()


def _click(qtbot, window: MainWindow, row: int, modifier=Qt.KeyboardModifier.NoModifier) -> None:  # type: ignore[no-untyped-def]
    view = window.browser.grid
    rect = view.visualRect(window.controller.grid.index(row))
    assert rect.isValid() and view.viewport().rect().contains(rect.center())
    qtbot.mouseClick(view.viewport(), LEFT, modifier, rect.center())


def _shown(window: MainWindow) -> str | None:
    record = window.details.record
    return record.original_filename if record is not None else None


def _current(window: MainWindow) -> str:
    record = window.controller.grid.record_at(window.browser.grid.currentIndex().row())
    assert record is not None
    return record.original_filename


def test_shift_click_shows_the_clicked_file_and_the_note_names_it(
    qtbot, window: MainWindow
) -> None:  # type: ignore[no-untyped-def]
    _click(qtbot, window, 1)
    wait_for(qtbot, lambda: _shown(window) == "file-00006.jpg")
    _click(qtbot, window, 4, SHIFT)  # the anchor stays on row 1, the focus frame moves to 4
    wait_for(qtbot, lambda: len(window.browser.selected_ids()) == 4)
    assert _current(window) == "file-00003.jpg"
    wait_for(qtbot, lambda: _shown(window) == "file-00003.jpg")
    note = window.details.selection_note
    wait_for(qtbot, note.isVisible)
    assert "4 files selected" in note.text() and "file-00003.jpg" in note.text()
    assert "file-00006.jpg" not in note.text()
    # back towards the anchor: the range shrinks, the details follow the click again
    _click(qtbot, window, 2, SHIFT)
    wait_for(qtbot, lambda: len(window.browser.selected_ids()) == 2)
    wait_for(qtbot, lambda: _shown(window) == "file-00005.jpg")
    assert "file-00005.jpg" in note.text()
    # Ctrl+click adds a file: the details show it, as the focus frame does
    _click(qtbot, window, 6, CTRL)
    wait_for(qtbot, lambda: len(window.browser.selected_ids()) == 3)
    wait_for(qtbot, lambda: _shown(window) == "file-00001.jpg")
    # Ctrl+click takes it out again: the focus frame is on a file no longer selected, and the
    # details go back to a selected one (never one that is not selected)
    _click(qtbot, window, 6, CTRL)
    wait_for(qtbot, lambda: len(window.browser.selected_ids()) == 2)
    wait_for(qtbot, lambda: _shown(window) in ("file-00006.jpg", "file-00005.jpg"))


def test_shift_arrows_show_the_file_the_focus_moved_to(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    _click(qtbot, window, 0)
    wait_for(qtbot, lambda: _shown(window) == "file-00007.jpg")
    view = window.browser.grid
    view.setFocus()
    wait_for(qtbot, view.hasFocus)
    qtbot.keyClick(view, Qt.Key.Key_Right, SHIFT)
    wait_for(qtbot, lambda: len(window.browser.selected_ids()) == 2)
    wait_for(qtbot, lambda: _shown(window) == _current(window) == "file-00006.jpg")
