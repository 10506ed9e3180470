"""The audit log has a retention: MEDIADESK_AUDIT_RETENTION_DAYS (365 days; 0 keeps every entry).

Nothing pruned `audit_log` (one entry per access to a private file, per caller, file and
half-second: 703 rows in 28 minutes of modest traffic), so it grew without bound in the
catalog. Maintenance (the server's periodic run and `mediadesk maintenance`) now deletes the
entries older than the retention, a bounded batch a transaction, and reports how many
(`audit_pruned`).

Entries are written through the real writer (AuditLog.record_many) on real catalogs, then
dated back with SQL.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, update

from core.audit import AuditRecord
from core.db.models import AuditEntry
from core.errors import SettingsError
from core.library import Library
from core.maintenance import run_maintenance
from core.settings import load_settings
from tests.conftest import make_settings
from tests.faults import ROOT
from tests.internals import db_of
from tests.pg_server import fresh_database, postgres_url  # noqa: F401

MEDIADESK = str(ROOT / ".venv" / "bin" / "mediadesk")


def _write(lib: Library, actor: str, count: int) -> list[int]:
    """`count` entries by `actor` through the audit writer; their ids."""
    lib.audit.record_many(
        [AuditRecord(actor, "download", file_id=i, remote="127.0.0.1") for i in range(count)]
    )
    return [e.id for e in lib.audit.query(actor=actor, limit=1000)[0]]


def _date_back(lib: Library, ids: list[int], days: float) -> None:
    with db_of(lib).write() as s:
        s.execute(
            update(AuditEntry)
            .where(AuditEntry.id.in_(ids))
            .values(at=datetime.now(UTC) - timedelta(days=days))
        )


def _actors(lib: Library) -> dict[str, int]:
    entries, total = lib.audit.query(limit=1000)
    assert total == len(entries)
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.actor] = counts.get(e.actor, 0) + 1
    return counts


@pytest.fixture
def sqlite_library(tmp_path: Path) -> Iterator[Library]:
    lib = Library.open(make_settings(tmp_path / "data"))
    yield lib
    lib.close()


def _prunes_only_the_old_ones(lib: Library) -> None:
    _date_back(lib, _write(lib, "old", 7), days=400)
    _date_back(lib, _write(lib, "kept", 3), days=300)  # inside the default 365 days
    _write(lib, "new", 2)
    report = run_maintenance(lib)
    assert report.errors == []
    assert report.audit_pruned == 7
    assert report.as_dict()["audit_pruned"] == 7
    assert _actors(lib) == {"kept": 3, "new": 2}
    assert run_maintenance(lib).audit_pruned == 0  # nothing older left


def test_maintenance_prunes_only_entries_older_than_the_retention(
    sqlite_library: Library,
) -> None:
    assert sqlite_library.settings.audit_retention_days == 365
    _prunes_only_the_old_ones(sqlite_library)


def test_maintenance_prunes_on_postgresql(postgres_url: str, tmp_path: Path) -> None:  # noqa: F811
    url = fresh_database(postgres_url, "audit")
    lib = Library.open(make_settings(tmp_path / "pg", database_url=url))
    try:
        _prunes_only_the_old_ones(lib)
    finally:
        lib.close()


def test_zero_keeps_every_entry(tmp_path: Path) -> None:
    lib = Library.open(make_settings(tmp_path / "data", audit_retention_days=0))
    try:
        _date_back(lib, _write(lib, "ancient", 4), days=20_000)
        _write(lib, "new", 1)
        report = run_maintenance(lib)
        assert report.errors == [] and report.audit_pruned == 0
        assert _actors(lib) == {"ancient": 4, "new": 1}
    finally:
        lib.close()


def test_a_retention_past_the_calendar_keeps_every_entry(tmp_path: Path) -> None:
    # now - 10**9 days is before year 1 (OverflowError): kept, and the other tasks still run
    lib = Library.open(make_settings(tmp_path / "data", audit_retention_days=10**9))
    try:
        _date_back(lib, _write(lib, "ancient", 2), days=20_000)
        report = run_maintenance(lib)
        assert report.errors == [] and report.audit_pruned == 0
        assert _actors(lib) == {"ancient": 2}
    finally:
        lib.close()


def test_pruning_goes_in_short_transactions_oldest_first(sqlite_library: Library) -> None:
    """Each batch is committed before the next starts: another writer (here a connection of
    its own, as another process) gets SQLite's write lock between them."""
    lib = sqlite_library
    ids = _write(lib, "old", 7)
    for age, entry in enumerate(sorted(ids)):
        _date_back(lib, [entry], days=400 + age)  # the first written is the newest
    statements: list[tuple[str, tuple[object, ...]]] = []

    def seen(*cursor_execute: Any) -> None:  # (conn, cursor, statement, parameters, …)
        statement, parameters = cursor_execute[2:4]
        if statement.lstrip().upper().startswith("DELETE"):
            statements.append((statement, parameters))

    engine = db_of(lib).engine
    event.listen(engine, "before_cursor_execute", seen)
    other = sqlite3.connect(lib.settings.paths.database_file, timeout=0)
    try:
        batches = lib.audit.prune(datetime.now(UTC) - timedelta(days=365), batch=3)
        counts = []
        for count in batches:
            counts.append(count)
            other.execute("BEGIN IMMEDIATE")  # refused (database is locked) inside a batch
            other.rollback()
            if len(counts) == 1:  # the oldest went first: the three written last
                assert _actors(lib) == {"old": 4}
                left = {e.id for e in lib.audit.query(limit=1000)[0]}
                assert left == set(sorted(ids)[:4])
    finally:
        other.close()
        event.remove(engine, "before_cursor_execute", seen)
    assert counts == [3, 3, 1]
    assert _actors(lib) == {}
    # found by the index on `at`, not a scan of the whole table
    with sqlite3.connect(lib.settings.paths.database_file) as con:
        statement, parameters = statements[0]
        plan = con.execute("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
    assert any("ix_audit_log_at" in str(row) for row in plan), plan


@pytest.mark.parametrize(
    ("raw", "said"),
    [
        ("-1", "cannot be negative (0 keeps every entry)"),
        ("a year", "has an invalid value 'a year': expected a whole number"),
        ("1.5", "has an invalid value '1.5': expected a whole number"),
    ],
)
def test_a_bad_value_is_refused_like_the_trash_retention(
    tmp_path: Path, raw: str, said: str
) -> None:
    def refusal(env_name: str) -> str:
        with pytest.raises(SettingsError) as err:
            load_settings(
                environ={env_name: raw},
                config_file=tmp_path / "settings.toml",
                data_dir=str(tmp_path / "data"),
            )
        return err.value.message

    audit = refusal("MEDIADESK_AUDIT_RETENTION_DAYS")
    assert audit.startswith("Setting MEDIADESK_AUDIT_RETENTION_DAYS") and said in audit, audit
    # the trash's own words, up to what 0 means for each
    trash = refusal("MEDIADESK_TRASH_RETENTION_DAYS")
    up_to = audit.replace("AUDIT", "TRASH").split(" (")[0]
    assert trash.split(" (")[0] == up_to, (audit, trash)


def test_mediadesk_maintenance_prints_the_count(tmp_path: Path) -> None:
    data = tmp_path / "data"
    lib = Library.open(make_settings(data))
    try:
        _date_back(lib, _write(lib, "old", 5), days=40)
        _write(lib, "new", 1)
    finally:
        lib.close()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "R2_"))}
    run = subprocess.run(
        [MEDIADESK, "maintenance", "--data-dir", str(data)],
        cwd=ROOT,
        env={**env, "MEDIADESK_AUDIT_RETENTION_DAYS": "30"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout)["maintenance"]["audit_pruned"] == 5
    lib = Library.open(make_settings(data))
    try:
        assert _actors(lib) == {"new": 1}
    finally:
        lib.close()
