"""Collects audit entries from handlers and writes them in batches off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from core.audit import AuditLog, AuditRecord
from core.errors import (
    catalog_busy,
    catalog_unreachable,
    first_of_outage,
    meet_catalog_failures,
    no_room,
)
from server.state import AUDIT, THREADS, Threads

logger = logging.getLogger(__name__)

FLUSH_SECONDS = 0.5
# While the catalog cannot be reached or its disk is full, entries wait in memory (tried again
# every RETRY_SECONDS) up to this many: an outage of minutes with private files streaming from
# cached records; past it the oldest are dropped, and counted in the log once per episode
KEEP_AT_MOST = 50_000
RETRY_SECONDS = 2.0
# Seconds a write of entries waits for the catalog's write lock. With SQLite's 30 s busy
# timeout, behind another process's long write the last write at shutdown (or one under way)
# held the server's stop that long, and a desktop quitting froze; entries not written wait in
# memory and are tried again, and at the stop are dropped (counted in the log).
WRITE_WAIT = 2.0


class AuditSink:
    """Non-blocking `add`; a background task writes what was added every half second."""

    def __init__(self, log: AuditLog) -> None:
        self.log = log
        self._pending: list[AuditRecord] = []
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()
        self._threads: Threads | None = None
        # what entries wait for, "catalog" or "room" (said once per episode), and how many were
        # dropped meanwhile (said when they are written)
        self._waiting: str | None = None
        self._dropped = 0

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

    async def flush(self, wait: float | None = None) -> bool:
        """Writes what was added; False when the catalog could not be reached, had no room
        (its disk full), or another writer held it past `wait` (as Database.write's), and the
        entries wait for the next flush (a PostgreSQL outage, or a full disk, dropped every
        access audited meanwhile)."""
        async with self._lock:
            batch, self._pending = self._pending, []
            if not batch:
                return True
            try:
                if self._threads is None:
                    raise RuntimeError("the audit sink runs only inside the app (audit_ctx)")
                await self._threads.run(_told_here, self.log.record_many, batch, wait)
            except Exception as exc:
                busy = catalog_busy(exc)  # another writer held it past `wait`: passes with it
                full = no_room(exc)
                if not (busy or full or catalog_unreachable(exc)):
                    logger.exception("Could not write %d audit entries", len(batch))
                    return True
                self._keep(batch)
                # a write that met the catalog's outage first: the episode's one ERROR line
                # (said as the WARNING below, or not at all while entries already waited, the
                # outage had none)
                first = first_of_outage(exc, lambda: False)
                if first or (not busy and self._waiting is None):
                    self._waiting = "room" if full else "catalog"
                    logger.log(
                        logging.ERROR if first else logging.WARNING,
                        "Audit entries wait in memory (at most %d) for %s (%s)",
                        KEEP_AT_MOST,
                        "room on the catalog's disk, which is full"
                        if full
                        else "the catalog, which cannot be reached",
                        _said(exc),
                    )
                return False
            if self._waiting is not None or self._dropped:
                logger.warning(
                    "The audit entries that waited for %s are written%s",
                    "room on the catalog's disk" if self._waiting == "room" else "the catalog",
                    f"; {self._dropped} older ones were dropped meanwhile" if self._dropped else "",
                )
                self._waiting, self._dropped = None, 0
            return True

    def _keep(self, batch: list[AuditRecord]) -> None:
        """Puts back a batch not written, ahead of what came meanwhile; past KEEP_AT_MOST the
        oldest go, said once per episode (a line per flush filled the log for as long as the
        disk stayed full) and counted when the entries are written."""
        self._pending[:0] = batch
        dropped = len(self._pending) - KEEP_AT_MOST
        if dropped > 0:
            del self._pending[:dropped]
            if not self._dropped:
                logger.error(
                    "Dropping the oldest audit entries: more than %d wait for the catalog "
                    "(how many is said once they are written)",
                    KEEP_AT_MOST,
                )
            self._dropped += dropped

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            await asyncio.sleep(FLUSH_SECONDS)
            if not await self.flush(WRITE_WAIT):
                await asyncio.sleep(RETRY_SECONDS)
                self._wake.set()

    @property
    def pending(self) -> int:
        return len(self._pending)

    @property
    def dropped(self) -> int:
        """Entries dropped (past KEEP_AT_MOST) since the catalog last took them."""
        return self._dropped

    def bind(self, threads: Threads) -> None:
        self._threads = threads


def _said(exc: BaseException) -> str:
    """A failure in the log: with the catalog's own words when it was out of reach."""
    cause = getattr(exc, "cause", None)
    return f"{exc} ({cause})" if cause else str(exc)


def _told_here(
    write: Callable[[list[AuditRecord], float | None], None],
    batch: list[AuditRecord],
    wait: float | None,
) -> None:
    """A write of entries, its catalog failure told by the sink (flush), not added to the list
    of a request that asked for a fresh flush (meet_catalog_failures; GET /audit): the write
    may end after that request's answer, when nobody reads its list any more."""
    meet_catalog_failures()  # this thread's copy of the caller's context only
    write(batch, wait)


async def audit_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: the writer task runs while the app runs; the last entries are flushed, or
    dropped when the catalog does not take them within WRITE_WAIT."""
    sink = app[AUDIT]
    sink.bind(app[THREADS])
    task = asyncio.create_task(sink.run(), name="audit-writer")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    if not await sink.flush(WRITE_WAIT):
        logger.error(
            "Dropped %d audit entries at the stop: the catalog did not take them%s",
            sink.pending,
            f" ({sink.dropped} older ones were dropped before)" if sink.dropped else "",
        )
