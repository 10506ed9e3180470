"""Video processing in the window: the Jobs dock, tile badges and the details panel's line.

Every catalog read runs in a TaskRunner thread; `processing` change events (from this app's
workers, the server's, or other machines' through the change feed) arrive as Qt signals in the
GUI thread and only update what is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QCoreApplication,
    QEvent,
    QObject,
    QPoint,
    QRect,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPalette,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from core.errors import NotFound
from core.events import ChangeEvent, EventKind
from core.jobs import ACTIVE, RETRYABLE, JobRecord, JobState, Processing, combine
from core.library import Library
from core.video import service
from core.video.service import ScrubCue
from desktop_app.errors import as_change, describe_error, job_reason, job_reason_text
from desktop_app.formatting import PROGRESS_FORMAT, percent_text, tip_text
from desktop_app.views.tables import MiddleElideDelegate, read_only_table, select_row_alone
from desktop_app.workers import TaskRunner

# The File column is as wide as its longest name up to this share of the table (Reason, which
# stretches, keeps the rest), never narrower than FILE_COLUMN_MIN pixels
FILE_COLUMN_SHARE = 0.4
FILE_COLUMN_MIN = 160
REFRESH_DELAY_MS = 400  # progress events come twice a second per job: one reload per burst
READ_AGAIN_MS = 5000  # a list that could not be read (the catalog out of reach) is asked again


def state_text(state: str) -> str:
    """A job or processing state in the interface language."""
    names: dict[str, str] = {
        JobState.QUEUED: QCoreApplication.translate("Jobs", "queued"),
        JobState.RUNNING: QCoreApplication.translate("Jobs", "running"),
        JobState.DONE: QCoreApplication.translate("Jobs", "done"),
        JobState.SKIPPED: QCoreApplication.translate("Jobs", "skipped"),
        JobState.FAILED: QCoreApplication.translate("Jobs", "failed"),
        JobState.CANCELLED: QCoreApplication.translate("Jobs", "cancelled"),
    }
    return names.get(state, state)


def kind_text(kind: str) -> str:
    """A job kind or rendition name ("web", "thumbnails"…) in the interface language; the
    English words are the API's names, which the table and the details panel showed as they
    are in every language."""
    names: dict[str, str] = {
        "original": QCoreApplication.translate("Jobs", "original", "rendition"),
        "faststart": QCoreApplication.translate("Jobs", "faststart", "job kind"),
        "web": QCoreApplication.translate("Jobs", "web", "job kind"),
        "hls": QCoreApplication.translate("Jobs", "hls", "job kind"),
        "thumbnails": QCoreApplication.translate("Jobs", "thumbnails", "job kind"),
    }
    return names.get(kind, kind)


class ProcessingStates(QObject):
    """file id → combined processing state, kept current from `processing` events."""

    changed = Signal(int)  # file id

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._states: dict[int, dict[str, Any]] = {}

    def get(self, file_id: int) -> dict[str, Any] | None:
        return self._states.get(file_id)

    def set(self, file_id: int, state: dict[str, Any] | None) -> None:
        if state is None:
            self._states.pop(file_id, None)
        else:
            self._states[file_id] = dict(state)
        self.changed.emit(file_id)

    def on_event(self, event: ChangeEvent) -> None:
        if event.file_id is None:
            return
        if event.kind == EventKind.PROCESSING:
            self.set(event.file_id, event.data.get("processing"))
        elif event.kind == EventKind.DELETED:
            self.set(event.file_id, None)


BADGE_COLORS = {
    JobState.FAILED: QColor(200, 40, 40, 220),
    JobState.QUEUED: QColor(0, 0, 0, 170),
    JobState.RUNNING: QColor(20, 90, 180, 220),
}


def badge_text(kind: str, progress: float | None, metrics: QFontMetrics) -> str:
    """A symbol where the tile's font has one, else the state's word: an hourglass missing
    from the font painted an empty box (DejaVu, the usual Linux font, has none)."""
    if kind == JobState.RUNNING:
        percent = percent_text(progress)
        return f"\u2699 {percent}" if metrics.inFontUcs4(0x2699) else percent
    if kind == JobState.FAILED and metrics.inFontUcs4(0x26A0):
        return "\u26a0"
    return state_text(kind)


def draw_processing_badge(painter: QPainter, box: QRect, state: dict[str, Any]) -> None:
    """A top-left badge on a grid tile while a video is processed or when it failed."""
    kind = state.get("state")
    if kind not in (JobState.QUEUED, JobState.RUNNING, JobState.FAILED):
        return
    painter.save()
    font = QFont(painter.font())
    font.setBold(True)
    font.setPointSizeF(max(font.pointSizeF() * 0.85, 7.0))
    painter.setFont(font)
    metrics = painter.fontMetrics()
    text, color = badge_text(kind, state.get("progress"), metrics), BADGE_COLORS[kind]
    width, height = metrics.horizontalAdvance(text) + 12, metrics.height() + 4
    badge = QRect(box.left() + 4, box.top() + 4, width, height)
    path = QPainterPath()
    path.addRoundedRect(badge, 4, 4)
    painter.fillPath(path, color)
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(badge, int(Qt.AlignmentFlag.AlignCenter), text)
    painter.restore()


class ProcessingLine(QLabel):
    """The details panel's processing state and renditions of the current video."""

    def __init__(self, library: Library, runner: TaskRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.library = library
        self.runner = runner
        self.file_id: int | None = None
        # the file whose jobs these are: another one when the two share a stored object
        self._jobs_of: int | None = None
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.setTextFormat(Qt.TextFormat.PlainText)  # failures may quote a file name
        self.setObjectName("processing-line")
        self.hide()

    def show_file(self, record: Any) -> None:
        if record is None or getattr(record, "file_type", None) != "video":
            self.file_id = self._jobs_of = None
            self.hide()
            return
        if record.id != self.file_id:
            self._jobs_of = None
        self.file_id = record.id
        self.reload()

    def follows(self, file_id: int | None) -> bool:
        """Whether a `processing` event about `file_id` changes what this line shows."""
        return file_id is not None and file_id in (self.file_id, self._jobs_of)

    def reload(self) -> None:
        file_id = self.file_id
        if file_id is None:
            return

        def read() -> tuple[Any, list[JobRecord]]:
            return self.library.get_file(file_id), self.library.jobs.latest_for_file(file_id)

        self.runner.submit(read, on_result=lambda value: self._fill(file_id, *value))

    def _fill(self, file_id: int, record: Any, jobs: list[JobRecord]) -> None:
        if file_id != self.file_id:
            return
        self._jobs_of = jobs[0].file_id if jobs else None
        state: Processing | None = combine(jobs)
        if state is None:
            self.setText(self.tr("Processing: not queued"))
            self.setToolTip("")
            self.show()
            return
        lines = [
            self.tr("Processing: %1 (%2 %)")
            .replace("%1", state_text(state.state))
            .replace("%2", str(int(round(state.progress * 100))))
        ]
        saying_why = [
            job
            for job in jobs
            if job.state in (JobState.FAILED, JobState.SKIPPED)
            and (job.error or job.result)
            and (state.state != JobState.FAILED or job.state == JobState.FAILED)
        ]
        details = []
        if state.error and saying_why:  # combine's rule of which jobs say why, in user's words
            why = [(kind_text(job.kind), job_reason(job)) for job in saying_why]
            lines.append(
                self.tr("Why: %1").replace("%1", "; ".join(f"{k}: {m.text}" for k, m in why))
            )
            details = [f"{k}: {m.technical()}" for k, m in why if m.detail]
        self.setToolTip(tip_text("\n".join(details)))  # a failure's English message, labelled
        names = []
        for item in service.renditions(record, jobs):
            size = f"{item['width']}×{item['height']}" if item.get("width") else ""
            names.append(f"{kind_text(str(item['name']))} {size}".strip())
        lines.append(self.tr("Renditions: %1").replace("%1", ", ".join(names)))
        self.setText("\n".join(lines))
        self.show()


def _read_jobs(library: Library, state: str | None) -> tuple[list[JobRecord], dict[int, str]]:
    """The jobs listed and the names of their files (runs in the dock's worker thread)."""
    jobs, _total = library.jobs.list(state, None, 500, 0)
    names = {}
    for file_id in {job.file_id for job in jobs}:
        try:
            names[file_id] = library.get_file(file_id).original_filename
        except NotFound:  # deleted meanwhile: its id is all there is to show
            continue
    return jobs, names


class JobsDock(QDockWidget):
    """Every processing job: progress, cancel, retry, reprocess."""

    COLUMNS = 7

    def __init__(
        self,
        library: Library,
        states: ProcessingStates | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(self.tr("Jobs"), parent)
        self.setObjectName("jobs-dock")
        self.library = library
        self.states = states
        self.runner = TaskRunner(2, self)
        self._asked = 0  # reads of the list asked for: refresh
        body = QWidget(self)
        self.status = QLabel(body)
        self.status.setTextFormat(Qt.TextFormat.PlainText)  # errors may quote a name
        # A catalog outage's sentence is ~1,900 px on one line: unwrapped, it was the least
        # width of every panel tabbed with this one, and the window grew past the screen
        # (the details panel out of sight) and could not be made narrower until a restart.
        self.status.setWordWrap(True)
        self._read_error = ""  # the status line says a failed read of the list (refresh)
        self.runner.failed.connect(
            lambda exc: self.status.setText(describe_error(as_change(exc)).text)
        )
        column = QVBoxLayout(body)
        bar = QHBoxLayout()
        self.filter = QComboBox(body)
        self.filter.addItem(self.tr("All jobs"), None)
        for state in (
            JobState.QUEUED,
            JobState.RUNNING,
            JobState.FAILED,
            JobState.DONE,
            JobState.SKIPPED,
            JobState.CANCELLED,
        ):
            self.filter.addItem(state_text(state), state)
        self.filter.currentIndexChanged.connect(lambda _i: self.refresh())
        # A box's name is its value alone: a name of its own, and a label a screen reader
        # on Linux reads beside the value (its labelled-by relation, through the buddy)
        self.filter.setAccessibleName(self.tr("Jobs shown"))
        filter_label = QLabel(self.tr("Show:"), body)
        filter_label.setBuddy(self.filter)
        bar.addWidget(filter_label)
        self.cancel_button = QPushButton(self.tr("Cancel"), body)
        self.retry_button = QPushButton(self.tr("Retry"), body)
        self.reprocess_button = QPushButton(self.tr("Process again"), body)
        self.refresh_button = QPushButton(self.tr("Refresh"), body)
        for w in (self.filter, self.cancel_button, self.retry_button, self.reprocess_button):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.refresh_button)
        column.addLayout(bar)
        self.table = read_only_table(
            body,
            [
                self.tr("Job"),
                self.tr("File"),
                self.tr("Kind"),
                self.tr("State"),
                self.tr("Progress"),
                self.tr("Attempts"),
                self.tr("Reason"),
            ],
            stretch=self.COLUMNS - 1,
        )
        self.table.setAccessibleName(self.tr("Jobs"))
        # A column the user widened or narrowed by hand keeps that width: the fit below runs
        # at every refresh and would otherwise undo it within seconds
        self._fitting = False
        self._user_sized: set[int] = set()
        self.table.horizontalHeader().sectionResized.connect(self._on_section_resized)
        # A name longer than its column shows its start and extension on one line; wrapped in
        # the ~100 px of a default column ("vídeo Ana / Pérez 20.mp4") it left Reason, which
        # stretches, with most of the width empty
        self.table.setWordWrap(False)
        self.table.setItemDelegateForColumn(1, MiddleElideDelegate(self.table))
        self.table.itemSelectionChanged.connect(self._update_buttons)
        # What an empty table means, over its empty area (like the upload queue's)
        self.empty = QLabel(self.table.viewport())
        self.empty.setObjectName("jobs-empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.empty.setForegroundRole(QPalette.ColorRole.PlaceholderText)
        self.table.viewport().installEventFilter(self)
        column.addWidget(self.table)
        column.addWidget(self.status)
        self.setWidget(body)
        self.jobs: list[JobRecord] = []
        self.names: dict[int, str] = {}  # file id → file name, of the files listed
        self._loaded = False  # the first list has arrived
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REFRESH_DELAY_MS)
        self._timer.timeout.connect(self.refresh)
        self.cancel_button.clicked.connect(lambda: self._act(self.library.jobs.cancel))
        self.retry_button.clicked.connect(lambda: self._act(self.library.jobs.retry))
        self.reprocess_button.clicked.connect(self._reprocess)
        self.refresh_button.clicked.connect(self.refresh)
        self._update_buttons()
        self._show_empty()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self.empty.setGeometry(self.table.viewport().rect().adjusted(16, 8, -16, -8))
        return False

    def _show_empty(self) -> None:
        """Says why the table is empty: no video was processed yet, or none in this state."""
        if self.table.rowCount():
            self.empty.hide()
            return
        if not self._loaded:
            self.empty.setText(self.tr("Loading…"))
        elif self.filter.currentData() is None:
            self.empty.setText(
                self.tr(
                    "No processing jobs yet. Each uploaded video gets a thumbnail and versions "
                    "that play in browsers; their jobs show here."
                )
            )
        else:
            self.empty.setText(self.tr("No jobs in this state."))
        self.empty.setGeometry(self.table.viewport().rect().adjusted(16, 8, -16, -8))
        self.empty.show()

    # ---- data -------------------------------------------------------------------------------
    def on_event(self, event: ChangeEvent) -> None:
        listed = event.file_id is not None and event.file_id in self.names
        renamed = event.kind == EventKind.UPDATED and listed  # the File column shows its name
        if (event.kind in ("processing", "deleted") or renamed) and not self._timer.isActive():
            self._timer.start(REFRESH_DELAY_MS)  # start(ms) of a failed read changed it

    def refresh(self) -> None:
        state = self.filter.currentData()
        # Two reads run at once (the runner's two threads): one asked before a cancel could end
        # after one asked after it, and its list (the job still queued) stayed shown, Retry
        # disabled on a cancelled job. Only the latest read asked fills the table.
        self._asked += 1
        asked = self._asked
        self.runner.submit(
            _read_jobs,
            self.library,
            state,
            on_result=lambda r: self._fill(*r) if asked == self._asked else None,
            on_error=lambda exc: self._read_failed(exc) if asked == self._asked else None,
        )

    def _read_failed(self, exc: BaseException) -> None:
        """Said under the table, and the list asked again until it answers: the sentence of
        a catalog outage stayed there after the catalog was back and the list had been read
        again, and nothing read it again without a job's event."""
        self._read_error = describe_error(as_change(exc)).text
        self.status.setText(self._read_error)
        if not self._timer.isActive():
            self._timer.start(READ_AGAIN_MS)

    def _fill(self, jobs: list[JobRecord], names: dict[int, str] | None = None) -> None:
        if self._read_error:
            if self.status.text() == self._read_error:  # not a later action's words
                self.status.clear()
            self._read_error = ""
        selected = self.selected()
        keep = selected.id if selected else None
        self.jobs, self._loaded = jobs, True
        self.names = dict(names or {})
        self._update_states(jobs)
        self.table.setRowCount(len(jobs))
        for row, job in enumerate(jobs):
            values = [
                str(job.id),
                self.names.get(job.file_id, f"#{job.file_id}"),
                kind_text(job.kind),
                state_text(job.state),
                "",
                str(job.attempts),
                job_reason_text(job) if job.error or job.reason else "",
            ]
            for col, text in enumerate(values):
                item = QTableWidgetItem(text)
                if col == self.COLUMNS - 1 and text:
                    # a failure's English message too
                    item.setToolTip(tip_text(job_reason(job).full()))
                elif col == 1:  # the id the API and the logs speak of
                    item.setToolTip(self.tr("File id: %1").replace("%1", str(job.file_id)))
                self.table.setItem(row, col, item)
            bar = QProgressBar(self.table)
            bar.setRange(0, 100)
            bar.setValue(int(round(job.progress * 100)))
            bar.setFormat(PROGRESS_FORMAT)  # "100 %" as the upload queue beside it, not "100%"
            self.table.setCellWidget(row, 4, bar)
            if job.id == keep:
                select_row_alone(self.table, self.table.model().index(row, 0))
        self._fit_columns()
        self._update_buttons()
        self._show_empty()

    def _fit_columns(self) -> None:
        """The short columns as wide as their texts (headers too, in Spanish "Intentos"); the
        file names' as wide as the longest, up to FILE_COLUMN_SHARE of the table; Reason, which
        stretches, has the rest."""
        self._fitting = True
        try:
            for col in (0, 1, 2, 3, 5):
                if col not in self._user_sized:
                    self.table.resizeColumnToContents(col)
            cap = max(FILE_COLUMN_MIN, int(self.table.viewport().width() * FILE_COLUMN_SHARE))
            if 1 not in self._user_sized and self.table.columnWidth(1) > cap:
                self.table.setColumnWidth(1, cap)
        finally:
            self._fitting = False

    def _on_section_resized(self, col: int, _old: int, _new: int) -> None:
        if not self._fitting and col != self.COLUMNS - 1:  # Reason stretches: Qt sizes it
            self._user_sized.add(col)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self.table.rowCount():
            self._fit_columns()  # the cap follows the width

    def _update_states(self, jobs: list[JobRecord]) -> None:
        """Tile badges for files whose newest jobs are listed (a full list only)."""
        if self.states is None or self.filter.currentData() is not None:
            return
        latest: dict[int, dict[str, JobRecord]] = {}
        for job in sorted(jobs, key=lambda j: j.id):
            latest.setdefault(job.file_id, {})[job.kind] = job
        for file_id, by_kind in latest.items():
            state = combine(list(by_kind.values()))
            current = self.states.get(file_id)
            wanted = state.as_dict() if state else None
            if current != wanted:
                self.states.set(file_id, wanted)

    def selected(self) -> JobRecord | None:
        rows = {i.row() for i in self.table.selectedItems()}
        if len(rows) != 1:
            return None
        row = rows.pop()
        return self.jobs[row] if 0 <= row < len(self.jobs) else None

    def _update_buttons(self) -> None:
        job = self.selected()
        self.cancel_button.setEnabled(job is not None and job.state in ACTIVE)
        self.retry_button.setEnabled(job is not None and job.state in RETRYABLE)
        self.reprocess_button.setEnabled(job is not None)

    # ---- actions ----------------------------------------------------------------------------
    def _act(self, action: Callable[[int], JobRecord]) -> None:
        job = self.selected()
        if job is None:
            return

        def run() -> JobRecord:
            changed = action(job.id)
            service.publish(self.library, changed.file_id, changed)
            return changed

        self.runner.submit(
            run,
            on_result=lambda _j: self.refresh(),
            on_error=lambda exc: self.status.setText(describe_error(as_change(exc)).text),
        )

    def _reprocess(self) -> None:
        job = self.selected()
        if job is None:
            return
        self.runner.submit(
            service.reprocess,
            self.library,
            job.file_id,
            on_result=lambda jobs: self.status.setText(
                self.tr("Queued %Ln job(s) again", "", len(jobs))
            ),
            on_error=lambda exc: self.status.setText(describe_error(as_change(exc)).text),
        )

    def shutdown(self) -> None:
        self._timer.stop()
        self.runner.shutdown()


class ScrubPreview(QObject):
    """The scrub thumbnail of the time under the mouse, shown above a player's seek bar."""

    def __init__(self, player: Any, cues: list[ScrubCue], sprite: bytes) -> None:
        super().__init__(player)
        self.player = player
        self.cues = cues
        self.sprite = QPixmap()
        self.sprite.loadFromData(sprite, "JPG")
        self.slider = player.controls.seek_slider
        # A window of its own, as a tool tip: a child label, however raised, was drawn under
        # QVideoWidget's native video surface in a real X11 window (a 3-4 px strip of it
        # showed). Owned by the player, so it goes with it; it never takes the keyboard.
        self.popup = QLabel(player, Qt.WindowType.ToolTip | Qt.WindowType.FramelessWindowHint)
        self.popup.setObjectName("scrub-preview")
        self.popup.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.popup.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.popup.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.popup.setStyleSheet("border: 2px solid white; background: black;")
        self.popup.hide()
        self.slider.setMouseTracking(True)
        self.slider.installEventFilter(self)
        player.installEventFilter(self)
        self._window: QObject | None = None  # the player's window, watched once shown in it
        app = QCoreApplication.instance()
        if isinstance(app, QGuiApplication):
            # another application in front: a tool-tip window would float over it
            app.applicationStateChanged.connect(self._on_application_state)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if watched is self.slider:
            if kind == QEvent.Type.MouseMove and isinstance(event, QMouseEvent):
                self.show_at(int(event.position().x()))
            elif kind in (QEvent.Type.Leave, QEvent.Type.Hide):
                self.popup.hide()
        elif kind in _POPUP_ENDS:
            # the player or its window: a window of its own stays where it was put
            self.popup.hide()
        return False

    def _on_application_state(self, state: Qt.ApplicationState) -> None:
        if state != Qt.ApplicationState.ApplicationActive:
            self.popup.hide()

    def time_at(self, x: int) -> float:
        duration = self.player.player.duration() / 1000 or (self.cues[-1].end if self.cues else 0)
        return max(0.0, min(1.0, x / max(self.slider.width(), 1))) * duration

    def cue_at(self, seconds: float) -> ScrubCue | None:
        for cue in self.cues:
            if cue.start <= seconds < cue.end:
                return cue
        return self.cues[-1] if self.cues else None

    def show_at(self, x: int) -> None:
        cue = self.cue_at(self.time_at(x))
        if cue is None or self.sprite.isNull() or not self.slider.isVisible():
            return
        window = self.player.window()
        if window is not self._window and window is not self.player:
            # the player is put in its dialog after it is made: watched from its first hover
            window.installEventFilter(self)
            self._window = window
        self.popup.setPixmap(self.sprite.copy(QRect(cue.x, cue.y, cue.w, cue.h)))
        size = QSize(cue.w + 4, cue.h + 4)
        self.popup.resize(size)
        # global coordinates: centred on the mouse over the player's width, above the bar,
        # and on the screen the bar is on
        at = self.slider.mapToGlobal(QPoint(x, 0))
        player = QRect(self.player.mapToGlobal(QPoint(0, 0)), self.player.size())
        screen = self.slider.screen().availableGeometry()
        left = at.x() - size.width() // 2
        left = max(player.left(), min(left, player.right() + 1 - size.width()))
        left = max(screen.left(), min(left, screen.right() + 1 - size.width()))
        top = max(screen.top(), at.y() - size.height() - 4)
        self.popup.move(left, top)
        self.popup.show()


# what ends a scrub thumbnail's hover, on the player or its window (ScrubPreview.eventFilter)
_POPUP_ENDS = frozenset(
    {
        QEvent.Type.Hide,
        QEvent.Type.Close,
        QEvent.Type.Move,
        QEvent.Type.Resize,
        QEvent.Type.WindowDeactivate,
        QEvent.Type.WindowStateChange,
    }
)
