"""File preview: image viewer and video player in a non-modal dialog (`open_preview`)."""

from __future__ import annotations

import logging

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


def open_preview(parent: QWidget | None, record: FileRecord, source: str) -> QDialog:
    """Show a non-modal preview of `record` read from `source` (local path or http(s) URL)."""
    from desktop_app.preview.dialog import PreviewDialog

    dialog = PreviewDialog(record, source, parent)
    dialog.finished.connect(dialog.deleteLater)
    if parent is None:  # keep a parentless dialog alive until Qt deletes it
        key = id(dialog)
        _open_dialogs[key] = dialog
        dialog.destroyed.connect(lambda *_: _open_dialogs.pop(key, None))
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


__all__ = ["multimedia_available", "multimedia_unavailable_reason", "open_preview"]
