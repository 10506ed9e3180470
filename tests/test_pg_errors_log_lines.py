"""A PostgreSQL catalog that refuses connections (stopped) is one ERROR line, then counted.

Before: every request during the outage was the outage's probe (a refused connection opens
no quiet window, so the next request asks again at once), and each failed probe logged
"ERROR server.errors: Request GET /files/ failed … storage_unavailable": 137 lines in 90 s.
Now the failure that made the outage known keeps its ERROR line, with PostgreSQL's words, and
the probes after it are counted: one WARNING line a window (core/outage.py
LONGEST_HANG_WINDOW), as the answers given without asking are.

Real HTTP over loopback to an embedded server whose PostgreSQL is behind a CuttableProxy that
refuses connections (tests/faults.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from core.db.engine import Database
from core.maintenance import run_maintenance
from tests.faults import CuttableProxy, served_catalog_behind_proxy, wait_for
from tests.pg_server import postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(60)


def test_a_refusing_catalog_logs_one_error_line_and_counts_the_rest(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with served_catalog_behind_proxy(postgres_url, tmp_path) as served:
        admin = make_tokens(served.lib).admin
        files = f"{served.server.url}/files/"
        assert http_call(files, headers=bearer(admin)).status == 200
        caplog.clear()
        with caplog.at_level(logging.INFO):
            served.cut()
            for n in range(12):
                reply = http_call(files, headers=bearer(admin))
                assert reply.status == 500, (n, reply.body)
                assert reply.json()["error"]["reason"] == "catalog_unreachable", reply.body
            # the first failure anyone met (a request, or the change feed's connection)
            errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
            assert len(errors) == 1, errors
            served.restore()
            wait_for(lambda: http_call(files, headers=bearer(admin)).status == 200, what="back")
        # the ERROR line says why, in PostgreSQL's (libpq's) words: a request's, or the change
        # feed's when its connection met the cut first (README: whoever meets it first; the
        # CI-like run met the feed's once, which this assertion refused)
        line = errors[0]
        feed = line.startswith("Change feed interrupted")
        assert feed or "catalog_unreachable" in line or "cannot be reached" in line, errors
        assert "connection" in line.rsplit("try again later", 1)[-1].lower(), errors


def test_maintenance_during_a_known_outage_adds_no_error_line(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A team hunt: a stopped PostgreSQL logged "Change feed interrupted" (the ERROR) and then
    "ERROR Maintenance task sweep_uploads failed" in the same outage. Each task that meets an
    outage already known says it as a WARNING; the run's report still lists it."""
    with served_catalog_behind_proxy(postgres_url, tmp_path) as served:
        admin = make_tokens(served.lib).admin
        files = f"{served.server.url}/files/"
        assert http_call(files, headers=bearer(admin)).status == 200
        with caplog.at_level(logging.INFO):
            served.cut()
            assert http_call(files, headers=bearer(admin)).status == 500  # the outage known
            wait_for(
                lambda: any(r.levelno >= logging.ERROR for r in caplog.records),
                what="its ERROR line",
            )
            report = run_maintenance(served.lib)
            assert report.errors, report  # the tasks did fail
            errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
            assert len(errors) == 1, errors
            tasks = [r for r in caplog.records if "Maintenance task" in r.getMessage()]
            assert tasks and {r.levelno for r in tasks} == {logging.WARNING}, tasks


def test_the_revision_look_that_meets_an_outage_first_says_it_as_the_error(
    postgres_url: str,  # noqa: F811
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The change feed's turn reads the catalog's revision first (SchemaGuard.look); when its
    session met the cut before anything else, it claimed the episode's ERROR and said it as
    DEBUG, and the outage had no ERROR line at all (the first test failed so in CI)."""
    host_port = postgres_url.rsplit("@", 1)[1].split("/", 1)[0]
    proxy = CuttableProxy.in_front_of(f"http://{host_port}")
    db = Database(postgres_url.replace(host_port, f"127.0.0.1:{proxy.port}"))
    try:
        db.schema.look(every=0)  # answered: no outage
        proxy.cut()
        with caplog.at_level(logging.DEBUG, logger="core.db.schema_guard"):
            db.schema.look(every=0)
            db.schema.look(every=0)  # the same outage, known: no second ERROR line
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        assert len(errors) == 1, errors
        assert "cannot be reached" in errors[0] and "refused" in errors[0].lower(), errors
    finally:
        proxy.close()
        db.dispose()
