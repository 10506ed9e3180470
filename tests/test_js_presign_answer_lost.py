"""mediadesk.js sends a presign again when its answer was lost (the server made the pending
upload, the connection dropped before the answer came): the server answers the same pending
upload again, so one file leaves one pending record.

An outside integrator's report: the retry after such a network error made a second pending
upload whose URL was never used, listed among the pending uploads until its presign expired.
A real Chromium and a real server; DevTools' Fetch domain drops the first presign's answer
after the server gave it, as a link lost at that moment does.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.browser import Tab, chromium_path
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.server_fixtures import make_tokens
from tests.test_form_filenames import Pictures
from tests.test_js_module import _upload

pytestmark = pytest.mark.timeout(60)
needs_chromium = pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed")


class LostAnswer(Tab):
    """Fails the first presign's request once the server has answered it (Fetch's response
    stage): the page sees a network error, the server has acted."""

    def __init__(self, executable: str) -> None:
        super().__init__(executable)
        self.presigns = 0

    async def intercept(self) -> None:
        await self.send(
            "Fetch.enable",
            patterns=[{"urlPattern": "*/files/upload/presigned", "requestStage": "Response"}],
        )

    def on_event(self, message: dict[str, Any]) -> None:
        if message.get("method") != "Fetch.requestPaused":
            return
        event = message["params"]
        reply: dict[str, Any] = {"requestId": event["requestId"]}
        method = "Fetch.continueRequest"
        if event["request"]["method"] == "POST":
            self.presigns += 1
            if self.presigns == 1:
                method = "Fetch.failRequest"
                reply["errorReason"] = "ConnectionReset"
        self.send_later(method, **reply)


@needs_chromium
async def test_a_presign_whose_answer_was_lost_is_answered_with_the_same_pending_upload(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    token = make_tokens(library).upload
    async with LostAnswer(chromium_path() or "") as browser:
        await browser.goto(f"{live.url}/upload-demo")
        await browser.intercept()
        result = await _upload(
            browser, live.url, Pictures(tmp_path).next(), "lap.jpg", "image/jpeg", token
        )
    assert "error" not in result, result
    assert browser.presigns == 2  # the lost one and its retry
    assert result["stored"]["status"] == "ready"
    assert library.list_files(status="pending").total == 0
    assert library.list_files(status="ready").total == 1


async def test_the_key_answers_only_its_own_tokens_pending_upload_of_that_size(
    api: Any, library: Library
) -> None:
    """The key names one token's pending upload: another token's presign with it gets an upload
    of its own, the same key for another size is a 409, and once the upload is stored (or gone)
    the key makes a new one."""
    tokens = make_tokens(library)
    form = {"original_filename": "a.jpg", "file_type": "image", "size": 10, "idempotency_key": "k1"}

    async def presign(token: str, **changes: Any) -> tuple[int, dict[str, Any]]:
        resp = await api.post(
            "/files/upload/presigned",
            json={**form, **changes},
            headers={"Authorization": f"Bearer {token}"},
        )
        return resp.status, await resp.json()

    status, first = await presign(tokens.upload)
    assert status == 201
    status, again = await presign(tokens.upload)
    assert (status, again["file_id"]) == (201, first["file_id"])
    assert again["upload_url"] and again["file"]["status"] == "pending"
    assert "presign_key" not in again["file"].get("extra", {})
    status, other = await presign(tokens.admin)
    assert status == 201 and other["file_id"] != first["file_id"]
    status, refused = await presign(tokens.upload, size=11)
    assert (status, refused["error"]["code"]) == (409, "conflict")
    assert refused["error"]["reason"] == "idempotency_key_reused"
    assert refused["error"]["details"] == {"file_id": first["file_id"]}
    resp = await api.delete(
        f"/files/{first['file_id']}", headers={"Authorization": f"Bearer {tokens.admin}"}
    )
    assert resp.status in (200, 204)
    status, fresh = await presign(tokens.upload)
    assert status == 201 and fresh["file_id"] not in (first["file_id"], other["file_id"])


def test_the_key_is_found_in_a_postgresql_catalog(pg_library: Library) -> None:
    """The key is looked up in the row's JSON (extra): PostgreSQL's ->> as SQLite's
    json_extract."""
    fields = {"original_filename": "a.jpg", "file_type": "image", "owner": "token:1"}
    upload, _ = pg_library.presign_upload(False, 10, idempotency_key="k2", **fields)
    again = pg_library.presign_again("k2", "token:1", 10)
    assert again is not None and again[0].id == upload.file.id
    assert pg_library.presign_again("k2", "token:2", 10) is None
    assert pg_library.presign_again("k3", "token:1", 10) is None
