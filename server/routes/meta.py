"""Service routes: health, Prometheus metrics, the OpenAPI document and its offline docs page."""

from __future__ import annotations

import asyncio
from contextlib import suppress
from typing import Any

from aiohttp import web

from core.db.engine import catalog_deadline, catalog_folder, catalog_read_only, disk_full
from core.errors import (
    NO_SPACE_REASON,
    PASSING_REASONS,
    UNAVAILABLE_REASONS,
    StorageUnavailable,
    catalog_unreachable,
)
from core.leader import leadership_failure
from core.library import CATALOG_UNREAD, Library
from core.outage import ASK_AGAIN
from server.auth import PUBLIC, answers_unchecked, requires
from server.errors import CLIENT_MESSAGES, UNAVAILABLE_MESSAGES
from server.openapi import build_spec, version
from server.state import HUB, METRICS, TOKEN, library, run_blocking
from server.static_files import static_page

routes = web.RouteTableDef()
# Seconds /health waits for the catalog: a monitor must hear that it hangs, not hang with it
HEALTH_DEADLINE = 3.0
# Seconds /health waits for its checks at all: above the store's own probe (core/storage/s3.py
# PROBE, which says why a store fails), for a pool whose every worker already waits
HEALTH_WAIT = 8.0
# The reasons of storage.reason: a storage_unavailable's, and a full disk's (no error code of
# its own here: /health is 503 degraded whatever the cause), told in a sentence that says what
# to do, since waiting does not free any space
HEALTH_REASONS = (*UNAVAILABLE_REASONS, NO_SPACE_REASON)
HEALTH_MESSAGES = {
    NO_SPACE_REASON: (
        "The disk holding the server's storage is full: ask the server's administrator to free "
        "some space on it"
    )
}
# database.error's sentence for a caller who is not an administrator, by database.reason (the
# catalog's full disk is not "the file" a 507 speaks of)
DATABASE_HEALTH_MESSAGES = {
    NO_SPACE_REASON: (
        "The disk holding the server's catalog is full: ask the server's administrator to free "
        "some space on it"
    )
}


def _check(request: web.Request) -> dict[str, Any]:
    """/health's checks, in a worker: they wait for the catalog and the store."""
    lib = library(request)
    with catalog_deadline(HEALTH_DEADLINE):
        result = lib.health()
    if result["database"]["ok"]:
        # a catalog that answers reads but takes no write (a disk remounted read-only): every
        # upload and edit fails, which a monitor must hear as it hears a disk gone
        read_only = catalog_read_only(lib.settings.effective_database_url)
        if read_only is not None:
            result["database"] = {
                "ok": False,
                "error": read_only.message,
                "reason": read_only.reason,
            }
    if result["database"]["ok"]:
        full = _catalog_disk_full(lib.settings.effective_database_url)
        if full is not None:
            result["database"] = {"ok": False, "error": full, "reason": NO_SPACE_REASON}
    leader, maintenance = lib.leader, None
    if leader is not None:
        try:
            maintenance = leader.status()
        except Exception as exc:  # status() says its own failures: this is a last resort
            error, reason = leadership_failure(exc)
            maintenance = {"leader": leader.is_leader, "error": error}
            if reason is not None:
                maintenance["reason"] = reason
    return _report(lib, result["database"], result["storage"], maintenance)


def _catalog_disk_full(url: str) -> str | None:
    """What /health says of a SQLite catalog whose disk is full (None while it has room): its
    check only reads, which a full disk lets through while every write answers 507. Told by
    the free space, against the threshold at which core/db/engine.py calls a failing catalog
    disk full, so /health and the writes' errors agree and the verdict ends as soon as room is
    freed, without waiting for a write to succeed. A PostgreSQL catalog's disk is on its server,
    out of this check's sight."""
    folder = catalog_folder(url)
    if folder is None:
        return None
    with suppress(OSError):  # a folder gone is the read's to report (catalog_disk_unreachable)
        if disk_full(folder):
            return f"The disk holding the catalog ({folder}) is full: free some space on it"
    return None


def _report(
    lib: Library,
    database: dict[str, Any],
    storage: dict[str, Any],
    maintenance: dict[str, Any] | None,
) -> dict[str, Any]:
    """The parts of /health's answer, checked or timed out alike (maintenance None: not read,
    for want of a leader in this process or of time). Nothing here may wait for the catalog."""
    leader = lib.leader
    if maintenance is None:
        maintenance = (
            {"leader": False, "participating": False}
            if leader is None
            else {"leader": leader.is_leader, "error": "timeout"}
        )
    return {
        "database": database,
        "storage": {**storage, "backend": lib.storage_name},
        "feed": lib.feed.status(),
        "maintenance": maintenance,
    }


def _retry_after(lib: Library, database: dict[str, Any], storage: dict[str, Any]) -> int | None:
    """When a monitor (a load balancer) may ask again while /health is degraded by an outage
    that passes by itself (PASSING_REASONS, a catalog that does not answer, checks that timed
    out): what a request's answer says meanwhile (core.outage Outage.retry_after), the
    catalog's quiet window, else ASK_AGAIN. None while only a lasting fault degrades it (a
    set-up fault, a full disk, a catalog upgraded under this server), whose answers say none
    either: waiting does not mend them."""
    waits = []
    said = database.get("reason")  # none: the catalog did not answer (or the checks took long)
    if not database["ok"] and (said is None or said in PASSING_REASONS):
        waits.append(lib.catalog_outage.retry_after())
    if not storage["ok"] and (
        storage.get("reason") in PASSING_REASONS or storage.get("error") == "timeout"
    ):
        # the store's quiet window as its check met it (Library.health); none when the check
        # did not end in time
        waits.append(storage.get("retry_after") or ASK_AGAIN)
    return max(waits, default=None)


@routes.get("/health")
@requires(PUBLIC)
@answers_unchecked
async def health(request: web.Request) -> web.Response:
    try:
        # the deadline inside frees the catalog connection; this one answers even when every
        # worker of the pool already waits for a hung catalog (or a hung store)
        checks = await asyncio.wait_for(run_blocking(request, _check, request), HEALTH_WAIT)
    except TimeoutError:
        late = {"ok": False, "error": "timeout"}
        checks = _report(library(request), dict(late), dict(late), None)
    ok = checks["database"]["ok"] and checks["storage"]["ok"]
    token = request[TOKEN]
    storage = checks["storage"]
    headers = {"Cache-Control": "no-store"}
    if not ok:
        # as every other answer of a store or catalog out of reach (server/errors.py): a 503
        # without one left load balancers and clients to guess when to ask again
        wait = _retry_after(library(request), checks["database"], storage)
        if wait is not None:
            headers["Retry-After"] = str(wait)
    storage.pop("retry_after", None)  # said by the header, as every answer says it
    database = checks["database"]
    if "error" in database and (token is None or token.scope != "admin"):
        # The catalog's message may name its file or folder: for administrators (and the log).
        # Others read the sentence any request's storage_unavailable of that reason tells them.
        reason = database.get("reason")
        database["error"] = (
            DATABASE_HEALTH_MESSAGES.get(reason)
            or CLIENT_MESSAGES.get(reason)
            or UNAVAILABLE_MESSAGES.get(reason, CATALOG_UNREAD)
        )
    if "error" in storage and (token is None or token.scope != "admin"):
        # The message names the bucket and the endpoint: for administrators (and the log).
        # Others read what any request's storage_unavailable tells its caller (server/errors.py),
        # a set-up fault told from an outage, and the reason a monitor can act on.
        reason = storage.pop("reason", None)
        storage["error"] = HEALTH_MESSAGES.get(reason) or UNAVAILABLE_MESSAGES.get(
            reason, UNAVAILABLE_MESSAGES[None]
        )
        if reason in HEALTH_REASONS:
            storage["reason"] = reason
    if token is None:  # anonymous clients get the verdict without the details
        checks["database"].pop("error", None)
        checks["feed"] = {"connected": checks["feed"]["connected"]}
        checks["maintenance"] = {
            k: v for k, v in checks["maintenance"].items() if k in ("leader", "last_run_at")
        }
    body = {
        "status": "ok" if ok else "degraded",
        "version": version(),
        **checks,
        "sse_clients": request.app[HUB].client_count,
    }
    return web.json_response(body, status=200 if ok else 503, headers=headers)


@routes.get("/metrics")
@requires("read")
async def metrics(request: web.Request) -> web.Response:
    text_body = request.app[METRICS].render()
    from server.routes.jobs import metrics_text  # queue depth, failures, job durations

    try:
        text_body += await run_blocking(request, metrics_text, library(request))
    except StorageUnavailable as exc:
        # the catalog's gauges go missing (stale, to Prometheus) while it is out; the process's
        # own counters are what a monitor watches the outage with
        if not catalog_unreachable(exc):
            raise
    from server.routes.usage import usage_metrics_text  # storage gauges (issue 13)

    text_body += usage_metrics_text(library(request))
    return web.Response(
        body=text_body.encode(),
        headers={
            "Content-Type": "text/plain; version=0.0.4; charset=utf-8",
            "Cache-Control": "no-store",
        },
    )


@routes.get("/openapi.json")
@requires(PUBLIC)
async def openapi(request: web.Request) -> web.Response:
    return web.json_response(build_spec(request.app))


@routes.get("/docs")
@requires(PUBLIC)
async def docs(request: web.Request) -> web.Response:
    return static_page(
        "docs.html",
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data:",
    )
