"""The server process's file descriptors: as many as the system allows, and running out of
them logged at a bounded rate.

Every connection is a file descriptor. The usual soft limit (1024) is far below the usual
hard limit, and a server that stays at the soft one is locked out by a thousand idle clients.
When the limit is reached anyway, asyncio's accept loop logs a traceback for every failed
accept() (thousands a second), which rotated the whole log history away in seconds; here those
become one line every ACCEPT_ERROR_INTERVAL seconds with a count.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import time
from collections.abc import Callable
from typing import Any

from core.logsetup import OUT_OF_RESOURCES, RESOURCE_REPORT_INTERVAL, BoundedReports

logger = logging.getLogger(__name__)

ACCEPT_ERROR_INTERVAL = RESOURCE_REPORT_INTERVAL


def raise_open_file_limit() -> int | None:
    """Raises the soft RLIMIT_NOFILE to the hard limit; returns the soft limit now in force
    (None where there is no such limit, as on Windows)."""
    try:
        import resource
    except ImportError:
        return None
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and soft != resource.RLIM_INFINITY and soft < hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
            soft = hard
        except (OSError, ValueError) as exc:  # e.g. macOS caps it below an "unlimited" hard
            logger.warning("Cannot raise the open file limit from %d to %d: %s", soft, hard, exc)
    return None if soft == resource.RLIM_INFINITY else soft


class ResourceErrorLog:
    """A loop exception handler: errors from running out of file descriptors (or memory for
    sockets) are logged once per `interval` with the number seen; all else goes to the loop's
    default handler."""

    def __init__(
        self, interval: float = ACCEPT_ERROR_INTERVAL, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._reports = BoundedReports(interval, clock)

    def __call__(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if _late_accept_retry(context):
            return
        if not (isinstance(exc, OSError) and exc.errno in OUT_OF_RESOURCES):
            loop.default_exception_handler(context)
            return
        count = self._reports.due("accept")
        if count is None:
            return
        # no traceback: it is always the same accept() in asyncio
        logger.error(
            "%s (%s): new connections wait; %d such errors since the last report "
            "(reported at most every %.0f s)",
            context.get("message", "Out of system resources"),
            exc.strerror or exc,
            count,
            self._reports.interval,
        )


def _late_accept_retry(context: dict[str, Any]) -> bool:
    """After EMFILE, asyncio retries accept() from timers a second later (one per failed
    accept, up to the backlog) that nobody cancels when the server closes; those that fire
    after the listening socket has closed raise ValueError("Invalid file descriptor: -1").
    Nothing is lost then (the server is stopping), so they are not errors worth a traceback."""
    handle = context.get("handle")
    callback = getattr(handle, "_callback", None)
    if not isinstance(context.get("exception"), ValueError):
        return False
    if getattr(callback, "__name__", "") != "_start_serving":
        return False
    args: tuple[Any, ...] = getattr(handle, "_args", None) or ()
    listening = args[1] if len(args) > 1 else None
    return isinstance(listening, socket.socket) and listening.fileno() == -1
