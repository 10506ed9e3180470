"""`/files/{id}/download` of a public file downloads it under its name, also with R2_PUBLIC_DOMAIN.

It redirected to the bare public-domain URL: the Content-Disposition was only on the 302, which
browsers ignore, so Chromium showed the photo instead of saving it and "Save as" offered the
object's uuid key. A real library on the moto S3 server with a public-read bucket standing in
for the public domain, a live server; the redirect is followed as a browser does.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.library import Library
from core.settings import Settings
from server.entry import EmbeddedServer
from tests.media_fixtures import MediaSet
from tests.s3_server import S3Target, public_domain
from tests.server_fixtures import bearer, http_call, make_tokens, server_config

NAME = "José Núñez.jpg"
NAMED = "filename*=UTF-8''Jos%C3%A9%20N%C3%BA%C3%B1ez.jpg"


@pytest.fixture
def public_domain_library(s3_settings: Settings, s3_bucket: S3Target) -> Iterator[Library]:
    lib = Library.open(s3_settings.replace(r2_public_domain=public_domain(s3_bucket)))
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
