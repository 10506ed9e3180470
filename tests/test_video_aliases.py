"""A duplicate's alias id streams what its file streams, under the rules of that file; and every
answer of /stream/{id}/video says in X-MediaDesk-Rendition which version it sent.

Real clips, encoded by a real worker, behind a live server on loopback; the aliases are made
the way a client makes them: presign the same bytes again, PUT, confirm (200, duplicate).
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import av
import pytest

from core.jobs import current_derivatives
from core.library import Library
from server.entry import EmbeddedServer
from tests import media
from tests.conftest import make_settings
from tests.server_fixtures import Reply, Tokens, bearer, http_call, make_tokens, server_config
from tests.video_helpers import TEST_LADDER, process_all

pytestmark = pytest.mark.timeout(300)

CONTENT_TYPES = {".avi": "video/x-msvideo", ".mp4": "video/mp4"}


@dataclass
class Site:
    lib: Library
    server: EmbeddedServer
    tokens: Tokens
    owners: dict[str, int]  # clip name → the file's id
    aliases: dict[str, int]  # clip name → the id a duplicate upload handed out
    sources: dict[str, Path]

    @property
    def url(self) -> str:
        return self.server.url

    def get(
        self, path: str, token: str | None = None, method: str = "GET", **headers: str
    ) -> Reply:
        h = dict(headers)
        if token:
            h.update(bearer(token))
        return http_call(self.url + path, method, headers=h)


def _upload_again(url: str, token: str, path: Path, is_public: bool) -> dict[str, Any]:
    """Presign, PUT and confirm `path` over HTTP, as a client does."""
    fields = {
        "original_filename": f"again-{path.name}",
        "file_type": "video",
        "content_type": CONTENT_TYPES[path.suffix],
        "is_public": is_public,
    }
    body = json.dumps(fields).encode()
    headers = {"Content-Type": "application/json", **bearer(token)}
    presigned = http_call(f"{url}/files/upload/presigned", "POST", body, headers)
    assert presigned.status == 201, presigned.body
    upload = presigned.json()
    put = http_call(
        upload["upload_url"], "PUT", path.read_bytes(), {"Content-Type": fields["content_type"]}
    )
    assert put.status == 200, put.body
    confirm = http_call(
        f"{url}/files/{upload['file_id']}/confirm-upload", "POST", b"", bearer(token)
    )
    assert confirm.status == 200, confirm.body
    return dict(confirm.json())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A private AVI (web rendition made, HLS, scrub track) and a public web-ready MP4 (web
    and faststart skipped), processed, each with an alias made by a duplicate upload."""
    root = tmp_path_factory.mktemp("aliases")
    sources = {
        "avi": media.make_avi(root / "camcorder.avi", seconds=2),
        "mp4": media.make_mp4(root / "phone.mp4", seconds=2, faststart=True),
    }
    data = root / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, hls_ladder=TEST_LADDER, hls_segment_seconds=2))
    tokens = make_tokens(lib)
    owners = {
        name: lib.uploads.ingest(path, "video", is_public=(name == "mp4")).id
        for name, path in sources.items()
    }
    process_all(lib)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        aliases = {}
        for name, path in sources.items():
            done = _upload_again(server.url, tokens.upload, path, is_public=(name == "mp4"))
            assert done["duplicate"] is True and done["duplicate_of"] == owners[name], done
            assert done["id"] != owners[name]
            aliases[name] = done["id"]
        yield Site(lib, server, tokens, owners, aliases, sources)
    finally:
        server.stop()
        lib.close()


def _bare(url: str) -> str:
    """A URL without its grant (exp, sig), keeping any other query."""
    path, _, query = url.partition("?")
    kept = [p for p in query.split("&") if p and not p.startswith(("exp=", "sig="))]
    return path + ("?" + "&".join(kept) if kept else "")


def _grant(url: str) -> str:
    query = url.partition("?")[2]
    return "&".join(p for p in query.split("&") if p.startswith(("exp=", "sig=")))


def _playlist_uris(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


# ---- A: an alias id streams its file ----------------------------------------------------------


@pytest.mark.parametrize("name", ["avi", "mp4"])
def test_alias_info_lists_the_files_processing_renditions_hls_and_scrub_track(
    site: Site, name: str
) -> None:
    owner, alias = site.owners[name], site.aliases[name]
    own_info = site.get(f"/stream/{owner}/info", site.tokens.read).json()
    info = site.get(f"/stream/{alias}/info", site.tokens.read).json()
    assert info["file_id"] == alias  # the client's id stays the one it holds
    assert own_info["processing"] == {
        "state": "done",
        "progress": 1.0,
        "error": None,
        "reasons": {},
    }
    assert info["processing"] == own_info["processing"]
    assert [r["name"] for r in info["renditions"]] == [r["name"] for r in own_info["renditions"]]
    assert [r["name"] for r in info["renditions"]][-2:] == ["120p", "240p"]
    assert info["hls_url"] and info["thumbnails_vtt_url"] and info["watch_url"]
    # every URL names the alias id, and each one sends what the file's own URL sends
    urls = [r["url"] for r in info["renditions"]]
    urls += [info["hls_url"], info["thumbnails_vtt_url"], info["stream_url"], info["raw_url"]]
    theirs = [r["url"] for r in own_info["renditions"]]
    theirs += [
        own_info["hls_url"],
        own_info["thumbnails_vtt_url"],
        own_info["stream_url"],
        own_info["raw_url"],
    ]
    for url, their in zip(urls, theirs, strict=True):
        assert url.startswith(f"/stream/{alias}/"), url
        assert _bare(url).replace(f"/stream/{alias}/", f"/stream/{owner}/") == _bare(their)
        got, want = site.get(url, site.tokens.read), site.get(their, site.tokens.read)
        assert got.status == want.status == 200, (url, got.status, got.body[:200])
        if _bare(url).endswith((".m3u8", ".vtt")):
            # playlists and cues: the same lines, each grant signed for the id asked
            strip = re.compile(r"(\?|&)(exp|sig)=[^&\s#]*")
            assert strip.sub("", got.body.decode()) == strip.sub("", want.body.decode())
        else:
            assert got.body == want.body, url
    assert info["watch_url"].startswith(f"/watch/{alias}")
    # the poster the info names answers too
    assert info["thumbnail_url"].startswith(f"/files/{alias}/thumbnail?v=")
    poster = site.get(info["thumbnail_url"], site.tokens.read)
    assert poster.status == 200
    assert poster.body == site.get(own_info["thumbnail_url"], site.tokens.read).body


def test_alias_hls_ladder_segments_and_sprite_are_the_files(site: Site) -> None:
    owner, alias = site.owners["avi"], site.aliases["avi"]
    read = site.tokens.read
    master = site.get(f"/stream/{alias}/hls/master.m3u8", read)
    assert master.status == 200, master.body
    assert master.headers["Content-Type"].startswith("application/vnd.apple.mpegurl")
    variants = _playlist_uris(master.body.decode())
    # each URI names the job that made the ladder (`v`): the alias's are its file's
    hls = current_derivatives(site.lib.jobs.latest_for_file(owner))["hls"].id
    assert [_bare(v) for v in variants] == [f"{r}/index.m3u8?v={hls}" for r in (120, 240)]
    for variant in variants:
        rung = variant.split("/")[0]
        text = site.get(f"/stream/{alias}/hls/{rung}/index.m3u8", read)
        assert text.status == 200, text.body
        segments = [_bare(s) for s in _playlist_uris(text.body.decode())]
        assert segments and all(re.fullmatch(rf"seg_\d{{5}}\.ts\?v={hls}", s) for s in segments)
        for seg in segments:
            got = site.get(f"/stream/{alias}/hls/{rung}/{seg}", read)
            want = site.get(f"/stream/{owner}/hls/{rung}/{seg}", read)
            assert got.status == 200 and got.body == want.body and got.body[:1] == b"G"
            part = site.get(f"/stream/{alias}/hls/{rung}/{seg}", read, Range="bytes=0-187")
            assert part.status == 206 and part.body == want.body[:188]
    vtt = site.get(f"/stream/{alias}/thumbnails/thumbnails.vtt", read)
    assert vtt.status == 200 and vtt.body.decode().startswith("WEBVTT")
    sprite = site.get(f"/stream/{alias}/thumbnails/sprite.jpg", read)
    assert sprite.status == 200 and sprite.headers["Content-Type"] == "image/jpeg"
    assert sprite.body == site.get(f"/stream/{owner}/thumbnails/sprite.jpg", read).body
    # a player given only the alias's signed master URL plays the ladder (FFmpeg's HLS demuxer)
    info = site.get(f"/stream/{alias}/info", read).json()
    with av.open(site.url + info["hls_url"]) as c:
        video = c.streams.video[0]
        assert sum(1 for _ in c.decode(video)) >= 40  # 2 s at 24 fps


def test_alias_video_sends_the_files_renditions(site: Site) -> None:
    owner, alias = site.owners["avi"], site.aliases["avi"]
    read = site.tokens.read
    web = site.get(f"/stream/{alias}/video", read)
    assert web.status == 200 and web.headers["X-MediaDesk-Rendition"] == "web"
    assert web.headers["Content-Type"] == "video/mp4"
    assert web.body == site.get(f"/stream/{owner}/video?rendition=web", read).body
    assert web.body != site.sources["avi"].read_bytes()
    chosen = site.get(f"/stream/{alias}/video?rendition=web", read)
    assert chosen.status == 200 and chosen.body == web.body
    part = site.get(f"/stream/{alias}/video", read, Range="bytes=10-99")
    assert part.status == 206 and part.body == web.body[10:100]
    assert part.headers["X-MediaDesk-Rendition"] == "web"
    original = site.get(f"/stream/{alias}/video?rendition=original", read)
    assert original.status == 200 and original.body == site.sources["avi"].read_bytes()
    assert original.headers["X-MediaDesk-Rendition"] == "original"
    # an AVI gets no faststart job: there is none through the alias either
    assert site.get(f"/stream/{alias}/video?rendition=faststart", read).status == 404


def test_alias_watch_page_plays_the_ladder(site: Site) -> None:
    alias = site.aliases["avi"]
    link = site.get(f"/files/{alias}/presigned-url?kind=watch", site.tokens.read).json()
    page = http_call(link["url"])
    assert page.status == 200, page.body
    found = re.search(r"const config = (\{.*?\});", page.body.decode())
    assert found is not None
    config = json.loads(found.group(1))
    assert config["hls_url"].startswith(f"/stream/{alias}/hls/master.m3u8?")
    assert config["thumbnails_vtt_url"].startswith(f"/stream/{alias}/thumbnails/thumbnails.vtt?")
    assert http_call(site.url + config["hls_url"]).status == 200


def test_alias_access_is_the_files_and_grants_name_the_id_they_were_signed_for(
    site: Site,
) -> None:
    owner, alias = site.owners["avi"], site.aliases["avi"]
    read = site.tokens.read
    segment = "hls/120/seg_00000.ts"
    paths = [
        "info",
        "video",
        "raw",
        "hls/master.m3u8",
        "hls/120/index.m3u8",
        segment,
        "thumbnails/thumbnails.vtt",
        "thumbnails/sprite.jpg",
    ]
    for path in paths:  # a private file: no token, no grant → 401, as for the file itself
        assert site.get(f"/stream/{owner}/{path}").status == 401, path
        assert site.get(f"/stream/{alias}/{path}").status == 401, path
    own_info = site.get(f"/stream/{owner}/info", read).json()
    info = site.get(f"/stream/{alias}/info", read).json()
    for_alias, for_owner = _grant(info["hls_url"]), _grant(own_info["hls_url"])
    assert for_alias and for_owner
    for path in paths[1:]:
        assert site.get(f"/stream/{alias}/{path}?{for_alias}").status == 200, path
        # a grant opens the id it was signed for, nothing else
        wrong = site.get(f"/stream/{alias}/{path}?{for_owner}")
        assert wrong.status == 403 and wrong.json()["error"]["code"] == "invalid_signature"
        assert site.get(f"/stream/{owner}/{path}?{for_alias}").status == 403, path
    tampered = re.sub(r"sig=[0-9a-f]{4}", "sig=0000", for_alias)
    assert site.get(f"/stream/{alias}/{segment}?{tampered}").status == 403
    # a public file's alias is open to anyone, like the file
    pub = site.aliases["mp4"]
    for path in paths:
        assert site.get(f"/stream/{pub}/{path}").status == 200, path


def _set_public_as(url: str, token: str, file_id: int, public: bool) -> None:
    reply = http_call(
        f"{url}/files/{file_id}",
        "PATCH",
        json.dumps({"is_public": public}).encode(),
        {"Content-Type": "application/json", **bearer(token)},
    )
    assert reply.status == 200, reply.body


def _set_public(site: Site, file_id: int, public: bool) -> None:
    _set_public_as(site.url, site.tokens.upload, file_id, public)


def test_a_change_of_the_file_holds_at_once_for_its_alias(site: Site) -> None:
    """The alias's answers follow its file's state with no delay: made private, anonymous
    requests through the alias are refused on the next request; trashed, the alias is gone."""
    owner, alias = site.owners["mp4"], site.aliases["mp4"]
    paths = ["info", "video", "raw", "hls/master.m3u8", "thumbnails/sprite.jpg"]
    urls = [f"/stream/{alias}/{path}" for path in paths] + [f"/watch/{alias}"]
    try:
        for url in urls:
            assert site.get(url).status == 200, url  # looked up
        _set_public(site, owner, False)
        for url in urls:
            assert site.get(url).status == 401, url
            assert site.get(url, site.tokens.read).status == 200, url
        _set_public(site, owner, True)
        for url in urls:
            assert site.get(url).status == 200, url
        trash = http_call(f"{site.url}/files/{owner}", "DELETE", headers=bearer(site.tokens.upload))
        assert trash.status == 200
        for url in urls:
            assert site.get(url, site.tokens.read).status == 404, url
    finally:
        if site.lib.get_file(owner).is_trashed:
            site.lib.restore(owner)
        if not site.lib.get_file(owner).is_public:
            site.lib.update_file(owner, {"is_public": True})
    assert site.get(f"/stream/{alias}/video").status == 200


class HeldStream:
    """A GET whose body is read only when asked: with a small receive window the server is
    still sending it (the object is far larger than loopback's buffers)."""

    def __init__(self, url: str, path: str, token: str | None = None) -> None:
        parts = urlsplit(url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        self.sock.connect((parts.hostname, parts.port))
        self.sock.settimeout(20)
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{auth}\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            piece = self.sock.recv(4096)
            assert piece, head
            head += piece
        head, _, rest = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        headers = dict(line.split(": ", 1) for line in lines[1:])
        self.length = int(headers["Content-Length"])
        self.received = len(rest)

    def read(self, limit: int | None = None) -> str:
        """Reads up to `limit` more bytes (all of them when None): how the body went on."""
        goal = self.length if limit is None else min(self.length, self.received + limit)
        try:
            while self.received < goal:
                piece = self.sock.recv(64 * 1024)
                if not piece:
                    return "closed"
                self.received += len(piece)
        except OSError as exc:  # a reset connection
            return type(exc).__name__
        return "complete" if self.received >= self.length else "reading"

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()


def test_streams_through_an_alias_end_with_the_files_changes(tmp_path: Path) -> None:
    """Streams under way through an alias id end like the file's own: anonymous ones when the
    file is made private, every one when it is trashed."""
    clip = media.make_mp4(tmp_path / "clip.mp4", seconds=1)
    padding = 24 * 1024 * 1024  # a top-level `free` box: players skip it, the object is big
    big = tmp_path / "big.mp4"
    big.write_bytes(clip.read_bytes() + struct.pack(">I4s", 8 + padding, b"free") + bytes(padding))
    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, hls_ladder=TEST_LADDER))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    held: list[HeldStream] = []
    try:
        tokens = make_tokens(lib)
        owner = lib.uploads.ingest(big, "video", is_public=True).id
        alias = _upload_again(server.url, tokens.upload, big, is_public=True)["id"]
        assert alias != owner
        path = f"/stream/{alias}/raw"
        anonymous = HeldStream(server.url, path)
        holder = HeldStream(server.url, path, tokens.read)
        held += [anonymous, holder]
        assert anonymous.status == holder.status == 200
        assert anonymous.length == holder.length == big.stat().st_size
        assert anonymous.read(256 * 1024) == holder.read(256 * 1024) == "reading"
        _set_public_as(server.url, tokens.upload, owner, False)
        assert anonymous.read() != "complete"
        assert anonymous.received < anonymous.length
        assert holder.read(256 * 1024) == "reading"  # a token's stream goes on
        trash = http_call(f"{server.url}/files/{owner}", "DELETE", headers=bearer(tokens.upload))
        assert trash.status == 200
        assert holder.read() != "complete"
        assert holder.received < holder.length
    finally:
        for stream in held:
            stream.close()
        server.stop()
        lib.close()


# ---- B: X-MediaDesk-Rendition on every answer of /video -------------------------------------


def test_the_original_standing_in_for_a_skipped_rendition_is_named(site: Site) -> None:
    """A web-ready MP4: its web and faststart jobs are skipped, the original is what plays."""
    fid, alias = site.owners["mp4"], site.aliases["mp4"]
    states = {j.kind: j.state for j in site.lib.jobs.latest_for_file(fid)}
    assert states["web"] == states["faststart"] == "skipped", states
    source = site.sources["mp4"].read_bytes()
    for target in (fid, alias):
        for query in ("", "?rendition=web", "?rendition=faststart", "?rendition=original"):
            reply = site.get(f"/stream/{target}/video{query}")
            assert reply.status == 200 and reply.body == source, (target, query)
            assert reply.headers.get("X-MediaDesk-Rendition") == "original", (target, query)
        head = site.get(f"/stream/{target}/video", method="HEAD")
        assert head.status == 200 and head.headers.get("X-MediaDesk-Rendition") == "original"
        part = site.get(f"/stream/{target}/video?rendition=web", Range="bytes=0-99")
        assert part.status == 206 and part.body == source[:100]
        assert part.headers.get("X-MediaDesk-Rendition") == "original"
        etag = site.get(f"/stream/{target}/video").headers["ETag"]
        same = site.get(f"/stream/{target}/video", **{"If-None-Match": etag})
        assert same.status == 304 and same.headers.get("X-MediaDesk-Rendition") == "original"


def test_renditions_not_made_yet_are_404_and_the_original_plays_named(tmp_path: Path) -> None:
    """Jobs still queued: asking for the rendition is a 404; the default sends the original
    and says so."""
    lib = Library.open(make_settings(tmp_path, hls_ladder=TEST_LADDER))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        tokens = make_tokens(lib)
        source = media.make_mp4(tmp_path / "late.mp4", seconds=1, faststart=False)
        fid = lib.uploads.ingest(source, "video").id
        states = {j.kind: j.state for j in lib.jobs.latest_for_file(fid)}
        assert states["web"] == states["faststart"] == "queued", states
        h = bearer(tokens.read)
        for name in ("web", "faststart"):
            missing = http_call(f"{server.url}/stream/{fid}/video?rendition={name}", headers=h)
            assert missing.status == 404, (name, missing.body)
        for query in ("", "?rendition=original"):
            reply = http_call(f"{server.url}/stream/{fid}/video{query}", headers=h)
            assert reply.status == 200 and reply.body == source.read_bytes()
            assert reply.headers.get("X-MediaDesk-Rendition") == "original", query
    finally:
        server.stop()
        lib.close()


def test_the_rendition_header_is_documented_and_readable_by_other_origins() -> None:
    from server.cors import EXPOSE_HEADERS
    from server.openapi import build_spec

    answers = build_spec()["paths"]["/stream/{file_id}/video"]["get"]["responses"]
    for code in ("200", "206", "304"):
        header = answers[code]["headers"]["X-MediaDesk-Rendition"]
        assert header["schema"]["enum"] == ["web", "faststart", "original"]
    assert "X-MediaDesk-Rendition" in [h.strip() for h in EXPOSE_HEADERS.split(",")]
