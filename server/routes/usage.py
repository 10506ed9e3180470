"""GET /usage: storage use by type, athlete and status, and the store's real size; the periodic
listing of the store behind it, and its Prometheus gauges."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web

from core.library import Library
from core.logsetup import OutageReports
from core.usage import storage_summary
from server.auth import requires
from server.params import as_int
from server.state import LIBRARY, THREADS, TOKEN, library, run_blocking

logger = logging.getLogger(__name__)
routes = web.RouteTableDef()
FIRST_SCAN_DELAY = 2.0  # let the server answer its first requests before listing the store


@routes.get("/usage")
@requires("read")
async def usage(request: web.Request) -> web.Response:
    lib = library(request)
    report: dict[str, Any] = await run_blocking(request, lib.usage.report)
    # the folder's path (or the bucket and its endpoint) is for administrators only
    token = request[TOKEN]
    admin = token is not None and token.allows("admin")
    report = {**report, "storage": storage_summary(lib.settings, detailed=admin)}
    days = as_int("history_days", request.query.get("history_days"), minimum=0, maximum=400)
    if days:
        report["history"] = await run_blocking(request, lib.usage.history, days)
    return web.json_response(report, headers={"Cache-Control": "no-store"})


async def usage_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: lists the bucket or folder every MEDIADESK_USAGE_SCAN_INTERVAL seconds,
    in a thread of its own (a big bucket's listing takes a while)."""
    lib: Library = app[LIBRARY]
    interval = lib.settings.usage_scan_interval
    stop = threading.Event()
    thread = None
    if interval > 0:
        thread = threading.Thread(
            target=_scan_forever, args=(lib, interval, stop), name="mediadesk-usage", daemon=True
        )
        thread.start()
    yield
    stop.set()
    if thread is not None:
        await app[THREADS].run(thread.join, 30)


def _scan_forever(lib: Library, interval: int, stop: threading.Event) -> None:
    if stop.wait(FIRST_SCAN_DELAY):
        return
    # a full disk, the store or the catalog away: one plain line now and then, as long as it
    # lasts; anything else with its traceback
    reports = OutageReports()
    while True:
        try:
            lib.usage.scan()
        except Exception as exc:  # a storage outage must not end the schedule
            if not reports.log(logger, exc, "Store scan failed", extra={"outcome": "failed"}):
                logger.error("Store scan failed", exc_info=exc, extra={"outcome": "failed"})
        if stop.wait(interval):
            return


def usage_metrics_text(lib: Library) -> str:
    """Gauges from the last report (built by /usage or the periodic scan; no query here)."""
    report = lib.usage.last_report
    if report is None:
        return ""
    lines = [
        "# HELP mediadesk_storage_files Ready, untrashed files by file type",
        "# TYPE mediadesk_storage_files gauge",
        *(
            f'mediadesk_storage_files{{file_type="{k}"}} {v["files"]}'
            for k, v in sorted(report["by_file_type"].items())
        ),
        "# HELP mediadesk_storage_bytes Bytes of ready, untrashed originals by file type",
        "# TYPE mediadesk_storage_bytes gauge",
        *(
            f'mediadesk_storage_bytes{{file_type="{k}"}} {v["bytes"]}'
            for k, v in sorted(report["by_file_type"].items())
        ),
        "# HELP mediadesk_storage_status_files Files by status (trashed apart)",
        "# TYPE mediadesk_storage_status_files gauge",
        *(
            f'mediadesk_storage_status_files{{status="{k}"}} {v["files"]}'
            for k, v in sorted(report["by_status"].items())
        ),
    ]
    store = report["store"]
    if store["bytes"] is not None:
        lines += [
            "# HELP mediadesk_store_objects Objects in the bucket or folder at the last listing",
            "# TYPE mediadesk_store_objects gauge",
            f"mediadesk_store_objects {store['objects']}",
            "# HELP mediadesk_store_bytes Bytes in the bucket or folder at the last listing",
            "# TYPE mediadesk_store_bytes gauge",
            f"mediadesk_store_bytes {store['bytes']}",
            "# HELP mediadesk_store_drift_bytes Original bytes in the store minus the catalog's",
            "# TYPE mediadesk_store_drift_bytes gauge",
            f"mediadesk_store_drift_bytes {store['drift_bytes']}",
            "# HELP mediadesk_derivative_bytes Bytes of thumbnails, variants and video renditions",
            "# TYPE mediadesk_derivative_bytes gauge",
            f"mediadesk_derivative_bytes {report['derivatives']['bytes']}",
        ]
    return "\n".join(lines) + "\n"
