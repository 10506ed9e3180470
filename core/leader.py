"""One maintenance leader per catalog, whichever processes (servers, workers, desktops) run.

PostgreSQL: the leader holds a session-level advisory lock on its own connection; if the
process dies, the server drops the connection and the lock with it. SQLite (processes on one
machine): a lease row in `catalog_leases`, renewed every tick and taken over once it has
expired (3 ticks). A tick is a quarter of the maintenance interval (0.2 s … 10 s), so a dead
leader is replaced within one interval. When maintenance last ran, and by whom, is kept in the
catalog, so a new leader does not run it again early and /health shows it on every process.

When the catalog cannot be written (a full disk, a read-only catalog), nobody can take or renew
the lease, and maintenance is what would free the disk. A participant then runs the tasks that
delete local files only (maintenance.FILE_ONLY_TASKS), once per interval, provided it holds
another exclusive right that needs no catalog write:

- PostgreSQL (team mode, several machines): the advisory lock, taken before the lease row is
  written; only its holder runs them, so two nodes never do at once. A node that cannot get
  it (another holds it, or the server is unreachable) runs nothing.
- SQLite: the catalog lives in one data folder on one machine, so every participant shares
  that folder: an flock on `.maintenance.lock` there. Every run takes it, the leader's full
  runs too, so a run without the lease never overlaps another run of any kind.

The lease is tried again every tick; the room the file-only tasks give back usually lets the
next write through, and the full maintenance then runs as usual.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import or_, update

from core import feed
from core.background import SharedThread
from core.db.engine import CATALOG_READ_ONLY, Database
from core.db.models import CatalogLease
from core.errors import (
    CATALOG_BUSY,
    LOCAL_DETAILS,
    Conflict,
    MediaDeskError,
    StorageUnavailable,
    catalog_busy,
    catalog_down,
    catalog_locked,
    catalog_unreachable,
    first_of_outage,
    is_no_space,
    sqlite_read_only,
)
from core.locks import proc_lock_pids
from core.logsetup import OutageReports, outage_cause

try:  # POSIX; elsewhere a run without the lease never happens (no lock to make it exclusive)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from core.library import Library

logger = logging.getLogger(__name__)

LEADER_LOCK = 0x4D444B4C  # pg_try_advisory_lock key of the maintenance leader
LEASE = "maintenance"
FIRST_RUN_DELAY = 60.0
RECONCILE = "reconcile"
RECONCILE_EVERY = timedelta(hours=24)

Task = Callable[["Library"], Any]
RUN_LOCK = ".maintenance.lock"  # in the data folder: see the module's docstring
# pg_try_advisory_lock key held for the length of one full run, the leader's scheduled one or
# `mediadesk maintenance`'s: LEADER_LOCK is held by the leader for as long as it lives, so the
# command cannot wait for it, and `.maintenance.lock` is one node's folder only
RUN_PG_LOCK = 0x4D444B52
# How long `mediadesk maintenance` waits for another run to end before it refuses (exit 2)
RUN_WAIT = 10.0
# /health's maintenance part is read by every token, which must not learn the catalog's file or
# folder (its database part says those to admins only): the words of the catalog errors whose
# own message names one (LOCAL_DETAILS), without it
_PLACELESS = {
    "catalog_disk_unreachable": (
        "The disk holding the catalog cannot be read or written: it was unplugged, or the "
        "network share or mount is gone"
    ),
    "catalog_read_only": (
        "The catalog cannot be written (read-only disk, or no permission to write there)"
    ),
    "insufficient_storage": "The disk holding the catalog is full: free some space",
}
# A failed check core has no words for (a bug): the log has its traceback
LEADERSHIP_UNCHECKED = (
    "The maintenance leadership could not be checked (an unexpected error; the server's log has it)"
)


def catalog_unwritable(exc: BaseException | None) -> bool:
    """The catalog refused a write for lack of room or because it is read-only (SQLite's
    SQLITE_FULL / SQLITE_READONLY, PostgreSQL's 53100 / 25006), through wrapping exceptions."""
    if is_no_space(exc):
        return True
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if getattr(exc, "sqlstate", None) == "25006" or sqlite_read_only(exc):
            return True
        if isinstance(exc, MediaDeskError) and exc.reason == CATALOG_READ_ONLY:
            return True  # the catalog's own word for it (core/db/engine.py _disk_gone)
        exc = getattr(exc, "orig", None) or exc.__cause__
    return False


def leadership_failure(exc: BaseException) -> tuple[str, str | None]:
    """What /health's maintenance part says of a failed leadership check: a sentence, as its
    database part says the catalog's own message (Library.health), and the stable reason
    beside it (a storage_unavailable's reason, or the error's code), None for an error core
    has no words for. Told from the error, never from its English. On PostgreSQL the check
    asks on a connection of its own (psycopg's OperationalError while the catalog is away),
    said as a session of the catalog says it (catalog_down)."""
    if catalog_busy(exc) or (isinstance(exc, MediaDeskError) and exc.reason == CATALOG_BUSY):
        return catalog_locked(None).message, CATALOG_BUSY
    if isinstance(exc, MediaDeskError):
        reason = exc.reason or exc.code
        if exc.details.keys() & LOCAL_DETAILS:
            return _PLACELESS.get(reason, catalog_down().message), reason
        return exc.message, reason
    if catalog_unreachable(exc):
        down = catalog_down()
        return down.message, down.reason
    if is_no_space(exc):
        return _PLACELESS["insufficient_storage"], "insufficient_storage"
    return LEADERSHIP_UNCHECKED, None


@contextlib.contextmanager
def run_lock(lib: Library) -> Iterator[bool | None]:
    """This data folder's maintenance run lock, without waiting: True held, False busy (another
    run on this machine), None when the lock file cannot be opened (a full disk that cannot
    create it: then nobody holds it either)."""
    if fcntl is None:  # pragma: no cover - Windows
        yield None
        return
    try:
        fd = os.open(lib.paths.data_dir / RUN_LOCK, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield None
        return
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # drops the lock


@contextlib.contextmanager
def _pg_run_lock(conninfo: str) -> Iterator[tuple[bool, list[str]]]:
    """RUN_PG_LOCK on a connection of its own, without waiting: (True, []) held, or (False,
    the holders' host:pid) busy. Released however the holder ends: PostgreSQL drops it with
    the session."""
    import psycopg

    from core.db.schema_guard import APP_PREFIX

    conn = psycopg.connect(conninfo, autocommit=True, connect_timeout=5)
    try:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (RUN_PG_LOCK,)).fetchone()
        if not (row and row[0]):
            rows = conn.execute(
                "SELECT a.application_name, a.pid FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
                "AND l.classid::bigint = 0 AND l.objid::bigint = %s "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                (RUN_PG_LOCK,),
            ).fetchall()
            yield (
                False,
                sorted(
                    str(name).removeprefix(APP_PREFIX)
                    if str(name or "").startswith(APP_PREFIX)
                    else f"backend {pid}"
                    for name, pid in rows
                ),
            )
            return
        try:
            yield True, []
        finally:
            # the server ends a closed session a moment later: a run started right after this
            # one must not find the lock still held
            with contextlib.suppress(psycopg.Error):
                conn.execute("SELECT pg_advisory_unlock(%s)", (RUN_PG_LOCK,))
    finally:
        conn.close()


@contextlib.contextmanager
def full_run(lib: Library, wait: float = RUN_WAIT) -> Iterator[None]:
    """Held by `mediadesk maintenance` for its whole run, as the leader's scheduled run holds
    it (`_run_task`): this data folder's `.maintenance.lock` and, on PostgreSQL, RUN_PG_LOCK.
    Two runs at once both remade the same thumbnails (one failed on the other's row writes)
    and each reported the thumbnails the other had just stored as strays. Waits up to `wait`
    seconds for a run under way, then raises Conflict (reason `maintenance_running`) naming
    the process that holds it."""
    from sqlalchemy.engine import make_url

    from core.db.schema_guard import libpq_url, process_name

    url = make_url(lib.settings.effective_database_url)
    postgres = url.get_backend_name() == "postgresql"
    deadline = time.monotonic() + wait
    while True:
        with run_lock(lib) as held:
            if held is False:
                host = process_name().rsplit(":", 1)[0]
                pids = proc_lock_pids(lib.paths.data_dir / RUN_LOCK, "FLOCK")
                holders = [f"{host}:{pid}" for pid in pids]
            elif not postgres:
                yield
                return
            else:
                import psycopg

                with contextlib.ExitStack() as stack:
                    try:
                        taken, holders = stack.enter_context(_pg_run_lock(libpq_url(url)))
                    except psycopg.Error as exc:
                        raise StorageUnavailable(f"The catalog cannot be reached: {exc}") from exc
                    if taken:
                        yield
                        return
        if time.monotonic() >= deadline:
            where = f"in process {', '.join(holders)}" if holders else "in another process"
            raise Conflict(
                f"Maintenance is already running {where} on this library; run it again once "
                "it has finished",
                reason="maintenance_running",
            )
        time.sleep(0.5)


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
    return last is None or since_due(last, RECONCILE_EVERY.total_seconds())


def since_due(last: datetime, every: float, now: datetime | None = None) -> bool:
    """Whether a task last run at `last` (by some machine's clock) is due again, `every`
    seconds on. A run recorded more than `every` ahead of this clock came from a clock that was
    wrong (a laptop's `mediadesk maintenance` on the team's catalog, a server set right by NTP
    since): waiting for this clock to reach it froze the team's scheduled maintenance (trash
    purges, upload expiry, the reconcile) for days. Less ahead than that is taken as the
    ordinary skew between machines: the run counts, so two of them do not run back to back."""
    elapsed = ((now or datetime.now(UTC)) - last).total_seconds()
    return elapsed >= every or elapsed < -every


def _reconcile(lib: Library, db: Database) -> dict[str, Any]:
    """The store against the catalog (a report; it lists the whole bucket, so once a day)."""
    from core.maintenance import reconcile

    started = datetime.now(UTC)
    try:
        summary = reconcile(lib).summary()
    except Exception as exc:  # reported like the other tasks' failures
        summary = {"error": f"{type(exc).__name__}: {exc}"}
        if first_of_outage(exc, lambda: False):
            # it met the catalog's outage first: the episode's one ERROR line (the record
            # below fails too, said as a known outage's WARNING: the outage had no ERROR)
            logger.error("Reconcile failed: %s", getattr(exc, "cause", None) or exc)
    record_reconcile(db, summary, started)
    return summary


def record_command_run(db: Database, report: dict[str, Any], started: datetime) -> int:
    """`mediadesk maintenance`'s run kept as the last run, where /health reads it (status):
    /health went on showing the scheduled run before it beside this run's reconcile. Its time
    also puts the next scheduled run an interval after it, so the change log, which only the
    scheduled task prunes, is pruned here too (a cron job's runs would otherwise put it off for
    good). The rows pruned, also in the report kept."""
    pruned = feed.prune(db)
    by = f"{feed.origin_of(db)} (mediadesk maintenance)"[:80]
    kept = {"report": {**report, "change_log_pruned": pruned}}
    with db.write() as s:
        row = s.get(CatalogLease, LEASE)
        if row is None:  # no process has led yet: the row its lease takes later
            s.add(CatalogLease(name=LEASE, last_run_at=started, last_run_by=by, info=kept))
        else:
            row.last_run_at, row.last_run_by, row.info = started, by, kept
    return pruned


def record_reconcile(db: Database, summary: dict[str, Any], at: datetime | None = None) -> None:
    """Keeps the last reconcile's summary (the server's daily one, or `mediadesk maintenance`):
    /health and `mediadesk doctor` read it (last_reconcile) without listing the store again."""
    started = at or datetime.now(UTC)
    with db.write() as s:
        row = s.get(CatalogLease, RECONCILE)
        if row is None:
            s.add(CatalogLease(name=RECONCILE, last_run_at=started, info=summary))
        else:
            row.last_run_at, row.info = started, summary


def last_reconcile(db: Database) -> tuple[datetime, dict[str, Any]] | None:
    """When the last recorded reconcile ran and its summary, or None before the first."""
    with db.read() as s:
        row = s.get(CatalogLease, RECONCILE)
        if row is None or row.last_run_at is None:
            return None
        return row.last_run_at, dict(row.info or {})


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
        # the last leadership check's failure in words, and its reason (leadership_failure)
        self.last_error: str | None = None
        self.last_reason: str | None = None
        # what "said once" compares: the reason, or the class of an error without one; the
        # sentence could change with its wording, and a class name is no sentence for /health
        self._failure_key: str | None = None
        self._due_failing = False
        self._conn: Any = None
        self._loop = SharedThread("mediadesk-leader", self._run)
        self._stop = self._loop.stopping
        self._task_thread: threading.Thread | None = None
        self._started = time.monotonic()
        # the catalog refused the lease write (full, read-only): since when (monotonic), and
        # when this process last ran the file-only tasks without the lease
        self.unwritable_since: float | None = None
        self._file_only_at: float | None = None
        self._reports = OutageReports()

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
        """This process's part and the catalog-wide record of the last run (reads the DB); a
        catalog that cannot be read leaves the record out and is said in `error` and `reason`
        (leadership_failure), never raised."""
        out: dict[str, Any] = {
            "leader": self.is_leader,
            "participating": self._loop.alive,
            "interval": self.interval,
            "this_process": self.name,
        }
        try:
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
        except Exception as exc:  # noqa: BLE001 - said, as the check's failures are
            # raised, /health's route named its class ("StorageUnavailable") during an outage
            out["error"], reason = leadership_failure(exc)
            if reason is not None:
                out["reason"] = reason
        if self.last_error:  # the check's own failure says why this process is not leading
            out["error"] = self.last_error
            out.pop("reason", None)
            if self.last_reason is not None:
                out["reason"] = self.last_reason
        if self.unwritable_since is not None:
            out["catalog_unwritable"] = True
        return out

    # ---- the loop ---------------------------------------------------------------------------
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.is_leader = self._hold()
                self.last_error = self.last_reason = self._failure_key = None
                self._writable_again()
            except Exception as exc:
                unwritable = catalog_unwritable(exc)
                said, reason = leadership_failure(exc)
                key = reason or type(exc).__name__
                # the catalog outage's first failure of the process, whoever met it: its one
                # ERROR line, even when this check's failure is otherwise said once (a check
                # that met it first said nothing, and the outage had no ERROR line at all)
                first = not unwritable and first_of_outage(exc, self._db.outage.first_failure)
                if unwritable:
                    self._unwritable(exc)
                elif first or self.is_leader or self._failure_key != key:
                    self._check_failed(exc, first)
                self.is_leader = False
                self.last_error, self.last_reason, self._failure_key = said, reason, key
                # PostgreSQL: a refused write leaves the connection, and its advisory lock,
                # sound; held on, it keeps the other nodes out of a run without the lease
                if not (unwritable and self.postgres):
                    self._drop_conn()
                if unwritable and not self.running_task and self._file_only_due():
                    self._start(self._run_file_only)
            if self.is_leader and not self.running_task and self._due_now():
                self._start(self._run_task)
            elif self._local_due():
                self._start(self._run_local)
            self._stop.wait(self.tick)

    def _check_failed(self, exc: Exception, first: bool = False) -> None:
        """Said once per kind of failure: an outage or a busy catalog in one line of plain
        words (SQLAlchemy's text spans lines: the statement, then a link), a bug with its
        traceback; `first`: the failure that made the catalog's outage known, an ERROR."""
        cause = outage_cause(exc)
        if cause is None and catalog_busy(exc):
            cause = "the catalog is busy with another writer"
        if cause is not None:
            level = logging.ERROR if first else logging.WARNING
            logger.log(level, "Maintenance leadership check failed: %s", cause)
        else:
            logger.error("Maintenance leadership check failed", exc_info=exc)

    def _failed(self, msg: str, exc: Exception) -> None:
        """A run's failure: an outage (a full disk, the catalog or the store away) in one
        WARNING line at most every few seconds, anything else with its traceback."""
        if not self._reports.log(logger, exc, msg):
            logger.error(msg, exc_info=exc)

    def _start(self, target: Callable[[], None]) -> None:
        self.running_task = True
        self._task_thread = threading.Thread(
            target=target, name="mediadesk-maintenance", daemon=True
        )
        self._task_thread.start()

    # ---- a catalog that cannot be written ---------------------------------------------------
    def _unwritable(self, exc: Exception) -> None:
        from core.maintenance import FILE_ONLY_TASKS

        if self.unwritable_since is not None:
            return  # said once
        self.unwritable_since = time.monotonic()
        # in plain words: SQLAlchemy's text carries the statement, and a link on a line of its own
        logger.warning(
            "The catalog cannot be written (%s), so no process can take the maintenance lease."
            " Until it can, only the tasks that free disk space by deleting files run (%s),"
            " once per %g s; the lease is tried again every %g s.",
            outage_cause(exc) or "it is read-only",
            ", ".join(sorted(FILE_ONLY_TASKS)),
            self.interval,
            self.tick,
        )

    def _writable_again(self) -> None:
        if self.unwritable_since is None:
            return
        self.unwritable_since = None
        logger.warning("The catalog can be written again: the maintenance lease is taken as usual")

    def _file_only_due(self) -> bool:
        now = time.monotonic()
        if self._file_only_at is not None:
            return now - self._file_only_at >= self.interval
        return now - self._started >= self.first_delay

    # ---- this data folder, on a node of a team that is not the leader -------------------------
    def _local_due(self) -> bool:
        """Whether this process sweeps its own data folder now: on PostgreSQL every node has
        one (the leader's runs sweep only the leader's), once per interval."""
        return (
            self.postgres
            and not self.is_leader
            and not self.running_task
            and self.unwritable_since is None
            and self._file_only_due()
        )

    def _run_local(self) -> None:
        """The tasks that clean this data folder's own leftovers (maintenance.LOCAL_TASKS):
        partial files of dead processes, bytes of tus uploads that ended or moved to another
        server, dead workers' folders. Nothing is recorded: the catalog-wide run is the
        leader's."""
        from core.maintenance import LOCAL_TASKS, run_maintenance

        try:
            with run_lock(self.lib) as held:
                if held is False:
                    return  # a run of another process on this folder: next interval
                self._file_only_at = time.monotonic()
                run_maintenance(self.lib, only=LOCAL_TASKS)
        except Exception as exc:
            self._failed("Maintenance of this data folder failed", exc)
        finally:
            self.running_task = False

    def _run_file_only(self) -> None:
        """The file-only tasks without the lease, when this process has the exclusive right
        the module's docstring names; nothing is recorded (the catalog refuses it)."""
        from core.maintenance import FILE_ONLY_TASKS, run_maintenance

        try:
            if self.postgres and self._conn is None:
                return  # not the advisory lock's holder: another node's turn, or none
            with run_lock(self.lib) as held:
                if not held:
                    return  # busy, or no lock file to make the run exclusive: next interval
                self._file_only_at = time.monotonic()
                logger.warning(
                    "Maintenance without the lease: %s", ", ".join(sorted(FILE_ONLY_TASKS))
                )
                run_maintenance(self.lib, only=FILE_ONLY_TASKS)
        except Exception as exc:
            self._failed("Maintenance without the lease failed", exc)
        finally:
            self.running_task = False

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
        try:
            self._conn.execute("SELECT 1")  # still connected, so still holding the lock
            return True
        except psycopg.Error:
            if not (self._conn.closed or self._conn.broken):
                raise
        # The session ended and its lock with it (PostgreSQL restarted, its backend ended by an
        # administrator or an idle timeout), most often while the catalog answers again: ask
        # for the lock at once on a new connection. Said as a failure, a catalog back for
        # seconds logged a second outage's ERROR, "the catalog cannot be reached", after every
        # restart; a new connection that fails is the outage, said as before.
        self._drop_conn()
        return self._pg_lock()

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
        except Exception as exc:
            if first_of_outage(exc, lambda: False):
                # the stop's release met the catalog's outage first: the episode's one ERROR
                # line (said as DEBUG, the outage had none)
                cause = getattr(exc, "cause", None) or exc
                logger.error("Could not release the maintenance lease: %s", cause)
            else:
                logger.debug("Could not release the maintenance lease", exc_info=True)

    def _due_now(self) -> bool:
        """`_due`, false when the catalog stops answering between the lease check and this read:
        raised here, it ended the loop's thread, and maintenance never ran again until a restart
        (the next tick's lease check reports the outage)."""
        try:
            due = self._due()
        except StorageUnavailable as exc:  # an outage: the lease check says so, once
            if exc.first:
                # this read met the catalog's outage before anything else did: the episode's
                # one ERROR line (said as DEBUG, the outage had none at all; a CI-like run met
                # it: the cut fell between the lease check and this read)
                logger.error("Could not tell whether maintenance is due: %s", exc.cause or exc)
            else:
                logger.debug("Could not tell whether maintenance is due: %s", exc)
            return False
        except Exception:
            # anything else would stop maintenance without a word: said once, until it passes
            if not self._due_failing:
                logger.warning("Could not tell whether maintenance is due", exc_info=True)
            self._due_failing = True
            return False
        self._due_failing = False
        return due

    def _due(self) -> bool:
        with self._db.read() as s:
            row = s.get(CatalogLease, LEASE)
            last = row.last_run_at if row is not None else None
        if last is None:
            return time.monotonic() - self._started >= self.first_delay
        return since_due(last, self.interval)

    def _run_task(self) -> None:
        started = datetime.now(UTC)
        with run_lock(self.lib) as held, contextlib.ExitStack() as stack:
            if held is False:  # a run without the lease is on here: due again next tick
                self.running_task = False
                return
            try:
                # `mediadesk maintenance` on another node of the team: due again next tick
                if self.postgres:
                    taken, _ = stack.enter_context(_pg_run_lock(feed.pg_conninfo(self._db)))
                    if not taken:
                        self.running_task = False
                        return
            except Exception as exc:
                self._failed("Scheduled maintenance failed", exc)
                self.running_task = False
                return
            try:
                report = self.task(self.lib)
                error = None
            except Exception as exc:
                self._failed("Scheduled maintenance failed", exc)
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
        except Exception as exc:
            self._failed("Could not record the maintenance run", exc)
        finally:
            self.running_task = False
