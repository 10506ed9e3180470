"""A page playing a video while its processing runs keeps playing when the renditions arrive.

A phone MOV (moov at the end) is played on its watch page before any job ran, so the page
plays the original as the stand-in; then the worker makes the faststart copy (same size, other
layout) and the web rendition. Chromium's next range requests carry no If-Range: a URL that
now answered the faststart copy's bytes had them spliced onto the original's and the player
died with MEDIA_ERR_DECODE. The links the server hands out name the bytes they mean, so they
keep sending exactly those bytes.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests import media
from tests.browser import Tab, chromium_path
from tests.conftest import make_settings
from tests.server_fixtures import Reply, Tokens, bearer, http_call, make_tokens, server_config
from tests.video_helpers import TEST_LADDER, process_all

needs_chromium = pytest.mark.skipif(
    chromium_path() is None, reason="Chromium not installed (apt-get install chromium)"
)

SECONDS = 15
KINDS = ("faststart", "web", "hls", "thumbnails")


def _phone_mov(path: Path) -> Path:
    """H.264 720p + AAC in a QuickTime file with its moov box last, as a phone writes it; big
    enough (~28 MB) that Chromium reads it range by range instead of holding it whole."""
    subprocess.run(
        [
            *["ffmpeg", "-hide_banner", "-loglevel", "error", "-y"],
            *["-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30"],
            *["-f", "lavfi", "-i", "sine=frequency=370:sample_rate=48000"],
            *["-t", str(SECONDS), "-c:v", "libx264", "-preset", "ultrafast", "-g", "30"],
            # a high bit rate for a short clip: the size that makes Chromium read it by ranges
            # (the renditions' encodes, the test's cost, go by its length)
            *["-crf", "10"],
            *["-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mov", str(path)],
        ],
        check=True,
    )
    return path


@dataclass
class Site:
    lib: Library
    server: EmbeddedServer
    tokens: Tokens
    fid: int


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    data = tmp_path / "data"
    data.mkdir()
    settings = make_settings(data, hls_ladder=TEST_LADDER, hls_segment_seconds=2, workers=0)
    lib = Library.open(settings)
    tokens = make_tokens(lib)
    fid = lib.uploads.ingest(_phone_mov(tmp_path / "IMG_0001.MOV"), "video").id
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield Site(lib, server, tokens, fid)
    finally:
        server.stop()
        lib.close()


_PLAY = """
(async () => {
  const v = document.getElementById('video');
  v.muted = true;
  v.loop = true;  // still playing when the worker is done, however long it took
  await v.play();
  const t0 = Date.now();
  while (v.currentTime < 1 && !v.error && Date.now() - t0 < 30000) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return {t: v.currentTime, error: v.error && v.error.code, mode: window.mediadesk.mode};
})()
"""

# Seeks to `to` and waits until it plays on from there (or fails): each seek past what
# Chromium holds is a new range request of the page's video URL.
_SEEK = """
(async (to) => {
  const v = document.getElementById('video');
  v.currentTime = to;
  const t0 = Date.now();
  while (!v.error && Date.now() - t0 < 30000 && (v.seeking || v.currentTime < to + 0.3)) {
    await new Promise((r) => setTimeout(r, 50));
  }
  return {to, t: v.currentTime, error: v.error && (v.error.code + ' ' + v.error.message)};
})
"""


def _watch_link(s: Site) -> str:
    reply = http_call(
        f"{s.server.url}/files/{s.fid}/presigned-url?kind=watch", headers=bearer(s.tokens.read)
    )
    assert reply.status == 200, reply.body
    return str(reply.json()["url"])


def _serving(s: Site, path: str) -> str:
    reply = http_call(s.server.url + path, "HEAD", headers=bearer(s.tokens.read))
    assert reply.status == 200, reply.status
    return reply.headers["X-MediaDesk-Rendition"]


@needs_chromium
def test_a_watch_page_playing_the_stand_in_plays_on_when_the_renditions_arrive(
    site: Site,
) -> None:
    s = site
    held = [s.lib.jobs.claim("held-back", kinds=(kind,)) for kind in KINDS]
    assert all(job is not None and job.file_id == s.fid for job in held)

    async def run() -> tuple[str, list[dict[str, Any]]]:
        async with Tab(str(chromium_path())) as browser:
            await browser.goto(_watch_link(s))
            video_url = await browser.evaluate("config.video_url")
            started = await browser.evaluate(_PLAY)
            assert started["error"] is None and started["t"] >= 1, started
            assert started["mode"] == "file"  # no ladder yet: the page plays video_url
            assert _serving(s, f"/stream/{s.fid}/video") == "original"
            seeks = []
            # the faststart copy first (same size as the original, other layout), then the web
            # rendition: the file's own URL sends each in turn under the playing page. HLS and
            # the thumbnails stay held back: a page playing a file never looks for them, and
            # the file's URL sends neither (their encodes were ~8 s of this test's ~25)
            for kinds, serving in ((("faststart",), "faststart"), (("web",), "web")):
                for job in held:
                    if job is not None and job.kind in kinds:
                        assert s.lib.jobs.release(job.id, "held-back")
                await asyncio.to_thread(process_all, s.lib)
                assert _serving(s, f"/stream/{s.fid}/video") == serving
                for k in range(1, 7):  # six seeks each, to 5, 10, 3, 8, 1 and 6 s
                    to = (k * 5) % (SECONDS - 3)
                    seeks.append(await browser.evaluate(f"({_SEEK})({json.dumps(to)})"))
                    if seeks[-1]["error"]:
                        return str(video_url), seeks
            return str(video_url), seeks

    video_url, seeks = asyncio.run(run())
    assert [seek for seek in seeks if seek["error"]] == [], seeks
    assert len(seeks) == 12 and all(seek["t"] > seek["to"] for seek in seeks), seeks
    # the page's link names the original's bytes, whatever the file's own URL sends since
    assert parse_qs(urlsplit(video_url).query)["rendition"] == ["original"]


def test_the_links_handed_out_keep_sending_the_bytes_they_name(tmp_path: Path) -> None:
    """/stream/{id}/info's stream_url and rendition URLs and the watch page's video_url name
    one version (`rendition=…&v=…`): a range of it without If-Range is always those bytes,
    cached for good; a version that is not (or no longer) served is 404, never another."""
    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, hls_ladder=TEST_LADDER, workers=0))
    tokens = make_tokens(lib)
    clip = media.make_mov(tmp_path / "phone.mov", seconds=1)
    original = clip.read_bytes()
    fid = lib.uploads.ingest(clip, "video", is_public=True).id
    held = [lib.jobs.claim("held-back", kinds=(kind,)) for kind in KINDS]
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:

        def get(path: str, **headers: str) -> Reply:
            return http_call(server.url + path, headers=headers)

        def info() -> dict[str, Any]:
            reply = get(f"/stream/{fid}/info", **bearer(tokens.read))
            assert reply.status == 200, reply.body
            return dict(reply.json())

        def watch_video_url() -> str:
            page = get(f"/watch/{fid}").body.decode()
            found = re.search(r"const config = (.*);\n", page)
            assert found is not None
            return str(json.loads(found.group(1))["video_url"])

        pinned = f"/stream/{fid}/video?rendition=original&v={lib.get_file(fid).sha256[:16]}"
        assert info()["stream_url"] == pinned == watch_video_url()
        first = get(pinned, Range="bytes=0-99")
        assert first.status == 206 and first.body == original[:100]
        assert first.headers["Cache-Control"].endswith(", immutable")

        faststart = next(job for job in held if job is not None and job.kind == "faststart")
        assert lib.jobs.release(faststart.id, "held-back")
        process_all(lib)  # the faststart copy: the same size, another layout
        bare = get(f"/stream/{fid}/video", Range="bytes=100-199")
        assert bare.headers["X-MediaDesk-Rendition"] == "faststart"
        assert bare.body != original[100:200]
        later = get(pinned, Range="bytes=100-199")  # a player's next range: no If-Range
        assert later.status == 206 and later.body == original[100:200]
        assert later.headers["X-MediaDesk-Rendition"] == "original"

        copy = f"/stream/{fid}/video?rendition=faststart&v={faststart.id}"
        assert info()["stream_url"] == copy == watch_video_url()
        named = {r["name"]: r["url"] for r in info()["renditions"]}
        assert named["faststart"] == copy
        whole = get(copy)
        assert whole.status == 200 and whole.headers["X-MediaDesk-Rendition"] == "faststart"
        assert whole.headers["Cache-Control"].endswith(", immutable")
        assert whole.body[100:200] == bare.body

        for wrong in (
            f"/stream/{fid}/video?rendition=original&v=0123456789abcdef",
            f"/stream/{fid}/video?rendition=faststart&v={faststart.id + 1000}",
            f"/stream/{fid}/video?rendition=web&v={faststart.id}",  # another kind's job
            f"/stream/{fid}/video?rendition=faststart&v=x",
        ):
            assert get(wrong).status == 404, wrong
        assert get(f"/stream/{fid}/video?v={faststart.id}").status == 400  # which rendition?
    finally:
        server.stop()
        lib.close()
