"""The docks' title bar buttons (float, close) on a dark Fusion theme: Qt gives them the style's
icons, which Fusion draws mid-grey (#6c6a67) whatever the palette, so on a dark window
(#2d2d2d) no pixel of them reached 3:1 and the Uploads, Server, Storage and Jobs docks seemed
to have no buttons. They are drawn in the palette's text colour, also after a live switch of
theme. Rendered as the screen shows them: the real main window, each button grabbed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtWidgets import QAbstractButton, QApplication, QDockWidget  # noqa: E402

from core.library import Library  # noqa: E402
from tests.qt_helpers import (  # noqa: E402
    contrast,
    dark_colours,
    light_colours,
    shown_window,
    themed,
    wait_for,
)

DARK = dark_colours()  # a dark Fusion palette (#2d2d2d)
LIGHT = light_colours()
INK_PIXELS = 6  # a glyph's strokes, not a stray pixel of the button's frame


@pytest.fixture
def fusion(qapp: Any) -> Iterator[Any]:
    """Fusion with the given colours; the application's style and palette put back after."""
    with themed("Fusion") as use:
        yield use


def _title_buttons(dock: QDockWidget) -> list[QAbstractButton]:
    return [
        b
        for b in dock.findChildren(QAbstractButton)
        if b.metaObject().className() == "QDockWidgetTitleButton" and b.isVisible()
    ]


def _inked(button: QAbstractButton, background: QColor) -> int:
    """The pixels of the button, as painted, that stand out 3:1 from `background` (WCAG 2.1
    non-text contrast, 1.4.11)."""
    image = button.grab().toImage()
    return sum(
        1
        for x in range(image.width())
        for y in range(image.height())
        if contrast(image.pixelColor(x, y), background) >= 3.0
    )


def _readable(window: Any, background: QColor) -> None:
    for dock in window.findChildren(QDockWidget):
        dock.raise_()  # tabbed together: each in turn on top
        QApplication.processEvents()
        buttons = _title_buttons(dock)
        assert len(buttons) == 2, (dock.windowTitle(), buttons)  # float and close
        for button in buttons:
            inked = _inked(button, background)
            assert inked >= INK_PIXELS, (dock.windowTitle(), button.toolTip(), inked)


@pytest.mark.parametrize("start", ["dark", "light"])
def test_the_docks_float_and_close_buttons_read_on_a_dark_and_a_light_theme(
    qtbot: Any, library: Library, fusion: Any, start: str
) -> None:
    first, then = (DARK, LIGHT) if start == "dark" else (LIGHT, DARK)
    fusion(first)
    with shown_window(qtbot, library) as window:
        window.resize(1100, 760)
        qtbot.waitExposed(window)
        _readable(window, first[QPalette.ColorRole.Window])
        fusion(then)  # a live theme switch: the buttons hear of it in turn
        wait_for(qtbot, lambda: _readable(window, then[QPalette.ColorRole.Window]))
        floated = window.upload_dock
        floated.setFloating(True)  # Qt gives the buttons the style's icons again
        floated.setFloating(False)
        wait_for(qtbot, lambda: _readable(window, then[QPalette.ColorRole.Window]))
