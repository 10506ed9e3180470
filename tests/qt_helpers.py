"""Desktop tests' shared pieces: the polling call and its default patience, the shown main
window, and the themes and contrast the dark-theme tests measure against.

Qt is imported only inside the helpers: modules import this one before their importorskip."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtGui import QColor, QPalette

    Colours = dict[QPalette.ColorRole, QColor]

TIMEOUT = 15000
"""Milliseconds a desktop test waits for the GUI to catch up before failing (a loaded CI box)."""


def wait_for(qtbot: Any, predicate: Callable[[], object], timeout: int = TIMEOUT) -> None:
    """Processes Qt events until `predicate()` is truthy (or, if it asserts, stops raising)."""
    qtbot.waitUntil(predicate, timeout=timeout)


@contextlib.contextmanager
def shown_window(qtbot: Any, library: Any, page_size: int = 50) -> Iterator[Any]:
    """The main window over `library`, shown with its first page loaded; shut down after."""
    from desktop_app.views.main_window import MainWindow

    win = MainWindow(library, page_size=page_size)
    qtbot.addWidget(win)
    win.show()
    wait_for(qtbot, lambda: not win.controller.grid.loading)
    yield win
    win.shutdown()


def dark_colours() -> Colours:
    """A dark Fusion palette (#2d2d2d), an outside tester's."""
    from PySide6.QtGui import QColor, QPalette

    return {
        QPalette.ColorRole.Window: QColor(45, 45, 45),
        QPalette.ColorRole.WindowText: QColor(230, 230, 230),
        QPalette.ColorRole.Base: QColor(30, 30, 30),
        QPalette.ColorRole.Text: QColor(230, 230, 230),
        QPalette.ColorRole.Button: QColor(45, 45, 45),
        QPalette.ColorRole.ButtonText: QColor(230, 230, 230),
    }


def light_colours() -> Colours:
    from PySide6.QtGui import QColor, QPalette

    return {
        QPalette.ColorRole.Window: QColor(239, 239, 239),
        QPalette.ColorRole.WindowText: QColor(0, 0, 0),
        QPalette.ColorRole.Base: QColor(255, 255, 255),
        QPalette.ColorRole.Text: QColor(0, 0, 0),
        QPalette.ColorRole.Button: QColor(239, 239, 239),
        QPalette.ColorRole.ButtonText: QColor(0, 0, 0),
    }


def luminance(colour: QColor) -> float:
    """WCAG 2.1's relative luminance."""

    def channel(value: int) -> float:
        v = value / 255
        return v / 12.92 if v <= 0.03928 else ((v + 0.055) / 1.055) ** 2.4

    return (
        0.2126 * channel(colour.red())
        + 0.7152 * channel(colour.green())
        + 0.0722 * channel(colour.blue())
    )


def contrast(a: QColor, b: QColor) -> float:
    """WCAG 2.1's contrast ratio, 1 to 21."""
    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@contextlib.contextmanager
def themed(style: str | None = None) -> Iterator[Callable[[Colours], None]]:
    """A setter of the application's palette (over `style` when given); the application's
    style and palette put back after."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    kept_style, kept = app.style().name(), app.palette()
    if style is not None:
        app.setStyle(style)

    def use(colours: Colours) -> None:
        chosen = QPalette(kept)
        for role, colour in colours.items():
            chosen.setColor(role, colour)
        app.setPalette(chosen)

    yield use
    if style is not None:
        app.setStyle(kept_style)
    app.setPalette(kept)
