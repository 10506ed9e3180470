"""The change feed and the maintenance leader on real catalogs (SQLite files, PostgreSQL).

Two Library objects on one catalog stand for two processes: each has its own origin, so the
other's changes come to it through the change log, exactly as across processes.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from core import feed
from core.db.models import ChangeLog
from core.errors import Conflict
from core.events import ChangeEvent
from core.leader import (
    MaintenanceLeader,
    _reconcile_due,
    record_command_run,
    record_reconcile,
    since_due,
)
from core.library import Library
from tests.conftest import make_settings
from tests.internals import db_of
from tests.pg_server import postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(90)


class Heard:
    def __init__(self, lib: Library) -> None:
        self.events: list[ChangeEvent] = []
        self._lock = threading.Lock()
        lib.events.subscribe(self._add)

    def _add(self, event: ChangeEvent) -> None:
        with self._lock:
            self.events.append(event)

    def kinds(self) -> list[tuple[str, int | None]]:
        with self._lock:
            return [(e.kind, e.file_id) for e in self.events]

    def wait(self, count: int, timeout: float = 10) -> list[ChangeEvent]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.events) >= count:
                    return list(self.events)
            time.sleep(0.02)
        raise AssertionError(f"heard {self.kinds()}, wanted {count}")


@pytest.fixture(params=["sqlite", "postgresql"])
def pair(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Library, Library]]:
    """Two libraries (two 'processes') on one catalog and one object folder."""
    data = tmp_path / "data"
    data.mkdir()
    overrides: dict[str, Any] = {}
    if request.param == "postgresql":
        import uuid

        import psycopg

        url = request.getfixturevalue("postgres_url")
        name = f"feed_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        overrides["database_url"] = url.rsplit("/", 1)[0] + f"/{name}"
    a = Library.open(make_settings(data, **overrides))
    b = Library.open(make_settings(data, **overrides))
    try:
        yield a, b
    finally:
        a.close()
        b.close()


def test_changes_reach_the_other_library_once_in_order(pair: Any, media_dir: Any) -> None:
    a, b = pair
    heard_a, heard_b = Heard(a), Heard(b)
    order: list[int] = []
    b.feed.subscribe_ordered(lambda e: order.append(e.change_id or 0))
    record = a.uploads.ingest(media_dir.jpeg, "image", description="first")
    a.update_file(record.id, {"description": "second"}, expected_version=record.version)
    a.trash(record.id)
    a.restore(record.id)
    athlete = a.create_athlete("Ana Pérez")
    expected = [
        ("created", record.id),
        ("updated", record.id),
        ("trashed", record.id),
        ("restored", record.id),
        ("athlete", None),
    ]
    events = heard_b.wait(len(expected))
    assert [(e.kind, e.file_id) for e in events] == expected
    assert heard_a.kinds() == expected  # own changes at once, and not again from the log
    time.sleep(0.6)  # a poll or two later: still nothing twice
    assert heard_a.kinds() == expected and heard_b.kinds() == expected
    ids = [e.change_id for e in events]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    assert order == ids  # the ordered stream has own and other changes alike
    assert events[1].data["description"] == "second" and events[1].version == 2
    # each change's `previous` names the version it started from (the flush bumps it)
    assert [e.previous and e.previous.get("version") for e in events[1:4]] == [1, 2, 3]
    assert events[1].previous is not None and events[1].previous["description"] == "first"
    assert events[0].origin == a.feed.origin != b.feed.origin
    assert events[4].data["name"] == athlete.name


def test_a_failed_transaction_logs_nothing(pair: Any, media_dir: Any) -> None:
    a, b = pair
    record = a.uploads.ingest(media_dir.png, "image")
    a.update_file(record.id, {"description": "theirs"})
    with pytest.raises(Conflict):
        b.update_file(record.id, {"description": "mine"}, expected_version=record.version)
    with db_of(a).read() as s:
        kinds = list(s.scalars(select(ChangeLog.kind).order_by(ChangeLog.id)))
    assert kinds == ["created", "updated"]


def test_token_changes_are_logged_without_secrets(pair: Any) -> None:
    a, b = pair
    heard_b = Heard(b)
    store = a.tokens
    info, secret = store.create("laptop", "read")
    assert store.verify(secret) is not None
    store.record_uses()  # last_used_at moves: not a change
    store.revoke(info.id)
    events = heard_b.wait(2)
    assert [(e.kind, e.data["active"]) for e in events] == [("token", True), ("token", False)]
    with db_of(a).read() as s:
        logged = " ".join(str(r) for r in s.scalars(select(ChangeLog.data)))
    assert secret not in logged and secret[:12] not in logged
    time.sleep(0.5)
    assert len(heard_b.events) == 2


def test_published_events_of_other_kinds_go_through_the_feed(pair: Any) -> None:
    a, b = pair
    heard_a, heard_b = Heard(a), Heard(b)
    a.events.publish(ChangeEvent("processing", 7, {"state": "running", "progress": 0.5}))
    got = heard_b.wait(1)[0]
    assert (got.kind, got.file_id, got.data["progress"]) == ("processing", 7, 0.5)
    assert got.change_id is not None
    assert [(e.kind, e.change_id) for e in heard_a.events] == [("processing", got.change_id)]


def test_catch_up_and_retention(pair: Any, media_dir: Any) -> None:
    a, _ = pair
    first = a.uploads.ingest(media_dir.jpeg, "image")
    a.trash(first.id)
    changes = feed.since(db_of(a), 0)
    assert [c.kind for c in changes] == ["created", "trashed"]
    assert [c.kind for c in feed.since(db_of(a), changes[0].change_id or 0)] == ["trashed"]
    later = datetime.now(UTC) + timedelta(days=feed.RETENTION_DAYS + 1)
    assert feed.prune(db_of(a), now=later) == 1  # the newest row stays: ids never restart
    assert feed.pruned_through(db_of(a)) == changes[0].change_id
    with db_of(a).read() as s:
        assert s.scalar(select(func.count(ChangeLog.id))) == 1


def test_one_leader_and_a_takeover(pair: Any) -> None:
    a, b = pair
    runs: list[str] = []

    def task(lib: Library) -> dict[str, Any]:
        runs.append(lib.feed.origin)
        return {"ok": True}

    la = MaintenanceLeader(a, db_of(a), 1.0, task, first_delay=0)
    lb = MaintenanceLeader(b, db_of(b), 1.0, task, first_delay=0)
    la.start()
    lb.start()
    try:
        deadline = time.monotonic() + 15
        while not runs and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runs, "maintenance never ran"
        time.sleep(0.5)
        assert [la.is_leader, lb.is_leader].count(True) == 1
        leader, other = (la, lb) if la.is_leader else (lb, la)
        assert set(runs) == {leader.lib.feed.origin}
        status = other.status()
        assert status["leader"] is False and status["last_run_by"] == leader.name
        leader.stop()  # a clean stop hands over at once; a kill, within a lease (team tests)
        deadline = time.monotonic() + 15
        while other.lib.feed.origin not in runs and time.monotonic() < deadline:
            time.sleep(0.05)
        assert other.is_leader and runs[-1] == other.lib.feed.origin
    finally:
        la.stop()
        lb.stop()


def test_a_run_recorded_by_a_clock_days_ahead_does_not_stop_maintenance(library: Library) -> None:
    """A lifecycle hunt: `mediadesk maintenance` under a clock two days ahead recorded its run
    then, and the server's scheduled maintenance (every 5 s) waited for this clock to get
    there: no trash purge, no upload expiry, no reconcile for the whole team meanwhile."""
    db = db_of(library)
    ahead = datetime.now(UTC) + timedelta(days=2)
    record_command_run(db, {"ok": True}, ahead)
    record_reconcile(db, {"ok": True}, ahead)
    runs: list[str] = []

    def task(lib: Library) -> dict[str, Any]:
        runs.append(lib.feed.origin)
        return {"ok": True}

    leader = MaintenanceLeader(library, db, 1.0, task, first_delay=0)
    leader.start()
    try:
        deadline = time.monotonic() + 15
        while not runs and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runs, "a run recorded two days ahead kept maintenance from running"
    finally:
        leader.stop()
    assert _reconcile_due(db)
    # the skew between two machines' clocks is no reason to run again at once
    assert not since_due(datetime.now(UTC) + timedelta(seconds=30), 3600)
    assert since_due(datetime.now(UTC) + timedelta(hours=2), 3600)


def test_the_leader_goes_on_when_the_catalog_fails_between_its_checks(
    library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    """The catalog can stop answering between the lease write and the read of when maintenance
    last ran (a PostgreSQL restart at that moment did it). That read's error ended the loop's
    thread, and no maintenance ran again until a restart. SQLite's authorizer refuses exactly
    that read here: the column no lease write touches."""
    db = db_of(library)
    refusing = threading.Event()
    refusing.set()

    def authorizer(action: int, table: str | None, column: str | None, *_: Any) -> int:
        refused = action == sqlite3.SQLITE_READ and (table, column) == (
            "catalog_leases",
            "last_run_at",
        )
        return sqlite3.SQLITE_DENY if refused and refusing.is_set() else sqlite3.SQLITE_OK

    def install(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.set_authorizer(authorizer)

    event.listen(db.engine, "connect", install)
    db.engine.dispose()  # every connection from now on has it
    runs: list[str] = []

    def task(lib: Library) -> dict[str, Any]:
        runs.append(lib.feed.origin)
        return {"ok": True}

    caplog.set_level(logging.WARNING, logger="core.leader")
    leader = MaintenanceLeader(library, db, 1.0, task, first_delay=0)
    leader.start()
    try:
        deadline = time.monotonic() + 15
        while not leader.is_leader and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leader.is_leader
        time.sleep(1.0)  # several ticks, each failing at the refused read
        assert not runs
        refusing.clear()
        deadline = time.monotonic() + 15
        while not runs and time.monotonic() < deadline:
            time.sleep(0.05)
        assert runs, "the leader's loop ended at the failed read"
    finally:
        leader.stop()
        event.remove(db.engine, "connect", install)
    said = [r.getMessage() for r in caplog.records if r.name == "core.leader"]
    # not an outage: said once, not at every tick (nor never)
    assert said.count("Could not tell whether maintenance is due") == 1, said


def test_a_deleted_event_tells_of_the_file_as_it_was_before_the_deletion(
    pair: Any, media_dir: Any
) -> None:
    """A hard delete of a live file trashes and claims it in one write round the feed before
    its bytes go: its deleted event (own and another process's, from the log) still carries
    the live file, as the answer does, so a grid lowers the library's total, not the trash's.
    A file purged from the trash is heard as the trashed file it was."""
    a, b = pair
    heard_a, heard_b = Heard(a), Heard(b)
    live = a.uploads.ingest(media_dir.jpeg, "image")
    trashed = a.uploads.ingest(media_dir.png, "image")
    a.trash(trashed.id)
    answer = a.delete_permanently(live.id)
    assert answer.deleted_at is None and answer.version == live.version
    a.delete_permanently(trashed.id, only_trashed=True)
    expected = [
        ("created", live.id),
        ("created", trashed.id),
        ("trashed", trashed.id),
        ("deleted", live.id),
        ("deleted", trashed.id),
    ]
    for heard in (heard_a, heard_b):
        events = heard.wait(len(expected))
        assert [(e.kind, e.file_id) for e in events] == expected
        gone_live, gone_trashed = events[3], events[4]
        assert gone_live.data["deleted_at"] is None
        assert gone_live.data["version"] == gone_live.version == live.version
        assert gone_trashed.data["deleted_at"] is not None
