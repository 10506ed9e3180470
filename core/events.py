"""Change events (created, updated, trashed, restored, deleted) with thread-safe subscription."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

logger = logging.getLogger(__name__)

EVENT_KINDS = ("created", "updated", "trashed", "restored", "deleted", "athlete")


@dataclass(frozen=True)
class ChangeEvent:
    kind: str
    file_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "file_id": self.file_id,
            "at": self.at.isoformat(),
            "file": self.data,
        }


Subscriber = Callable[[ChangeEvent], None]


class EventBus:
    """Calls each subscriber in the publishing thread; subscribers hop to their own thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Subscriber] = []

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(callback)

        def unsubscribe() -> None:
            with self._lock:
                if callback in self._subscribers:
                    self._subscribers.remove(callback)

        return unsubscribe

    def publish(self, event: ChangeEvent) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        for callback in subscribers:
            try:
                callback(event)
            except Exception:
                logger.exception("Event subscriber failed on %s", event.kind)
