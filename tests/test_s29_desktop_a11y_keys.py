"""Keyboard-only use: the upload queue's row menu from the Menu key, the player's volume keys
and the names a screen reader reads for every control.

An outside keyboard-only tester found that the Menu key (Shift+F10) opened the queue's menu for
the row below the current one (Remove would have removed another file) or, with one row, no
menu at all; that the player's volume could not be changed from the keyboard; and that the
player's buttons, the search box, the sidebar, the queue, the storage and jobs tables and the
port fields had no accessible name (a screen reader said only "edit", "table", "tree").
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QModelIndex, QPoint, Qt, QTimer  # noqa: E402
from PySide6.QtGui import QAccessible, QContextMenuEvent  # noqa: E402
from PySide6.QtWidgets import QApplication, QMenu, QWidget  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers.settings_controller import SettingsController  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.preview.player_controls import PlayerControls  # noqa: E402
from desktop_app.views.settings_dialog import SettingsDialog  # noqa: E402
from desktop_app.views.upload_dock import UploadDock  # noqa: E402
from tests.qt_helpers import shown_window  # noqa: E402

Reason = QContextMenuEvent.Reason


@pytest.fixture
def dock(qtbot: Any, library: Library) -> Iterator[UploadDock]:
    controller = UploadController(library, max_parallel=1)
    widget = UploadDock(controller)
    qtbot.addWidget(widget)
    widget.resize(900, 300)
    widget.show()
    yield widget
    controller.shutdown()


def _menu_row(dock: UploadDock, event: QContextMenuEvent, target: QWidget) -> int | None:
    """The row whose menu the event opens (None: no menu); the menu is closed at once."""
    seen: dict[str, int | None] = {}
    build = dock.build_context_menu

    def spy(index: QModelIndex) -> QMenu | None:
        seen["row"] = index.row() if index.isValid() else None
        menu = build(index)
        if menu is not None:
            QTimer.singleShot(0, menu.close)
        return menu

    dock.build_context_menu = spy  # type: ignore[method-assign]
    try:
        QApplication.sendEvent(target, event)
    finally:
        del dock.build_context_menu
    return seen.get("row")


def _keyboard_menu(dock: UploadDock) -> QContextMenuEvent:
    """What Qt sends for the Menu key: to the focused table, at its cursor rectangle's centre
    in the table's own coordinates (not the viewport's)."""
    table = dock.table
    pos = table.inputMethodQuery(Qt.InputMethodQuery.ImCursorRectangle).center()
    return QContextMenuEvent(Reason.Keyboard, pos, table.mapToGlobal(pos))


@pytest.mark.parametrize("rows", [3, 1])
def test_the_menu_key_opens_the_current_rows_menu(dock: UploadDock, rows: int) -> None:
    for n in range(rows):
        dock.model.add(Path(f"/tmp/row_{n}.jpg"), 1000)
    table = dock.table
    table.setFocus()
    table.setCurrentIndex(table.model().index(0, 0))
    assert _menu_row(dock, _keyboard_menu(dock), table) == 0
    if rows > 1:
        table.setCurrentIndex(table.model().index(rows - 1, 0))
        table.selectRow(rows - 1)
        assert _menu_row(dock, _keyboard_menu(dock), table) == rows - 1
        # the mouse still opens the menu of the row under the pointer (viewport coordinates)
        at = table.visualRect(table.model().index(1, 0)).center()
        viewport = table.viewport()
        event = QContextMenuEvent(Reason.Mouse, at, viewport.mapToGlobal(at))
        assert _menu_row(dock, event, viewport) == 1
        assert table.selectionModel().isRowSelected(1, QModelIndex())


def test_the_menu_key_on_an_empty_queue_opens_nothing(dock: UploadDock) -> None:
    dock.table.setFocus()
    event = QContextMenuEvent(Reason.Keyboard, QPoint(5, 5), dock.table.mapToGlobal(QPoint(5, 5)))
    assert _menu_row(dock, event, dock.table) is None


def _name(widget: QWidget) -> str:
    iface = QAccessible.queryAccessibleInterface(widget)
    return iface.text(QAccessible.Text.Name).strip() if iface is not None else ""


def _unnamed(top: QWidget) -> list[str]:
    """Tab stops of `top` (shown or not: a tabbed dock, a page of a stack) without a name."""
    found = []
    for widget in top.findChildren(QWidget):
        if widget.window() is not top or not widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            continue  # a popup's (a combo box's list) or no Tab stop
        if not _name(widget):
            parents = []
            parent = widget.parentWidget()
            while parent is not None and parent is not top:
                parents.append(parent.objectName() or type(parent).__name__)
                parent = parent.parentWidget()
            found.append(f"{type(widget).__name__} in {'/'.join(parents)}")
    return found


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


def test_every_tab_stop_has_a_name(qtbot: Any, library: Library, language: str) -> None:
    with shown_window(qtbot, library) as window:
        assert _unnamed(window) == []
        if language == "es":
            assert _name(window.browser.search) == "Buscar"
            assert _name(window.upload_dock.table) == "Cola de subidas"
    dialog = SettingsDialog(SettingsController(library.settings))
    qtbot.addWidget(dialog)
    assert _unnamed(dialog) == []
    if language == "es":
        assert _name(dialog.port.findChild(QWidget, "qt_spinbox_lineedit")) == "Puerto"


def test_the_players_controls_are_named_and_the_volume_has_keys(qtbot: Any) -> None:
    controls = PlayerControls()
    qtbot.addWidget(controls)
    assert _unnamed(controls) == []
    for widget in (
        controls.play_button,
        controls.back_button,
        controls.forward_button,
        controls.mute_button,
        controls.fullscreen_button,
        controls.seek_slider,
        controls.volume_slider,
    ):
        assert _name(widget), widget
    assert _name(controls.volume_slider) == "Volume"
    assert "↑" in controls.volume_slider.toolTip() and "↓" in controls.volume_slider.toolTip()
    controls.set_playing(True)
    assert _name(controls.play_button) == "Pause"
    controls.set_muted(True)
    assert _name(controls.mute_button) == "Unmute"


def test_up_and_down_change_the_volume(qtbot: Any) -> None:
    from desktop_app.preview.video_player import VOLUME_STEP, VideoPlayer
    from tests.qt_helpers import wait_for

    player = VideoPlayer(audio=False)
    qtbot.addWidget(player)
    player.show()
    player.activateWindow()
    player.setFocus()
    wait_for(qtbot, player.isActiveWindow)
    player.set_volume(50)
    player.set_muted(True)
    qtbot.keyClick(player, Qt.Key.Key_Up)
    assert player.volume() == 50 + VOLUME_STEP and not player.is_muted()  # heard again
    assert player.controls.volume_slider.value() == player.volume()
    qtbot.keyClick(player, Qt.Key.Key_Down)
    qtbot.keyClick(player, Qt.Key.Key_Down)
    assert player.volume() == 50 - VOLUME_STEP
    player.set_volume(100)
    qtbot.keyClick(player, Qt.Key.Key_Up)
    assert player.volume() == 100
    player.release()


def test_deleting_the_trashs_last_file_leaves_the_focus_in_sight(
    qtbot: Any, library: Library, tmp_path: Path
) -> None:
    from PIL import Image

    from tests.qt_helpers import wait_for

    path = tmp_path / "last.jpg"
    Image.new("RGB", (32, 24), (10, 90, 200)).save(path, "JPEG")
    record = library.uploads.ingest(path, "image")
    library.trash(record.id)
    with shown_window(qtbot, library) as window:
        c, browser = window.controller, window.browser
        window.activateWindow()
        wait_for(qtbot, window.isActiveWindow)
        window.sidebar.setCurrentIndex(c.sidebar.index_of("trash"))
        wait_for(qtbot, lambda: c.filter.section == "trash" and c.grid.rowCount() == 1)
        browser.grid.setFocus()
        browser.grid.setCurrentIndex(c.grid.index(0, 0))
        wait_for(qtbot, browser.grid.hasFocus)
        c.delete_permanently([record.id])  # what Delete permanently does once confirmed
        wait_for(qtbot, lambda: browser.stack.currentWidget() is browser.empty)
        focused = QApplication.focusWidget()
        assert focused is browser.search, focused
