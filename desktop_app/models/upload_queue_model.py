"""The upload queue: one row per file with per-stage progress, speed, ETA and state."""

from __future__ import annotations

import contextlib
import itertools
import os
import threading
import time
from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction
from pathlib import Path
from typing import Any, NamedTuple

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    Qt,
    Signal,
)

from core.filenames import readable_name, visible_text
from desktop_app.errors import technical_text
from desktop_app.formatting import eta_text, path_text, size_text, speed_text, tip_text
from desktop_app.models import Index
from desktop_app.upload_persistence import new_key

USER = int(Qt.ItemDataRole.UserRole)

# The ingest stages core reports, by name. Byte stages carry a real done/total; the others
# (checking the file, making the thumbnail, writing the catalog row) have no fraction to show,
# so the row says what it is doing instead of inventing a percentage.
BYTE_STAGES = ("reading", "uploading", "sending")
# Share of a file's overall progress (the footer's total) per byte stage: hashing reads the
# file once, storing it reads it again; nothing else moves the bar.
STAGE_SPAN = {"reading": (0.0, 0.5), "uploading": (0.5, 1.0), "sending": (0.0, 0.98)}
# Big files go as resumable uploads (core/resumable.py): one "sending" stage, in parts, that a
# pause or a restart continues from the last part the store acknowledged.
SENDING_STAGES = ("uploading", "sending", "finishing")
FINISHING_FRACTION = 0.99
# The speed is the pace the bytes kept most of the last few seconds (_pace): parts of a big
# file leave in bursts (the socket takes a part's first MiB at once, then waits on the link;
# nothing is read while its last MiB drain), which a rate between two reports shows as jumps.
SPEED_WINDOW = 6.0
# ...unless the waits take more than half of those seconds: a store slow to acknowledge each
# part (the link idle meanwhile) made the median the wait's, 0.4 MiB/s of a 5.7 MiB/s upload
# and an ETA ten times too long. Then the window's average is shown, once it is long enough
# (this share of SPEED_WINDOW) for a part's first burst to move it little.
AVERAGE_SPAN = 2 / 3
# A part's first bytes fill the socket's buffer at once (a lead of up to a few MiB over what
# reached the store): a resumable upload's speed is shown once half a second was seen.
SENDING_SETTLE = 0.5


def source_key(path: Path) -> str:
    """What tells two rows of one local file apart from two files: its absolute path, in the
    case the system compares (Windows: any). No disk access, the window's thread asks it."""
    return os.path.normcase(os.path.abspath(path))


class UploadState(StrEnum):
    QUEUED = "queued"
    VALIDATING = "validating"
    UPLOADING = "uploading"
    DONE = "done"
    DUPLICATE = "duplicate"
    FAILED = "failed"
    CANCELLED = "cancelled"
    PAUSED = "paused"  # by the user, by closing the app, or while the storage is unreachable

    @property
    def active(self) -> bool:
        return self in (UploadState.QUEUED, UploadState.VALIDATING, UploadState.UPLOADING)

    @property
    def finished(self) -> bool:
        return not self.active

    @property
    def running(self) -> bool:
        """A worker is on it now (queued rows are waiting, not running)."""
        return self in (UploadState.VALIDATING, UploadState.UPLOADING)

    @property
    def ended(self) -> bool:
        """Nothing more will happen to the row unless the user acts (paused rows will go on)."""
        return self.finished and self != UploadState.PAUSED

    @property
    def pending(self) -> bool:
        """Still to be sent (queued, running or paused): the file is not queued again."""
        return self.active or self == UploadState.PAUSED

    @property
    def clearable(self) -> bool:
        """What *Clear finished* removes: failures stay until the user retries or removes them."""
        return self in (UploadState.DONE, UploadState.DUPLICATE, UploadState.CANCELLED)


@dataclass
class UploadItem:
    id: int
    path: Path
    size: int
    athlete_id: int | None = None
    state: UploadState = UploadState.QUEUED
    fraction: float = 0.0  # overall, 0..1 (hashing is the first half, storing the second)
    stage: str = ""  # ingest stage: reading, validating, thumbnail, uploading, finishing
    stage_fraction: float | None = None  # of the current stage; None when it has no measure
    speed: float = 0.0  # bytes per second in the current byte stage, 0 when not measured
    eta: float | None = None  # seconds left, only while storing at a measured speed
    reason: str = ""  # why it failed, a translated sentence
    detail: str = ""  # the technical cause (English), shown labelled in the tooltip
    error: dict[str, Any] | None = None  # the failure as kept on disk (errors.error_record)
    file_id: int | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float | None = None
    upload_id: str | None = None  # the resumable upload holding what was already sent
    pause_requested: bool = False  # the worker stops (a part on its way is dropped), the row pauses
    key: str = field(default_factory=new_key)  # names the row on disk (upload_persistence)
    queued_at: float | None = field(default_factory=time.time)  # when the user queued it
    restored: bool = False  # read back from the queue saved by an earlier run of the app
    _stage_start: tuple[float, int] = (0.0, 0)
    _recent: deque[tuple[float, int]] = field(default_factory=deque)  # (time, done), newest last
    # What the model's running totals hold for this row: (state, weight, done); see _recount
    _counted: tuple[UploadState, int, Fraction] | None = None
    _source: str = ""  # source_key(path), made once when the row is added

    @property
    def name(self) -> str:
        # as the library will keep it: a name on disk that is not UTF-8 read as it was written
        # (b"Jos\xe9.jpg": José.jpg), without invisible characters (a right-to-left override
        # showed "photo\u202egpj.exe" reversed, as "photoexe.jpg", in the queue's row)
        return visible_text(readable_name(self.path.name))


class NewRow(NamedTuple):
    """A row to add; `restored` ones keep the `key` and `queued_at` they were saved with."""

    path: Path
    size: int
    athlete_id: int | None = None
    key: str | None = None
    queued_at: float | None = None
    restored: bool = False


def _pace(recent: deque[tuple[float, int]]) -> float:
    """The rate of the steps between reports that covers half their time (a median weighted by
    time): a burst is a short step, a wait a single one, neither the link's pace. When the
    waits are most of the time (and the average says so: over twice the median), the average
    over the window: the waits are then the pace, not an exception to it."""
    steps = sorted(
        ((d1 - d0) / (t1 - t0), t1 - t0)
        for (t0, d0), (t1, d1) in itertools.pairwise(recent)
        if t1 > t0
    )
    half = sum(span for _, span in steps) / 2
    median = 0.0
    for rate, span in steps:
        half -= span
        if half <= 0:
            median = rate
            break
    (first_time, first_done), (last_time, last_done) = recent[0], recent[-1]
    span = last_time - first_time
    if span >= SPEED_WINDOW * AVERAGE_SPAN:
        average = (last_done - first_done) / span
        if average > 2 * median:
            return average
    return median


class UploadQueueModel(QAbstractTableModel):
    """State only: the upload controller runs the work and reports here."""

    NAME, SIZE, PROGRESS, SPEED, ETA, STATE = range(6)
    ProgressRole = USER + 1  # 0..100 of the current stage; -1 while the stage has no measure
    StateRole = USER + 2
    ItemIdRole = USER + 3
    ReasonRole = USER + 4
    ProgressTextRole = USER + 5  # what the progress bar says ("Hashing 40 %", "Checking…")
    FileIdRole = USER + 6  # the catalog file of a finished row, else None

    totalProgressChanged = Signal(int, int)  # done per mille, running file count
    stateChanged = Signal(int, str)  # item id, new state

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[UploadItem] = []
        self._ids = itertools.count(1)
        # Thousands of rows arrive in a bulk import and each changes dozens of times: lookups
        # and totals are kept up to date per change instead of walking every row (that made a
        # 3,000-file import quadratic). _rows may go stale after a removal; row_of repairs it.
        self._by_id: dict[int, UploadItem] = {}
        self._rows: dict[int, int] = {}
        self._counts: Counter[UploadState] = Counter()
        self._weight = 0  # sum of max(size, 1) over the rows
        # source_key -> how many rows of that file are still to send (UploadState.pending)
        self._pending: Counter[str] = Counter()
        # Done bytes as an exact sum (floats are exact fractions): adding and taking back the
        # same terms returns exactly to where it was, so a finished queue reads exactly 100 %.
        self._done = Fraction(0)
        # Inside batch(): the rows changed (by id) and whether the total is to announce
        self._batching = 0
        self._changed: set[int] = set()
        self._total_due = False

    # ---- items ------------------------------------------------------------------------------
    def add(
        self,
        path: Path,
        size: int,
        athlete_id: int | None = None,
        *,
        key: str | None = None,
        queued_at: float | None = None,
        restored: bool = False,
    ) -> UploadItem:
        return self.add_many([NewRow(path, size, athlete_id, key, queued_at, restored)])[0]

    def add_many(self, rows: Iterable[NewRow]) -> list[UploadItem]:
        """Appends rows in one insertion and one new total: the views lay out once for a
        chunk of a big drop, not once per file."""
        added: list[UploadItem] = []
        for new in rows:
            item = UploadItem(next(self._ids), Path(new.path), new.size, new.athlete_id)
            item._source = source_key(item.path)
            if new.restored:  # a saved row: its name on disk and its age stay
                item.key, item.queued_at, item.restored = new.key or item.key, new.queued_at, True
            added.append(item)
        if not added:
            return added
        first = len(self._items)
        self.beginInsertRows(QModelIndex(), first, first + len(added) - 1)
        for row, item in enumerate(added, first):
            self._items.append(item)
            self._by_id[item.id] = item
            self._rows[item.id] = row
            self._recount(item)
        self.endInsertRows()
        self._total_changed()
        return added

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """Changes of many rows (Retry failed, Cancel all, Pause all) are announced when it
        ends: one dataChanged per run of neighbouring rows and one new total, not one each
        per row (a thousand rows froze the window for seconds)."""
        self._batching += 1
        try:
            yield
        finally:
            self._batching -= 1
            if not self._batching:
                self._end_batch()

    def _end_batch(self) -> None:
        rows = sorted({self.row_of(item_id) for item_id in self._changed} - {-1})
        self._changed.clear()
        start = 0
        for n in range(1, len(rows) + 1):
            if n == len(rows) or rows[n] != rows[n - 1] + 1:
                self.dataChanged.emit(
                    self.index(rows[start], 0), self.index(rows[n - 1], self.STATE)
                )
                start = n
        if self._total_due:
            self._total_due = False
            self._total_changed()

    def items(self) -> list[UploadItem]:
        return list(self._items)

    def item(self, item_id: int) -> UploadItem | None:
        return self._by_id.get(item_id)

    def row_of(self, item_id: int) -> int:
        row = self._rows.get(item_id)
        if row is None:
            return -1
        if row >= len(self._items) or self._items[row].id != item_id:
            self._rows = {item.id: n for n, item in enumerate(self._items)}  # after a removal
            row = self._rows.get(item_id, -1)
        return row

    def states(self) -> dict[str, int]:
        return {state.value: n for state, n in self._counts.items() if n}

    def pending_source(self, source: str) -> bool:
        """Whether a row of the file with this source_key is queued, running or paused."""
        return self._pending[source] > 0

    def pending_ids(self, sources: set[str]) -> list[int]:
        """The rows still to send (queued, running, paused) of the files with these source_keys."""
        if not any(self._pending[source] for source in sources):
            return []
        return [i.id for i in self._items if i._source in sources and i.state.pending]

    def count(self, *states: UploadState) -> int:
        """How many rows are in any of these states (without walking the rows)."""
        return sum(self._counts[state] for state in states)

    # ---- transitions --------------------------------------------------------------------------
    def set_state(
        self,
        item_id: int,
        state: UploadState,
        reason: str = "",
        file_id: int | None = None,
        detail: str = "",
    ) -> None:
        item = self.item(item_id)
        # a paused row has no worker left to report: cancelling it is the user's
        cancelling_paused = item is not None and (item.state, state) == (
            UploadState.PAUSED,
            UploadState.CANCELLED,
        )
        if item is None or (
            item.state.finished and state != UploadState.QUEUED and not cancelling_paused
        ):
            return  # e.g. a late report for a row the user already cancelled
        item.state, item.reason, item.detail = state, reason, detail
        if file_id is not None:
            item.file_id = file_id
        if state in (UploadState.DONE, UploadState.DUPLICATE):
            item.fraction, item.eta, item.speed = 1.0, None, 0.0
            item.stage, item.stage_fraction = "", 1.0
        elif state.finished:
            item.eta, item.speed = None, 0.0
        if state == UploadState.VALIDATING and item.started is None:
            item.started = time.monotonic()
        self._recount(item)
        self._row_changed(item)
        self.stateChanged.emit(item_id, state.value)
        self._total_changed()

    def set_progress(
        self, item_id: int, stage: str, done: int, total: int, now: float | None = None
    ) -> None:
        """`now`: the monotonic time the bytes were at `done` (the worker's, taken as it made the
        report); the speed is the pace between those times, whenever the reports arrive."""
        item = self.item(item_id)
        if item is None or item.state.finished:
            return
        now = time.monotonic() if now is None else now
        if item.started is None:
            item.started = now
        state = UploadState.UPLOADING if stage in SENDING_STAGES else UploadState.VALIDATING
        if item.state != state:
            item.state = state
            self._recount(item)
            self.stateChanged.emit(item_id, state.value)
        measured = stage in BYTE_STAGES and total > 0
        recent = item._recent
        if stage != item.stage or (recent and done < recent[-1][1]):
            # a new stage, or a part a pause abandoned: measured again from here
            item.stage, item._stage_start = stage, (now, done)
            recent.clear()
            recent.append((now, done))
            item.speed, item.eta = 0.0, None
        elif measured:
            start_time, start_done = item._stage_start
            recent.append((now, done))
            while len(recent) > 2 and now - recent[1][0] >= SPEED_WINDOW:
                recent.popleft()
            settle = SENDING_SETTLE if stage == "sending" else 0.25
            if now - recent[0][0] >= settle:
                item.speed = _pace(recent)
            elif (
                stage != "sending"
                and item.speed <= 0
                and now - start_time >= 0.02
                and done > start_done
            ):
                item.speed = (done - start_done) / (now - start_time)  # a first estimate
        part = min(max(done / total, 0.0), 1.0) if measured else None
        item.stage_fraction = part
        if part is not None and stage == "sending":
            # what the store holds (core/resumable.py): back down when a pause abandons a part
            low, high = STAGE_SPAN[stage]
            item.fraction = low + (high - low) * part
        elif part is not None and stage in STAGE_SPAN:
            low, high = STAGE_SPAN[stage]
            item.fraction = max(item.fraction, low + (high - low) * part)
        elif stage in ("thumbnail", "finishing") or (stage == "uploading" and total <= 0):
            # Past hashing and checks: the first half is done whatever the hash stage reported.
            item.fraction = max(item.fraction, STAGE_SPAN["reading"][1])
        if stage == "finishing":
            item.fraction = max(item.fraction, FINISHING_FRACTION)
        self._recount(item)
        # Time left only when it can be measured: bytes still to store at the storing speed.
        if stage in ("uploading", "sending") and part is not None and item.speed > 0:
            item.eta = (total - done) / item.speed
        else:
            item.eta = None
        self._row_changed(item)
        self._total_changed()

    def show_stored(self, item_id: int, fraction: float) -> None:
        """A row read back at start: what its upload in parts had stored (saved with it)."""
        item = self.item(item_id)
        if item is None:
            return
        item.fraction = min(max(fraction, 0.0), 1.0)
        self._recount(item)
        self._row_changed(item)
        self._total_changed()

    def cancel(self, item_id: int) -> bool:
        """Signals the worker; a queued or paused row is cancelled at once. False if already
        finished otherwise (a paused row is still to do: only Remove got rid of it)."""
        item = self.item(item_id)
        if item is None or (item.state.finished and item.state != UploadState.PAUSED):
            return False
        item.pause_requested = False  # a pause asked before: the worker's stop is a cancel now
        item.cancel.set()
        if item.state in (UploadState.QUEUED, UploadState.PAUSED):
            self.set_state(item_id, UploadState.CANCELLED)
        return True

    def pause(self, item_id: int) -> bool:
        """Stops a row at once (a part on its way is sent again on resume); a queued row pauses."""
        item = self.item(item_id)
        if item is None or not item.state.active:
            return False
        item.pause_requested = True
        item.cancel.set()
        if item.state == UploadState.QUEUED:
            self.set_state(item_id, UploadState.PAUSED)
        return True

    def resume(self, item_id: int) -> UploadItem | None:
        """Puts a paused row back in the queue; the caller submits it again."""
        return self._requeue(item_id, (UploadState.PAUSED,), start_over=False)

    def paused_ids(self) -> list[int]:
        return self._ids_in(UploadState.PAUSED)

    def set_upload_id(self, item_id: int, upload_id: str) -> None:
        item = self.item(item_id)
        if item is not None:
            item.upload_id = upload_id

    def retry(self, item_id: int) -> UploadItem | None:
        """Puts a failed or cancelled row back in the queue; the caller submits it again."""
        return self._requeue(item_id, (UploadState.FAILED, UploadState.CANCELLED), start_over=True)

    def failed_ids(self) -> list[int]:
        return self._ids_in(UploadState.FAILED)

    def _requeue(
        self, item_id: int, states: tuple[UploadState, ...], start_over: bool
    ) -> UploadItem | None:
        item = self.item(item_id)
        if item is None or item.state not in states:
            return None
        item.cancel, item.pause_requested = threading.Event(), False
        item.speed, item.eta, item.reason, item.detail, item.error = 0.0, None, "", "", None
        item.stage, item.stage_fraction = "", None
        if start_over:  # a resumed row keeps what it has sent and goes on from there
            item.fraction, item.started = 0.0, None
            # A new attempt of a finished row: what the disk says of the old one no longer
            # applies to it, and the user queued it now (not a restored row any more)
            item.key, item.queued_at, item.restored = new_key(), time.time(), False
        self.set_state(item_id, UploadState.QUEUED)
        return item

    def _ids_in(self, state: UploadState) -> list[int]:
        if not self._counts[state]:
            return []
        return [i.id for i in self._items if i.state == state]

    def remove(self, item_id: int) -> bool:
        """Drops a row; a running one is cancelled first (its late report is then ignored)."""
        row = self.row_of(item_id)
        if row < 0:
            return False
        self._items[row].cancel.set()
        self.beginRemoveRows(QModelIndex(), row, row)
        self._drop(self._items.pop(row))
        self.endRemoveRows()
        self._total_changed()
        return True

    def clear_finished(self) -> None:
        """Removes done, duplicate and cancelled rows; failed rows stay to be retried or read."""
        # Each run of neighbouring rows goes in one removal: the views redo their layout once
        # per run, not once per row (clearing thousands of done rows stays quick).
        row = len(self._items) - 1
        while row >= 0:
            if not self._items[row].state.clearable:
                row -= 1
                continue
            last = row
            while row > 0 and self._items[row - 1].state.clearable:
                row -= 1
            self.beginRemoveRows(QModelIndex(), row, last)
            for item in self._items[row : last + 1]:
                self._drop(item)
            del self._items[row : last + 1]
            self.endRemoveRows()
            row -= 1
        self._total_changed()

    # ---- totals -------------------------------------------------------------------------------
    def total_progress(self) -> tuple[float, int]:
        """(fraction 0..1 by size of the queue that is over, running row count).

        Done, duplicate, failed and cancelled rows have ended: they count whole, so the total
        reads 100 % once nothing is left to do (the failures are counted beside it).
        """
        running = self.count(UploadState.VALIDATING, UploadState.UPLOADING)
        if not self._weight:
            return 0.0, running
        return float(self._done) / self._weight, running

    def _recount(self, item: UploadItem) -> None:
        """Moves the row's share of the running totals to its current state and progress."""
        self._forget(item)
        weight = max(item.size, 1)
        done = Fraction(weight) if item.state.ended else Fraction(weight * item.fraction)
        item._counted = (item.state, weight, done)
        self._counts[item.state] += 1
        if item.state.pending:
            self._pending[item._source] += 1
        self._weight += weight
        self._done += done

    def _drop(self, item: UploadItem) -> None:
        self._forget(item)
        self._by_id.pop(item.id, None)
        self._rows.pop(item.id, None)

    def _forget(self, item: UploadItem) -> None:
        if item._counted is None:
            return
        state, weight, done = item._counted
        item._counted = None
        self._counts[state] -= 1
        if state.pending:
            self._pending[item._source] -= 1
            if not self._pending[item._source]:
                del self._pending[item._source]
        self._weight -= weight
        self._done -= done

    def _total_changed(self) -> None:
        if self._batching:
            self._total_due = True
            return
        fraction, running = self.total_progress()
        # Rounded down and short of 1000 until every row has ended: a tiny file still to do
        # among large ones must not read "100 %".
        per_mille = int(fraction * 1000)
        self.totalProgressChanged.emit(min(per_mille, 999) if fraction < 1.0 else 1000, running)

    def _row_changed(self, item: UploadItem) -> None:
        if self._batching:
            self._changed.add(item.id)
            return
        row = self.row_of(item.id)
        if row >= 0:
            self.dataChanged.emit(self.index(row, 0), self.index(row, self.STATE))

    # ---- Qt model API -------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._items)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 6

    def headerData(
        self,
        section: int,
        orientation: Qt.Orientation,
        role: int = int(Qt.ItemDataRole.DisplayRole),
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or role != Qt.ItemDataRole.DisplayRole:
            return None
        return (
            self.tr("Name"),
            self.tr("Size"),
            self.tr("Progress"),
            self.tr("Speed"),
            self.tr("ETA"),
            self.tr("State"),
        )[section]

    def state_text(self, item: UploadItem) -> str:
        texts = {
            UploadState.QUEUED: self.tr("Queued"),
            UploadState.VALIDATING: self.tr("Validating"),
            UploadState.UPLOADING: self.tr("Uploading"),
            UploadState.DONE: self.tr("Done"),
            UploadState.DUPLICATE: self.tr("Duplicate (already in the library)"),
            UploadState.FAILED: self.tr("Failed"),
            UploadState.CANCELLED: self.tr("Cancelled"),
            UploadState.PAUSED: self.tr("Paused"),
        }
        text = texts[item.state]
        if item.state.running and item.stage:
            text = self.stage_text(item.stage)
        shown = (UploadState.FAILED, UploadState.PAUSED)
        return f"{text}: {item.reason}" if item.reason and item.state in shown else text

    def stage_text(self, stage: str) -> str:
        return {
            "reading": self.tr("Hashing"),
            "validating": self.tr("Checking the file"),
            "thumbnail": self.tr("Making the thumbnail"),
            "uploading": self.tr("Storing"),
            "sending": self.tr("Uploading in parts"),
            "finishing": self.tr("Adding to the library"),
        }.get(stage, self.tr("Working"))

    def progress_percent(self, item: UploadItem) -> int:
        """Of the current stage, -1 when it has no measure (the bar then shows it is busy).

        A failed or cancelled row shows an empty bar: what it had done before is not progress.
        """
        if item.state in (UploadState.DONE, UploadState.DUPLICATE):
            return 100
        if item.state in (UploadState.FAILED, UploadState.CANCELLED):
            return 0
        if item.state.running:
            return -1 if item.stage_fraction is None else int(item.stage_fraction * 100)
        return int(item.fraction * 100)

    def progress_text(self, item: UploadItem) -> str:
        percent = self.progress_percent(item)
        if item.state.running and item.stage:
            label = self.stage_text(item.stage)
            return f"{label}…" if percent < 0 else f"{label} {percent} %"
        if item.state == UploadState.FAILED:
            return self.tr("Failed")
        if item.state == UploadState.CANCELLED:
            return self.tr("Cancelled")
        return f"{max(percent, 0)} %"

    def data(self, index: Index, role: int = int(Qt.ItemDataRole.DisplayRole)) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._items):
            return None
        item, column = self._items[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == self.NAME:
                return item.name
            if column == self.SIZE:
                return size_text(item.size)
            if column == self.PROGRESS:
                return self.progress_text(item)
            if column == self.SPEED:
                return speed_text(item.speed) if item.state.running else ""
            if column == self.ETA:
                return eta_text(item.eta) if item.state.running else ""
            if column == self.STATE:
                return self.state_text(item)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [path_text(item.path), self.state_text(item)]
            if item.detail and item.state == UploadState.FAILED:
                lines.append(technical_text(item.detail))  # core's English words, labelled
            return tip_text("\n".join(lines))  # a local file's name, as written
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            self.SIZE,
            self.SPEED,
            self.ETA,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == self.ProgressRole:
            return self.progress_percent(item)
        if role == self.ProgressTextRole:
            return self.progress_text(item)
        if role == self.FileIdRole:
            return item.file_id
        if role == self.StateRole:
            return item.state.value
        if role == self.ItemIdRole:
            return item.id
        if role == self.ReasonRole:
            return item.reason
        return None
