"""Qt's own file dialog (the one drawn by Qt where the desktop offers none of its own)."""

from __future__ import annotations

from functools import partial

import shiboken6
from PySide6.QtWidgets import QApplication, QFileDialog, QFileSystemModel, QTreeView, QWidget

# Qt sizes these for "128.88 GB" and "mp3Folder": Spanish sizes ("16,50 KiB", "674 bytes") and
# kinds ("imagen JPEG") read "16....KiB" and "im...EG"
SIZE, KIND = 1, 2


def fit_file_dialog_columns(app: QApplication) -> None:
    """Every file dialog of `app` widens its Size and Type columns to what they show. Done when
    the dialog first takes the focus: the static QFileDialog.get* calls give no dialog to
    change beforehand, and an event filter on the application would run for every event."""
    if not app.property("mediadesk_file_dialogs"):  # once, however often the app is set up
        app.setProperty("mediadesk_file_dialogs", True)
        app.focusChanged.connect(_on_focus)


def _on_focus(_old: QWidget | None, now: QWidget | None) -> None:
    dialog = now.window() if now is not None else None
    if isinstance(dialog, QFileDialog) and not dialog.property("mediadesk_fitted"):
        dialog.setProperty("mediadesk_fitted", True)
        fit_columns(dialog)


def fit_columns(dialog: QFileDialog) -> None:
    """Now and whenever a folder has been read. Widths only grow: the user's own stay, and Qt
    saves the widths for every Qt program of the user (a resize mode would be saved too)."""
    model = dialog.findChild(QFileSystemModel)
    for tree in dialog.findChildren(QTreeView):
        if model is not None:
            model.directoryLoaded.connect(partial(_grow, tree))
        _grow(tree)


def _grow(tree: QTreeView, _folder: str = "") -> None:
    if not shiboken6.isValid(tree):  # the model read a folder after the dialog was deleted
        return
    header = tree.header()
    for column in (SIZE, KIND):
        if column < header.count():
            wanted = tree.sizeHintForColumn(column)
            if wanted > header.sectionSize(column):
                header.resizeSection(column, wanted)
