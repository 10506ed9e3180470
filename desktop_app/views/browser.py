"""The centre of the window: search box, sort order and the thumbnail grid (or an empty notice)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import (
    QAbstractItemModel,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QItemSelectionRange,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QFocusEvent, QKeyEvent, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QPushButton,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.errors import catalog_unreachable
from core.mediatypes import FileKind
from core.records import FileRecord, Sort
from desktop_app.controllers.library_controller import LibraryController
from desktop_app.models.file_grid_model import END_JUMP, FileGridListModel
from desktop_app.models.sidebar_model import SidebarFilter, SidebarModel
from desktop_app.views.grid_delegate import CELL, ThumbnailDelegate
from desktop_app.views.panes import CountLabel, ToolbarRow

LeaveGuard = Callable[[Callable[[], None], Callable[[], None]], None]


def _proceed_at_once(proceed: Callable[[], None], _cancel: Callable[[], None]) -> None:
    proceed()


def _ranges(selection: QItemSelectionModel) -> list[QItemSelectionRange]:
    """The selection as its ranges of rows: a few, where its items may be thousands."""
    ranges = selection.selection()
    return [ranges.at(i) for i in range(ranges.count())]


# the grid lays its items out on a timer of its own: checks of its scroll range wait this long
LAYOUT_SETTLE_MS = 50
RETURN_WAIT_MS = 3000  # how long the files Ctrl+Z puts back are waited for (select_on_return)
# the count beside the search box has room for this many digits at least ("8,888 files"): a
# library's count seldom grows past them, and the search box keeps its width meanwhile
COUNT_DIGITS = 4

_NAVIGATION_KEYS = frozenset(
    {
        Qt.Key.Key_Up,
        Qt.Key.Key_Down,
        Qt.Key.Key_Left,
        Qt.Key.Key_Right,
        Qt.Key.Key_Home,
        Qt.Key.Key_End,
        Qt.Key.Key_PageUp,
        Qt.Key.Key_PageDown,
    }
)
# moves towards the rows still to load: one that could not move for want of them is made again
# once they come
_ONWARD_KEYS = frozenset({Qt.Key.Key_Down, Qt.Key.Key_PageDown, Qt.Key.Key_Right})
_CHORD = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.ShiftModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


class FileGridView(QListView):
    """The thumbnail grid: a plain arrow, Home or End always leaves its file selected.

    Qt gives the grid a current file without selecting it when it takes the focus (and keeps one
    after Ctrl+arrows moved the focus alone): an arrow that cannot move on (one file, or Home on
    the first) then selected nothing, and the file looked unreachable.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._keep_current = False  # in sight before a resize: so after the new layout
        self._relaying = False  # in a resize or layout of Qt's: its scrolling is not a move
        # a key that could not move on for want of the next page: (where it was, key, modifiers)
        self._stuck: tuple[QPersistentModelIndex, int, Qt.KeyboardModifier] | None = None
        self.verticalScrollBar().valueChanged.connect(self._scrolled)

    def setModel(self, model: QAbstractItemModel | None) -> None:  # noqa: N802 - Qt's name
        super().setModel(model)
        if model is not None:
            model.rowsInserted.connect(self._rows_came)

    def _scrolled(self, _value: int) -> None:
        # scrolled since the resize (the user, or the grid keeping its place as rows come in
        # above): left there. Brought back to the current file by the resize's late layout, a
        # scroll to the top right after End and a resize of the details panel jumped back down.
        if not self._relaying:
            self._keep_current = False

    def current_in_sight(self, shown: QRect | None = None) -> bool:
        current = self.currentIndex()
        shown = self.viewport().rect() if shown is None else shown
        return current.isValid() and shown.intersects(self.visualRect(current))

    # Narrowed from three columns to two, the grid kept its pixel offset and the current file,
    # on screen before, was scrolled out of sight. Qt lays the files out again 100 ms after a
    # resize (doItemsLayout): whether it was in sight is read against the size before it.
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        if not self._keep_current and event.oldSize().isValid():
            self._keep_current = self.current_in_sight(QRect(QPoint(0, 0), event.oldSize()))
        self._relaying = True
        try:
            super().resizeEvent(event)
        finally:
            self._relaying = False

    def doItemsLayout(self) -> None:  # noqa: N802 - Qt's name
        self._relaying = True
        try:
            super().doItemsLayout()
        finally:
            self._relaying = False
        if self._keep_current:
            self._keep_current = False
            if (current := self.currentIndex()).isValid():
                self.scrollTo(current)

    def focusInEvent(self, event: QFocusEvent) -> None:  # noqa: N802 - Qt's name
        """Tabbed into with nothing selected, the grid selects its current file (Qt makes the
        first one current): it showed a focus ring on a file the details panel did not show
        ("Select a file…") and Return previewed nothing. A click selects as it always did,
        and a selection already made is kept."""
        super().focusInEvent(event)
        if event.reason() not in (Qt.FocusReason.TabFocusReason, Qt.FocusReason.BacktabFocusReason):
            return
        model, selection = self.model(), self.selectionModel()
        if model is None or selection is None or selection.hasSelection() or not model.rowCount():
            return
        current = self.currentIndex()
        if not current.isValid():
            current = model.index(0, 0)
        selection.setCurrentIndex(current, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def moveCursor(  # noqa: N802 - Qt's name
        self, cursor_action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        """PageUp and PageDown move by the rows of tiles the viewport holds, in the same column.
        Qt's page step is the viewport's height less one tile's, and a tile (the delegate's
        size hint) is nearly a grid cell: every page moved one row, as Down does."""
        move = QAbstractItemView.CursorAction
        if cursor_action not in (move.MovePageUp, move.MovePageDown):
            return super().moveCursor(cursor_action, modifiers)
        model, current = self.model(), self.currentIndex()
        rows = model.rowCount() if model is not None else 0
        if model is None or not rows:
            return QModelIndex()
        if not current.isValid():
            return model.index(0, 0)
        self.executeDelayedItemsLayout()  # (rows just come in: their places first)
        columns = self._columns()
        page = max(1, self.viewport().height() // max(1, self.gridSize().height()))
        line, column = divmod(current.row(), columns)
        if cursor_action == move.MovePageUp:
            return model.index(max(0, line - page) * columns + column, 0)
        last_line = (rows - 1) // columns
        if line + page > last_line and self._more_to_load():
            # stays: the page is asked for (`_load_ahead`) and the key made again when it comes,
            # so it lands a whole page on, not on the last loaded row
            return current
        return model.index(min(min(line + page, last_line) * columns + column, rows - 1), 0)

    def _columns(self) -> int:
        """Tiles on a row: those laid out level with the first (the layout fills rows from it)."""
        model = self.model()
        if model is None:
            return 1
        top = self.rectForIndex(model.index(0, 0)).top()
        columns = 1
        while (
            columns < model.rowCount() and self.rectForIndex(model.index(columns, 0)).top() == top
        ):
            columns += 1
        return columns

    def _more_to_load(self) -> bool:
        model = self.model()
        if model is None:
            return False
        loading = isinstance(model, FileGridListModel) and model.loading
        return loading or model.canFetchMore(QModelIndex())

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 - Qt's name
        before = QPersistentModelIndex(self.currentIndex())
        self._stuck = None
        super().keyPressEvent(event)
        if event.key() in _NAVIGATION_KEYS:
            self._load_ahead(event, before)
        if event.key() not in _NAVIGATION_KEYS or event.modifiers() & _CHORD:
            return
        current = self.currentIndex()
        selection = self.selectionModel()
        if current.isValid() and not selection.isSelected(current):
            selection.setCurrentIndex(current, QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def _load_ahead(self, event: QKeyEvent, before: QPersistentModelIndex) -> None:
        """Asks for the next page when a key leaves the current file within a screen of the
        last loaded one. Qt asks only when the last loaded file shows or the scroll bar hits
        its end, as the wheel does: PageDown in a column the last, shorter row of tiles does
        not reach stopped a row above it, with neither, and never went on. A key that could
        not move on is made again when the page comes (`_rows_came`)."""
        model = self.model()
        current = self.currentIndex()
        rows = model.rowCount() if model is not None else 0
        if model is None or not rows or not current.isValid():
            return
        last = self.visualRect(model.index(rows - 1, 0))
        if last.bottom() - self.visualRect(current).bottom() > self.viewport().height():
            return
        if model.canFetchMore(QModelIndex()):
            model.fetchMore(QModelIndex())
        elif not (isinstance(model, FileGridListModel) and model.loading):
            return  # every row is loaded (or the page failed: the grid says so)
        if current == before and event.key() in _ONWARD_KEYS:
            self._stuck = (before, event.key(), event.modifiers())

    def _rows_came(self, *_: object) -> None:
        if self._stuck is not None:
            # after the insertion, once the view has its new rows
            QTimer.singleShot(0, self, self._move_on)

    def _move_on(self) -> None:
        stuck, self._stuck = self._stuck, None
        # (not if the user moved meanwhile: a click, another key)
        if stuck is not None and stuck[0].isValid() and stuck[0] == self.currentIndex():
            self.keyPressEvent(QKeyEvent(QEvent.Type.KeyPress, stuck[1], stuck[2]))


class EmptyNotice(QWidget):
    """What an empty grid says, with buttons for the ways out it names: a notice alone left a
    user who had trashed every file before an empty window pointing nowhere."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.label = QLabel(self)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # a search's words, an athlete's name
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.label.setMargin(32)
        self.show_trash = QPushButton(self.tr("Show the &trash"), self)
        self.undo = QPushButton(self)
        self.clear_search = QPushButton(self.tr("&Clear the search"), self)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        for button in (self.show_trash, self.undo, self.clear_search):
            button.hide()
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(self.label)
        layout.addLayout(buttons)
        layout.addStretch(2)

    def text(self) -> str:
        return self.label.text()


class FileBrowser(QWidget):
    """Layout and wiring; the controller owns the model, the query and the selection record.

    Moving to another file, search or sort order goes through `leave_guard(proceed, cancel)`,
    which the main window sets to ask about unsaved edits first.
    """

    activated = Signal(object)  # FileRecord double-clicked
    selectionCountChanged = Signal(int)  # how many files are selected in the grid
    # Select all took the loaded files only (more than END_JUMP still to load, or End jumped
    # over the rows before): (files selected, files in the view)
    selectAllLimited = Signal(int, int)

    def __init__(self, controller: LibraryController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.leave_guard: LeaveGuard = _proceed_at_once
        self._restoring = False
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self._build_toolbar())
        self.stack = QStackedWidget(self)
        # set before it is wired: its slots and event filter read `self.grid` from the start
        self.grid = FileGridView(self)
        self.grid.setAccessibleName(self.tr("Files"))
        self._wire_grid()
        self.empty = EmptyNotice(self)
        # the window's commands the notice names, as its menus do (name_commands)
        self._import_command = self._refresh_command = ""
        self.undo_trash: QAction | None = None  # the window's Undo, offered when all is trashed
        self.empty_trash: QToolButton | None = None  # the trash view's Empty trash… button
        self.empty.show_trash.clicked.connect(self._show_trash)
        self.empty.undo.clicked.connect(self._undo_trash)
        self.empty.clear_search.clicked.connect(self.clear_search)
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
        # A reload (F5, a new query) resets the rows and Qt drops the selection with them: the
        # files selected before are selected again when the first rows arrive.
        self._reselect: tuple[int | None, list[int]] | None = None
        # A search's results may hold none of the files selected: when it is cleared, what was
        # selected at its start comes back (Esc lost the selection), or instead of files that
        # are not in the whole view.
        self._before_search: tuple[int | None, list[int]] | None = None
        self._reselect_else: tuple[int | None, list[int]] | None = None
        # the selection to restore while the grid loads the pages up to its file (`reveal`)
        self._reselect_at: (
            tuple[tuple[int | None, list[int]], tuple[int | None, list[int]] | None] | None
        ) = None
        self._seeking = False  # the grid loads its pages up to that file
        model.modelAboutToBeReset.connect(self._remember_selection)
        model.loadingChanged.connect(self._stop_seeking_later)
        model.rowsInserted.connect(self._restore_selection)
        model.loadingChanged.connect(self._forget_selection_later)
        self._selection_count = 0
        self._count_pending = False  # a count of the selection is queued (_count_selection_later)
        for signal in (model.modelReset, model.rowsRemoved, model.layoutChanged):
            signal.connect(self._count_selection_later)
        # A selected file that goes away (trashed, deleted, moved out of the view) leaves the
        # file now in its place selected, as file managers do: Delete, Delete trashes two.
        model.rowsRemoved.connect(self._select_in_place)
        # A selected file whose edit sorts it past the loaded rows is still in the view: its
        # selection does not go to the file in its place (Delete would trash that one); the
        # grid loads the pages up to it and selects it again, as a file manager follows it.
        self._left: tuple[int, tuple[int | None, list[int]]] | None = None
        model.rowLeaving.connect(self._note_leaving)
        controller.filterChanged.connect(self._update_empty)
        # the trash's count (off the GUI thread) tells an emptied library from a new one
        controller.countsChanged.connect(self._update_empty)
        controller.filterChanged.connect(self._forget_before_search)
        # Another view starts at its top (a file selected again there is scrolled to): its
        # rows go at once, but Qt lays the grid out again on a timer, and a first page that
        # came before that kept the old offset (the Trash opened with its first row cut)
        controller.filterChanged.connect(self._start_at_top)
        controller.searchChanged.connect(self._show_search)
        controller.revealReady.connect(self.reveal)
        # The files Ctrl+Z puts back (select_on_return): selected again and scrolled to as
        # their rows come back with the change feed; they came back unselected, the grid
        # wherever the insertions above its rows left it (its top row cut in half). Forgotten
        # after RETURN_WAIT_MS or another view, so a row loaded later never takes the selection.
        self._returning: list[int] = []
        self._returning_ends = QTimer(self, singleShot=True, interval=RETURN_WAIT_MS)
        self._returning_ends.timeout.connect(self._returning.clear)
        model.modelAboutToBeReset.connect(self._returning.clear)
        model.rowsInserted.connect(self._returned_later)
        self._update_empty()

    def _build_toolbar(self) -> ToolbarRow:
        self.search = QLineEdit(self)
        # a placeholder is no name: screen readers said only "edit" once it held a search
        self.search.setAccessibleName(self.tr("Search"))
        self.search.setAcceptDrops(False)
        self.search.setClearButtonEnabled(True)
        # Qt's clear button had no name: a screen reader said only "button"
        clear_search = self.search.findChild(QAction, "_q_qlineeditclearaction")
        if clear_search is not None:
            clear_search.setText(self.tr("Clear the search"))
        self._search_timer = QTimer(self, singleShot=True, interval=250)
        self._search_timer.timeout.connect(self._apply_search)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.search.returnPressed.connect(self._apply_search)
        clear = QShortcut(QKeySequence(Qt.Key.Key_Escape), self.search)
        clear.setContext(Qt.ShortcutContext.WidgetShortcut)
        clear.activated.connect(self.clear_search)
        # whether the search box has the focus because the view emptied under the grid's
        # (_update_empty), not because the user went there: see eventFilter's Ctrl+Z
        self._search_focus_given = False
        self.search.textEdited.connect(self._search_focus_taken)
        self.search.installEventFilter(self)
        self.sort = QComboBox(self)
        labels = {
            Sort.NEWEST: self.tr("Newest first"),
            Sort.OLDEST: self.tr("Oldest first"),
            # short: the box is as wide as its longest label, which sets the window's least
            # width (the item's tooltip says it whole)
            Sort.TAKEN_NEWEST: self.tr("Shot: newest"),
            Sort.TAKEN_OLDEST: self.tr("Shot: oldest"),
            Sort.NAME: self.tr("Name A–Z"),
            Sort.NAME_DESC: self.tr("Name Z–A"),
            Sort.LARGEST: self.tr("Largest first"),
            Sort.SMALLEST: self.tr("Smallest first"),
            Sort.LONGEST: self.tr("Longest first"),
            Sort.SHORTEST: self.tr("Shortest first"),
            Sort.RECENTLY_EDITED: self.tr("Recent edits"),
            Sort.EDITED_FIRST: self.tr("Oldest edits"),
        }
        taken = self.tr(
            "By date taken: when each photo or video was shot (its camera's date); a file "
            "without one, when it was uploaded"
        )
        for sort in Sort:  # core's orders, in its order; only the labels live here
            self.sort.addItem(labels[sort], sort.value)
            if sort in (Sort.TAKEN_NEWEST, Sort.TAKEN_OLDEST):
                self.sort.setItemData(self.sort.count() - 1, taken, Qt.ItemDataRole.ToolTipRole)
        self.sort.currentIndexChanged.connect(self._apply_sort)
        self.sort.setToolTip(self.tr("Sort by date, name, size, duration or last edit"))
        self.total = CountLabel(self)
        self.controller.grid.totalChanged.connect(self._update_total)
        self.controller.countsChanged.connect(self._update_total)
        self.controller.grid.loadingChanged.connect(self._update_total)  # (a page failed)
        sort_label = QLabel(self.tr("Sort:"), self)
        # its name was its value ("Newest first"); the label steps aside on a narrow window
        self.sort.setAccessibleName(self.tr("Sort"))
        sort_label.setBuddy(self.sort)
        # the search box keeps its width at 1024 px; the labels step aside for it (panes.py)
        self.toolbar = ToolbarRow(
            [self.search, sort_label, self.sort, self.total], yielding=[sort_label, self.total]
        )
        return self.toolbar

    def _wire_grid(self) -> None:
        grid = self.grid
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
        # Connected before setModel, which connects the view's own slots: Qt calls a signal's
        # slots in the order they were connected, and the view's drop the removed rows from
        # the selection (whether one was had would always read False after them).
        self._had_selection = False
        self._match_pending = False  # a _match_selection is queued (_on_selection)
        self._focus_row: int | None = None  # where the focus goes once the rows are gone
        self.controller.grid.rowsAboutToBeRemoved.connect(self._note_selection)
        self.controller.currentGone.connect(self._on_current_gone)
        grid.setModel(self.controller.grid)
        grid.selectionModel().currentChanged.connect(self._on_current)
        grid.selectionModel().selectionChanged.connect(self._on_selection)
        grid.doubleClicked.connect(self._on_activated)  # not `activated`: single-click styles
        grid.installEventFilter(self)
        self._end_pending = self._home_pending = self._end_extends = False
        self._select_all_pending = False
        model = self.controller.grid
        model.reachedEnd.connect(self._on_reached_end)
        model.modelAboutToBeReset.connect(self._forget_select_all)
        # After End jumped to the last rows: scrolling to the top loads the rows before, and
        # the files on screen stay where they were while rows are put in above them.
        self._anchor: int | None = None
        # scrolled down, the file in sight and its height on screen while rows are put in above
        self._held: tuple[int, int] | None = None
        grid.verticalScrollBar().valueChanged.connect(self._load_before_if_at_top)
        model.rowsAboutToBeInserted.connect(self._remember_place)
        model.rowsInserted.connect(self._keep_place)
        # a renamed file moves to its place in the order: the current one, if it was on
        # screen, stays in sight (renamed with F2, it went off screen, out of mind)
        self._follow_current = False
        model.rowsAboutToBeMoved.connect(self._note_current_in_sight)
        model.rowsMoved.connect(self._keep_current_in_sight)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), grid)
        escape.setContext(Qt.ShortcutContext.WidgetShortcut)
        escape.activated.connect(self.clear_search)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """End goes to the last file of the library, not of the loaded pages; Home to the first
        one, when End jumped over the rows before. Ctrl+Home and Ctrl+End are Home and End: they
        select the file they go to, alone (Ctrl+arrows move the focus without selecting).
        Ctrl+A selects every file of the view, not only the pages loaded so far."""
        if watched is self.search:
            if event.type() == QEvent.Type.FocusOut:
                self._search_focus_taken()
            # Ctrl+Z in a search box that has the focus only because Move to trash emptied the
            # view is the window's Undo move to trash: the box took it and undid its last
            # typing (the view changed, the files stayed in the trash), while Edit showed Undo
            # move to trash. Once the user types there or leaves, the key is the box's again.
            return (
                event.type() == QEvent.Type.ShortcutOverride
                and isinstance(event, QKeyEvent)
                and event.matches(QKeySequence.StandardKey.Undo)
                and self._search_focus_given
                and self.undo_trash is not None
                and self.undo_trash.isEnabled()
            )  # filtered and not accepted: the shortcut goes to the window's action
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and watched is self.grid
            and event.matches(QKeySequence.StandardKey.SelectAll)
        ):
            self.select_all()
            return True
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and watched is self.grid
            and event.key() in (Qt.Key.Key_Home, Qt.Key.Key_End)
        ):
            ctrl = Qt.KeyboardModifier.ControlModifier
            if event.modifiers() & ctrl:
                # Qt moves only the focus on Ctrl+Home/End: the file selected before stayed
                # selected, off screen, and Delete trashed it too
                event.setModifiers(event.modifiers() & ~ctrl)
            shift = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
            model = self.controller.grid
            if event.key() == Qt.Key.Key_End:
                if shift and model.complete and not model.has_before:
                    return False  # Qt extends the selection from its anchor
                self.go_to_end(extend=shift)
                return True
            if model.has_before:
                self.go_to_start()
                return True
        return super().eventFilter(watched, event)

    def select_all(self) -> None:
        """Edit ▸ Select all (Ctrl+A in the grid): every file of the view."""
        if not self._select_all():
            self.grid.selectAll()
            model = self.controller.grid
            if not model.complete and model.total > model.rowCount():
                # "5,000 files selected" of 60,000 looked like all of them, and Delete or Move
                # to trash then acted on those alone: said where the user looks next
                self.selectAllLimited.emit(model.rowCount(), model.total)

    def _select_all(self) -> bool:
        """True when Ctrl+A is taken care of here: the rest of the view is loaded first (Qt
        selected the loaded pages only: "101 files selected" of 1,004, and Delete trashed
        those). Past END_JUMP files still to load, or after End jumped over the rows before,
        Qt's Ctrl+A selects the loaded ones."""
        model = self.controller.grid
        if model.complete or model.has_before or model.total - model.rowCount() > END_JUMP:
            return False
        self._select_all_pending = True
        model.fetch_all()
        return True

    def _forget_select_all(self) -> None:
        self._select_all_pending = False  # another section or search: not what Ctrl+A meant

    def go_to_start(self) -> None:
        self._home_pending = True
        # the files shown stay until the first page comes, as on F5 (dropped at once, the grid
        # blinked blank, and stayed blank with an error in a catalog outage)
        self.controller.grid.refresh()

    def _load_before_if_at_top(self, *_: object) -> None:
        bar = self.grid.verticalScrollBar()
        if bar.value() <= bar.minimum() + bar.singleStep() and self.controller.grid.has_before:
            self.controller.grid.fetch_previous()

    def _load_before_if_it_fits(self) -> None:
        if self.grid.verticalScrollBar().maximum() <= 0 and self.controller.grid.has_before:
            self.controller.grid.fetch_previous()

    def _remember_place(self, _parent: QModelIndex, first: int, _last: int) -> None:
        self._anchor = self._held = None
        model = self.controller.grid
        if first == 0 and model.has_before and model.rowCount() > 0:
            top = self.grid.indexAt(QPoint(CELL.width() // 2, CELL.height() // 2))
            record = self.controller.grid.record_at(top.row()) if top.isValid() else None
            self._anchor = record.id if record is not None else None
            return
        # Qt keeps the scroll offset in pixels: rows put in above the screen (an import in
        # "newest first") slid every file down under the user, the selected one off screen.
        # Scrolled down, the file in sight stays where it is; at the very top new files show
        # up where they land, as before.
        bar = self.grid.verticalScrollBar()
        if bar.value() <= bar.minimum() or model.rowCount() == 0:
            return
        shown = self.grid.viewport().rect()
        held = self.grid.currentIndex()
        if (
            not held.isValid()
            or held.row() < first
            or not shown.intersects(self.grid.visualRect(held))
        ):
            held = self.grid.indexAt(QPoint(CELL.width() // 2, CELL.height() // 2))
        if held.isValid() and held.row() >= first:
            record = model.record_at(held.row())
            if record is not None:
                self._held = (record.id, self.grid.visualRect(held).top())

    def _keep_place(self, *_: object) -> None:
        model = self.controller.grid
        if self._home_pending and model.rowCount() and not model.has_before:
            self._home_pending = False
            self.select_row(0)
            self.grid.scrollToTop()
            return
        anchor, self._anchor = self._anchor, None
        if anchor is not None and (row := model.row_of(anchor)) >= 0:
            self.grid.scrollTo(model.index(row), QAbstractItemView.ScrollHint.PositionAtTop)
            QTimer.singleShot(LAYOUT_SETTLE_MS, self, self._load_before_if_it_fits)
        held, self._held = self._held, None
        if held is not None and (row := model.row_of(held[0])) >= 0:
            # (visualRect lays the new rows out first: the scroll range has them)
            moved = self.grid.visualRect(model.index(row)).top() - held[1]
            bar = self.grid.verticalScrollBar()
            bar.setValue(bar.value() + moved)

    def _note_current_in_sight(self, *_: object) -> None:
        self._follow_current = self.grid.current_in_sight()

    def _keep_current_in_sight(self, *_: object) -> None:
        if self._follow_current and (current := self.grid.currentIndex()).isValid():
            self.grid.scrollTo(current)
        self._follow_current = False

    def go_to_end(self, extend: bool = False) -> None:
        """Selects the last file alone; with `extend` (Shift+End) the selection grows to it."""
        model = self.controller.grid
        self._end_extends = extend
        if model.complete:
            self._select_last()
        else:
            self._end_pending = True
            model.fetch_all()

    def _on_reached_end(self) -> None:
        if self._end_pending:
            self._end_pending = False
            self._select_last()
        if self._select_all_pending:
            self._select_all_pending = False
            if self.controller.grid.complete:
                self.grid.selectAll()
        # the last rows may fit on screen with no scroll bar to pull up: load the ones before
        # (after the view laid them out: its layout runs on a timer of its own)
        QTimer.singleShot(LAYOUT_SETTLE_MS, self, self._load_before_if_it_fits)

    def _select_last(self) -> None:
        model = self.controller.grid
        rows = model.rowCount()
        if not rows:
            return
        if self._end_extends and model.complete and not model.has_before:
            # all rows loaded (none jumped over): Qt's Shift+End, from its selection anchor
            self.grid.keyPressEvent(
                QKeyEvent(QEvent.Type.KeyPress, Qt.Key.Key_End, Qt.KeyboardModifier.ShiftModifier)
            )
        else:
            # not QListView.setCurrentIndex: the Ctrl of Ctrl+End, still held, made it toggle
            # the last file into the selection (select_row selects it alone)
            self.select_row(rows - 1)
        self.grid.scrollTo(model.index(rows - 1))

    def clear_search(self) -> None:
        """Esc: back to the whole section (after the unsaved-edit guard)."""
        if self.search.text():
            self.search.clear()
            self._apply_search()

    # ---- selection ----------------------------------------------------------------------------
    def selected_records(self) -> list[FileRecord]:
        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        records = [self.controller.grid.record_at(r) for r in rows]
        return [r for r in records if r is not None]

    def selected_ids(self) -> list[int]:
        return [r.id for r in self.selected_records()]

    def _on_current(self, current: object, _previous: object) -> None:
        if self._restoring:
            return
        record = self.controller.grid.data(current, FileGridListModel.RecordRole)  # type: ignore[arg-type]
        if record is None:
            return
        # The details follow the selection, not the focus: a move that selects nothing (Ctrl+arrow,
        # or Qt focusing the grid's first row when a dialog closes) leaves the panel alone.
        if not self.grid.selectionModel().isSelected(current):  # type: ignore[arg-type]
            return
        shown = self.controller.current
        if shown is not None and shown.id == record.id:
            self.controller.set_current(record)
        else:
            self.leave_guard(lambda: self._show(record.id), self._back_to_shown)

    def _remember_selection(self) -> None:
        if self._reselect_at is not None:  # another reload: it remembers the selection anew
            self._reselect_at = None
            self.controller.drop_reveal()
        selection = self._selection()
        if selection is None:
            return  # e.g. a second reload before the rows came back: keep the first's
        self._reselect = selection

    def _selection(self) -> tuple[int | None, list[int]] | None:
        """The selected files and which of them is shown (or current), if any is selected."""
        ids = self.selected_ids()
        if not ids:
            return None
        shown = self.controller.current
        current = self.controller.grid.record_at(self.grid.currentIndex().row())
        if shown is not None and shown.id in ids:
            current_id: int | None = shown.id
        else:
            current_id = current.id if current is not None and current.id in ids else None
        return (current_id, ids)

    def _start_at_top(self, *_: object) -> None:
        self.grid.verticalScrollBar().setValue(0)

    def _forget_before_search(self, *_: object) -> None:
        self._before_search = None  # another section: its selection is not this one's

    def _forget_selection_later(self, loading: bool) -> None:
        # A page came back without rows (an empty result): the remembered selection must not
        # wait for some later, unrelated insertion (a page's rows are in before it says so).
        if not loading:
            QTimer.singleShot(0, self, self._forget_selection)

    def _forget_selection(self) -> None:
        if not self.controller.grid.loading:
            lost = self._reselect is not None
            self._reselect = self._reselect_else = None
            if lost:
                self._match_selection()  # nothing to select again: nor to show

    def _restore_selection(self, *_: object) -> None:
        pending, self._reselect = self._reselect, None
        fallback, self._reselect_else = self._reselect_else, None
        if pending is None:
            return
        current_id, ids = pending
        key = current_id if current_id is not None else ids[0]
        if self.controller.grid.row_of(key) < 0:
            # it may sort past the rows loaded so far (the grid pages): decided once this
            # page is in (its total comes after its rows)
            self._reselect_at, self._seeking = (pending, fallback), False
            QTimer.singleShot(0, self, self._seek_selection)
            return
        self._apply_selection(pending, fallback)

    def _seek_selection(self, key: int | None = None) -> None:
        """The file to select again (`key`, else the current or first one) is not loaded: the
        grid loads its pages up to it (in workers; `reveal` then selects it), or, with every
        row loaded, it is not in the view."""
        if self._reselect_at is None:
            return
        (current_id, ids), _fallback = self._reselect_at
        if key is None:
            key = current_id if current_id is not None else ids[0]
        model = self.controller.grid
        if model.row_of(key) < 0 and not model.complete and not model.has_before:
            self.controller.reveal_in_view(key)
            if model.seeking:
                self._seeking = True
                return
        pending, fallback = self._reselect_at
        self._reselect_at = None
        self._apply_selection(pending, fallback)

    def _stop_seeking_later(self, loading: bool) -> None:
        if not loading:  # after the page's rows, which `reveal` may have selected
            QTimer.singleShot(0, self, self._stop_seeking)

    def _stop_seeking(self) -> None:
        """The pages stopped short of the file (not in the view, or too far): what else was
        selected and is loaded, or the selection from before the search, is selected."""
        model = self.controller.grid
        if self._reselect_at is None or not self._seeking or model.loading or model.seeking:
            return
        waiting, self._reselect_at, self._seeking = self._reselect_at, None, False
        self._apply_selection(*waiting)

    def _apply_selection(
        self,
        pending: tuple[int | None, list[int]],
        fallback: tuple[int | None, list[int]] | None,
    ) -> None:
        current_id, ids = pending
        model = self.controller.grid
        rows = [r for r in (model.row_of(i) for i in ids) if r >= 0]
        if not rows and fallback is not None:
            current_id, ids = fallback
            rows = [r for r in (model.row_of(i) for i in ids) if r >= 0]
        if not rows:
            # none of them is in the view now (gone while its change did not reach this
            # window): the details panel, which showed one, showed a file not selected
            self._match_selection()
            return
        flags = QItemSelectionModel.SelectionFlag
        items = QItemSelection()
        for row in rows:
            items.select(model.index(row), model.index(row))
        self._restoring = True  # the same files: no guard, no new details
        try:
            selection = self.grid.selectionModel()
            row = model.row_of(current_id) if current_id is not None else -1
            if row >= 0:
                selection.setCurrentIndex(model.index(row), flags.NoUpdate)
            selection.select(items, flags.ClearAndSelect)
        finally:
            self._restoring = False
        # The details panel may have moved while the rows were away (a file picked meanwhile, or
        # cleared): it follows the restored selection through the usual guard.
        self._match_selection()

    def _note_selection(self, _parent: QModelIndex, first: int, last: int) -> None:
        self._had_selection = self.grid.selectionModel().hasSelection()
        current = self.grid.currentIndex().row()
        self._focus_row = first if first <= current <= last else None

    def _note_leaving(self, file_id: int) -> None:
        selection = self._selection()
        if selection is not None and file_id in selection[1] and self._reselect_at is None:
            self._left = (file_id, selection)

    def _select_in_place(self, *_: object) -> None:
        had, self._had_selection = self._had_selection, False
        row, self._focus_row = self._focus_row, None
        left, self._left = self._left, None
        if left is not None:
            file_id, selected = left
            self._reselect_at, self._seeking = (selected, None), False
            QTimer.singleShot(0, self, lambda: self._seek_selection(file_id))
            return
        selection = self.grid.selectionModel()
        count = self.controller.grid.rowCount()
        if row is not None and count:
            # Qt moves the focus to the file before the removed ones; the one that took their
            # place is the one a file manager goes on with (the last file when they were last).
            index = self.controller.grid.index(min(row, count - 1))
            selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.NoUpdate)
        current = self.grid.currentIndex()
        if had and current.isValid() and not selection.hasSelection():
            # through the usual path (the details panel follows, after the guard)
            self.grid.selectionModel().select(
                current, QItemSelectionModel.SelectionFlag.ClearAndSelect
            )

    def _on_current_gone(self, _event: object) -> None:
        """The file being edited was trashed or deleted elsewhere and stays in the details
        panel: the neighbour selected in its place (_select_in_place) is let go, or it took
        the panel (and the typing) or asked about the edits in the middle of it."""
        self._restoring = True
        try:
            self.grid.selectionModel().clearSelection()
        finally:
            self._restoring = False

    def _count_selection_later(self, *_: object) -> None:
        # One count for a burst of changes: each batch of a bulk trash removes rows and drops
        # them from the selection, and a count queued per signal ran several times a batch.
        if not self._count_pending:
            self._count_pending = True
            QTimer.singleShot(0, self, self._count_selection)  # after the selection caught up

    def _count_selection(self) -> None:
        self._count_pending = False
        # Summed over the selection's ranges, not its items: selectedIndexes() asks the model
        # for each selected row's flags, and over 5,000 selected files each count took the
        # GUI thread tens of milliseconds. Every row of the grid is selectable, so the sums agree.
        count = sum(r.height() * r.width() for r in _ranges(self.grid.selectionModel()))
        if count != self._selection_count:
            self._selection_count = count
            self.selectionCountChanged.emit(count)

    def offscreen_selected(self) -> list[FileRecord]:
        """The selected files the user cannot see: scrolled away (or less than half of the tile
        on screen), or the grid not shown at all."""
        model = self.controller.grid
        shown = self.grid.isVisible() and self.stack.currentWidget() is self.grid
        area = self.grid.viewport().rect()

        def seen(row: int) -> bool:
            tile = self.grid.visualRect(model.index(row))
            part = tile.intersected(area)
            return 2 * part.height() >= tile.height() and 2 * part.width() >= tile.width()

        rows = sorted(i.row() for i in self.grid.selectionModel().selectedIndexes())
        hidden = [model.record_at(row) for row in rows if not shown or not seen(row)]
        return [r for r in hidden if r is not None]

    def _on_selection(self, *_: object) -> None:
        self._count_selection_later()
        if not self._restoring:
            # The user chose while a reload was under way: their choice wins over the old one.
            if self.grid.selectionModel().hasSelection():
                self._reselect = None
                if self._reselect_at is not None:  # nor the file the grid still loads up to
                    self._reselect_at = None
                    self.controller.drop_reveal()
            # After the current-index change of the same click has been handled; one pending
            # call covers every change until it runs (it reads the selection as it is then).
            if not self._match_pending:
                self._match_pending = True
                QTimer.singleShot(0, self, self._match_selection_later)

    def _match_selection_later(self) -> None:
        self._match_pending = False
        self._match_selection()

    def _match_selection(self) -> None:
        """The details panel shows a selected file or none: never one that is not selected.

        The file with the focus frame, when selected, is the one shown (as in digiKam or
        Finder): Shift+click and Shift+arrows select a range and focus its far end, whose
        currentChanged came before the selection did (`_on_current` let it pass), and the
        details stayed on the anchor while the frame was on the file just clicked.
        """
        if self._restoring:
            return
        shown = self.controller.current
        selection = self.grid.selectionModel()
        model = self.controller.grid
        current = self.grid.currentIndex()
        shown_row = model.row_of(shown.id) if shown is not None else -1
        # the focused file if selected, else the one shown if still selected, else the first.
        # Asked of the selection's ranges, not a list of its items: this runs after every batch
        # of a bulk trash, and listing 5,000 selected files each time froze the window.
        row: int | None = current.row()
        if not current.isValid() or not selection.isSelected(current):
            if shown_row >= 0 and selection.isSelected(model.index(shown_row)):
                row = shown_row
            else:
                row = min((r.top() for r in _ranges(selection)), default=None)
        if row is not None and row == shown_row:
            return
        record = model.record_at(row) if row is not None else None
        if record is None:
            if shown is not None and shown_row < 0 and self.controller.has_unsaved_edits(shown.id):
                return  # gone elsewhere, kept with its edits (_on_current_gone)
            if shown is not None:
                self.leave_guard(lambda: self.controller.set_current(None), self._back_to_shown)
        else:
            self.leave_guard(lambda: self.controller.set_current(record), self._back_to_shown)

    def _show(self, file_id: int) -> None:
        """Makes a file current (after the guard, which may have asked the user first)."""
        record = self.controller.grid.record(file_id)
        if record is None:
            return
        self.controller.set_current(record)
        index = self.controller.grid.index(self.controller.grid.row_of(file_id))
        if self.grid.currentIndex() != index:
            self._select_quietly(index)

    def _back_to_shown(self) -> None:
        """Cancelled: the selection goes back to the file the details panel shows."""
        shown = self.controller.current
        row = self.controller.grid.row_of(shown.id) if shown is not None else -1
        self._select_quietly(self.controller.grid.index(row) if row >= 0 else QModelIndex())

    def _select_quietly(self, index: QModelIndex) -> None:
        self._restoring = True
        try:
            selection = self.grid.selectionModel()
            if index.isValid():
                selection.setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            else:
                selection.clear()
        finally:
            self._restoring = False

    def _apply_search(self) -> None:
        self._search_timer.stop()  # Return applies at once: no second, delayed request
        text = self.search.text()
        if text.strip() == self.controller.search.strip():
            return
        self.leave_guard(lambda: self._search(text), self._restore_search)

    def _search(self, text: str) -> None:
        searching, cleared = bool(self.controller.search.strip()), not text.strip()
        if not searching:
            self._before_search = self._selection()
        elif cleared:
            # the file selected now, else (none, or not in the whole view) the one before
            before, self._before_search = self._before_search, None
            now = self._selection()
            self._reselect, self._reselect_else = (now, before) if now else (before, None)
        self.controller.set_search(text)

    def _show_search(self, text: str) -> None:
        self._search_timer.stop()
        self.search.blockSignals(True)
        self.search.setText(text)
        self.search.blockSignals(False)

    def reveal(self, file_id: int) -> None:
        """Selects a loaded file and scrolls to it (the guard already ran)."""
        row = self.controller.grid.row_of(file_id)
        if row < 0:
            return
        waiting, self._reselect_at, self._seeking = self._reselect_at, None, False
        if waiting is not None and file_id in waiting[0][1]:
            self._apply_selection(*waiting)  # the files selected before the reload, all of them
        else:
            self._show(file_id)
        self._scroll_to(file_id)
        # rows just put in are laid out on the grid's timer, which may scroll it back
        QTimer.singleShot(LAYOUT_SETTLE_MS, self, lambda: self._scroll_to(file_id))

    def select_on_return(self, file_ids: list[int]) -> None:
        """Selects these files (trashed, being restored) as their rows come back."""
        self._returning[:] = file_ids
        self._returning_ends.start()

    def _returned_later(self, *_: object) -> None:
        if self._returning:  # after the insertion's other handlers (the place kept in sight)
            QTimer.singleShot(0, self, self._select_returned)

    def _select_returned(self) -> None:
        model = self.controller.grid
        rows = sorted(r for r in (model.row_of(i) for i in self._returning) if r >= 0)
        if not rows:
            return
        if len(rows) == len(self._returning):
            self._returning.clear()  # all back: a later insertion leaves the selection alone
        first = model.record_at(rows[0])
        ids = [r.id for r in (model.record_at(row) for row in rows) if r is not None]
        self._apply_selection((first.id if first is not None else None, ids), None)
        self._scroll_whole(rows[0])
        # rows just put in are laid out on the grid's timer, which may scroll it back
        QTimer.singleShot(LAYOUT_SETTLE_MS, self, lambda: self._scroll_whole(rows[0]))

    def _scroll_whole(self, row: int) -> None:
        """Scrolls row `row` into sight whole, at the top when it was not: no row cut."""
        if row >= self.controller.grid.rowCount():
            return
        index = self.controller.grid.index(row)
        if not self.grid.viewport().rect().contains(self.grid.visualRect(index)):
            self.grid.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtTop)

    def _scroll_to(self, file_id: int) -> None:
        row = self.controller.grid.row_of(file_id)
        if row >= 0:
            self.grid.scrollTo(self.controller.grid.index(row))

    def _restore_search(self) -> None:
        self._search_timer.stop()
        self.search.blockSignals(True)
        self.search.setText(self.controller.search)
        self.search.blockSignals(False)

    def _apply_sort(self, *_: object) -> None:
        sort = str(self.sort.currentData())
        if sort == self.controller.sort:
            return
        self.leave_guard(lambda: self.controller.set_sort(sort), self._restore_sort)

    def show_sort(self) -> None:
        """Shows the controller's sort order (e.g. the one remembered from the last session)."""
        self._restore_sort()

    def _restore_sort(self) -> None:
        self.sort.blockSignals(True)
        self.sort.setCurrentIndex(max(0, self.sort.findData(self.controller.sort)))
        self.sort.blockSignals(False)

    def _on_activated(self, index: object) -> None:
        record = self.controller.grid.data(index, FileGridListModel.RecordRole)  # type: ignore[arg-type]
        if record is not None:
            self.activated.emit(record)

    def select_row(self, row: int) -> None:
        """Selects exactly this row and makes it current (the keyboard's state plays no part:
        QListView.setCurrentIndex would toggle it while a Ctrl key is held)."""
        index = self.controller.grid.index(row)
        self.grid.selectionModel().setCurrentIndex(
            index, QItemSelectionModel.SelectionFlag.ClearAndSelect
        )

    # ---- empty notice -------------------------------------------------------------------------
    def _update_total(self, *_: object) -> None:
        """The controller's count, as in the sidebar and status bar; the grid's while searching."""
        # room for the largest count any view shows (the library's or the trash's), and never
        # less than COUNT_DIGITS: the search box keeps its width from view to view and as files
        # come and go
        counts = self.controller.counts
        largest = max(counts.get("all", 0), counts.get("trash", 0), self.controller.grid.total)
        digits = max(COUNT_DIGITS, len(str(largest)))
        self.total.make_room(self.tr("%Ln file(s)", "", int("8" * digits)))
        count = self.controller.view_count()
        if count is None:
            model = self.controller.grid
            if model.failed is not None and model.rowCount() == 0:
                self.total.setText("")  # the catalog did not answer: no count, not "0 files"
                return
            count = model.total
        self.total.setText(self.tr("%Ln file(s)", "", count))

    def _update_empty(self, *_: object) -> None:
        model = self.controller.grid
        # A first page that did not arrive is no empty answer ("No files match", "No photos
        # yet" while the sidebar said 300): the notice says why instead, also while it is
        # asked again.
        unlisted = model.failed is not None and model.rowCount() == 0
        # While the first page loads the (empty) grid stays: no flash of the notice. So while
        # the counts that say why it is empty (the trash) are on their way, where they do: the
        # trash's and a search's notice say the same whatever they are, and waiting for them
        # left the empty trash blank, no notice, for as long as changes made elsewhere kept
        # the counts coming (every 250 ms while another desktop imported)
        empty = unlisted or (
            model.rowCount() == 0
            and model.loaded
            and not model.loading
            and not (self.controller.counts_pending and self._counts_say_why())
        )
        failed = model.failed
        self.empty.label.setText(
            self.unlisted_text(failed) if failed is not None and unlisted else self.empty_text()
        )
        trashed = not unlisted and self.all_in_trash_count() > 0
        undo = self.undo_trash
        self.empty.show_trash.setVisible(trashed)
        self.empty.undo.setVisible(trashed and undo is not None and undo.isEnabled())
        if undo is not None:
            self.empty.undo.setText(undo.text())
        self.empty.clear_search.setVisible(bool(self.controller.search.strip()))
        grid_focused = self.grid.hasFocus()
        self.stack.setCurrentWidget(self.empty if empty else self.grid)
        if empty and grid_focused:
            # The stack gives the focus to the notice, which shows none: after Delete
            # permanently of the trash's last file the keys went nowhere in sight. The search
            # box is the one field left (the notice's buttons act at once on Enter or Space).
            self.search.setFocus(Qt.FocusReason.OtherFocusReason)
            self._search_focus_given = True

    def _search_focus_taken(self, *_: object) -> None:
        """The user typed in the search box, or left it: its Ctrl+Z is its own again."""
        self._search_focus_given = False

    def name_commands(self, import_files: str, refresh: str) -> None:
        """How the notice names the window's Import and Refresh ("File ▸ Import files…
        (Ctrl+I)": actions.command_name), not in words and keys of its own."""
        self._import_command, self._refresh_command = import_files, refresh
        self._update_empty()

    def offer_undo(self, action: QAction) -> None:
        """The window's Undo move to trash, offered on the notice while it can put files back."""
        self.undo_trash = action
        action.changed.connect(self._update_empty)

    def offer_empty_trash(self, action: QAction) -> None:
        """The window's Empty trash…, as a button at the end of the trash view's header row
        (enabled as the action is: not on an empty trash)."""
        button = QToolButton(self)
        button.setDefaultAction(action)
        button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        button.setObjectName("empty-trash")
        self.empty_trash = button
        self.toolbar.add_widget(button)

        def show(*_: object) -> None:
            keyboard_on_it = button.hasFocus()
            button.setVisible(self.controller.filter.section == "trash")
            if keyboard_on_it and button.isHidden():
                # not the next control in the tab order, where Qt would put it: the files
                self.grid.setFocus(Qt.FocusReason.OtherFocusReason)

        self.controller.filterChanged.connect(show)
        show()

    def _counts_say_why(self) -> bool:
        """Whether the counts change what this view's empty notice says (all_in_trash_count)."""
        return not self.controller.search.strip() and self.controller.filter.section != "trash"

    def all_in_trash_count(self) -> int:
        """How many files are in the trash when nothing else is left (else 0): of the view's
        kind in Images and Videos (photos all trashed while videos remain), of the library in
        the other sections. The catalog's counts, which a worker brings in; none while
        searching or in the trash."""
        counts = self.controller.counts
        section = self.controller.filter.section
        if not self._counts_say_why() or not counts:
            return 0
        if section == "athlete":
            # the athlete's own trash: other athletes' files say nothing of this one's
            if self.controller.view_count():
                return 0
            return self.controller.athlete_trash_count()
        kind = section if section in (FileKind.IMAGE, FileKind.VIDEO) else "all"
        if counts.get(kind, 0) > 0:
            return 0
        return counts.get("trash" if kind == "all" else f"trash_{kind}", 0)

    def _show_trash(self) -> None:
        def show() -> None:
            self.controller.set_filter(SidebarFilter("trash"))
            # The focused button hid with the notice and Qt handed the keyboard to the next
            # control, the sort box: Home, arrows and Ctrl+R did nothing. The trash's files
            # are what the user came for.
            self.grid.setFocus(Qt.FocusReason.OtherFocusReason)

        self.leave_guard(show, lambda: None)

    def _undo_trash(self) -> None:
        if self.undo_trash is not None:
            self.undo_trash.trigger()

    def _athlete_name(self) -> str:
        index = self.controller.sidebar.index_of(self.controller.filter.key)
        return str(index.data(SidebarModel.NameRole) or "") if index.isValid() else ""

    def unlisted_text(self, exc: BaseException) -> str:
        """What the grid says when its first page did not arrive."""
        if catalog_unreachable(exc):
            return self.tr(
                "The files cannot be listed: the catalog (database) cannot be reached right "
                "now.\n\nThey are listed by themselves once it is back."
            )
        return self.tr("The files could not be listed.\n\nTry again with %1.").replace(
            "%1", self._refresh_command
        )

    def empty_text(self) -> str:
        """What an empty view says: why it is empty and how to fill it."""
        flt, search = self.controller.filter, self.controller.search.strip()
        if search:
            return self.tr("No files match “%1”.").replace("%1", search)
        if (trashed := self.all_in_trash_count()) and flt.section == FileKind.IMAGE:
            # not "No photos yet": the user trashed them, and they are there
            return self.tr(
                "All %Ln photo(s) of the library are in the trash.\n\nShow the trash to "
                "restore them, or drop new photos anywhere on this window.",
                "",
                trashed,
            )
        if trashed and flt.section == FileKind.VIDEO:
            return self.tr(
                "All %Ln video(s) of the library are in the trash.\n\nShow the trash to "
                "restore them, or drop new videos anywhere on this window.",
                "",
                trashed,
            )
        if trashed and flt.section == "athlete":
            return self.tr(
                "All %Ln file(s) of %1 are in the trash.\n\nShow the trash to restore them, "
                "or drop new files anywhere on this window while %1 is selected.",
                "",
                trashed,
            ).replace("%1", self._athlete_name())
        if trashed:
            # not "No files here yet": the user emptied the library, and the files are there
            return self.tr(
                "All %Ln file(s) of the library are in the trash.\n\nShow the trash to restore "
                "them, or drop new photos and videos anywhere on this window.",
                "",
                trashed,
            )
        if flt.section == "trash":
            days = self.controller.library.settings.trash_retention_days
            text = self.tr("The trash is empty.")
            if days > 0:
                text += "\n\n" + self.tr(
                    "Files you move to the trash stay here for %Ln day(s) before they are "
                    "deleted for good.",
                    "",
                    days,
                )
            return text
        if flt.section == "public":
            return self.tr(
                "No public files.\n\nTick “Public” in the details of a file to share it with "
                "anyone who has its link."
            )
        if flt.section == "athlete":
            return self.tr(
                "No photos or videos of %1 yet.\n\nDrop files anywhere on this window while "
                "%1 is selected: they are filed under %1."
            ).replace("%1", self._athlete_name())
        if flt.section == "image":
            return self.tr(
                "No photos yet.\n\nDrop photos or whole folders anywhere on this window, or use %1."
            ).replace("%1", self._import_command)
        if flt.section == "video":
            return self.tr(
                "No videos yet.\n\nDrop videos or whole folders anywhere on this window, or use %1."
            ).replace("%1", self._import_command)
        return self.tr(
            "No files here yet.\n\nDrop photos, videos or whole folders anywhere "
            "on this window, or use %1."
        ).replace("%1", self._import_command)
