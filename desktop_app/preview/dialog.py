"""Non-modal preview dialog that picks the image viewer or the video player for a record."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QLabel, QVBoxLayout, QWidget

from core.records import FileRecord
from desktop_app.preview.image_viewer import ImageViewer

logger = logging.getLogger(__name__)

DEFAULT_SIZE = (960, 640)  # when the media's size is unknown
MIN_SIZE = (480, 320)
CONTROLS_HEIGHT = 48  # the video player's control bar


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
        self._resize_to_content()
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

    def _resize_to_content(self) -> None:
        """As large as the photo or video (scaled down to 90 % of the screen), never tiny."""
        width, height = DEFAULT_SIZE
        r = self.record
        if r.width and r.height and r.file_type in ("image", "video"):
            width, height = r.width, r.height
            if r.rotation in (90, 270):
                width, height = height, width
        extra = CONTROLS_HEIGHT if r.file_type == "video" else 0
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is not None:
            area = screen.availableGeometry()
            scale = min(1.0, area.width() * 0.9 / width, (area.height() * 0.9 - extra) / height)
            width, height = int(width * scale), int(height * scale)
        self.resize(max(width, MIN_SIZE[0]), max(height + extra, MIN_SIZE[1]))

    def release(self) -> None:
        """Stop and drop any media the viewer holds."""
        release = getattr(self.viewer, "release", None)
        if callable(release):
            release()

    def done(self, result: int) -> None:
        self.release()
        super().done(result)
