"""The centre of the window: search box, sort order and the thumbnail grid (or an empty notice)."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from core.records import FileRecord
from desktop_app.controllers.library_controller import LibraryController
from desktop_app.models.file_grid_model import FileGridListModel
from desktop_app.views.grid_delegate import CELL, ThumbnailDelegate


class FileBrowser(QWidget):
    """Layout and wiring; the controller owns the model, the query and the selection record."""

    activated = Signal(object)  # FileRecord double-clicked

    def __init__(self, controller: LibraryController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(self._build_toolbar())
        self.stack = QStackedWidget(self)
        self.grid = self._build_grid()
        self.empty = QLabel(self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setMargin(32)
        self.stack.addWidget(self.grid)
        self.stack.addWidget(self.empty)
        layout.addWidget(self.stack, 1)
        model = controller.grid
        for signal in (
            model.rowsInserted,
            model.rowsRemoved,
            model.modelReset,
            model.loadingChanged,
        ):
            signal.connect(self._update_empty)
        controller.filterChanged.connect(self._update_empty)
        self._update_empty()

    def _build_toolbar(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 4)
        self.search = QLineEdit(self)
        self.search.setAcceptDrops(False)
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(self.tr("Search file names and descriptions (Ctrl+F)"))
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(lambda: self.controller.set_search(self.search.text()))
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.search.returnPressed.connect(lambda: self.controller.set_search(self.search.text()))
        self.sort = QComboBox(self)
        for text, sort in (
            (self.tr("Newest first"), "-created_at"),
            (self.tr("Oldest first"), "created_at"),
            (self.tr("Name A–Z"), "original_filename"),
            (self.tr("Name Z–A"), "-original_filename"),
            (self.tr("Largest first"), "-size"),
            (self.tr("Smallest first"), "size"),
            (self.tr("Longest first"), "-duration"),
            (self.tr("Shortest first"), "duration"),
        ):
            self.sort.addItem(text, sort)
        self.sort.currentIndexChanged.connect(
            lambda _: self.controller.set_sort(str(self.sort.currentData()))
        )
        self.sort.setToolTip(self.tr("Sort by date, name, size or duration"))
        self.total = QLabel(self)
        self.controller.grid.totalChanged.connect(self._on_total)
        row.addWidget(self.search, 1)
        row.addWidget(QLabel(self.tr("Sort:"), self))
        row.addWidget(self.sort)
        row.addWidget(self.total)
        return row

    def _build_grid(self) -> QListView:
        grid = QListView(self)
        grid.setViewMode(QListView.ViewMode.IconMode)
        grid.setMovement(QListView.Movement.Static)
        grid.setResizeMode(QListView.ResizeMode.Adjust)
        grid.setUniformItemSizes(True)
        grid.setWrapping(True)
        grid.setSpacing(4)
        grid.setGridSize(QSize(CELL.width() + 4, CELL.height() + 4))
        grid.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        grid.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        grid.setDragEnabled(False)
        grid.setAcceptDrops(False)
        grid.setMouseTracking(True)
        grid.setItemDelegate(ThumbnailDelegate(grid))
        grid.setModel(self.controller.grid)
        grid.selectionModel().currentChanged.connect(self._on_current)
        grid.selectionModel().selectionChanged.connect(self._on_selection)
        grid.doubleClicked.connect(self._on_activated)  # not `activated`: single-click styles
        return grid

    # ---- selection ----------------------------------------------------------------------------
    def selected_records(self) -> list[FileRecord]:
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        records = [self.controller.grid.record_at(r) for r in rows]
        return [r for r in records if r is not None]

    def selected_ids(self) -> list[int]:
        return [r.id for r in self.selected_records()]

    def _on_current(self, current: object, _previous: object) -> None:
        record = self.controller.grid.data(current, FileGridListModel.RecordRole)  # type: ignore[arg-type]
        if record is not None:
            self.controller.set_current(record)

    def _on_selection(self, *_: object) -> None:
        if not self.grid.selectionModel().hasSelection():
            self.controller.set_current(None)

    def _on_activated(self, index: object) -> None:
        record = self.controller.grid.data(index, FileGridListModel.RecordRole)  # type: ignore[arg-type]
        if record is not None:
            self.activated.emit(record)

    def select_row(self, row: int) -> None:
        index = self.controller.grid.index(row)
        self.grid.setCurrentIndex(index)

    # ---- empty notice -------------------------------------------------------------------------
    def _on_total(self, total: int) -> None:
        self.total.setText(self.tr("%n file(s)", "", total))

    def _update_empty(self, *_: object) -> None:
        model = self.controller.grid
        empty = model.rowCount() == 0 and not model.loading
        if self.controller.search.strip():
            text = self.tr("No files match “%1”.").replace("%1", self.controller.search.strip())
        elif self.controller.filter.section == "trash":
            text = self.tr("The trash is empty.")
        else:
            text = self.tr(
                "No files here yet.\n\nDrop photos, videos or whole folders anywhere "
                "on this window, or use File ▸ Import… (Ctrl+I)."
            )
        self.empty.setText(text)
        self.stack.setCurrentWidget(self.empty if empty else self.grid)
