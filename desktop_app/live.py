"""Re-emits library change events, published from any thread, as a Qt signal in the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from core.events import ChangeEvent, EventBus
from desktop_app.workers import Mailbox


class LiveEvents(QObject):
    """Subscribes to an EventBus; `changed` reaches receivers in their own (GUI) thread."""

    changed = Signal(object)  # ChangeEvent
    # list[ChangeEvent]: the same events again, after the `changed` of each, as many as arrived
    # together. A view updates once for them: a move of 900 files to the trash, applied one
    # event at a time, froze the window for seconds (desktop_app/models/file_grid_model.py)
    changedTogether = Signal(object)

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._together: list[ChangeEvent] = []
        self._mailbox = Mailbox(self._deliver, self, settled=self._settled)
        self._unsubscribe = bus.subscribe(self._publish)
        self.destroyed.connect(self._unsubscribe)

    def _publish(self, event: ChangeEvent) -> None:
        # Called in the publishing thread (a worker, the HTTP server...); `changed` is emitted
        # later in the GUI thread, in publishing order.
        self._mailbox.post(event)

    def _deliver(self, event: ChangeEvent) -> None:
        self._together.append(event)
        self.changed.emit(event)

    def _settled(self) -> None:
        events, self._together = self._together, []
        if events:
            self.changedTogether.emit(events)

    def close(self) -> None:
        self._unsubscribe()
        self._mailbox.close()
