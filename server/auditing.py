"""Collects audit entries from handlers and writes them in batches off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from core.audit import AuditLog, AuditRecord
from server.state import AUDIT, THREADS, Threads

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5


class AuditSink:
    """Non-blocking `add`; a background task writes what was added every half second."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log
        self._pending: list[AuditRecord] = []
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._threads: Threads | None = None

    def add(
        self,
        actor: str,
        action: str,
        file_id: int | None,
        remote: str | None,
        detail: str | None = None,
    ) -> None:
        self._pending.append(AuditRecord(actor, action, file_id, remote, detail))
        self._wake.set()

    async def flush(self) -> None:
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                if self._threads is None:
                    raise RuntimeError("the audit sink runs only inside the app (audit_ctx)")
                await self._threads.run(self.log.record_many, batch)
            except Exception:
                logger.exception("Could not write %d audit entries", len(batch))

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(FLUSH_SECONDS)
            await self.flush()

    def bind(self, threads: Threads) -> None:
        self._threads = threads


async def audit_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the writer task runs while the app runs; the last entries are flushed."""
    sink = app[AUDIT]
    sink.bind(app[THREADS])
    task = asyncio.create_task(sink.run(), name="audit-writer")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await sink.flush()
