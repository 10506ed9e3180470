"""A file the catalog lists whose stored copy is gone (deleted outside MediaDesk, a bad restore)
answers 404 `not_found` with reason `object_missing` and one sentence on every backend.

Before, the 404's message was what was left of the storage's own words once the key was taken
out: "No object in local storage" on one backend, "No object in any storage" on the other, and
no reason a client could choose its own sentence by (the desktop has one for it)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from server.errors import OBJECT_MISSING_MESSAGE
from tests.internals import storage_of
from tests.media_fixtures import MediaSet
from tests.server_fixtures import bearer, http_call, make_tokens, server_config, upload_file

pytestmark = pytest.mark.timeout(60)


def test_a_missing_stored_copy_is_said_alike_on_both_backends(
    any_library: Library, media_dir: MediaSet
) -> None:
    lib = any_library
    token = make_tokens(lib).upload
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        made: dict[str, Any] = upload_file(server, token, media_dir.jpeg)
        key = lib.get_file(made["id"]).storage_key
        storage_of(lib).delete(key)  # behind the catalog's back
        paths = [f"/stream/{made['id']}/raw", f"/stream/{made['id']}/image?w=320"]
        link = http_call(f"{server.url}/files/{made['id']}/download", "GET", None, bearer(token))
        assert link.status == 302, link.body
        if link.headers["Location"].startswith(f"{server.url}/signed/"):  # R2 answers its own
            paths.append(link.headers["Location"].removeprefix(server.url))
        for path in paths:
            reply = http_call(f"{server.url}{path}", "GET", None, bearer(token))
            assert reply.status == 404, (path, reply.body)
            error = json.loads(reply.body)["error"]
            assert error["code"] == "not_found"
            assert error["reason"] == "object_missing", error
            assert error["message"] == OBJECT_MISSING_MESSAGE
            assert key not in reply.body.decode()
        # the row itself is still there: its metadata answers
        assert (
            http_call(f"{server.url}/files/{made['id']}", "GET", None, bearer(token)).status == 200
        )
    finally:
        server.stop()
