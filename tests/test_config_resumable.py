"""GET /config's `resumable.parts` says whether presigned uploads in parts work here: false on
local storage (presign multipart=true is a 400 there), true on R2/S3. Real HTTP over loopback;
S3 is moto's server (tests/s3_server.py)."""

from __future__ import annotations

import json

import pytest

from server.entry import EmbeddedServer
from tests.server_fixtures import Reply, bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(90)


def _presign_in_parts(server: EmbeddedServer) -> Reply:
    token = make_tokens(server.library).upload
    body = {
        "original_filename": "big.mp4",
        "file_type": "video",
        "size": 12 * 1024 * 1024,
        "multipart": True,
    }
    return http_call(
        f"{server.url}/files/upload/presigned",
        "POST",
        json.dumps(body).encode(),
        {"Content-Type": "application/json", **bearer(token)},
    )


def test_local_storage_offers_no_presigned_parts(live: EmbeddedServer) -> None:
    config = http_call(f"{live.url}/config").json()
    assert config["storage"] == "local"
    assert http_call(f"{live.url}/health").json()["storage"]["backend"] == "local"
    assert config["resumable"]["parts"] is False
    assert config["resumable"]["tus"] is True and config["resumable"]["renew"] is True
    refused = _presign_in_parts(live)
    assert refused.status == 400 and "R2/S3" in refused.json()["error"]["message"]


def test_s3_storage_offers_presigned_parts(s3_live: EmbeddedServer) -> None:
    config = http_call(f"{s3_live.url}/config").json()
    assert config["storage"] == "r2"
    # /health said "s3" (the store's class), every other place "r2"
    assert http_call(f"{s3_live.url}/health").json()["storage"]["backend"] == "r2"
    assert config["resumable"]["parts"] is True
    started = _presign_in_parts(s3_live)
    assert started.status == 201, started.body
    assert started.json()["parts"]  # signed part URLs
