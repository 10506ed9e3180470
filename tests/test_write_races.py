"""Simultaneous writes to one file through two servers on one catalog never answer 500.

Two Library instances (as two `mediadesk serve` processes would be: their own engines, pools
and edit locks) each behind a real EmbeddedServer, on one PostgreSQL (the throwaway cluster)
and on one SQLite data folder. Each round releases two HTTP requests together through a
barrier. What a user expects, round after round:
- trash ∥ trash: the file ends trashed, one 200 and one 409 already_trashed (a repeated trash);
- restore ∥ restore: likewise, 200 and 409 not_trashed;
- PATCH ∥ trash and PATCH ∥ PATCH without a version: both 200, both changes kept;
- two PATCHes naming the same version: one 200, the other 409 stale_version with the
  current version, as a sequential stale edit answers.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.internals import db_of
from tests.pg_server import postgres_url  # noqa: F401
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(180)
ROUNDS = 12


class Pair:
    def __init__(self, a: EmbeddedServer, b: EmbeddedServer, token: str, file_id: int) -> None:
        self.a, self.b, self.token, self.file_id = a, b, token, file_id

    def call(self, server: EmbeddedServer, method: str, suffix: str = "", **body: Any) -> Reply:
        headers = bearer(self.token)
        data = None
        if body:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        return http_call(f"{server.url}/files/{self.file_id}{suffix}", method, data, headers)

    def current(self) -> dict[str, Any]:
        reply = self.call(self.a, "GET")
        assert reply.status == 200, reply.body
        return dict(reply.json())


def together(*calls: Callable[[], Reply]) -> list[Reply]:
    """The calls' replies, the calls released at the same moment from their own threads."""
    barrier = threading.Barrier(len(calls))
    replies: list[Reply | None] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        replies[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert all(r is not None for r in replies)
    return [r for r in replies if r is not None]


def codes(replies: list[Reply]) -> list[tuple[int, str | None]]:
    """(status, reason) of each reply, in call order; a 500 fails with its body."""
    out = []
    for r in replies:
        assert r.status != 500, r.body
        out.append((r.status, r.json().get("error", {}).get("reason") if r.status >= 400 else None))
    return out


@pytest.fixture(params=["postgres", "sqlite"])
def pair(request: pytest.FixtureRequest, tmp_path: Path, media_dir: Any) -> Iterator[Pair]:
    data = tmp_path / "shared"
    data.mkdir()
    extra: dict[str, object] = {}
    if request.param == "postgres":
        extra["database_url"] = request.getfixturevalue("postgres_url")
    first = Library.open(make_settings(data, **extra))
    if request.param == "postgres":  # the tests share the cluster's database
        with db_of(first).write() as s:
            s.execute(text("TRUNCATE media_files, athletes RESTART IDENTITY CASCADE"))
    second = Library.open(make_settings(data, **extra))
    servers = [EmbeddedServer(lib, config=server_config(lib)) for lib in (first, second)]
    try:
        for server in servers:
            server.start()
        record = first.uploads.ingest(media_dir.jpeg, "image", athlete_id=4)
        yield Pair(servers[0], servers[1], make_tokens(first).upload, record.id)
    finally:
        for server in servers:
            server.stop()
        second.close()
        first.close()


def test_trash_and_restore_racing_themselves(pair: Pair) -> None:
    for _ in range(ROUNDS):
        trashed = codes(
            together(partial(pair.call, pair.a, "DELETE"), partial(pair.call, pair.b, "DELETE"))
        )
        assert sorted(trashed) == [(200, None), (409, "already_trashed")]
        assert pair.current()["deleted_at"] is not None
        restored = codes(
            together(
                partial(pair.call, pair.b, "POST", "/restore"),
                partial(pair.call, pair.a, "POST", "/restore"),
            )
        )
        assert sorted(restored) == [(200, None), (409, "not_trashed")]
        assert pair.current()["deleted_at"] is None


def test_edits_without_a_version_are_applied_again_after_a_lost_race(pair: Pair) -> None:
    for i in range(ROUNDS):
        public = i % 2 == 0
        replies = codes(
            together(
                partial(pair.call, pair.a, "PATCH", description=f"round {i}"),
                partial(pair.call, pair.b, "PATCH", is_public=public),
            )
        )
        assert replies == [(200, None), (200, None)]
        now = pair.current()
        assert (now["description"], now["is_public"]) == (f"round {i}", public)
        # an edit racing a trash: both orders end with both applied
        replies = codes(
            together(
                partial(pair.call, pair.a, "PATCH", description=f"trashed {i}"),
                partial(pair.call, pair.b, "DELETE"),
            )
        )
        assert replies == [(200, None), (200, None)]
        now = pair.current()
        assert now["description"] == f"trashed {i}" and now["deleted_at"] is not None
        assert pair.call(pair.a, "POST", "/restore").status == 200


def test_edits_naming_the_same_version_one_wins_the_other_is_stale(pair: Pair) -> None:
    for i in range(ROUNDS):
        version = pair.current()["version"]
        replies = together(
            partial(pair.call, pair.a, "PATCH", description=f"A {i}", version=version),
            partial(pair.call, pair.b, "PATCH", description=f"B {i}", version=version),
        )
        assert sorted(codes(replies)) == [(200, None), (409, "stale_version")]
        won = next(r for r in replies if r.status == 200).json()
        lost = next(r for r in replies if r.status == 409).json()["error"]
        # what the desktop's Reload/Overwrite dialog reads: the version that won
        assert lost["details"]["version"] == won["version"] == version + 1
        assert pair.current()["description"] == won["description"]
        # a versioned edit racing a trash: as the two orders would answer one after the other
        version = won["version"]
        replies = together(
            partial(pair.call, pair.a, "PATCH", description=f"V {i}", version=version),
            partial(pair.call, pair.b, "DELETE"),
        )
        edit, trash = codes(replies)
        assert trash == (200, None)
        assert edit in ((200, None), (409, "stale_version"))
        now = pair.current()
        assert now["deleted_at"] is not None
        assert (now["description"] == f"V {i}") == (edit[0] == 200)
        assert pair.call(pair.a, "POST", "/restore").status == 200
