"""Waiting in desktop tests: one place for the polling call and its default patience."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

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
