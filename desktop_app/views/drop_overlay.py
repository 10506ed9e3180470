"""The drop overlay: while files are dragged over the window, says where they will be filed."""

from __future__ import annotations

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPalette, QPen
from PySide6.QtWidgets import QWidget


class DropOverlay(QWidget):
    """A tint over the whole window with a message; highlights the athlete row under the pointer.

    It never takes the drag itself (transparent for the mouse): the main window handles the
    drag events and tells the overlay what the drop would do.
    """

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setAcceptDrops(False)
        self.title = ""
        self.detail = ""
        self.target = QRect()  # the highlighted drop target, in this widget's coordinates
        self.hide()

    def show_over(self, title: str, detail: str, target: QRect | None = None) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
        changed = (title, detail, target or QRect()) != (self.title, self.detail, self.target)
        self.title, self.detail, self.target = title, detail, target or QRect()
        if not self.isVisible():
            self.show()
            self.raise_()
        elif changed:
            self.update()

    def paintEvent(self, _event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        tint = QColor(accent)
        tint.setAlpha(40)
        painter.fillRect(self.rect(), tint)
        pen = QPen(accent, 3, Qt.PenStyle.DashLine)
        painter.setPen(pen)
        painter.drawRoundedRect(QRectF(self.rect()).adjusted(6, 6, -6, -6), 12, 12)
        if not self.target.isNull():
            fill = QColor(accent)
            fill.setAlpha(110)
            painter.setPen(QPen(accent, 2))
            painter.setBrush(fill)
            painter.drawRoundedRect(QRectF(self.target).adjusted(1, 1, -1, -1), 4, 4)
        self._paint_message(painter, accent)
        painter.end()

    def _paint_message(self, painter: QPainter, accent: QColor) -> None:
        title_font = QFont(self.font())
        title_font.setPointSizeF(max(title_font.pointSizeF(), 9.0) * 1.6)
        title_font.setBold(True)
        detail_font = QFont(self.font())
        detail_font.setPointSizeF(max(detail_font.pointSizeF(), 9.0) * 1.1)
        width = min(self.width() - 80, 560)
        box = QRect(0, 0, width, 120)
        box.moveCenter(self.rect().center())
        background = self.palette().color(QPalette.ColorRole.Window)
        background.setAlpha(235)
        painter.setPen(QPen(accent, 2))
        painter.setBrush(background)
        painter.drawRoundedRect(QRectF(box), 10, 10)
        painter.setPen(self.palette().color(QPalette.ColorRole.WindowText))
        painter.setFont(title_font)
        flags = int(Qt.AlignmentFlag.AlignHCenter | Qt.TextFlag.TextWordWrap)
        painter.drawText(box.adjusted(16, 18, -16, -60), flags, self.title)
        painter.setFont(detail_font)
        painter.drawText(box.adjusted(16, 64, -16, -10), flags, self.detail)
