"""Start-up check for a Qt binding that loses references to None, True and False.

PySide6 6.12.0 (shiboken 6.12.0) returns None from void methods and True from
`SignalInstance.emit()` without taking a new reference: each call takes one reference away
from the interpreter's singleton. On Python 3.11 the count reaches zero after a few thousand
calls and CPython aborts with `Fatal Python error: none_dealloc` / `bool_dealloc`: the window
vanished during bulk imports. Python 3.12+ made these singletons immortal (PEP 683), which hides
the bug there. pyproject.toml pins that release away; this module protects an install that got
it anyway (a distribution package, a future regression): it measures the leak once and, if it
is there, gives the three singletons the same practically-infinite count 3.12 gives them.
"""

from __future__ import annotations

import ctypes
import logging
import platform
import sys
from collections.abc import Callable

logger = logging.getLogger(__name__)

# Far more than any session can take away, far below overflow of a signed 64-bit count.
_IMMORTAL_BOOST = 1 << 40
_PROBE_CALLS = 64

_protected = False


def _counts() -> tuple[int, int, int]:
    return sys.getrefcount(None), sys.getrefcount(True), sys.getrefcount(False)


def measure_leak(probe: Callable[[], object], calls: int = _PROBE_CALLS) -> tuple[int, int, int]:
    """References to (None, True, False) that `calls` calls of `probe` took away (>= 0 each)."""
    before = _counts()
    for _ in range(calls):
        probe()
    after = _counts()
    return tuple(max(0, b - a) for b, a in zip(before, after, strict=True))  # type: ignore[return-value]


def _binding_probe() -> Callable[[], None]:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()

    def call() -> None:
        probe.setObjectName("probe")  # a void method: returns None
        probe.ping.emit()  # returns True

    call.keep_alive = probe  # type: ignore[attr-defined]
    return call


def immortalize_singletons() -> None:
    """Adds a huge reference count to None, True and False (CPython < 3.12 only)."""
    if platform.python_implementation() != "CPython" or sys.version_info >= (3, 12):
        return
    for obj in (None, True, False):
        # ob_refcnt is the first field of every object in a release build of CPython.
        count = ctypes.c_ssize_t.from_address(id(obj))
        count.value += _IMMORTAL_BOOST


def protect(probe: Callable[[], object] | None = None) -> bool:
    """Checks the binding once; returns True if it leaks (and the singletons were protected)."""
    global _protected
    if _protected:
        return True
    leaked = measure_leak(probe or _binding_probe())
    if not any(leaked):
        return False
    from PySide6 import __version__ as pyside_version

    logger.warning(
        "PySide6 %s loses references to None/True/False (%s per %s calls): protecting the "
        "interpreter. Install another release: pip install 'pyside6-essentials!=6.12.0'",
        pyside_version,
        leaked,
        _PROBE_CALLS,
    )
    immortalize_singletons()
    _protected = True
    return True
