"""`/files/{id}/download` of a public file downloads it under its name, also with R2_PUBLIC_DOMAIN.

It redirected to the bare public-domain URL: the Content-Disposition was only on the 302, which
browsers ignore, so Chromium showed the photo instead of saving it and "Save as" offered the
object's uuid key. A real library on the moto S3 server with a public-read bucket standing in
for the public domain, a live server; the redirect is followed as a browser does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.media_fixtures import MediaSet
from tests.s3_server import S3Target, s3_client
from tests.server_fixtures import bearer, http_call, make_tokens, server_config

NAME = "José Núñez.jpg"
NAMED = "filename*=UTF-8''Jos%C3%A9%20N%C3%BA%C3%B1ez.jpg"


@pytest.fixture
def public_domain_library(data_dir: Path, s3_bucket: S3Target) -> Iterator[Library]:
    # The bucket's own path-style URL, readable by anyone, stands in for an R2 public domain
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{s3_bucket.bucket}/*",
            }
        ],
    }
    s3_client(s3_bucket).put_bucket_policy(Bucket=s3_bucket.bucket, Policy=json.dumps(policy))
    lib = Library.open(
        make_settings(
            data_dir,
            r2_endpoint_url=s3_bucket.endpoint_url,
            r2_bucket_name=s3_bucket.bucket,
            r2_access_key_id=s3_bucket.access_key_id,
            r2_secret_access_key=s3_bucket.secret_access_key,
            r2_region="us-east-1",
            r2_public_domain=f"{s3_bucket.endpoint_url}/{s3_bucket.bucket}",
        )
    )
    yield lib
    lib.close()


def test_public_file_download_link_names_the_file(
    public_domain_library: Library, media_dir: MediaSet
) -> None:
    lib = public_domain_library
    rec = lib.uploads.ingest(media_dir.jpeg, "image", original_filename=NAME, is_public=True)
    public = lib.public_url(rec)
    assert public is not None  # the public domain is in use for this file
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        tokens = make_tokens(lib)
        record = http_call(f"{server.url}/files/{rec.id}", headers=bearer(tokens.read)).json()
        for headers in (bearer(tokens.read), {}):  # a public file downloads without a token too
            hop = http_call(server.url + record["urls"]["download"], headers=headers)
            assert hop.status == 302
            location = hop.headers["Location"]
            assert location != public and "response-content-disposition" in location
            final = http_call(location)  # what the browser gets and obeys
            assert final.status == 200 and final.body == media_dir.jpeg.read_bytes()
            assert final.headers["Content-Disposition"].startswith("attachment")
            assert NAMED in final.headers["Content-Disposition"]
    finally:
        server.stop()
