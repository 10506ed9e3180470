"""The upload queue: one row per file with progress, speed, ETA and state; cancel and retry."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    Signal,
)

from desktop_app.formatting import eta_text, size_text, speed_text

Index = QModelIndex | QPersistentModelIndex
USER = int(Qt.ItemDataRole.UserRole)

# Share of a file's progress bar given to each ingest stage (hashing, checks, copy, catalog).
STAGE_SPAN = {
    "reading": (0.0, 0.35),
    "validating": (0.35, 0.45),
    "uploading": (0.45, 0.98),
    "finishing": (0.98, 1.0),
}


class UploadState(StrEnum):
    QUEUED = "queued"
    VALIDATING = "validating"
    UPLOADING = "uploading"
    DONE = "done"
    DUPLICATE = "duplicate"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def active(self) -> bool:
        return self in (UploadState.QUEUED, UploadState.VALIDATING, UploadState.UPLOADING)

    @property
    def finished(self) -> bool:
        return not self.active


@dataclass
class UploadItem:
    id: int
    path: Path
    size: int
    athlete_id: int | None = None
    state: UploadState = UploadState.QUEUED
    fraction: float = 0.0
    speed: float = 0.0  # bytes per second in the current stage
    eta: float | None = None
    reason: str = ""  # why it failed, a translated sentence
    detail: str = ""  # the technical cause (English), shown in the tooltip
    file_id: int | None = None
    cancel: threading.Event = field(default_factory=threading.Event)
    started: float | None = None
    _stage: str = ""
    _last: tuple[float, int] = (0.0, 0)
    _stage_start: tuple[float, int] = (0.0, 0)

    @property
    def name(self) -> str:
        return self.path.name


class UploadQueueModel(QAbstractTableModel):
    """State only: the upload controller runs the work and reports here."""

    NAME, SIZE, PROGRESS, SPEED, ETA, STATE = range(6)
    ProgressRole = USER + 1  # 0..100
    StateRole = USER + 2
    ItemIdRole = USER + 3
    ReasonRole = USER + 4

    totalProgressChanged = Signal(int, int)  # done per mille, active file count
    stateChanged = Signal(int, str)  # item id, new state

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._items: list[UploadItem] = []
        self._ids = itertools.count(1)

    # ---- items ------------------------------------------------------------------------------
    def add(self, path: Path, size: int, athlete_id: int | None = None) -> UploadItem:
        item = UploadItem(next(self._ids), Path(path), size, athlete_id)
        row = len(self._items)
        self.beginInsertRows(QModelIndex(), row, row)
        self._items.append(item)
        self.endInsertRows()
        self._total_changed()
        return item

    def items(self) -> list[UploadItem]:
        return list(self._items)

    def item(self, item_id: int) -> UploadItem | None:
        row = self.row_of(item_id)
        return self._items[row] if row >= 0 else None

    def row_of(self, item_id: int) -> int:
        for row, item in enumerate(self._items):
            if item.id == item_id:
                return row
        return -1

    def states(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in self._items:
            out[item.state.value] = out.get(item.state.value, 0) + 1
        return out

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
        if item is None or (item.state.finished and state != UploadState.QUEUED):
            return  # e.g. a late report for a row the user already cancelled
        item.state, item.reason, item.detail = state, reason, detail
        if file_id is not None:
            item.file_id = file_id
        if state in (UploadState.DONE, UploadState.DUPLICATE):
            item.fraction, item.eta, item.speed = 1.0, None, 0.0
        elif state.finished:
            item.eta, item.speed = None, 0.0
        if state == UploadState.VALIDATING and item.started is None:
            item.started = time.monotonic()
        self._row_changed(item)
        self.stateChanged.emit(item_id, state.value)
        self._total_changed()

    def set_progress(
        self, item_id: int, stage: str, done: int, total: int, now: float | None = None
    ) -> None:
        item = self.item(item_id)
        if item is None or item.state.finished:
            return
        now = time.monotonic() if now is None else now
        if item.started is None:
            item.started = now
        state = (
            UploadState.UPLOADING if stage in ("uploading", "finishing") else UploadState.VALIDATING
        )
        if item.state != state:
            item.state = state
            self.stateChanged.emit(item_id, state.value)
        if stage != item._stage:
            item._stage, item._last, item._stage_start = stage, (now, done), (now, done)
            item.speed = 0.0
        else:
            last_time, last_done = item._last
            start_time, start_done = item._stage_start
            if now - last_time >= 0.25:
                rate = (done - last_done) / (now - last_time)
                item.speed = rate if item.speed <= 0 else 0.6 * item.speed + 0.4 * rate
                item._last = (now, done)
            elif item.speed <= 0 and now - start_time >= 0.02 and done > start_done:
                item.speed = (done - start_done) / (now - start_time)  # a first estimate
        low, high = STAGE_SPAN.get(stage, (0.0, 1.0))
        part = done / total if total > 0 else (1.0 if stage != "reading" else 0.0)
        item.fraction = max(item.fraction, min(1.0, low + (high - low) * min(part, 1.0)))
        elapsed = now - item.started
        if 0.02 < item.fraction < 1.0 and elapsed > 0.5:
            item.eta = elapsed / item.fraction * (1.0 - item.fraction)
        self._row_changed(item)
        self._total_changed()

    def cancel(self, item_id: int) -> bool:
        """Signals the worker; a queued row is cancelled at once. False if already finished."""
        item = self.item(item_id)
        if item is None or item.state.finished:
            return False
        item.cancel.set()
        if item.state == UploadState.QUEUED:
            self.set_state(item_id, UploadState.CANCELLED)
        return True

    def retry(self, item_id: int) -> UploadItem | None:
        """Puts a failed or cancelled row back in the queue; the caller submits it again."""
        item = self.item(item_id)
        if item is None or item.state not in (UploadState.FAILED, UploadState.CANCELLED):
            return None
        item.cancel = threading.Event()
        item.fraction, item.speed, item.eta, item.reason, item.detail = 0.0, 0.0, None, "", ""
        item.started, item._stage = None, ""
        self.set_state(item_id, UploadState.QUEUED)
        return item

    def clear_finished(self) -> None:
        for row in range(len(self._items) - 1, -1, -1):
            if self._items[row].state.finished:
                self.beginRemoveRows(QModelIndex(), row, row)
                del self._items[row]
                self.endRemoveRows()
        self._total_changed()

    # ---- totals -------------------------------------------------------------------------------
    def total_progress(self) -> tuple[float, int]:
        """(fraction 0..1 over the rows that are not failed or cancelled, active row count)."""
        counted = [
            i for i in self._items if i.state not in (UploadState.FAILED, UploadState.CANCELLED)
        ]
        active = sum(1 for i in self._items if i.state.active)
        weight = sum(max(i.size, 1) for i in counted)
        if not weight:
            return 0.0, active
        return sum(max(i.size, 1) * i.fraction for i in counted) / weight, active

    def _total_changed(self) -> None:
        fraction, active = self.total_progress()
        self.totalProgressChanged.emit(int(round(fraction * 1000)), active)

    def _row_changed(self, item: UploadItem) -> None:
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
        }
        text = texts[item.state]
        return (
            f"{text}: {item.reason}" if item.reason and item.state == UploadState.FAILED else text
        )

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
                return f"{int(item.fraction * 100)} %"
            if column == self.SPEED:
                return speed_text(item.speed) if item.state.active else ""
            if column == self.ETA:
                return eta_text(item.eta) if item.state.active else ""
            if column == self.STATE:
                return self.state_text(item)
        if role == Qt.ItemDataRole.ToolTipRole:
            lines = [str(item.path), self.state_text(item)]
            if item.detail and item.state == UploadState.FAILED:
                lines.append(item.detail)
            return "\n".join(lines)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (
            self.SIZE,
            self.SPEED,
            self.ETA,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == self.ProgressRole:
            return int(item.fraction * 100)
        if role == self.StateRole:
            return item.state.value
        if role == self.ItemIdRole:
            return item.id
        if role == self.ReasonRole:
            return item.reason
        return None
