"""The Server panel from the keyboard, as a keyboard-only tester found it.

Alt+O did nothing in English and Spanish: *Copy commands* is a tool button that shows its
action's icon text, from which Qt drops the `&`, so the key was its drop-down menu's alone, and
that menu opened only with the mouse (Copy with the token's T out of reach). The state beside
Start/Stop ("Stopped") was a Tab stop that showed nothing, and the running link took a second
Tab. With one API token, Tab into the tokens table and Down framed the row without selecting it,
so Revoke stayed off (only Space selected)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtGui import QGuiApplication  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QAbstractButton, QApplication, QMenu, QWidget  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.qt_helpers import TIMEOUT, wait_for  # noqa: E402

Key = Qt.Key
ALT = Qt.KeyboardModifier.AltModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
BEFORE = "nothing copied yet"


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


def _window(qtbot: Any, library: Library) -> MainWindow:
    win = MainWindow(library, page_size=50)
    qtbot.addWidget(win)
    win.resize(1366, 768)
    win.show()
    wait_for(qtbot, lambda: not win.controller.grid.loading)
    win.server_dock.show()
    win.server_dock.raise_()
    win.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is win)
    return win


@pytest.fixture
def window(qtbot: Any, library: Library) -> Iterator[MainWindow]:
    win = _window(qtbot, library)
    yield win
    win.shutdown()


def _start(qtbot: Any, window: MainWindow) -> None:
    with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT):
        window.server.start("127.0.0.1", 0)
    wait_for(qtbot, lambda: window.server.running and window.server_panel.copy_action.isEnabled())


def _alt_key(text: str) -> str | None:
    shown = text.replace("&&", "")
    index = shown.find("&")
    return shown[index + 1].lower() if index >= 0 else None


def _press_in_menu(menu: QMenu, key: Qt.Key) -> None:
    """Presses `key` in `menu` once it is open (it runs an event loop of its own); gives up
    after some 500 looks, where the menu never opened."""
    looks = iter(range(500))

    def press() -> None:
        if menu.isVisible():
            QTest.keyClick(menu, key)
        elif next(looks, None) is not None:
            QTimer.singleShot(10, press)

    QTimer.singleShot(0, press)


def test_alt_o_copies_the_commands_and_t_in_its_menu_copies_them_with_the_token(
    qtbot: Any, library: Library, language: str
) -> None:
    window = _window(qtbot, library)
    try:
        panel = window.server_panel
        _start(qtbot, window)
        # the button's own text keeps the key, in both languages, and no other key of the
        # window (menus, buttons) is Alt+O
        assert _alt_key(panel.copy_button.text()) == "o", panel.copy_button.text()
        texts = [action.text() for action in window.menuBar().actions()]
        texts += [
            b.text() for b in window.findChildren(QAbstractButton) if b is not panel.copy_button
        ]
        assert "o" not in [_alt_key(text) for text in texts], texts

        QGuiApplication.clipboard().setText(BEFORE)
        window.browser.search.setFocus()
        wait_for(qtbot, window.browser.search.hasFocus)
        QTest.keyClick(window.browser.search, Key.Key_O, ALT)
        wait_for(qtbot, lambda: QGuiApplication.clipboard().text() != BEFORE)
        copied = QGuiApplication.clipboard().text()
        assert f"curl {window.server.url}/health" in copied and "$TOKEN" in copied
        assert panel.copied.isVisible()

        with qtbot.waitSignal(window.server.tokenCreated, timeout=TIMEOUT) as made:
            window.server.create_token("Phone", "upload")
        secret = made.args[1]
        wait_for(qtbot, lambda: isinstance(QApplication.activeModalWidget(), QWidget))
        created = QApplication.activeModalWidget()
        assert created is not None
        created.close()  # "Token created"
        window.activateWindow()
        wait_for(qtbot, lambda: QApplication.activeWindow() is window)
        QGuiApplication.clipboard().setText(BEFORE)
        # on the button (Tab reaches it), Alt+Down opens its menu, where T copies with the token
        menu = panel.copy_button.menu()
        panel.copy_button.setFocus(Qt.FocusReason.BacktabFocusReason)
        wait_for(qtbot, panel.copy_button.hasFocus)
        _press_in_menu(menu, Key.Key_T)
        QTest.keyClick(panel.copy_button, Key.Key_Down, ALT)
        wait_for(qtbot, lambda: secret in QGuiApplication.clipboard().text())
        assert not menu.isVisible()
        # F4 opens it too; O there is the plain copy, without the secret
        _press_in_menu(menu, Key.Key_O)
        QTest.keyClick(panel.copy_button, Key.Key_F4)
        wait_for(qtbot, lambda: "$TOKEN" in QGuiApplication.clipboard().text())
        assert secret not in QGuiApplication.clipboard().text()
    finally:
        window.shutdown()


def _tab(backwards: bool = False) -> QWidget | None:
    """Presses Tab (Shift+Tab) where the focus is; returns where it lands."""
    focus = QApplication.focusWidget()
    assert focus is not None
    QTest.keyClick(
        focus,
        Key.Key_Backtab if backwards else Key.Key_Tab,
        SHIFT if backwards else Qt.KeyboardModifier.NoModifier,
    )
    return QApplication.focusWidget()


def test_the_state_is_a_tab_stop_only_with_its_link_and_tabbed_to_shows_it_focused(
    qtbot: Any, window: MainWindow
) -> None:
    panel = window.server_panel
    tab_focus = Qt.FocusPolicy.TabFocus
    # stopped: Tab goes from Start straight past "Stopped"
    assert not window.server.running and panel.state.text() == "Stopped"
    panel.toggle.setFocus(Qt.FocusReason.TabFocusReason)
    wait_for(qtbot, panel.toggle.hasFocus)
    assert _tab() is not panel.state
    assert (panel.state.focusPolicy() & tab_focus) != tab_focus

    _start(qtbot, window)
    address = window.server.url
    assert address in panel.state.text()
    panel.toggle.setFocus(Qt.FocusReason.TabFocusReason)
    wait_for(qtbot, panel.toggle.hasFocus)
    # one Tab reaches the link, shown focused (not the label first, showing nothing)
    assert _tab() is panel.state
    assert panel.state.selectedText() == address
    after = _tab()
    assert after is not panel.state and after is not None
    # and back: Shift+Tab lands on the link, the next one on Stop
    assert _tab(backwards=True) is panel.state
    assert panel.state.selectedText() == address
    assert _tab(backwards=True) is panel.toggle

    with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT):
        panel.toggle.click()  # Stop: no link, no Tab stop again
    assert panel.state.text() == "Stopped"
    assert (panel.state.focusPolicy() & tab_focus) != tab_focus


def _tokens(qtbot: Any, window: MainWindow, names: list[str]) -> None:
    for name in names:
        window.library.tokens.create(name, "read")
    window.server.refresh_tokens()
    wait_for(qtbot, lambda: window.server_panel.table.rowCount() == len(names))


def _selected_rows(window: MainWindow) -> list[int]:
    table = window.server_panel.table
    return sorted(index.row() for index in table.selectionModel().selectedRows())


@pytest.mark.parametrize(
    "key", [Key.Key_Down, Key.Key_Up, Key.Key_End, Key.Key_Home], ids=["Down", "Up", "End", "Home"]
)
def test_the_arrows_select_the_only_token_and_revoke_turns_on(
    qtbot: Any, window: MainWindow, key: Qt.Key
) -> None:
    panel = window.server_panel
    table = panel.table
    _tokens(qtbot, window, ["Phone"])
    table.setFocus(Qt.FocusReason.TabFocusReason)  # as Tab from the widget before it
    wait_for(qtbot, table.hasFocus)
    assert _selected_rows(window) == [] and not panel.revoke_button.isEnabled()
    QTest.keyClick(table, key)
    assert _selected_rows(window) == [0]
    assert panel.revoke_button.isEnabled()
    table.clearSelection()  # (as Ctrl+Space does) the next arrow selects it again
    assert not panel.revoke_button.isEnabled()
    QTest.keyClick(table, key)
    assert _selected_rows(window) == [0] and panel.revoke_button.isEnabled()


def test_the_arrows_select_one_token_of_several(qtbot: Any, window: MainWindow) -> None:
    panel = window.server_panel
    table = panel.table
    _tokens(qtbot, window, ["Phone", "Camera", "Scanner"])
    table.setFocus(Qt.FocusReason.TabFocusReason)
    wait_for(qtbot, table.hasFocus)
    QTest.keyClick(table, Key.Key_Up)  # on the first row already: it is selected
    assert _selected_rows(window) == [0] and panel.revoke_button.isEnabled()
    QTest.keyClick(table, Key.Key_Down)
    assert _selected_rows(window) == [1]
    # one token at a time: Revoke takes one, and Shift+Down does not make it two
    QTest.keyClick(table, Key.Key_Down, SHIFT)
    assert _selected_rows(window) == [2] and panel.revoke_button.isEnabled()


def test_alt_o_copies_nothing_while_the_panel_is_behind_another_tab(
    qtbot: Any, library: Library
) -> None:
    """A dock behind another tab counts as visible to Qt: Alt+O replaced the clipboard with
    commands from a panel out of sight, and said so only there (regression hunter)."""
    window = _window(qtbot, library)
    try:
        panel = window.server_panel
        _start(qtbot, window)
        window.upload_dock.raise_()  # the Uploads tab in front, as at the first start
        wait_for(qtbot, lambda: not panel._on_screen)
        QGuiApplication.clipboard().setText(BEFORE)
        window.browser.search.setFocus()
        wait_for(qtbot, window.browser.search.hasFocus)
        # the key is gone from the button (under X11 it fired; offscreen Qt does not deliver
        # it to a dock behind a tab either way, so the text is what is asserted)
        assert _alt_key(panel.copy_button.text()) is None, panel.copy_button.text()
        QTest.keyClick(window.browser.search, Key.Key_O, ALT)  # copies at once, if at all
        assert QGuiApplication.clipboard().text() == BEFORE
        assert not panel.copied.isVisible()

        window.server_dock.raise_()  # in front again, the key is the button's again
        wait_for(qtbot, lambda: panel._on_screen)
        QTest.keyClick(window.browser.search, Key.Key_O, ALT)
        wait_for(qtbot, lambda: QGuiApplication.clipboard().text() != BEFORE)
        assert f"curl {window.server.url}/health" in QGuiApplication.clipboard().text()
    finally:
        window.shutdown()


def test_start_and_stop_pressed_from_the_keyboard_keep_the_focus(
    qtbot: Any, window: MainWindow
) -> None:
    """Stop pressed with Space (the button disabled while the server stops) left the focus on
    the address beside it, which then read "Stopped" with no ring, and Space again did nothing:
    a keyboard user lost their place. Start and Stop keep the focus, so Space toggles again."""
    panel = window.server_panel
    panel.toggle.setFocus(Qt.FocusReason.TabFocusReason)
    wait_for(qtbot, panel.toggle.hasFocus)
    for running in (True, False):  # Start, then Stop
        with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT):
            QTest.keyClick(panel.toggle, Key.Key_Space)
        wait_for(qtbot, lambda: panel.toggle.isEnabled())
        assert window.server.running is running
        assert panel.toggle.hasFocus(), QApplication.focusWidget()
