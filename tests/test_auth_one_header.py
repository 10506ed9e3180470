"""A request with two Authorization headers is refused (401 invalid_token), whichever comes
first.

Found by an outside security run: the first header counted, so a bad token then a good one was
refused and a good one then a bad one let in: which credential a request carried was the order's
choice (a proxy adding its own header beside the client's). Real HTTP over loopback, the
headers written one by one."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import pytest

from server.entry import EmbeddedServer
from tests.server_fixtures import Tokens

pytestmark = pytest.mark.timeout(60)


def _get(url: str, *authorizations: str) -> tuple[int, dict[str, str]]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.putrequest("GET", "/files")
        for value in authorizations:
            conn.putheader("Authorization", value)
        conn.endheaders()
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read()).get("error", {})
    finally:
        conn.close()


def test_two_authorization_headers_are_refused_in_either_order(
    live: EmbeddedServer, tokens: Tokens
) -> None:
    good, bad = f"Bearer {tokens.read}", "Bearer mdk_not_a_token"
    assert _get(live.url, good)[0] == 200
    for pair in ((bad, good), (good, bad), (good, good)):
        status, error = _get(live.url, *pair)
        assert status == 401, pair
        assert error["code"] == "invalid_token"
        assert error["message"].startswith("Send one Authorization header"), error
