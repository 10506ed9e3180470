"""The served OpenAPI document's words for a tus PATCH's 409 offset_mismatch (Error.code's line,
from server/error_codes.py, and the PATCH's own 409) said the offset is "the bytes in the bucket
when the rest waits on another server": since 952f2d5 true on R2/S3 only. On local storage the
offset is the bytes this server holds, the rest received into another data folder (another
server's, or this one's before the folder moved), and there may be no bucket and no team
(tests/test_tus_moved_folder.py makes that 409). Real HTTP over loopback."""

from __future__ import annotations

from server.entry import EmbeddedServer
from tests.server_fixtures import http_call


def test_the_offset_mismatch_words_name_local_storage_and_r2_s3(live: EmbeddedServer) -> None:
    spec = http_call(f"{live.url}/openapi.json").json()
    described = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
    [line] = [
        line
        for line in described["code"]["description"].splitlines()
        if line.startswith("- `offset_mismatch` ")
    ]
    patch = spec["paths"]["/files/upload/tus/{upload_id}"]["patch"]["responses"]["409"]
    for words in (line, patch["description"]):
        assert "waits on another server" not in words, words
        assert "another data folder" in words and "the bytes this server holds" in words, words
        assert "on R2/S3 those in the bucket" in words, words
