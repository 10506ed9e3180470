"""Each catalog outage (from its first failure until the catalog answers again) gives exactly
one ERROR line, whoever met it first, and its counts start again.

Before (4c4c86a): a background loop (the change feed, the schema guard's presence, the store
scan) that met a stopped catalog first logged a WARNING, and the requests' failures were then
"failed again" WARNINGs: no ERROR line at all for the outage. A second outage's first line
said "3 answered so since the last such", counted in the one before. A request whose own
session waited out a hang (the token check, its answer then trusted through the outage) was
logged "answered without asking" and nothing said its failure as an ERROR.

Real HTTP over loopback to an embedded server whose PostgreSQL is behind a CuttableProxy
(tests/faults.py) that refuses (cut) or holds every byte (stall).
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from core.leader import MaintenanceLeader
from core.library import Library
from server import state as server_state
from server.state import AUTH
from tests.conftest import make_settings
from tests.faults import CuttableProxy, served_catalog_behind_proxy, wait_for
from tests.internals import db_of
from tests.pg_server import postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(120)


def _lines(records: list[logging.LogRecord]) -> list[str]:
    return [f"{r.levelname} {r.name}: {r.getMessage()}" for r in records]


def test_each_refused_outage_has_one_error_line_and_counts_of_its_own(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with served_catalog_behind_proxy(postgres_url, tmp_path) as served:
        admin = make_tokens(served.lib).admin
        files = f"{served.server.url}/files/"
        assert http_call(files, headers=bearer(admin)).status == 200
        with caplog.at_level(logging.INFO):
            for outage in range(2):
                caplog.clear()
                served.cut()
                # the loops (feed, presence) meet it too, and often first: let them
                wait_for(
                    lambda: any(r.levelno >= logging.ERROR for r in caplog.records),
                    what="the outage's ERROR line",
                )
                for n in range(6):
                    reply = http_call(files, headers=bearer(admin))
                    assert reply.status == 500, (outage, n, reply.body)
                served.restore()
                wait_for(lambda: http_call(files, headers=bearer(admin)).status == 200, what="back")
                records = list(caplog.records)
                errors = [r for r in records if r.levelno >= logging.ERROR]
                assert len(errors) == 1, (outage, _lines(errors))
                requests = [r for r in records if r.name == "server.errors"]
                assert requests, _lines(records)
                first = requests[0]
                # counted in this outage only: the second's first count is 1, not the first's
                assert first.levelno >= logging.ERROR or "; 1 failed so" in first.getMessage(), (
                    outage,
                    _lines(requests),
                )


def test_a_request_that_waited_out_a_hang_failed_and_the_hang_has_one_error_line(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a request's wait, shortened from 15 s: still a hang waited out (the pooled connection's
    # ping cut at 2 s, then the new one's connect_timeout of 2 s), ~10 s of the test less
    monkeypatch.setattr(server_state, "CATALOG_DEADLINE", 5.0)
    with served_catalog_behind_proxy(postgres_url, tmp_path) as served:
        admin = make_tokens(served.lib).admin
        files = f"{served.server.url}/files/"
        assert http_call(files, headers=bearer(admin)).status == 200
        # the token's check asks the catalog again (its answer trusted through an outage)
        app = served.server.app
        assert app is not None
        auth = app[AUTH]
        wait_for(lambda: auth.cached(admin) is None, what="the token's check due again")
        caplog.clear()
        with caplog.at_level(logging.INFO):
            served.stall()
            reply = http_call(files, headers=bearer(admin), timeout=60)
            assert reply.status == 500, reply.body
            rid = reply.json()["error"]["request_id"]
            # the proxy's restore drops the connections it held (a SIGCONT would not): a new
            # failure of the loops holding one, after the catalog answered
            records = list(caplog.records)
            served.restore()
            wait_for(lambda: http_call(files, headers=bearer(admin)).status == 200, what="back")
        own = [r.getMessage() for r in records if r.name == "server.errors"]
        own = [line for line in own if rid in line]
        assert len(own) == 1, _lines(records)
        assert "answered without asking" not in own[0], own
        assert " failed" in own[0], own
        errors = [r for r in records if r.levelno >= logging.ERROR]
        assert len(errors) == 1, _lines(errors)


def test_a_maintenance_tick_that_meets_the_outage_first_says_it_as_the_error(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The leader's read of whether maintenance is due, made between its lease check and the
    cut, met the outage before the feed and the presence did: it said so as DEBUG and the
    outage had no ERROR line at all (a CI-like run met it, twice). The other loops are stopped
    here so that the tick's read is surely the first to meet it."""
    host_port = postgres_url.rsplit("@", 1)[1].split("/", 1)[0]
    proxy = CuttableProxy.in_front_of(f"http://{host_port}")
    through = postgres_url.replace(host_port, f"127.0.0.1:{proxy.port}")
    lib = Library.open(make_settings(tmp_path, database_url=f"{through}?connect_timeout=2"))
    try:
        lib.feed.stop()
        presence = db_of(lib)._presence
        assert presence is not None
        presence.stop()
        leader = MaintenanceLeader(lib, db_of(lib), interval=600.0, first_delay=0)
        assert leader._due_now()  # the catalog answers: due (never run)
        with caplog.at_level(logging.DEBUG, logger="core"):
            proxy.cut()
            assert not leader._due_now()
            errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
            assert len(errors) == 1, _lines(caplog.records)
            assert "maintenance is due" in errors[0].getMessage(), _lines(errors)
            # the outage is known now: the next tick says nothing more as an ERROR
            caplog.clear()
            assert not leader._due_now()
            assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
        proxy.restore()
    finally:
        lib.close()
        proxy.close()
