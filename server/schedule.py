"""Runs the core's maintenance (trash purge, pending expiry, multipart abort) on a schedule.

Only the catalog's maintenance leader runs it (core/leader.py): every server, worker and
desktop sharing the catalog competes, one wins, another takes over when it goes away.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from server.state import CONFIG, LIBRARY, THREADS


async def maintenance_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: this process takes part in the leadership while the app runs."""
    interval = app[CONFIG].maintenance_interval
    leader = app[LIBRARY].maintenance_leader(interval) if interval > 0 else None
    if leader is not None:
        leader.start()
    yield
    if leader is not None:
        await app[THREADS].run(leader.stop)  # joins its threads
