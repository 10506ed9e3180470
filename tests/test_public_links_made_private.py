"""A download link handed to a caller without a token ends when its file is made private.

Anyone may ask `GET /files/{id}/presigned-url` (or `/download`) of a public file without a
token: it saw the file only because the file was public. The link it got (up to 7 days) went on
serving the bytes after staff made the file private, while `/download` and `/stream` without
a token answered 401. On local storage the link now carries a signed mark (`pub=1`) and answers
404 not_found, as a trashed file's link does, while the file is private; a token holder's link
keeps working, as documented. On S3 the bucket's own URL cannot be taken back: one handed out
without a token lives five minutes at most. Real servers over loopback, real files, moto's S3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.media_fixtures import MediaSet
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, server_config, upload_file
from tests.test_video_aliases import HeldStream

pytestmark = pytest.mark.timeout(90)

WEEK = 604800


def _presigned(server: EmbeddedServer, fid: int, token: str | None = None) -> dict[str, Any]:
    headers = bearer(token) if token else {}
    reply = http_call(f"{server.url}/files/{fid}/presigned-url?expires_in={WEEK}", headers=headers)
    assert reply.status == 200, reply.body
    return reply.json()  # type: ignore[no-any-return]


def _set_public(server: EmbeddedServer, token: str, fid: int, public: bool) -> None:
    reply = http_call(
        f"{server.url}/files/{fid}",
        "PATCH",
        f'{{"is_public": {"true" if public else "false"}}}'.encode(),
        {**bearer(token), "Content-Type": "application/json"},
    )
    assert reply.status == 200 and reply.json()["is_public"] is public, reply.body


def _gone(reply: Reply) -> None:
    """How a trashed file's link is refused (tests/test_signed_download_links.py)."""
    assert reply.status == 404, reply.body[:300]
    error = reply.json()["error"]
    assert (error["code"], error["message"]) == ("not_found", "This file is no longer available")


def _query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def _with_query(url: str, query: dict[str, str]) -> str:
    return urlunsplit(urlsplit(url)._replace(query=urlencode(query)))


def test_an_anonymous_link_ends_when_the_file_is_made_private(
    live: EmbeddedServer, media_dir: MediaSet
) -> None:
    """The security tester's repro: a 7-day link minted without a token still answered 200
    after the file was made private. Now 404 while private, and again 200 once public again
    (as a trashed file's link after a restore), until it expires."""
    tokens = make_tokens(live.library)
    fid = upload_file(live, tokens.upload, media_dir.jpeg, is_public="true")["id"]
    data = media_dir.jpeg.read_bytes()
    link = _presigned(live, fid)["url"]
    # the /download redirect of a caller without a token is such a link too
    redirect = http_call(f"{live.url}/files/{fid}/download?expires_in={WEEK}")
    assert redirect.status == 302, redirect.body
    moved = redirect.headers["Location"]
    for url in (link, moved):
        opened = http_call(url)
        assert opened.status == 200 and opened.body == data
        # a private file leaves browser caches within five minutes (README, Resized images)
        assert opened.headers["Cache-Control"] == "private, max-age=300"

    _set_public(live, tokens.upload, fid, False)
    assert http_call(f"{live.url}/files/{fid}/download").status == 401
    _gone(http_call(link))
    _gone(http_call(moved))

    _set_public(live, tokens.upload, fid, True)
    again = http_call(link)
    assert again.status == 200 and again.body == data


def test_a_token_holders_link_keeps_working_when_the_file_is_made_private(
    live: EmbeddedServer, media_dir: MediaSet
) -> None:
    """Documented: a signed link is not tied to the file's publicity for one who may read
    private files. Such a link carries no mark, as every link signed before the mark did, and
    keeps the old reach: until its expiry, but not through the trash."""
    tokens = make_tokens(live.library)
    fid = upload_file(live, tokens.upload, media_dir.jpeg, is_public="true")["id"]
    answer = _presigned(live, fid, tokens.read)
    assert answer["expires_in"] == WEEK and "pub" not in _query(answer["url"])
    _set_public(live, tokens.upload, fid, False)
    opened = http_call(answer["url"])
    assert opened.status == 200 and opened.body == media_dir.jpeg.read_bytes()
    private_link = _presigned(live, fid, tokens.read)["url"]  # asked of the private file
    assert http_call(private_link).status == 200


def test_the_mark_is_signed(live: EmbeddedServer, media_dir: MediaSet) -> None:
    """Dropping `pub=1` (or changing it) to make the link a token holder's breaks its
    signature: 403 invalid_signature, before and after the file is made private."""
    tokens = make_tokens(live.library)
    fid = upload_file(live, tokens.upload, media_dir.jpeg, is_public="true")["id"]
    link = _presigned(live, fid)["url"]
    query = _query(link)
    assert query.get("pub") == "1" and query.get("file") == str(fid)
    dropped = _with_query(link, {k: v for k, v in query.items() if k != "pub"})
    changed = _with_query(link, {**query, "pub": "0"})
    _set_public(live, tokens.upload, fid, False)
    for url in (dropped, changed):
        reply = http_call(url)
        assert reply.status == 403, reply.body[:300]
        assert reply.json()["error"]["code"] == "invalid_signature"


def test_an_anonymous_download_under_way_ends_when_the_file_is_made_private(
    tmp_path: Path, media_dir: MediaSet
) -> None:
    """As anonymous streams of `/stream/{id}/raw` are cut: the link's download rests on the
    file being public. A token holder's download of the same file goes on."""
    big = tmp_path / "big.jpg"
    # bytes after the JPEG's end: viewers ignore them, and the object is far larger than
    # loopback's buffers, so the server is still sending when the file is made private
    big.write_bytes(media_dir.jpeg.read_bytes() + bytes(24 * 1024 * 1024))
    lib = Library.open(make_settings(tmp_path / "data"))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    held: list[HeldStream] = []
    try:
        tokens = make_tokens(lib)
        fid = lib.uploads.ingest(big, "image", is_public=True).id
        anonymous_link = _presigned(server, fid)["url"]
        holders_link = _presigned(server, fid, tokens.read)["url"]
        for url in (anonymous_link, holders_link):
            parts = urlsplit(url)
            held.append(HeldStream(server.url, f"{parts.path}?{parts.query}"))
        anonymous, holder = held
        assert anonymous.status == holder.status == 200
        assert anonymous.read(256 * 1024) == holder.read(256 * 1024) == "reading"
        _set_public(server, tokens.upload, fid, False)
        assert anonymous.read() != "complete"
        assert anonymous.received < anonymous.length
        assert holder.read() == "complete"
    finally:
        for stream in held:
            stream.close()
        server.stop()
        lib.close()


def test_an_anonymous_bucket_link_lives_five_minutes(
    s3_live: EmbeddedServer, media_dir: MediaSet
) -> None:
    """On S3 the link is the bucket's presigned URL, which nothing takes back: asked without
    a token it lives five minutes (core.storage.signing.PUBLICITY_BUCKET_EXPIRY; the answer
    says so), not the week asked for; a token holder's lives what it asked."""
    tokens = make_tokens(s3_live.library)
    fid = upload_file(s3_live, tokens.upload, media_dir.jpeg, is_public="true")["id"]
    anonymous = _presigned(s3_live, fid)
    assert not anonymous["url"].startswith(s3_live.url)
    assert anonymous["expires_in"] == 300
    assert _query(anonymous["url"])["X-Amz-Expires"] == "300"
    opened = http_call(anonymous["url"])
    assert opened.status == 200 and opened.body == media_dir.jpeg.read_bytes()
    redirect = http_call(f"{s3_live.url}/files/{fid}/download?expires_in={WEEK}")
    assert redirect.status == 302
    assert _query(redirect.headers["Location"])["X-Amz-Expires"] == "300"
    holders = _presigned(s3_live, fid, tokens.read)
    assert holders["expires_in"] == WEEK
    assert _query(holders["url"])["X-Amz-Expires"] == str(WEEK)
