"""A bucket's refusal of a signed PUT reaches the user in the bucket's words.

An outside tester's report: when R2/S3 refused the client's PUT to a presigned URL (an expired
link, a signature the bucket would not take: its XML error document), `mediadesk upload` said
only "HTTP 403 Forbidden (http_403)" for a single PUT, and "Parts of match.mp4 could not be
uploaded (upload_failed)" for an upload in parts, nothing of the bucket's Code and Message.
A real server over moto's S3; the bucket's refusal is put on its answers to the PUTs.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from core.library import Library
from core.settings import Settings
from server.client import Client, ClientError
from server.entry import EmbeddedServer
from tests.conftest import make_s3_settings
from tests.s3_server import S3Target
from tests.server_fixtures import make_tokens
from tests.test_client_net import MiB, big_video

pytestmark = pytest.mark.timeout(60)

REFUSAL = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>'
    b"<Message>The request signature we calculated does not match the signature you "
    b"provided. Check your key &amp; signing method.</Message></Error>"
)


@pytest.fixture
def s3_settings(data_dir: Path, s3_bucket: S3Target) -> Settings:
    """Parts of 5 MiB (the least S3 takes): a 6 MiB file goes in two."""
    return make_s3_settings(
        data_dir,
        s3_bucket,
        multipart_threshold=5 * MiB,
        multipart_chunk_size=5 * MiB,
        upload_part_size=5 * MiB,
    )


class RefusingBucket(httpx.HTTPTransport):
    """The bucket refuses every signed PUT (a URL carrying X-Amz-Signature) with its XML."""

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "PUT" and "X-Amz-Signature" in request.url.params:
            request.read()
            return httpx.Response(403, content=REFUSAL, headers={"Content-Type": "application/xml"})
        return super().handle_request(request)


@pytest.mark.parametrize(("size", "flow"), [(1 * MiB, "single"), (6 * MiB, "parts")])
def test_a_buckets_refusal_of_a_signed_put_says_its_code_and_message(
    s3_live: EmbeddedServer,
    s3_library: Library,
    tmp_path: Path,
    media_dir: Any,
    size: int,
    flow: str,
) -> None:
    video = big_video(Path(media_dir.mp4), tmp_path / "match.mp4", size)
    token = make_tokens(s3_library).upload
    client = Client(s3_live.url, token, retries=0, transport=RefusingBucket())
    with client, pytest.raises(ClientError) as caught:
        client.upload(video, presigned=True)
    failure = caught.value
    assert failure.code == ("http_403" if flow == "single" else "upload_failed")
    assert "SignatureDoesNotMatch" in failure.message
    assert "Check your key & signing method." in failure.message
    assert failure.details["storage_code"] == "SignatureDoesNotMatch"
