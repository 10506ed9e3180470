"""Shift+F10 opens the focused widget's context menu, as the Menu key does.

Qt turns the Menu key into a keyboard context-menu event everywhere, but Shift+F10 only on
Windows: on X11 and Wayland it reached the focused widget as a plain key press and nothing
opened (the upload queue's row menu, the grid's menu). An application-wide event filter sends
the event Qt sends for the Menu key instead, so every widget with a context menu (the queue's
current row, the grid's selection, a text field's edit menu) answers both keys alike.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QEvent, QObject, QRect, QRectF, Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication, QKeyEvent
from PySide6.QtWidgets import QApplication

# Qt's Windows plugin already makes Shift+F10 a context-menu event: a second one would open the
# menu again once the first closes.
MAPPED_BY_QT = ("windows",)


class _ShiftF10(QObject):
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        if event.key() != Qt.Key.Key_F10 or event.modifiers() != Qt.KeyboardModifier.ShiftModifier:
            return False
        widget = QApplication.focusWidget()
        # once, as the focused widget gets it (not again for each parent it goes on to), and
        # never while a menu is open
        if widget is None or watched is not widget or QApplication.activePopupWidget():
            return False
        # where Qt puts the Menu key's menu: at the text cursor, else the widget's centre
        rect = widget.inputMethodQuery(Qt.InputMethodQuery.ImCursorRectangle)
        if isinstance(rect, QRectF):
            rect = rect.toRect()
        pos = rect.center() if isinstance(rect, QRect) else widget.rect().center()
        if not widget.rect().contains(pos):
            pos = widget.rect().center()
        menu = QContextMenuEvent(
            QContextMenuEvent.Reason.Keyboard, pos, widget.mapToGlobal(pos), event.modifiers()
        )
        QApplication.sendEvent(widget, menu)
        return True  # the key itself means nothing else to any of our widgets


def install_shift_f10() -> None:
    """Once per application (the main window calls it; a second call does nothing)."""
    app = QCoreApplication.instance()
    if app is None or QGuiApplication.platformName() in MAPPED_BY_QT:
        return
    if app.findChild(_ShiftF10, "shift-f10-menu") is not None:
        return
    keys = _ShiftF10(app)
    keys.setObjectName("shift-f10-menu")
    app.installEventFilter(keys)
