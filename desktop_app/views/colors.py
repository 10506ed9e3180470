"""Status text colours (success, error, warning) and glyph icons that stay readable on the
current palette."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QColor, QGuiApplication, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtWidgets import QAbstractButton, QAbstractScrollArea, QDockWidget, QStyle, QWidget

Tone = Literal["ok", "error", "warning"]

# Dark shades for a light window, light ones for a dark window: each is at least 4.5:1 (WCAG AA
# body text) against the window colours of the common themes (#ffffff..#e0e0e0 light,
# #3c3f41..#121212 dark); no single shade reaches it on both.
_ON_LIGHT: dict[str, str] = {"ok": "#1b5e20", "error": "#b71c1c", "warning": "#8d5300"}
_ON_DARK: dict[str, str] = {"ok": "#81c784", "error": "#ef9a9a", "warning": "#ffb74d"}
_FOLLOWER = "status-colour"  # the object name of a widget's _PaletteFollower
# A warning bar's (background, text, border): pale yellow with near-black text on a light
# window, deep amber with pale yellow text on a dark one (high-contrast black included). Each
# text is over 7:1 on its background, and the border sets the bar off from the window.
_BAR_ON_LIGHT = ("#fff4ce", "#3d2e00", "#e0c060")
_BAR_ON_DARK = ("#4a3800", "#fff4ce", "#8d6e00")
FOCUS_FRAME = 2  # px: a focus frame of our own (set_focus_frame, the upload queue's row)


def status_color(tone: Tone, palette: QPalette | None = None) -> QColor:
    """The colour for `tone` text on `palette`'s window (the application's by default)."""
    palette = palette if palette is not None else QGuiApplication.palette()
    return QColor((_ON_DARK if _dark(palette) else _ON_LIGHT)[tone])


def _dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightnessF() < 0.5


def warning_bar_colors(palette: QPalette | None = None) -> tuple[QColor, QColor, QColor]:
    """A warning bar's background, text and border colours on `palette`'s window: the three
    come from here together. A bar with its own light background left its text in the
    palette's colour, white on pale yellow (1.04:1) on a dark theme."""
    palette = palette if palette is not None else QGuiApplication.palette()
    background, text, border = _BAR_ON_DARK if _dark(palette) else _BAR_ON_LIGHT
    return QColor(background), QColor(text), QColor(border)


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
        self.sheet: Callable[[QPalette], str] | None = None  # the style sheet for a palette
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
        if self.sheet is not None:
            around = widget.parentWidget() or widget
            sheet = self.sheet(around.palette())
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


def _follow(widget: QWidget, sheet: Callable[[QPalette], str] | None) -> None:
    follower = widget.findChild(QObject, _FOLLOWER)
    if not isinstance(follower, _PaletteFollower):
        follower = _PaletteFollower(widget)
    follower.sheet = sheet
    follower.apply()


def set_status_style(widget: QWidget, tone: Tone | None, extra: str = "") -> None:
    """Colours `widget`'s text in `tone` (with `extra` style sheet declarations), now and after
    every change of its palette (a live theme switch); None leaves it in the palette's colour."""
    if tone is None:
        _follow(widget, None)
        return
    chosen: Tone = tone
    _follow(widget, lambda palette: f"color: {status_color(chosen, palette).name()};{extra}")


def set_warning_bar_style(bar: QWidget, selector: str) -> None:
    """Gives `bar` (styled as `selector`, e.g. "QToolBar") and the labels in it the warning
    bar's background and text colours for the palette around it, now and after every change
    of that palette (a live theme switch)."""

    def sheet(palette: QPalette) -> str:
        background, text, border = (c.name() for c in warning_bar_colors(palette))
        return (
            f"{selector} {{ background: {background}; border-bottom: 1px solid {border}; }}"
            f" QLabel {{ color: {text}; background: transparent; }}"
        )

    _follow(bar, sheet)


def set_focus_frame(area: QAbstractScrollArea, extra: str = "") -> None:
    """Frames `area` (a list, a table, a text box) in the highlight colour while it has the
    keyboard focus, as the style frames a focused line edit, now and after every change of the
    palette around it. Fusion frames these alike focused or not: a tester on the keyboard alone
    saw no change when Tab reached the sidebar or the Description box. The outer size and the
    room inside stay the same (the unfocused frame is Fusion's own line, with a margin).
    `extra`: declarations of the area's own (a font)."""
    kind = next(c for c in type(area).__mro__ if c.__module__.startswith("PySide6")).__name__

    def sheet(palette: QPalette) -> str:
        line = palette.color(QPalette.ColorRole.Window).darker(140).name()  # Fusion's outline
        focused = palette.color(QPalette.ColorRole.Highlight).name()
        return (
            f"{kind} {{ border: 1px solid {line}; margin: 1px; {extra} }}"
            f" {kind}:focus {{ border: {FOCUS_FRAME}px solid {focused}; margin: 0px; }}"
        )

    _follow(area, sheet)


# ---- glyph icons --------------------------------------------------------------------------------
_GLYPH = "glyph"  # the property naming a button's or action's standard pixmap (set_glyph)
_GLYPH_FOLLOWER = "glyph-colour"  # the object name of a widget's _GlyphFollower


def glyph_icon(source: QIcon, palette: QPalette) -> QIcon:
    """`source`'s shapes in `palette`'s button text colour (its disabled one when off). The
    styles' standard icons (play, pause, volume, arrows) are near-black glyphs whatever the
    palette: 1.4:1 on a dark window (#2d2d2d), the full screen one 1.1:1. Drawn as the text is,
    they read as it does on any theme."""
    icon = QIcon()
    sizes = source.availableSizes() or [QSize(16, 16), QSize(32, 32)]
    modes = (
        (QIcon.Mode.Normal, QPalette.ColorGroup.Active),
        (QIcon.Mode.Disabled, QPalette.ColorGroup.Disabled),
    )
    for mode, group in modes:
        colour = palette.color(group, QPalette.ColorRole.ButtonText)
        for size in sizes:
            shape = source.pixmap(size, 1.0)
            if not shape.isNull():
                icon.addPixmap(_painted(shape, colour), mode)
    return icon


def _painted(shape: QPixmap, colour: QColor) -> QPixmap:
    """`shape`'s pixels in `colour`, each keeping its opacity (the glyph's edges too)."""
    pixmap = QPixmap(shape.size())
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.drawPixmap(0, 0, shape)
    painter.setCompositionMode(QPainter.CompositionMode.CompositionMode_SourceIn)
    painter.fillRect(pixmap.rect(), colour)
    painter.end()
    return pixmap


class _GlyphFollower(QObject):
    """Draws the glyphs of a widget's buttons and actions again when its palette or style
    changes (a live theme switch). It keeps no reference to them: each carries its standard
    pixmap as a property, read from the widget's children."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget)
        self.setObjectName(_GLYPH_FOLLOWER)
        self._due = False
        widget.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        changes = (
            QEvent.Type.PaletteChange,
            QEvent.Type.ApplicationPaletteChange,
            QEvent.Type.StyleChange,
        )
        if watched is self.parent() and event.type() in changes and not self._due:
            # once the event is handled: a window reads the application's new palette then
            self._due = True
            QTimer.singleShot(0, self, self._draw)
        return False

    def _draw(self) -> None:
        self._due = False
        widget = self.parent()
        if isinstance(widget, QWidget):
            for target in widget.findChildren(QObject):
                if isinstance(target, QAbstractButton | QAction):
                    _draw_glyph(target, widget)


def set_glyph(
    target: QAbstractButton | QAction, pixmap: QStyle.StandardPixmap, around: QWidget
) -> None:
    """Gives `target` (a child of `around`) the style's `pixmap` drawn in `around`'s text
    colour, now and after every change of its palette or style."""
    target.setProperty(_GLYPH, int(pixmap.value))
    own = around.findChild(QObject, _GLYPH_FOLLOWER, Qt.FindChildOption.FindDirectChildrenOnly)
    if not isinstance(own, _GlyphFollower):
        _GlyphFollower(around)
    _draw_glyph(target, around)


def _draw_glyph(target: QAbstractButton | QAction, around: QWidget) -> None:
    value = target.property(_GLYPH)
    if isinstance(value, int):
        source = around.style().standardIcon(QStyle.StandardPixmap(value), None, around)
        target.setIcon(glyph_icon(source, around.palette()))


# ---- dock title bars ----------------------------------------------------------------------------
_DOCK_INK = "dock-ink"  # a dock title button's property: the cache key of the icon drawn here
_DOCK_BUTTON = "QDockWidgetTitleButton"  # Qt's class of a dock's float and close buttons


class _DockButtonInk(QObject):
    """Draws a dock's float and close buttons in its palette's text colour. QDockWidget gives
    them the style's icons, which Fusion draws mid-grey (#6c6a67) on any palette: on a dark
    window's title bar (#2d2d2d) 2.6:1 at best, most of each glyph blended to 1.4:1, and the
    buttons looked absent. The dock gives them the style's icons again whenever it updates them
    (floated, docked again, its features or style changed), so a button whose icon is not the
    one drawn here is drawn again just before it paints; a palette or style change draws it
    anew. It holds no Python reference to the buttons (it is the dock's child)."""

    def __init__(self, dock: QDockWidget) -> None:
        super().__init__(dock)
        self.setObjectName(_DOCK_INK)
        for button in dock.findChildren(
            QAbstractButton, options=Qt.FindChildOption.FindDirectChildrenOnly
        ):
            if button.metaObject().className() == _DOCK_BUTTON:
                button.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if not isinstance(watched, QAbstractButton):
            return False
        kind = event.type()
        if kind in (
            QEvent.Type.PaletteChange,
            QEvent.Type.ApplicationPaletteChange,
            QEvent.Type.StyleChange,
        ):
            watched.setProperty(_DOCK_INK, None)
        elif kind == QEvent.Type.Paint:
            icon = watched.icon()
            if not icon.isNull() and watched.property(_DOCK_INK) != icon.cacheKey():
                # (before the button paints: this paint shows the new icon already)
                inked = glyph_icon(icon, watched.palette())
                watched.setIcon(inked)
                watched.setProperty(_DOCK_INK, watched.icon().cacheKey())
        return False


def ink_dock_buttons(dock: QDockWidget) -> None:
    """Keeps `dock`'s title bar buttons (float, close) in its palette's text colour: readable
    on a dark theme, also after a live theme switch."""
    if not isinstance(dock.findChild(QObject, _DOCK_INK), _DockButtonInk):
        _DockButtonInk(dock)
