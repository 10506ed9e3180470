"""The main window: sidebar, thumbnail grid, details panel, upload and server docks, status bar."""

from __future__ import annotations

import html
import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from urllib.parse import unquote_to_bytes

import shiboken6
from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QElapsedTimer,
    QEvent,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QPersistentModelIndex,
    QPoint,
    QRect,
    QSettings,
    QSize,
    QStandardPaths,
    Qt,
    QTimer,
    QUrl,
)
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QKeySequence,
    QMouseEvent,
    QShortcut,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QDialog,
    QDockWidget,
    QFileDialog,
    QHeaderView,
    QMainWindow,
    QMessageBox,
    QStyle,
    QTreeView,
    QWidget,
)

from core.filenames import fit_bytes
from core.fsmodes import (
    PRIVATE_DIR_MODE,
    PRIVATE_FILE_MODE,
    make_dirs,
    set_file_mode,
    tighten_dir,
)
from core.library import Library
from core.listing import SORTS
from core.records import FileRecord, FileStatus
from core.settings import Settings
from core.text import folded
from desktop_app.controllers.library_controller import LibraryController, RenameRefused
from desktop_app.controllers.server_controller import ServerController
from desktop_app.controllers.settings_controller import (
    LIVE_FIELDS,
    RESTART_FIELDS,
    SettingsController,
    restart_kinds,
)
from desktop_app.controllers.upload_controller import UploadController
from desktop_app.errors import ErrorMessage
from desktop_app.formatting import number_text
from desktop_app.models.file_grid_model import END_JUMP
from desktop_app.models.sidebar_model import SidebarFilter, SidebarModel
from desktop_app.models.upload_queue_model import UploadState
from desktop_app.resources import app_icon, app_version
from desktop_app.team import attach as attach_team
from desktop_app.views.actions import build_actions, build_menus, command_name
from desktop_app.views.browser import FileBrowser
from desktop_app.views.colors import ink_dock_buttons, set_focus_frame
from desktop_app.views.confirm import confirm_irreversible, names_text
from desktop_app.views.details_panel import SAVE_KEYS, DetailsPanel
from desktop_app.views.drop_overlay import DropOverlay
from desktop_app.views.jobs_dock import JobsDock, ProcessingLine, ProcessingStates
from desktop_app.views.keyboard_menu import install_shift_f10
from desktop_app.views.message_box import ask_text, open_warning, plain_text
from desktop_app.views.panes import SIDEBAR_MIN_WIDTH, MainSplitter, grid_width
from desktop_app.views.server_panel import ServerPanel
from desktop_app.views.status_bar import MainStatusBar
from desktop_app.views.storage_banner import StorageProblemBar
from desktop_app.views.storage_switch import backend_title
from desktop_app.views.storage_view import StorageView
from desktop_app.views.upload_dock import UploadDock
from desktop_app.workers import TaskRunner

logger = logging.getLogger(__name__)

STATE_VERSION = 1  # of the saved dock layout; bump when the docks change
# the bottom docks' first height (tab bar included), a quarter of the window: at least the
# queue's buttons and a few rows (Qt keeps it above the tabbed docks' own minimum, ≈ 220 px),
# at most what 1440 px of screen gives it
DOCK_MIN_HEIGHT, DOCK_MAX_HEIGHT = 180, 360
FIRST_GRID = 2  # the grid's columns and rows whole at the first start, on any screen


def first_dock_height(window_height: int, screen_height: int | None) -> int:
    """The upload dock's height at the first start: a quarter of the window, within bounds.
    A fixed 260 px left the grid barely two rows on a 768 px screen. The window may be shown
    maximised after this, so a smaller screen counts too."""
    height = window_height if screen_height is None else min(window_height, screen_height)
    return max(DOCK_MIN_HEIGHT, min(DOCK_MAX_HEIGHT, height // 4))


def window_state_file(settings: Settings) -> Path:
    """Where the window remembers its size, docks and panes: next to the settings file."""
    if settings.config_file:
        return Path(settings.config_file).parent / "window-state.ini"
    return settings.paths.config_dir / "window-state.ini"


def dropped_paths(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> list[Path]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [local_path(url) for url in mime.urls() if url.isLocalFile()]


# Seconds the routine "Uploaded …" of a drop's other files is held back after a duplicate's
# notice ("… is already in the library"), which shows as long: it went at once, unread
NOTICE_HOLD_S = 6.0
DIALOG_KEYS = ("import", "export")  # the file dialogs that remember their folder
# "old>new": the storage switch whose old files the user chose to keep reading where they are
# (SettingsController.kept), so that a Save does not ask about them again; "": none
KEPT_KEY = "storage/kept"


def save_state(path: Path, values: Mapping[str, object]) -> None:
    """Sets `values` in the window-state file and writes it owner-only, as settings.toml: it
    names the folders the user picks (often an athlete's or a client's name). Qt would make
    the folder and the file by the umask (0755, 0644) when the window is saved before any
    settings are; it keeps an existing file's mode when it replaces it."""
    state = QSettings(str(path), QSettings.Format.IniFormat)
    for key, value in values.items():
        state.setValue(key, value)
    make_dirs(path.parent, PRIVATE_DIR_MODE)
    state.sync()
    # Another save's sync() (a worker's and the window's last save) may have made the folder
    # first, by the umask (0755), between the look and the mkdir above (seen in a CI-like run)
    tighten_dir(path.parent, PRIVATE_DIR_MODE)
    if path.is_file():
        set_file_mode(path, PRIVATE_FILE_MODE)


class ChosenFolders:
    """The folders picked in this session's file dialogs, and their saving in the window-state
    file: by a worker after a dialog (the data folder may be on a slow disk, and the window
    stalled there after each import and export), at the window's last save on the GUI thread.
    One writer at a time, each with the latest folders, so an older pick never lands last."""

    def __init__(self, state_file: Path) -> None:
        self.state_file = state_file
        self.chosen: dict[str, str] = {}  # key: folder; set on the GUI thread
        self._saved: dict[str, str] = {}
        self._lock = threading.Lock()

    def save(self, values: Mapping[str, object] | None = None) -> None:
        """Writes the folders not yet saved, with `values` (other state) if given; any thread.
        Plain Python: a worker still queued when the window is deleted touches no Qt object
        of the window."""
        with self._lock:
            folders = dict(self.chosen)
            if folders == self._saved and not values:
                return
            save_state(
                self.state_file,
                {**{f"dialogs/{key}": folder for key, folder in folders.items()}, **(values or {})},
            )
            self._saved = folders


def read_window_state(state_file: Path) -> dict[str, object]:
    """The saved size and place, docks, panes, upload columns, details pane and sort order, as
    plain values; none without a file. The app reads them behind its splash, off the GUI
    thread (app.py): the file is in the data folder, which may be on a NAS or a USB disk."""
    if not state_file.is_file():
        return {}
    state = QSettings(str(state_file), QSettings.Format.IniFormat)
    saved: dict[str, object] = {}
    for key in ("window/geometry", "window/state", "window/splitter", "uploads/columns"):
        found = state.value(key)
        if isinstance(found, QByteArray) and not found.isEmpty():
            saved[key] = found
    if isinstance(sort := state.value("browser/sort"), str):
        saved["browser/sort"] = sort
    saved["window/details"] = state.value("window/details", True, type=bool) is True
    if isinstance(kept := state.value(KEPT_KEY), str):
        saved[KEPT_KEY] = kept
    return saved


def read_dialog_folders(state_file: Path) -> dict[str, str]:
    """The dialog folders saved in the window-state file (a worker thread: it is in the data
    folder, and the window stalled on a slow disk at each start, dialog and activation)."""
    state = QSettings(str(state_file), QSettings.Format.IniFormat)
    saved = {}
    for key in DIALOG_KEYS:
        value = state.value(f"dialogs/{key}")
        if isinstance(value, str) and value:
            saved[key] = value
    return saved


def folders_that_answer(folders: dict[str, str]) -> dict[str, str]:
    """The remembered dialog folders that are there (a worker thread: each is a stat, and one
    on a network disk that went away hangs)."""
    return {key: folder for key, folder in folders.items() if Path(folder).is_dir()}


def start_folders() -> dict[str, str]:
    """Where a dialog with no remembered folder opens, by file kind: Pictures for photos and
    Videos for videos when there, the other one when only it is, else the home folder (a
    worker thread: Qt reads user-dirs.dirs in the home folder, and each is a stat). The first
    import opened in a Pictures folder that did not exist, and the dialog showed its parent
    under a name that was not there."""
    where = QStandardPaths.StandardLocation
    home = str(Path.home())
    pictures, videos = (
        folder if folder and Path(folder).is_dir() else ""
        for folder in (
            QStandardPaths.writableLocation(where.PicturesLocation),
            QStandardPaths.writableLocation(where.MoviesLocation),
        )
    )
    return {"image": pictures or videos or home, "video": videos or pictures or home}


def look_at_dialog_folders(
    state_file: Path, picked: Mapping[str, str]
) -> tuple[dict[str, str], dict[str, str], dict[str, str]]:
    """The remembered dialog folders, the session's picks over the saved ones (a pick may not
    be saved yet), those of them that are there, and the start folders; a worker thread."""
    remembered = {**read_dialog_folders(state_file), **picked}
    return remembered, folders_that_answer(remembered), start_folders()


def count_folders(paths: list[Path]) -> int:
    """How many of the dropped paths are folders (a worker thread: each is a stat)."""
    return sum(1 for path in paths if path.is_dir())


def local_path(url: QUrl) -> Path:
    """The file a file:// URL names. file://localhost/… and file://<this computer>/… are
    files here (RFC 8089; ROX, xfe and older KDE send the host name), where Qt reads any host
    as a network share (//localhost/…) that is then not found."""
    if url.host().lower() in ("localhost", socket.gethostname().lower()):
        url = QUrl(url)
        url.setHost("")
    if os.name != "nt" and not url.host():
        # The URL's %-escapes are the name's bytes (a file manager escapes an old USB stick's
        # b"Jos\xe9.jpg" as Jos%E9.jpg); Qt reads them as UTF-8 and makes U+FFFD of a byte
        # that is none, naming a file that is not there. Kept as bytes, as Python names it.
        encoded = url.path(QUrl.ComponentFormattingOption.FullyEncoded)
        return Path(os.fsdecode(unquote_to_bytes(encoded)))
    return Path(url.toLocalFile())


def accept_as_copy(event: QDropEvent | QDragEnterEvent | QDragMoveEvent) -> None:
    """MediaDesk copies what is dropped: a drag offered as a move (Shift) is answered as a
    copy, since a source told its files were moved may delete them."""
    if event.possibleActions() & Qt.DropAction.CopyAction:
        event.setDropAction(Qt.DropAction.CopyAction)
        event.accept()
    else:
        event.acceptProposedAction()


def panel_action(dock: QDockWidget, text: str) -> QAction:
    """View menu item of a dock, as in an IDE: a closed panel opens in front with the keyboard
    focus, an open one behind another dock's tab comes to the front, the one in front closes.
    Checked while the panel is open. Qt's toggleViewAction only showed or hid it, so a panel
    tabbed behind Uploads was hidden by the first choice and came back still behind."""
    action = QAction(text, dock)
    action.setCheckable(True)
    qt_toggle = dock.toggleViewAction()  # Qt keeps its check in step with the dock's state
    action.setChecked(qt_toggle.isChecked())
    qt_toggle.toggled.connect(action.setChecked)

    def choose() -> None:
        if not dock.isHidden() and not dock.visibleRegion().isEmpty():
            dock.hide()
        else:
            dock.show()
            dock.raise_()
            focus_first_stop(dock)
        action.setChecked(not dock.isHidden())

    action.triggered.connect(choose)
    return action


class KeptWrappers:
    """Widgets met walking the focus chain or the parents, their Python wrappers kept while
    the widgets live. Such walks wrap Qt's own widgets (scroll bars, headers, a dock's title
    buttons); dropping those wrappers when Qt had called the walk while hiding the focused
    widget left PySide's bindings broken, and the window crashed at its close one time in four
    (CI). PySide lets go of a wrapper itself when its widget is deleted; `prune` drops those."""

    def __init__(self) -> None:
        self._kept: dict[int, QWidget] = {}

    def __call__(self, widget: QWidget) -> QWidget:
        return self._kept.setdefault(id(widget), widget)

    def next(self, widget: QWidget, forward: bool = True) -> QWidget | None:
        found = widget.nextInFocusChain() if forward else widget.previousInFocusChain()
        return None if found is None else self(found)

    def prune(self) -> None:
        self._kept = {key: w for key, w in self._kept.items() if shiboken6.isValid(w)}


_FIRST_STOP_WALK = KeptWrappers()


def focus_first_stop(container: QWidget) -> None:
    """The keyboard focus to the first widget Tab reaches inside `container`."""
    walked = _FIRST_STOP_WALK
    walked.prune()
    widget = walked.next(container)
    while widget is not None and widget is not container:
        policy = widget.focusPolicy()
        if (
            container.isAncestorOf(widget)
            and (policy & Qt.FocusPolicy.TabFocus) == Qt.FocusPolicy.TabFocus
            and widget.isVisibleTo(container)
            and widget.isEnabled()
        ):
            widget.setFocus(Qt.FocusReason.ShortcutFocusReason)
            return
        widget = walked.next(widget)


class SidebarView(QTreeView):
    """The sidebar's tree: the group headings are never current and the view shown stays
    highlighted (Home landed on "Library", Ctrl+click or Ctrl+Space unselected the view shown,
    and the sidebar showed nothing while the grid still showed the old view)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._typed = ""  # the type-ahead's letters so far
        self._typed_at = QElapsedTimer()

    def _sidebar(self) -> SidebarModel | None:
        model = self.model()
        return model if isinstance(model, SidebarModel) else None

    def keyboardSearch(self, search: str) -> None:  # noqa: N802 - Qt's name
        """Type-ahead as Qt's (letters typed within QApplication.keyboardInputInterval() add
        up, the same letter again steps to the next entry starting with it, no match moves
        nothing), compared as search compares names (core.text.folded): Qt's compared accents,
        so "oscar" never found "Óscar de la Fuente" and "alv" stayed on "All files" rather
        than "Álvaro …". The headings are never current, so never found."""
        again = (
            self._typed_at.isValid()
            and self._typed_at.elapsed() <= QApplication.keyboardInputInterval()
        )
        self._typed_at.start()
        if not search:
            self._typed = ""
            return
        current = self.currentIndex().siblingAtColumn(0)
        self._typed = self._typed + search if again else search
        skip = not again  # a new search starts below the current entry, as Qt's
        typed = folded(self._typed)
        if len(typed) > 1 and typed == typed[0] * len(typed):
            typed, skip = typed[0], True  # "ooo": on to the next entry starting with "o"
        rows: list[QModelIndex] = []
        index = self.model().index(0, 0) if self.model() is not None else QModelIndex()
        while index.isValid():
            if not self._is_heading(index):
                rows.append(index)
            index = self.indexBelow(index)
        start = rows.index(current) + int(skip) if current in rows else 0
        for index in rows[start:] + rows[:start]:
            if folded(str(index.data() or "")).startswith(typed):
                self.setCurrentIndex(index)
                return

    def _is_heading(self, index: QModelIndex) -> bool:
        model = self._sidebar()
        return model is not None and model.is_heading(index)

    def moveCursor(  # noqa: N802 - Qt's name
        self, cursor_action: QAbstractItemView.CursorAction, modifiers: Qt.KeyboardModifier
    ) -> QModelIndex:
        index = super().moveCursor(cursor_action, modifiers)
        if not self._is_heading(index):
            return index
        move = QAbstractItemView.CursorAction
        upwards = cursor_action in (move.MoveUp, move.MovePrevious, move.MovePageUp, move.MoveEnd)
        onwards, back = (
            (self.indexAbove, self.indexBelow) if upwards else (self.indexBelow, self.indexAbove)
        )
        # on past the heading; at the top (Home, Up from "All files") the nearest entry below
        for step in (onwards, back):
            found = step(index)
            while self._is_heading(found):
                found = step(found)
            if found.isValid():
                return found
        return self.currentIndex()

    def selectionCommand(  # noqa: N802 - Qt's name
        self, index: QModelIndex | QPersistentModelIndex, event: QEvent | None = None
    ) -> QItemSelectionModel.SelectionFlag:
        command = super().selectionCommand(index, event)
        flags = QItemSelectionModel.SelectionFlag
        selectable = index.isValid() and bool(index.flags() & Qt.ItemFlag.ItemIsSelectable)
        # The "Add an athlete…" row may be current (Enter adds one) but selects nothing, and the
        # shown view is never unselected: the sidebar always highlights what the grid shows.
        if not selectable or (command & flags.Deselect and not command & flags.Select):
            return flags.NoUpdate
        return command

    def rowsAboutToBeRemoved(  # noqa: N802 - Qt's name
        self, parent: QModelIndex | QPersistentModelIndex, start: int, end: int
    ) -> None:
        """The current row removed (an athlete no longer listed, the "Add an athlete…" row
        once there is one): current is the view shown, else "All files". Qt's made the next
        row current and selected it, so the view showed the next athlete's files."""
        model = self._sidebar()
        current = self.currentIndex()

        def removed(index: QModelIndex) -> bool:
            return index.parent() == parent and start <= index.row() <= end

        if model is not None and current.isValid() and removed(current):
            shown = self.selectionModel().selectedRows(0)
            kept = shown[0] if shown and not removed(shown[0]) else model.index_of("all")
            self.setCurrentIndex(kept)
        super().rowsAboutToBeRemoved(parent, start, end)

    def setModel(self, model: QAbstractItemModel | None) -> None:  # noqa: N802 - Qt's name
        super().setModel(model)
        if model is not None:  # its texts change with the language: the width they need too
            for signal in (model.dataChanged, model.rowsInserted, model.rowsRemoved):
                signal.connect(self.updateGeometry)
            model.modelReset.connect(self.updateGeometry)
        self.verticalScrollBar().rangeChanged.connect(self.updateGeometry)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.updateGeometry()

    def minimumSizeHint(self) -> QSize:  # noqa: N802 - Qt's name
        """Never narrower than its headings, sections and hint need in the window's font and
        language, beside the widest count: a fixed 180 px cut "Todos los archivos" to "Todos
        los arc…" with a large font (QT_FONT_DPI=144) or at 150 %. Athletes' names, which
        may be of any length, shorten instead."""
        hint = super().minimumSizeHint()
        return QSize(max(hint.width(), SIDEBAR_MIN_WIDTH, self.labels_width()), hint.height())

    def labels_width(self) -> int:
        model = self._sidebar()
        if model is None:
            return 0
        style = self.style()
        # the item's text margins, both sides, and the air the other entries have
        margin = 2 * (style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self) + 1)
        margin += 8
        # the counts' column fits its title too, hidden as it is (ResizeToContents)
        counts = max(self.sizeHintForColumn(1), self.header().sectionSizeHint(1))
        need = 0
        rows = [(model.index(group, 0), 0) for group in range(model.rowCount())]
        for heading, _ in list(rows):
            for row in range(model.rowCount(heading)):
                index = model.index(row, 0, heading)
                flt = model.filter_at(index)
                if flt is None or flt.section != "athlete":
                    rows.append((index, self.indentation()))
        for index, indent in rows:
            font = index.data(Qt.ItemDataRole.FontRole)
            font = QFont(font).resolve(self.font()) if isinstance(font, QFont) else self.font()
            text = QFontMetrics(font).horizontalAdvance(str(index.data() or ""))
            spanned = self.isFirstColumnSpanned(index.row(), index.parent())
            need = max(need, indent + text + margin + (0 if spanned else counts))
        # many athletes: the bar takes its room (not before the view is laid out, when it is
        # a few pixels tall and would keep that width as the one the sidebar comes back to)
        if self.isVisible() and self.verticalScrollBar().maximum() > 0:
            need += style.pixelMetric(QStyle.PixelMetric.PM_ScrollBarExtent, None, self)
        return need + 2 * self.frameWidth()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 - Qt's name
        if self._is_heading(self.indexAt(event.position().toPoint())):
            event.accept()  # a heading takes neither the current row nor the selection
            return
        super().mousePressEvent(event)


class MainWindow(QMainWindow):
    """Builds the views over the controllers and connects them."""

    def __init__(
        self,
        library: Library,
        *,
        page_size: int = 100,
        max_parallel: int = 2,
        state_file: Path | None = None,
        saved_state: Mapping[str, object] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """`saved_state`: read_window_state's answer, which the app reads behind its splash;
        without it (tests, tools) the window reads the file itself, on the GUI thread."""
        super().__init__(parent)
        self.library = library
        self.state_file = state_file or window_state_file(library.settings)
        self._pending_leave: tuple[int, Callable[[], None], Callable[[], None]] | None = None
        self._saving: tuple[int, dict[str, object]] | None = None  # the save in flight, its edits
        self._last_trashed: list[int] = []  # what Ctrl+Z puts back
        self._emptying_trash = False  # Empty trash… runs (its count would be stale)
        self._asking = False
        # Copy link waiting for the server the user agreed to start: the file, and whether
        # this window asked for the start (else one was under way when it asked)
        self._link_after_start: tuple[int, bool] | None = None
        self._autostarting = False  # the settings' start at launch, until its outcome
        # The title names what is shown; the platform appends the application name (written
        # here too, it showed twice: "MediaDesk — MediaDesk"). "*" while edits are unsaved.
        self.setWindowTitle("[*]")
        self.setWindowIcon(app_icon())
        self.setAcceptDrops(True)
        self.last_error = ""
        self._shut_down = False
        self._walked = KeptWrappers()  # the Tab walk's (focusNextPrevChild)
        self._unattended = False  # quitting on a signal (quit_unattended): nobody to ask
        self._docks_sized = False
        self._catalog_bytes = 0  # the last counts' bytes, for the storage warning
        self.controller = LibraryController(library, page_size, self)
        self.uploads = UploadController(library, max_parallel, self)
        self.server = ServerController(library, self)
        self.settings_controller = SettingsController(library.settings, self)
        self.settings_controller.library = library  # counts and moves files on a storage switch
        self.settings_controller.keptChanged.connect(self._save_kept)
        self.controller.server_url = self.server.url_or_none
        self.commands = build_actions(self)
        build_menus(self, self.commands)
        self._build_central()
        self._build_docks()
        self.status = MainStatusBar(library.settings, self)
        self.setStatusBar(self.status)
        self.storage_bar: StorageProblemBar | None = None
        # the last preview opened: Qt deletes it once closed, so users check shiboken6.isValid
        self.preview_dialog: QDialog | None = None
        if library.settings.storage_problem:  # R2 keys missing: opened anyway, to enter them
            self.storage_bar = StorageProblemBar(library.settings, self)
            self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.storage_bar)
            self.storage_bar.settings_button.clicked.connect(self.open_storage_settings)
        self.drop_overlay = DropOverlay(self)
        self.drop_athlete_id: int | None = None  # the athlete row under a drag, if any
        # The dragged paths and how many are folders (None until known), worked out once per
        # drag off the GUI thread: a stat of a slow or network disk froze the window at
        # drag-enter. Qt's global pool: closing the window never waits for a hung stat.
        self._dragged: tuple[list[Path], int | None] = ([], None)
        self._disk_runner = TaskRunner(max_threads=None, parent=self)
        # The file dialogs' remembered folders, looked at the same way ahead of the dialogs: a
        # folder on a network disk that went away froze the window when a dialog opened. A
        # dialog starts only in a folder known to be there (Qt's dialog stats it again).
        self.dialog_folders: dict[str, str] = {}  # key: folder that answered
        self.start_folders: dict[str, str] = {}  # file kind: where a first dialog opens
        self._chosen = ChosenFolders(self.state_file)
        self._saving_folders = False
        self._save_folders_again = False  # picked while a save was under way: save once more
        self._checking_folders = False
        self._check_again = False  # asked while a look was under way: look once more after it
        self._connect()
        self._update_actions(None)
        self._on_filter(self.controller.filter)
        self.resize(1360, 860)
        if saved_state is None:
            saved_state = read_window_state(self.state_file)
        self.restore_window_state(saved_state)
        self.check_dialog_folders()
        self.controller.start()
        self.team = attach_team(self)  # live with other apps and servers on this catalog
        self.note_files_elsewhere()

    # ---- layout -------------------------------------------------------------------------------
    def _build_central(self) -> None:
        self.sidebar = SidebarView(self)
        self.sidebar.setAccessibleName(self.tr("Sections and athletes"))
        self.sidebar.setModel(self.controller.sidebar)
        self.sidebar.setHeaderHidden(True)
        self.sidebar.setRootIsDecorated(False)
        self.sidebar.setItemsExpandable(False)
        self.sidebar.setAcceptDrops(False)
        self.sidebar.expandAll()
        # its selected row looks the same whether the sidebar has the focus or the grid does
        set_focus_frame(self.sidebar)
        header = self.sidebar.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.browser = FileBrowser(self.controller, self)
        # Its key as the menus write it (Qt's translation: "Control+F" in Spanish, where the
        # box said "Ctrl+F" beside the menus' "Control+Mayúsculas+I")
        keys = self.commands.find.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        self.browser.search.setPlaceholderText(
            self.tr("Search file names and descriptions (%1)").replace("%1", keys)
        )
        self.browser.name_commands(
            command_name(self.commands.import_files), command_name(self.commands.refresh)
        )
        self.details = DetailsPanel(self)
        self.details.retention_days = lambda: self.library.settings.trash_retention_days
        # The window's, not the panel's: with the panel hidden (F8) a shortcut of its own was
        # off, and Ctrl+S left the edits unsaved without a word. Nothing to save: nothing done.
        save = QShortcut(QKeySequence(SAVE_KEYS), self)
        save.setContext(Qt.ShortcutContext.WindowShortcut)
        save.activated.connect(self.details.request_save)
        # on a narrow window the side panes give way until the grid has its columns (panes.py)
        splitter = MainSplitter(self.sidebar, self.browser, self.details, self.browser.grid)
        splitter.setSizes([220, 760, 380])
        self.splitter = splitter
        self.setCentralWidget(splitter)
        self.sidebar.setCurrentIndex(self.controller.sidebar.index_of("all"))

    def _build_docks(self) -> None:
        self.upload_dock = UploadDock(self.uploads, self)
        self.server_dock = QDockWidget(self.tr("Server"), self)
        self.server_dock.setObjectName("server-dock")
        self.server_panel = ServerPanel(self.server, self.server_dock)
        self.server_dock.setWidget(self.server_panel)
        self.server_panel.set_on_screen(False)  # until its tab is shown
        self.server_dock.visibilityChanged.connect(self.server_panel.set_on_screen)
        area = Qt.DockWidgetArea.BottomDockWidgetArea
        self.addDockWidget(area, self.upload_dock)
        self.addDockWidget(area, self.server_dock)
        self.tabifyDockWidget(self.upload_dock, self.server_dock)
        self.storage_view = StorageView(self.library, self)  # usage per type and athlete
        self.addDockWidget(area, self.storage_view)
        self.tabifyDockWidget(self.server_dock, self.storage_view)
        self.processing = ProcessingStates(self)  # video jobs: tile badges, details, Jobs dock
        self.jobs_dock = JobsDock(self.library, self.processing, self)
        self.addDockWidget(area, self.jobs_dock)
        self.tabifyDockWidget(self.storage_view, self.jobs_dock)
        self.processing_line = ProcessingLine(self.library, self.jobs_dock.runner, self.details)
        self.details.extensions.addWidget(self.processing_line)
        self.upload_dock.raise_()
        for dock in (self.upload_dock, self.server_dock, self.storage_view, self.jobs_dock):
            ink_dock_buttons(dock)  # Fusion's grey float and close glyphs vanish on a dark theme
        # Each with its key, as every other menu item (the toggle's own text is the bare title)
        docks = {
            self.upload_dock: self.tr("&Uploads"),
            self.server_dock: self.tr("&Server"),
            self.storage_view: self.tr("S&torage"),
            self.jobs_dock: self.tr("&Jobs"),
        }
        for dock, text in docks.items():
            self.view_menu.addAction(panel_action(dock, text))  # type: ignore[attr-defined]

    def _context_menus(self) -> None:
        install_shift_f10()  # as the Menu key, on X11 and Wayland too
        a = self.commands
        policy = Qt.ContextMenuPolicy.ActionsContextMenu
        self.sidebar.setContextMenuPolicy(policy)
        self.sidebar.addActions([a.new_athlete, a.rename_athlete])
        grid = self.browser.grid
        grid.setContextMenuPolicy(policy)
        grid.addActions(
            [a.preview, a.copy_link, a.export, a.rename, a.reprocess, a.trash, a.restore, a.delete]
        )
        grid.addAction(a.select_all)  # its Ctrl+A acts in the grid; text fields keep theirs

    def _connect(self) -> None:
        c, a = self.controller, self.commands
        self._context_menus()
        self.sidebar.selectionModel().selectionChanged.connect(self._on_sidebar)
        self.sidebar.clicked.connect(self._on_sidebar_clicked)
        self.sidebar.activated.connect(self._on_sidebar_clicked)
        c.sidebar.rowsInserted.connect(lambda *_: self.sidebar.expandAll())
        c.sidebar.rowsInserted.connect(self._span_sidebar_hint)
        self._span_sidebar_hint()
        c.sidebar.rowsInserted.connect(self._restore_sidebar_selection)
        c.sidebar.rowsInserted.connect(self._update_title)  # an athlete's name, once loaded
        c.sidebar.dataChanged.connect(self._on_sidebar_names)
        c.currentChanged.connect(lambda r: self.details.show_record(r, keep_edits=True))
        c.saved.connect(self._on_saved)
        c.athleteChosen.connect(self._choose_athlete)
        c.athleteRenameRefused.connect(self._on_athlete_rename_refused)
        c.saveFailed.connect(self._on_save_failed)
        c.currentChanged.connect(self._update_actions)
        c.currentChanged.connect(self.processing_line.show_file)
        c.live.changed.connect(self._on_processing_event)
        self.processing.changed.connect(lambda _id: self.browser.grid.viewport().update())
        self.browser.grid.itemDelegate().processing_of = self.processing.get  # type: ignore[attr-defined]
        c.grid.processing_of = self.processing.get  # what a screen reader hears of the badge
        self.processing.changed.connect(c.grid.processing_changed)
        c.filterChanged.connect(self._on_filter)
        c.countsChanged.connect(self._on_counts)
        self.storage_view.usageChanged.connect(lambda _report: self._warn_storage())
        c.examplesReady.connect(self.server_panel.set_example_files)
        c.errorOccurred.connect(self.show_error)
        self.browser.leave_guard = self.leave_edits
        self.browser.selectionCountChanged.connect(self.details.show_selection_count)
        self.browser.selectAllLimited.connect(self._on_select_all_limited)
        self.details.dirtyChanged.connect(self.setWindowModified)
        c.message.connect(lambda text: self.status.showMessage(text, 6000))
        c.busyNotice.connect(self.status.set_busy)
        c.outageChanged.connect(self.status.set_standing)
        c.linkReady.connect(self._on_link)
        c.linkNeedsServer.connect(self._on_link_needs_server)
        c.previewReady.connect(self._open_preview)
        self.browser.activated.connect(c.request_preview)
        d = self.details
        d.saveRequested.connect(c.save_metadata)
        d.saveRequested.connect(self._on_save_requested)
        d.previewRequested.connect(self.preview)
        d.copyLinkRequested.connect(self.copy_link)
        d.exportRequested.connect(self.export)
        d.reprocessRequested.connect(self.reprocess)
        d.trashRequested.connect(self.trash)
        d.restoreRequested.connect(self.restore)
        d.deleteRequested.connect(self.delete_permanently)
        d.renameCancelled.connect(
            lambda: self.browser.grid.setFocus(Qt.FocusReason.OtherFocusReason)
        )
        a.import_files.triggered.connect(self.import_files)
        a.import_folder.triggered.connect(self.import_folder)
        a.export.triggered.connect(self.export)
        a.settings.triggered.connect(self.open_settings)
        a.quit.triggered.connect(self.close)
        a.rename.triggered.connect(self.rename)
        a.reprocess.triggered.connect(self.reprocess)
        a.trash.triggered.connect(self.trash)
        a.restore.triggered.connect(self.restore)
        a.delete.triggered.connect(self.delete_permanently)
        a.undo_trash.triggered.connect(self.undo_trash)
        self.browser.offer_undo(a.undo_trash)
        a.empty_trash.triggered.connect(self.empty_trash)
        self.browser.offer_empty_trash(a.empty_trash)
        c.trashEmptied.connect(self._on_trash_emptied)
        a.find.triggered.connect(self.focus_search)
        a.select_all.triggered.connect(self.browser.select_all)
        for changed in (c.grid.rowsInserted, c.grid.rowsRemoved, c.grid.modelReset):
            changed.connect(self._update_select_all)
        self._update_select_all()
        a.preview.triggered.connect(self.preview)
        a.refresh.triggered.connect(c.refresh)
        a.details_panel.toggled.connect(self.show_details_panel)
        a.copy_link.triggered.connect(self.copy_link)
        a.new_athlete.triggered.connect(self.new_athlete)
        a.rename_athlete.triggered.connect(self.rename_athlete)
        a.about.triggered.connect(self.about)
        self.upload_dock.importFilesRequested.connect(self.import_files)
        self.upload_dock.importFolderRequested.connect(self.import_folder)
        self.upload_dock.showInGridRequested.connect(self.reveal_file)
        c.filterChanged.connect(lambda _f: self._select_current_filter())
        self._notice_held_until = 0.0  # monotonic: a duplicate's notice is on screen till then

        def say_uploaded(record: FileRecord) -> None:
            # routine news: in a drop of many, the next file's replaced a duplicate's notice
            # at once (before it was read); the queue's rows say each file's upload anyway
            if time.monotonic() >= self._notice_held_until:
                text = self.tr("Uploaded %1").replace("%1", record.original_filename)
                self.status.showMessage(text, 4000)

        self.uploads.uploaded.connect(say_uploaded)

        def say_duplicate(name: str, stored: str) -> None:
            # the same bytes: nothing uploaded; the dropped file named, and the library's if other
            if name == stored:
                text = self.tr("“%1” is already in the library.").replace("%1", name)
            else:
                # filled in one pass: a file name may hold "%1" or "%2" itself
                parts = self.tr("“%1” is already in the library as “%2”.").split("%2")
                text = stored.join(part.replace("%1", name) for part in parts)
            self.status.showMessage(text, 6000)
            self._notice_held_until = time.monotonic() + NOTICE_HOLD_S

        self.uploads.duplicate.connect(say_duplicate)
        self.server.stateChanged.connect(
            lambda running, url: self.status.set_server(running, url, self.server.last_error)
        )
        self.server.stateChanged.connect(self._on_server_state)
        self._update_link_tip()
        self.settings_controller.saved.connect(self._on_settings_saved)

    def _update_actions(self, record: FileRecord | None) -> None:
        a = self.commands
        live = record is not None and not record.is_trashed
        for action in (a.copy_link, a.export, a.trash):
            action.setEnabled(live)
        a.preview.setEnabled(record is not None)
        # a photo's images or a video's jobs made again from the original: a stored one
        a.reprocess.setEnabled(live and record is not None and record.status == FileStatus.READY)
        a.restore.setEnabled(record is not None and record.is_trashed)
        a.delete.setEnabled(record is not None)
        self._update_rename(record)

    def _update_select_all(self, *_: object) -> None:
        # as the grid allows: nothing to select in an empty view
        self.commands.select_all.setEnabled(self.controller.grid.rowCount() > 0)

    def _update_rename(self, record: FileRecord | None) -> None:
        # F2 renames the file shown or, in an athlete's view, the athlete: with neither, the
        # menu offered it and it did nothing
        athlete = self.controller.filter.section == "athlete"
        self.commands.rename.setEnabled(record is not None or athlete)

    # ---- unsaved edits ------------------------------------------------------------------------
    def leave_edits(self, proceed: Callable[[], None], cancel: Callable[[], None]) -> None:
        """Runs `proceed` at once without unsaved edits; otherwise asks Save/Discard/Cancel.

        The question comes after the current event (a click on another file) is handled. Save
        runs `proceed` once the file is saved, or `cancel` when saving fails; Discard drops the
        edits and proceeds; Cancel runs `cancel`, which puts the view back.
        """
        if not self.details.dirty or self.details.record is None:
            proceed()
        elif self._asking:
            return  # e.g. a timer firing while the question is open: that question decides
        elif self._pending_leave is not None:
            cancel()  # the edits are being saved: stay until that is done
        elif self._saving_these_edits():
            # Ctrl+S (or Save) already sent exactly these edits: asking again would offer to
            # save what is being saved; leave once it is stored, stay if it fails
            self._pending_leave = (self.details.record.id, proceed, cancel)
        else:
            self._asking = True
            QTimer.singleShot(0, lambda: self._ask_and_leave(proceed, cancel))

    def _ask_and_leave(self, proceed: Callable[[], None], cancel: Callable[[], None]) -> None:
        record = self.details.record
        if self._unattended:  # asked just before a signal's quit, which keeps the edits
            self._asking = False
            cancel()
            return
        if not self.details.dirty or record is None:  # saved or reverted in the meantime
            self._asking = False
            proceed()
            return
        try:
            answer = self.ask_unsaved(record)
        finally:
            self._asking = False
        buttons = QMessageBox.StandardButton
        if answer == buttons.Save and self.details.request_save():
            self._pending_leave = (record.id, proceed, cancel)
        elif answer == buttons.Discard:
            self.details.revert()
            proceed()
        else:
            cancel()

    def ask_unsaved(self, record: FileRecord) -> QMessageBox.StandardButton:
        """Save, Discard or Cancel for the unsaved edits of `record`."""
        buttons = QMessageBox.StandardButton
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Unsaved changes"),
            self.tr("Save the changes to “%1”?").replace("%1", record.original_filename),
            buttons.Save | buttons.Discard | buttons.Cancel,
            self,
        )
        box.setInformativeText(self.tr("If you don't save them, your changes are lost."))
        plain_text(box)
        box.setDefaultButton(buttons.Save)
        box.setEscapeButton(buttons.Cancel)
        return buttons(box.exec())

    def _on_save_requested(self, file_id: int, changes: dict[str, object], _version: int) -> None:
        self._saving = (file_id, dict(changes))

    def _saving_these_edits(self) -> bool:
        record, saving = self.details.record, self._saving
        return (
            record is not None
            and saving is not None
            and saving[0] == record.id
            and saving[1] == self.details.changes()
        )

    def _on_saved(self, record: FileRecord) -> None:
        if self._saving is not None and self._saving[0] == record.id:
            self._saving = None
        if self.details.record is not None and self.details.record.id == record.id:
            self.details.show_saved(record)
        pending = self._pending_leave
        if pending is not None and pending[0] == record.id:
            self._pending_leave = None
            QTimer.singleShot(0, pending[1])

    def _on_save_failed(self, file_id: int, _message: ErrorMessage) -> None:
        if self._saving is not None and self._saving[0] == file_id:
            self._saving = None
        pending = self._pending_leave
        if pending is not None and pending[0] == file_id:
            self._pending_leave = None
            pending[2]()  # the edits stay; the error message says why

    # ---- sidebar ------------------------------------------------------------------------------
    def _span_sidebar_hint(self) -> None:
        # The hint has no count: its row spans the count's column too ("Añadir un deportis…"
        # in 132 of the sidebar's 180 px, the rest kept for a count). Only the hint: the view
        # keeps a span by row, and the first athlete, in the hint's row, showed no count.
        model = self.controller.sidebar
        for group in range(model.rowCount()):
            parent = model.index(group, 0)
            for row in range(model.rowCount(parent)):
                hint = model.is_hint(model.index(row, 0, parent))
                if self.sidebar.isFirstColumnSpanned(row, parent) != hint:
                    self.sidebar.setFirstColumnSpanned(row, parent, hint)

    def _on_sidebar(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        if not self.sidebar.selectionModel().hasSelection():
            # emptied some other way: the view shown is highlighted again (after rows that are
            # being rebuilt are back)
            QTimer.singleShot(0, self, self._highlight_shown_view)
        indexes = selected.indexes()
        flt = self.controller.sidebar.filter_at(indexes[0]) if indexes else None
        if flt is not None and flt != self.controller.filter:
            self.leave_edits(lambda: self.controller.set_filter(flt), self._select_current_filter)

    def _select_current_filter(self) -> None:
        index = self.controller.sidebar.index_of(self.controller.filter.key)
        if index.isValid():
            self.sidebar.setCurrentIndex(index)  # the same filter: nothing is reloaded

    def _on_filter(self, flt: object) -> None:
        athlete = getattr(flt, "section", "") == "athlete"
        self.commands.rename_athlete.setEnabled(athlete)
        self._update_rename(self._current())
        self._update_title()

    def _update_title(self, *_: object) -> None:
        index = self.controller.sidebar.index_of(self.controller.filter.key)
        name = str(index.data(SidebarModel.NameRole) or "") if index.isValid() else ""
        self.setWindowTitle(f"{name}[*]" if name else "[*]")

    def _on_sidebar_clicked(self, index: QModelIndex) -> None:
        if self.controller.sidebar.is_hint(index):
            self.new_athlete()

    def _highlight_shown_view(self) -> None:
        if not self.sidebar.selectionModel().hasSelection():
            self._select_current_filter()

    def _on_sidebar_names(self, top_left: QModelIndex, _end: QModelIndex, roles: list[int]) -> None:
        # a name, not a count nor a row's place: an athlete renamed (the title names it)
        if top_left.column() == 0 and SidebarModel.NameRole in roles:
            self._update_title()

    def _restore_sidebar_selection(self, *_: object) -> None:
        # an athlete added keeps the one viewed selected: the model adds and moves rows, never
        # removes and adds them back (the view went back to "All files" on any new name)
        if not self.sidebar.selectionModel().hasSelection():
            index = self.controller.sidebar.index_of(self.controller.filter.key)
            if not index.isValid():
                index = self.controller.sidebar.index_of("all")
            self.sidebar.setCurrentIndex(index)

    def _on_counts(self, counts: dict[str, int]) -> None:
        self.status.set_counts(counts)
        self._update_empty_trash()
        self._warn_storage(counts.get("bytes", 0))
        self.details.set_athletes(self.controller.sidebar.athletes())

    def _warn_storage(self, catalog_bytes: int | None = None) -> None:
        if catalog_bytes is not None:
            self._catalog_bytes = catalog_bytes
        used = self.storage_view.used_bytes(self._catalog_bytes)
        self.status.set_storage_warning(used, self.library.settings.storage_warn_bytes)

    # ---- keyboard -----------------------------------------------------------------------------
    def focusNextPrevChild(self, next: bool) -> bool:  # noqa: N802, A002 - Qt's names
        """Tab and Shift+Tab pass over the docks behind another dock's tab. Qt keeps those
        "visible", off screen: Tab went on from the upload queue into the Server panel's fields
        unseen, and what the user typed next went there. Stepping past them with Qt's own move
        gave each of their controls the focus in turn, a focus change a screen reader announced
        for every one: the next stop is found along the chain first, and only it is focused.
        (Disabling the docks behind for Qt's own move instead told a screen reader ~300 state
        changes a key press, and left a hidden dock holding the focus reachable.)"""
        start = QApplication.focusWidget()
        if start is None or start.window() is not self:
            return super().focusNextPrevChild(next)
        stop = self._next_stop(self._walked(start), next)
        if stop is None:
            return False
        stop.setFocus(Qt.FocusReason.TabFocusReason if next else Qt.FocusReason.BacktabFocusReason)
        return True

    def _next_stop(self, start: QWidget, next: bool) -> QWidget | None:  # noqa: A002
        """The widget Tab (Shift+Tab when not `next`) reaches from `start`, as Qt's own walk
        along the focus chain picks it (QApplicationPrivate::focusNextPrevChild_helper), less
        the docks behind another dock's tab."""
        tab = Qt.FocusPolicy.TabFocus
        self._walked.prune()
        widget: QWidget | None = self._walked.next(start, next)
        while widget is not None and widget is not start:
            proxy = widget  # the one that takes the focus: its deepest focus proxy, or itself
            while (deeper := proxy.focusProxy()) is not None:
                proxy = self._walked(deeper)
            # a compound widget's proxy inside it: tab into it once, not into it and its proxy
            composite = proxy is not widget and (
                proxy.isAncestorOf(widget) if next else widget.isAncestorOf(proxy)
            )
            if (
                proxy.isEnabled()
                and (proxy.focusPolicy() & tab) == tab
                and not composite
                and widget.window() is self
                and widget.isVisibleTo(self)
                and widget.isEnabled()
                and proxy is not start
                and not self._behind_a_tab(widget)
            ):
                return widget
            widget = self._walked.next(widget, next)
        return None

    def _behind_a_tab(self, widget: QWidget) -> bool:
        parent: QWidget | None = widget
        while parent is not None and parent is not self:
            if isinstance(parent, QDockWidget):
                return parent.visibleRegion().isEmpty()
            above = parent.parentWidget()
            parent = None if above is None else self._walked(above)
        return False

    # ---- drops --------------------------------------------------------------------------------
    def drop_target(self, pos: QPoint) -> tuple[int | None, QRect]:
        """The athlete row under `pos` (window coordinates) and its rectangle, if any."""
        viewport = self.sidebar.viewport()
        local = viewport.mapFrom(self, pos)
        if not viewport.rect().contains(local):
            return None, QRect()
        index = self.sidebar.indexAt(local)
        flt = self.controller.sidebar.filter_at(index)  # column 1 (the count) names it too
        if flt is None or flt.section != "athlete":
            return None, QRect()
        row = self.sidebar.visualRect(index.siblingAtColumn(0))
        top_left = viewport.mapTo(self, QPoint(0, row.top()))
        return flt.athlete_id, QRect(top_left, QSize(viewport.width(), row.height()))

    def _athlete_name(self, athlete_id: int | None) -> str:
        index = self.controller.sidebar.index_of(f"athlete:{athlete_id}")
        return str(index.data(SidebarModel.NameRole) or "") if index.isValid() else ""

    def _drag_over(self, event: QDragEnterEvent | QDragMoveEvent) -> None:
        paths = dropped_paths(event)
        if not paths:
            self.drop_overlay.hide()
            return
        accept_as_copy(event)
        hovered, rect = self.drop_target(event.position().toPoint())
        self.drop_athlete_id = hovered
        title = self._drop_title(paths)
        selected = self.controller.upload_athlete_id
        if hovered is not None:
            detail = self.tr("Filed under %1").replace("%1", self._athlete_name(hovered))
        elif selected is not None:
            detail = self.tr(
                "Filed under %1, selected in the sidebar. Drop onto another athlete to file "
                "them there."
            ).replace("%1", self._athlete_name(selected))
        else:
            detail = self.tr(
                "Not filed under an athlete. Drop onto an athlete in the sidebar to file them "
                "there."
            )
        self.drop_overlay.show_over(title, detail, rect)

    def _drop_title(self, paths: list[Path]) -> str:
        """What the drop adds, in files and folders (a whole folder said "1 item"). Only the
        dropped paths are looked at, never a folder's contents, and off the GUI thread: until
        they are, the title names no count. A big folder is walked after the drop."""
        if paths != self._dragged[0]:
            self._dragged = (paths, None)
            self._disk_runner.submit(
                count_folders, paths, on_result=lambda n: self._folders_counted(paths, n)
            )
        folders = self._dragged[1]
        if folders is None:
            return self.tr("Drop to add to the library")
        files = len(paths) - folders
        if files and folders:
            return (
                self.tr("Drop to add %1 and %2 to the library")
                .replace("%1", self.tr("%Ln file(s)", "", files))
                .replace("%2", self.tr("%Ln folder(s)", "", folders))
            )
        if folders:
            return self.tr("Drop to add %Ln folder(s) to the library", "", folders)
        return self.tr("Drop to add %Ln file(s) to the library", "", files)

    def _folders_counted(self, paths: list[Path], folders: int) -> None:
        if paths is not self._dragged[0]:
            return  # of an earlier drag
        self._dragged = (paths, folders)
        overlay = self.drop_overlay
        if overlay.isVisible():  # still dragging: the title now says what the drop adds
            overlay.show_over(self._drop_title(paths), overlay.detail, overlay.target)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self._dragged = ([], None)  # a new drag: the folders may have changed since the last
        self._drag_over(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self._drag_over(event)

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:
        self.drop_overlay.hide()
        self.drop_athlete_id = None
        super().dragLeaveEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        self.drop_overlay.hide()
        paths = dropped_paths(event)
        if paths:
            accept_as_copy(event)
            hovered, _rect = self.drop_target(event.position().toPoint())
            self.drop_athlete_id = None
            self.add_uploads(paths, hovered)

    def add_uploads(self, paths: list[Path], athlete_id: int | None = None) -> None:
        """Queues files and folders for `athlete_id`, else the athlete selected in the sidebar."""
        if athlete_id is None:
            athlete_id = self.controller.upload_athlete_id
        self.uploads.add_paths(paths, athlete_id)
        self.upload_dock.show()
        self.upload_dock.raise_()

    def dialog_folder(self, key: str, kind: str = "image") -> str:
        """Where a file dialog opens: the folder last used for `key` once a worker has found it
        there, else Pictures/Videos if a worker found them, else home. Never a stat here (the
        GUI thread)."""
        if folder := self.dialog_folders.get(key) or self.start_folders.get(kind):
            return folder
        return str(Path.home())  # until the first look answers: $HOME, read from the environment

    def check_dialog_folders(self) -> None:
        """Reads the remembered folders and looks whether they are there, off the GUI thread
        (the state file is in the data folder, maybe on a slow disk): at the start, after each
        dialog and when the window is activated (a disk may go away)."""
        if self._checking_folders:
            self._check_again = True  # one look at a time: a hung one must not pile up threads
            return
        self._checking_folders = True
        offered = dict(self.dialog_folders)  # a look that failed offers none of them
        self._disk_runner.submit(
            look_at_dialog_folders,
            self.state_file,
            dict(self._chosen.chosen),
            on_result=lambda looked: self._folders_checked(*looked),
            on_error=lambda _error: self._folders_checked(offered, {}, self.start_folders),
        )

    def _folders_checked(
        self, looked_at: dict[str, str], found: dict[str, str], starts: dict[str, str]
    ) -> None:
        self._checking_folders = False
        self.start_folders = starts
        for key, folder in looked_at.items():
            if self._chosen.chosen.get(key, folder) != folder:
                continue  # chosen again meanwhile: that one is known to be there
            if key in found:
                self.dialog_folders[key] = folder
            else:
                self.dialog_folders.pop(key, None)
        if self._check_again and not self._shut_down:
            self._check_again = False
            self.check_dialog_folders()

    def remember_folder(self, key: str, folder: Path) -> None:
        # just chosen in a dialog: there, and the next dialog opens in it at once
        self.dialog_folders[key] = self._chosen.chosen[key] = str(folder)
        self._save_folders()

    def _save_folders(self) -> None:
        """Saves the picked folders off the GUI thread, one save at a time (a hung disk must
        not pile up threads); the window's last save writes them too."""
        if self._saving_folders:
            self._save_folders_again = True
            return
        self._saving_folders = True
        self._disk_runner.submit(
            self._chosen.save, on_result=self._folders_saved, on_error=self._folders_saved
        )

    def note_files_elsewhere(self) -> None:
        """At start: files left on another storage (a move stopped by Quit, or failed) said
        in the status bar with how to finish, unless the user chose to keep them there. Quit
        during a move stopped it and the next start said nothing. Counted off the GUI thread
        (the catalog may be a slow or far database)."""
        self._disk_runner.submit(
            self.library.backends.counts_by_backend,
            on_result=self._files_elsewhere_counted,
            on_error=lambda exc: logger.info("Files per storage not counted: %s", exc),
        )

    def _files_elsewhere_counted(self, counts: dict[str, int]) -> None:
        if self._shut_down or self.settings_controller.migrating:
            return  # a move under way says its own progress
        active = self.library.settings.backend_name
        for old, files in sorted(counts.items()):
            if old == active or not files or self.settings_controller.kept == (old, active):
                continue
            text = (
                self.tr(
                    "%Ln file(s) still on %1, new files going to %2: Settings ▸ Save moves "
                    "them (or: mediadesk storage migrate --to %3)",
                    "",
                    files,
                )
                .replace("%1", backend_title(old))
                .replace("%2", backend_title(active))
                .replace("%3", active)
            )
            self.status.showMessage(text)
            return

    def _save_kept(self, pair: tuple[str, str] | None) -> None:
        """The storage choice to remember, written off the GUI thread (the data folder may be
        on a slow disk), as the dialog folders are."""
        value = ">".join(pair) if pair else ""
        self._disk_runner.submit(
            self._chosen.save,
            {KEPT_KEY: value},
            on_error=lambda exc: logger.warning("The storage choice was not saved: %s", exc),
        )

    def _folders_saved(self, outcome: object) -> None:
        self._saving_folders = False
        if isinstance(outcome, BaseException):
            logger.warning("The dialog folders were not saved: %s", outcome)
        if self._save_folders_again and not self._shut_down:
            self._save_folders_again = False
            self._save_folders()

    def import_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(
            self,
            self.tr("Import photos and videos"),
            self.dialog_folder("import"),
            self.tr(
                "Photos and videos (*.jpg *.jpeg *.png *.webp *.gif *.mp4 *.mov *.avi "
                "*.wmv *.webm);;All files (*)"
            ),
        )
        if names:
            self.remember_folder("import", Path(names[0]).parent)
            self.add_uploads([Path(n) for n in names])
        self.check_dialog_folders()

    def import_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(
            self, self.tr("Import a folder"), self.dialog_folder("import")
        )
        if folder:
            self.remember_folder("import", Path(folder).parent)
            self.add_uploads([Path(folder)])
        self.check_dialog_folders()

    # ---- file actions -------------------------------------------------------------------------
    def _current(self) -> FileRecord | None:
        return self.controller.current

    def preview(self) -> None:
        record = self._current()
        if record is not None:  # from the trash too: look before restoring or deleting
            self.controller.request_preview(record)

    def _open_preview(self, record: FileRecord, source: str) -> None:
        try:
            from desktop_app.preview import multimedia_available, open_preview
        except ImportError as exc:
            self.show_error(self.tr("The preview is not available: %1").replace("%1", str(exc)))
            return
        dialog = open_preview(self, record, source)
        self.preview_dialog = dialog
        fallback = self.controller.preview_fallbacks.pop(record.id, None)
        scrub = self.controller.preview_scrubs.pop(record.id, None)
        if record.file_type != "video" or not multimedia_available():
            return
        from desktop_app.preview.video_player import VideoPlayer
        from desktop_app.views.jobs_dock import ScrubPreview

        player = dialog.findChild(VideoPlayer)
        if player is None:
            return
        player.fallback_source = fallback
        if scrub:
            ScrubPreview(player, *scrub)
        # Qt's text for a stream that failed is English and technical (an HTTP status): the
        # library says what failed (a storage outage, a missing file) in the user's language
        c = self.controller
        player.failed.connect(lambda failed: c.explain_preview_failure(record, failed))
        c.previewFailureExplained.connect(player.show_cause)

    def reveal_file(self, file_id: int) -> None:
        """Shows a file in the grid (after unsaved edits are dealt with), selected."""
        if file_id:
            self.leave_edits(lambda: self.controller.reveal(file_id), lambda: None)

    def copy_link(self) -> None:
        record = self._current()
        if record is not None and not record.is_trashed:
            self.controller.copy_link(record.id)

    def reprocess(self) -> None:
        """Every selected stored file, as Move to trash acts on all: with three selected it
        remade the current one alone and said nothing of the others."""
        records = self.browser.selected_records()
        if not records and self._current() is not None:
            records = [self._current()]  # type: ignore[list-item]
        ids = [r.id for r in records if not r.is_trashed and r.status == FileStatus.READY]
        if ids:
            self.controller.reprocess(ids)

    def _on_link(self, url: str) -> None:
        QGuiApplication.clipboard().setText(url)
        self.status.showMessage(self.tr("Link copied to the clipboard"), 5000)

    def _on_select_all_limited(self, selected: int, total: int) -> None:
        """Select all selected the loaded files only: says so, and how to reach the rest."""
        text = self.tr(
            "Selected the %1 files loaded of the %2 in this view: Select all loads at most %3 "
            "more. To act on all of them, narrow the view with a search, a section or an athlete."
        )
        for mark, value in (("%1", selected), ("%2", total), ("%3", END_JUMP)):
            text = text.replace(mark, number_text(value))
        self.status.showMessage(text, 15000)

    def _on_link_needs_server(self, record: FileRecord) -> None:
        """The file's link opens only through the embedded server, which is stopped: copying
        it would hand out a refused link. Asks to start the server, and copies it once the
        server runs."""
        if self.server.running:  # started meanwhile (the panel, another Copy link)
            self.controller.copy_link(record.id)
        elif self.ask_start_server_for_link(record):
            starting = not self.server.runner.busy  # a start or stop under way: its end first
            self._link_after_start = (record.id, starting)
            if starting:
                self.server_panel.start()

    def ask_start_server_for_link(self, record: FileRecord) -> bool:
        """Start the server and copy, or Cancel (the default and the Escape answer)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Copy link"),
            self.tr("The embedded server must be running for links to work."),
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setInformativeText(
            self.tr(
                "Links to files in the local folder open through MediaDesk's embedded server, "
                "which is stopped. Start it and copy the link to “%1”?"
            ).replace("%1", record.original_filename)
        )
        plain_text(box)
        start = box.addButton(
            self.tr("Start the server and copy"), QMessageBox.ButtonRole.AcceptRole
        )
        cancel = box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.exec()
        return box.clickedButton() is start

    def _on_server_state(self, running: bool, _url: str) -> None:
        self._update_link_tip()
        if self._autostarting:
            self._autostarting = False
            error = self.server.last_error
            if not running and error is not None:  # else only "Server: not running" said so
                notice = self.tr("%1 See View ▸ Server.").replace("%1", error.text)
                self.status.showMessage(notice, 15000)
        if self._link_after_start is None:
            return
        file_id, started = self._link_after_start
        if running:
            self._link_after_start = None
            self.controller.copy_link(file_id)
        elif not started:  # what was under way was a stop (or a start that failed): start
            self._link_after_start = (file_id, True)
            self.server_panel.start()
        else:  # the start failed: nothing copied; the Server panel shows why and the port
            self._link_after_start = None
            self.server_dock.show()
            self.server_dock.raise_()
            if self.server.last_error is not None:
                self.show_error(self.server.last_error)

    def _update_link_tip(self) -> None:
        """Copy link says so when links to the local folder's files cannot work right now."""
        settings = self.library.settings
        local = settings.backend_name == "local" and not settings.public_origin
        tip = ""
        if local and not self.server.running:
            tip = self.tr(
                "Links to files in the local folder work only while the embedded server is "
                "running. It is stopped: Copy link offers to start it."
            )
        self.commands.copy_link.setToolTip(tip or self.commands.copy_link.text().replace("&", ""))
        self.details.link_button.setToolTip(tip)

    def export(self) -> None:
        """One file: saved as the name the user picks. Several selected: all of them into a
        folder the user picks, each under its own name (numbered where one is taken)."""
        selected = [r for r in self.browser.selected_records() if not r.is_trashed]
        if len(selected) > 1:
            self.export_many(selected)
            return
        record = self._current()
        if record is None or record.is_trashed:
            return
        # a name the file system takes (255 bytes): a long accented one failed on Save
        proposed = fit_bytes(record.original_filename, 240)
        start = Path(self.dialog_folder("export", record.file_type)) / proposed
        name, _ = QFileDialog.getSaveFileName(self, self.tr("Export"), str(start))
        if name:
            self.remember_folder("export", Path(name).parent)
            self.controller.export(record.id, Path(name))
        self.check_dialog_folders()

    def export_many(self, records: list[FileRecord]) -> None:
        kind = records[0].file_type
        folder = QFileDialog.getExistingDirectory(
            self,
            self.tr("Export %Ln files to a folder", "", len(records)),
            self.dialog_folder("export", kind),
        )
        if folder:
            self.remember_folder("export", Path(folder))
            self.controller.export_many([r.id for r in records], Path(folder))
        self.check_dialog_folders()

    def _targets_where(self, trashed: bool) -> list[int]:
        records = self.browser.selected_records()
        if not records and self._current() is not None:
            records = [self._current()]  # type: ignore[list-item]
        return [r.id for r in records if r.is_trashed == trashed]

    def trash(self) -> None:
        ids = self._targets_where(trashed=False)
        unseen = [r for r in self.browser.offscreen_selected() if r.id in ids]
        if len(ids) > 1 and unseen and not self.confirm_unseen_trash(len(ids), unseen):
            return
        edited = self.details.record
        if ids and self.details.dirty and edited is not None and edited.id in ids:
            # The typed edit is saved first, then the file goes (Undo brings it back with the
            # edit); a failed save (a conflict) trashes nothing and leaves the edit in place
            if self._pending_leave is not None:
                return  # a save is under way already: its end decides
            if self._saving_these_edits() or self.details.request_save():
                self._pending_leave = (edited.id, lambda: self._trash_now(ids), lambda: None)
                return
        if ids:
            self._trash_now(ids)

    def _trash_now(self, ids: list[int]) -> None:
        batch = list(ids)
        self._last_trashed = batch
        self.commands.undo_trash.setEnabled(True)
        self.controller.trash(ids, moved=lambda done: self._trash_moved(batch, done))

    def _trash_moved(self, batch: list[int], done: tuple[int, ...]) -> None:
        # A selected file someone else had already trashed (another desktop or the API, while
        # the question was open or before its event came) was not moved by this batch: Ctrl+Z
        # brought it back, undoing their trash. A batch undone or replaced meanwhile is left.
        if self._last_trashed is not batch:
            return
        moved = set(done)
        self._last_trashed = [i for i in batch if i in moved]
        if not self._last_trashed:
            self.commands.undo_trash.setEnabled(False)

    def confirm_unseen_trash(self, count: int, unseen: list[FileRecord]) -> bool:
        """Asks before trashing several files when some of them are not on screen (selected
        earlier, then scrolled away): Cancel is the default and the Escape answer."""
        buttons = QMessageBox.StandardButton
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Move to trash"),
            self.tr("Move %Ln selected files to the trash?", "", count),
            buttons.NoButton,
            self,
        )
        box.setInformativeText(
            self.tr("%Ln of them are not on screen:", "", len(unseen))
            + "\n"
            + names_text([r.original_filename for r in unseen])
        )
        plain_text(box)
        move = box.addButton(self.tr("Move to trash"), QMessageBox.ButtonRole.AcceptRole)
        cancel = box.addButton(buttons.Cancel)
        box.setDefaultButton(cancel)
        box.setEscapeButton(cancel)
        box.exec()
        return box.clickedButton() is move

    def restore(self) -> None:
        ids = self._targets_where(trashed=True)
        if ids:
            self.controller.restore(ids)

    def delete_permanently(self, *_ignored: object) -> None:
        """Always asks first; `triggered(checked)` arguments are ignored, never a bypass."""
        records = self.browser.selected_records()
        if not records and self._current() is not None:
            records = [self._current()]  # type: ignore[list-item]
        if not records:
            return
        question = self.tr("Delete %Ln file(s) permanently?", "", len(records))
        if confirm_irreversible(
            self,
            self.tr("Delete permanently"),
            question,
            [r.original_filename for r in records],
            self.tr("Delete permanently"),
        ):
            self.controller.delete_permanently([r.id for r in records])

    def empty_trash(self, *_ignored: object) -> None:
        """Edit ▸ Empty trash…: every file in the trash, whether the grid loaded it or not,
        after a question naming the catalog's count (Select all and Shift+Delete reached the
        loaded page only)."""
        count = self.controller.counts.get("trash", 0)
        if count <= 0 or self._emptying_trash:
            return
        if confirm_irreversible(
            self,
            self.tr("Empty trash"),
            self.tr("Permanently delete %Ln file(s) in the trash?", "", count),
            [],
            self.tr("Empty trash"),
        ):
            self._emptying_trash = True
            self._update_empty_trash()
            self.controller.empty_trash(count)

    def _on_trash_emptied(self) -> None:
        self._emptying_trash = False
        self._update_empty_trash()
        self.controller.refresh_sidebar()  # the count the next question names

    def _update_empty_trash(self) -> None:
        trashed = self.controller.counts.get("trash", 0) > 0
        self.commands.empty_trash.setEnabled(trashed and not self._emptying_trash)

    def undo_trash(self) -> None:
        """Ctrl+Z: puts the files of the last move to the trash back."""
        ids, self._last_trashed = self._last_trashed, []
        self.commands.undo_trash.setEnabled(False)
        if ids:
            self.browser.select_on_return(ids)
            self.controller.restore(ids)

    def rename(self) -> None:
        athlete = self.controller.filter.section == "athlete"
        if athlete and (self.sidebar.hasFocus() or self._current() is None):
            self.rename_athlete()
        elif self._current() is not None:
            self.commands.details_panel.setChecked(True)  # the name is edited in the panel
            self.details.start_rename()

    def show_details_panel(self, shown: bool) -> None:
        """View ▸ Details panel (F8): hidden, the grid takes its width."""
        self.splitter.show_pane(2, shown)

    def focus_search(self) -> None:
        self.browser.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.browser.search.selectAll()

    # ---- athletes -----------------------------------------------------------------------------
    def new_athlete(self) -> None:
        name, ok = ask_text(self, self.tr("New athlete"), self.tr("Name:"))
        if ok and name.strip():
            self.controller.create_athlete(name.strip())

    def _choose_athlete(self, athlete_id: int, tries: int = 25) -> None:
        """Selects an athlete in the sidebar once it lists it: one another desktop just added
        reaches the sidebar with the next refresh."""
        index = self.controller.sidebar.index_of(SidebarFilter("athlete", athlete_id).key)
        if index.isValid():
            self.sidebar.setCurrentIndex(index)
        elif tries > 0:
            QTimer.singleShot(200, self, lambda: self._choose_athlete(athlete_id, tries - 1))

    def rename_athlete(self) -> None:
        flt = self.controller.filter
        if flt.section != "athlete" or flt.athlete_id is None:
            return
        index = self.controller.sidebar.index_of(flt.key)
        old = str(index.data(SidebarModel.NameRole) or "")
        # the version of the name shown, taken before the dialog waits for the user: a rename
        # made meanwhile by another desktop or the API is refused, not overwritten
        shown = [a for a in self.controller.sidebar.athletes() if a.id == flt.athlete_id]
        version = shown[0].version if shown and shown[0].name == old else None
        name, ok = ask_text(self, self.tr("Rename athlete"), self.tr("Name:"), old)
        if ok and name.strip() and name.strip() != old:
            self.controller.rename_athlete(flt.athlete_id, name.strip(), version)

    def _on_athlete_rename_refused(self, refused: RenameRefused) -> None:
        """Says the name it was given meanwhile (the sidebar shows it) and offers to rename it
        anyway, over that name's version; Keep is the default and the Escape answer."""
        text = refused.message.text
        self.last_error = text
        self.status.showMessage(text, 10000)
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            self.tr("Rename athlete"),
            text,
            QMessageBox.StandardButton.NoButton,
            self,
        )
        box.setInformativeText(self.tr("Rename it to “%1” anyway?").replace("%1", refused.wanted))
        plain_text(box)
        anyway = box.addButton(self.tr("Rename anyway"), QMessageBox.ButtonRole.AcceptRole)
        keep = box.addButton(
            self.tr("Keep “%1”").replace("%1", refused.current), QMessageBox.ButtonRole.RejectRole
        )
        box.setDefaultButton(keep)
        box.setEscapeButton(keep)
        box.exec()
        if box.clickedButton() is anyway:
            self.controller.rename_athlete(refused.athlete_id, refused.wanted, refused.version)

    # ---- settings, errors, about --------------------------------------------------------------
    def open_settings(self) -> None:
        from desktop_app.views.settings_dialog import SettingsDialog

        shown = getattr(self, "settings_dialog", None)
        if shown is not None and shown.isVisible():
            # one Settings window at a time: a second one for the same controller answered
            # the first one's save too (a storage question twice, a move started twice)
            shown.raise_()
            shown.activateWindow()
            return
        if shown is not None:
            shown.deleteLater()  # closed: its connections to the controller go with it
        self.settings_controller.catch_up()  # saved meanwhile by another process of this folder
        self.settings_dialog = SettingsDialog(self.settings_controller, self)
        self.settings_dialog.open()

    def open_storage_settings(self) -> None:
        """The Settings with the first missing R2 field in focus (the storage bar's button)."""
        self.open_settings()
        dialog = self.settings_dialog
        for field in (dialog.endpoint, dialog.bucket, dialog.access_key, dialog.secret_key):
            if field.isVisibleTo(dialog) and not field.text():
                field.setFocus()
                break

    def _on_settings_saved(self, settings: object, changes: set[str]) -> None:
        if self.storage_bar is not None and changes & set(RESTART_FIELDS):
            self.storage_bar.keys_saved()
        live = {name: getattr(settings, name) for name in LIVE_FIELDS}
        self.library.apply_settings(**live)
        self._update_link_tip()  # a public address set or cleared changes what links need
        self.server.host = getattr(settings, "server_host")  # noqa: B009
        self.server.port = getattr(settings, "server_port")  # noqa: B009
        if not self.server.running:
            self.server_panel.host.setText(self.server.host)
            self.server_panel.port.setValue(self.server.port)
        storage, language = restart_kinds(changes)
        if storage and language:
            text = self.tr(
                "Settings saved. Restart MediaDesk to apply the storage and language changes."
            )
        elif storage:
            text = self.tr("Settings saved. Restart MediaDesk to apply the storage change.")
        elif language:
            text = self.tr("Settings saved. Restart MediaDesk to apply the language change.")
        else:
            text = self.tr("Settings saved.")
        dialog = getattr(self, "settings_dialog", None)
        # (connected before any Settings window: called before it closes on this save)
        if dialog is not None and dialog.isVisible() and dialog.nothing_moved:
            # Move the old files… with none left: said, not a save that seems to skip the move
            text += " " + self.tr("No files needed moving: none are left on the old storage.")
        self.status.showMessage(text, 10000)

    def show_error(self, message: ErrorMessage | str) -> None:
        """A readable, non-blocking error message (also kept for the status bar and tests).

        The technical detail is a second line where it is the point, else behind "Show Details".
        """
        if isinstance(message, str):
            message = ErrorMessage(message)
        self.last_error = message.display()
        logger.warning("Shown to the user: %s", message.full())
        self.status.showMessage(message.text, 10000)
        open_warning(self, message.title or self.tr("MediaDesk"), message)

    def about(self) -> None:
        QMessageBox.about(
            self,
            self.tr("About MediaDesk"),
            "<p><b>MediaDesk %1</b></p><p>%2</p>".replace("%1", html.escape(app_version())).replace(
                "%2",
                self.tr(
                    "MediaDesk manages the photos and videos of your athletes, on this computer "
                    "or in Cloudflare R2, and shares them through a small HTTP server."
                ),
            ),
        )

    # ---- lifetime -----------------------------------------------------------------------------
    def start_services(self) -> None:
        """Starts the embedded server when the settings ask for it."""
        if self.library.settings.server_autostart:
            self._autostarting = True
            self.server.start()
        self.jobs_dock.refresh()

    def _on_processing_event(self, event: object) -> None:
        self.processing.on_event(event)  # type: ignore[arg-type]
        self.jobs_dock.on_event(event)  # type: ignore[arg-type]
        if getattr(event, "kind", "") == "processing" and self.processing_line.follows(
            getattr(event, "file_id", None)
        ):
            self.processing_line.reload()

    def shutdown(self) -> None:
        """Cancels uploads, stops the server and the workers; safe to call twice."""
        if self._shut_down:
            return
        self._shut_down = True
        self.jobs_dock.shutdown()
        self._disk_runner.shutdown()
        try:
            self._chosen.save()  # a folder picked since the last save (after Quit, if any)
        except OSError as exc:
            logger.warning("The dialog folders were not saved: %s", exc)
        self.team.shutdown()
        self.uploads.shutdown()
        self.server.stop_blocking()
        self.controller.shutdown()
        self.settings_controller.runner.shutdown()
        self.settings_controller.cancel_migration()  # stops after the current file; resumable
        self.settings_controller.migration_runner.shutdown(wait_ms=30000)
        self.storage_view.shutdown()

    # ---- window state -------------------------------------------------------------------------
    def save_window_state(self) -> None:
        """Size and place, docks, panes and upload columns, for the next start (at Quit, the
        window hidden first: on the GUI thread), with the dialog folders not yet saved."""
        self._chosen.save(
            {
                "window/geometry": self.saveGeometry(),
                "window/state": self.saveState(STATE_VERSION),
                "window/splitter": self.splitter.saveState(),
                "window/details": self.commands.details_panel.isChecked(),
                "uploads/columns": self.upload_dock.columns_state(),
                "browser/sort": self.controller.sort,
            }
        )

    def restore_window_state(self, saved: Mapping[str, object]) -> bool:
        """Applies the saved state (read_window_state's); True when the docks were restored."""

        def value(key: str) -> QByteArray | None:
            found = saved.get(key)
            return found if isinstance(found, QByteArray) else None

        sort = saved.get("browser/sort")
        if isinstance(sort, str) and sort in SORTS:
            self.controller.sort = sort  # before the first query: no reload
            self.browser.show_sort()
        if (geometry := value("window/geometry")) is not None:
            self.restoreGeometry(geometry)
        if (splitter := value("window/splitter")) is not None:
            self.splitter.restoreState(splitter)
        if isinstance(details := saved.get("window/details"), bool):
            self.commands.details_panel.setChecked(details)
        kept = saved.get(KEPT_KEY)
        if isinstance(kept, str) and kept.count(">") == 1:
            old, new = kept.split(">")
            self.settings_controller.kept = (old, new)
        if (columns := value("uploads/columns")) is not None:
            self.upload_dock.table.horizontalHeader().restoreState(columns)
            self.upload_dock.fit_headers()  # widths saved in another language may clip titles
        docks = value("window/state")
        if docks is not None and self.restoreState(docks, STATE_VERSION):
            self._docks_sized = True  # keep the saved dock heights
            return True
        return False

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 - Qt's name
        super().changeEvent(event)
        if event.type() == QEvent.Type.ActivationChange and self.isActiveWindow():
            self.check_dialog_folders()  # back at the window: a disk may have gone meanwhile

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._docks_sized:
            self._docks_sized = True
            self.resizeDocks(
                [self.upload_dock], [self._first_dock_height()], Qt.Orientation.Vertical
            )
            self.fit_first_start()

    def fit_first_start(self) -> None:
        """At the first start (no saved layout) the grid gets at least FIRST_GRID columns and
        rows, as a media tool opens on a small screen: narrower, the details panel starts
        hidden (F8, or F2 to rename, brings it back); shorter, the bottom docks start closed
        (View ▸ Uploads…; the queue opens by itself when files are added). On a 1366 × 768
        laptop at 150 % (911 × 512) the upload dock and the details panel at their minimums
        left the grid one tile. Whatever the user then shows is saved and wins later."""
        layout = self.layout()
        if layout is not None:
            layout.activate()  # the docks' first height and the splitter's widths, now
        grid = self.browser.grid
        if self.details.isVisibleTo(self) and grid.width() < grid_width(grid, FIRST_GRID):
            self.commands.details_panel.setChecked(False)
        rows = FIRST_GRID * grid.gridSize().height() + grid.spacing()
        if grid.viewport().height() < rows:
            for dock in (self.upload_dock, self.server_dock, self.storage_view, self.jobs_dock):
                dock.hide()
            # a queue read back from a run that ended without saving the window shows itself
            self.uploads.model.rowsInserted.connect(self._show_queue_once)
            if self.uploads.model.rowCount():
                self._show_queue_once()

    def _show_queue_once(self, *_: object) -> None:
        self.uploads.model.rowsInserted.disconnect(self._show_queue_once)
        self.upload_dock.show()
        self.upload_dock.raise_()

    def _first_dock_height(self) -> int:
        screen = self.screen() or QGuiApplication.primaryScreen()
        area = screen.availableGeometry().height() if screen is not None else None
        return first_dock_height(self.height(), area)

    def _close_again(self) -> None:
        self.close()

    def _uploads_left(self) -> int:
        # not "busy": reading back the saved queue is not uploading
        return self.uploads.model.count(*(state for state in UploadState if state.active))

    def _ask_quit_while_uploading(self) -> bool:
        """Yes or No to quitting while files upload; nothing is lost either way (the queue is
        saved and goes on at the next start, upload_controller). Once the queue is idle the
        question no longer applies: the box closes by itself and the quit goes on (it stayed
        up for good, the app never quitting, over a queue long finished)."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Uploads in progress"),
            self.tr(
                "Some files are still uploading. If you quit now, they will continue "
                "where they left off the next time you open MediaDesk. Quit now?"
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )

        def left() -> None:
            box.setInformativeText(self.tr("%Ln file(s) left to upload.", "", self._uploads_left()))

        def idle() -> None:
            if not self._uploads_left():
                box.done(QMessageBox.StandardButton.Yes)

        model = self.uploads.model
        links = [
            (model.stateChanged, left),
            (model.rowsInserted, left),
            (model.rowsRemoved, left),
            (self.uploads.idle, idle),
        ]
        left()
        for signal, slot in links:
            signal.connect(slot)
        try:
            return box.exec() == QMessageBox.StandardButton.Yes
        finally:
            for signal, slot in links:
                signal.disconnect(slot)
            box.deleteLater()

    def _ask_quit_while_moving(self) -> bool:
        """Yes or No to quitting during a storage move, as for uploads: Quit stopped the move
        saying nothing, and the next start said nothing of the files left on the old storage.
        Nothing is lost (shutdown stops it after the current file; the rest stay readable where
        they are); the box closes by itself, the quit going on, once the move ends."""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            self.tr("Moving files"),
            # named, as the status bar names it: which bucket or folder the files go to
            self.tr(
                "Files are still being moved to the new storage (%1). If you quit now, the "
                "move stops after the current file; the files not moved yet stay readable where "
                "they are, and Settings ▸ Save continues the move. Quit now?"
            ).replace("%1", self.settings_controller.destination()),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setObjectName("quit-while-moving")

        def finished(*_: object) -> None:
            box.done(QMessageBox.StandardButton.Yes)

        self.settings_controller.migrationFinished.connect(finished)
        try:
            return box.exec() == QMessageBox.StandardButton.Yes
        finally:
            self.settings_controller.migrationFinished.disconnect(finished)
            box.deleteLater()

    def quit_unattended(self) -> None:
        """Quit as the Quit command does, with nobody to answer (a signal: a logout, `kill`, a
        closed terminal): the dialogs open are cancelled, the edits in the details panel are
        saved (Save, the question's default; dropped if refused), the uploads are not asked
        about (the queue is saved and goes on at the next start), then the app quits."""
        self._unattended = True
        for _ in range(20):  # a cancelled dialog may have been over another
            dialog = QApplication.activeModalWidget()
            if dialog is None:
                break
            if isinstance(dialog, QDialog):
                dialog.reject()  # its exec() returns as after Cancel
            else:
                dialog.close()
        # after the current event: a dialog's exec() rejected above returns first
        QTimer.singleShot(0, self.close)

    def _keep_edits_and_close(self) -> None:
        record = self.details.record

        def dropped() -> None:
            logger.warning("Quitting: the unsaved edits of file %s could not be saved", file_id)
            self.details.revert()
            self.close()

        file_id = record.id if record is not None else None
        if record is not None and (self._saving_these_edits() or self.details.request_save()):
            self._pending_leave = (record.id, self._close_again, dropped)
        else:
            dropped()

    def closeEvent(self, event: QCloseEvent) -> None:
        if not self._shut_down and self.details.dirty:
            event.ignore()
            if self._unattended:
                self._keep_edits_and_close()  # closes again once saved
            else:
                self.leave_edits(self._close_again, lambda: None)  # asks first
            return
        unasked = self._unattended or self._shut_down
        if self._uploads_left() and not unasked and not self._ask_quit_while_uploading():
            event.ignore()
            return
        moving = self.settings_controller.migrating
        if moving and not unasked and not self._ask_quit_while_moving():
            event.ignore()
            return
        # Hidden first: the state is written to the data folder, which may be on a slow disk
        # (seconds of a window that stays after Quit); the clean-up below waits for the workers
        self.hide()
        if not self._shut_down:
            self.save_window_state()  # geometry and docks are kept by a hidden window too
        self.shutdown()
        event.accept()
        if self._unattended:
            QApplication.quit()  # a preview or another window of ours left open keeps it up
