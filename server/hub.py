"""Fans the core's change events out to server-sent-event clients, one queue per client."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from core.events import ChangeEvent
from server.state import HUB, LIBRARY

logger = logging.getLogger(__name__)

QUEUE_SIZE = 1000
REPLAY = 200
CLOSE = None  # sentinel put in a queue to end that client's stream


class EventHub:
    """Receives events in any thread; each client gets `(id, kind, json)` in its queue."""

    def __init__(self) -> None:
        self._clients: set[asyncio.Queue[tuple[int, str, str] | None]] = set()
        self._recent: collections.deque[tuple[int, str, str]] = collections.deque(maxlen=REPLAY)
        self._next_id = 1
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Callable[[], None] | None = None
        self.closed = False

    @property
    def client_count(self) -> int:
        return len(self._clients)

    def attach(
        self, loop: asyncio.AbstractEventLoop, subscribe: Callable[..., Callable[[], None]]
    ) -> None:
        self._loop = loop
        self._unsubscribe = subscribe(self._on_event)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _on_event(self, event: ChangeEvent) -> None:
        """Called in the publishing thread: hop to the server's loop."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        data = json.dumps(event.as_dict(), default=str)
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self.broadcast, event.kind, data)

    def broadcast(self, kind: str, data: str) -> None:
        item = (self._next_id, kind, data)
        self._next_id += 1
        self._recent.append(item)
        for queue in list(self._clients):
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                logger.warning("Dropping a slow event-stream client")
                self._clients.discard(queue)
                queue.get_nowait()
                queue.put_nowait(CLOSE)

    def connect(
        self, last_event_id: int | None = None
    ) -> asyncio.Queue[tuple[int, str, str] | None]:
        queue: asyncio.Queue[tuple[int, str, str] | None] = asyncio.Queue(QUEUE_SIZE)
        if last_event_id is not None:
            for item in self._recent:
                if item[0] > last_event_id:
                    queue.put_nowait(item)
        if self.closed:
            queue.put_nowait(CLOSE)
        self._clients.add(queue)
        return queue

    def disconnect(self, queue: asyncio.Queue[tuple[int, str, str] | None]) -> None:
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
    """cleanup_ctx: subscribe to the library's events while the app runs."""
    hub = app[HUB]
    hub.attach(asyncio.get_running_loop(), app[LIBRARY].events.subscribe)
    yield
    hub.detach()
    hub.close()


async def close_hub(app: web.Application) -> None:
    """on_shutdown: end the event streams so that shutdown does not wait for them."""
    app[HUB].close()
