"""A renewed presigned upload URL signs Content-Type by the presign's rule: a bucket's URL
(R2/S3) checks a signed type byte for byte, and the catalog keeps the canonical type, not the
spelling the client's PUT sends (a browser's file.type: video/avi for .avi on Windows)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from server.entry import EmbeddedServer
from tests.server_fixtures import bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(120)


def _signed_headers(url: str) -> list[str]:
    return parse_qs(urlsplit(url).query)["X-Amz-SignedHeaders"][0].split(";")


@pytest.mark.parametrize("named", [None, "video/avi"])
def test_a_renewed_bucket_url_takes_the_browsers_spelling_of_the_type(
    s3_live: EmbeddedServer, media_dir: Any, named: str | None
) -> None:
    lib, url = s3_live.library, s3_live.url
    up = {**bearer(make_tokens(lib).upload), "Content-Type": "application/json"}
    ask: dict[str, Any] = {"original_filename": "clip.avi", "file_type": "video"}
    if named:
        ask["content_type"] = named
    first = http_call(f"{url}/files/upload/presigned", "POST", json.dumps(ask).encode(), up)
    assert first.status == 201, first.body
    fid = first.json()["file_id"]
    renewed = http_call(f"{url}/files/{fid}/upload/renew", "POST", headers=up)
    assert renewed.status == 200, renewed.body
    again = renewed.json()
    # the catalog keeps video/x-msvideo: signing it refused the PUT of "video/avi"
    assert "content-type" not in _signed_headers(again["upload_url"]), again["upload_url"]
    assert "Content-Type" not in again["headers"]
    data = media_dir.avi.read_bytes()
    put = http_call(
        again["upload_url"], "PUT", data, {**again["headers"], "Content-Type": "video/avi"}
    )
    assert put.status == 200, put.body
    done = http_call(f"{url}/files/{fid}/confirm-upload", "POST", b"", up)
    assert done.status == 200, done.body
    assert done.json()["content_type"] == "video/x-msvideo"


def test_a_renewed_local_url_signs_no_type_as_the_first(live: EmbeddedServer) -> None:
    """A local presign without content_type signs no type (a browser's file.type may be any
    spelling, or empty): its renewal signed the file's, and a PUT that the first URL took was
    refused with the renewed one."""
    up = {**bearer(make_tokens(live.library).upload), "Content-Type": "application/json"}
    ask = {"original_filename": "clip.avi", "file_type": "video"}
    first = http_call(f"{live.url}/files/upload/presigned", "POST", json.dumps(ask).encode(), up)
    assert first.status == 201, first.body
    fid = first.json()["file_id"]
    renewed = http_call(f"{live.url}/files/{fid}/upload/renew", "POST", headers=up)
    assert renewed.status == 200, renewed.body
    assert first.json()["headers"].get("Content-Type") is None
    assert renewed.json()["headers"].get("Content-Type") is None
