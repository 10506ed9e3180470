"""On a PostgreSQL catalog shared by several machines, when a job is due goes by the catalog's
clock, as its lease does (e7fe1f3): a worker machine whose clock is off takes a job queued just
now by another machine at once, and still waits out a back-off, whoever wrote it.

Each machine's clock is this process's, skewed (core.jobs' utcnow patched); the catalog is a
real PostgreSQL server."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text

from core import jobs as jobs_module
from core.db.engine import Database
from core.db.migrate import upgrade
from core.db.models import utcnow
from core.jobs import JobQueue, JobState
from tests.pg_server import postgres_url  # noqa: F401

BEHIND, AHEAD = -timedelta(minutes=10), timedelta(minutes=10)
DELAY = 2.0  # the back-off and the postponement, in seconds


class Clock:
    """The clock of the machine the test is acting as."""

    def __init__(self) -> None:
        self.skew = timedelta(0)

    def now(self) -> datetime:
        return utcnow() + self.skew


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(jobs_module, "utcnow", clock.now)
    monkeypatch.setattr(jobs_module, "BACKOFF_BASE", DELAY)
    return clock


@pytest.fixture
def queue(postgres_url: str) -> Iterator[JobQueue]:  # noqa: F811
    db = Database(postgres_url)
    upgrade(db.engine)
    with db.write() as s:  # the tests share the database
        s.execute(text("TRUNCATE jobs RESTART IDENTITY"))
    try:
        yield JobQueue(db, lease_seconds=30)
    finally:
        db.dispose()


def _claimed_after(queue: JobQueue, owner: str, limit: float) -> tuple[int, float] | None:
    """The job `owner` claims polling for `limit` seconds, and when (seconds from now)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        job = queue.claim(owner)
        if job is not None:
            return job.id, time.monotonic() - start
        time.sleep(0.1)
    return None


def test_a_job_queued_now_is_claimed_at_once_by_a_worker_behind(
    queue: JobQueue, clock: Clock
) -> None:
    """Before, each was due by the clock of the machine that queued it, ten minutes in the
    future of the worker's: it took none of them for ten minutes."""
    queued = queue.enqueue(1, ["web"])[0]  # by the server, on time
    clock.skew = BEHIND
    assert queue.claim("behind") is not None
    assert queue.release(queued.id, "behind")
    clock.skew = timedelta(0)  # another worker, on time, released it (shutting down)...
    assert queue.claim("on-time") is not None
    assert queue.release(queued.id, "on-time")
    clock.skew = BEHIND  # ...and the one behind takes it at once
    assert queue.claim("behind") is not None
    assert queue.fail(queued.id, "behind", "broken", permanent=True) is not None
    clock.skew = timedelta(0)
    assert queue.retry(queued.id).state == JobState.QUEUED  # a person, on the server
    clock.skew = BEHIND
    again = queue.claim("behind")
    assert again is not None and again.id == queued.id


@pytest.mark.parametrize("writer", [timedelta(0), BEHIND], ids=["on-time", "behind"])
@pytest.mark.parametrize("how", ["fail", "postpone"])
def test_a_backoff_is_honoured_by_a_worker_ahead(
    queue: JobQueue, clock: Clock, writer: timedelta, how: str
) -> None:
    """Before, a machine ten minutes ahead found the job due at once (and so did one on time,
    after a back-off written by a machine behind)."""
    clock.skew = writer
    job = queue.enqueue(1, ["web"])[0]
    assert queue.claim("writer") is not None
    if how == "fail":  # a failed first attempt: backoff(1) == DELAY
        assert queue.fail(job.id, "writer", "broken").state == JobState.QUEUED  # type: ignore[union-attr]
    else:  # the store's outage stopped it
        assert queue.postpone(job.id, "writer", "away", "internal", DELAY) is not None
    for skew in (AHEAD, timedelta(0)):
        clock.skew = skew
        assert queue.claim("reader") is None
    clock.skew = AHEAD
    taken = _claimed_after(queue, "ahead", DELAY + 5)
    assert taken is not None and taken[0] == job.id
    assert taken[1] >= DELAY - 0.5
