"""`/files/{id}/download` of a public file downloads it under its name, also with R2_PUBLIC_DOMAIN.

It redirected to the bare public-domain URL: the Content-Disposition was only on the 302, which
browsers ignore, so Chromium showed the photo instead of saving it and "Save as" offered the
object's uuid key. A real library on the moto S3 server with a public-read bucket standing in
for the public domain, a live server; the redirect is followed as a browser does.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
from PIL import Image
from sqlalchemy import event

from core.library import Library
from core.records import FileQuery
from core.settings import Settings
from server.entry import EmbeddedServer
from server.presenters import page_body
from tests.internals import db_of
from tests.media_fixtures import MediaSet
from tests.s3_server import S3Target, public_domain
from tests.server_fixtures import (
    bearer,
    direct_upload,
    http_call,
    make_tokens,
    multipart_body,
    presigned_upload,
    server_config,
)

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


def test_public_files_name_their_public_domain_link(
    public_domain_library: Library, media_dir: MediaSet
) -> None:
    """README: R2_PUBLIC_DOMAIN is the public files' CDN domain; a file's JSON (urls.public:
    upload, confirm, get, list, edit) and /stream/{id}/info (public_url) name it for a public
    ready file, null for a private one or one in the trash. No link named it before."""
    lib = public_domain_library
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        tokens = make_tokens(lib)
        read, upload = bearer(tokens.read), bearer(tokens.upload)
        jpeg = media_dir.jpeg.read_bytes()
        body, ctype = multipart_body(
            {"file_type": "image", "is_public": "true"},
            {"file": ("p.jpg", jpeg, "image/jpeg")},
        )
        created = direct_upload(server.url, tokens.upload, body, ctype)
        link = lib.public_url(lib.get_file(created["id"]))
        assert link is not None and created["urls"]["public"] == link
        assert http_call(link).body == jpeg  # the CDN (here the public-read bucket) serves it
        fid = created["id"]
        assert http_call(f"{server.url}/files/{fid}", headers=read).json()["urls"]["public"] == link
        listed = http_call(f"{server.url}/files?is_public=true", headers={}).json()["items"]
        assert [item["urls"]["public"] for item in listed] == [link]
        info = http_call(f"{server.url}/stream/{fid}/info").json()
        assert info["public_url"] == link

        confirmed = presigned_upload(
            server.url,
            tokens.upload,
            media_dir.png.read_bytes(),
            {
                "original_filename": "c.png",
                "file_type": "image",
                "is_public": True,
                "content_type": "image/png",
            },
        )
        assert confirmed["urls"]["public"] == lib.public_url(lib.get_file(confirmed["id"]))
        assert confirmed["urls"]["public"] is not None

        # private: no public link anywhere
        edit = {**upload, "Content-Type": "application/json"}
        private = http_call(f"{server.url}/files/{fid}", "PATCH", b'{"is_public": false}', edit)
        assert private.status == 200 and private.json()["urls"]["public"] is None
        info = http_call(f"{server.url}/stream/{fid}/info", headers=read).json()
        assert info["public_url"] is None
        public = http_call(f"{server.url}/files/{fid}", "PATCH", b'{"is_public": true}', edit)
        # made private, the object left the address that link named (test_public_link_ends)
        relinked = public.json()["urls"]["public"]
        assert relinked not in (None, link) and relinked == lib.public_url(lib.get_file(fid))
        trashed = http_call(f"{server.url}/files/{fid}", "DELETE", None, upload).json()
        assert trashed["file"]["urls"]["public"] is None
    finally:
        server.stop()


def test_a_page_of_public_files_names_their_links_in_one_catalog_read(
    public_domain_library: Library, tmp_path: Path
) -> None:
    """A listing page's urls.public: the backend of every file on the page is read at once
    (Library.public_urls), not once per public file (page_body called public_url per row)."""
    lib = public_domain_library
    for n in range(6):
        path = tmp_path / f"p{n}.jpg"
        Image.new("RGB", (32, 24), (40 * n, 90, 200)).save(path, "JPEG")
        lib.uploads.ingest(path, "image", is_public=n % 3 != 0)
    page = lib.list_files(FileQuery(limit=50))
    engine = db_of(lib).engine
    seen: list[str] = []

    def caught(_c: Any, _cur: Any, stmt: str, _p: Any, _ctx: Any, _many: bool) -> None:
        if "FROM media_files" in stmt:
            seen.append(stmt)

    event.listen(engine, "before_cursor_execute", caught)
    try:
        body = orjson.loads(page_body(page, lib))
    finally:
        event.remove(engine, "before_cursor_execute", caught)
    links = {item["original_filename"]: item["urls"]["public"] for item in body["items"]}
    assert len(seen) == 1
    for name, link in links.items():
        record = next(r for r in page.items if r.original_filename == name)
        assert link == (lib.public_url(record) if record.is_public else None)
    assert sum(link is not None for link in links.values()) == 4
