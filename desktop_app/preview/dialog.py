"""Non-modal preview dialog that picks the image viewer or the video player for a record."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from core.records import FileRecord
from desktop_app.preview.image_viewer import ImageViewer

log = logging.getLogger(__name__)

DEFAULT_SIZE = (960, 640)


class PreviewDialog(QDialog):
    """Shows one catalog file; closing it stops playback and releases the media."""

    def __init__(
        self,
        record: FileRecord,
        source: str,
        parent: QWidget | None = None,
        *,
        audio: bool = True,
        autoplay: bool = True,
    ) -> None:
        super().__init__(parent)
        self.record = record
        self.source = source
        self.setWindowTitle(record.original_filename)
        self.setModal(False)
        self.setSizeGripEnabled(True)
        self.viewer: QWidget = self._make_viewer(audio, autoplay)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.viewer)
        self._resize_to_screen()
        self.viewer.setFocus()

    def _make_viewer(self, audio: bool, autoplay: bool) -> QWidget:
        if self.record.file_type == "image":
            return ImageViewer(self.source, self)
        if self.record.file_type != "video":
            return self._message(self.tr("This kind of file cannot be previewed."))
        from desktop_app import preview  # looked up at call time so tests can patch it

        if not preview.multimedia_available():
            reason = preview.multimedia_unavailable_reason() or self.tr("unknown reason")
            return self._message(
                self.tr(
                    "Video preview needs Qt Multimedia, which is not available: {reason}"
                ).format(reason=reason)
            )
        from desktop_app.preview.video_player import VideoPlayer

        player = VideoPlayer(
            self, frame_rate=self.record.frame_rate, audio=audio, autoplay=autoplay
        )
        player.load(self.source)
        return player

    def _message(self, text: str) -> QLabel:
        label = QLabel(text, self)
        label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        label.setWordWrap(True)
        label.setMargin(24)
        return label

    def message_text(self) -> str:
        """The text shown instead of a viewer, or "" when a viewer is shown."""
        return self.viewer.text() if isinstance(self.viewer, QLabel) else ""

    def _resize_to_screen(self) -> None:
        width, height = DEFAULT_SIZE
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            width = min(width, int(area.width() * 0.9))
            height = min(height, int(area.height() * 0.9))
        self.resize(width, height)

    def release(self) -> None:
        """Stop and drop any media the viewer holds."""
        release = getattr(self.viewer, "release", None)
        if callable(release):
            release()

    def done(self, result: int) -> None:
        self.release()
        super().done(result)
