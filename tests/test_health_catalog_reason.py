"""/health's database part dropped the reason of the catalog's error (Library.health kept only
its class name), while its storage part gives the store's: a monitor saw 503 degraded with
{"ok": false, "error": "StorageUnavailable"} and could not tell a catalog out of reach from one
another program holds locked (catalog_busy) or a disk gone. It now gives the reason for every
caller, as the storage part does, and the served document's Health schema names it.

A real PostgreSQL catalog behind a proxy the test cuts (refused connections), real HTTP."""

from __future__ import annotations

from pathlib import Path

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.faults import CuttableProxy, wait_for
from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, make_tokens, server_config


def test_health_gives_the_reason_of_a_catalog_out_of_reach(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    database = fresh_database(postgres_url, "health_reason")
    host_port = database.rsplit("@", 1)[1].split("/", 1)[0]
    proxy = CuttableProxy.in_front_of(f"http://{host_port}")
    through = database.replace(host_port, f"127.0.0.1:{proxy.port}")
    lib = Library.open(make_settings(tmp_path, database_url=f"{through}?connect_timeout=2"))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    cut = False
    try:
        admin = make_tokens(lib).admin
        health = f"{server.url}/health"
        assert http_call(health).status == 200
        proxy.cut()
        cut = True
        for headers in ({}, bearer(admin)):  # a monitor without a token reads it too
            answer = http_call(health, headers=headers)
            assert answer.status == 503, answer.body
            part = answer.json()["database"]
            assert part["ok"] is False and part["reason"] == "catalog_unreachable", part
            assert "Retry-After" in answer.headers
        proxy.restore()
        cut = False
        wait_for(lambda: http_call(health).status == 200, what="the catalog back")
        spec = http_call(f"{server.url}/openapi.json").json()["components"]["schemas"]
        reasons = spec["Health"]["properties"]["database"]["properties"]["reason"]["enum"]
        assert {"catalog_unreachable", "catalog_busy", "catalog_upgraded"} <= set(reasons)
    finally:
        if cut:
            proxy.restore()
        server.stop()
        lib.close()
        proxy.close()
