"""One maintenance leader per catalog, whichever processes (servers, workers, desktops) run.

PostgreSQL: the leader holds a session-level advisory lock on its own connection; if the
process dies, the server drops the connection and the lock with it. SQLite (processes on one
machine): a lease row in `catalog_leases`, renewed every tick and taken over once it has
expired (3 ticks). A tick is a quarter of the maintenance interval (0.2 s … 10 s), so a dead
leader is replaced within one interval. When maintenance last ran, and by whom, is kept in the
catalog, so a new leader does not run it again early and /health shows it on every process.
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, update

from core import feed
from core.background import SharedThread
from core.db.engine import Database
from core.db.models import CatalogLease

if TYPE_CHECKING:
    from core.library import Library

logger = logging.getLogger(__name__)

LEADER_LOCK = 0x4D444B4C  # pg_try_advisory_lock key of the maintenance leader
LEASE = "maintenance"
FIRST_RUN_DELAY = 60.0
RECONCILE = "reconcile"
RECONCILE_EVERY = timedelta(hours=24)

Task = Callable[["Library"], Any]


def _default_task(lib: Library, db: Database) -> Any:
    from core.maintenance import run_maintenance

    report = run_maintenance(lib)
    pruned = feed.prune(db)
    out: dict[str, Any] = {**report.as_dict(), "change_log_pruned": pruned}
    if _reconcile_due(db):
        out["reconcile"] = _reconcile(lib, db)
    return out


def _reconcile_due(db: Database) -> bool:
    with db.read() as s:
        row = s.get(CatalogLease, RECONCILE)
        last = row.last_run_at if row is not None else None
    return last is None or datetime.now(UTC) - last >= RECONCILE_EVERY


def _reconcile(lib: Library, db: Database) -> dict[str, Any]:
    """The store against the catalog (a report; it lists the whole bucket, so once a day)."""
    from core.maintenance import reconcile

    started = datetime.now(UTC)
    try:
        found = reconcile(lib)
        summary: dict[str, Any] = {
            "clean": found.clean,
            "objects_without_rows": len(found.objects_without_rows),
            "rows_without_objects": found.rows_without_objects[:100],
        }
    except Exception as exc:  # reported like the other tasks' failures
        summary = {"error": f"{type(exc).__name__}: {exc}"}
    with db.write() as s:
        row = s.get(CatalogLease, RECONCILE)
        if row is None:
            s.add(CatalogLease(name=RECONCILE, last_run_at=started, info=summary))
        else:
            row.last_run_at, row.info = started, summary
    return summary


class MaintenanceLeader:
    """Competes for leadership; while leader, runs the task every `interval` seconds."""

    def __init__(
        self,
        lib: Library,
        db: Database,
        interval: float,
        task: Task | None = None,
        first_delay: float | None = None,
    ) -> None:
        self.lib = lib
        self._db = db
        self.interval = float(interval)
        self.task = task or functools.partial(_default_task, db=db)
        self.first_delay = (
            min(FIRST_RUN_DELAY, self.interval) if first_delay is None else first_delay
        )
        self.tick = max(0.2, min(self.interval / 4, 10.0))
        self.ttl = self.tick * 3
        self.name = feed.origin_of(db)
        self.postgres = db.engine.dialect.name == "postgresql"
        self.is_leader = False
        self.running_task = False
        self.last_error: str | None = None
        self._conn: Any = None
        self._loop = SharedThread("mediadesk-leader", self._run)
        self._stop = self._loop.stopping
        self._task_thread: threading.Thread | None = None
        self._started = time.monotonic()

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self) -> None:
        self._loop.start(prepare=self._restart_clock)

    def _restart_clock(self) -> None:
        self._started = time.monotonic()

    def stop(self, force: bool = False) -> None:
        if not self._loop.stop(10, force):
            return
        if self._task_thread is not None:
            self._task_thread.join(30)
        self._release()

    # ---- state ------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """This process's part and the catalog-wide record of the last run (reads the DB)."""
        out: dict[str, Any] = {
            "leader": self.is_leader,
            "participating": self._loop.alive,
            "interval": self.interval,
            "this_process": self.name,
        }
        with self._db.read() as s:
            row = s.get(CatalogLease, LEASE)
            if row is not None:
                live = row.expires_at is not None and row.expires_at > datetime.now(UTC)
                out["holder"] = row.holder if live else None
                out["last_run_at"] = row.last_run_at.isoformat() if row.last_run_at else None
                out["last_run_by"] = row.last_run_by
                out["last_report"] = (row.info or {}).get("report")
            rec = s.get(CatalogLease, RECONCILE)
            if rec is not None and rec.last_run_at is not None:
                out["reconcile"] = {"at": rec.last_run_at.isoformat(), **(rec.info or {})}
        if self.last_error:
            out["error"] = self.last_error
        return out

    # ---- the loop ---------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.is_leader = self._hold()
                self.last_error = None
            except Exception as exc:
                if self.is_leader or self.last_error != type(exc).__name__:
                    logger.warning("Maintenance leadership check failed: %s", exc)
                self.is_leader = False
                self.last_error = type(exc).__name__
                self._drop_conn()
            if self.is_leader and not self.running_task and self._due():
                self.running_task = True
                self._task_thread = threading.Thread(
                    target=self._run_task, name="mediadesk-maintenance", daemon=True
                )
                self._task_thread.start()
            self._stop.wait(self.tick)

    def _hold(self) -> bool:
        now = datetime.now(UTC)
        if self.postgres and not self._pg_lock():
            return False
        with self._db.write() as s:
            cond = [CatalogLease.name == LEASE]
            if not self.postgres:  # the lease row is the lock on SQLite
                cond.append(
                    or_(
                        CatalogLease.holder == self.name,
                        CatalogLease.holder.is_(None),
                        CatalogLease.expires_at.is_(None),
                        CatalogLease.expires_at < now,
                    )
                )
            result = s.execute(
                update(CatalogLease)
                .where(*cond)
                .values(holder=self.name, expires_at=now + timedelta(seconds=self.ttl))
            )
            updated = bool(getattr(result, "rowcount", 0))
            if not updated and self.postgres:
                s.add(CatalogLease(name=LEASE, holder=self.name))
            return updated or self.postgres

    def _pg_lock(self) -> bool:
        import psycopg

        if self._conn is None:
            self._conn = psycopg.connect(
                feed.pg_conninfo(self._db), autocommit=True, connect_timeout=5
            )
            row = self._conn.execute("SELECT pg_try_advisory_lock(%s)", (LEADER_LOCK,)).fetchone()
            if not (row and row[0]):
                self._drop_conn()  # try again next tick, on a fresh connection
                return False
            return True
        self._conn.execute("SELECT 1")  # still connected, so still holding the lock
        return True

    def _drop_conn(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except Exception:
                logger.debug("Closing the leader connection failed", exc_info=True)

    def _release(self) -> None:
        was = self.is_leader
        self.is_leader = False
        self._drop_conn()
        if not was:
            return
        try:
            with self._db.write() as s:
                s.execute(
                    update(CatalogLease)
                    .where(CatalogLease.name == LEASE, CatalogLease.holder == self.name)
                    .values(expires_at=None)
                )
        except Exception:
            logger.debug("Could not release the maintenance lease", exc_info=True)

    def _due(self) -> bool:
        with self._db.read() as s:
            row = s.get(CatalogLease, LEASE)
            last = row.last_run_at if row is not None else None
        if last is None:
            return time.monotonic() - self._started >= self.first_delay
        return (datetime.now(UTC) - last).total_seconds() >= self.interval

    def _run_task(self) -> None:
        started = datetime.now(UTC)
        try:
            report = self.task(self.lib)
            error = None
        except Exception as exc:
            logger.exception("Scheduled maintenance failed")
            report, error = None, f"{type(exc).__name__}: {exc}"
        try:
            with self._db.write() as s:
                s.execute(
                    update(CatalogLease)
                    .where(CatalogLease.name == LEASE)
                    .values(
                        last_run_at=started,
                        last_run_by=self.name,
                        info={"report": report if error is None else {"error": error}},
                    )
                )
        except Exception:
            logger.exception("Could not record the maintenance run")
        finally:
            self.running_task = False
