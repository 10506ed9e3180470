"""The durable job queue on SQLite and PostgreSQL: atomic claims, leases, back-off, cancel."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import inspect, text, update

from core.db.engine import Database
from core.db.migrate import downgrade, upgrade
from core.db.models import Job, utcnow
from core.errors import Conflict, InvalidInput, NotFound
from core.jobs import JobQueue, JobState, backoff, combine
from tests.pg_server import postgres_url  # noqa: F401


def fresh_postgres(url: str) -> str:
    """A new empty database on the throwaway cluster (tests do not share a catalog)."""
    name = f"jobs_{uuid.uuid4().hex[:10]}"
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.sqlite3'}"
    return fresh_postgres(request.getfixturevalue("postgres_url"))


@pytest.fixture
def queue(db_url: str) -> Iterator[JobQueue]:
    db = Database(db_url)
    upgrade(db.engine)
    yield JobQueue(db, lease_seconds=30, max_attempts=3)
    db.dispose()


def _expire_lease(q: JobQueue, job_id: int) -> None:
    with q.db.write() as s:
        s.execute(
            update(Job)
            .where(Job.id == job_id)
            .values(lease_expires_at=utcnow() - timedelta(seconds=1)),
        )


def _due_now(q: JobQueue, job_id: int) -> None:
    with q.db.write() as s:
        s.execute(update(Job).where(Job.id == job_id).values(run_after=utcnow()))


def test_each_job_is_claimed_by_exactly_one_of_many_concurrent_workers(
    queue: JobQueue, db_url: str
) -> None:
    for file_id in range(1, 31):
        queue.enqueue(file_id, ["web"])
    claimed: list[int] = []
    lock = threading.Lock()
    # separate engines: as separate processes would hold separate connections
    queues = [JobQueue(Database(db_url), 30, 3) for _ in range(4)]
    start = threading.Barrier(len(queues))

    def work(q: JobQueue, name: str) -> None:
        start.wait()
        while (job := q.claim(name)) is not None:
            with lock:
                claimed.append(job.id)

    threads = [threading.Thread(target=work, args=(q, f"w{i}")) for i, q in enumerate(queues)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    for q in queues:
        q.db.dispose()
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 30
    assert queue.depth()["running"] == 30


def test_a_lapsed_lease_is_claimed_again_and_the_old_owner_cannot_finish(
    queue: JobQueue,
) -> None:
    (job,) = queue.enqueue(1, ["hls"])
    first = queue.claim("worker-a")
    assert first is not None and first.id == job.id and first.attempts == 1
    assert queue.claim("worker-b") is None  # leased
    assert queue.heartbeat(job.id, "worker-a", 0.5)
    _expire_lease(queue, job.id)  # worker-a died (no heartbeat)
    second = queue.claim("worker-b")
    assert second is not None and second.id == job.id and second.attempts == 2
    assert second.lease_owner == "worker-b"
    assert not queue.heartbeat(job.id, "worker-a")
    assert not queue.finish(job.id, "worker-a", "done", {"files": []})
    assert queue.finish(job.id, "worker-b", "done", {"files": ["x"]})
    done = queue.get(job.id)
    assert done.state == "done" and done.result == {"files": ["x"]} and done.progress == 1.0


def test_failures_back_off_then_fail_for_good_with_the_reason(queue: JobQueue) -> None:
    (job,) = queue.enqueue(1, ["web"])
    for attempt in (1, 2):
        claimed = queue.claim("w")
        assert claimed is not None and claimed.attempts == attempt
        after = queue.fail(job.id, "w", f"disk full {attempt}")
        assert after is not None and after.state == "queued"
        assert queue.claim("w") is None  # backing off
        _due_now(queue, job.id)
    assert backoff(1) < backoff(2) < backoff(3)
    claimed = queue.claim("w")
    assert claimed is not None and claimed.attempts == 3
    final = queue.fail(job.id, "w", "disk full 3")
    assert final is not None and final.state == "failed" and final.error == "disk full 3"
    assert queue.claim("w") is None


def test_permanent_failure_and_dead_worker_on_the_last_attempt(queue: JobQueue) -> None:
    (bad,) = queue.enqueue(1, ["web"])
    queue.claim("w")
    failed = queue.fail(bad.id, "w", "Only 1.0 s of 4.0 s could be decoded", permanent=True)
    assert failed is not None and failed.state == "failed" and failed.attempts == 1
    (lost,) = queue.enqueue(2, ["web"])
    for _ in range(3):
        assert queue.claim("w") is not None
        _expire_lease(queue, lost.id)
    assert queue.claim("w") is None
    gone = queue.get(lost.id)
    assert gone.state == "failed" and "stopped responding" in (gone.error or "")
    assert gone.reason == "interrupted" and gone.as_dict()["reason"] == "interrupted"


def test_cancel_and_retry(queue: JobQueue) -> None:
    a, b = queue.enqueue(1, ["web", "hls"])
    assert queue.cancel(a.id).state == "cancelled"
    with pytest.raises(Conflict):
        queue.cancel(a.id)
    running = queue.claim("w")
    assert running is not None and running.id == b.id
    asked = queue.cancel(b.id)
    assert asked.state == "running" and asked.cancel_requested
    assert not queue.heartbeat(b.id, "w")  # the worker learns it must stop
    assert queue.should_stop(b.id, "w")
    assert not queue.finish(b.id, "w", "done")  # a cancelled job cannot become done
    assert queue.finish(b.id, "w", "cancelled")
    with pytest.raises(Conflict):
        queue.retry(queue.enqueue(3, ["web"])[0].id)  # only failed or cancelled jobs
    again = queue.retry(a.id)
    assert again.state == "queued" and again.attempts == 0 and again.error is None
    with pytest.raises(NotFound):
        queue.cancel(999_999)
    with pytest.raises(InvalidInput):
        queue.enqueue(1, ["transcode-to-gif"])


def test_enqueue_is_idempotent_and_reprocess_replaces(queue: JobQueue) -> None:
    first = queue.enqueue(7, ["web", "hls"])
    again = queue.enqueue(7, ["web", "hls"])
    assert [j.id for j in first] == [j.id for j in again]
    claimed = queue.claim("w")
    assert claimed is not None
    fresh = queue.requeue_file(7, ["web", "hls"])
    assert {j.id for j in fresh}.isdisjoint({j.id for j in first})
    assert queue.get(claimed.id).cancel_requested  # the running one is told to stop
    assert queue.get(first[1].id).state == "cancelled"
    latest = queue.latest_for_file(7)
    assert [j.id for j in latest] == [j.id for j in fresh]
    state = combine(latest)
    assert state is not None and state.state == "queued" and state.progress == 0.0


def test_release_hands_a_job_back_without_spending_an_attempt(queue: JobQueue) -> None:
    (job,) = queue.enqueue(1, ["thumbnails"])
    assert queue.claim("w") is not None
    assert queue.release(job.id, "w")
    back = queue.get(job.id)
    assert back.state == "queued" and back.attempts == 0


def test_combined_processing_state() -> None:
    def rec(kind: str, state: str, progress: float = 0.0, error: str | None = None):  # type: ignore[no-untyped-def]
        from datetime import UTC, datetime

        from core.jobs import JobRecord

        now = datetime.now(UTC)
        return JobRecord(
            1, kind, 1, state, progress, 1, 3, error, {}, None, None, False, now, None, None
        )

    assert combine([]) is None
    s = combine([rec("web", "done"), rec("hls", "running", 0.5)])
    assert s is not None and s.state == "running" and s.progress == 0.75
    s = combine([rec("web", "failed", error="bad"), rec("hls", "running")])
    assert s is not None and s.state == "failed" and s.error == "web: bad"
    s = combine([rec("web", "skipped", error="audio only"), rec("hls", "skipped")])
    assert s is not None and s.state == "skipped" and "audio only" in (s.error or "")
    s = combine([rec("web", "skipped"), rec("hls", "done")])
    assert s is not None and s.state == "done" and s.progress == 1.0
    assert s.as_dict()["reasons"] == {}
    bad = replace(rec("web", "failed", error="Only 1 s decoded"), error_code="undecodable_media")
    old = rec("hls", "failed", error="from before the codes")
    s = combine([bad, old, rec("thumbnails", "done")])
    assert s is not None and s.as_dict()["reasons"] == {"web": "undecodable_media", "hls": None}
    skip = replace(rec("web", "skipped", error="plays"), result={"reason": "already_web_ready"})
    s = combine([skip, rec("hls", "skipped", error="no frames")])
    assert s is not None and s.reasons == {"web": "already_web_ready", "hls": None}


def test_a_failure_keeps_its_reason_code_until_the_job_runs_again(queue: JobQueue) -> None:
    """fail() stores the code beside the message (queued again after a failed attempt too);
    a retry, a success and a skip clear it; a code clients do not know is stored as internal."""
    (job,) = queue.enqueue(1, ["web"])
    assert queue.get(job.id).reason is None
    queue.claim("w")
    after = queue.fail(job.id, "w", "[Errno 28] No space left", reason="insufficient_storage")
    assert after is not None and after.state == "queued"
    assert after.reason == "insufficient_storage"  # the failed attempt's, as error is
    _due_now(queue, job.id)
    queue.claim("w")
    final = queue.fail(
        job.id, "w", "Only 1.0 s of 4.0 s", permanent=True, reason="undecodable_media"
    )
    assert final is not None and final.state == "failed"
    assert queue.get(job.id).as_dict()["reason"] == "undecodable_media"  # kept in the catalog
    again = queue.retry(job.id)
    assert again.reason is None and again.error is None
    queue.claim("w")
    odd = queue.fail(job.id, "w", "?", permanent=True, reason="cosmic_rays")
    assert odd is not None and odd.reason == "internal"
    assert queue.fail(99, "w", "not ours") is None
    queue.retry(job.id)
    queue.claim("w")
    queue.fail(job.id, "w", "a store hiccup", reason="storage_unavailable")
    _due_now(queue, job.id)
    queue.claim("w")
    assert queue.finish(job.id, "w", JobState.DONE, {"files": ["web.mp4"]})
    done = queue.get(job.id)
    assert done.state == "done" and done.reason is None and done.error is None
    (skip,) = queue.enqueue(2, ["web"])
    queue.claim("w")
    queue.finish(skip.id, "w", JobState.SKIPPED, {"reason": "already_web_ready"}, "It plays")
    assert queue.get(skip.id).as_dict()["reason"] == "already_web_ready"


def test_migration_0017_upgrades_a_catalog_with_failed_jobs(db_url: str) -> None:
    """An existing catalog: a job that failed before the codes reads with reason null (its
    English message kept); the upgraded table stores codes; the downgrade keeps the rows."""
    db = Database(db_url)
    upgrade(db.engine, "0016")
    with db.engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO jobs (kind, file_id, state, progress, attempts, max_attempts, error, "
                "result, cancel_requested, run_after, created_at, finished_at) VALUES ('web', 7, "
                "'failed', 0, 3, 3, 'The encoder exited with status 1.', '{}', false, "
                "'2024-01-01 00:00:00', '2024-01-01 00:00:00', '2024-01-01 00:01:00')"
            )
        )
    upgrade(db.engine)
    queue = JobQueue(db)
    ((old,), _) = queue.list(file_id=7)
    assert old.state == "failed" and old.error == "The encoder exited with status 1."
    assert old.reason is None and old.as_dict()["reason"] is None
    state = combine([old])
    assert state is not None and state.as_dict()["reasons"] == {"web": None}
    (new,) = queue.enqueue(8, ["web"])
    queue.claim("w")
    queue.fail(new.id, "w", "FFmpegError: boom", permanent=True, reason="encoder_failed")
    assert queue.get(new.id).reason == "encoder_failed"
    downgrade(db.engine, "0016")
    assert "error_code" not in {c["name"] for c in inspect(db.engine).get_columns("jobs")}
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jobs")).scalar() == 2
    upgrade(db.engine)
    db.dispose()


def _finished(q: JobQueue, file_id: int, kind: str, state: JobState, at: str) -> int:
    (job,) = q.requeue_file(file_id, [kind])
    claimed = q.claim("w", (kind,))
    assert claimed is not None and claimed.id == job.id
    if state == JobState.FAILED:
        q.fail(job.id, "w", "boom", permanent=True, reason="encoder_failed")
    else:
        q.finish(job.id, "w", state, {"files": [f"{kind}-{job.id}.mp4"]})
    with q.db.write() as s:  # finished long ago, in this order
        s.execute(update(Job).where(Job.id == job.id).values(finished_at=utcnow() - _ago(at)))
    return job.id


def _ago(at: str) -> timedelta:
    return timedelta(days=int(at.rstrip("d")))


def test_purge_keeps_the_done_job_whose_derivatives_are_in_use(queue: JobQueue) -> None:
    """Past the retention, superseded jobs go; the newest done job of each (file, kind) stays,
    whatever came after it (its result is where the renditions are), and so does the newest
    job of each (file, kind): it is the file's processing state."""
    old_web = _finished(queue, 1, "web", JobState.DONE, "90d")
    web = _finished(queue, 1, "web", JobState.DONE, "80d")
    old_failed = _finished(queue, 1, "web", JobState.FAILED, "75d")
    failed = _finished(queue, 1, "web", JobState.FAILED, "70d")
    hls = _finished(queue, 1, "hls", JobState.DONE, "60d")
    cancelled = _finished(queue, 1, "hls", JobState.CANCELLED, "50d")
    other = _finished(queue, 2, "web", JobState.DONE, "40d")
    before = combine(queue.latest_for_file(1))
    assert queue.purge_finished(utcnow() - timedelta(days=30)) == 2
    kept = {j.id for j in queue.list()[0]}
    assert kept == {web, failed, hls, cancelled, other}, (old_web, old_failed)
    # the file's jobs: the newest of each kind says processing, the done ones say where
    listed = {(j.kind, j.id) for j in queue.latest_for_file(1)}
    assert listed == {("web", web), ("web", failed), ("hls", hls), ("hls", cancelled)}
    assert combine(queue.latest_for_file(1)) == before  # the purge changed nothing shown
    queued = queue.requeue_file(1, ["web", "hls"])
    listed = {(j.kind, j.id) for j in queue.latest_for_file(1)}
    assert listed == {("web", web), ("hls", hls)} | {(j.kind, j.id) for j in queued}
    state = combine(queue.latest_for_file(1))
    assert state is not None and state.state == "queued"


def test_purge_keeps_a_failed_or_skipped_videos_only_jobs(queue: JobQueue) -> None:
    """A damaged video whose jobs all failed, and a web-ready one whose web job was skipped
    (the original stands in): past the retention their state was purged with the jobs, and
    the API answered processing null and 404 for ?rendition=web."""
    failed = _finished(queue, 1, "hls", JobState.FAILED, "90d")
    skipped = _finished(queue, 2, "web", JobState.SKIPPED, "90d")
    before = (combine(queue.latest_for_file(1)), combine(queue.latest_for_file(2)))
    assert before[0] is not None and before[0].state == "failed"
    assert queue.purge_finished(utcnow() - timedelta(days=30)) == 0
    assert {j.id for j in queue.list()[0]} == {failed, skipped}
    assert (combine(queue.latest_for_file(1)), combine(queue.latest_for_file(2))) == before


def test_job_ids_are_never_handed_out_again(queue: JobQueue) -> None:
    """A hard delete takes the newest jobs away; the next ones get new ids (an old
    id in the Jobs dock or a script must never cancel another file's job)."""
    first = queue.enqueue(1, ["web", "hls"])
    queue.forget_file(1)
    (second,) = queue.enqueue(2, ["web"])
    assert second.id > max(j.id for j in first)
    claimed = queue.claim("w")
    assert claimed is not None
    queue.finish(second.id, "w", JobState.CANCELLED)
    queue.forget_file(2)
    assert queue.list()[1] == 0
    (third,) = queue.enqueue(3, ["web"])
    assert third.id > second.id


def _schema(db: Database) -> set[str]:
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT type || ' ' || name || ' ' || sql FROM sqlite_master "
                "WHERE tbl_name = 'jobs' AND type IN ('index', 'trigger')"
            )
        )
        return {str(r[0]) for r in rows}


def test_migration_0018_starts_job_ids_past_every_id_still_named(tmp_path: Path) -> None:
    """An existing SQLite catalog: jobs 1-3 and a `processing` event in the change feed naming
    deleted job 9. After the upgrade the next job is 10 and a deleted newest job's id is not
    given again; rows and indexes are kept, also by the downgrade. (PostgreSQL's sequences
    never reuse an id: the migration leaves it alone, the queue test above covers it.)"""
    db = Database(f"sqlite:///{tmp_path / 'c.db'}")
    upgrade(db.engine, "0017")
    before = _schema(db)
    insert = (
        "INSERT INTO jobs (kind, file_id, state, progress, attempts, max_attempts, result, "
        "cancel_requested, run_after, created_at) VALUES ('web', 7, 'done', 1, 1, 3, '{}', "
        "false, '2024-01-01 00:00:00', '2024-01-01 00:00:00')"
    )
    with db.engine.begin() as conn:
        for _ in range(3):
            conn.execute(text(insert))
        conn.execute(
            text(
                "INSERT INTO change_log (kind, entity, entity_id, file_id, origin, at, data) "
                "VALUES ('processing', 'event', NULL, 7, 'x', '2024-01-01 00:00:00', "
                '\'{"id": 7, "job": {"id": 9, "kind": "web"}}\')'
            )
        )
    upgrade(db.engine)
    assert _schema(db) == before
    with db.engine.begin() as conn:
        assert conn.execute(text(insert + " RETURNING id")).scalar() == 10
        conn.execute(text("DELETE FROM jobs WHERE id = 10"))
        assert conn.execute(text(insert + " RETURNING id")).scalar() == 11
        assert conn.execute(text("SELECT count(*) FROM jobs")).scalar() == 4
    downgrade(db.engine, "0017")
    assert _schema(db) == before
    with db.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM jobs")).scalar() == 4
        table = conn.execute(text("SELECT sql FROM sqlite_master WHERE name = 'jobs'")).scalar()
        assert table is not None and "AUTOINCREMENT" not in table and "PRIMARY KEY (id)" in table
    upgrade(db.engine)
    db.dispose()
