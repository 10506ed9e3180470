"""The status bar: storage in use, embedded server state and URL, library counts."""

from __future__ import annotations

import html

from PySide6.QtWidgets import QLabel, QStatusBar, QWidget

from core.settings import Settings
from desktop_app.errors import ErrorMessage
from desktop_app.formatting import size_text


class MainStatusBar(QStatusBar):
    """Three permanent labels; transient notices use showMessage."""

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.storage = QLabel(self)
        self.server = QLabel(self)
        self.server.setOpenExternalLinks(True)
        self.counts = QLabel(self)
        for label in (self.storage, self.server, self.counts):
            label.setContentsMargins(10, 0, 10, 0)
            self.addPermanentWidget(label)
        self.set_storage(settings)
        self.set_server(False, "")
        self.set_counts({})

    def set_storage(self, settings: Settings) -> None:
        if settings.uses_r2:
            text = self.tr("Storage: R2 bucket %1").replace("%1", settings.r2_bucket_name)
            tip = settings.r2_endpoint_url
        else:
            text = self.tr("Storage: local folder")
            tip = str(settings.paths.objects_dir)
        self.storage.setText(text)
        self.storage.setToolTip(tip)

    def set_server(self, running: bool, url: str, error: ErrorMessage | None = None) -> None:
        if running:
            link = f'<a href="{html.escape(url)}">{html.escape(url)}</a>'
            self.server.setText(self.tr("Server: %1").replace("%1", link))
        elif error is not None:
            self.server.setText(self.tr("Server: not running"))
        else:
            self.server.setText(self.tr("Server: stopped"))
        self.server.setToolTip(error.full() if error is not None and not running else "")

    def set_counts(self, counts: dict[str, int]) -> None:
        text = (
            self.tr("%1 files · %2 images · %3 videos · %4")
            .replace("%1", str(counts.get("all", 0)))
            .replace("%2", str(counts.get("image", 0)))
            .replace("%3", str(counts.get("video", 0)))
            .replace("%4", size_text(counts.get("bytes", 0)))
        )
        self.counts.setText(text)
