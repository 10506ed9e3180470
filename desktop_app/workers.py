"""Runs slow calls on a QThreadPool and delivers results and errors to the GUI thread."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

logger = logging.getLogger(__name__)

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]


class _Relay(QObject):
    """Lives in the GUI thread; its signal is emitted from pool threads (a queued hop)."""

    finished = Signal(int, bool, object)


class _Job(QRunnable):
    def __init__(self, task_id: int, fn: Callable[[], Any], relay: _Relay) -> None:
        super().__init__()
        self.task_id, self.fn, self.relay = task_id, fn, relay
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            value, ok = self.fn(), True
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the GUI
            value, ok = exc, False
        try:
            self.relay.finished.emit(self.task_id, ok, value)
        except RuntimeError:  # the runner was deleted while the job ran (shutdown)
            logger.debug("Result of task %s dropped: runner is gone", self.task_id)


class TaskRunner(QObject):
    """Submits callables to its own bounded pool; callbacks run later in the GUI thread."""

    failed = Signal(object)  # errors of tasks submitted without an on_error callback
    busyChanged = Signal(bool)

    def __init__(self, max_threads: int = 4, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max(1, max_threads))
        self._relay = _Relay(self)
        self._relay.finished.connect(self._deliver)
        self._ids = itertools.count(1)
        self._callbacks: dict[int, tuple[ResultCallback | None, ErrorCallback | None]] = {}

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: ResultCallback | None = None,
        on_error: ErrorCallback | None = None,
        **kwargs: Any,
    ) -> int:
        task_id = next(self._ids)
        was_busy = bool(self._callbacks)
        self._callbacks[task_id] = (on_result, on_error)
        self.pool.start(_Job(task_id, lambda: fn(*args, **kwargs), self._relay))
        if not was_busy:
            self.busyChanged.emit(True)
        return task_id

    @property
    def busy(self) -> bool:
        return bool(self._callbacks)

    @Slot(int, bool, object)
    def _deliver(self, task_id: int, ok: bool, value: object) -> None:
        on_result, on_error = self._callbacks.pop(task_id, (None, None))
        try:
            if ok:
                if on_result is not None:
                    on_result(value)
            elif on_error is not None:
                on_error(value)  # type: ignore[arg-type]
            else:
                self.failed.emit(value)
        finally:
            if not self._callbacks:
                self.busyChanged.emit(False)

    def shutdown(self, wait_ms: int = 5000) -> None:
        """Drops queued jobs and waits for running ones."""
        self.pool.clear()
        self.pool.waitForDone(wait_ms)
        self._callbacks.clear()
