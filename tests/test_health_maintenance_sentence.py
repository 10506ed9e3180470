"""/health's maintenance part named a Python class during a catalog outage ("error":
"OperationalError" from the leader's own PostgreSQL connection, "StorageUnavailable" when the
route could not read the last run), where its database part says a sentence. It now says the
catalog's sentence with a stable reason beside it, and the leadership check's failure is still
logged once per kind of failure (by that reason, not by its words).

A real PostgreSQL catalog behind a proxy the test cuts, a server that is the maintenance leader,
real HTTP."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest

from core.errors import catalog_down
from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.faults import CuttableProxy, wait_for
from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, make_tokens, server_config

CHECK_FAILED = "Maintenance leadership check failed"


def test_maintenance_says_a_sentence_and_a_reason_while_the_catalog_is_away(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    database = fresh_database(postgres_url, "health_maintenance_sentence")
    host_port = database.rsplit("@", 1)[1].split("/", 1)[0]
    proxy = CuttableProxy.in_front_of(f"http://{host_port}")
    through = database.replace(host_port, f"127.0.0.1:{proxy.port}")
    lib = Library.open(make_settings(tmp_path, database_url=f"{through}?connect_timeout=2"))
    # a leader that checks its lease every quarter second
    server = EmbeddedServer(lib, config=server_config(lib, maintenance_interval=1))
    server.start()
    cut = False
    try:
        tokens = make_tokens(lib)
        health = f"{server.url}/health"

        def maintenance(token: str) -> dict[str, Any]:
            answer = http_call(health, headers=bearer(token))
            part: dict[str, Any] = answer.json()["maintenance"]
            return part

        wait_for(lambda: maintenance(tokens.admin)["leader"], what="the server to lead")
        leader = lib.leader
        assert leader is not None
        assert maintenance(tokens.read)["leader"]  # the tokens known before the outage
        caplog.set_level(logging.WARNING, logger="core.leader")
        proxy.cut()
        cut = True
        wait_for(lambda: leader.last_error is not None, what="the leadership check to fail")
        for token in (tokens.admin, tokens.read):
            part = maintenance(token)
            assert part["leader"] is False and "error" in part, part
            assert part["error"] == catalog_down().message, part
            assert part["reason"] == "catalog_unreachable", part
        # more failed checks of the same kind: not logged again
        time.sleep(6 * leader.tick)
        said = [r for r in caplog.records if r.getMessage().startswith(CHECK_FAILED)]
        assert len(said) == 1, [r.getMessage() for r in said]
        assert maintenance(tokens.admin)["error"] == catalog_down().message
        proxy.restore()
        cut = False
        wait_for(lambda: "error" not in maintenance(tokens.admin), what="the catalog back")
        assert "reason" not in maintenance(tokens.admin)
    finally:
        if cut:
            proxy.restore()
        server.stop()
        lib.close()
        proxy.close()
