"""PostgreSQL refusing the catalog's password or role is a set-up fault, not an outage; too
many connections is an outage whose log line says so.

Before: a password rotated on the server (28P01), a role that may not log in (28000) and a
role's or the server's connection slots all taken (53300) all answered 500
catalog_unreachable "try again later" with a Retry-After, /health said the same, and the
server's log never named PostgreSQL's refusal. Now a refusal of the set-up answers reason
catalog_refused (a set-up fault: "ask the server's administrator", no Retry-After), /health
names it, and the log says PostgreSQL's words once (never the password); too many connections
stays catalog_unreachable with a Retry-After, and its log line carries PostgreSQL's words.

Real HTTP over loopback to an embedded server on a PostgreSQL cluster of the test's own that
asks for passwords (scram-sha-256); its backends are ended as a restart would.
"""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg
import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.pg_server import Cluster, pg_cluster  # noqa: F401
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(90)
PASSWORD = "right-pass-7Qx"
ROTATED = "rotated-pass-9Zk"


def _unavailable(reply: Reply, reason: str) -> dict[str, str]:
    assert reply.status == 500, reply.body
    error = reply.json()["error"]
    assert (error["code"], error.get("reason")) == ("storage_unavailable", reason), error
    return error  # type: ignore[no-any-return]


def test_a_refused_password_is_a_set_up_fault_and_too_many_connections_an_outage(
    pg_cluster: Cluster,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    admin_url = pg_cluster.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as su:
        su.execute(f"CREATE ROLE team LOGIN PASSWORD '{PASSWORD}'")
        su.execute("CREATE DATABASE library OWNER team")
    (pg_cluster.data / "pg_hba.conf").write_text(
        "local all all trust\nhost all mediadesk 127.0.0.1/32 trust\n"
        "host all all 127.0.0.1/32 scram-sha-256\n"
    )

    def superuser(*statements: str) -> None:
        with psycopg.connect(admin_url, autocommit=True) as su:
            for statement in statements:
                su.execute(statement)

    # the server's connections end, as in a restart: the next ones log in again
    drop = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'team'"
    superuser("SELECT pg_reload_conf()")
    url = f"postgresql+psycopg://team:{PASSWORD}@127.0.0.1:{pg_cluster.port}/library"
    lib = Library.open(make_settings(tmp_path, database_url=url))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        admin = make_tokens(lib).admin
        files = f"{server.url}/files/"
        assert http_call(files, headers=bearer(admin)).status == 200
        caplog.clear()
        with caplog.at_level(logging.INFO):
            superuser(f"ALTER ROLE team PASSWORD '{ROTATED}'", drop)
            for _ in range(3):
                refused = http_call(files, headers=bearer(admin))
                error = _unavailable(refused, "catalog_refused")
                assert "try again later" not in error["message"], error
                assert "Retry-After" not in refused.headers, refused.headers
            health = http_call(f"{server.url}/health", headers=bearer(admin))
            assert health.status == 503, health.body
            database = health.json()["database"]
            assert database["reason"] == "catalog_refused", database
            assert "password authentication failed" in database["error"], database
            assert "Retry-After" not in health.headers, health.headers
        # one ERROR line, PostgreSQL's words, however many requests met it (the backends'
        # ending is an outage's ERROR of its own, the change feed's LISTEN connection's)
        errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
        refusals = [e for e in errors if "password authentication failed" in e]
        assert len(refusals) == 1, errors
        assert not [r for r in caplog.records if r.name == "server.errors" and r.levelno >= 40]
        logged = "\n".join(r.getMessage() for r in caplog.records)
        assert PASSWORD not in logged and ROTATED not in logged

        superuser(f"ALTER ROLE team PASSWORD '{PASSWORD}'")  # put right: no restart needed
        assert http_call(files, headers=bearer(admin)).status == 200

        caplog.clear()
        with caplog.at_level(logging.INFO):
            superuser("ALTER ROLE team CONNECTION LIMIT 0", drop)
            crowded = http_call(files, headers=bearer(admin))
            _unavailable(crowded, "catalog_unreachable")
            assert crowded.headers.get("Retry-After"), crowded.headers
        assert any("too many connections" in r.getMessage() for r in caplog.records), [
            r.getMessage() for r in caplog.records
        ]
        superuser("ALTER ROLE team CONNECTION LIMIT -1")
    finally:
        server.stop()
        lib.close()
