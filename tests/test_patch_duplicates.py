"""A PATCH of athlete_id or is_public that would make a ready file the duplicate of another
(the same bytes for the same athlete and is_public: README, "Duplicates keep their id") is
refused, 409 conflict with reason duplicate and details.duplicate_of naming that file, and
changes nothing; the library never holds the same bytes twice as two ready files. Real HTTP
over loopback on a real SQLite catalog."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.errors import Conflict
from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.server_fixtures import Reply, Tokens, bearer, http_call, make_tokens, server_config


@pytest.fixture
def served(data_dir: Path) -> Iterator[tuple[Library, EmbeddedServer, Tokens]]:
    lib = Library.open(make_settings(data_dir))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield lib, server, make_tokens(lib)
    finally:
        server.stop()
        lib.close()


def _patch(server: EmbeddedServer, token: str, file_id: int, body: dict[str, Any]) -> Reply:
    headers = {**bearer(token), "Content-Type": "application/json"}
    return http_call(f"{server.url}/files/{file_id}", "PATCH", json.dumps(body).encode(), headers)


def _refused(reply: Reply, duplicate_of: int) -> None:
    assert reply.status == 409, reply.body
    error = reply.json()["error"]
    assert error["code"] == "conflict" and error["reason"] == "duplicate", error
    assert error["details"]["duplicate_of"] == duplicate_of


def _ready_with(lib: Library, sha: str) -> list[tuple[int | None, bool]]:
    return sorted(
        (r.athlete_id or 0, r.is_public)
        for r in lib.list_files(limit=100).items
        if r.sha256 == sha and r.status == "ready"
    )


def test_moving_a_file_to_the_athlete_of_its_duplicate_is_refused(
    served: tuple[Library, EmbeddedServer, Tokens], media_dir: Any
) -> None:
    """Was 200: two ready files of the same bytes for athlete 1."""
    lib, server, tokens = served
    first = lib.uploads.ingest(media_dir.png, "image", athlete_id=1)
    second = lib.uploads.ingest(media_dir.png, "image", athlete_id=2, description="mine")
    assert second.id != first.id  # another athlete's: a file of its own, sharing the object
    _refused(_patch(server, tokens.upload, second.id, {"athlete_id": 1}), first.id)
    kept = lib.get_file(second.id)
    assert (kept.athlete_id, kept.storage_key, kept.version) == (
        2,
        second.storage_key,
        second.version,
    )
    assert _ready_with(lib, first.sha256 or "") == [(1, False), (2, False)]
    # a move that keeps the rule still goes, object and all
    moved = _patch(server, tokens.upload, second.id, {"athlete_id": 3, "description": "x"})
    assert moved.status == 200, moved.body
    assert lib.read_object(lib.get_file(second.id).storage_key) == media_dir.png.read_bytes()


def test_making_a_file_public_like_its_duplicate_is_refused(
    served: tuple[Library, EmbeddedServer, Tokens], media_dir: Any
) -> None:
    lib, server, tokens = served
    public = lib.uploads.ingest(media_dir.png, "image", athlete_id=1, is_public=True)
    private = lib.uploads.ingest(media_dir.png, "image", athlete_id=1)
    _refused(_patch(server, tokens.upload, private.id, {"is_public": True}), public.id)
    assert not lib.get_file(private.id).is_public
    # both fields at once, into the other's place, through the library as the desktop edits
    other = lib.uploads.ingest(media_dir.png, "image", athlete_id=2)
    with pytest.raises(Conflict) as refused:
        lib.update_file(other.id, {"athlete_id": 1, "is_public": True})
    assert refused.value.reason == "duplicate"
    # and the athlete asked for, which the desktop names (none: "without an athlete")
    assert refused.value.details == {"duplicate_of": public.id, "athlete_id": 1}
    assert _ready_with(lib, public.sha256 or "") == [(1, False), (1, True), (2, False)]


def test_a_file_in_the_trash_may_take_the_athlete_of_its_duplicate(
    served: tuple[Library, EmbeddedServer, Tokens], media_dir: Any
) -> None:
    """A file in the trash is no file an upload is answered with: its edit goes, and its
    restore later merges it into the ready one, as README says."""
    lib, server, tokens = served
    first = lib.uploads.ingest(media_dir.png, "image", athlete_id=1)
    second = lib.uploads.ingest(media_dir.png, "image", athlete_id=2)
    lib.trash(second.id)
    assert _patch(server, tokens.upload, second.id, {"athlete_id": 1}).status == 200
    restored = http_call(
        f"{server.url}/files/{second.id}/restore", "POST", headers=bearer(tokens.upload)
    )
    assert restored.status == 200, restored.body
    assert restored.json()["duplicate_of"] == first.id
    assert _ready_with(lib, first.sha256 or "") == [(1, False)]
