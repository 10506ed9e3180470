"""The focus ring comes back with the focus when a dialog closes, the focus itself when the
menu bar is left with Escape, and to a button that was disabled while its work ran."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QMenu, QMenuBar, QWidget

_MARK = Qt.WidgetAttribute.WA_KeyboardFocusChange
_HAD_MARK = "mediadesk_focus_ring_when_left"  # a window's: marked as it lost the focus


class _FocusRingAfterDialogs(QObject):
    """Qt draws a focus ring only in a window marked as focused by the keyboard
    (WA_KeyboardFocusChange), and unmarks the window when it gets the focus back from another
    one: tabbed to a button, opened its dialog with Space and closed it with Escape or OK, the
    button had the focus again without a ring, and a keyboard user lost their place ("Create
    token…", Revoke). A window marked when it lost the focus is marked again when it gets it
    back from a window of ours that closed (a dialog, a message). Come back to from another
    application, it stays as Qt leaves it; and a click marks no window in the first place.

    Follows `focusChanged`: an event filter on the application would run for every event."""

    def __init__(self, app: QApplication) -> None:
        super().__init__(app)
        self._left: QWidget | None = None  # the window the focus left last, till it lands
        app.focusChanged.connect(self._focus_changed)

    def _focus_changed(self, old: QWidget | None, now: QWidget | None) -> None:
        if old is not None and (now is None or now.window() is not old.window()):
            self._left = old.window()
            self._left.setProperty(_HAD_MARK, self._left.testAttribute(_MARK))
        if now is None:
            return
        window, left = now.window(), self._left
        self._left = None  # (a closed dialog is not kept alive)
        if left is None or left is window or not window.property(_HAD_MARK):
            return
        if not shiboken6.isValid(left) or not left.isVisible():
            window.setAttribute(_MARK, True)
            now.update()


class _FocusBackFromMenuBar(QObject):
    """Alt+E, Escape, Alt+D, Escape, Escape (two menus looked at from the keyboard) left the
    keyboard focus on the menu bar, nothing highlighted: no ring anywhere, the arrow keys did
    nothing and Delete or Space acted on nothing a keyboard user could see. Qt's menu bar gives
    the focus back to the widget it had when its keyboard use began, and a second Alt+letter
    begins it anew with the bar itself holding the focus. The widget the focus came from is
    given it back once an Escape leaves the bar with nothing highlighted."""

    def __init__(self, app: QApplication, parent: QObject) -> None:
        super().__init__(parent)
        self._before: QWidget | None = None  # the widget the focus left for a menu bar
        app.focusChanged.connect(self._focus_changed)

    def _focus_changed(self, old: QWidget | None, now: QWidget | None) -> None:
        if isinstance(now, QMenuBar):
            if old is not None and not isinstance(old, (QMenuBar, QMenu)):
                self._before = old
            now.installEventFilter(self)  # (once: Qt keeps one entry per filter)
        elif now is not None and not isinstance(now, QMenu):
            self._before = None  # (the focus landed: nothing is kept alive)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
            and isinstance(watched, QMenuBar)
        ):
            bar = watched
            QTimer.singleShot(0, self, lambda: self._give_back(bar))  # after the bar's own
        return False

    def _give_back(self, bar: QMenuBar) -> None:
        before = self._before
        if not shiboken6.isValid(bar) or not bar.hasFocus() or bar.activeAction() is not None:
            return  # Qt gave the focus back itself, or a menu title is still highlighted
        if (
            before is not None
            and shiboken6.isValid(before)
            and before.isVisible()
            and before.isEnabled()
            and before.window() is bar.window()
        ):
            self._before = None
            before.setFocus(Qt.FocusReason.MenuBarFocusReason)


def show_focus_after_dialogs(app: QApplication) -> QObject:
    """Has every window of `app` keep its focus ring across dialogs, and its focus when the
    menu bar is left with Escape (once); returns the object that does it."""
    ring = app.findChild(_FocusRingAfterDialogs)
    if ring is None:
        ring = _FocusRingAfterDialogs(app)
        _FocusBackFromMenuBar(app, ring)
    return ring


class ButtonsAtWork:
    """Buttons disabled while the work one of them started runs, and enabled after it. Qt gives
    a disabled button's keyboard focus to the next widget: Stop in the Server panel pressed with
    Space left it on the address label (no ring; Space again did nothing), List the store now
    on the Type table (Space again selected a row). The pressed button gets it back when they
    are enabled, unless the user moved it on meanwhile."""

    def __init__(self, *buttons: QWidget) -> None:
        self._buttons = buttons
        self._held: tuple[QWidget, QWidget | None] | None = None  # (pressed, where Qt put it)

    def disable(self) -> None:
        pressed = next((b for b in self._buttons if b.hasFocus()), None)
        for button in self._buttons:
            button.setEnabled(False)
        if pressed is not None:
            self._held = (pressed, QApplication.focusWidget())

    def enable(self) -> None:
        for button in self._buttons:
            button.setEnabled(True)
        if self._held is not None:
            (pressed, went), self._held = self._held, None
            focused = QApplication.focusWidget()
            if focused is None or focused is went:
                pressed.setFocus(Qt.FocusReason.OtherFocusReason)
