"""Shift+F10 opens the menu of the upload queue's current row, and the grid's, as the Menu key does
(README, The desktop app). Qt makes Shift+F10 a context-menu event only on Windows: under X11 an
outside tester pressed it on the queue's current row and nothing opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QApplication,
    QDialog,
    QMenu,
    QVBoxLayout,
    QWidget,
)

from core.library import Library  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402


def menu_on_shift_f10(
    qtbot: Any,
    widget: QWidget,
    key: Qt.Key = Qt.Key.Key_F10,
    rows_seen: list[int] | None = None,
) -> list[str]:
    """Presses Shift+`key` in `widget`: the texts of the menu that opened (closed again at
    once), empty when none did; `rows_seen` gets the rows selected while it was open."""
    seen: list[list[str]] = []

    def look() -> None:
        popup = QApplication.activePopupWidget()
        if isinstance(popup, QMenu) and popup.isVisible():
            seen.append([action.text() for action in popup.actions() if action.text()])
            selection = getattr(widget, "selectionModel", lambda: None)()
            if rows_seen is not None and selection is not None:
                rows_seen.extend(i.row() for i in selection.selectedRows())
            popup.close()

    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(look)
    timer.start(0)  # runs inside the menu's own event loop, if one opened
    qtbot.keyClick(widget, key, Qt.KeyboardModifier.ShiftModifier)
    # QTest's click around the menu's own event loop left Qt's modifiers at Shift: the
    # next test's selectRow() then extended nothing instead of selecting the row
    qtbot.keyRelease(widget, Qt.Key.Key_Shift)
    # no menu: the look still due must not run later, in the next press's menu (a wait(0)
    # did not always run it first, and it closed that menu and kept its texts)
    timer.stop()
    assert QApplication.activePopupWidget() is None
    assert QGuiApplication.keyboardModifiers() == Qt.KeyboardModifier.NoModifier
    assert len(seen) <= 1
    return seen[0] if seen else []


def test_shift_f10_opens_the_queues_row_menu_and_the_grids(
    qtbot: Any, library: Library, media_dir: MediaSet
) -> None:
    photo = library.uploads.ingest(media_dir.jpeg, "image")
    with shown_window(qtbot, library) as window:
        window.activateWindow()
        wait_for(qtbot, lambda: QApplication.activeWindow() is window)
        dock = window.upload_dock
        dock.show()
        dock.raise_()
        for n in range(2):
            dock.model.add(Path(f"/nowhere/row_{n}.jpg"), 1000)
        table = dock.table
        table.setFocus()
        wait_for(qtbot, table.hasFocus)
        table.setCurrentIndex(table.model().index(1, 0))
        table.clearSelection()  # the menu selects the row it is for
        # laid out (a view lays out new rows later, on a timer): the menu opens at the current
        # row's place; before it the row had no place, and the menu was for no row (under load)
        wait_for(
            qtbot,
            lambda: table.viewport().rect().contains(table.visualRect(table.currentIndex())),
        )
        selected: list[int] = []
        try:
            # read while the menu shows: the rows (no such files) fail and change meanwhile,
            # and the cancel below takes them out of the queue (both at once under load)
            texts = menu_on_shift_f10(qtbot, table, rows_seen=selected)
        finally:
            window.uploads.cancel_all()  # no question about uploads at the close
        assert "Re&move from the queue" in texts, texts
        assert selected == [1]  # its row's menu

        grid = _grids_menu_opens(qtbot, window, photo.id)
        # other keys with Shift open nothing
        assert menu_on_shift_f10(qtbot, grid, Qt.Key.Key_F9) == []


def test_the_queues_menu_selects_its_row_alone_while_shift_is_held(
    qtbot: Any, library: Library
) -> None:
    """Shift+F10's Shift is still down when the menu selects its row: that selection was a
    range from the view's last anchor (row 0 to the menu's row), not the menu's row."""
    with shown_window(qtbot, library) as window:
        dock = window.upload_dock
        dock.show()
        dock.raise_()
        for n in range(3):
            dock.model.add(Path(f"/nowhere/row_{n}.jpg"), 1000)
        table = dock.table
        try:
            wait_for(qtbot, lambda: table.visualRect(table.model().index(2, 0)).isValid())
            table.selectRow(0)  # the anchor
            table.clearSelection()
            qtbot.keyPress(table, Qt.Key.Key_Shift, Qt.KeyboardModifier.ShiftModifier)
            try:
                assert QGuiApplication.keyboardModifiers() == Qt.KeyboardModifier.ShiftModifier
                menu = dock.build_context_menu(table.model().index(2, 0))
                assert menu is not None
                rows = sorted(i.row() for i in table.selectionModel().selectedRows())
            finally:
                qtbot.keyRelease(table, Qt.Key.Key_Shift)
            assert rows == [2]
            assert table.currentIndex().row() == 2
        finally:
            window.uploads.cancel_all()


def _grids_menu_opens(qtbot: Any, window: Any, file_id: int) -> QWidget:
    """Shift+F10 on the grid, the file selected, opens the grid's menu; returns the grid."""
    window.activateWindow()  # a closed menu took the activation along (offscreen)
    wait_for(qtbot, lambda: QApplication.activeWindow() is window)
    grid = window.browser.grid
    window.browser.select_row(window.controller.grid.row_of(file_id))
    grid.setFocus()
    wait_for(qtbot, grid.hasFocus)
    texts = menu_on_shift_f10(qtbot, grid)
    assert window.commands.preview.text() in texts, texts
    return grid


class NoMenu(QWidget):
    """A widget without a context menu that notes the keys it is pressed."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.keys: list[tuple[Qt.Key, Qt.KeyboardModifier]] = []

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        self.keys.append((Qt.Key(event.key()), event.modifiers()))
        super().keyPressEvent(event)


def test_shift_f10_reaches_a_widget_without_menu_and_opens_a_modal_dialogs_menus(
    qtbot: Any, library: Library
) -> None:
    """The application-wide filter that made Shift+F10 a menu swallowed it in widgets without
    one; the menu must still open in a dialog that blocks the main window."""
    with shown_window(qtbot, library) as window:
        dialog = QDialog(window)
        dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
        no_menu = NoMenu(dialog)
        with_menu = QWidget(dialog)  # as the grid's menu
        with_menu.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        with_menu.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        with_menu.addAction(QAction("Dialog action", with_menu))
        layout = QVBoxLayout(dialog)
        layout.addWidget(no_menu)
        layout.addWidget(with_menu)
        try:
            dialog.show()
            dialog.activateWindow()
            # active: a shortcut that took the key would take it now
            wait_for(qtbot, lambda: QApplication.activeWindow() is dialog)
            no_menu.setFocus()
            wait_for(qtbot, no_menu.hasFocus)
            assert menu_on_shift_f10(qtbot, no_menu) == []
            assert (Qt.Key.Key_F10, Qt.KeyboardModifier.ShiftModifier) in no_menu.keys

            wait_for(qtbot, lambda: QApplication.activeWindow() is dialog)
            with_menu.setFocus()
            wait_for(qtbot, with_menu.hasFocus)
            assert menu_on_shift_f10(qtbot, with_menu) == ["Dialog action"]
        finally:
            dialog.close()


def test_shift_f10_in_a_floating_dock_and_after_it_is_docked_again(
    qtbot: Any, library: Library, media_dir: MediaSet
) -> None:
    """A floating dock got a Shift+F10 of its own beside its main window's, which Qt keeps on in
    a floating tool window: ambiguous, neither ran; docked again, the main window held both, and
    Shift+F10 opened nothing anywhere in it for the rest of the session (regression hunter)."""
    photo = library.uploads.ingest(media_dir.jpeg, "image")
    with shown_window(qtbot, library) as window:
        window.activateWindow()
        wait_for(qtbot, lambda: QApplication.activeWindow() is window)
        dock = window.upload_dock
        dock.show()
        dock.model.add(Path("/nowhere/row.jpg"), 1000)
        try:
            dock.setFloating(True)
            wait_for(qtbot, lambda: dock.isFloating() and dock.isVisible())
            dock.activateWindow()
            wait_for(qtbot, lambda: QApplication.activeWindow() is dock)
            table = dock.table
            table.setFocus()
            wait_for(qtbot, table.hasFocus)
            table.setCurrentIndex(table.model().index(0, 0))
            wait_for(
                qtbot,
                lambda: table.viewport().rect().contains(table.visualRect(table.currentIndex())),
            )
            texts = menu_on_shift_f10(qtbot, table)
            assert "Re&move from the queue" in texts, texts
        finally:
            window.uploads.cancel_all()  # no question about uploads at the close
            dock.setFloating(False)
        _grids_menu_opens(qtbot, window, photo.id)
