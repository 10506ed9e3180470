"""/health's database part dropped the reason of the catalog's error (Library.health kept only
its class name), while its storage part gives the store's: a monitor saw 503 degraded with
{"ok": false, "error": "StorageUnavailable"} and could not tell a catalog out of reach from one
another program holds locked (catalog_busy) or a disk gone. It now gives the reason for every
caller, as the storage part does, and the served document's Health schema names it.

A real PostgreSQL catalog behind a proxy the test cuts (refused connections), real HTTP."""

from __future__ import annotations

from pathlib import Path

from tests.faults import served_catalog_behind_proxy, wait_for
from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, make_tokens


def test_health_gives_the_reason_of_a_catalog_out_of_reach(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    database = fresh_database(postgres_url, "health_reason")
    with served_catalog_behind_proxy(database, tmp_path) as served:
        admin = make_tokens(served.lib).admin
        health = f"{served.server.url}/health"
        assert http_call(health).status == 200
        served.cut()
        for headers in ({}, bearer(admin)):  # a monitor without a token reads it too
            answer = http_call(health, headers=headers)
            assert answer.status == 503, answer.body
            part = answer.json()["database"]
            assert part["ok"] is False and part["reason"] == "catalog_unreachable", part
            assert "Retry-After" in answer.headers
        served.restore()
        wait_for(lambda: http_call(health).status == 200, what="the catalog back")
        spec = http_call(f"{served.server.url}/openapi.json").json()["components"]["schemas"]
        reasons = spec["Health"]["properties"]["database"]["properties"]["reason"]["enum"]
        assert {"catalog_unreachable", "catalog_busy", "catalog_upgraded"} <= set(reasons)
