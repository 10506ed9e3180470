"""Signed download links (`GET /files/{id}/presigned-url`) over real HTTP. On local storage they
end with the file they were signed for (README: "while the file is in the trash it answers 404
… and a deleted file's links never work again"); on R2/S3 they are the bucket's own presigned
URLs (the seed's flow), which open the object until they expire."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from server.entry import EmbeddedServer
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, upload_file

pytestmark = pytest.mark.timeout(90)


def _link(server: EmbeddedServer, token: str, file_id: int) -> str:
    reply = http_call(
        f"{server.url}/files/{file_id}/presigned-url?expires_in=600", headers=bearer(token)
    )
    assert reply.status == 200, reply.body
    return str(reply.json()["url"])


def _open(server: EmbeddedServer, url: str) -> Reply:
    return http_call(url)


def _gone(reply: Reply) -> None:
    assert reply.status == 404, reply.body[:300]
    error: dict[str, Any] = reply.json()["error"]
    assert (error["code"], error["message"]) == ("not_found", "This file is no longer available")


def test_a_download_link_ends_with_the_file_it_was_signed_for(
    live: EmbeddedServer, media_dir: Any
) -> None:
    """Two files with the same bytes (one public, one private) share one stored object: B's
    link went on serving the bytes after B was trashed, and after B was deleted (the link was
    checked by its key, which A still held)."""
    server = live
    tokens = make_tokens(server.library)
    a = upload_file(server, tokens.upload, media_dir.jpeg, is_public="false")["id"]
    b = upload_file(server, tokens.upload, media_dir.jpeg, is_public="true")["id"]
    assert a != b
    data = media_dir.jpeg.read_bytes()
    link_a, link_b = _link(server, tokens.read, a), _link(server, tokens.read, b)
    first = _open(server, link_b)
    assert first.status == 200 and first.body == data

    trashed = http_call(f"{server.url}/files/{b}", "DELETE", headers=bearer(tokens.upload))
    assert trashed.status == 200, trashed.body
    _gone(_open(server, link_b))
    assert link_b.startswith(server.url + "/")  # the server's link: it asks the catalog

    back = http_call(f"{server.url}/files/{b}/restore", "POST", headers=bearer(tokens.upload))
    assert back.status == 200, back.body
    again = _open(server, link_b)
    assert again.status == 200 and again.body == data  # until it expires

    deleted = http_call(
        f"{server.url}/files/{b}?hard_delete=true", "DELETE", headers=bearer(tokens.admin)
    )
    assert deleted.status == 200, deleted.body
    _gone(_open(server, link_b))
    kept = _open(server, link_a)  # the object stays for the file that still holds it
    assert kept.status == 200 and kept.body == data


def test_an_r2_download_link_is_the_buckets_own(s3_live: EmbeddedServer, media_dir: Any) -> None:
    """The seed's flow on R2/S3: the link is a presigned URL of the bucket, living the
    expires_in asked for, that any client opens without following a redirect (curl without
    -L, httpx's default); the server's own routes refuse a trashed file at once."""
    server = s3_live
    tokens = make_tokens(server.library)
    fid = upload_file(server, tokens.upload, media_dir.jpeg)["id"]
    link = _link(server, tokens.read, fid)
    assert not link.startswith(server.url)
    assert dict(parse_qsl(urlsplit(link).query))["X-Amz-Expires"] == "600"
    opened = http_call(link)
    assert opened.status == 200 and opened.body == media_dir.jpeg.read_bytes()
    trashed = http_call(f"{server.url}/files/{fid}", "DELETE", headers=bearer(tokens.upload))
    assert trashed.status == 200, trashed.body
    for path in (f"/files/{fid}/presigned-url", f"/files/{fid}/download"):
        assert http_call(f"{server.url}{path}", headers=bearer(tokens.read)).status == 404
