"""A PostgreSQL table another session holds locked is a busy catalog, not one out of reach.

Before: a request's statement waiting on the lock (`LOCK TABLE … IN ACCESS EXCLUSIVE MODE` in
another session) was cut by the hang watchdog at the request's deadline (15 s), and answered
500 catalog_unreachable ("cannot be reached right now") while PostgreSQL answered all along;
/health said nothing of a lock. Now a request's statements wait for a lock a share of the
deadline (lock_timeout, core/db/engine.py LOCK_SHARE) and end as catalog_busy (55P03) before
the watchdog's cut, reads as writes; /health says catalog_busy once a write met the lock.

Real HTTP over loopback to an embedded server on the session's PostgreSQL, the lock held by a
psycopg connection of the test; the deadline shortened to 3 s (the lock wait to 2 s).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from core.library import Library
from server import state as server_state
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def served(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[tuple[str, str, str]]:
    """(the server's URL, an admin token, the catalog's libpq URL)."""
    monkeypatch.setattr(server_state, "CATALOG_DEADLINE", 3.0)  # a request's wait, shortened
    url = fresh_database(postgres_url, "pglock")
    lib = Library.open(make_settings(tmp_path, database_url=url))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield server.url, make_tokens(lib).admin, url.replace("postgresql+psycopg", "postgresql")
    finally:
        server.stop()
        lib.close()


def _busy(reply: Reply) -> None:
    assert reply.status == 500, reply.body
    error = reply.json()["error"]
    assert (error["code"], error.get("reason")) == ("storage_unavailable", "catalog_busy"), error
    assert reply.headers.get("Retry-After"), reply.headers


def test_a_table_locked_by_another_session_answers_catalog_busy(
    served: tuple[str, str, str],
) -> None:
    url, admin, libpq = served
    json_auth = {**bearer(admin), "Content-Type": "application/json"}
    made = http_call(f"{url}/athletes", "POST", json.dumps({"name": "Ana"}).encode(), json_auth)
    assert made.status == 201, made.body
    athlete = made.json()["id"]
    assert http_call(f"{url}/health", headers=bearer(admin)).status == 200
    with psycopg.connect(libpq) as holder:
        holder.execute("LOCK TABLE athletes IN ACCESS EXCLUSIVE MODE")
        rename = http_call(
            f"{url}/athletes/{athlete}", "PATCH", json.dumps({"name": "Eva"}).encode(), json_auth
        )
        _busy(rename)
        _busy(http_call(f"{url}/athletes", headers=bearer(admin)))  # a read waits the same
        health = http_call(f"{url}/health", headers=bearer(admin))
        assert health.status == 503, health.body
        assert health.json()["database"]["reason"] == "catalog_busy", health.body
        holder.rollback()  # the lock let go: the next write works
    again = http_call(
        f"{url}/athletes/{athlete}", "PATCH", json.dumps({"name": "Eva"}).encode(), json_auth
    )
    assert again.status == 200, again.body
    assert http_call(f"{url}/health", headers=bearer(admin)).status == 200
