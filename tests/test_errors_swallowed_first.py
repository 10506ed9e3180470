"""The failure that made a catalog outage known is the episode's one ERROR line even when the
session that met it was carried on from and the request then failed on a later session.

A CI-like run saw it lost: under load, a request's token check met the cut catalog before the
change feed and the schema guard's connections did (so it claimed the episode's first failure),
the token was trusted through the outage, and the listing's session then failed as a known
outage: the request logged "failed again" (WARNING), the feed and the guard WARNINGs, and no
line was the ERROR (tests/test_pg_errors_log_lines.py saw none). Real HTTP over loopback to the
app's own middleware; the failures are the ones core.db raises, claimed on the library's own
catalog outage.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import text

from core.errors import NotFound, StorageUnavailable, catalog_down, met_catalog_failure
from core.library import Library
from server.app import create_app
from server.config import ServerConfig
from tests.server_fixtures import bearer, make_tokens


def _session_failure(library: Library) -> StorageUnavailable:
    """A catalog failure as a session of core.db raises it (engine.py), claiming the episode."""
    down = catalog_down()
    down.cause = "Connection refused"
    down.first = library.catalog_outage.first_failure()
    down.known = not down.first
    down.episode = library.catalog_outage.episode
    return down


@pytest.mark.parametrize("then", ["known", "not_found"])
async def test_a_first_failure_carried_on_from_is_still_the_error_line(
    library: Library, aiohttp_client: Any, caplog: pytest.LogCaptureFixture, then: str
) -> None:
    async def listing(request: web.Request) -> web.Response:
        # the token check's session met the outage first; its caller carried on (a trusted token)
        met_catalog_failure(_session_failure(library))
        if then == "known":  # the listing's own session, the outage known by then
            raise _session_failure(library)
        raise NotFound("File not found")  # an answer from what was kept

    app = create_app(library, config=ServerConfig())
    app.router.add_get("/test-listing", listing)
    client = await aiohttp_client(app)
    with caplog.at_level(logging.INFO, logger="server.errors"):
        resp = await client.get("/test-listing", headers=bearer(make_tokens(library).read))
    await client.close()
    assert resp.status == (500 if then == "known" else 404)
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1, errors
    assert "storage_unavailable" in errors[0] and "Connection refused" in errors[0], errors
    again = [r.getMessage() for r in caplog.records if "failed again" in r.getMessage()]
    assert again == [], again  # the request's one line is the ERROR, not a count besides it


def test_an_answer_from_before_the_first_failure_does_not_end_its_episode(
    library: Library,
) -> None:
    """A session answered just before a cut, ending after another caller (the schema guard's
    connection) claimed the outage's first failure, had ended the episode: the change feed then
    claimed a second first failure, and the outage had two ERROR lines (a CI-like run of
    tests/test_pg_errors_outage_episodes.py saw it)."""
    outage = library.catalog_outage
    with library._db.read() as session:
        session.execute(text("SELECT 1"))
        assert outage.first_failure()  # the guard, meanwhile: the outage's first failure
    assert not outage.first_failure()  # the feed, next: the same episode, a WARNING
    with library._db.read() as session:  # an answer after it: the catalog is back
        session.execute(text("SELECT 1"))
    assert outage.first_failure()  # a new episode's first failure
