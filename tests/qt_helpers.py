"""Desktop tests' shared pieces: the polling call and its default patience, the shown main
window, and the themes and contrast the dark-theme tests measure against.

Qt is imported only inside the helpers: modules import this one before their importorskip."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from PySide6.QtGui import QColor, QPalette

    Colours = dict[QPalette.ColorRole, QColor]

ROOT = Path(__file__).resolve().parents[1]
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


def run_desktop_child(
    code: str, *args: str, home: Path, timeout: float
) -> subprocess.CompletedProcess[str]:
    """`code` run by a new Python in the repository with `args`, its console captured: Qt
    offscreen, a bare PATH and `home` as HOME, so that nothing of the tester's desktop session
    or settings reaches it."""
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": "/usr/bin:/bin", "HOME": str(home)},
    )


def _colours(window: int, text: int, base: int) -> Colours:
    """A palette of greys (0-255): buttons are the window's colour, every text the same."""
    from PySide6.QtGui import QColor, QPalette

    role = QPalette.ColorRole
    grey = {role.Window: window, role.WindowText: text, role.Base: base, role.Text: text}
    grey |= {role.Button: window, role.ButtonText: text}
    return {key: QColor(value, value, value) for key, value in grey.items()}


def dark_colours() -> Colours:
    """A dark Fusion palette (#2d2d2d), an outside tester's."""
    return _colours(window=45, text=230, base=30)


def light_colours() -> Colours:
    return _colours(window=239, text=0, base=255)


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
