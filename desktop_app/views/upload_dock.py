"""The upload queue dock: a table with per-file progress bars, a total bar, cancel and retry."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from desktop_app.controllers.upload_controller import UploadController
from desktop_app.models.upload_queue_model import UploadQueueModel


class ProgressDelegate(QStyledItemDelegate):
    """Draws the progress column as a progress bar."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(3, 4, -3, -4)
        bar.minimum, bar.maximum = 0, 100
        bar.progress = int(index.data(UploadQueueModel.ProgressRole) or 0)
        bar.text = f"{bar.progress} %"
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.state = (
            option.state | QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        )
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


class UploadTable(QTableView):
    """The queue; while it is empty it says how to fill it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.placeholder = ""

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        model = self.model()
        if model is None or model.rowCount() > 0 or not self.placeholder:
            return
        painter = QPainter(self.viewport())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        painter.drawText(
            self.viewport().rect().adjusted(16, 8, -16, -8),
            int(Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap),
            self.placeholder,
        )
        painter.end()


class UploadDock(QDockWidget):
    """Layout only; the buttons call the upload controller."""

    importFilesRequested = Signal()
    importFolderRequested = Signal()

    def __init__(self, controller: UploadController, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Uploads"), parent)
        self.setObjectName("uploads-dock")
        self.controller = controller
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        self.table = UploadTable(body)
        self.table.placeholder = self.tr(
            "No uploads yet. Drop photos, videos or whole folders anywhere on this window, or "
            "use Add files…\nFiles dropped while an athlete is selected in the sidebar are "
            "filed under that athlete."
        )
        self.table.setModel(controller.model)
        self.table.setItemDelegateForColumn(UploadQueueModel.PROGRESS, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        for column, width in (
            (UploadQueueModel.NAME, 240),
            (UploadQueueModel.SIZE, 80),
            (UploadQueueModel.PROGRESS, 140),
            (UploadQueueModel.SPEED, 90),
            (UploadQueueModel.ETA, 60),
        ):
            header.resizeSection(column, max(width, header.sectionSizeHint(column)))
        layout.addWidget(self.table, 1)
        layout.addLayout(self._build_footer(body))
        self.setWidget(body)
        controller.model.totalProgressChanged.connect(self._on_total)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        controller.model.dataChanged.connect(self._update_buttons)
        self._on_total(0, 0)
        self._update_buttons()

    def _build_footer(self, body: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        self.import_button = QPushButton(self.tr("Add files…"), body)
        self.folder_button = QPushButton(self.tr("Add folder…"), body)
        self.cancel_button = QPushButton(self.tr("Cancel"), body)
        self.retry_button = QPushButton(self.tr("Retry"), body)
        self.clear_button = QPushButton(self.tr("Clear finished"), body)
        self.total_label = QLabel(body)
        self.total_bar = QProgressBar(body)
        self.total_bar.setRange(0, 1000)
        self.total_bar.setFormat(self.tr("Total %p%"))
        self.total_bar.setMinimumWidth(160)
        for widget in (
            self.import_button,
            self.folder_button,
            self.cancel_button,
            self.retry_button,
            self.clear_button,
        ):
            row.addWidget(widget)
        row.addStretch(1)
        row.addWidget(self.total_label)
        row.addWidget(self.total_bar)
        self.import_button.clicked.connect(self.importFilesRequested)
        self.folder_button.clicked.connect(self.importFolderRequested)
        self.cancel_button.clicked.connect(self._cancel_selected)
        self.retry_button.clicked.connect(self._retry_selected)
        self.clear_button.clicked.connect(self.controller.clear_finished)
        return row

    def _selected_ids(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows()
        return [int(i.data(UploadQueueModel.ItemIdRole)) for i in rows]

    def _cancel_selected(self) -> None:
        ids = self._selected_ids()
        if not ids:
            self.controller.cancel_all()
        for item_id in ids:
            self.controller.cancel(item_id)

    def _retry_selected(self) -> None:
        for item_id in self._selected_ids():
            self.controller.retry(item_id)

    def _update_buttons(self, *_: object) -> None:
        states = {
            self.controller.model.item(i).state.value  # type: ignore[union-attr]
            for i in self._selected_ids()
            if self.controller.model.item(i)
        }
        self.retry_button.setEnabled(bool(states & {"failed", "cancelled"}))
        active = {"queued", "validating", "uploading"}
        self.cancel_button.setEnabled(bool(states & active) if states else self._any_active())
        self.cancel_button.setText(self.tr("Cancel") if states else self.tr("Cancel all"))

    def _any_active(self) -> bool:
        return any(item.state.active for item in self.controller.model.items())

    def _on_total(self, per_mille: int, active: int) -> None:
        self.total_bar.setValue(per_mille)
        states = self.controller.model.states()
        done = states.get("done", 0) + states.get("duplicate", 0)
        failed = states.get("failed", 0)
        text = self.tr("Active: %1 · Done: %2 · Failed: %3")  # no agreement to get wrong
        self.total_label.setText(
            text.replace("%1", str(active)).replace("%2", str(done)).replace("%3", str(failed))
        )
        self._update_buttons()
