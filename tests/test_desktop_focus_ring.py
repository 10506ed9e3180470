"""A dialog closed from the keyboard gives the focus back with its ring: an outside tester, on
the keyboard alone, tabbed to the Server panel's "Create token…" (and Revoke), pressed Space
and closed the dialog with Escape or OK. The button had the focus again but showed no ring:
Qt gives it back as the window's activation, which unmarks the window as keyboard-focused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import shiboken6

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QPushButton, QStyle, QStyleOptionButton  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.views.focus_ring import show_focus_after_dialogs  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402
from tests.test_desktop_server_panel_keys import _tokens, _window  # noqa: E402

Key = Qt.Key
MARK = Qt.WidgetAttribute.WA_KeyboardFocusChange


@pytest.fixture
def window(qtbot: Any, library: Library) -> Iterator[MainWindow]:
    app = QApplication.instance()
    ring = show_focus_after_dialogs(app)  # as create_application does
    win = _window(qtbot, library)
    yield win
    win.shutdown()
    shiboken6.delete(ring)  # (the other tests see Qt's own ways)


def _tab_to(window: MainWindow, button: QPushButton) -> None:
    """Tabs (real Tab keys) from the panel's Start button until `button` has the focus."""
    window.server_panel.toggle.setFocus()
    for _ in range(40):
        if button.hasFocus():
            break
        QTest.keyClick(QApplication.focusWidget(), Key.Key_Tab)
    assert button.hasFocus() and window.testAttribute(MARK)  # Qt's ring, before the dialog


def _in_the_dialog(typed: str, key: Qt.Key) -> None:
    """Once the modal dialog is up and active (it runs an event loop of its own), types `typed`
    and presses `key` in it, as the keyboard does; gives up after some 500 looks."""
    looks = iter(range(500))

    def press() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is None or QApplication.activeWindow() is not dialog:
            if next(looks, None) is not None:
                QTimer.singleShot(10, press)
            return
        target = QApplication.focusWidget() or dialog
        if typed:
            QTest.keyClicks(target, typed)
        QTest.keyClick(target, key)

    QTimer.singleShot(0, press)


def _shows_ring(qtbot: Any, window: MainWindow, button: QPushButton) -> None:
    # offscreen, no window manager activates the window the dialog leaves: done here, as one does
    window.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is window and button.hasFocus())
    QApplication.processEvents()
    assert window.testAttribute(MARK)
    option = QStyleOptionButton()
    option.initFrom(button)  # what the style draws the button with
    state = QStyle.StateFlag
    assert option.state & state.State_HasFocus and option.state & state.State_KeyboardFocusChange


@pytest.mark.parametrize(
    ("typed", "key"), [("", Key.Key_Escape), ("Phone", Key.Key_Return)], ids=["Escape", "OK"]
)
def test_create_token_has_its_ring_after_its_dialog(
    qtbot: Any, window: MainWindow, typed: str, key: Qt.Key
) -> None:
    button = window.server_panel.create_button
    _tab_to(window, button)
    _in_the_dialog(typed, key)
    QTest.keyClick(button, Key.Key_Space)  # returns once the dialog is closed
    if typed:  # OK made it, and its secret is shown in a message: closed with Return
        wait_for(qtbot, lambda: window.server_panel.table.rowCount() == 1)
        _in_the_dialog("", Key.Key_Return)
        wait_for(qtbot, lambda: QApplication.activeModalWidget() is None)
    _shows_ring(qtbot, window, button)


def test_revoke_has_its_ring_after_its_question(qtbot: Any, window: MainWindow) -> None:
    panel = window.server_panel
    _tokens(qtbot, window, ["Phone"])
    panel.table.selectRow(0)
    assert panel.revoke_button.isEnabled()
    _tab_to(window, panel.revoke_button)
    _in_the_dialog("", Key.Key_Escape)
    QTest.keyClick(panel.revoke_button, Key.Key_Space)
    assert panel.revoke_button.isEnabled()  # not revoked: Escape kept it
    _shows_ring(qtbot, window, panel.revoke_button)


def test_a_button_clicked_has_no_ring_after_its_dialog(qtbot: Any, window: MainWindow) -> None:
    """The mouse's focus draws no ring, before the dialog or after it."""
    button = window.server_panel.create_button
    _in_the_dialog("", Key.Key_Escape)
    QTest.mouseClick(button, Qt.MouseButton.LeftButton)
    window.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is window and button.hasFocus())
    QApplication.processEvents()
    assert not window.testAttribute(MARK)


def _back_to(qtbot: Any, window: MainWindow) -> None:
    # offscreen, the closed menu keeps the activation: given back as a window manager does
    qtbot.wait(50)
    window.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is window)


def test_escape_from_a_second_menu_gives_the_focus_back(qtbot: Any, window: MainWindow) -> None:
    """Alt+E, Escape, Alt+A, Escape, Escape (two menus looked at from the keyboard) left the
    focus on the menu bar, nothing highlighted: no ring anywhere and the keys acted on nothing a
    keyboard user could see. The focus goes back where it was, as after one menu."""
    search = window.browser.search
    search.setFocus()
    wait_for(qtbot, search.hasFocus)
    bar = window.menuBar()
    for key in (Key.Key_E, Key.Key_A):
        QTest.keyClick(QApplication.focusWidget(), key, Qt.KeyboardModifier.AltModifier)
        wait_for(qtbot, lambda: QApplication.activePopupWidget() is not None)
        QTest.keyClick(QApplication.activePopupWidget(), Key.Key_Escape)
        wait_for(qtbot, lambda: QApplication.activePopupWidget() is None)
        _back_to(qtbot, window)
        assert bar.hasFocus()
    QTest.keyClick(bar, Key.Key_Escape)
    _back_to(qtbot, window)
    wait_for(qtbot, search.hasFocus)
    assert bar.activeAction() is None
