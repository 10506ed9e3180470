"""Reprocesses of one video asked at the same moment (two staff, two servers of a team)."""

from __future__ import annotations

import threading
from collections import Counter

from core.db.engine import Database
from core.db.migrate import upgrade
from core.jobs import ACTIVE, JobQueue
from tests.pg_server import postgres_url  # noqa: F401
from tests.test_jobs import db_url  # noqa: F401

KINDS = ("faststart", "web", "hls", "thumbnails")


def test_reprocesses_at_once_leave_one_job_of_each_kind(db_url: str) -> None:  # noqa: F811
    """Each reprocess cancels the file's active jobs and queues fresh ones. Asked from three
    servers at once on PostgreSQL, each cancelled in a transaction of its own before its
    insert: none saw the others' new jobs, and two or three sets of every job stayed queued
    and ran (the same encode two or three times over on a club's 2-core server)."""
    db = Database(db_url)
    upgrade(db.engine)
    queue = JobQueue(db)
    try:
        queue.enqueue(7, KINDS)
        for _round in range(6):
            start = threading.Barrier(4)
            failed: list[BaseException] = []
            threads = [
                threading.Thread(target=_reprocess, args=(queue, start, failed)) for _ in range(4)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            assert not failed, failed
            active = Counter(
                j.kind for j in queue.list(file_id=7, limit=500)[0] if j.state in ACTIVE
            )
            assert active == Counter(KINDS), active
    finally:
        db.dispose()


def _reprocess(queue: JobQueue, start: threading.Barrier, failed: list[BaseException]) -> None:
    start.wait()
    try:
        queue.requeue_file(7, KINDS)
    except BaseException as exc:  # noqa: BLE001 - said by the test's assert
        failed.append(exc)


def test_jobs_queued_at_once_are_queued_once(db_url: str) -> None:  # noqa: F811
    """`enqueue` leaves a kind already queued as it is; on PostgreSQL two at once both read
    none queued and both queued one."""
    db = Database(db_url)
    upgrade(db.engine)
    queue = JobQueue(db)
    try:
        for file_id in range(1, 7):
            start = threading.Barrier(4)
            threads = [
                threading.Thread(target=_enqueue, args=(queue, start, file_id)) for _ in range(4)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(timeout=60)
            jobs = queue.list(file_id=file_id, limit=500)[0]
            assert Counter(j.kind for j in jobs) == Counter(KINDS), jobs
    finally:
        db.dispose()


def _enqueue(queue: JobQueue, start: threading.Barrier, file_id: int) -> None:
    start.wait()
    queue.enqueue(file_id, KINDS)
