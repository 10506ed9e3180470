"""If-Match on DELETE (trash and hard delete) and on restore is checked on the row the write
changes, as PATCH's is: a change another server commits after the request was received (its
version read) but before the write is seen, 412, and the file is left as that change made it.
Real HTTP over loopback; the other server is a second Library on the same SQLite catalog."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.internals import edit_locks_of, lock_users
from tests.server_fixtures import Reply, Tokens, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def served(data_dir: Path) -> Iterator[tuple[Library, Library, EmbeddedServer, Tokens]]:
    lib = Library.open(make_settings(data_dir))
    other = Library.open(make_settings(data_dir))  # another server on the same catalog
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield lib, other, server, make_tokens(lib)
    finally:
        server.stop()
        other.close()
        lib.close()


def _meanwhile(
    lib: Library, file_id: int, request: Callable[[], Reply], change: Callable[[], Any]
) -> Reply:
    """`request` sent, and `change` committed by the other server once the request has read
    the file's version and waits for the file's edit lock (held here until then)."""
    answer: list[Reply] = []
    locks = edit_locks_of(lib)
    with locks.hold(file_id):
        sender = threading.Thread(target=lambda: answer.append(request()))
        sender.start()
        deadline = time.monotonic() + 30
        while lock_users(locks, file_id) < 2:  # this test's hold and the request's wait
            assert time.monotonic() < deadline, "the request never reached its write"
            time.sleep(0.01)
        change()
    sender.join(30)
    return answer[0]


def _stale(reply: Reply, version: int) -> None:
    assert reply.status == 412, reply.body
    error = reply.json()["error"]
    assert error["code"] == "precondition_failed" and error["reason"] == "stale_version"
    assert error["details"]["version"] == version


@pytest.mark.parametrize("hard", [False, True])
def test_a_delete_sees_an_edit_committed_after_its_read(
    served: tuple[Library, Library, EmbeddedServer, Tokens], media_dir: Any, hard: bool
) -> None:
    """Was 200: the version was read before the write, in its own transaction."""
    lib, other, server, tokens = served
    record = lib.uploads.ingest(media_dir.png, "image")
    query = "?hard_delete=true" if hard else ""
    token = tokens.admin if hard else tokens.upload
    reply = _meanwhile(
        lib,
        record.id,
        lambda: http_call(
            f"{server.url}/files/{record.id}{query}",
            "DELETE",
            headers={**bearer(token), "If-Match": f'"{record.version}"'},
        ),
        lambda: other.update_file(record.id, {"description": "edited elsewhere"}),
    )
    _stale(reply, record.version + 1)
    kept = lib.get_file(record.id)
    assert not kept.is_trashed and kept.description == "edited elsewhere"
    assert lib.read_object(kept.storage_key) == media_dir.png.read_bytes()


def test_a_restore_sees_an_edit_committed_after_its_read(
    served: tuple[Library, Library, EmbeddedServer, Tokens], media_dir: Any
) -> None:
    lib, other, server, tokens = served
    record = lib.trash(lib.uploads.ingest(media_dir.png, "image").id)
    reply = _meanwhile(
        lib,
        record.id,
        lambda: http_call(
            f"{server.url}/files/{record.id}/restore",
            "POST",
            headers={**bearer(tokens.upload), "If-Match": f'"{record.version}"'},
        ),
        lambda: other.update_file(record.id, {"description": "edited elsewhere"}),
    )
    _stale(reply, record.version + 1)
    assert lib.get_file(record.id).is_trashed


def test_if_match_that_holds_on_the_row_deletes_and_restores(
    served: tuple[Library, Library, EmbeddedServer, Tokens], media_dir: Any
) -> None:
    """The version still the row's (a list naming it too): the write is done."""
    lib, _, server, tokens = served
    record = lib.uploads.ingest(media_dir.png, "image")
    auth = bearer(tokens.upload)
    trashed = http_call(
        f"{server.url}/files/{record.id}",
        "DELETE",
        headers={**auth, "If-Match": f'"999", "{record.version}"'},
    )
    assert trashed.status == 200, trashed.body
    version = lib.get_file(record.id).version
    restored = http_call(
        f"{server.url}/files/{record.id}/restore",
        "POST",
        headers={**auth, "If-Match": f'"{version}"'},
    )
    assert restored.status == 200, restored.body
    assert restored.headers["ETag"] == f'"{version + 1}"'
    gone = http_call(
        f"{server.url}/files/{record.id}?hard_delete=true",
        "DELETE",
        headers={**bearer(tokens.admin), "If-Match": f'"{version + 1}"'},
    )
    assert gone.status == 200, gone.body
    assert http_call(f"{server.url}/files/{record.id}", headers=auth).status == 404
