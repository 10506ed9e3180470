"""A query parameter given twice over real HTTP: a 400 naming it, never its first value read."""

from __future__ import annotations

import pytest

from server.entry import EmbeddedServer
from tests.server_fixtures import Tokens, bearer, http_call

pytestmark = pytest.mark.timeout(60)


def _refused(live: EmbeddedServer, token: str, path: str, name: str) -> None:
    reply = http_call(f"{live.url}{path}", headers=bearer(token))
    assert reply.status == 400, (path, reply.body)
    error = reply.json()["error"]
    assert error["code"] == "invalid_input" and repr(name) in error["message"], error


def test_repeated_query_parameters_are_refused(live: EmbeddedServer, tokens: Tokens) -> None:
    """Were 200 with the first value (athlete 7 listed alone; history_days=2&history_days=abc
    answered, the reverse order refused)."""
    _refused(live, tokens.read, "/files?athlete_id=7&athlete_id=8", "athlete_id")
    _refused(live, tokens.read, "/files/?limit=5&q=a&limit=5", "limit")
    _refused(live, tokens.read, "/files?trash=1&trash=0", "trash")  # trashed's alias
    _refused(live, tokens.admin, "/usage?history_days=2&history_days=abc", "history_days")
    _refused(live, tokens.admin, "/usage?history_days=abc&history_days=2", "history_days")
    # a parameter no route reads is left as it comes, repeated or not
    for path in ("/files?athlete_id=7&utm=a&utm=b", "/usage?_=1&_=2"):
        assert http_call(f"{live.url}{path}", headers=bearer(tokens.admin)).status == 200, path
