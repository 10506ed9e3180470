"""What a signed watch page hands out lives as long as the watch link, and stand-ins are not
cached as if they were the final version.

A real library with a PRESIGNED_URL_EXPIRY of 2 s, a private clip processed by a real worker,
a live server over loopback: the page's video, playlists, segments and scrub sprite still play
after the short expiry under a long watch link, end with it, and never outlive it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from core.jobs import JobState
from core.library import Library
from core.video import service
from server.entry import EmbeddedServer
from tests import media
from tests.conftest import make_settings
from tests.faults import wait_for
from tests.server_fixtures import Reply, Tokens, bearer, http_call, make_tokens, server_config
from tests.video_helpers import TEST_LADDER, process_all

EXPIRY = 2  # PRESIGNED_URL_EXPIRY: far shorter than the watch links asked for


@dataclass
class Served:
    lib: Library
    server: EmbeddedServer
    tokens: Tokens
    private: int
    root: Path

    def get(self, path: str, **headers: str) -> Reply:
        return http_call(self.server.url + path, headers=headers)

    def watch_link(self, expires_in: int) -> tuple[str, int]:
        """The path of the private clip's watch link and its own `exp`."""
        reply = http_call(
            f"{self.server.url}/files/{self.private}/presigned-url"
            f"?kind=watch&expires_in={expires_in}",
            headers=bearer(self.tokens.read),
        )
        assert reply.status == 200, reply.body
        url = urlsplit(reply.json()["url"])
        return f"{url.path}?{url.query}", _exp(url.query)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("watch-grants")
    clip = media.make_avi(root / "match.avi", seconds=5)
    data = root / "data"
    data.mkdir()
    settings = make_settings(
        data,
        presigned_url_expiry=EXPIRY,
        hls_ladder=TEST_LADDER,
        hls_segment_seconds=2,
        workers=0,  # jobs run by process_all only: an in-process worker raced the held web job
    )
    lib = Library.open(settings)
    tokens = make_tokens(lib)
    private = lib.uploads.ingest(clip, "video").id
    process_all(lib)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield Served(lib, server, tokens, private, root)
    finally:
        server.stop()
        lib.close()


def _exp(url: str) -> int:
    query = urlsplit(url).query if "?" in url or "://" in url else url
    return int(parse_qs(query)["exp"][0])


def _config(page: Reply) -> dict[str, Any]:
    assert page.status == 200, page.body
    found = re.search(r"const config = (\{.*?\});", page.body.decode())
    assert found is not None
    return json.loads(found.group(1))  # type: ignore[no-any-return]


def _uris(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def test_a_long_watch_link_keeps_playing_past_the_presigned_expiry(served: Served) -> None:
    s = served
    fid = s.private
    path, until = s.watch_link(86400)
    short_path, _ = s.watch_link(1)  # a link that ends before the sleep below
    config = _config(s.get(path))
    # every link the page hands out carries the watch link's own grant
    for key in ("video_url", "hls_url", "thumbnails_vtt_url"):
        assert _exp(config[key]) == until, (key, config[key])
    master = s.get(config["hls_url"])
    assert master.status == 200
    variant_path = f"/stream/{fid}/hls/{_uris(master.body.decode())[0]}"
    assert _exp(variant_path) == until
    variant = s.get(variant_path)  # a VOD playlist: a player fetches it once
    assert variant.status == 200
    segments = _uris(variant.body.decode())
    assert len(segments) >= 2 and all(_exp(u) == until for u in segments)
    segment_path = variant_path.rsplit("/", 1)[0] + "/" + segments[-1]
    vtt = s.get(config["thumbnails_vtt_url"])
    sprite = re.search(r"^(sprite\.jpg\?[^#\s]+)#", vtt.body.decode(), re.M)
    assert sprite is not None and _exp(sprite.group(1)) == until
    # the control: a fresh grant (a read token's /info) lives PRESIGNED_URL_EXPIRY seconds
    info = s.get(f"/stream/{fid}/info", **bearer(s.tokens.read)).json()
    assert _exp(info["hls_url"]) <= time.time() + EXPIRY + 1

    # until the fresh grant and the short link have ended (their `exp` is whole seconds and
    # checked by the second): polled, where a fixed sleep waited out the worst case each run
    wait_for(
        lambda: s.get(info["hls_url"]).status == 403 and s.get(short_path).status == 403,
        timeout=EXPIRY + 30,
        what="the fresh grant and the short watch link to expire",
    )
    assert s.get(info["hls_url"]).status == 403  # the fresh grant is gone...
    segment = s.get(segment_path)  # ...while the watch page's links still play
    assert segment.status == 200 and segment.headers["Content-Type"] == "video/mp2t"
    video = s.get(config["video_url"], Range="bytes=0-99")
    assert video.status == 206 and len(video.body) == 100
    assert s.get(f"/stream/{fid}/thumbnails/{sprite.group(1)}").status == 200
    # a watch link whose own exp passed opens nothing, nor do the links it handed out
    short = s.get(short_path)
    assert short.status == 403 and short.json()["error"]["code"] == "signature_expired"
    grant = short_path.split("?", 1)[1]
    assert s.get(f"/stream/{fid}/video?{grant}").status == 403
    assert s.get(f"/stream/{fid}/hls/master.m3u8?{grant}").status == 403


def test_a_stand_in_original_is_cached_briefly(served: Served) -> None:
    """A fresh MOV with its jobs queued: /stream/{id}/video sends the original until the web
    rendition is made; caches must not keep that answer for a day. (An AVI's original, which
    no browser plays, does not stand in: test_watch_player_browser.py.)"""
    s = served
    # its own frame rate: with the faststart case's (1 s, 24 fps) it could be the same bytes,
    # a duplicate sharing this file's finished jobs, and that case found no web job to hold
    clip = media.make_mov(s.root / "fresh.mov", seconds=1, fps=30)
    fid = s.lib.uploads.ingest(clip, "video", is_public=True).id
    early = s.get(f"/stream/{fid}/video")
    assert early.status == 200
    assert early.headers["X-MediaDesk-Rendition"] == "original"
    assert early.headers["Content-Type"] == "video/quicktime"
    assert early.headers["Cache-Control"] == "public, max-age=60"
    # the URL that serves the original whatever happens: as long as any public answer without
    # a content tag (5 min), since making the file private must not leave it in shared caches
    original = s.get(f"/stream/{fid}/video?rendition=original")
    assert original.headers["Cache-Control"] == "public, max-age=300"
    assert original.headers["ETag"] == early.headers["ETag"]
    process_all(s.lib)
    later = s.get(f"/stream/{fid}/video")
    assert later.headers["X-MediaDesk-Rendition"] == "web"
    assert later.headers["Cache-Control"] == "public, max-age=60"
    assert later.headers["ETag"] != early.headers["ETag"]  # a revalidation gets the new bytes
    assert s.get(f"/stream/{fid}/video", **{"If-None-Match": early.headers["ETag"]}).status == 200


def _max_age(reply: Reply) -> int:
    found = re.fullmatch(r"private, max-age=(\d+)", reply.headers["Cache-Control"])
    assert found is not None, reply.headers["Cache-Control"]
    return int(found.group(1))


def test_what_a_watch_link_opens_is_not_cached_past_its_end(served: Served) -> None:
    """A browser keeps a private answer by its URL alone: the video and stills opened by a
    30-second watch link were `private, max-age=3600`, so they went on opening from the cache
    for an hour after the link expired."""
    s = served
    fid = s.private
    path, until = s.watch_link(30)
    config = _config(s.get(path))
    grant = path.split("?", 1)[1]
    master = s.get(config["hls_url"])
    variant_path = f"/stream/{fid}/hls/{_uris(master.body.decode())[0]}"
    segments = _uris(s.get(variant_path).body.decode())
    segment_path = variant_path.rsplit("/", 1)[0] + "/" + segments[0]
    now = int(time.time())
    for reply in (
        s.get(config["video_url"], Range="bytes=0-99"),
        s.get(f"/stream/{fid}/raw?{grant}", Range="bytes=0-99"),
        s.get(segment_path),
        s.get(f"/stream/{fid}/thumbnails/sprite.jpg?{grant}"),
    ):
        assert reply.status in (200, 206), reply.body
        assert 0 < _max_age(reply) <= until - now
    # a read token's answer keeps the hour: it is not tied to a link's end
    assert _max_age(s.get(f"/stream/{fid}/raw", **bearer(s.tokens.read))) == 3600


@pytest.mark.parametrize("is_public", [True, False])
def test_a_stand_in_faststart_copy_is_cached_briefly(served: Served, is_public: bool) -> None:
    """A MOV (faststart and web jobs) whose web job is held by another worker: /video sends
    the faststart copy meanwhile; every answer of it is cached for a minute, not an hour."""
    s = served
    # other pictures per case: equal bytes would share the first case's object and its jobs
    clip = media.make_mov(s.root / f"phone-{is_public}.mov", seconds=1, fps=24 if is_public else 25)
    fid = s.lib.uploads.ingest(clip, "video", is_public=is_public).id
    held = s.lib.jobs.claim("held-back", kinds=("web",))
    assert held is not None and held.file_id == fid
    process_all(s.lib)  # the faststart copy (and the rest), not the held web job
    scope = "public" if is_public else "private"
    h = {} if is_public else bearer(s.tokens.read)
    early = s.get(f"/stream/{fid}/video", **h)
    assert early.status == 200 and early.headers["X-MediaDesk-Rendition"] == "faststart"
    etag = early.headers["ETag"]
    head = http_call(f"{s.server.url}/stream/{fid}/video", "HEAD", headers=h)
    part = s.get(f"/stream/{fid}/video", Range="bytes=0-99", **h)
    same = s.get(f"/stream/{fid}/video", **{"If-None-Match": etag}, **h)
    assert (head.status, part.status, same.status) == (200, 206, 304)
    for reply in (early, head, part, same):
        assert reply.headers["X-MediaDesk-Rendition"] == "faststart"
        assert reply.headers["Cache-Control"] == f"{scope}, max-age=60"
    # asked for by name, the faststart copy is what that URL always sends
    named = s.get(f"/stream/{fid}/video?rendition=faststart", **h)
    final = "public, max-age=60" if is_public else "private, max-age=3600"
    assert named.headers["Cache-Control"] == final
    assert s.lib.jobs.release(held.id, "held-back")
    process_all(s.lib)
    later = s.get(f"/stream/{fid}/video", **h)
    assert later.headers["X-MediaDesk-Rendition"] == "web"
    assert later.headers["ETag"] != etag
    assert s.get(f"/stream/{fid}/video", **{"If-None-Match": etag}, **h).status == 200
    resumed = s.get(f"/stream/{fid}/video", Range="bytes=100-199", **{"If-Range": etag}, **h)
    assert resumed.status == 200 and resumed.body == later.body  # never spliced onto the MOV


def _hls_only(lib: Library, fid: int) -> None:
    """Cancels the file's queued jobs other than its HLS ladder: the test below reads segments
    alone, and the web rendition and scrub sprite were encoded twice for nothing."""
    for job in lib.jobs.latest_for_file(fid):
        if job.kind != "hls" and job.state == JobState.QUEUED:
            lib.jobs.cancel(job.id)


def test_an_hls_segment_is_immutable_only_under_its_job_tag(served: Served) -> None:
    """A segment URL without `v` serves whichever HLS job is current, so its bytes change with
    a reprocess: it was answered `public, max-age=31536000, immutable` all the same, and a
    browser or CDN kept the old encode's segment for a year under it."""
    s = served
    clip = media.make_avi(s.root / "public-ladder.avi", seconds=3, fps=20)
    fid = s.lib.uploads.ingest(clip, "video", is_public=True).id
    _hls_only(s.lib, fid)
    process_all(s.lib)
    master = s.get(f"/stream/{fid}/hls/master.m3u8")
    assert master.status == 200 and master.headers["Cache-Control"] == "public, max-age=60"
    variant_path = f"/stream/{fid}/hls/{_uris(master.body.decode())[0]}"
    variant = s.get(variant_path)
    assert variant.headers["Cache-Control"] == "public, max-age=60"
    pinned = _uris(variant.body.decode())[0]  # seg_00000.ts?v=<job>: that job's bytes for good
    job = parse_qs(urlsplit(pinned).query)["v"][0]
    folder = variant_path.split("?", 1)[0].rsplit("/", 1)[0]
    tagged = s.get(f"{folder}/{pinned}")
    assert tagged.status == 200
    assert tagged.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    plain_path = f"{folder}/{pinned.split('?', 1)[0]}"
    for reply in (
        s.get(plain_path),
        s.get(plain_path, Range="bytes=0-99"),
        s.get(plain_path, **{"If-None-Match": tagged.headers["ETag"]}),
    ):
        assert reply.status in (200, 206, 304)
        assert reply.headers["Cache-Control"] == "public, max-age=60"  # as a rendition's URL
    assert s.get(f"{plain_path}?v=999999").status == 404  # no such job: never served

    # a reprocess: the tag-less URL now serves the new job's segment, the old tag its own
    service.reprocess(s.lib, fid)
    _hls_only(s.lib, fid)
    process_all(s.lib)
    renewed = _uris(s.get(variant_path.split("?", 1)[0]).body.decode())[0]
    assert parse_qs(urlsplit(renewed).query)["v"][0] != job
    assert s.get(f"{folder}/{renewed}").headers["Cache-Control"].endswith("immutable")
    assert s.get(f"{folder}/{pinned}").headers["Cache-Control"].endswith("immutable")
    assert s.get(plain_path).headers["Cache-Control"] == "public, max-age=60"

    # a private file's segment stays private whatever the URL
    private = _uris(
        s.get(f"/stream/{s.private}/hls/master.m3u8", **bearer(s.tokens.read)).body.decode()
    )
    private_variant = f"/stream/{s.private}/hls/{private[0].split('?', 1)[0]}"
    private_folder = private_variant.rsplit("/", 1)[0]
    for path in (f"{private_folder}/seg_00000.ts", private_variant):
        reply = s.get(path, **bearer(s.tokens.read))
        assert reply.status == 200
        assert not reply.headers["Cache-Control"].startswith("public")
