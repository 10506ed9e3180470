"""The first-start admin token is made once, however many servers start together on a new
catalog, on SQLite and PostgreSQL.

The outside report: two `mediadesk serve` of a team started together on a new PostgreSQL
catalog each counted no token, each made one and each printed a "first start" admin secret.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from core.db.engine import Database
from core.library import Library
from core.tokens import TokenStore
from tests.conftest import make_settings
from tests.internals import db_of
from tests.pg_server import fresh_database, postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(120)

SERVERS = 4


@pytest.fixture(params=["sqlite", "postgres"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a new catalog, migrated and without a token."""
    url = None
    if request.param == "postgres":
        url = fresh_database(request.getfixturevalue("postgres_url"), "first_token")
    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, database_url=url))
    try:
        found = db_of(lib).url
        assert lib.tokens.list() == []
    finally:
        lib.close()
    yield found


def test_servers_starting_together_make_one_first_start_token(catalog_url: str) -> None:
    # one engine each, as each server process has: only the catalog can serialise them
    dbs = [Database(catalog_url) for _ in range(SERVERS)]
    # Each caller waits here once it has asked whether a token exists, so that without a
    # lock all of them ask before any makes one. With the lock the others wait for the first
    # one's transaction, the barrier times out and the first goes on alone.
    asked = threading.Barrier(SERVERS, timeout=3)

    def counted(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "count(" in statement.lower() and "api_tokens" in statement:
            with contextlib.suppress(threading.BrokenBarrierError):
                asked.wait()

    for db in dbs:
        event.listen(db.engine, "after_cursor_execute", counted)
    secrets: list[str | None] = []
    failures: list[BaseException] = []

    def start(db: Database) -> None:
        try:
            secrets.append(TokenStore(db).ensure_initial_token())
        except BaseException as exc:  # noqa: BLE001 (reported by the test's thread)
            failures.append(exc)

    threads = [threading.Thread(target=start, args=(db,)) for db in dbs]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
        assert not failures, failures
        given = [s for s in secrets if s is not None]
        assert len(secrets) == SERVERS
        assert len(given) == 1, f"{len(given)} callers got a first-start secret"
        tokens = TokenStore(dbs[0]).list()
        assert [(t.name, t.scope) for t in tokens] == [("first start", "admin")]
        assert TokenStore(dbs[0]).verify(given[0]) == tokens[0]
        # a later start finds it and makes none
        assert TokenStore(dbs[1]).ensure_initial_token() is None
    finally:
        for db in dbs:
            db.dispose()
