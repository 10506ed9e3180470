"""Status text colours (success, error, warning) that stay readable on the current palette."""

from __future__ import annotations

from typing import Literal

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QWidget

Tone = Literal["ok", "error", "warning"]

# Dark shades for a light window, light ones for a dark window: each is at least 4.5:1 (WCAG AA
# body text) against the window colours of the common themes (#ffffff..#e0e0e0 light,
# #3c3f41..#121212 dark); no single shade reaches it on both.
_ON_LIGHT: dict[str, str] = {"ok": "#1b5e20", "error": "#b71c1c", "warning": "#8d5300"}
_ON_DARK: dict[str, str] = {"ok": "#81c784", "error": "#ef9a9a", "warning": "#ffb74d"}


def status_color(tone: Tone, palette: QPalette | None = None) -> QColor:
    """The colour for `tone` text on `palette`'s window (the application's by default)."""
    palette = palette if palette is not None else QGuiApplication.palette()
    dark = palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5
    return QColor((_ON_DARK if dark else _ON_LIGHT)[tone])


def status_style(tone: Tone, widget: QWidget, extra: str = "") -> str:
    """A style sheet colouring `widget`'s text in `tone` for the palette it shows with."""
    return f"color: {status_color(tone, widget.palette()).name()};{extra}"
