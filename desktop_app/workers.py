"""The one door from worker threads to the GUI thread, and a task runner built on it.

Every result, progress report and event produced off the GUI thread reaches it through a
`Mailbox`: the worker appends a Python tuple to a locked queue and, only when the queue was
empty, emits an argument-less signal. No Python object (None, a bool, a record, an image)
is ever converted by the binding for a queued connection, and a burst of thousands of
reports costs a handful of cross-thread events. PySide6 6.12.0 mishandled the reference counts
of None/True returned by the binding (see desktop_app/qt_guard.py); keeping Python objects
out of queued signals removes one whole class of such bugs from our code.
tests/test_desktop_signal_rules.py keeps other modules from opening a second door.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

logger = logging.getLogger(__name__)

ResultCallback = Callable[[Any], None]
ErrorCallback = Callable[[BaseException], None]
ReportCallback = Callable[..., None]


class Mailbox(QObject):
    """Lives in the GUI thread; `post()` from any thread, `deliver` is called in the GUI thread.

    Posts are delivered in order, each exactly once, as `deliver(*payload)`; `settled()`, if
    given, is called after each run of deliveries (the posts that arrived meanwhile).
    """

    _wake = Signal()  # carries nothing: the payloads stay in `_queue`

    def __init__(
        self,
        deliver: Callable[..., None],
        parent: QObject | None = None,
        settled: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(parent)
        self._deliver = deliver
        self._settled = settled
        self._lock = threading.Lock()
        self._queue: deque[tuple[Any, ...]] = deque()
        self._scheduled = False
        self._closed = False
        self._wake.connect(self._drain)

    def post(self, *payload: Any) -> None:
        """Thread-safe; never blocks on the GUI thread."""
        with self._lock:
            if self._closed:
                return
            self._queue.append(payload)
            if self._scheduled:
                return  # a wake-up is already on its way and will take this one too
            self._scheduled = True
        try:
            self._wake.emit()
        except RuntimeError:  # the mailbox was deleted while a worker still ran (shutdown)
            logger.debug("Post dropped: mailbox is gone")

    @Slot()
    def _drain(self) -> None:
        with self._lock:
            batch = list(self._queue)
            self._queue.clear()
            self._scheduled = False
        for index, payload in enumerate(batch):
            try:
                self._deliver(*payload)
            except BaseException:
                # The rest of the batch must not be lost because one receiver failed.
                with self._lock:
                    self._queue.extendleft(reversed(batch[index + 1 :]))
                    if self._queue and not self._scheduled:
                        self._scheduled = True
                        self._wake.emit()
                raise
        if self._settled is not None:
            self._settled()

    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    def close(self) -> None:
        """Later posts are dropped (the receiver is going away)."""
        with self._lock:
            self._closed = True
            self._queue.clear()


# What a task's mailbox post carries after its id; reports share the mailbox with the result,
# so every report of a task is delivered before its result or error.
_RESULT, _ERROR, _REPORT = "result", "error", "report"


class _Job(QRunnable):
    def __init__(self, task_id: int, fn: Callable[[], Any], mailbox: Mailbox) -> None:
        super().__init__()
        self.task_id, self.fn, self.mailbox = task_id, fn, mailbox
        self.setAutoDelete(True)

    def run(self) -> None:
        try:
            value, kind = self.fn(), _RESULT
        except BaseException as exc:  # noqa: BLE001 - every failure goes back to the GUI
            value, kind = exc, _ERROR
        self.mailbox.post(self.task_id, kind, value)


class TaskRunner(QObject):
    """Submits callables to its own bounded pool; callbacks run later in the GUI thread.

    The one task helper of the desktop app: tests/test_desktop_signal_rules.py keeps every other
    module from subclassing QRunnable or making a QThreadPool.
    """

    failed = Signal(object)  # errors of tasks submitted without an on_error callback
    # every task's error, before its on_error (or `failed`): what an error says of the set-up
    # (the disk under the catalog gone, desktop_app/team.py) is heard whoever handles it
    errorSeen = Signal(object)
    busyChanged = Signal(bool)

    def __init__(self, max_threads: int | None = 4, parent: QObject | None = None) -> None:
        """`max_threads` None: tasks run in Qt's global pool, which the runner does not own, so
        deleting the runner (with a closed dialog) does not wait for a task still running; its
        result is dropped. Otherwise the runner's own pool is deleted with it, after its tasks."""
        super().__init__(parent)
        self._owns_pool = max_threads is not None
        if max_threads is None:
            self.pool = QThreadPool.globalInstance()
        else:
            self.pool = QThreadPool(self)
            self.pool.setMaxThreadCount(max(1, max_threads))
        self._mailbox = Mailbox(self._deliver, self)
        self._ids = itertools.count(1)
        self._callbacks: dict[
            int, tuple[ResultCallback | None, ErrorCallback | None, ReportCallback | None]
        ] = {}

    @property
    def max_threads(self) -> int:
        return self.pool.maxThreadCount()

    def submit(
        self,
        fn: Callable[..., Any],
        *args: Any,
        on_result: ResultCallback | None = None,
        on_error: ErrorCallback | None = None,
        on_report: ReportCallback | None = None,
        **kwargs: Any,
    ) -> int:
        """Runs `fn(*args, **kwargs)` in the pool.

        With `on_report`, `fn` also gets `report=`: a thread-safe callable whose calls
        `report(*values)` reach `on_report(*values)` in the GUI thread, in order, before the
        result does.
        """
        task_id = next(self._ids)
        was_busy = bool(self._callbacks)
        self._callbacks[task_id] = (on_result, on_error, on_report)
        if on_report is not None:
            mailbox = self._mailbox
            kwargs["report"] = lambda *values: mailbox.post(task_id, _REPORT, values)
        self.pool.start(_Job(task_id, lambda: fn(*args, **kwargs), self._mailbox))
        if not was_busy:
            self.busyChanged.emit(True)
        return task_id

    @property
    def busy(self) -> bool:
        return bool(self._callbacks)

    def _deliver(self, task_id: int, kind: str, value: Any) -> None:
        if kind == _REPORT:
            on_report = self._callbacks.get(task_id, (None, None, None))[2]
            if on_report is not None:
                on_report(*value)
            return
        on_result, on_error, _ = self._callbacks.pop(task_id, (None, None, None))
        try:
            if kind == _RESULT:
                if on_result is not None:
                    on_result(value)
            else:
                self.errorSeen.emit(value)
                if on_error is not None:
                    on_error(value)
                else:
                    self.failed.emit(value)
        finally:
            if not self._callbacks:
                self.busyChanged.emit(False)

    def shutdown(self, wait_ms: int = 5000, finish_queued: bool = False) -> None:
        """Drops queued jobs and waits for running ones (of its own pool: the global one holds
        others' jobs too); nothing is delivered afterwards. With `finish_queued`, queued jobs
        run too, as many as `wait_ms` allows; those that did not start by then are dropped."""
        if self._owns_pool:
            if not finish_queued:
                self.pool.clear()
            if not self.pool.waitForDone(wait_ms):
                self.pool.clear()
        self._mailbox.close()
        self._callbacks.clear()
