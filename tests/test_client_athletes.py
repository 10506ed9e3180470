"""The Python client creates and renames athletes as the HTTP API does (POST /athletes,
PATCH /athletes/{id}), with the server's codes in ClientError.

An integrator's report: Client listed athletes but could neither create nor rename one, so a
script importing a roster had to leave the client for raw HTTP. Real server, real HTTP.
"""

from __future__ import annotations

import pytest

from core.library import Library
from server.client import Client, ClientError
from server.entry import EmbeddedServer
from tests.server_fixtures import make_tokens

pytestmark = pytest.mark.timeout(60)


def test_create_and_rename_athletes_with_the_servers_conflicts(
    live: EmbeddedServer, library: Library
) -> None:
    tokens = make_tokens(library)
    with Client(live.url, tokens.upload, retries=0) as md:
        ana = md.create_athlete("Ana Torres")
        assert ana["name"] == "Ana Torres" and ana["file_count"] == ana["trash_count"] == 0
        luis = md.create_athlete("Luis Gil", athlete_id=40)
        assert luis["id"] == 40
        listed = {a["id"]: a["name"] for a in md.athletes()["items"]}
        assert listed[ana["id"]] == "Ana Torres" and listed[40] == "Luis Gil"

        with pytest.raises(ClientError) as taken:
            md.create_athlete("Ana Torres")
        err = taken.value
        assert (err.status, err.code, err.reason) == (409, "conflict", "athlete_exists")
        assert err.details["athlete_id"] == ana["id"]

        with pytest.raises(ClientError) as held:
            md.create_athlete("Marta Ruiz", athlete_id=40)
        assert held.value.reason == "athlete_id_taken"
        assert held.value.details["athlete_id"] == 40

        renamed = md.rename_athlete(ana["id"], "Ana Torres Vidal")
        assert renamed["id"] == ana["id"] and renamed["name"] == "Ana Torres Vidal"
        assert md.rename_athlete(ana["id"], "Ana Torres Vidal")["name"] == "Ana Torres Vidal"

        with pytest.raises(ClientError) as clash:
            md.rename_athlete(ana["id"], "Luis Gil")
        assert (clash.value.code, clash.value.reason) == ("conflict", "athlete_exists")
        assert clash.value.details["athlete_id"] == 40

        with pytest.raises(ClientError) as unknown:
            md.rename_athlete(999, "Nadie")
        assert (unknown.value.status, unknown.value.code) == (404, "not_found")

    with Client(live.url, tokens.read, retries=0) as reader:
        with pytest.raises(ClientError) as scope:
            reader.create_athlete("Sofía Vega")
        assert scope.value.code == "insufficient_scope"
    assert "Sofía Vega" not in {a.name for a in library.athletes()}
