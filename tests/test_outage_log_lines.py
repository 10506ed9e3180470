"""With the catalog's disk full (a real tmpfs), the change feed's writer, the maintenance leader
and the store's usage scan each say so in one WARNING line in plain words, without a traceback
and at most every few seconds with a count, however often they fail; a bug still gets its
traceback at ERROR.

Before, every event a stopped job published logged an ERROR with SQLAlchemy's two-part
traceback, the leader's warning carried SQLAlchemy's text (the statement, then "(Background on
this error at: https://sqlalche.me/...)" on a line of its own), and each usage scan logged
"Store scan failed" at ERROR."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import OperationalError

from core.events import ChangeEvent, EventBus, EventKind
from core.leader import MaintenanceLeader
from core.library import Library
from server.routes import usage as usage_route
from tests.conftest import make_settings
from tests.faults import fill_disk, small_tmpfs
from tests.internals import db_of

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def full_catalog(tmp_path: Path) -> Iterator[Library]:
    """A library on a 16 MiB tmpfs, filled up after it opened, its WAL emptied first so that
    the next catalog write needs new room."""
    with small_tmpfs(tmp_path / "data", "16m") as data_dir:
        lib = Library.open(make_settings(data_dir))
        try:
            with db_of(lib).engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            fill_disk(data_dir / "filler")
            yield lib
        finally:
            lib.close()


def _lines(caplog: pytest.LogCaptureFixture, name: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == name]


def _assert_one_plain_line(records: list[logging.LogRecord], words: str) -> None:
    assert [r for r in records if r.exc_info or r.levelno >= logging.ERROR] == [], [
        r.getMessage() for r in records
    ]
    for r in records:
        message = r.getMessage()
        assert "\n" not in message and "sqlalche.me" not in message, message
    assert any(words in r.getMessage() for r in records), [r.getMessage() for r in records]


def test_change_feed_writes_on_a_full_disk_are_one_warning(
    full_catalog: Library, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="core.events")
    for n in range(25):  # a stopped job publishes its progress: each write fails
        full_catalog.events.publish(ChangeEvent(EventKind.PROCESSING, n, {"progress": n}))
    records = _lines(caplog, "core.events")
    _assert_one_plain_line(records, "disk is full")
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].levelno == logging.WARNING
    assert "1 such failures" in records[0].getMessage()


def test_the_leader_names_a_full_catalog_in_plain_words(
    full_catalog: Library, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="core.leader")
    leader = MaintenanceLeader(full_catalog, db_of(full_catalog), interval=600.0, first_delay=600)
    leader.start()
    try:
        time.sleep(3)  # a dozen lease attempts, every one refused
    finally:
        leader.stop()
    records = _lines(caplog, "core.leader")
    _assert_one_plain_line(records, "disk is full")
    said = [r.getMessage() for r in records if "catalog cannot be written" in r.getMessage()]
    assert len(said) == 1, said


def test_usage_scans_on_a_full_disk_are_one_warning(
    full_catalog: Library, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(usage_route, "FIRST_SCAN_DELAY", 0)
    caplog.set_level(logging.INFO, logger="server.routes.usage")
    stop = threading.Event()
    scans = threading.Thread(
        target=usage_route._scan_forever,
        args=(full_catalog, 0.1, stop),  # a scan every 0.1 s: each records its day and fails
    )
    scans.start()
    time.sleep(2)
    stop.set()
    scans.join(10)
    records = _lines(caplog, "server.routes.usage")
    _assert_one_plain_line(records, "disk is full")
    assert len(records) == 1, [r.getMessage() for r in records]
    assert records[0].levelno == logging.WARNING


def _disk_full() -> OperationalError:
    import sqlite3

    return OperationalError(
        "INSERT INTO change_log ...", {}, sqlite3.OperationalError("database or disk is full")
    )


def test_a_counted_report_follows_the_interval(caplog: pytest.LogCaptureFixture) -> None:
    """The injected error SQLAlchemy raises, on a bus whose reports run on a fake clock."""
    now = [0.0]
    bus = EventBus()
    bus._reports._clock = lambda: now[0]

    def full(event: ChangeEvent) -> None:
        raise _disk_full()

    bus.set_recorder(full)
    caplog.set_level(logging.INFO, logger="core.events")
    for _ in range(10):
        bus.publish(ChangeEvent(EventKind.PROCESSING, 1))
    now[0] = 6.0
    bus.publish(ChangeEvent(EventKind.PROCESSING, 1))
    said = [r.getMessage() for r in _lines(caplog, "core.events")]
    assert len(said) == 2, said
    assert "1 such failures" in said[0] and "10 such failures" in said[1], said


def test_a_bug_in_the_feed_writer_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()

    def broken(event: ChangeEvent) -> None:
        raise KeyError("a bug")

    bus.set_recorder(broken)
    caplog.set_level(logging.INFO, logger="core.events")
    for _ in range(2):
        bus.publish(ChangeEvent(EventKind.PROCESSING, 1))
    records = _lines(caplog, "core.events")
    assert len(records) == 2
    assert all(r.levelno == logging.ERROR and r.exc_info for r in records)
