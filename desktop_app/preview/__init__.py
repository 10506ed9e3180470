"""File preview: image viewer and video player in a non-modal dialog (`open_preview`)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QRect
from PySide6.QtWidgets import QDialog, QWidget

from core.records import FileRecord

logger = logging.getLogger(__name__)

_multimedia: tuple[bool, str] | None = None
_open_dialogs: dict[int, QDialog] = {}


def _probe_multimedia() -> tuple[bool, str]:
    global _multimedia
    if _multimedia is None:
        try:
            import PySide6.QtMultimedia  # noqa: F401
            import PySide6.QtMultimediaWidgets  # noqa: F401
        except Exception as exc:  # ImportError, or OSError for a missing system library
            logger.warning("Qt Multimedia is not available: %s", exc)
            _multimedia = (False, str(exc) or type(exc).__name__)
        else:
            _multimedia = (True, "")
    return _multimedia


def multimedia_available() -> bool:
    """True when PySide6.QtMultimedia and QtMultimediaWidgets import (checked once)."""
    return _probe_multimedia()[0]


def multimedia_unavailable_reason() -> str:
    """Why Qt Multimedia did not import ("" when it did)."""
    return _probe_multimedia()[1]


Step = Callable[[FileRecord, int], bool]
"""Previews the file `step` places after (before, when negative) the given one; False when
there is none."""


def grid_steps(parent: Any) -> Step | None:
    """PageUp/PageDown of a preview over the main window: the file before/after it in the grid.

    Like the arrow keys in the grid, the step selects that file (the details panel follows,
    asking about unsaved edits first), and the file is previewed as a double-click would
    (its controller's request_preview). None when `parent` has no such grid.
    """
    browser: Any = getattr(parent, "browser", None)
    controller: Any = getattr(browser, "controller", None)
    model: Any = getattr(controller, "grid", None)
    needed = (
        getattr(browser, "select_row", None),
        getattr(controller, "request_preview", None),
        getattr(model, "row_of", None),
        getattr(model, "record_at", None),
    )
    if not all(callable(f) for f in needed):
        return None

    def step(record: FileRecord, delta: int) -> bool:
        row = model.row_of(record.id)
        if row < 0:  # no longer in the grid (another filter, trashed): nothing to step from
            return False
        target = row + delta
        neighbour = model.record_at(target)
        if neighbour is None:
            if delta > 0 and model.canFetchMore():
                model.fetchMore()  # the next page: PageDown again once it is in
            return False
        browser.select_row(target)
        controller.request_preview(neighbour)
        return True

    return step


# The geometry of a preview left by PageUp/PageDown (and when), for the one that opens in its
# place; a step whose preview never came does not shape a later, unrelated one.
_stepped_from: list[tuple[QRect, float]] = []
STEP_WINDOW = 10.0  # seconds


def open_preview(
    parent: QWidget | None, record: FileRecord, source: str, *, step: Step | None = None
) -> QDialog:
    """Show a non-modal preview of `record` read from `source` (local path or http(s) URL).

    PageUp/PageDown preview the previous/next file through `step` (by default the grid of a
    main window `parent`, see grid_steps); this preview then closes.
    """
    from desktop_app.preview.dialog import PreviewDialog

    dialog = PreviewDialog(record, source, parent)
    dialog.finished.connect(dialog.deleteLater)
    # a step keeps the window where and as large as the user had it, whatever the next
    # picture's size (it jumped with every file)
    carried, _stepped_from[:] = _stepped_from[:1], []
    if carried and time.monotonic() - carried[0][1] < STEP_WINDOW:
        dialog.setGeometry(carried[0][0])
    step = step if step is not None else grid_steps(parent)
    if step is not None:
        dialog.set_navigable(True)

        def stepped(delta: int) -> None:
            _stepped_from[:] = [(dialog.geometry(), time.monotonic())]
            if step(dialog.record, delta):
                dialog.close()
            else:
                _stepped_from[:] = []

        dialog.stepRequested.connect(stepped)
    if parent is None:  # keep a parentless dialog alive until Qt deletes it
        key = id(dialog)
        _open_dialogs[key] = dialog
        dialog.destroyed.connect(lambda *_: _open_dialogs.pop(key, None))
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


__all__ = [
    "Step",
    "grid_steps",
    "multimedia_available",
    "multimedia_unavailable_reason",
    "open_preview",
]
