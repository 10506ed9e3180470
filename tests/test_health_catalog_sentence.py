"""/health's database part named a Python class during a catalog outage ("error":
"StorageNotAsked", "StorageUnavailable"), where its storage part says a sentence. It now says
what the catalog's error tells any request (admin) or the sentence any storage_unavailable
gives for its reason (other tokens: no path or host), and keeps the reason.

A real PostgreSQL catalog behind a proxy the test cuts (refused connections), real HTTP."""

from __future__ import annotations

from pathlib import Path

from core.errors import catalog_down
from core.library import Library
from server.entry import EmbeddedServer
from server.errors import UNAVAILABLE_MESSAGES
from tests.conftest import make_settings
from tests.faults import CuttableProxy, wait_for
from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, make_tokens, server_config


def test_health_says_a_sentence_for_a_catalog_out_of_reach(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    database = fresh_database(postgres_url, "health_sentence")
    host_port = database.rsplit("@", 1)[1].split("/", 1)[0]
    proxy = CuttableProxy.in_front_of(f"http://{host_port}")
    through = database.replace(host_port, f"127.0.0.1:{proxy.port}")
    lib = Library.open(make_settings(tmp_path, database_url=f"{through}?connect_timeout=2"))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    cut = False
    try:
        tokens = make_tokens(lib)
        health = f"{server.url}/health"
        for token in (tokens.admin, tokens.read):  # known before the outage (kept a while)
            assert http_call(health, headers=bearer(token)).status == 200
        proxy.cut()
        cut = True
        said = set()
        # the first check meets the outage (StorageUnavailable), the next ones are not asked
        # while it lasts (StorageNotAsked): both are told in words
        for _ in range(3):
            for token, sentence in (
                (tokens.admin, catalog_down().message),
                (tokens.read, UNAVAILABLE_MESSAGES["catalog_unreachable"]),
            ):
                answer = http_call(health, headers=bearer(token))
                assert answer.status == 503, answer.body
                part = answer.json()["database"]
                assert part == {
                    "ok": False,
                    "error": sentence,
                    "reason": "catalog_unreachable",
                }, part
                said.add(part["error"])
            http_call(f"{server.url}/files/", headers=bearer(tokens.read))
        assert not any("Storage" in error for error in said), said
        proxy.restore()
        cut = False
        wait_for(lambda: http_call(health).status == 200, what="the catalog back")
    finally:
        if cut:
            proxy.restore()
        server.stop()
        lib.close()
        proxy.close()
