"""The served OpenAPI document tells the 404 of an HLS ladder or scrub track not made yet
(reason not_ready, 8a443d7) as the server answers it: the five operations' 404 and their
descriptions name the reason and its details, Error.reason lists it among its examples, and
each detail of a real answer is typed in Error.details with the type it has. Before, the
spec's text said only "404 until the video's job has made it". Real HTTP over loopback; the
server runs no video workers, so the video's jobs stay queued."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests import media
from tests.server_fixtures import bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(60)

NOT_READY_PATHS = (
    "/stream/{file_id}/hls/master.m3u8",
    "/stream/{file_id}/hls/{rung}/index.m3u8",
    "/stream/{file_id}/hls/{rung}/{segment}",
    "/stream/{file_id}/thumbnails/thumbnails.vtt",
    "/stream/{file_id}/thumbnails/sprite.jpg",
)
JSON_TYPES = {str: "string", int: "integer", type(None): "null"}


def _types(schema: dict[str, Any]) -> set[str]:
    kinds = schema.get("type")
    return set(kinds) if isinstance(kinds, list) else {kinds}


def test_a_real_not_ready_answer_is_the_one_the_spec_documents(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    spec = http_call(f"{live.url}/openapi.json").json()
    for path in NOT_READY_PATHS:
        for method in ("get", "head"):
            operation = spec["paths"][path][method]
            assert "reason not_ready" in operation["responses"]["404"]["description"], path
            for said in ("details.kind", "details.state", "details.job_id"):
                assert said in operation["description"], (path, method, said)
    error = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
    assert "not_ready" in error["reason"]["description"]
    declared = error["details"]["properties"]

    record = library.uploads.ingest(media.make_avi(tmp_path / "clip.avi", seconds=1), "video")
    read = bearer(make_tokens(library).read)
    for asked in ("hls/master.m3u8", "thumbnails/thumbnails.vtt"):
        reply = http_call(f"{live.url}/stream/{record.id}/{asked}", headers=read)
        assert reply.status == 404, reply.body
        answered = reply.json()["error"]
        assert answered["reason"] == "not_ready"
        assert set(answered["details"]) == {"kind", "state", "job_id"}
        for name, value in answered["details"].items():
            assert JSON_TYPES[type(value)] in _types(declared[name]), (name, value)
        assert "null" in _types(declared["state"]) and "null" in _types(declared["job_id"])
