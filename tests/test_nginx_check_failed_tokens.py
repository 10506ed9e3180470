"""Failed tokens in nginx's check subrequests (X-MediaDesk-Check, MEDIADESK_ACCEL_REDIRECT)
count toward the failed-authentication limit, once per guess.

A security tester's report: the server left every failure of a request marked as nginx's
check uncounted (nginx passes a refused check on in full, and that request counted it). The
mark is a plain request header: a client that reaches the server without nginx (one bound to
a LAN address, a second route in) sent it with each guess and guessed tokens unthrottled, the
check's 200 or 403 telling it each guess right or wrong. Over real HTTP: the server alone,
then behind the README's nginx site, where a guess still counts once, not twice.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from core.library import Library
from server.entry import EmbeddedServer
from server.nginx_conf import CHECK_HEADER
from tests.server_fixtures import bearer, http_call, make_tokens, server_config
from tests.test_team_nginx import nginx_in_front

LIMIT = 3


def test_guesses_marked_as_nginx_checks_are_counted(library: Library, media_dir: Any) -> None:
    config = server_config(library, accel_redirect="/_protected/", auth_failure_limit=LIMIT)
    record = library.uploads.ingest(media_dir.jpeg, "image", is_public=False)
    good = make_tokens(library).read
    path = f"/stream/{record.id}/raw"
    with EmbeddedServer(library, config=config) as server:
        for n in range(LIMIT):
            guess = http_call(
                server.url + path, headers={**bearer(f"mdk_guess{n}"), CHECK_HEADER: "GET"}
            )
            assert guess.status == 403  # nginx's "answer it in full"
        # blocked: a valid token too is refused while the block lasts
        blocked = http_call(server.url + path, headers={**bearer(good), CHECK_HEADER: "GET"})
        assert blocked.status == 403
        plain = http_call(server.url + path, headers=bearer(good))
        assert plain.status == 429, (plain.status, plain.body[:200])


def test_a_guess_through_nginx_counts_once(
    library: Library, tmp_path: Path, media_dir: Any
) -> None:
    record = library.uploads.ingest(media_dir.jpeg, "image", is_public=False)
    good = make_tokens(library).read
    path = f"/stream/{record.id}/raw"
    with nginx_in_front(library, tmp_path, auth_failure_limit=LIMIT) as (front, _server):
        for n in range(LIMIT - 1):
            # nginx's check fails, then nginx passes the request on in full: one failure
            assert http_call(front + path, headers=bearer(f"mdk_guess{n}")).status == 401
        reply = http_call(front + path, headers=bearer(good))
        assert reply.status == 200, (reply.status, reply.body[:200])
        # the guess that reaches the limit blocks in the check: its pass in full is refused
        assert http_call(front + path, headers=bearer("mdk_guess_last")).status == 429
        # (a range: not the shape whose 200 nginx keeps for the rest of the half-second)
        blocked = http_call(front + path, headers={**bearer(good), "Range": "bytes=0-9"})
        assert blocked.status == 429, (blocked.status, blocked.body[:200])
