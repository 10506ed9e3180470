"""The durable job queue in the catalog: enqueue, atomic claim with a lease, heartbeat, retry.

One table serves SQLite and PostgreSQL. A claim is a single `UPDATE … WHERE id = (SELECT …)
RETURNING` statement: under `BEGIN IMMEDIATE` on SQLite (the write lock is taken first, so two
processes never pick the same row) and with `FOR UPDATE SKIP LOCKED` on PostgreSQL (concurrent
workers skip a row another transaction is claiming instead of waiting for it). A running job
holds a lease (owner + expiry) that its worker renews; a worker that dies stops renewing, the
lease runs out and the next claim takes the job again, counting the attempt (not a lease
that lapsed while nobody could reach the catalog, before it has been back a full lease: see
`claim`).
"""

from __future__ import annotations

import builtins
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, exists, func, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from core.db.engine import Database
from core.db.models import CatalogLease, Job, MediaFile, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.records import from_columns, iso

logger = logging.getLogger(__name__)


class JobState(StrEnum):
    """A job's `state` (the same strings in JSON and in the catalog), and a file's combined
    processing state (`combine`)."""

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    SKIPPED = "skipped"
    FAILED = "failed"
    CANCELLED = "cancelled"


STATES = tuple(s.value for s in JobState)
ACTIVE = (JobState.QUEUED, JobState.RUNNING)  # what cancel() stops
RETRYABLE = (JobState.FAILED, JobState.CANCELLED)  # what retry() runs again
FINISHED = tuple(s for s in JobState if s not in ACTIVE)
KINDS = ("faststart", "web", "hls", "thumbnails")
BACKOFF_BASE = 5.0  # seconds before the second attempt; doubles each time
BACKOFF_MAX = 300.0
MAX_LIMIT = 1000  # jobs per listed page
# The catalog_leases row where claims keep, by the catalog's clock, when one last reached the
# catalog (last_run_at), when the catalog came back after nobody could (expires_at: that
# return plus a lease) and when it was last reached before that (info["since"])
# pg_advisory_xact_lock(class, file id) of a file's queueing (JobQueue._queueing): two-key space
QUEUE_LOCK_CLASS = 0x4D444B4A
_LOCK_QUEUE = text(f"SELECT pg_advisory_xact_lock({QUEUE_LOCK_CLASS}, :k)")
CONTACT = "job_claims"


# Why a job does not apply: the codes video.encode.NothingToDo carries, kept in a skipped
# job's result (one sentence each in the desktop, desktop_app/errors.py; an enum in the API)
SKIP_REASONS = (
    "audio_only",
    "no_picture_size",
    "not_mp4_or_mov",
    "already_fast_start",
    "no_video_frames",
    "already_web_ready",
)

# Why a job failed: the code of its `error` (jobs.error_code, migration 0017), told from what
# failed where it failed (core/video/failures.py), never from the English message. One
# sentence each in the desktop (desktop_app/errors.py); an enum in the API.
FAILURE_REASONS = (
    "undecodable_media",  # the original cannot be opened or decoded: damaged, cut off, unknown
    "encoder_failed",  # FFmpeg failed while making the output, or its process died
    "original_missing",  # the original is not in the store any more
    "storage_unavailable",  # the store or the work folder could not be read or written
    "insufficient_storage",  # no space left (ENOSPC, EDQUOT), as core.errors names it
    "interrupted",  # the worker running it stopped responding on every attempt
    "internal",  # anything else: a bug; the message and the log say what
)


@dataclass(frozen=True)
class JobRecord:
    id: int
    kind: str
    file_id: int
    state: str
    progress: float
    attempts: int
    max_attempts: int
    error: str | None
    result: dict[str, Any]
    lease_owner: str | None
    lease_expires_at: datetime | None
    cancel_requested: bool
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    error_code: str | None = None  # error's FAILURE_REASONS code; None: no code (old rows)

    @classmethod
    def from_row(cls, row: Job) -> JobRecord:
        return from_columns(
            cls,
            row,
            progress=float(row.progress or 0.0),
            attempts=row.attempts or 0,
            max_attempts=row.max_attempts or 1,
            result=dict(row.result or {}),
            cancel_requested=bool(row.cancel_requested),
        )

    @property
    def reason(self) -> str | None:
        """Why the job was skipped (SKIP_REASONS) or why its `error` happened (FAILURE_REASONS:
        failed, or queued again after a failed attempt), as a stable code; None otherwise and
        for a failure recorded before the codes existed, or with a code this version does not
        know."""
        # a code this version does not know (a newer server's, on a shared catalog) is none:
        # the API promises its clients the codes of the Job schema's enum
        if self.state == JobState.SKIPPED:
            reason = self.result.get("reason")
            return reason if reason in SKIP_REASONS else None
        return self.error_code if self.error_code in FAILURE_REASONS else None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "file_id": self.file_id,
            "state": self.state,
            "progress": round(self.progress, 4),
            "attempts": self.attempts,
            "error": self.error,
            # why it was skipped or failed, as a stable code (already_web_ready, ...)
            "reason": self.reason,
            "created_at": iso(self.created_at),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
        }


@dataclass(frozen=True)
class Processing:
    """The combined state of a file's latest job of each kind."""

    state: str
    progress: float
    error: str | None
    # kind -> reason code (None: recorded before the codes) of each job `error` names
    reasons: dict[str, str | None] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "progress": round(self.progress, 4),
            "error": self.error,
            "reasons": dict(self.reasons),
        }


def newest_of_each_kind(jobs: list[JobRecord]) -> list[JobRecord]:
    """The newest job of each kind (the highest id): what a file's processing state says."""
    latest: dict[str, JobRecord] = {}
    for job in sorted(jobs, key=lambda j: j.id):
        latest[job.kind] = job
    return [latest[k] for k in KINDS if k in latest]


def current_derivatives(jobs: list[JobRecord]) -> dict[str, JobRecord]:
    """kind -> the done job whose `result` names the derivatives in use (see `_current_done`:
    the same rule in SQL)."""
    done = sorted(
        (j for j in jobs if j.state == JobState.DONE),
        key=lambda j: (j.finished_at or j.created_at, j.id),
    )
    return {j.kind: j for j in done}


def combine(jobs: list[JobRecord]) -> Processing | None:
    """failed if any failed, else running, else queued, else cancelled, else done or skipped,
    over the newest job of each kind (an older done job kept for its derivatives is not
    processing)."""
    jobs = newest_of_each_kind(jobs)
    if not jobs:
        return None
    states = {j.state for j in jobs}
    progress = sum(
        1.0 if j.state in (JobState.DONE, JobState.SKIPPED) else j.progress for j in jobs
    ) / len(jobs)
    for state in (JobState.FAILED, JobState.RUNNING, JobState.QUEUED, JobState.CANCELLED):
        if state in states:
            failed = [j for j in jobs if j.state == JobState.FAILED and j.error]
            return Processing(state, progress, _why(failed), {j.kind: j.reason for j in failed})
    if states == {JobState.SKIPPED}:
        skipped = [j for j in jobs if j.error]
        return Processing(JobState.SKIPPED, 1.0, _why(skipped), {j.kind: j.reason for j in skipped})
    return Processing(JobState.DONE, 1.0, None)


def _why(jobs: list[JobRecord]) -> str | None:
    return "; ".join(f"{j.kind}: {j.error}" for j in jobs) or None


def backoff(attempts: int) -> float:
    return min(BACKOFF_BASE * 2 ** max(attempts - 1, 0), BACKOFF_MAX)


class JobQueue:
    """Every queue operation; safe from any thread and any process sharing the catalog."""

    def __init__(self, db: Database, lease_seconds: int = 30, max_attempts: int = 3) -> None:
        self.db = db
        self.lease_seconds = lease_seconds
        self.max_attempts = max_attempts

    # ---- producers --------------------------------------------------------------------------
    def enqueue(self, file_id: int, kinds: tuple[str, ...] | list[str]) -> list[JobRecord]:
        """Queues one job per kind; a kind already queued or running is left as it is."""
        for kind in kinds:
            if kind not in KINDS:
                raise InvalidInput(f"Unknown job kind {kind!r}")
        out: list[JobRecord] = []
        with self.db.write() as s:
            self._queueing(s, file_id)
            active = {
                row.kind: row
                for row in s.scalars(
                    select(Job).where(Job.file_id == file_id, Job.state.in_(ACTIVE))
                )
            }
            for kind in kinds:
                row = active.get(kind)
                if row is None:
                    row = self._new_job(kind, file_id)
                    s.add(row)
                    s.flush()
                out.append(JobRecord.from_row(row))
        return out

    def _queueing(self, s: Session, file_id: int) -> None:
        """Queueing a file's jobs waits for another transaction queueing that file's: what it
        reads as active then includes what the other queued. SQLite's writes already take
        turns (BEGIN IMMEDIATE); PostgreSQL's read committed let both read before either
        wrote."""
        if not self.db.is_sqlite:
            s.execute(_LOCK_QUEUE, {"k": file_id})

    def _new_job(self, kind: str, file_id: int) -> Job:
        return Job(
            kind=kind,
            file_id=file_id,
            state=JobState.QUEUED,
            progress=0.0,
            attempts=0,
            max_attempts=self.max_attempts,
            run_after=self._from_now(0),
            cancel_requested=False,
        )

    def requeue_file(self, file_id: int, kinds: tuple[str, ...] | list[str]) -> list[JobRecord]:
        """Reprocessing: active jobs of the file are cancelled, fresh ones queued, in one
        transaction under the file's queueing lock. Two transactions, unlocked, let reprocesses
        asked at once (two servers of a team) each cancel before the others queued: every one
        of their sets stayed queued and ran, the same encodes two or three times over."""
        with self.db.write() as s:
            self._queueing(s, file_id)
            now = utcnow()
            s.execute(
                update(Job)
                .where(Job.file_id == file_id, Job.state == JobState.QUEUED)
                .values(
                    state=JobState.CANCELLED,
                    finished_at=now,
                    error="Replaced by a new request",
                    error_code=None,
                ),
                execution_options={"synchronize_session": False},
            )
            s.execute(
                update(Job)
                .where(Job.file_id == file_id, Job.state == JobState.RUNNING)
                .values(cancel_requested=True),
                execution_options={"synchronize_session": False},
            )
            rows = [self._new_job(kind, file_id) for kind in kinds]
            s.add_all(rows)
            s.flush()
            return [JobRecord.from_row(r) for r in rows]

    # ---- workers ----------------------------------------------------------------------------
    def claim(self, owner: str, kinds: tuple[str, ...] | None = None) -> JobRecord | None:
        """Takes the oldest runnable job (queued and due, or running with a lapsed lease).

        A lease that lapsed while nobody could reach the catalog (its disk pulled out, its
        server stopped or restarted, its network down) is not taken before the catalog has
        been back a full lease: the outage kept its worker from renewing, and a worker whose
        job the outage stopped puts it back without spending the attempt once the catalog
        answers (core/video/worker.py) unless a claim, of any process, took it first,
        counting one. A worker that really died (kill -9) still has its attempt counted, at
        most a lease after the catalog came back. All of it by the catalog's clock: leases and
        due times on PostgreSQL are the server's time, as is its start (a worker machine's
        clock may be off).
        """
        now = utcnow()
        with self.db.write() as s:
            clock, started = now, None  # SQLite: no server, this machine's clock
            if not self.db.is_sqlite:  # its own clock (this machine's may be off)
                clock, started = s.execute(
                    select(func.now(), func.pg_postmaster_start_time())
                ).one()
            lapsed: ColumnElement[bool] = and_(
                Job.state == JobState.RUNNING, Job.lease_expires_at < clock
            )
            since = self._catalog_return(s, clock, started)
            if since is not None:  # still valid when the catalog was last reached
                lapsed = and_(lapsed, Job.lease_expires_at <= since)
            # A job whose worker died on its last allowed attempt fails instead of running again
            s.execute(
                update(Job)
                .where(lapsed, Job.attempts >= Job.max_attempts)
                .values(
                    state=JobState.FAILED,
                    finished_at=now,
                    lease_owner=None,
                    error="The worker running it stopped responding on every attempt",
                    error_code="interrupted",
                ),
                execution_options={"synchronize_session": False},
            )
            pick = select(Job.id).where(
                or_(and_(Job.state == JobState.QUEUED, Job.run_after <= clock), lapsed)
            )
            if kinds:
                pick = pick.where(Job.kind.in_(kinds))
            pick = pick.order_by(Job.id).limit(1)
            if not self.db.is_sqlite:
                pick = pick.with_for_update(skip_locked=True)
            claimed = s.execute(
                update(Job)
                .where(Job.id == pick.scalar_subquery())
                .values(
                    state=JobState.RUNNING,
                    lease_owner=owner,
                    lease_expires_at=self._lease_end(),
                    attempts=Job.attempts + 1,
                    started_at=now,
                    progress=0.0,
                )
                .returning(Job.id),
                execution_options={"synchronize_session": False},
            ).scalar_one_or_none()
            if claimed is None:
                return None
            row = s.get(Job, claimed, populate_existing=True)
            assert row is not None
            return JobRecord.from_row(row)

    def _catalog_return(
        self, s: Session, clock: datetime, started: datetime | None
    ) -> datetime | None:
        """While the catalog came back less than a lease ago: when it was last reached before
        (a lease valid then lapsed while nobody could renew it); else None.

        Every claim (workers poll every second or so) notes the time it reached the catalog,
        written at most every sixth of a lease. A claim finding that note older than half a
        lease found a time nobody reached the catalog: shorter than any outage that lets a
        lease lapse (heartbeats come every third of a lease); so does one finding it older
        than PostgreSQL's start (`started`: a restart). The catalog itself cannot tell an
        outage from nobody asking (every process stopped, a lone worker's long encode): then
        only a lease still valid at the last claim waits, a dead worker's job a lease longer."""
        lease = timedelta(seconds=self.lease_seconds)
        row = s.get(CatalogLease, CONTACT)
        if row is None:
            insert = postgresql.insert if not self.db.is_sqlite else sqlite.insert
            s.execute(
                insert(CatalogLease)
                .values(name=CONTACT, last_run_at=clock)
                .on_conflict_do_nothing(index_elements=["name"])
            )
            return None
        info = dict(row.info or {})
        back = row.expires_at is not None and clock < row.expires_at and "since" in info
        seen = row.last_run_at
        if seen is not None and (
            clock - seen > lease / 2 or (started is not None and seen < started)
        ):
            # a return within the grace of another keeps the earlier outage's leases too
            since = min(seen, datetime.fromisoformat(info["since"])) if back else seen
            row.info = {"since": since.isoformat()}
            row.expires_at = clock + lease
            row.last_run_at = clock
            return since
        if seen is None or clock - seen > lease / 6:
            row.last_run_at = clock
        return datetime.fromisoformat(info["since"]) if back else None

    def _lease_end(self) -> Any:
        """A lease from now, by the catalog's clock (leases compare with its start too)."""
        return self._from_now(self.lease_seconds)

    def _from_now(self, seconds: float) -> Any:
        """`seconds` from now by the catalog's clock, for the times claims compare (leases,
        due times): PostgreSQL's, so that every worker machine's compare alike; a job queued by
        a machine whose clock is ahead was not due for a worker on time, a back-off written by
        one behind was already over. SQLite's catalog is this machine's."""
        later = timedelta(seconds=seconds)
        return utcnow() + later if self.db.is_sqlite else func.now() + later

    def heartbeat(self, job_id: int, owner: str, progress: float | None = None) -> bool:
        """Renews the lease; False when the job is no longer ours or its cancel was asked."""
        values: dict[str, Any] = {"lease_expires_at": self._lease_end()}
        if progress is not None:
            values["progress"] = max(0.0, min(1.0, float(progress)))
        with self.db.write() as s:
            held = s.execute(
                update(Job)
                .where(Job.id == job_id, Job.lease_owner == owner, Job.state == JobState.RUNNING)
                .values(**values)
                .returning(Job.cancel_requested),
                execution_options={"synchronize_session": False},
            ).scalar_one_or_none()
        return held is not None and not held

    def should_stop(self, job_id: int, owner: str) -> bool:
        """A cheap read for the worker's sub-second cancel check."""
        with self.db.read() as s:
            row = s.execute(
                select(Job.state, Job.lease_owner, Job.cancel_requested).where(Job.id == job_id)
            ).one_or_none()
        return row is None or row[0] != JobState.RUNNING or row[1] != owner or bool(row[2])

    def finish(
        self,
        job_id: int,
        owner: str,
        state: JobState = JobState.DONE,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        superseded: Callable[[Session, builtins.list[JobRecord]], None] | None = None,
    ) -> bool:
        """Marks our running job done/skipped/cancelled; False if it was not ours any more.

        A job marked done becomes the one whose derivatives are served (`_current_done`):
        `superseded` is called, in the same transaction, with the done jobs it replaces, so
        that their files' deferred deletion is recorded with it or not at all."""
        if state not in (JobState.DONE, JobState.SKIPPED, JobState.CANCELLED):
            raise InvalidInput(f"finish() cannot set state {state!r}")
        condition = [Job.id == job_id, Job.lease_owner == owner, Job.state == JobState.RUNNING]
        if state != JobState.CANCELLED:
            condition.append(Job.cancel_requested.is_(False))
        with self.db.write() as s:
            replaced: builtins.list[JobRecord] = []
            if state == JobState.DONE and superseded is not None:
                mine = s.get(Job, job_id)
                if mine is not None:
                    replaced = [
                        JobRecord.from_row(r)
                        for r in s.scalars(
                            select(Job).where(
                                Job.file_id == mine.file_id,
                                Job.kind == mine.kind,
                                Job.id != job_id,
                                _current_done(),
                            )
                        )
                    ]
            done = s.execute(
                update(Job)
                .where(*condition)
                .values(
                    state=state,
                    progress=1.0 if state != JobState.CANCELLED else Job.progress,
                    result=result or {},
                    error=error,
                    error_code=None,  # a skip says why in result["reason"]
                    finished_at=utcnow(),
                    lease_owner=None,
                    lease_expires_at=None,
                )
                .returning(Job.id),
                execution_options={"synchronize_session": False},
            ).scalar_one_or_none()
            if done is not None and replaced and superseded is not None:
                superseded(s, replaced)
        return done is not None

    def fail(
        self,
        job_id: int,
        owner: str,
        error: str,
        permanent: bool = False,
        reason: str = "internal",
    ) -> JobRecord | None:
        """A failed attempt: queued again after a back-off, or failed for good, with the message
        and its FAILURE_REASONS code."""
        if reason not in FAILURE_REASONS:  # a bug of the caller: the job still fails, readably
            logger.warning("Job %s failed with an unknown reason %r", job_id, reason)
            reason = "internal"
        with self.db.write() as s:
            row = s.get(Job, job_id)
            if row is None or row.lease_owner != owner or row.state != JobState.RUNNING:
                return None
            now = utcnow()
            row.error = error[:2000]
            row.error_code = reason
            row.lease_owner = None
            row.lease_expires_at = None
            if permanent or row.attempts >= row.max_attempts:
                row.state = JobState.FAILED
                row.finished_at = now
            else:
                row.state = JobState.QUEUED
                row.run_after = self._from_now(backoff(row.attempts))
            s.flush()
            return JobRecord.from_row(row)

    def postpone(
        self, job_id: int, owner: str, error: str, reason: str, delay: float
    ) -> JobRecord | None:
        """An attempt the store's or the catalog's passing outage stopped: queued again after
        `delay` seconds without spending the attempt (attempts are for the job's own
        failures: two short outages had failed a job for good). Keeps the error and its code,
        as a queued job after a failed attempt does."""
        with self.db.write() as s:
            row = s.get(Job, job_id)
            if row is None or row.lease_owner != owner or row.state != JobState.RUNNING:
                return None
            row.error = error[:2000]
            row.error_code = reason if reason in FAILURE_REASONS else "internal"
            row.lease_owner = None
            row.lease_expires_at = None
            row.attempts = max((row.attempts or 0) - 1, 0)
            row.state = JobState.QUEUED
            row.run_after = self._from_now(delay)
            s.flush()
            return JobRecord.from_row(row)

    def release(self, job_id: int, owner: str) -> bool:
        """A worker shutting down hands its job back without spending an attempt."""
        with self.db.write() as s:
            done = s.execute(
                update(Job)
                .where(Job.id == job_id, Job.lease_owner == owner, Job.state == JobState.RUNNING)
                .values(
                    state=JobState.QUEUED,
                    attempts=func.max(Job.attempts - 1, 0)
                    if self.db.is_sqlite
                    else func.greatest(Job.attempts - 1, 0),
                    lease_owner=None,
                    lease_expires_at=None,
                    run_after=self._from_now(0),
                )
                .returning(Job.id),
                execution_options={"synchronize_session": False},
            ).scalar_one_or_none()
        return done is not None

    # ---- people -----------------------------------------------------------------------------
    def cancel(self, job_id: int) -> JobRecord:
        """A queued job is cancelled at once; a running one is stopped by its worker (< 1 s)."""
        with self.db.write() as s:
            row = _job(s, job_id)
            if row.state == JobState.QUEUED:
                row.state, row.finished_at = JobState.CANCELLED, utcnow()
            elif row.state == JobState.RUNNING:
                row.cancel_requested = True
            else:
                raise Conflict(f"Job {job_id} has already finished ({row.state})")
            s.flush()
            return JobRecord.from_row(row)

    def retry(self, job_id: int) -> JobRecord:
        """A failed or cancelled job runs again from a fresh attempt count."""
        with self.db.write() as s:
            row = _job(s, job_id)
            if row.state not in RETRYABLE:
                raise Conflict(f"Only failed or cancelled jobs can be retried (job is {row.state})")
            row.state, row.attempts, row.error, row.error_code = JobState.QUEUED, 0, None, None
            row.progress, row.run_after, row.finished_at = 0.0, self._from_now(0), None
            row.cancel_requested, row.started_at = False, None
            s.flush()
            return JobRecord.from_row(row)

    # ---- reading ----------------------------------------------------------------------------
    def get(self, job_id: int) -> JobRecord:
        with self.db.read() as s:
            row = _job(s, job_id)
            return JobRecord.from_row(row)

    def list(
        self,
        state: str | None = None,
        file_id: int | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[list[JobRecord], int]:
        if state is not None and state not in STATES:
            raise InvalidInput(f"state must be one of {', '.join(STATES)}")
        query = select(Job)
        if state is not None:
            query = query.where(Job.state == state)
        if file_id is not None:
            query = query.where(Job.file_id == file_id)
        with self.db.read() as s:
            total = s.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = s.scalars(query.order_by(Job.id.desc()).limit(limit).offset(offset)).all()
            return [JobRecord.from_row(r) for r in rows], int(total)

    def latest_for_file(self, file_id: int) -> builtins.list[JobRecord]:
        """The newest job of each kind of one file (older ones were replaced by reprocessing),
        and before it, where that newest job is not the one, the done job whose derivatives are
        in use (`_current_done`): a queued, running, failed or cancelled reprocess must not
        hide them. `combine` reads the newest of each kind, `current_derivatives` the done ones.

        A file whose stored object another file shares (the same bytes for another athlete)
        has no jobs of its own: the derivatives belong to the object, the jobs to the file
        that queued them (`processing_owner`)."""
        with self.db.read() as s:
            rows = self._file_rows(s, file_id)
            if not rows and (owner := self._owner(s, file_id)) is not None:
                rows = self._file_rows(s, owner)
        records = [JobRecord.from_row(row) for row in rows]
        newest = newest_of_each_kind(records)
        current = current_derivatives(records)
        out: builtins.list[JobRecord] = []
        for job in newest:
            done = current.get(job.kind)
            if done is not None and done.id != job.id:
                out.append(done)
            out.append(job)
        return out

    @staticmethod
    def _file_rows(s: Session, file_id: int) -> builtins.list[Job]:
        query = select(Job).where(
            Job.file_id == file_id, or_(_newest_of_its_kind(), _current_done())
        )
        return list(s.scalars(query.order_by(Job.id)))

    def depth(self) -> dict[str, int]:
        with self.db.read() as s:
            rows = s.execute(select(Job.state, func.count()).group_by(Job.state)).all()
        counts = {state: 0 for state in STATES}
        counts.update({state: int(n) for state, n in rows})
        return counts

    def run_statistics(
        self,
    ) -> tuple[builtins.list[tuple[str, float]], dict[tuple[str, str | None], int]]:
        """(kind, seconds) of every finished job's last attempt, and failed jobs by kind and
        error_code (None: failed before the codes were recorded)."""
        with self.db.read() as s:
            rows = s.execute(
                select(Job.kind, Job.started_at, Job.finished_at).where(
                    Job.state == JobState.DONE, Job.finished_at.is_not(None)
                )
            ).all()
            failed = s.execute(
                select(Job.kind, Job.error_code, func.count())
                .where(Job.state == JobState.FAILED)
                .group_by(Job.kind, Job.error_code)
            ).all()
        durations = [
            (kind, (finished - started).total_seconds())
            for kind, started, finished in rows
            if started is not None and finished is not None
        ]
        return durations, {(kind, code): int(n) for kind, code, n in failed}

    def processing_owner(self, file_id: int) -> int | None:
        """Another file sharing this file's stored object whose jobs make its derivatives."""
        with self.db.read() as s:
            return self._owner(s, file_id)

    @staticmethod
    def _owner(s: Session, file_id: int) -> int | None:
        owner = s.scalar(
            select(func.min(Job.file_id))
            .join(MediaFile, MediaFile.id == Job.file_id)
            .where(*_sharing_the_object_of(file_id))
        )
        return int(owner) if owner is not None else None

    def hand_over(self, file_id: int) -> int | None:
        """A hard-deleted file whose object another file keeps: its jobs (and what they made)
        go to that file instead of away. Returns the new owner, or None (nobody shares)."""
        with self.db.write() as s:
            heir = s.scalar(select(func.min(MediaFile.id)).where(*_sharing_the_object_of(file_id)))
            if heir is None:
                return None
            hand_over_jobs(s, file_id, int(heir))
            return int(heir)

    def forget_file(self, file_id: int) -> None:
        """A hard-deleted file: running jobs are told to stop, every row of it goes."""
        self.forget_files([file_id])

    def forget_files(self, file_ids: Collection[int]) -> None:
        """`forget_file` of many files in one transaction (the emptying of the trash)."""
        with self.db.write() as s:
            forget_jobs(s, file_ids)

    def purge_finished(self, older_than: datetime) -> int:
        """Finished jobs are kept for the trash retention, then removed: all but the newest job
        of each (file, kind) and the done one whose `result` names the derivatives in use
        (`_current_done`). Those are not history: the newest is the file's processing state (a
        failed video's reasons; a skipped web job, which lets the original stand in for the web
        rendition), the done one the only record of where its web rendition, HLS ladder and
        scrub thumbnails are. Purging either changed what the API answered for the file."""
        with self.db.write() as s:
            ids = list(
                s.scalars(
                    select(Job.id).where(
                        Job.state.in_(FINISHED),
                        Job.finished_at.is_not(None),
                        Job.finished_at < older_than,
                        ~_newest_of_its_kind(),
                        ~_current_done(),
                    )
                )
            )
            if ids:
                s.execute(
                    delete(Job).where(Job.id.in_(ids)),
                    execution_options={"synchronize_session": False},
                )
        return len(ids)


def _newest_of_its_kind() -> ColumnElement[bool]:
    """The newest job of its (file, kind), by id (a reprocess queues after what it replaces):
    what the file's processing state says (`latest_for_file`), and so never purged."""
    newer = aliased(Job)
    return ~exists().where(newer.file_id == Job.file_id, newer.kind == Job.kind, newer.id > Job.id)


def _current_done() -> ColumnElement[bool]:
    """A done job no other done job of its (file, kind) finished after: its `result` names the
    derivatives in use (the last job to finish wrote them; by finish time, not id, because a
    retried older job finishing last overwrote a newer one's keys). The one rule for reading
    them (`latest_for_file`, `current_derivatives`) and for keeping their job (`purge_finished`).
    """
    later = aliased(Job)
    return and_(
        Job.state == JobState.DONE,
        ~exists().where(
            later.file_id == Job.file_id,
            later.kind == Job.kind,
            later.state == JobState.DONE,
            or_(
                later.finished_at > Job.finished_at,
                and_(later.finished_at == Job.finished_at, later.id > Job.id),
            ),
        ),
    )


def _job(s: Session, job_id: int) -> Job:
    row = s.get(Job, job_id)
    if row is None:
        raise NotFound(f"Job {job_id} not found")
    return row


def hand_over_jobs(s: Session, file_id: int, heir: int) -> None:
    """`JobQueue.hand_over` in the caller's transaction: a write that makes `file_id` no file
    (a restore's merge) hands its jobs over in its own commit, so no crash after it strands
    them under an id no file's jobs are looked up by."""
    s.execute(
        update(Job).where(Job.file_id == file_id).values(file_id=heir),
        execution_options={"synchronize_session": False},
    )


def forget_jobs(s: Session, file_ids: Collection[int]) -> None:
    """`JobQueue.forget_files` in the caller's transaction (as `hand_over_jobs`)."""
    s.execute(
        update(Job)
        .where(Job.file_id.in_(file_ids), Job.state == JobState.RUNNING)
        .values(cancel_requested=True),
        execution_options={"synchronize_session": False},
    )
    s.execute(
        delete(Job).where(Job.file_id.in_(file_ids), Job.state != JobState.RUNNING),
        execution_options={"synchronize_session": False},
    )


def _sharing_the_object_of(file_id: int) -> tuple[ColumnElement[bool], ...]:
    """Other files (not aliases) whose key is this file's: they share its stored object."""
    key = select(MediaFile.storage_key).where(MediaFile.id == file_id).scalar_subquery()
    return (MediaFile.storage_key == key, MediaFile.alias_of.is_(None), MediaFile.id != file_id)
