"""/health's database part named a Python class during a catalog outage ("error":
"StorageNotAsked", "StorageUnavailable"), where its storage part says a sentence. It now says
what the catalog's error tells any request (admin) or the sentence any storage_unavailable
gives for its reason (other tokens: no path or host), and keeps the reason.

A real PostgreSQL catalog behind a proxy the test cuts (refused connections), real HTTP."""

from __future__ import annotations

from pathlib import Path

from core.errors import catalog_down
from server.errors import UNAVAILABLE_MESSAGES
from tests.faults import served_catalog_behind_proxy, wait_for
from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, make_tokens


def test_health_says_a_sentence_for_a_catalog_out_of_reach(
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    database = fresh_database(postgres_url, "health_sentence")
    with served_catalog_behind_proxy(database, tmp_path) as served:
        tokens = make_tokens(served.lib)
        health = f"{served.server.url}/health"
        for token in (tokens.admin, tokens.read):  # known before the outage (kept a while)
            assert http_call(health, headers=bearer(token)).status == 200
        served.cut()
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
            http_call(f"{served.server.url}/files/", headers=bearer(tokens.read))
        assert not any("Storage" in error for error in said), said
        served.restore()
        wait_for(lambda: http_call(health).status == 200, what="the catalog back")
