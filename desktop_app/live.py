"""Re-emits library change events, published from any thread, as a Qt signal in the GUI thread."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal

from core.events import ChangeEvent, EventBus

logger = logging.getLogger(__name__)


class LiveEvents(QObject):
    """Subscribes to an EventBus; `changed` reaches receivers in their own (GUI) thread."""

    changed = Signal(object)  # ChangeEvent

    def __init__(self, bus: EventBus, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe = bus.subscribe(self._publish)
        self.destroyed.connect(self._unsubscribe)

    def _publish(self, event: ChangeEvent) -> None:
        # Called in the publishing thread (a worker, the HTTP server...). Emitting is safe from
        # any thread: the connections to GUI-thread receivers are queued by Qt.
        try:
            self.changed.emit(event)
        except RuntimeError:
            logger.debug("Event %s dropped: the window is closing", event.kind)

    def close(self) -> None:
        self._unsubscribe()
