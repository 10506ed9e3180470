"""Two `mediadesk worker` processes share the jobs of a PostgreSQL catalog and an S3 bucket."""

from __future__ import annotations

import time
from pathlib import Path

from core import keys as keymod
from core.db.engine import Database
from core.db.migrate import upgrade
from core.jobs import JobQueue, current_derivatives
from core.library import Library
from core.video import service
from tests import media
from tests.conftest import make_settings
from tests.internals import storage_of
from tests.pg_server import Cluster, pg_cluster, postgres_url  # noqa: F401
from tests.test_jobs import fresh_postgres
from tests.test_jobs_workers import start_worker, stop, wait_for, worker_env
from tests.video_helpers import TEST_LADDER


def test_two_worker_processes_share_jobs_on_postgresql_and_s3(
    postgres_url: str,  # noqa: F811
    s3_bucket,  # type: ignore[no-untyped-def]  # noqa: ANN001
    tmp_path: Path,
) -> None:
    url = fresh_postgres(postgres_url)
    s3 = {
        "r2_endpoint_url": s3_bucket.endpoint_url,
        "r2_bucket_name": s3_bucket.bucket,
        "r2_access_key_id": s3_bucket.access_key_id,
        "r2_secret_access_key": s3_bucket.secret_access_key,
        "r2_region": "us-east-1",
    }
    data = tmp_path / "app"
    data.mkdir()
    lib = Library.open(make_settings(data, database_url=url, hls_ladder=TEST_LADDER, **s3))
    try:
        ids = [
            lib.uploads.ingest(
                media.make_avi(tmp_path / f"clip{i}.avi", seconds=1 + i / 2), "video"
            ).id
            for i in range(2)  # two different clips (the same bytes would be one file)
        ]
        for file_id in ids:
            for job in lib.jobs.list(file_id=file_id)[0]:
                if job.kind == "thumbnails":
                    lib.jobs.cancel(job.id)  # keeps the run short; the rest is shared work
        env = worker_env(
            tmp_path / "w",
            DATABASE_URL=url,
            R2_ENDPOINT_URL=s3["r2_endpoint_url"],
            R2_BUCKET_NAME=s3["r2_bucket_name"],
            R2_ACCESS_KEY_ID=s3["r2_access_key_id"],
            R2_SECRET_ACCESS_KEY=s3["r2_secret_access_key"],
            R2_REGION="us-east-1",
        )
        (tmp_path / "w").mkdir()
        workers = [start_worker(env, tmp_path / f"w{i}.log") for i in range(2)]
        try:

            def all_done() -> bool:
                items, _ = lib.jobs.list()
                return all(j.state in ("done", "skipped", "cancelled") for j in items)

            wait_for(all_done, timeout=120, every=0.3)
        finally:
            for proc in workers:
                stop(proc)
        items, _ = lib.jobs.list()
        done = [j for j in items if j.state == "done"]
        assert len(done) == 4  # web + hls of two AVIs
        claims = [(tmp_path / f"w{i}.log").read_text().count("claimed by") for i in range(2)]
        assert sum(claims) == 4 and all(n > 0 for n in claims), claims  # both took jobs
        assert all(j.attempts == 1 for j in done)  # nobody ran a job twice
        for file_id in ids:
            record = lib.get_file(file_id)
            keys = {
                o.key for o in storage_of(lib).list_keys(keymod.video_prefix(record.storage_key))
            }
            done_jobs = current_derivatives(lib.jobs.latest_for_file(file_id))
            assert service.derived_key(record, "web", "web.mp4", done_jobs["web"].result) in keys
            hls = done_jobs["hls"].result
            assert service.derived_key(record, "hls", "master.m3u8", hls) in keys
        first = lib.get_file(ids[0])
        lib.delete_permanently(ids[0])
        assert list(storage_of(lib).list_keys(keymod.video_prefix(first.storage_key))) == []
        assert list(
            storage_of(lib).list_keys(keymod.video_prefix(lib.get_file(ids[1]).storage_key))
        )
    finally:
        lib.close()


def test_a_catalog_restart_gives_the_workers_a_lease_to_put_their_jobs_back(
    pg_cluster: Cluster,  # noqa: F811
) -> None:
    """A PostgreSQL restart stops every worker's heartbeat: a job claimed before it is not
    taken by another worker's claim until the catalog has been up a lease (its worker puts it
    back meanwhile, its attempt not spent). Before, the first claim after the restart took it,
    counting an attempt each outage; a worker that really died still has its attempt counted,
    a lease later."""
    db = Database(pg_cluster.url)
    upgrade(db.engine)
    # a JobQueue made here takes any lease: 2 s, as test_jobs_catalog_return's PostgreSQL cases
    queue = JobQueue(db, lease_seconds=2, max_attempts=3)
    try:
        kept, died = queue.enqueue(1, ["web"])[0], queue.enqueue(2, ["web"])[0]
        assert queue.claim("a") is not None and queue.claim("dead") is not None
        pg_cluster.stop()
        time.sleep(queue.lease_seconds + 0.5)  # both leases lapse while the catalog is away
        pg_cluster.start()
        db.engine.dispose()  # the pool's connections died with the server
        returned = time.monotonic()
        assert queue.claim("b") is None  # neither is taken yet
        back = queue.postpone(kept.id, "a", "The catalog cannot be reached", "internal", 0)
        assert back is not None and back.attempts == 0
        again = queue.claim("b")
        assert again is not None and (again.id, again.attempts) == (kept.id, 1)
        assert queue.finish(kept.id, "b")
        # the dead worker's job: taken once the catalog has been up a lease (polled, as workers
        # do, rather than slept a whole lease after the claims above)
        while time.monotonic() < returned + queue.lease_seconds + 5:
            taken = queue.claim("c")
            if taken is not None:
                break
            time.sleep(0.2)
        assert taken is not None and (taken.id, taken.attempts) == (died.id, 2)  # counted
    finally:
        db.dispose()
