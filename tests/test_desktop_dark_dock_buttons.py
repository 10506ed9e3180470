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
from tests.qt_helpers import shown_window, wait_for  # noqa: E402

DARK = {
    QPalette.ColorRole.Window: QColor(45, 45, 45),  # a dark Fusion palette (#2d2d2d)
    QPalette.ColorRole.WindowText: QColor(230, 230, 230),
    QPalette.ColorRole.Base: QColor(30, 30, 30),
    QPalette.ColorRole.Text: QColor(230, 230, 230),
    QPalette.ColorRole.Button: QColor(45, 45, 45),
    QPalette.ColorRole.ButtonText: QColor(230, 230, 230),
}
LIGHT = {
    QPalette.ColorRole.Window: QColor(239, 239, 239),
    QPalette.ColorRole.WindowText: QColor(0, 0, 0),
    QPalette.ColorRole.Base: QColor(255, 255, 255),
    QPalette.ColorRole.Text: QColor(0, 0, 0),
    QPalette.ColorRole.Button: QColor(239, 239, 239),
    QPalette.ColorRole.ButtonText: QColor(0, 0, 0),
}
INK_PIXELS = 6  # a glyph's strokes, not a stray pixel of the button's frame


def _luminance(colour: QColor) -> float:
    def channel(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.red())
        + 0.7152 * channel(colour.green())
        + 0.0722 * channel(colour.blue())
    )


def _contrast(a: QColor, b: QColor) -> float:
    high, low = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.fixture
def fusion(qapp: Any) -> Iterator[Any]:
    """Fusion with the given colours; the application's style and palette put back after."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    style, kept = app.style().name(), app.palette()
    app.setStyle("Fusion")

    def use(colours: dict[QPalette.ColorRole, QColor]) -> None:
        chosen = QPalette(kept)
        for role, colour in colours.items():
            chosen.setColor(role, colour)
        app.setPalette(chosen)

    yield use
    app.setStyle(style)
    app.setPalette(kept)


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
        if _contrast(image.pixelColor(x, y), background) >= 3.0
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
