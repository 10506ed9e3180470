"""The focus ring comes back with the focus when a dialog closes."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QObject, Qt
from PySide6.QtWidgets import QApplication, QWidget

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


def show_focus_after_dialogs(app: QApplication) -> QObject:
    """Has every window of `app` keep its focus ring across dialogs (once); returns the
    object that does it."""
    ring = app.findChild(_FocusRingAfterDialogs)
    if ring is None:
        ring = _FocusRingAfterDialogs(app)
    return ring
