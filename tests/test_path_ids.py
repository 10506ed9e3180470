"""An id in a path has one spelling: ASCII digits, no sign, no leading zero.

int() read "/athletes/+1", "/files/01", full-width "/files/１" and Arabic-Indic "/files/١" as
id 1 and acted on it. Every route with an id in its path reads it through server.params.path_id:
any other spelling is the 400 `invalid_input` a non-numeric id always got. Real server over
loopback, real catalog.
"""

from __future__ import annotations

from urllib.parse import quote

from core.library import Library
from server.entry import EmbeddedServer
from tests.media_fixtures import MediaSet
from tests.server_fixtures import Tokens, bearer, http_call

# each would be read as 1 (or 10) by int(); the last two are out of range or absurdly long
NOT_CANONICAL = [
    "+1",
    "01",
    "001",
    " 1",
    "1 ",
    "1_0",
    "\uff11",
    "\u0661",
    "0",
    "2147483648",
    "9" * 5000,
]


def test_only_canonical_ids_reach_a_route(
    library: Library, live: EmbeddedServer, tokens: Tokens, media_dir: MediaSet
) -> None:
    rec = library.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    athlete = library.create_athlete("Ana")
    assert rec.id == athlete.id == 1  # so every spelling below would have named them
    h = {**bearer(tokens.admin), "Content-Type": "application/json"}
    routes = [
        ("GET", "/files/{}"),
        ("GET", "/files/{}/download"),
        ("GET", "/files/{}/presigned-url"),
        ("GET", "/stream/{}/info"),
        ("GET", "/stream/{}/raw"),
        ("GET", "/watch/{}"),
        ("GET", "/jobs/{}"),
        ("DELETE", "/files/{}"),
        ("PATCH", "/athletes/{}"),
    ]
    for method, route in routes:
        body = b'{"name": "Changed"}' if method == "PATCH" else None
        for raw in NOT_CANONICAL:
            reply = http_call(live.url + route.format(quote(raw)), method, body, h)
            assert reply.status == 400, (route, raw, reply.status)
            assert reply.json()["error"]["code"] == "invalid_input", (route, raw)
    # nothing was changed by those, and the canonical spelling still works
    assert not library.get_file(rec.id).is_trashed
    assert library.athletes()[0].name == "Ana"
    assert http_call(f"{live.url}/files/1", headers=h).json()["id"] == 1
    assert http_call(f"{live.url}/athletes/1", "PATCH", b'{"name": "Bea"}', h).status == 200
