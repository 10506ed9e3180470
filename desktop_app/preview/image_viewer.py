"""Image viewer: fit to window, zoom, 100 %, panning; local files or http(s) URLs."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import (
    QAction,
    QColor,
    QIcon,
    QImage,
    QKeySequence,
    QPainter,
    QPixmap,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QLabel,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from desktop_app.formatting import tip_text
from desktop_app.preview.image_loader import ImageLoader

logger = logging.getLogger(__name__)

ZOOM_STEP = 1.25
MIN_SCALE, MAX_SCALE = 0.02, 32.0


class _ImageView(QGraphicsView):
    """A graphics view that zooms on Ctrl+wheel and keeps fitting while in fit mode."""

    zoom_requested = Signal(int)  # +1 in, -1 out
    resized = Signal()

    def wheelEvent(self, event: QWheelEvent) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            delta = event.angleDelta().y()
            if delta:
                self.zoom_requested.emit(1 if delta > 0 else -1)
            event.accept()
            return
        super().wheelEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.resized.emit()


class ImageViewer(QWidget):
    """Shows one image; starts in fit mode, Ctrl+=/Ctrl+-/Ctrl+0/Ctrl+9/F, drag to pan."""

    loaded = Signal()
    failed = Signal(str)

    def __init__(self, source: str | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._image = QImage()
        self._fit = True
        self._loader = ImageLoader(self)
        self._loader.loaded.connect(self._on_loaded)
        self._loader.failed.connect(self._on_failed)
        self._loader.progress.connect(self._on_progress)
        self._loader.sharpened.connect(self._on_sharpened)

        self._scene = QGraphicsScene(self)
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self._scene.addItem(self._item)
        self._view = _ImageView(self._scene, self)
        self._view.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self._view.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self._view.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self._view.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self._view.setBackgroundBrush(QColor(32, 32, 32))
        self._view.setFrameShape(QGraphicsView.Shape.NoFrame)
        self._view.zoom_requested.connect(lambda d: self.zoom_in() if d > 0 else self.zoom_out())
        self._view.resized.connect(self._refit)

        self._message = QLabel(self.tr("Loading…"), self)
        self._message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._message.setWordWrap(True)
        self._stack = QStackedWidget(self)
        self._stack.addWidget(self._message)
        self._stack.addWidget(self._view)

        self._zoom_label = QLabel(self)
        self._toolbar = QToolBar(self)
        self._toolbar.setAccessibleName(self.tr("Image tools"))  # else a nameless "tool bar"
        self._build_actions()
        self._toolbar.addSeparator()
        self._toolbar.addWidget(self._zoom_label)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self._toolbar)
        layout.addWidget(self._stack, 1)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._update_zoom_label()
        if source is not None:
            self.load(source)

    def _build_actions(self) -> None:
        specs = [
            (
                "zoom-out",
                self.tr("Zoom out"),
                self.zoom_out,
                [QKeySequence("Ctrl+-"), QKeySequence(QKeySequence.StandardKey.ZoomOut)],
            ),
            (
                "zoom-in",
                self.tr("Zoom in"),
                self.zoom_in,
                [
                    QKeySequence("Ctrl+="),
                    QKeySequence("Ctrl++"),
                    QKeySequence(QKeySequence.StandardKey.ZoomIn),
                ],
            ),
            ("zoom-original", self.tr("100 %"), self.actual_size, [QKeySequence("Ctrl+0")]),
            (
                "zoom-fit-best",
                self.tr("Fit to window"),
                self.fit_to_window,
                [QKeySequence("Ctrl+9"), QKeySequence("F")],
            ),
        ]
        self.actions_by_name: dict[str, QAction] = {}
        for icon, text, slot, keys in specs:
            action = QAction(QIcon.fromTheme(icon), text, self)
            unique = {k.toString(): k for k in keys if not k.isEmpty()}
            action.setShortcuts(list(unique.values()))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            # the keys as the menus write them ("Control+=" in Spanish; "Ctrl+=" was Qt's
            # portable text, beside the preview's own PageUp tooltips in the native one)
            shown = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{text} ({shown})")
            action.triggered.connect(slot)
            self.addAction(action)
            self._toolbar.addAction(action)
            self.actions_by_name[icon] = action

    def show_steps(self, previous: QAction, following: QAction) -> None:
        """Puts the preview's Previous file / Next file (PageUp / PageDown) first in the toolbar."""
        first = self._toolbar.actions()[0]  # Zoom out: the toolbar is built in __init__
        self._toolbar.insertActions(first, [previous, following])
        self._steps = (previous, self._toolbar.insertSeparator(first))
        previous.changed.connect(self._show_step_separator)
        self._show_step_separator()

    def _show_step_separator(self) -> None:
        previous, separator = self._steps
        separator.setVisible(previous.isVisible())

    # -- loading ------------------------------------------------------------------------------
    def load(self, source: str) -> None:
        """Load a local path or an http(s) URL; `loaded` or `failed` follows."""
        self._image = QImage()
        self._item.setPixmap(QPixmap())
        self._show_message(self.tr("Loading…"))
        # decoded to fit the screen (a window never shows more), at full size when zoomed in
        screen = self.screen()
        self._loader.load(source, screen.size() * screen.devicePixelRatio())

    def _on_loaded(self, image: QImage) -> None:
        self._image = image
        self._item.setPixmap(QPixmap.fromImage(image))
        # a photo decoded smaller than its own size is drawn at its size: 100 % is its pixels
        full = self._loader.full_size
        self._item.setScale(full.width() / image.width() if full.isValid() else 1.0)
        self._scene.setSceneRect(self._item.sceneBoundingRect())
        self._stack.setCurrentWidget(self._view)
        self.fit_to_window()
        self.loaded.emit()

    def _on_sharpened(self, image: QImage) -> None:
        # the same photo in more pixels: the scene (the photo's own size) and the zoom stay
        self._image = image
        self._item.setPixmap(QPixmap.fromImage(image))
        self._item.setScale(self._loader.full_size.width() / image.width())

    def _on_progress(self, received: int, total: int) -> None:
        if total > 0 and self._image.isNull():
            self._message.setText(
                self.tr("Loading… {percent} %").format(percent=received * 100 // total)
            )

    def _on_failed(self, message: str) -> None:
        self._show_message(message)
        self._message.setToolTip(tip_text(self._loader.failure_detail))  # Qt's text, on demand
        self.failed.emit(message)

    def _show_message(self, text: str) -> None:
        self._message.setText(text)
        self._message.setToolTip("")
        self._stack.setCurrentWidget(self._message)

    # -- state --------------------------------------------------------------------------------
    def image(self) -> QImage:
        return self._image

    def pixmap(self) -> QPixmap:
        return self._item.pixmap()

    def message_text(self) -> str:
        return self._message.text() if self._stack.currentWidget() is self._message else ""

    def scale_factor(self) -> float:
        return self._view.transform().m11()

    def is_fit(self) -> bool:
        return self._fit

    # -- zoom ---------------------------------------------------------------------------------
    def zoom_in(self) -> None:
        self._set_scale(self.scale_factor() * ZOOM_STEP)

    def zoom_out(self) -> None:
        self._set_scale(self.scale_factor() / ZOOM_STEP)

    def actual_size(self) -> None:
        self._set_scale(1.0)

    def fit_to_window(self) -> None:
        self._fit = True
        self._refit()

    def _fit_scale(self) -> float:
        shown = self._item.sceneBoundingRect()
        if self._image.isNull() or shown.isEmpty():
            return 1.0
        area = self._view.viewport().size()
        sx = area.width() / shown.width()
        sy = area.height() / shown.height()
        return max(MIN_SCALE, min(sx, sy, 1.0))  # shrink big images, never blow up small ones

    def _refit(self) -> None:
        if self._fit:
            self._apply_scale(self._fit_scale())
            self._view.centerOn(self._item)

    def _set_scale(self, scale: float) -> None:
        self._fit = False
        self._apply_scale(max(MIN_SCALE, min(MAX_SCALE, scale)))

    def _apply_scale(self, scale: float) -> None:
        self._view.setTransform(QTransform.fromScale(scale, scale))
        self._update_zoom_label()
        # a copy decoded smaller than the photo, shown larger than its own pixels: blurred
        if scale * self._item.scale() * self.devicePixelRatioF() > 1.01:
            self._loader.sharpen()

    def _update_zoom_label(self) -> None:
        self._zoom_label.setText(
            self.tr("{percent} %").format(percent=round(self.scale_factor() * 100))
        )
