"""Paints a grid cell: the thumbnail (or a placeholder), the file name and a duration badge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPainterPath, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from desktop_app.models import Index
from desktop_app.models.file_grid_model import FileGridListModel
from desktop_app.views.jobs_dock import draw_processing_badge

CELL = QSize(208, 192)
THUMB_BOX = QSize(192, 144)
PADDING = 8


class ThumbnailDelegate(QStyledItemDelegate):
    """Fixed-size cells (the view uses uniform item sizes, so 100,000 rows lay out fast)."""

    # file id -> processing state of a video (set by the main window), for its badge
    processing_of: Callable[[int], dict[str, Any] | None] | None = None

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        return CELL

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = option.rect.adjusted(2, 2, -2, -2)
        palette = option.palette
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        if selected:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.Highlight))
            painter.drawRoundedRect(rect, 6, 6)
        elif option.state & QStyle.StateFlag.State_MouseOver:
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(palette.color(QPalette.ColorRole.AlternateBase))
            painter.drawRoundedRect(rect, 6, 6)
        if option.state & QStyle.StateFlag.State_HasFocus:
            # The keyboard's place (the grid's current file), selected or not: Ctrl+arrows move
            # it without selecting, Ctrl+Space toggles the file under it.
            role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Highlight
            painter.setPen(QPen(palette.color(role), 2))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            ring = rect.adjusted(1, 1, -1, -1) if not selected else rect.adjusted(3, 3, -3, -3)
            painter.drawRoundedRect(ring, 6, 6)
        box = QRect(
            rect.left() + (rect.width() - THUMB_BOX.width()) // 2,
            rect.top() + PADDING // 2,
            THUMB_BOX.width(),
            THUMB_BOX.height(),
        )
        pixmap = index.data(FileGridListModel.ThumbnailRole)
        painter.save()
        if isinstance(pixmap, QPixmap) and not pixmap.isNull():
            self._draw_pixmap(painter, box, pixmap)
        else:
            self._draw_placeholder(painter, box, str(index.data(FileGridListModel.FileTypeRole)))
        badge = index.data(FileGridListModel.DurationRole)
        if badge:
            self._draw_badge(painter, box, str(badge))
        processing = (
            self.processing_of(index.data(FileGridListModel.IdRole))
            if (self.processing_of is not None)
            else None
        )
        if processing:
            draw_processing_badge(painter, box, processing)
        painter.restore()
        text_rect = QRect(
            rect.left() + 4, box.bottom() + 6, rect.width() - 8, rect.bottom() - box.bottom() - 8
        )
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        painter.setPen(palette.color(role))
        name = str(index.data(FileGridListModel.NameRole) or "")
        elided = option.fontMetrics.elidedText(
            name, Qt.TextElideMode.ElideMiddle, text_rect.width()
        )
        painter.drawText(
            text_rect, int(Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop), elided
        )
        painter.restore()

    @staticmethod
    def _draw_pixmap(painter: QPainter, box: QRect, pixmap: QPixmap) -> None:
        # its size in points (a thumbnail loaded for a 200 % screen has twice the pixels)
        size = pixmap.deviceIndependentSize().toSize()
        size = size.scaled(box.size(), Qt.AspectRatioMode.KeepAspectRatio)
        target = QRect(
            box.left() + (box.width() - size.width()) // 2,
            box.top() + (box.height() - size.height()) // 2,
            size.width(),
            size.height(),
        )
        painter.drawPixmap(target, pixmap)

    @staticmethod
    def _draw_placeholder(painter: QPainter, box: QRect, file_type: str) -> None:
        # its large glyph's font is its own: left on the painter, the duration badge drawn
        # next took 0.85 of it and came out twice the size of a thumbnail tile's
        painter.save()
        try:
            ThumbnailDelegate._draw_glyph(painter, box, file_type)
        finally:
            painter.restore()

    @staticmethod
    def _draw_glyph(painter: QPainter, box: QRect, file_type: str) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(128, 128, 128, 50))
        painter.drawRoundedRect(box, 4, 4)
        painter.setPen(QColor(128, 128, 128))
        font = QFont(painter.font())
        font.setPointSizeF(font.pointSizeF() * 2.2)
        painter.setFont(font)
        glyph = "▶" if file_type == "video" else "▨"
        painter.drawText(box, int(Qt.AlignmentFlag.AlignCenter), glyph)

    @staticmethod
    def _draw_badge(painter: QPainter, box: QRect, text: str) -> None:
        font = QFont(painter.font())
        font.setBold(True)
        font.setPointSizeF(max(font.pointSizeF() * 0.85, 7.0))
        painter.setFont(font)
        text = f"▶ {text}"
        metrics = painter.fontMetrics()
        width, height = metrics.horizontalAdvance(text) + 12, metrics.height() + 4
        badge = QRect(box.right() - width - 4, box.bottom() - height - 4, width, height)
        path = QPainterPath()
        path.addRoundedRect(badge, 4, 4)
        painter.fillPath(path, QColor(0, 0, 0, 170))
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(badge, int(Qt.AlignmentFlag.AlignCenter), text)
