"""A request whose parameters ask for more than its route's least scope is refused naming the
scope that request needs.

An outside tester's report: `DELETE /files/{id}?hard_delete=true` with a read token answered
403 insufficient_scope "This needs a token with scope 'upload'; yours has 'read'", and the same
request with an upload token then "... scope 'admin' ...": the route's own scope was checked
first and the hard delete's after it, while README and the OpenAPI spec say a hard delete needs
admin. Real HTTP over loopback, real catalog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.server_fixtures import bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(60)


def refusal(url: str, token: str) -> tuple[int, Any]:
    reply = http_call(url, "DELETE", headers=bearer(token))
    return reply.status, reply.json()


def test_a_hard_delete_names_admin_to_every_token_short_of_it(
    live: EmbeddedServer, library: Library, media_dir: Any
) -> None:
    tokens = make_tokens(library)
    stored = library.uploads.ingest(Path(media_dir.png), "image", original_filename="b.png")
    for asked in ("true", "1", "yes"):
        url = f"{live.url}/files/{stored.id}?hard_delete={asked}"
        for token, scope in ((tokens.read, "read"), (tokens.upload, "upload")):
            status, body = refusal(url, token)
            assert status == 403, body
            assert body["error"]["code"] == "insufficient_scope"
            assert body["error"]["message"] == (
                f"This needs a token with scope 'admin'; yours has {scope!r}"
            ), (asked, scope)
    assert not library.get_file(stored.id).is_trashed  # nothing done so far

    # the trash itself still needs upload only, and a read token is told so
    status, body = refusal(f"{live.url}/files/{stored.id}?hard_delete=false", tokens.read)
    assert (status, body["error"]["message"]) == (
        403,
        "This needs a token with scope 'upload'; yours has 'read'",
    )
    # a value that is no yes or no is the route's 400 for a token that may delete
    status, body = refusal(f"{live.url}/files/{stored.id}?hard_delete=maybe", tokens.upload)
    assert (status, body["error"]["code"]) == (400, "invalid_input"), body
    status, body = refusal(f"{live.url}/files/{stored.id}?hard_delete=maybe", tokens.read)
    assert (status, body["error"]["code"]) == (403, "insufficient_scope"), body

    status, body = refusal(f"{live.url}/files/{stored.id}?hard_delete=true", tokens.admin)
    assert status == 200 and body["hard_delete"] is True, body
    assert http_call(f"{live.url}/files/{stored.id}", headers=bearer(tokens.admin)).status == 404


def test_without_a_token_a_hard_delete_asks_for_one(
    live: EmbeddedServer, library: Library, media_dir: Any
) -> None:
    stored = library.uploads.ingest(Path(media_dir.png), "image", original_filename="c.png")
    reply = http_call(f"{live.url}/files/{stored.id}?hard_delete=true", "DELETE")
    assert reply.status == 401 and reply.json()["error"]["code"] == "unauthorized", reply.json()
