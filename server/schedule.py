"""Runs the core's maintenance (trash purge, pending expiry, multipart abort) on a schedule."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from aiohttp import web

from core.maintenance import run_maintenance
from server.state import CONFIG, EXECUTOR, LIBRARY

logger = logging.getLogger(__name__)

FIRST_RUN_DELAY = 60.0


async def _loop(app: web.Application, interval: float) -> None:
    loop = asyncio.get_running_loop()
    await asyncio.sleep(min(FIRST_RUN_DELAY, interval))
    while True:
        try:
            await loop.run_in_executor(app[EXECUTOR], run_maintenance, app[LIBRARY])
        except Exception:
            logger.exception("Scheduled maintenance failed")
        await asyncio.sleep(interval)


async def maintenance_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: a background task while the app runs; cancelled on cleanup."""
    interval = app[CONFIG].maintenance_interval
    task = asyncio.create_task(_loop(app, interval), name="maintenance") if interval > 0 else None
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
