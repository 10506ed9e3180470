"""Status text colours (success, error, warning) that stay readable on the current palette."""

from __future__ import annotations

from typing import Literal

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QWidget

Tone = Literal["ok", "error", "warning"]

# Dark shades for a light window, light ones for a dark window: each is at least 4.5:1 (WCAG AA
# body text) against the window colours of the common themes (#ffffff..#e0e0e0 light,
# #3c3f41..#121212 dark); no single shade reaches it on both.
_ON_LIGHT: dict[str, str] = {"ok": "#1b5e20", "error": "#b71c1c", "warning": "#8d5300"}
_ON_DARK: dict[str, str] = {"ok": "#81c784", "error": "#ef9a9a", "warning": "#ffb74d"}
_FOLLOWER = "status-colour"  # the object name of a widget's _PaletteFollower


def status_color(tone: Tone, palette: QPalette | None = None) -> QColor:
    """The colour for `tone` text on `palette`'s window (the application's by default)."""
    palette = palette if palette is not None else QGuiApplication.palette()
    dark = palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5
    return QColor((_ON_DARK if dark else _ON_LIGHT)[tone])


class _PaletteFollower(QObject):
    """Picks a widget's status colour again when the palette around it changes: a style sheet
    set once kept the light theme's dark red on a dark window after a live theme switch, until
    the label's text was set again. The palette is its parent's: a child widget with a style
    sheet keeps the palette it was polished with, and is sent no palette change at all.

    It holds no Python reference to the widget or its parent (it is the widget's child): a
    cycle through a dialog's wrapper crashed the garbage collector that deleted the dialog."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.setObjectName(_FOLLOWER)
        self.tone: Tone | None = None
        self.extra = ""
        widget.installEventFilter(self)  # its palette when it is a window; a new parent
        self._watch_parent(widget)

    def _widget(self) -> QWidget | None:
        widget = self.parent()
        return widget if isinstance(widget, QWidget) else None

    def _watch_parent(self, widget: QWidget) -> None:
        # (a former parent keeps the filter: its events no longer concern the widget)
        if (parent := widget.parentWidget()) is not None:
            parent.installEventFilter(self)

    def apply(self) -> None:
        widget = self._widget()
        if widget is None:
            return
        sheet = ""
        if self.tone is not None:
            around = widget.parentWidget() or widget
            sheet = f"color: {status_color(self.tone, around.palette()).name()};{self.extra}"
        # only when it differs: a new style sheet sets the palette again, a PaletteChange too
        if widget.styleSheet() != sheet:
            widget.setStyleSheet(sheet)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        widget = self._widget()
        if widget is None:
            return False
        kind = event.type()
        if watched is widget and kind == QEvent.Type.ParentChange:
            self._watch_parent(widget)
            self.apply()
        elif kind in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) and (
            watched is widget or watched is widget.parentWidget()
        ):
            self.apply()
        return False


def set_status_style(widget: QWidget, tone: Tone | None, extra: str = "") -> None:
    """Colours `widget`'s text in `tone` (with `extra` style sheet declarations), now and after
    every change of its palette (a live theme switch); None leaves it in the palette's colour."""
    follower = widget.findChild(QObject, _FOLLOWER)
    if not isinstance(follower, _PaletteFollower):
        follower = _PaletteFollower(widget)
    follower.tone, follower.extra = tone, extra
    follower.apply()
