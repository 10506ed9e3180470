"""Two `mediadesk serve` processes on one catalog confirm the same presigned upload at once.

The file's row was always made ready once (re-checked in its transaction), but each process
went on to check the object and announce the file: two sets of events, video jobs and
thumbnails. The confirm is now one at a time per file in every process sharing the catalog
(core.locks.CatalogLocks: a PostgreSQL advisory lock, a record lock beside a SQLite catalog),
and the other process answers as a repeated confirm does. Real processes on one data folder,
the catalog in SQLite or in a throwaway PostgreSQL, moto's S3 server as the store.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import re
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text

from core.db.engine import Database
from core.db.models import ChangeLog, Job
from core.ingest import CONFIRM_LOCK_CLASS
from core.library import Library
from core.locks import lock_file, pg_key
from tests.conftest import make_settings
from tests.faults import CuttableProxy, wait_for
from tests.internals import db_of
from tests.pg_server import postgres_url  # noqa: F401
from tests.resumable_client import ServeProcess, free_port
from tests.s3_server import S3Target, new_bucket, s3_client
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, multipart_body

pytestmark = pytest.mark.timeout(120)
MiB = 1024 * 1024


@dataclass
class Team:
    """Two servers on one catalog and one data folder, the bucket behind them, and what the
    test reads the catalog and the metrics with."""

    a: ServeProcess
    b: ServeProcess
    db: Database
    bucket: S3Target
    upload: str  # tokens
    read: str


def _store_env(bucket: S3Target, endpoint: str) -> dict[str, str]:
    return {
        "R2_ENDPOINT_URL": endpoint,
        "R2_BUCKET_NAME": bucket.bucket,
        "R2_ACCESS_KEY_ID": bucket.access_key_id,
        "R2_SECRET_ACCESS_KEY": bucket.secret_access_key,
        "R2_REGION": bucket.region,
        "MEDIADESK_WORKERS": "0",  # the jobs a confirm queues stay queued: counted, not run
    }


@contextlib.contextmanager
def team(
    request: pytest.FixtureRequest, tmp_path: Path, moto_server: str, a_endpoint: str | None
) -> Iterator[Team]:
    """`a_endpoint`: where server A reaches the bucket (a proxy the test can stall)."""
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    data = tmp_path / "data"
    data.mkdir()
    bucket = new_bucket(moto_server)
    # every write of an object is kept: a thumbnail made twice is two versions of its key
    s3_client(bucket).put_bucket_versioning(
        Bucket=bucket.bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    lib = Library.open(make_settings(data, **({"database_url": url} if url else {})))
    try:
        if url:  # the session's database: emptied of the other tests' files and their log
            with db_of(lib).write() as s:
                s.execute(
                    text("TRUNCATE media_files, athletes, change_log RESTART IDENTITY CASCADE")
                )
        tokens = make_tokens(lib)
        catalog = lib.settings.effective_database_url
    finally:
        lib.close()
    env = {"DATABASE_URL": url} if url else {}
    a = ServeProcess(
        data, free_port(), 50 * MiB, {**env, **_store_env(bucket, a_endpoint or moto_server)}
    )
    b = ServeProcess(data, free_port(), 50 * MiB, {**env, **_store_env(bucket, moto_server)})
    db = Database(catalog)
    try:
        starting = [threading.Thread(target=server.start) for server in (a, b)]
        for t in starting:
            t.start()
        for t in starting:
            t.join()
        for server in (a, b):
            assert server.proc is not None and server.proc.poll() is None, "did not start"
        yield Team(a, b, db, bucket, tokens.upload, tokens.read)
    finally:
        for server in (a, b):
            server.stop()
        db.dispose()


def presign_video(t: Team, data: bytes) -> int:
    """A presigned upload through server B, its bytes PUT to the bucket; the file id."""
    body, ctype = multipart_body(
        {
            "original_filename": "match.mp4",
            "file_type": "video",
            "content_type": "video/mp4",
            "size": str(len(data)),
        }
    )
    reply = http_call(
        f"{t.b.url}/files/upload/presigned",
        "POST",
        body,
        {"Content-Type": ctype, **bearer(t.upload)},
    )
    assert reply.status == 201, reply.body
    upload = reply.json()
    put = http_call(upload["upload_url"], "PUT", data, dict(upload["headers"]))
    assert put.status == 200, put.body
    return int(upload["file_id"])


def confirm(server: ServeProcess, t: Team, file_id: int) -> Reply:
    return http_call(
        f"{server.url}/files/{file_id}/confirm-upload", "POST", b"", bearer(t.upload), timeout=60
    )


def check_ready(reply: Reply, file_id: int, data_size: int) -> None:
    assert reply.status == 200, reply.body
    body = reply.json()
    assert (body["id"], body["status"], body["size"]) == (file_id, "ready", data_size)
    assert not body["duplicate"]


def announced(t: Team, file_id: int) -> tuple[int, Counter[str]]:
    """What the ready hook left in the catalog: `processing` events without a job (one per
    announce), and the jobs queued by kind."""
    with t.db.read() as s:
        events = s.scalar(
            select(func.count()).where(ChangeLog.file_id == file_id, ChangeLog.kind == "processing")
        )
        jobs = Counter(s.scalars(select(Job.kind).where(Job.file_id == file_id)))
    return int(events or 0), jobs


def object_writes(t: Team) -> Counter[str]:
    """Versions of every key in the bucket: how often each object was written."""
    listed = s3_client(t.bucket).list_object_versions(Bucket=t.bucket.bucket)
    return Counter(v["Key"] for v in listed.get("Versions", []))


def created_metric(server: ServeProcess, t: Team) -> float:
    """The server's count of presigned uploads it created (its confirms that did the work)."""
    reply = http_call(f"{server.url}/metrics", headers=bearer(t.read))
    assert reply.status == 200, reply.body
    pattern = re.compile(r"^mediadesk_uploads_total\{([^}]*)\} (\S+)$", re.M)
    return sum(
        float(value)
        for labels, value in pattern.findall(reply.body.decode())
        if 'flow="presigned"' in labels and 'outcome="created"' in labels
    )


def confirm_lock_held(t: Team, file_id: int) -> bool:
    """Whether a server holds the confirm lock of this file (asked as a third process)."""
    if t.db.engine.dialect.name == "postgresql":
        with t.db.read() as s:
            n = s.scalar(
                text(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND classid = :c AND objid = :k AND objsubid = 2"
                ),
                {"c": CONFIRM_LOCK_CLASS, "k": pg_key(file_id) & 0xFFFFFFFF},
            )
        return bool(n)
    path = lock_file(Path(str(t.db.engine.url.database)), "confirm")
    if not path.exists():
        return False
    with open(path, "r+b") as fh:
        try:
            fcntl.lockf(fh, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, file_id)
        except OSError:
            return True
        fcntl.lockf(fh, fcntl.LOCK_UN, 1, file_id)
        return False


def in_thread(call: Callable[[], Reply]) -> tuple[threading.Thread, list[Any]]:
    out: list[Any] = []

    def run() -> None:
        try:
            out.append(call())
        except OSError as exc:  # a server killed under the request
            out.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, out


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request: pytest.FixtureRequest) -> pytest.FixtureRequest:
    return request


def test_both_servers_confirm_the_same_upload_at_once(
    catalog: pytest.FixtureRequest, tmp_path: Path, moto_server: str, media_dir: Any
) -> None:
    """Two confirms through each server, released together: all four answer the ready file
    (200), and the file was checked and announced once: one `processing` event, one set of
    video jobs, its thumbnail written once, one confirm counted as created in all."""
    data = media_dir.mp4.read_bytes()
    with team(catalog, tmp_path, moto_server, None) as t:
        file_id = presign_video(t, data)
        start = threading.Barrier(4)

        def fire(server: ServeProcess) -> Reply:
            start.wait()
            return confirm(server, t, file_id)

        threads = [in_thread(functools.partial(fire, s)) for s in (t.a, t.b, t.a, t.b)]
        for thread, _ in threads:
            thread.join(60)
        replies = [out[0] for _, out in threads]
        for reply in replies:
            check_ready(reply, file_id, len(data))
        events, jobs = announced(t, file_id)
        assert events == 1, f"the file was announced {events} times"
        assert jobs and set(jobs.values()) == {1}, jobs
        writes = object_writes(t)
        # the upload, its copy at a key no URL writes (the file's), the thumbnail
        assert len(writes) == 3 and set(writes.values()) == {1}, writes
        assert created_metric(t.a, t) + created_metric(t.b, t) == 1
        again = confirm(t.b, t, file_id)  # and a repeat answers as before
        check_ready(again, file_id, len(data))
        assert announced(t, file_id)[0] == 1


def test_a_server_killed_in_a_confirm_does_not_hold_the_file(
    catalog: pytest.FixtureRequest, tmp_path: Path, moto_server: str, media_dir: Any
) -> None:
    """Server A takes the confirm and hangs on a stalled store; server B's confirm of the
    same file waits for it. A is SIGKILLed in the middle: B's confirm goes on at once and
    answers the ready file, announced once."""
    data = media_dir.mp4.read_bytes()
    proxy = CuttableProxy.in_front_of(moto_server)
    try:
        with team(catalog, tmp_path, moto_server, proxy.url) as t:
            file_id = presign_video(t, data)
            proxy.stall()  # A's store stops answering: its confirm stays in the middle
            a_thread, a_out = in_thread(lambda: confirm(t.a, t, file_id))
            wait_for(lambda: confirm_lock_held(t, file_id), 20, "A to hold the confirm")
            b_thread, b_out = in_thread(lambda: confirm(t.b, t, file_id))
            b_thread.join(1.5)
            assert not b_out, "B confirmed while A was confirming the same file"
            t.a.kill()
            b_thread.join(30)
            a_thread.join(10)
            assert isinstance(a_out[0], OSError)  # A died without an answer
            check_ready(b_out[0], file_id, len(data))
            events, jobs = announced(t, file_id)
            assert events == 1 and jobs and set(jobs.values()) == {1}, (events, jobs)
            assert created_metric(t.b, t) == 1
            assert not confirm_lock_held(t, file_id)
    finally:
        proxy.close()
