"""Non-modal preview dialog that picks the image viewer or the video player for a record."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, Qt, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QDialog, QLabel, QStyle, QVBoxLayout, QWidget

from core.records import FileRecord
from desktop_app.preview.image_viewer import ImageViewer
from desktop_app.views.colors import set_glyph

logger = logging.getLogger(__name__)

DEFAULT_SIZE = (960, 640)  # when the media's size is unknown
MIN_SIZE = (480, 320)
CONTROLS_HEIGHT = 48  # the video player's control bar


class PreviewDialog(QDialog):
    """Shows one catalog file; closing it stops playback and releases the media.

    PageUp / PageDown ask for the previous / next file (`stepRequested`); whoever opened the
    dialog answers by previewing that file (open_preview does for the main window's grid) and
    turns the two keys on with set_navigable(True).
    """

    stepRequested = Signal(int)  # -1: the previous file, +1: the next one

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
        self.previous_action = self._step_action(
            self.tr("Previous file"), Qt.Key.Key_PageUp, QStyle.StandardPixmap.SP_ArrowBack, -1
        )
        self.next_action = self._step_action(
            self.tr("Next file"), Qt.Key.Key_PageDown, QStyle.StandardPixmap.SP_ArrowForward, 1
        )
        self.quit_action = self._quit_action()
        show_steps = getattr(self.viewer, "show_steps", None)
        if callable(show_steps):  # the viewer puts them in its tool or control bar
            show_steps(self.previous_action, self.next_action)
        self.set_navigable(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.viewer)
        self._resize_to_content()
        self.viewer.setFocus()

    def _step_action(
        self, text: str, key: Qt.Key, icon: QStyle.StandardPixmap, step: int
    ) -> QAction:
        action = QAction(text, self)
        set_glyph(action, icon, self)  # in the text's colour: readable on a dark theme
        action.setShortcut(QKeySequence(key))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)  # also over the video
        shortcut = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        action.setToolTip(f"{text} ({shortcut})")
        action.triggered.connect(lambda: self.stepRequested.emit(step))
        self.addAction(action)
        return action

    def _quit_action(self) -> QAction:
        """Ctrl+Q (the platform's Quit keys) quits from here too: the preview is a window of its
        own, where the main window's Quit shortcut does not reach, and the keys did nothing."""
        action = QAction(self.tr("Quit"), self)
        keys = QKeySequence.keyBindings(QKeySequence.StandardKey.Quit)
        action.setShortcuts(keys or [QKeySequence("Ctrl+Q")])
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(self.quit_application)
        self.addAction(action)
        return action

    def quit_application(self) -> None:
        """Triggers the Quit of the window that opened the preview (it asks about uploads
        still running and keeps the layout, as from its menu); without one, quits."""
        owner = self.parentWidget()
        if owner is not None:
            for action in owner.window().findChildren(QAction):
                if action is not self.quit_action and (
                    action.menuRole() == QAction.MenuRole.QuitRole
                ):
                    action.trigger()
                    return
        QCoreApplication.quit()

    def set_navigable(self, navigable: bool) -> None:
        """Shows (and turns on the keys of) Previous file / Next file, or hides them."""
        for action in (self.previous_action, self.next_action):
            action.setVisible(navigable)
            action.setEnabled(navigable)

    def is_navigable(self) -> bool:
        return self.next_action.isEnabled()

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
        if r.display_size and r.file_type in ("image", "video"):
            width, height = r.display_size
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
