"""The upload queue dock: per-file stage progress, a total bar, a filter, cancel and retry."""

from __future__ import annotations

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QObject,
    QPoint,
    QRect,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QContextMenuEvent,
    QFocusEvent,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QPainter,
    QPaintEvent,
    QPalette,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
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
from desktop_app.errors import technical_text
from desktop_app.formatting import eta_text, number_text, path_text, size_text, speed_text
from desktop_app.models import Index
from desktop_app.models.upload_queue_model import UploadQueueModel, UploadState
from desktop_app.views.a11y import announce
from desktop_app.views.colors import FOCUS_FRAME, set_focus_frame
from desktop_app.views.tables import MiddleElideDelegate, select_row_alone, tab_leaves

FILTERS = ("all", "running", "failed")


# The columns' first widths; Size, Speed and ETA are as wide as their contents (_content_width)
FIRST_WIDTHS = {UploadQueueModel.NAME: 240, UploadQueueModel.PROGRESS: 190}
# Lines of text a failed row is tall enough for: its reason, wrapped (ReasonDelegate)
REASON_LINES = 2
# In a narrow dock these give way to the state, in this order, down to these widths
GIVING_WAY = ((UploadQueueModel.NAME, 120), (UploadQueueModel.PROGRESS, 100))
STATE_SHARE = (1, 3)  # of the table's width the state (a failure's reason) is given at least
SAMPLE_SIZE = 932_000_000  # "888.8 MiB": a long size, and speed, for the columns' widths
SAMPLE_ETA = 35_999  # "9:59:59"
# Failures this close together are said in one announcement ("12 uploads failed"): a disk
# pulled out fails every queued row at once
FAILURES_GATHERED_MS = 500
# The total's bar follows the bytes at most this often (ms) while no count changes: each
# upload's progress report moved it, and the bar repaints at once when its value moves
# (QProgressBar), taking with it the window's other dirty parts (the grid's tiles): a bulk
# import's thousands of reports cost the window's thread more than the files' rows. A change
# of the counts (a file done, failed, started) shows at once, as does a report after a pause.
TOTAL_SETTLE_MS = 100
# A drop's files already in the queue (UploadController.already_queued) are said under the
# summary this long, and to a screen reader
NOTICE_MS = 10_000


class QueueFilter(QSortFilterProxyModel):
    """Shows all rows, the ones still to do, or only the failures."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.mode = "all"

    def set_mode(self, mode: str) -> None:
        if mode not in FILTERS:
            raise ValueError(mode)
        if hasattr(self, "beginFilterChange"):  # Qt 6.9 on; invalidateRowsFilter is deprecated
            self.beginFilterChange()
            self.mode = mode
            self.endFilterChange(QSortFilterProxyModel.Direction.Rows)
        else:
            self.mode = mode
            self.invalidateRowsFilter()

    def filterAcceptsRow(self, row: int, parent: Index) -> bool:
        if self.mode == "all":
            return True
        model = self.sourceModel()
        state = UploadState(model.index(row, 0, parent).data(UploadQueueModel.StateRole))
        if self.mode == "failed":
            return state == UploadState.FAILED
        return state.active or state == UploadState.PAUSED  # paused rows are still to do


def progress_label(text: str, percent: int, metrics: QFontMetrics, room: int) -> str:
    """The text on a row's bar, as far as the bar's width allows: the stage and its share
    ("Comprobando el archivo 45 %"), else the share alone (the State column names the stage),
    else shortened with "…". Narrowed for a failure's reason, the bar cut it at both ends."""
    if metrics.horizontalAdvance(text) <= room:
        return text
    share = f"{percent} %"
    if percent >= 0 and text.endswith(share) and metrics.horizontalAdvance(share) <= room:
        return share
    return metrics.elidedText(text, Qt.TextElideMode.ElideRight, max(room, 0))


class ReasonDelegate(QStyledItemDelegate):
    """The State column: a failure's reason wraps onto its row's REASON_LINES lines (the row is
    that tall, UploadDock.fit_rows), ending in "…" if longer still, whole in the tooltip. On one
    line the reason was cut after its first words ("Failed: This file is not an image…")."""

    def initStyleOption(  # noqa: N802 - Qt's name
        self, option: QStyleOptionViewItem, index: Index
    ) -> None:
        super().initStyleOption(option, index)
        if index.data(UploadQueueModel.StateRole) == UploadState.FAILED.value:
            option.features |= QStyleOptionViewItem.ViewItemFeature.WrapText


class ProgressDelegate(QStyledItemDelegate):
    """Draws the progress column as a bar of the current stage (busy when it has no measure)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(3, 4, -3, -4)
        percent = int(index.data(UploadQueueModel.ProgressRole) or 0)
        bar.minimum, bar.maximum = 0, 0 if percent < 0 else 100
        bar.progress = max(percent, 0)
        text = str(index.data(UploadQueueModel.ProgressTextRole) or "")
        room = bar.rect.width() - 8  # the bar's frame and some air
        bar.text = progress_label(text, percent, option.fontMetrics, room)
        bar.textVisible = True
        bar.textAlignment = Qt.AlignmentFlag.AlignCenter
        bar.state = (
            option.state | QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        )
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter, option.widget)


class UploadTable(QTableView):
    """The queue; while it is empty it says how to fill it."""

    # the row a context menu is for and where to show it (global): the row under the pointer,
    # or the current row for the Menu key / Shift+F10
    menuRequested = Signal(QModelIndex, QPoint)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.placeholder = ""
        tab_leaves(self)
        set_focus_frame(self)  # empty, it has no row to frame: Tab reached it and showed nothing

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:
        # A mouse menu comes through the viewport, in its coordinates; a keyboard one comes to
        # the table itself, in the table's (the header's height lower): read as the viewport's,
        # it named the row below the current one (Remove acted on another file), or none.
        if event.reason() == QContextMenuEvent.Reason.Keyboard:
            index = self.currentIndex()
            if not index.isValid():
                return
            self.scrollTo(index)
            rect = self.visualRect(index)
            self.menuRequested.emit(index, self.viewport().mapToGlobal(rect.bottomLeft()))
        else:
            self.menuRequested.emit(self.indexAt(event.pos()), event.globalPos())

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt's name
        super().focusInEvent(event)
        if event.reason() != Qt.FocusReason.MouseFocusReason:
            self._current_in_sight()
        self.viewport().update()  # the row's frame (paintEvent)

    def focusOutEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt's name
        super().focusOutEvent(event)
        self.viewport().update()

    def currentChanged(self, current: Index, previous: Index) -> None:  # noqa: N802 - Qt's name
        super().currentChanged(current, previous)
        self.viewport().update()  # Qt repaints the two cells, not the rows' frames

    def _current_in_sight(self) -> None:
        """Tabbed to, the current row is one the user sees: it stayed the first row, out of
        sight once a failure had scrolled the queue, and nothing showed where the keyboard was.
        The selection is left as it is (it names what the buttons act on)."""
        current = self.currentIndex()
        if current.isValid() and self.visualRect(current).intersects(self.viewport().rect()):
            return
        top = self.indexAt(QPoint(0, 0))
        if top.isValid() and self.visualRect(top).top() < 0:  # cut at the top: the next one
            below = self.indexAt(QPoint(0, self.visualRect(top).bottom() + 1))
            top = below if below.isValid() else top
        if top.isValid():
            self.selectionModel().setCurrentIndex(top, QItemSelectionModel.SelectionFlag.NoUpdate)

    def current_row_rect(self) -> QRect:
        """The current row's rectangle in the viewport, across its columns."""
        current = self.currentIndex()
        if not current.isValid():
            return QRect()
        rect = self.visualRect(current)
        return QRect(0, rect.top(), self.viewport().width(), rect.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.hasFocus() and not (row := self.current_row_rect()).isEmpty():
            # the style frames one cell at most, faintly (Fusion: not at all): the whole row,
            # in the text's colour, shows where the keyboard is on any theme
            frame = QPainter(self.viewport())
            frame.setPen(QPen(self.palette().color(QPalette.ColorRole.Text), FOCUS_FRAME))
            half = FOCUS_FRAME // 2
            frame.drawRect(row.adjusted(half, half, -half - 1, -half - 1))
            frame.end()
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


class CountsLabel(QLabel):
    """The queue's counts on one line, broken between two counts (never inside one) when the
    label is narrower: with the paused and cancelled counts the line no longer fit beside the
    filter and the total bar, and a label keeping its one line widened the dock."""

    SEPARATOR = " · "

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._counts: list[str] = []
        self.setWordWrap(True)  # its height follows its lines; its width is what is left
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)

    def set_counts(self, counts: list[str]) -> None:
        self._counts = counts
        self._break_lines()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._break_lines()

    def _break_lines(self) -> None:
        width = self.contentsRect().width()
        metrics = self.fontMetrics()
        lines: list[str] = []
        for count in self._counts:
            joined = f"{lines[-1]}{self.SEPARATOR}{count}" if lines else count
            # room kept for the " ·" a line gets when the next count goes below it
            if lines and metrics.horizontalAdvance(joined + self.SEPARATOR.rstrip()) <= width:
                lines[-1] = joined
            elif lines:
                lines[-1] += self.SEPARATOR.rstrip()
                lines.append(count)
            else:
                lines.append(count)
        text = "\n".join(lines)
        if text != self.text():
            self.setText(text)


class UploadDock(QDockWidget):
    """Layout only; the buttons call the upload controller."""

    importFilesRequested = Signal()
    importFolderRequested = Signal()
    showInGridRequested = Signal(int)  # catalog file id of a finished row

    def __init__(self, controller: UploadController, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Uploads"), parent)
        self.setObjectName("uploads-dock")
        self.controller = controller
        self.model = controller.model
        body = QWidget(self)
        layout = QVBoxLayout(body)
        layout.setContentsMargins(6, 6, 6, 6)
        self.table = UploadTable(body)
        self.table.setAccessibleName(self.tr("Upload queue"))
        self.proxy = QueueFilter(self)
        self.proxy.setSourceModel(self.model)
        self.table.setModel(self.proxy)
        self.table.setItemDelegateForColumn(UploadQueueModel.PROGRESS, ProgressDelegate(self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)  # sentences read from the start
        self.table.setItemDelegateForColumn(UploadQueueModel.NAME, MiddleElideDelegate(self.table))
        self.table.setItemDelegateForColumn(UploadQueueModel.STATE, ReasonDelegate(self.table))
        self.table.menuRequested.connect(self._context_menu)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)  # the state, which holds a failure's reason
        # The widths the columns come back to where there is room (the user's, once dragged);
        # in a narrow dock the name and the progress give way to the state (fit_columns)
        self._preferred = dict(FIRST_WIDTHS)
        for column in (UploadQueueModel.SIZE, UploadQueueModel.SPEED, UploadQueueModel.ETA):
            self._preferred[column] = self._content_width(column)
        self._fitting = False
        for column, width in self._preferred.items():
            header.resizeSection(column, width)
        header.sectionResized.connect(self._on_section_resized)
        self.table.viewport().installEventFilter(self)
        self.fit_headers()
        footer = self._build_footer(body)
        layout.addLayout(self.summary)
        self.notice = QLabel(body)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)  # a file name may hold "<b>"
        self.notice.setWordWrap(True)  # a long name never widens the dock
        self.notice.hide()
        self._notice_timer = QTimer(self, singleShot=True, interval=NOTICE_MS)
        self._notice_timer.timeout.connect(self.notice.hide)
        controller.already_queued.connect(self._say_notice)
        controller.already_queued_rows.connect(self._show_rows)
        layout.addWidget(self.notice)
        layout.addWidget(self.table, 1)
        layout.addLayout(footer)
        # Tab in reading order: the filter above the table, the table, then the buttons (made
        # first, the table came before the filter, which Tab reached last)
        chain = [self.filter_box, self.table, *self.buttons]
        for first, second in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(first, second)
        self.setWidget(body)
        # the total last shown, as (per mille, running, states), and the one due (TOTAL_SETTLE_MS),
        # as (per mille, running)
        self._total_shown: tuple[int, int, dict[str, int]] | None = None
        self._total_due = (0, 0)
        self._total_timer = QTimer(self, singleShot=True, interval=TOTAL_SETTLE_MS)
        self._total_timer.timeout.connect(self._total_settled)
        self.model.totalProgressChanged.connect(self._on_total)
        self.model.stateChanged.connect(self._on_state)
        # What a screen reader is told: failures as they come (gathered), the uploads done at
        # the end of the batch, in one sentence however many files it had
        self._failed_now: list[int] = []
        self._done_in_batch = 0
        self._failures_due = QTimer(self, singleShot=True, interval=FAILURES_GATHERED_MS)
        self._failures_due.timeout.connect(self._announce_failures)
        controller.idle.connect(self._announce_batch)
        # a failed row is taller (its reason on two lines): rows as they come, change or show
        self.proxy.rowsInserted.connect(lambda _parent, first, last: self.fit_rows(first, last))
        self.proxy.dataChanged.connect(lambda top, end, *_: self.fit_rows(top.row(), end.row()))
        self.proxy.layoutChanged.connect(lambda *_: self.fit_rows())
        self.proxy.modelReset.connect(lambda: self.fit_rows())
        self.model.rowsInserted.connect(self._update_buttons)
        self.model.rowsRemoved.connect(self._update_buttons)
        self.table.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.dataChanged.connect(self._update_buttons)
        self._update_placeholder()
        self._on_total(0, 0)
        self._update_buttons()

    def _build_footer(self, body: QWidget) -> QHBoxLayout:
        row = QHBoxLayout()
        self.import_button = QPushButton(self.tr("Add files…"), body)
        self.folder_button = QPushButton(self.tr("Add folder…"), body)
        self.cancel_button = QPushButton(self.tr("Cancel all"), body)
        self.retry_button = QPushButton(self.tr("Retry failed"), body)
        self.pause_button = QPushButton(self.tr("Pause all"), body)
        self.pause_button.setToolTip(
            self.tr("Big files stop after the current part and go on from there when resumed.")
        )
        self.clear_button = QPushButton(self.tr("Clear finished"), body)
        self.clear_button.setToolTip(
            self.tr("Removes done, duplicate and cancelled rows; failed rows stay.")
        )
        self.filter_box = QComboBox(body)
        for text, mode in (
            (self.tr("All uploads"), "all"),
            (self.tr("Still to do"), "running"),
            (self.tr("Failed only"), "failed"),
        ):
            self.filter_box.addItem(text, mode)
        self.filter_box.setToolTip(self.tr("Which rows the queue shows"))
        self.filter_box.setAccessibleName(self.tr("Uploads shown"))  # not its value alone
        self.filter_box.currentIndexChanged.connect(
            lambda _i: self.set_filter(str(self.filter_box.currentData()))
        )
        self.total_label = CountsLabel(body)
        self.total_bar = QProgressBar(body)
        self.total_bar.setRange(0, 1000)
        self.total_bar.setMinimumWidth(160)
        # its percentage alone told a screen reader nothing of what it measures
        self.total_bar.setAccessibleName(self.tr("Overall upload progress"))
        self.buttons = (
            self.import_button,
            self.folder_button,
            self.pause_button,
            self.cancel_button,
            self.retry_button,
            self.clear_button,
        )
        for widget in self.buttons:
            row.addWidget(widget)
        row.addStretch(1)
        # Above the table: what is shown and how far the whole queue is (keeps the dock narrow).
        self.summary = QHBoxLayout()
        self.summary.addWidget(self.filter_box)
        self.summary.addWidget(self.total_label, 1)  # the room left, its text to the right
        self.summary.addWidget(self.total_bar)
        self.import_button.clicked.connect(self.importFilesRequested)
        self.folder_button.clicked.connect(self.importFolderRequested)
        self.cancel_button.clicked.connect(self._cancel_selected)
        self.retry_button.clicked.connect(self._retry_selected)
        self.pause_button.clicked.connect(self._pause_or_resume)
        self.clear_button.clicked.connect(self.controller.clear_finished)
        return row

    def fit_headers(self) -> None:
        """Widens columns whose title would be clipped (e.g. widths saved in another language);
        the widths (restored ones too) are those the columns come back to, fitted to the dock."""
        header = self.table.horizontalHeader()
        for column in range(self.model.columnCount()):
            need = self._title_width(column)
            if header.sectionSize(column) < need:
                header.resizeSection(column, need)
        self._preferred = {column: header.sectionSize(column) for column in self._preferred}
        self.fit_columns()

    def _title_width(self, column: int) -> int:
        header = self.table.horizontalHeader()
        margin = 2 * header.style().pixelMetric(header.style().PixelMetric.PM_HeaderMargin)
        bold = QFont(header.font())
        bold.setBold(True)  # titles turn bold while a row is selected
        title = str(self.model.headerData(column, Qt.Orientation.Horizontal) or "")
        return QFontMetrics(bold).horizontalAdvance(title) + margin + 8

    def _content_width(self, column: int) -> int:
        """Size, Speed and ETA: as wide as their title and a long value ("888.8 MiB/s",
        "9:59:59"), not a fixed 90 px beside a squeezed failure reason."""
        sample = {
            UploadQueueModel.SIZE: size_text(SAMPLE_SIZE),
            UploadQueueModel.SPEED: speed_text(SAMPLE_SIZE),
            UploadQueueModel.ETA: eta_text(SAMPLE_ETA),
        }[column]
        margin = 2 * (self.table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin) + 1)
        value = self.table.fontMetrics().horizontalAdvance(sample) + margin + 8
        return max(self._title_width(column), value)

    def fit_columns(self) -> None:
        """The state (a failure's reason) gets at least a third of the table: the name, then
        the progress give way, down to their least; where there is room every column has the
        width it comes back to. At 800 px a failure's reason had 63 px (Spanish) beside
        empty Speed and "Tiempo restante" columns of 90 and 123 px."""
        header = self.table.horizontalHeader()
        room = self.table.viewport().width()
        if room <= 0:
            return
        widths = dict(self._preferred)
        state = max(
            self._title_width(UploadQueueModel.STATE), room * STATE_SHARE[0] // STATE_SHARE[1]
        )
        short = sum(widths.values()) + state - room
        for column, least in GIVING_WAY:
            if short <= 0:
                break
            least = max(least, self._title_width(column))
            give = max(0, min(short, widths[column] - least))
            widths[column] -= give
            short -= give
        self._fitting = True
        try:
            for column, width in widths.items():
                if header.sectionSize(column) != width:
                    header.resizeSection(column, width)
        finally:
            self._fitting = False

    def fit_rows(self, first: int = 0, last: int | None = None) -> None:
        """Rows `first` to `last` (the table's, all by default) as tall as their text: a failed
        one REASON_LINES lines, the others the table's one line."""
        table = self.table
        one = table.verticalHeader().defaultSectionSize()
        tall = max(one, REASON_LINES * table.fontMetrics().lineSpacing() + 8)
        failed = UploadState.FAILED.value
        last = self.proxy.rowCount() - 1 if last is None else last
        for row in range(max(first, 0), last + 1):
            state = self.proxy.index(row, 0).data(UploadQueueModel.StateRole)
            height = tall if state == failed else one
            if table.rowHeight(row) != height:
                table.setRowHeight(row, height)

    def _on_section_resized(self, column: int, _old: int, new: int) -> None:
        if not self._fitting and column in self._preferred:
            self._preferred[column] = new  # the user's width: the one it comes back to

    def columns_state(self) -> QByteArray:
        """The columns for the next start, at the widths they come back to: fitted to a narrow
        window, they would start narrow on a wide one."""
        header = self.table.horizontalHeader()
        fitted = {column: header.sectionSize(column) for column in self._preferred}
        self._fitting = True
        try:
            for column, width in self._preferred.items():
                header.resizeSection(column, width)
            state = header.saveState()
            for column, width in fitted.items():
                header.resizeSection(column, width)
        finally:
            self._fitting = False
        return state

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self.fit_columns()
        return super().eventFilter(watched, event)

    # ---- filter -------------------------------------------------------------------------------
    def set_filter(self, mode: str) -> None:
        self.proxy.set_mode(mode)
        index = self.filter_box.findData(mode)
        if index != self.filter_box.currentIndex():
            self.filter_box.setCurrentIndex(index)
        self._update_placeholder()
        self._update_buttons()

    def _update_placeholder(self) -> None:
        mode = self.proxy.mode
        if mode == "failed":
            self.table.placeholder = self.tr("No failed uploads.")
        elif mode == "running":
            self.table.placeholder = self.tr("Nothing is waiting or uploading.")
        else:
            self.table.placeholder = self.tr(
                "No uploads yet. Drop photos, videos or whole folders anywhere on this window, "
                "or use Add files…\nDrop them onto an athlete in the sidebar, or while an "
                "athlete is selected, to file them under that athlete."
            )
        self.table.viewport().update()

    # ---- rows ---------------------------------------------------------------------------------
    def source_index(self, view_row: int) -> QModelIndex:
        return self.proxy.mapToSource(self.proxy.index(view_row, 0))

    def view_index(self, item_id: int) -> QModelIndex:
        row = self.model.row_of(item_id)
        if row < 0:
            return QModelIndex()
        return self.proxy.mapFromSource(self.model.index(row, 0))

    def _selected_ids(self) -> list[int]:
        rows = self.table.selectionModel().selectedRows()
        return [int(i.data(UploadQueueModel.ItemIdRole)) for i in rows]

    def _on_state(self, item_id: int, state: str) -> None:
        if state == UploadState.FAILED.value:
            index = self.view_index(item_id)  # a failure never stays out of sight
            if index.isValid():
                self.table.scrollTo(index, QAbstractItemView.ScrollHint.EnsureVisible)
            item = self.model.item(item_id)
            if item is None or (item.restored and item.started is None):
                return  # read back from the last run: already said then
            self._failed_now.append(item_id)
            if not self._failures_due.isActive():
                self._failures_due.start()
        elif state == UploadState.DONE.value:
            self._done_in_batch += 1

    def _announce_failures(self) -> None:
        failed, self._failed_now = self._failed_now, []
        item = self.model.item(failed[0]) if len(failed) == 1 else None
        if item is not None:
            text = self.tr("%1 was not uploaded: %2").replace("%1", item.name)
            text = text.replace("%2", item.reason)
        elif failed:
            text = self.tr("%Ln upload(s) failed", "", len(failed))
        else:
            return
        announce(self.table, text, assertive=True)

    def _say_notice(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()
        self._notice_timer.start()
        announce(self.table, text)

    def _show_rows(self, item_ids: list[int]) -> None:
        """Selects the rows a drop's files already had, the first one current and in sight
        (rows the filter hides stay hidden): the user sees where they are in the queue."""
        model = self.controller.model
        indexes = [
            self.proxy.mapFromSource(model.index(model.row_of(item_id), 0)) for item_id in item_ids
        ]
        indexes = [index for index in indexes if index.isValid()]
        if not indexes:
            return
        selection = QItemSelection()
        for index in indexes:
            selection.select(index, index)
        flags = QItemSelectionModel.SelectionFlag
        self.table.selectionModel().select(selection, flags.ClearAndSelect | flags.Rows)
        self.table.selectionModel().setCurrentIndex(indexes[0], flags.NoUpdate)
        self.table.scrollTo(indexes[0])

    def _announce_batch(self) -> None:
        """Every row has finished: the failures not yet said, then the files uploaded."""
        if self._failures_due.isActive():
            self._failures_due.stop()
            self._announce_failures()
        done, self._done_in_batch = self._done_in_batch, 0
        if done:
            announce(self.table, self.tr("%Ln file(s) uploaded", "", done))

    def _cancel_selected(self) -> None:
        ids = self._selected_ids()
        if not ids:
            self.controller.cancel_all()
        self.controller.cancel_many(ids)

    def _retry_selected(self) -> None:
        ids = [i for i in self._selected_ids() if self._state(i) in ("failed", "cancelled")]
        if not ids:
            self.controller.retry_failed()
        self.controller.retry_many(ids)

    def _pause_or_resume(self) -> None:
        """Pauses (or resumes) the selected rows, or all of them when none is selected."""
        ids = self._selected_ids() or [item.id for item in self.model.items()]
        states = {self._state(i) for i in ids}
        if states & {"queued", "validating", "uploading"}:
            self.controller.pause_many(ids)
        else:
            self.controller.resume_many(ids)
        self._update_buttons()

    def _state(self, item_id: int) -> str:
        item = self.model.item(item_id)
        return item.state.value if item is not None else ""

    def _update_buttons(self, *_: object) -> None:
        # Runs on every row change: reads the model's running counts, never walks the rows
        states = {self._state(i) for i in self._selected_ids()} - {""}
        counts = self.model.states()
        retryable = bool(states & {"failed", "cancelled"})
        failed = bool(counts.get("failed"))
        self.retry_button.setEnabled(retryable or failed)
        self.retry_button.setText(self.tr("Retry") if retryable else self.tr("Retry failed"))
        active = {"queued", "validating", "uploading"}
        # paused rows are still to do: Cancel takes them too (only Remove did)
        to_do = active | {"paused"}
        self.cancel_button.setEnabled(bool(states & to_do) if states else self._any_to_do())
        self.cancel_button.setText(self.tr("Cancel") if states else self.tr("Cancel all"))
        self.clear_button.setEnabled(any(UploadState(s).clearable for s in counts))
        scope = states or set(counts)
        pausing = bool(scope & active)
        self.pause_button.setEnabled(pausing or "paused" in scope)
        if states:
            self.pause_button.setText(self.tr("Pause") if pausing else self.tr("Resume"))
        else:
            self.pause_button.setText(self.tr("Pause all") if pausing else self.tr("Resume all"))

    def _any_to_do(self) -> bool:
        return bool(
            self.model.count(
                UploadState.QUEUED,
                UploadState.VALIDATING,
                UploadState.UPLOADING,
                UploadState.PAUSED,
            )
        )

    def _on_total(self, per_mille: int, running: int) -> None:
        self._total_due = (per_mille, running)
        shown = self._total_shown
        if (
            shown is not None
            and self._total_timer.isActive()
            and shown[1:] == (running, self.model.states())
        ):
            return  # only the bytes moved, a moment after the last total shown: at its end
        self._show_total()

    def _total_settled(self) -> None:
        if self._total_shown is not None and self._total_shown[0] != self._total_due[0]:
            self._show_total()

    def _show_total(self) -> None:
        per_mille, running = self._total_due
        states = self.model.states()
        self._total_shown = (per_mille, running, states)
        self._total_timer.start()  # the next bytes wait for the end of it
        # QProgressBar repaints at once when its value moves, and with it every dirty part of
        # the window (the grid's tiles, as files arrive): painted with them in the event
        # loop's next pass instead (enabled again, it asks for its update)
        self.total_bar.setUpdatesEnabled(False)
        self.total_bar.setValue(per_mille)
        self.total_bar.setUpdatesEnabled(True)
        done = states.get("done", 0) + states.get("duplicate", 0)
        failed = states.get("failed", 0)
        queued = states.get("queued", 0)
        paused, cancelled = states.get("paused", 0), states.get("cancelled", 0)
        # no plural to agree; counts grouped as everywhere else ("1,004"; Spanish from 10.000).
        # Paused and cancelled rows only when there are some: three paused uploads read as
        # "Running: 0 · Queued: 0 · Done: 0 · Failed: 23", as if nothing was left to do.
        counts = [  # (text, count, shown when 0)
            (self.tr("Running: %1"), running, True),
            (self.tr("Queued: %1"), queued, True),
            (self.tr("Paused: %1"), paused, False),
            (self.tr("Done: %1"), done, True),
            (self.tr("Failed: %1"), failed, True),
            (self.tr("Cancelled: %1"), cancelled, False),
        ]
        self.total_label.set_counts(
            [
                text.replace("%1", number_text(count))
                for text, count, always in counts
                if count or always
            ]
        )
        if not self.model.rowCount():
            # An empty queue has no total: "Total 0 %" read as a stalled upload
            self.total_bar.setFormat("")
            self.total_bar.setTextVisible(False)
            self._update_buttons()
            return
        self.total_bar.setTextVisible(True)
        if failed:
            self.total_bar.setFormat(
                self.tr("Total %1 % · %Ln failed", "", failed).replace("%1", str(per_mille // 10))
            )
        else:
            self.total_bar.setFormat(self.tr("Total %1 %").replace("%1", str(per_mille // 10)))
        self._update_buttons()

    # ---- context menu -------------------------------------------------------------------------
    def _context_menu(self, index: QModelIndex, at: QPoint) -> None:
        menu = self.build_context_menu(index)
        if menu is not None:
            menu.exec(at)

    def build_context_menu(self, index: QModelIndex) -> QMenu | None:
        """Retry, remove, show in grid and copy error for the row under the pointer; Pause,
        Resume, Retry and Remove act on every selected row when that row is one of them."""
        if not index.isValid():
            return None
        item_id = int(index.data(UploadQueueModel.ItemIdRole))
        item = self.model.item(item_id)
        if item is None:
            return None
        selection = self.table.selectionModel()
        if not selection.isRowSelected(index.row(), QModelIndex()):
            # (Shift+F10's Shift is still down: a range from the last anchor, an empty one once
            # the rows had changed, left the menu's row unselected)
            select_row_alone(self.table, index)
        # Remove from the queue took only the menu's row while the others stayed selected (three
        # failed rows selected, one went): the rows the user picked are the ones it acts on
        ids = self._selected_ids() or [item_id]
        retryable = [i for i in ids if self._state(i) in ("failed", "cancelled")]
        menu = QMenu(self.table)
        # Each item has a key of its own, in Spanish too (keyboard-only use after Shift+F10)
        if item.state == UploadState.PAUSED:
            menu.addAction(self.tr("&Resume"), lambda: self.controller.resume_many(ids))
        elif item.state.active:
            menu.addAction(self.tr("&Pause"), lambda: self.controller.pause_many(ids))
        retry = menu.addAction(self.tr("Re&try"), lambda: self.controller.retry_many(retryable))
        retry.setEnabled(bool(retryable))
        menu.addAction(self.tr("Re&move from the queue"), lambda: self.controller.remove_many(ids))
        show = menu.addAction(
            self.tr("&Show in the library"),
            lambda: self.showInGridRequested.emit(item.file_id or 0),
        )
        show.setEnabled(item.file_id is not None)
        copy = menu.addAction(self.tr("&Copy the error"), lambda: self.copy_error(item_id))
        copy.setEnabled(item.state == UploadState.FAILED)
        return menu

    def copy_error(self, item_id: int) -> None:
        item = self.model.item(item_id)
        if item is None:
            return
        lines = [path_text(item.path), item.reason]
        if item.detail:
            lines.append(technical_text(item.detail))
        QGuiApplication.clipboard().setText("\n".join(line for line in lines if line))
