"""The one warning box for errors: translated text, the technical detail behind "Show Details…"."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from desktop_app.errors import ErrorMessage


def open_warning(parent: QWidget, title: str, message: ErrorMessage) -> QMessageBox:
    """Shows a non-blocking warning box that deletes itself when closed."""
    box = QMessageBox(
        QMessageBox.Icon.Warning, title, message.display(), QMessageBox.StandardButton.Ok, parent
    )
    if message.detail and not message.detail_matters:
        box.setDetailedText(message.detail)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
    return box
