"""Tab stops that showed nothing when Tab reached them (an outside tester on the keyboard
alone): the sidebar (its selected row looks the same focused or not), the Description box, the
empty upload queue. Each is framed in the highlight colour while it has the focus, as a focused
line edit is. The Server panel's read-only Examples, which Copy commands copies, is no Tab stop
any more; the mouse still selects in it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QPoint, Qt  # noqa: E402
from PySide6.QtGui import QColor, QPalette, QTextCursor  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QWidget  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.views.conflict_dialog import ConflictDialog  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402
from tests.test_desktop_models import add_rows  # noqa: E402
from tests.test_desktop_server_panel_keys import _start, _window  # noqa: E402

TAB = Qt.FocusReason.TabFocusReason


@pytest.fixture
def window(qtbot: Any, library: Library) -> Iterator[MainWindow]:
    add_rows(library, 3)
    win = _window(qtbot, library)  # the Server panel raised, the window active
    win.upload_dock.show()
    yield win
    win.shutdown()


def _edges(area: QAbstractScrollArea) -> set[str]:
    """The colours of the area's outer pixels at the middle of each side, as drawn."""
    image = area.grab().toImage()
    w, h = image.width(), image.height()
    points = [(0, h // 2), (w - 1, h // 2), (w // 2, 0), (w // 2, h - 1)]
    return {image.pixelColor(x, y).name() for x, y in points}


def _highlight(area: QAbstractScrollArea) -> str:
    return area.palette().color(QPalette.ColorRole.Highlight).name()


AREAS: dict[str, Callable[[MainWindow], QAbstractScrollArea]] = {
    "sidebar": lambda win: win.sidebar,
    "description": lambda win: win.details.description,
    "empty upload queue": lambda win: win.upload_dock.table,
}


@pytest.mark.parametrize("name", list(AREAS))
def test_a_tab_stop_is_framed_while_it_has_the_focus(
    qtbot: Any, window: MainWindow, name: str
) -> None:
    area = AREAS[name](window)
    if name == "description":  # shown for a file
        window.browser.select_row(0)
        wait_for(qtbot, lambda: window.details.description.isVisible())
    if name == "empty upload queue":
        assert area.model().rowCount() == 0
    window.browser.search.setFocus(TAB)
    wait_for(qtbot, lambda: window.browser.search.hasFocus())
    unfocused = _edges(area)
    assert _highlight(area) not in unfocused
    area.setFocus(TAB)
    wait_for(qtbot, area.hasFocus)
    assert _edges(area) == {_highlight(area)}
    window.browser.search.setFocus(TAB)  # and off again when the focus leaves
    wait_for(qtbot, lambda: window.browser.search.hasFocus())
    assert _edges(area) == unfocused


# The read-only tables (desktop_app.views.tables.read_only_table), each in its dock: Fusion
# drew them alike focused or not, so Tab reached the Server panel's tokens with nothing shown
TABLES: dict[str, tuple[Callable[[MainWindow], QWidget], Callable[[MainWindow], Any]]] = {
    "server tokens": (lambda win: win.server_dock, lambda win: win.server_panel.table),
    "jobs": (lambda win: win.jobs_dock, lambda win: win.jobs_dock.table),
    "storage by type": (lambda win: win.storage_view, lambda win: win.storage_view.by_type),
    "storage by athlete": (lambda win: win.storage_view, lambda win: win.storage_view.by_athlete),
    "storage by day": (lambda win: win.storage_view, lambda win: win.storage_view.history),
}


@pytest.mark.parametrize("name", list(TABLES))
def test_a_table_is_framed_while_it_has_the_focus(
    qtbot: Any, window: MainWindow, name: str
) -> None:
    dock, table = (get(window) for get in TABLES[name])
    dock.raise_()
    wait_for(qtbot, table.isVisible)
    window.browser.search.setFocus(TAB)
    wait_for(qtbot, lambda: window.browser.search.hasFocus())
    unfocused = _edges(table)
    assert _highlight(table) not in unfocused
    table.setFocus(TAB)
    wait_for(qtbot, table.hasFocus)
    assert _edges(table) == {_highlight(table)}
    window.browser.search.setFocus(TAB)
    wait_for(qtbot, lambda: window.browser.search.hasFocus())
    assert _edges(table) == unfocused


def test_the_conflict_dialogs_table_is_framed_while_it_has_the_focus(
    qtbot: Any, window: MainWindow, library: Library
) -> None:
    record = library.list_files().items[0]
    dialog = ConflictDialog(record, {"original_filename": "x.jpg"}, lambda _id: "", parent=window)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is dialog)
    table = dialog.table
    dialog.reload_button.setFocus(TAB)
    wait_for(qtbot, dialog.reload_button.hasFocus)
    unfocused = _edges(table)
    assert _highlight(table) not in unfocused
    table.setFocus(TAB)
    wait_for(qtbot, table.hasFocus)
    assert _edges(table) == {_highlight(table)}
    dialog.reject()


def test_the_frame_follows_a_theme_switch(qtbot: Any, window: MainWindow) -> None:
    area = window.sidebar
    area.setFocus(TAB)
    wait_for(qtbot, area.hasFocus)
    palette = QPalette(QApplication.palette())
    palette.setColor(QPalette.ColorRole.Highlight, QColor("#aa3300"))
    QApplication.setPalette(palette)
    try:
        wait_for(qtbot, lambda: _edges(area) == {"#aa3300"})
    finally:
        QApplication.setPalette(QApplication.style().standardPalette())


def test_the_examples_are_no_tab_stop_and_the_mouse_selects_in_them(
    qtbot: Any, window: MainWindow
) -> None:
    panel = window.server_panel
    _start(qtbot, window)  # (Copy commands is on once there is a server to copy them for)
    assert not panel.revoke_button.isEnabled()  # no token: Tab goes from Create to Copy
    panel.create_button.setFocus(TAB)
    wait_for(qtbot, panel.create_button.hasFocus)
    QTest.keyClick(panel.create_button, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is panel.copy_button
    QTest.keyClick(panel.copy_button, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert QApplication.focusWidget() is panel.create_button
    # a drag across the first line selects it; the click gives the box the focus (Ctrl+C)
    examples = panel.examples
    y = examples.cursorRect(QTextCursor(examples.document())).center().y()  # the first line
    start, end = QPoint(2, y), QPoint(examples.viewport().width() // 2, y)
    QTest.mousePress(examples.viewport(), Qt.MouseButton.LeftButton, pos=start)
    QTest.mouseMove(examples.viewport(), end)
    QTest.mouseRelease(examples.viewport(), Qt.MouseButton.LeftButton, pos=end)
    assert examples.textCursor().selectedText().startswith("curl")
    assert examples.hasFocus()
    assert _edges(examples) == {_highlight(examples)}
