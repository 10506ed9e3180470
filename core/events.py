"""Change events (created, updated, trashed, restored, deleted, athlete, token…) and the bus.

Events of catalog changes come from the change feed (core/feed.py): each carries the
catalog-wide `change_id` and the `origin` (the Database that wrote it), whichever process made
the change. Code that publishes an event of its own (not a catalog row change, e.g. job
progress) goes through `EventBus.publish`, which hands it to the feed so that every process
sees it too.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from core.logsetup import OutageReports

logger = logging.getLogger(__name__)


class EventKind(StrEnum):
    """Every change event's `kind`: the strings on the feed table and the event stream."""

    CREATED = "created"
    UPDATED = "updated"
    TRASHED = "trashed"
    RESTORED = "restored"
    DELETED = "deleted"
    ATHLETE = "athlete"
    TOKEN = "token"
    DOCTOR = "doctor"  # `mediadesk-server doctor`'s probe of the feed
    PROCESSING = "processing"  # video job progress (core/video/service.py)
    SETTINGS = "settings"  # a data folder's settings file was saved (core/shared_settings.py)
    RESET = "reset"  # stream only: the client is behind what the change log keeps; reload
    UNAUTHORIZED = "unauthorized"  # stream only: the token was revoked; the stream ends


FILE_KINDS = (
    EventKind.CREATED,
    EventKind.UPDATED,
    EventKind.TRASHED,
    EventKind.RESTORED,
    EventKind.DELETED,
)
"""Kinds about one file's row: the desktop grid and the record cache follow these."""
CATALOG_KINDS = (*FILE_KINDS, EventKind.ATHLETE, EventKind.TOKEN)
"""Kinds the feed writes itself from the rows a transaction changes."""
INTERNAL_KINDS = (EventKind.TOKEN, EventKind.DOCTOR, EventKind.SETTINGS)
"""Kinds that invalidate caches but are not sent to event-stream clients."""
STREAMED_KINDS = tuple(k for k in EventKind if k not in INTERNAL_KINDS)
"""What an event-stream client may receive (the OpenAPI `ChangeEvent.kind`)."""


PREVIOUS = "previous"
"""The key of `ChangeEvent.previous` in the event's JSON."""


@dataclass(frozen=True)
class ChangeEvent:
    kind: str
    file_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    change_id: int | None = None
    origin: str | None = None
    entity_id: int | None = None
    version: int | None = None
    # updated, trashed and restored files: the fields the change altered (updated_at and
    # version too, which every change sets), as they were before it. A grid that had not
    # loaded the file learns from them whether its total already counted it; None when
    # unknown (writers that predate it).
    previous: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {
            "id": self.change_id,
            "kind": self.kind,
            "file_id": self.file_id,
            "at": self.at.isoformat(),
            "file": self.data,
        }
        if self.previous is not None:
            out[PREVIOUS] = self.previous
        return out


Subscriber = Callable[[ChangeEvent], None]
Recorder = Callable[[ChangeEvent], None]


class Subscribers:
    """A thread-safe list of event callbacks: added and removed from any thread, and copied
    before each delivery so that a callback may unsubscribe while it is called."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[Subscriber] = []

    def add(self, callback: Subscriber) -> Callable[[], None]:
        """Adds `callback`; returns the function that removes it (safe to call twice)."""
        with self._lock:
            self._callbacks.append(callback)

        def remove() -> None:
            with self._lock:
                if callback in self._callbacks:
                    self._callbacks.remove(callback)

        return remove

    def snapshot(self) -> list[Subscriber]:
        with self._lock:
            return list(self._callbacks)


class EventBus:
    """Calls each subscriber in the delivering thread; subscribers hop to their own thread."""

    def __init__(self) -> None:
        self._subscribers = Subscribers()
        self._recorder: Recorder | None = None
        # a full catalog disk or an outage fails every event published (a stopped job's
        # progress, each of them): one line now and then, not a traceback each
        self._reports = OutageReports()

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        return self._subscribers.add(callback)

    def set_recorder(self, recorder: Recorder | None) -> None:
        """The change feed's writer: events published here then reach every process."""
        self._recorder = recorder

    def publish(self, event: ChangeEvent) -> None:
        """Announces a change made by this process.

        With a change feed attached, a catalog kind is already on its way (the transaction
        that changed the row wrote it), so it is not announced twice; any other kind is
        written to the feed, which delivers it here and to the other processes.
        """
        recorder = self._recorder
        if recorder is None or event.change_id is not None:
            self.deliver(event)
            return
        if event.kind in CATALOG_KINDS:
            return
        try:
            recorder(event)
        except Exception as exc:
            if not self._reports.log(
                logger, exc, "Could not write a %s event to the change feed", event.kind
            ):
                logger.exception("Could not write a %s event to the change feed", event.kind)
            self.deliver(event)

    def deliver(self, event: ChangeEvent) -> None:
        for callback in self._subscribers.snapshot():
            try:
                callback(event)
            except Exception:
                logger.exception("Event subscriber failed on %s", event.kind)
