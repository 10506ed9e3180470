"""Shift+F10 opens the focused widget's context menu, as the Menu key does.

Qt turns the Menu key into a keyboard context-menu event everywhere, but Shift+F10 only on
Windows: on X11 and Wayland it reached the focused widget as a plain key press and nothing
opened (the upload queue's row menu, the grid's menu). Each window the focus enters gets a
Shift+F10 shortcut that sends the focused widget the event Qt sends for the Menu key, so every
widget with a context menu (the queue's current row, the grid's selection, a text field's edit
menu) answers both keys alike.

A shortcut, not an application-wide event filter: a filter made every event of the application
(each paint and mouse move over a grid of 1,000 files) cross into Python, and it swallowed the
key in widgets without a menu. The shortcut follows the focus instead (a signal per focus
change) and is disabled where the focused widget has no menu: a disabled shortcut does not
take the key, so such a widget gets Shift+F10 in its keyPressEvent.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QRect, QRectF, Qt
from PySide6.QtGui import QContextMenuEvent, QGuiApplication, QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QWidget

# Qt's Windows plugin already makes Shift+F10 a context-menu event: a second one would open the
# menu again once the first closes.
MAPPED_BY_QT = ("windows",)

SHIFT_F10 = QKeySequence(Qt.KeyboardModifier.ShiftModifier | Qt.Key.Key_F10)
NAME = "shift-f10-menu"
NO_MENU = (Qt.ContextMenuPolicy.NoContextMenu, Qt.ContextMenuPolicy.PreventContextMenu)


def open_keyboard_menu(widget: QWidget) -> None:
    """Sends `widget` the context-menu event the Menu key would."""
    # where Qt puts the Menu key's menu: at the text cursor (an item view's current item),
    # else the widget's centre
    rect = widget.inputMethodQuery(Qt.InputMethodQuery.ImCursorRectangle)
    if isinstance(rect, QRectF):
        rect = rect.toRect()
    pos = rect.center() if isinstance(rect, QRect) else widget.rect().center()
    if not widget.rect().contains(pos):
        pos = widget.rect().center()
    menu = QContextMenuEvent(
        QContextMenuEvent.Reason.Keyboard,
        pos,
        widget.mapToGlobal(pos),
        Qt.KeyboardModifier.ShiftModifier,
    )
    QApplication.sendEvent(widget, menu)


class _ShiftF10(QObject):
    def follow_focus(self, _old: QWidget | None, new: QWidget | None) -> None:
        # an open menu (a popup) answers its own keys, as the Menu key's does
        if new is None or new.window().windowType() == Qt.WindowType.Popup:
            return
        window = new.window()  # a dialog, the main window: each its own
        # A floating dock is a tool window, where Qt keeps its parent window's shortcuts on:
        # one of its own made the key ambiguous there, and, docked again, in the main window
        # too (two shortcuts of one window): Qt then runs neither.
        while window.windowType() == Qt.WindowType.Tool:
            parent = window.parentWidget()
            if parent is None:
                break
            window = parent.window()
        shortcut = window.findChild(QShortcut, NAME, Qt.FindChildOption.FindDirectChildrenOnly)
        if shortcut is None:
            shortcut = QShortcut(SHIFT_F10, window)
            shortcut.setObjectName(NAME)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(self.activated)
        shortcut.setEnabled(new.contextMenuPolicy() not in NO_MENU)

    def activated(self) -> None:
        widget = QApplication.focusWidget()
        if widget is not None:
            open_keyboard_menu(widget)


def install_shift_f10() -> None:
    """Once per application (the main window calls it; a second call does nothing)."""
    app = QApplication.instance()
    if not isinstance(app, QApplication) or QGuiApplication.platformName() in MAPPED_BY_QT:
        return
    if app.findChild(_ShiftF10, NAME) is not None:
        return
    keys = _ShiftF10(app)
    keys.setObjectName(NAME)
    app.focusChanged.connect(keys.follow_focus)
    keys.follow_focus(None, QApplication.focusWidget())  # a window focused before the call
