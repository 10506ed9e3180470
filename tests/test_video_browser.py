"""Headless Chromium plays what the pipeline made: AVI and WMV through /stream/{id}/video, and
the HLS ladder with hls.js on /watch/{id} (play, seek, scrub thumbnails)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests import media
from tests.browser import Tab, chromium_path, play_and_seek_on_watch_page
from tests.conftest import make_settings
from tests.server_fixtures import bearer, http_call, make_tokens, server_config
from tests.video_helpers import TEST_LADDER, process_all

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="Chromium not installed (apt-get install chromium)"
)

PLAY = """
async (src) => {
  const v = document.createElement('video');
  v.muted = true;
  document.body.appendChild(v);
  const result = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve({error: 'timeout', t: v.currentTime}), 20000);
    v.onerror = () => { clearTimeout(timer); resolve({error: String(v.error && v.error.code)}); };
    v.ontimeupdate = () => {
      if (v.currentTime > 0.5) {
        clearTimeout(timer);
        resolve({t: v.currentTime, w: v.videoWidth, h: v.videoHeight, d: v.duration});
      }
    };
    v.src = src;
    v.play().catch((e) => resolve({error: String(e)}));
  });
  v.remove();
  return result;
}
"""


@dataclass
class Site:
    lib: Library
    server: EmbeddedServer
    read: str
    ids: dict[str, int]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("video-browser")
    data = root / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, hls_ladder=TEST_LADDER, hls_segment_seconds=2))
    tokens = make_tokens(lib)
    ids = {
        "avi": lib.uploads.ingest(media.make_avi(root / "old.avi", seconds=3), "video").id,
        "wmv": lib.uploads.ingest(media.make_wmv(root / "old.wmv", seconds=3), "video").id,
        "mp4": lib.uploads.ingest(
            media.make_mp4(root / "match.mp4", seconds=6, size=(320, 240)), "video"
        ).id,
    }
    for job in lib.jobs.list()[0]:
        if job.file_id != ids["mp4"] and job.kind != "web":
            lib.jobs.cancel(job.id)  # the ladder of AVI/WMV is tested in test_video_pipeline
    process_all(lib)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield Site(lib, server, tokens.read, ids)
    finally:
        server.stop()
        lib.close()


def _info(site: Site, name: str) -> dict:  # type: ignore[type-arg]
    reply = http_call(f"{site.server.url}/stream/{site.ids[name]}/info", headers=bearer(site.read))
    return reply.json()


@pytest.mark.parametrize("name", ["avi", "wmv"])
async def test_chromium_plays_avi_and_wmv_after_processing(site: Site, name: str) -> None:
    info = _info(site, name)
    web = next(r for r in info["renditions"] if r["name"] == "web")
    original = next(r for r in info["renditions"] if r["name"] == "original")
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{site.server.url}/health")
        # the default /stream/{id}/video of a private file, through its signed URL
        played = await browser.evaluate(f"({PLAY})({json.dumps(web['url'])})")
        assert "error" not in played, played
        assert played["w"] == 320 and played["h"] == 240
        # the original bytes themselves do not play in a browser: why the rendition exists
        failed = await browser.evaluate(f"({PLAY})({json.dumps(original['url'])})")
        assert "error" in failed


async def test_hls_plays_and_seeks_with_hlsjs_on_the_watch_page(site: Site) -> None:
    fid = site.ids["mp4"]
    link = http_call(
        f"{site.server.url}/files/{fid}/presigned-url?kind=watch", headers=bearer(site.read)
    ).json()["url"]
    async with Tab(chromium_path() or "") as browser:
        state = await play_and_seek_on_watch_page(browser, link)
        await browser.wait_for("window.mediadesk.thumbnails.length > 0", 5)
        page = await browser.evaluate(
            """
            ({levels: window.mediadesk.hls ? window.mediadesk.hls.levels.map((l) => l.height) : [],
              thumbs: window.mediadesk.thumbnails.length,
              thumb: window.mediadesk.thumbnails[0]})
            """
        )
        assert state["mode"] == "hls" and state["error"] is None, state
        assert state["played"] and state["seeked"] and state["moved"], state
        assert page["levels"] == [120, 240]
        assert page["thumbs"] == 6
        sprite = await browser.evaluate(
            f"fetch({json.dumps(page['thumb']['url'])}).then(r => r.status + ' ' + "
            "r.headers.get('content-type'))"
        )
        assert sprite == "200 image/jpeg"


async def test_watch_page_falls_back_to_the_file_without_hls(site: Site, tmp_path: Path) -> None:
    lib = site.lib
    record = lib.uploads.ingest(media.make_avi(tmp_path / "late.avi", seconds=2), "video")
    for job in lib.jobs.list(file_id=record.id)[0]:
        if job.kind != "web":
            lib.jobs.cancel(job.id)
    process_all(lib)
    link = http_call(
        f"{site.server.url}/files/{record.id}/presigned-url?kind=watch",
        headers=bearer(site.read),
    ).json()["url"]
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(link)
        state = await browser.evaluate(
            """
            (async () => {
              const v = document.getElementById('video');
              v.muted = true;
              await v.play();
              await new Promise((r) => setTimeout(r, 1500));
              return {mode: window.mediadesk.mode, t: v.currentTime, src: v.currentSrc};
            })()
            """
        )
    assert state["mode"] == "file" and state["t"] > 0.3, state
    assert (
        http_call(f"{site.server.url}/stream/{record.id}/info", headers=bearer(site.read)).json()[
            "thumbnails_vtt_url"
        ]
        is None
    )
    assert f"/stream/{record.id}/video?" in state["src"]
