"""A catalog outage's first failure met by a thread outside any request is the episode's one
ERROR line (README; core/errors.py first_of_outage, outage_level).

Each of these parts caught the failure that claimed the episode's ERROR (the session that met
the outage first claims it: core/db/engine.py _reachable) and said it as a WARNING, INFO or
DEBUG, or not at all: the outage then had no ERROR line. The schema guard's look did so in CI
(668a482); these are the others of its kind.

Each test's library has no thread of its own (no change feed, no presence, no leader unless
the test starts it) and its catalog is behind a CuttableProxy (tests/faults.py) refusing
connections once cut: the part under test is the only one to meet the cut, so it meets it
first, every time.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from sqlalchemy import text

from core.audit import AuditLog
from core.db.engine import Database
from core.db.migrate import upgrade
from core.errors import StorageUnavailable, meet_catalog_failures
from core.events import ChangeEvent, EventKind
from core.jobs import JobRecord
from core.leader import MaintenanceLeader, _reconcile
from core.library import Library
from core.storage.factory import build_storage
from core.video.worker import VideoWorker, _Outcome, _Running
from server.auditing import AuditSink
from server.auth import Authenticator, auth_ctx
from server.hub import event_item
from server.routes.events import _replay
from server.state import AUTH, LIBRARY, REQUEST_ID, THREADS, Threads, catalog_known_out
from tests.conftest import make_settings
from tests.faults import CuttableProxy, wait_for
from tests.media import make_record
from tests.pg_server import postgres_url  # noqa: F401
from tests.server_fixtures import make_tokens

pytestmark = pytest.mark.timeout(60)


@contextmanager
def _behind_proxy(
    postgres_url: str, data_dir: Path, **settings: object
) -> Iterator[tuple[Library, CuttableProxy]]:
    """A library whose catalog is reached through a CuttableProxy, with no thread of its own."""
    direct = Database(postgres_url)
    try:
        upgrade(direct.engine)
    finally:
        direct.dispose()
    host_port = postgres_url.rsplit("@", 1)[1].split("/", 1)[0]
    proxy = CuttableProxy.in_front_of(f"http://{host_port}")
    through = postgres_url.replace(host_port, f"127.0.0.1:{proxy.port}")
    options = make_settings(data_dir, database_url=f"{through}?connect_timeout=2", **settings)
    storage, presigner = build_storage(options)
    lib = Library(options, Database(options.effective_database_url), storage, presigner)
    try:
        yield lib, proxy
    finally:
        proxy.close()
        lib.close()


@pytest.fixture
def cut_off(postgres_url: str, tmp_path: Path) -> Iterator[tuple[Library, CuttableProxy]]:  # noqa: F811
    with _behind_proxy(postgres_url, tmp_path) as behind:
        yield behind


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]


def _the_one_error(caplog: pytest.LogCaptureFixture, words: str, refused: bool = True) -> None:
    """The outage's one ERROR line, from the code under test (its `words`), with PostgreSQL's
    (libpq's) "Connection refused" where the line carries the cause."""
    errors = _errors(caplog)
    assert len(errors) == 1, errors
    assert words in errors[0], errors
    assert not refused or "refused" in errors[0].lower(), errors


def test_the_deferred_deletions_timer_that_meets_an_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """It said "Deferred deletions wait" as a WARNING (and nothing while retrying)."""
    lib, proxy = cut_off
    deleter = lib.deferred
    deleter.retry = 3600.0  # its retry timer never fires here (close() cancels it)
    deleter.run()  # answered: no outage
    proxy.cut()
    with caplog.at_level(logging.DEBUG):
        deleter._timer_fired()  # the timer's turn: the first to meet the cut
        deleter._timer_fired()  # the same outage, known: no second ERROR line
    _the_one_error(caplog, "Deferred deletions wait")


def test_a_deferred_deletion_that_meets_an_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The due entries read, the catalog goes while one file's deletion runs: that file's
    failure ("Deferred deletion of … failed", at its run's WARNING/DEBUG) was the outage's
    first and its only line below ERROR; the run's summary after it is a WARNING."""
    lib, proxy = cut_off
    deleter = lib.deferred
    deleter.retry = 3600.0
    deleter.grace = 0  # due at once
    with deleter.db.write() as s:
        deleter.queue(s, "2026/gone.jpg")
    delete = deleter._delete

    def cut_then_delete(*args: object) -> bool:
        proxy.cut()  # after the due entries were read: this file's deletion meets it first
        return delete(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(deleter, "_delete", cut_then_delete)
    with caplog.at_level(logging.DEBUG):
        deleter._timer_fired()  # the timer's turn
    _the_one_error(caplog, "Deferred deletion of 2026/gone.jpg failed")


def test_a_kept_abort_that_meets_an_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """A multipart upload the store could not be asked to abort is noted for the deferred
    deletions (DeferredDeleter.keep_abort, from a video worker's upload too); a note the
    catalog did not take, met first, was said as a WARNING."""
    lib, proxy = cut_off
    proxy.cut()
    with caplog.at_level(logging.DEBUG):
        lib.deferred.keep_abort("r2", "2026/a.mp4", "upload-1")
        lib.deferred.keep_abort("r2", "2026/b.mp4", "upload-2")  # known
    _the_one_error(caplog, "2026/a.mp4 is left to the stale-upload sweep", refused=False)


def test_a_failure_a_request_tells_is_not_said_again_as_an_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """The same note made while a request runs (a tus upload's abort): the request tells the
    failure its session met first (server/errors.py, from meet_catalog_failures' list), so
    the note says it at its own level, and the outage has one ERROR line, not two."""
    lib, proxy = cut_off

    def in_a_request() -> list[StorageUnavailable]:
        met = meet_catalog_failures()  # as error_middleware's
        lib.deferred.keep_abort("r2", "2026/a.mp4", "upload-1")
        return met

    proxy.cut()
    with caplog.at_level(logging.DEBUG):
        met = contextvars.copy_context().run(in_a_request)  # the request's context, not the test's
    assert _errors(caplog) == []
    assert [down.first for down in met] == [True], met


def test_a_revision_look_in_a_request_leaves_the_error_to_the_request(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """The schema guard's look runs in requests too (/health, a deletion's confirm): there the
    request tells the failure its look met first, and the guard's own ERROR (668a482) made
    the outage's second ERROR line."""
    lib, proxy = cut_off

    def in_a_request() -> list[StorageUnavailable]:
        met = meet_catalog_failures()  # as error_middleware's
        lib._db.schema.confirm()  # a deletion's look (it refuses only an upgraded catalog)
        return met

    proxy.cut()
    with caplog.at_level(logging.DEBUG):
        met = contextvars.copy_context().run(in_a_request)
    assert _errors(caplog) == []
    assert [down.first for down in met] == [True], met


def test_a_lease_renewal_that_meets_an_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """The renewer thread's round said "could not renew its lease" as a WARNING."""
    lib, proxy = cut_off
    uploads = lib.resumable
    lease = uploads.lease.total_seconds()
    with uploads.hold("a" * 32) as held:
        held.leased(time.monotonic() - lease, lease)  # taken a lease ago: its renewal is due
        proxy.cut()
        with caplog.at_level(logging.DEBUG):
            uploads.renew_leases()
            held.due = 0.0  # due again at once: the same outage, known
            uploads.renew_leases()
    _the_one_error(caplog, "could not renew its lease")


def test_a_left_lease_drop_that_meets_an_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The dropper thread's round broke off without a word."""
    lib, proxy = cut_off
    monkeypatch.setattr("core.resumable.DROP_RETRY", 3600.0)  # its thread waits: the test asks
    uploads = lib.resumable
    uploads._drop_later("b" * 32)
    proxy.cut()
    with caplog.at_level(logging.DEBUG):
        uploads.drop_leftover_leases()
        uploads.drop_leftover_leases()  # known
    _the_one_error(caplog, "not dropped yet")


def _job(job_id: int) -> JobRecord:
    now = datetime.now(UTC)
    return JobRecord(
        job_id, "web", 1, "running", 0.0, 1, 3, None, {}, "w#1", now, False, now, now, None
    )


def test_a_job_announcement_that_meets_an_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """A video job's "running" announcement (its timer thread) said it as INFO."""
    lib, proxy = cut_off
    proxy.cut()
    with caplog.at_level(logging.DEBUG):
        for job_id in (1, 2):  # the second: the same outage, known
            running = _Running(lib, _job(job_id))
            running.now()
            running.close()
    _the_one_error(caplog, "not announced running")


def test_a_video_job_stopped_by_an_outage_it_met_first_is_put_back_with_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """A job whose run met the catalog's outage first (its file's read) was put back with a
    WARNING counted with the others' (VideoWorker._postpone)."""
    lib, proxy = cut_off
    worker = VideoWorker(lib)
    proxy.cut()
    with caplog.at_level(logging.DEBUG):
        for job_id in (1, 2):  # the second: the same outage, known
            with pytest.raises(StorageUnavailable) as met:
                lib.get_file(job_id)  # the job's run reads its file
            worker._postpone(_job(job_id), "w#1", met.value, worker._said(met.value))
    _the_one_error(caplog, "Job 1 put back")


def test_a_held_put_back_that_meets_the_next_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """A put-back the catalog could not record is held and tried again while the worker takes
    no job (VideoWorker._retry_held); a retry that met the next outage first said nothing."""
    lib, proxy = cut_off
    worker = VideoWorker(lib)
    proxy.cut()
    with pytest.raises(StorageUnavailable) as met:
        lib.get_file(1)
    worker._postpone(_job(1), "w#1", met.value, worker._said(met.value))  # held: not recorded
    assert not worker._retry_held()
    proxy.restore()
    lib.jobs.latest_for_file(1)  # the catalog answers: that outage is over
    proxy.cut()
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        assert not worker._retry_held()  # the next outage's first failure
        assert not worker._retry_held()  # known
    _the_one_error(caplog, "could not put its jobs back")


def test_a_video_jobs_metadata_and_copy_that_meet_an_outage_first_say_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    """After a job was recorded done, the metadata it read again (VideoWorker._keep_poster) and
    the deletion of its copy under a name the file left (_drop_copy) met the catalog's outage
    first and said it as a WARNING."""
    lib, proxy = cut_off
    worker = VideoWorker(lib)
    record = make_record("video", "a.mp4", storage_key="2026/a.mp4")
    proxy.cut()
    with caplog.at_level(logging.DEBUG):
        worker._keep_poster(record, _Outcome("result", meta={"duration": 1.0}), tmp_path)
        worker._drop_copy(record, "web", {})  # the same outage, known
    _the_one_error(caplog, "Metadata of file 1 not written")
    lines = [r for r in caplog.records if "Could not queue the deletion" in r.getMessage()]
    assert [r.levelno for r in lines] == [logging.WARNING], lines


def test_a_video_jobs_copy_that_meets_an_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    lib, proxy = cut_off
    worker = VideoWorker(lib)
    record = make_record("video", "a.mp4", storage_key="2026/a.mp4")
    proxy.cut()
    with caplog.at_level(logging.DEBUG):
        worker._drop_copy(record, "web", {})
    _the_one_error(caplog, "Could not queue the deletion")


def test_the_audit_writer_that_meets_an_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """It said "Audit entries wait in memory" as a WARNING. A flush a request asked for (GET
    /audit) may end after the request's answer: its failure is the sink's to tell, not added
    to the request's list, which nobody reads by then."""
    lib, proxy = cut_off
    sink = AuditSink(AuditLog(lib._db))
    threads = Threads(2)
    threads.start()
    sink.bind(threads)

    async def flush_twice() -> list[object]:
        met = meet_catalog_failures()  # as a request's
        sink.add("admin", "view", 1, "127.0.0.1")
        assert not await sink.flush()
        assert not await sink.flush()  # the same outage, known
        return list(met)

    proxy.cut()
    try:
        with caplog.at_level(logging.DEBUG):
            met = asyncio.run(flush_twice())
    finally:
        threads.shutdown()
    _the_one_error(caplog, "Audit entries wait")
    assert met == [], met


def test_the_outage_probe_a_request_starts_says_its_first_failure_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """A request holding an answer it trusts through an outage starts the outage's probe in
    the background (server/state.py catalog_known_out); when the probe asked in the moment
    between another session's failure and that one's claim, its failure was the episode's
    first, and its done-callback dropped it: no ERROR line. Nor may it go to the request's
    list of failures, read once, when the answer is done."""
    lib, proxy = cut_off
    threads = Threads(2)
    threads.start()
    app = web.Application()
    app[LIBRARY] = lib
    app[THREADS] = threads

    async def probe() -> list[object]:
        met = meet_catalog_failures()  # as the request's
        request = make_mocked_request("GET", "/files/", app=app)
        # a session found the catalog out of reach and has not claimed the episode yet
        lib.catalog_outage.ended(False, False)
        assert catalog_known_out(request)
        for _ in range(500):  # the probe's refused connection, told on this loop
            if _errors(caplog):
                break
            await asyncio.sleep(0.01)
        return list(met)

    proxy.cut()
    try:
        with caplog.at_level(logging.DEBUG):
            met = asyncio.run(probe())
    finally:
        threads.shutdown()
    _the_one_error(caplog, "probe failed")
    assert met == [], met


def test_an_event_stream_that_meets_an_outage_first_says_it_now_not_when_it_ends(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """GET /events replays what a reconnecting client missed (Last-Event-ID); when that read
    met the catalog's outage first, the stream waited for the catalog with heartbeats and its
    failure, in the request's list, was told as the ERROR only when the stream ended: hours
    later, after the WARNINGs of the failures that followed it, or at the server's stop."""
    lib, proxy = cut_off
    threads = Threads(2)
    threads.start()
    app = web.Application()
    app[LIBRARY] = lib
    app[THREADS] = threads

    async def replay() -> list[object]:
        met = meet_catalog_failures()  # as error_middleware's, read when the request ends
        request = make_mocked_request("GET", "/events", app=app)
        request[REQUEST_ID] = "r1"
        assert await _replay(request, 1, 5) is None  # the stream waits for the catalog
        return list(met)

    proxy.cut()
    try:
        with caplog.at_level(logging.DEBUG):
            left = asyncio.run(replay())
    finally:
        threads.shutdown()
    _the_one_error(caplog, "GET /events failed [r1]")
    assert left == [], left  # told: not told again when the stream ends


def test_the_servers_stop_whose_token_uses_write_meets_an_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """At the server's stop the tokens' last uses are written (server/auth.py auth_ctx); a
    write that met the catalog's outage first said it as INFO."""
    lib, proxy = cut_off
    admin = make_tokens(lib).admin
    assert lib.tokens.verify(admin) is not None  # a use noted, to be written
    threads = Threads(2)
    threads.start()
    app = web.Application()
    app[LIBRARY] = lib
    app[THREADS] = threads
    app[AUTH] = Authenticator(lib.tokens)

    async def serve_and_stop() -> None:
        running = auth_ctx(app)
        await anext(running)  # the server runs
        proxy.cut()
        with pytest.raises(StopAsyncIteration):
            await anext(running)  # its stop

    try:
        with caplog.at_level(logging.DEBUG):
            asyncio.run(serve_and_stop())
    finally:
        threads.shutdown()
    _the_one_error(caplog, "Stopped without recording")


def test_a_purged_files_video_folder_check_that_meets_an_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """After a deletion's rows are gone, its video folders go unless another file bears the
    name (Library._drop_unnamed_videos): the trash's purge runs it in maintenance's thread,
    and a check that met the catalog's outage first said it as a WARNING."""
    lib, proxy = cut_off
    proxy.cut()
    with caplog.at_level(logging.DEBUG):
        lib._drop_unnamed_videos(["2026/a.mp4"])
        lib._drop_unnamed_videos(["2026/b.mp4"])  # known
    _the_one_error(caplog, "Video folders of ['2026/a.mp4'] kept")


def test_the_scheduled_reconcile_that_meets_an_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """The leader's daily reconcile kept its failure in its summary, and the summary's record
    then failed as a known outage (a WARNING, from the leader's task thread)."""
    lib, proxy = cut_off
    proxy.cut()
    with caplog.at_level(logging.DEBUG), pytest.raises(StorageUnavailable):
        _reconcile(lib, lib._db)
    _the_one_error(caplog, "Reconcile failed")


def test_a_change_feed_start_that_meets_an_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """The feed's start reads the newest change id before its thread listens; a read that met
    the catalog's outage first was dropped (its thread's retries then met it known)."""
    lib, proxy = cut_off
    proxy.cut()
    with caplog.at_level(logging.DEBUG):
        lib.feed.start()
        try:
            wait_for(lambda: "Change feed interrupted" in caplog.text, what="its thread's try")
        finally:
            lib.feed.stop(force=True)
    _the_one_error(caplog, "Change feed not started")


def test_a_live_events_public_link_that_meets_an_outage_first_says_it_as_the_error(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A public file's event carries its link on R2_PUBLIC_DOMAIN, read from the catalog in
    the change feed's thread (EventHub); a read that met the catalog's outage first was
    dropped: the event went out without it, and the outage had no ERROR line."""
    r2 = {
        "r2_endpoint_url": "http://127.0.0.1:9",  # never asked: the link is the catalog's
        "r2_bucket_name": "media",
        "r2_access_key_id": "key",
        "r2_secret_access_key": "secret",
        "r2_public_domain": "https://media.example.org",
    }
    record = make_record("image", "a.jpg", is_public=True)
    data = {k: v.isoformat() if isinstance(v, datetime) else v for k, v in record.as_dict().items()}
    with _behind_proxy(postgres_url, tmp_path, **r2) as (lib, proxy):
        proxy.cut()
        with caplog.at_level(logging.DEBUG):
            for change in (1, 2):  # the second: the same outage, known
                event = ChangeEvent(EventKind.UPDATED, record.id, data, change_id=change)
                assert '"public": null' in event_item(event, lib)[2]
    _the_one_error(caplog, "without its file's public link")


def test_the_leaders_release_at_its_stop_that_meets_an_outage_first_says_it_as_the_error(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """The maintenance leader's release of its lease at the stop said it as DEBUG."""
    lib, proxy = cut_off
    leader = MaintenanceLeader(lib, lib._db, interval=3600, task=lambda: None)
    leader.is_leader = leader._hold()  # the lease taken, as its loop's tick takes it
    assert leader.is_leader
    proxy.cut()
    with caplog.at_level(logging.DEBUG):
        leader._release()  # the last of its stop (its loop not started: nothing else asks)
    _the_one_error(caplog, "release the maintenance lease")


def test_a_leader_whose_session_ended_while_the_catalog_answers_logs_no_outage(
    cut_off: tuple[Library, CuttableProxy], caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL restarted under a team (or the leader's backend ended): the leader's next
    check met its dead connection seconds after the catalog answered again and logged a second
    ERROR for the restart, "Maintenance leadership check failed: the catalog cannot be
    reached", and left the lead for a tick. It now holds the lock again on a new connection."""
    lib, _proxy = cut_off
    leader = MaintenanceLeader(lib, lib._db, interval=0.8, task=lambda *_: None)
    leader.start()
    try:
        wait_for(lambda: leader.is_leader, what="the lead")
        pid = leader._conn.info.backend_pid
        with caplog.at_level(logging.DEBUG), lib._db.engine.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            wait_for(lambda: leader._conn is not None and leader._conn.info.backend_pid != pid)
            time.sleep(3 * leader.tick)  # checks on the new connection
            assert leader.is_leader and leader.last_error is None
    finally:
        leader.stop()
    assert _errors(caplog) == []
