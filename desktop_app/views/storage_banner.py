"""The bar across the window while R2 is chosen but its endpoint, bucket or keys are missing.

MediaDesk refused to start in that case (exit 2), so the one place to enter the keys, its own
Settings, could not be reached after `storage migrate --to r2` was run with the keys only in
the environment. The window now opens on the catalog and this bar says what is missing.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMainWindow, QPushButton, QSizePolicy, QToolBar

from core.settings import Settings, storage_gap
from desktop_app.views.colors import set_warning_bar_style


class StorageProblemBar(QToolBar):
    """`settings_button` opens the Settings with the first missing field in focus."""

    def __init__(self, settings: Settings, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("storage-problem-bar")
        self.setMovable(False)
        self.setFloatable(False)
        self.toggleViewAction().setVisible(False)  # not a toolbar one may hide and forget
        set_warning_bar_style(self, "QToolBar")
        missing = ", ".join(storage_gap(settings)[1])
        self.label = QLabel(
            self.tr(
                "R2 storage cannot be used: %1 missing. The catalog can be browsed, but files "
                "cannot be opened or added. Enter them in Settings (keys given only in the "
                "environment are not saved)."
            ).replace("%1", missing),
            self,
        )
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.addWidget(self.label)
        self.settings_button = QPushButton(self.tr("Open Settings…"), self)
        self.addWidget(self.settings_button)

    def keys_saved(self) -> None:
        """Storage is read at start-up only (as every storage setting): say so until then."""
        self.label.setText(
            self.tr("The R2 settings are saved. Restart MediaDesk to use the R2 storage.")
        )
