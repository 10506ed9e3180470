"""Signed download links (`GET /files/{id}/presigned-url`) on both backends, over real HTTP:
they end with the file they were signed for (README: "while the file is in the trash it
answers 404 … and a deleted file's links never work again")."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from server.entry import EmbeddedServer
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, upload_file

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest) -> EmbeddedServer:
    return request.getfixturevalue("live" if request.param == "local" else "s3_live")


def _link(server: EmbeddedServer, token: str, file_id: int) -> str:
    reply = http_call(
        f"{server.url}/files/{file_id}/presigned-url?expires_in=600", headers=bearer(token)
    )
    assert reply.status == 200, reply.body
    return str(reply.json()["url"])


def _open(server: EmbeddedServer, url: str) -> Reply:
    """The link as a browser opens it: a redirect of the server's (R2/S3) is followed."""
    reply = http_call(url)
    if reply.status != 302:
        return reply
    bucket = reply.headers["Location"]
    assert not bucket.startswith(server.url)
    # the bucket URL a use gets lives a minute: the link itself is what lasts
    assert int(dict(parse_qsl(urlsplit(bucket).query))["X-Amz-Expires"]) <= 60
    return http_call(bucket)


def _gone(reply: Reply) -> None:
    assert reply.status == 404, reply.body[:300]
    error: dict[str, Any] = reply.json()["error"]
    assert (error["code"], error["message"]) == ("not_found", "This file is no longer available")


def test_a_download_link_ends_with_the_file_it_was_signed_for(
    server: EmbeddedServer, media_dir: Any
) -> None:
    """Two files with the same bytes (one public, one private) share one stored object: on the
    local backend B's link went on serving the bytes after B was trashed, and after B was
    deleted (the link was checked by its key, which A still held); on R2/S3 the link was the
    bucket's own URL, which nothing takes back, so any file's link did."""
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
