"""A SQLite catalog another program holds locked past the busy timeout (a script's
`sqlite3 mediadesk.sqlite3 'BEGIN EXCLUSIVE;'`, a DB browser left open, a backup tool, a long
write of another MediaDesk process on the same folder): a passing outage, not a fault of ours.

The lock is taken by a real second process on the real catalog file. While it holds, a write
over real HTTP answers 500 storage_unavailable with reason catalog_busy and a Retry-After (it
was internal_error with a traceback and none), logged as one WARNING line; once the lock is
released the same request works. The busy timeout is cut from 30 s so the test is quick."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from core.db import engine
from core.library import Library
from core.outage import ASK_AGAIN
from core.settings import Settings
from server import state as server_state
from server.entry import EmbeddedServer
from server.errors import UNAVAILABLE_MESSAGES
from tests.conftest import make_settings
from tests.internals import db_of
from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, make_tokens, server_config

# BEGIN EXCLUSIVE in a process of its own; says "locked" once it holds, lets go at a line on
# stdin. In WAL (the catalog's mode) it keeps out writers and lets readers in, as such tools do.
_HOLDER = """
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
print("locked", flush=True)
sys.stdin.readline()
conn.execute("ROLLBACK")
conn.close()
"""


@pytest.fixture
def library(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Library]:
    # read by each new connection: the catalog's connections wait 0.3 s for a lock, not 30 s
    monkeypatch.setattr(engine, "BUSY_TIMEOUT_MS", 300)
    lib = Library.open(settings)
    yield lib
    lib.close()


def _hold(library: Library) -> subprocess.Popen[str]:
    """A second process holding the catalog file under BEGIN EXCLUSIVE until `_release`."""
    catalog = Path(db_of(library).engine.url.database or "")
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(catalog)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None
    said = holder.stdout.readline().strip()
    if said != "locked":
        holder.kill()
        holder.wait()
        raise AssertionError(f"the second process did not lock the catalog: {said!r}")
    return holder


def _release(holder: subprocess.Popen[str]) -> None:
    holder.communicate("\n", timeout=30)
    assert holder.returncode == 0


def test_a_catalog_locked_by_another_program_is_a_passing_outage(
    library: Library, caplog: pytest.LogCaptureFixture
) -> None:
    tokens = make_tokens(library)
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        caplog.set_level(logging.INFO)
        body = json.dumps({"name": "Ana"}).encode()
        headers = {**bearer(tokens.upload), "Content-Type": "application/json"}
        holder = _hold(library)
        try:
            refused = http_call(f"{server.url}/athletes", "POST", body, headers)
            assert refused.status == 500, refused.body
            error = refused.json()["error"]
            assert error["code"] == "storage_unavailable"
            assert error["reason"] == "catalog_busy"
            assert error["message"] == UNAVAILABLE_MESSAGES["catalog_busy"]
            assert "BEGIN" not in error["message"] and "INSERT" not in error["message"]
            assert refused.headers["Retry-After"] == str(ASK_AGAIN)
            assert "path" not in error.get("details", {})  # the catalog's place: the log's
            # reads go on meanwhile (WAL lets them in under another program's write lock)
            assert http_call(f"{server.url}/athletes", headers=bearer(tokens.read)).status == 200
        finally:
            _release(holder)
        done = http_call(f"{server.url}/athletes", "POST", body, headers)
        assert done.status == 201, done.body
        assert done.json()["name"] == "Ana"
        spec = http_call(f"{server.url}/openapi.json").json()["components"]["schemas"]
        error_reason = spec["Error"]["properties"]["error"]["properties"]["reason"]
        assert "catalog_busy" in error_reason["description"]
        assert (
            "catalog_busy"
            in spec["Health"]["properties"]["storage"]["properties"]["reason"]["enum"]
        )
    finally:
        server.stop()
    told = [r for r in caplog.records if "holds the catalog" in r.getMessage()]
    assert [r.levelno for r in told] == [logging.WARNING], [r.getMessage() for r in told]
    assert told[0].exc_info is None and "POST /athletes" in told[0].getMessage()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def test_health_says_catalog_busy_while_writes_meet_the_lock(library: Library) -> None:
    """/health only reads, which a writers-only lock (WAL, another process in BEGIN EXCLUSIVE)
    lets through: it said ok while every write answered catalog_busy. It now says what the
    writes met lately (degraded, reason catalog_busy, a Retry-After), until a write commits."""
    tokens = make_tokens(library)
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        body = json.dumps({"name": "Ana"}).encode()
        headers = {**bearer(tokens.upload), "Content-Type": "application/json"}
        assert http_call(f"{server.url}/health").status == 200
        holder = _hold(library)
        try:
            refused = http_call(f"{server.url}/athletes", "POST", body, headers)
            assert refused.status == 500, refused.body
            assert refused.json()["error"]["reason"] == "catalog_busy"
            for token in ({}, bearer(tokens.admin)):
                health = http_call(f"{server.url}/health", headers=token)
                assert health.status == 503, health.body
                said = health.json()
                assert said["status"] == "degraded"
                assert said["database"]["ok"] is False
                assert said["database"]["reason"] == "catalog_busy"
                assert said["storage"]["ok"] is True
                assert health.headers["Retry-After"] == str(ASK_AGAIN)
        finally:
            _release(holder)
        done = http_call(f"{server.url}/athletes", "POST", body, headers)
        assert done.status == 201, done.body
        health = http_call(f"{server.url}/health")
        assert health.status == 200, health.body
        assert health.json()["database"] == {"ok": True}
    finally:
        server.stop()


# SELECT … FOR UPDATE of one athlete in a process of its own, held until a line on stdin
_PG_HOLDER = """
import psycopg, sys
with psycopg.connect(sys.argv[1]) as conn:
    conn.execute("SELECT id FROM athletes WHERE id = %s FOR UPDATE", (int(sys.argv[2]),))
    print("locked", flush=True)
    sys.stdin.readline()
    conn.rollback()
"""


def test_a_postgresql_lock_timeout_is_the_same_outage(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PostgreSQL's lock_timeout (55P03 lock_not_available), which MediaDesk sets for its own
    bookkeeping's writes and an administrator may set on the database, ends a write that waited
    on another session's lock: the same catalog_busy, not internal_error."""
    # A request's transaction sets its own lock_timeout over the database's (a share of its
    # deadline, core/db/engine.py lock_wait): 10 s of the 15, which the rename below waited
    # out. A 3 s deadline (as tests/test_pg_errors_lock.py): a 2 s wait, the same 55P03.
    monkeypatch.setattr(server_state, "CATALOG_DEADLINE", 3.0)
    url = fresh_database(postgres_url, "busy")
    plain = url.replace("postgresql+psycopg://", "postgresql://")
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(plain, autocommit=True) as admin:
        admin.execute(f"ALTER DATABASE \"{name}\" SET lock_timeout = '300ms'")
    data = tmp_path / "pg"
    data.mkdir()
    lib = Library.open(make_settings(data, database_url=url))
    try:
        tokens = make_tokens(lib)
        server = EmbeddedServer(lib, config=server_config(lib))
        server.start()
        try:
            headers = {**bearer(tokens.upload), "Content-Type": "application/json"}
            made = http_call(
                f"{server.url}/athletes", "POST", json.dumps({"name": "Ana"}).encode(), headers
            )
            assert made.status == 201, made.body
            athlete = made.json()["id"]
            rename = json.dumps({"name": "Ana B"}).encode()
            holder = subprocess.Popen(
                [sys.executable, "-c", _PG_HOLDER, plain, str(athlete)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            try:
                assert holder.stdout is not None
                assert holder.stdout.readline().strip() == "locked"
                refused = http_call(f"{server.url}/athletes/{athlete}", "PATCH", rename, headers)
                assert refused.status == 500, refused.body
                assert refused.json()["error"]["reason"] == "catalog_busy"
                assert refused.headers["Retry-After"] == str(ASK_AGAIN)
            finally:
                _release(holder)
            done = http_call(f"{server.url}/athletes/{athlete}", "PATCH", rename, headers)
            assert done.status == 200, done.body
            assert done.json()["name"] == "Ana B"
        finally:
            server.stop()
    finally:
        lib.close()
