"""Fans the catalog change feed out to server-sent-event clients, one queue per client.

Items are `(change id, kind, json)` in change-id order: the hub listens to the feed's ordered
stream (every process's changes, this one's included), so the ids a client sees only grow and
a `Last-Event-ID` catch-up from the change log (routes/events.py) joins the live stream
without gaps or repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from core.events import INTERNAL_KINDS, ChangeEvent, EventKind
from server.presenters import event_body
from server.state import HUB, LIBRARY

if TYPE_CHECKING:
    from core.library import Library

logger = logging.getLogger(__name__)

QUEUE_SIZE = 1000
CLOSE = None  # sentinel put in a queue to end that client's stream

Item = tuple[int, str, str]
# put in every queue when a token changes: each stream checks its token again (never sent)
RECHECK: Item = (0, EventKind.TOKEN, "")


def event_item(event: ChangeEvent, lib: Library | None) -> Item:
    """The event as every client is sent it (server.presenters.event_body), encoded once."""
    return (event.change_id or 0, event.kind, json.dumps(event_body(event, lib), default=str))


def streamed(event: ChangeEvent) -> bool:
    """Token changes invalidate caches; they are nobody's business on the event stream."""
    return event.kind not in INTERNAL_KINDS


class EventHub:
    """Receives feed events in the feed's thread; each client gets items in its queue."""

    def __init__(self) -> None:
        self._clients: set[asyncio.Queue[Item | None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self._lib: Library | None = None
        self.closed = False
        self.last_id = 0

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def attach(
        self,
        loop: asyncio.AbstractEventLoop,
        subscribe: Callable[..., Callable[[], None]],
        lib: Library | None = None,
    ) -> None:
        self._loop = loop
        self._lib = lib
        self._unsubscribe = subscribe(self._on_event)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: ChangeEvent) -> None:
        """Called in the feed's thread: hop to the server's loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        if event.kind == EventKind.TOKEN:
            # a revocation: streams opened with that token must stop now, not at their next
            # event (the token cache heard of it first: feed.py delivers to the bus first)
            item = RECHECK
        elif streamed(event):
            item = event_item(event, self._lib)
        else:
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self.broadcast, item)

    def broadcast(self, item: Item) -> None:
        self.last_id = max(self.last_id, item[0])
        for queue in list(self._clients):
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                logger.warning("Dropping a slow event-stream client")
                self._clients.discard(queue)
                queue.get_nowait()
                queue.put_nowait(CLOSE)

    def connect(self) -> asyncio.Queue[Item | None]:
        queue: asyncio.Queue[Item | None] = asyncio.Queue(QUEUE_SIZE)
        if self.closed:
            queue.put_nowait(CLOSE)
        self._clients.add(queue)
        return queue

    def disconnect(self, queue: asyncio.Queue[Item | None]) -> None:
        self._clients.discard(queue)

    def close(self) -> None:
        """Ends every stream (on shutdown, before the server waits for open requests)."""
        self.closed = True
        for queue in list(self._clients):
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(CLOSE)
        self._clients.clear()


async def hub_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the change feed runs, and the hub follows it, while the app runs."""
    hub = app[HUB]
    feed = app[LIBRARY].feed
    feed.start()
    hub.last_id = feed.last_id  # later changes come through the hub
    hub.attach(asyncio.get_running_loop(), feed.subscribe_ordered, app[LIBRARY])
    yield
    hub.detach()
    hub.close()
    feed.stop()


async def close_hub(app: web.Application) -> None:
    """on_shutdown: end the event streams so that shutdown does not wait for them."""
    app[HUB].close()
