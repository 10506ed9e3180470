"""POST /files/{id}/reprocess of a file whose upload is not done: one 400 sentence for a video
and a photo (they said 'File N is not ready (status pending)' and 'File N is not ready')."""

from __future__ import annotations

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.server_fixtures import Tokens, bearer, http_call

pytestmark = pytest.mark.timeout(60)


def test_a_pending_video_and_photo_are_refused_alike(
    library: Library, live: EmbeddedServer, tokens: Tokens
) -> None:
    messages = {}
    for name, kind, ctype in (("v.mp4", "video", "video/mp4"), ("p.jpg", "image", "image/jpeg")):
        pending = library.uploads.create_presigned_upload(name, kind, content_type=ctype).file
        reply = http_call(
            f"{live.url}/files/{pending.id}/reprocess", "POST", headers=bearer(tokens.admin)
        )
        assert reply.status == 400, reply.body
        error = reply.json()["error"]
        assert error["code"] == "invalid_input", error
        messages[kind] = error["message"].replace(str(pending.id), "N")
    assert messages["video"] == messages["image"] == "File N is not ready (status pending)"
