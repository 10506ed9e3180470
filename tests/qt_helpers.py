"""Waiting in desktop tests: one place for the polling call and its default patience."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TIMEOUT = 15000
"""Milliseconds a desktop test waits for the GUI to catch up before failing (a loaded CI box)."""


def wait_for(qtbot: Any, predicate: Callable[[], object], timeout: int = TIMEOUT) -> None:
    """Processes Qt events until `predicate()` is truthy (or, if it asserts, stops raising)."""
    qtbot.waitUntil(predicate, timeout=timeout)
