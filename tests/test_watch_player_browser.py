"""The watch page in headless Chromium as a parent on a phone meets it: a phone's HEVC clip
opened before its web rendition is ready, the controls at 390x844 and at a laptop's size, a
finger dragging the seek bar, a portrait video's quality label, a private link's poster.

A real library (jobs run by a real worker when the test says), the live server over loopback."""

from __future__ import annotations

import asyncio
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from core.links import sign_grant
from server.entry import EmbeddedServer
from tests import media
from tests.browser import Browser, Tab, chromium_path
from tests.conftest import make_settings
from tests.server_fixtures import bearer, http_call, make_tokens, server_config
from tests.video_helpers import TEST_LADDER, hevc_encoder_available, make_hevc_mov, process_all

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="Chromium not installed (apt-get install chromium)"
)


@dataclass
class Site:
    lib: Library
    server: EmbeddedServer
    read: str
    ids: dict[str, int]
    root: Path

    def watch_link(self, fid: int) -> str:
        reply = http_call(
            f"{self.server.url}/files/{fid}/presigned-url?kind=watch", headers=bearer(self.read)
        )
        assert reply.status == 200, reply.body
        url: str = reply.json()["url"]
        return url


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("watch-player")
    data = root / "data"
    data.mkdir()
    lib = Library.open(
        make_settings(data, hls_ladder=TEST_LADDER, hls_segment_seconds=2, workers=0)
    )
    tokens = make_tokens(lib)
    ids = {
        "landscape": lib.uploads.ingest(
            media.make_mp4(root / "match.mp4", seconds=6, size=(320, 240)),
            "video",
            is_public=True,
        ).id,
        "portrait": lib.uploads.ingest(
            media.make_mp4(root / "phone.mp4", seconds=3, size=(240, 320)),
            "video",
            is_public=True,
        ).id,
        "private": lib.uploads.ingest(
            media.make_mp4(root / "private.mp4", seconds=2, size=(320, 240)), "video"
        ).id,
    }
    # these H.264 MP4s play in browsers as they are: their web jobs would only be skipped,
    # after a probe of ~1 s each that no test here looks at (the pages play HLS)
    for fid in ids.values():
        for job in lib.jobs.list(file_id=fid)[0]:
            if job.kind == "web":
                lib.jobs.cancel(job.id)
    process_all(lib)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield Site(lib, server, tokens.read, ids, root)
    finally:
        server.stop()
        lib.close()


async def _phone(browser: Browser) -> None:
    await browser.send(
        "Emulation.setDeviceMetricsOverride",
        width=390,
        height=844,
        deviceScaleFactor=3,
        mobile=True,
    )
    await browser.send("Emulation.setTouchEmulationEnabled", enabled=True, maxTouchPoints=5)


async def _fast_timers(browser: Browser) -> None:
    """The page's timers run fast (setInterval capped): its /info poll came every 5 s, and the
    reload waited up to that long after the renditions were made."""
    await browser.send("Page.enable")
    await browser.send(
        "Page.addScriptToEvaluateOnNewDocument",
        source="const _si = window.setInterval;"
        "window.setInterval = (f, ms, ...a) => _si(f, Math.min(ms || 0, 200), ...a);",
    )


_CONTROLS = """
(() => {
  const box = (id) => { const r = document.getElementById(id).getBoundingClientRect();
                        return [r.width, r.height]; };
  return {play: box('play'), seek: box('seek'), mute: box('mute'), full: box('fullscreen'),
          labels: [...document.querySelectorAll('button')].map((b) => b.getAttribute('aria-label')),
          time: document.getElementById('time').textContent, width: innerWidth};
})()
"""


async def test_on_a_phone_the_controls_are_finger_sized_and_the_length_is_shown(
    site: Site,
) -> None:
    """Before: a 30x23 play button, a 129 px seek bar, no mute or full screen, "0:00 / 0:00"."""
    fid = site.ids["landscape"]
    async with Tab(chromium_path() or "") as browser:
        await _phone(browser)
        await browser.goto(f"{site.server.url}/watch/{fid}")
        phone = await browser.evaluate(_CONTROLS)
        await browser.send("Emulation.clearDeviceMetricsOverride")
        await browser.send(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=720,
            deviceScaleFactor=1,
            mobile=False,
        )
        await browser.goto(f"{site.server.url}/watch/{fid}")
        laptop = await browser.evaluate(_CONTROLS)
    assert phone["width"] == 390, phone
    for page in (phone, laptop):
        for name in ("play", "mute", "full"):
            assert page[name][0] >= 44 and page[name][1] >= 44, (name, page)
        assert page["labels"] == ["Play", "Mute", "Full screen"], page
        assert page["time"] == "0:00 / 0:06", page
    assert phone["seek"][0] >= 390 - 20, phone  # a row of its own
    assert laptop["seek"][0] >= 1280 / 2, laptop


async def test_a_finger_dragging_the_seek_bar_sees_the_scrub_thumbnail(site: Site) -> None:
    """Before: the preview followed `mousemove` only, so a touch drag never showed it."""
    fid = site.ids["landscape"]
    async with Tab(chromium_path() or "") as browser:
        await _phone(browser)
        await browser.goto(f"{site.server.url}/watch/{fid}")
        assert await browser.wait_for("window.mediadesk.thumbnails.length > 0", 10)
        box = await browser.evaluate(
            "(() => { const r = document.getElementById('seek').getBoundingClientRect();"
            " return [r.left, r.top, r.width, r.height]; })()"
        )
        x, y = box[0] + 5, box[1] + box[3] / 2
        await browser.send(
            "Input.dispatchTouchEvent", type="touchStart", touchPoints=[{"x": x, "y": y}]
        )
        shown = []
        for i in range(1, 9):
            point = {"x": x + i * (box[2] - 10) / 8, "y": y}
            await browser.send("Input.dispatchTouchEvent", type="touchMove", touchPoints=[point])
            await asyncio.sleep(0.05)
            shown.append(
                await browser.evaluate(
                    "[getComputedStyle(document.getElementById('preview')).display,"
                    " document.getElementById('preview-time').textContent]"
                )
            )
        await browser.send("Input.dispatchTouchEvent", type="touchEnd", touchPoints=[])
        moved_to = await browser.evaluate("document.getElementById('video').currentTime")
        assert await browser.wait_for(
            "getComputedStyle(document.getElementById('preview')).display === 'none'", 3
        )
    assert any(display == "block" for display, _ in shown), shown
    assert shown[-1][0] == "block" and shown[-1][1] in ("0:05", "0:06"), shown
    assert moved_to > 3, moved_to


async def test_a_portrait_rung_is_named_by_its_short_side(site: Site) -> None:
    """Before: the 240x320 rung showed "HLS 320p" (its height); the ladder calls it 240p."""
    fid = site.ids["portrait"]
    async with Tab(chromium_path() or "") as browser:
        await browser.send(
            "Emulation.setDeviceMetricsOverride",
            width=1280,
            height=1400,
            deviceScaleFactor=1,
            mobile=False,
        )
        await browser.goto(f"{site.server.url}/watch/{fid}")
        await browser.evaluate(
            "(async () => { const v = document.getElementById('video'); v.muted = true;"
            " await v.play(); })()"
        )
        assert await browser.wait_for(
            "/HLS \\d+p/.test(document.getElementById('mode').textContent)"
            " && document.getElementById('video').videoWidth > 0",
            20,
        )
        await asyncio.sleep(1)
        seen = await browser.evaluate(
            "({label: document.getElementById('mode').textContent,"
            " w: document.getElementById('video').videoWidth,"
            " h: document.getElementById('video').videoHeight})"
        )
    assert seen["h"] > seen["w"], seen
    assert seen["label"] == f"HLS {seen['w']}p", seen


async def test_the_file_played_without_hls_is_labelled_by_its_real_format(site: Site) -> None:
    """Before: the label said "MP4" for whatever file the page fell back to, the tester's
    damaged AVI original (no web rendition, no HLS) too. An AVI whose web rendition was made
    plays that MP4; one whose jobs all stopped plays (or fails to play) the AVI itself."""
    lib = site.lib
    made = lib.uploads.ingest(media.make_avi(site.root / "made.avi", seconds=1), "video")
    bare = lib.uploads.ingest(media.make_avi(site.root / "bare.avi", seconds=2), "video")
    for job in lib.jobs.list(file_id=made.id)[0] + lib.jobs.list(file_id=bare.id)[0]:
        if job.file_id == bare.id or job.kind != "web":
            lib.jobs.cancel(job.id)
    await asyncio.to_thread(process_all, lib)
    labels = {}
    async with Tab(chromium_path() or "") as browser:
        for name, record in (("web", made), ("original", bare)):
            await browser.goto(site.watch_link(record.id))
            assert await browser.wait_for(
                "window.mediadesk && window.mediadesk.mode === 'file'", 10
            )
            labels[name] = await browser.evaluate("document.getElementById('mode').textContent")
    assert labels == {"web": "MP4", "original": "AVI"}, labels


async def test_a_private_links_poster_opens_under_its_grant(site: Site) -> None:
    """Before: poster="" (the thumbnail route refused the link's grant), and Chromium asked
    for the page itself again as the poster."""
    fid = site.ids["private"]
    link = site.watch_link(fid)
    page = http_call(link).body.decode()
    poster = re.search(r'<video[^>]* poster="([^"]+)"', page)
    assert poster is not None, page[:2000]
    url = html.unescape(poster.group(1))
    assert url.startswith(f"/files/{fid}/thumbnail?") and "sig=" in url, url
    picture = http_call(site.server.url + url)
    assert picture.status == 200, picture.body
    assert picture.headers["Content-Type"] == "image/webp"
    assert picture.headers["Cache-Control"].startswith("private"), picture.headers
    # a grant of another file does not open it
    other = sign_grant(site.lib, site.lib.get_file(site.ids["landscape"]))
    assert http_call(f"{site.server.url}/files/{fid}/thumbnail?{other}").status in (401, 403)
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(link)
        shown = await browser.wait_for(
            "(() => { const i = new Image(); i.src = document.getElementById('video').poster;"
            " return i.decode().then(() => i.naturalWidth > 0, () => false); })()",
            10,
        )
    assert shown


async def test_a_clip_chromium_cannot_show_says_it_is_being_prepared_then_plays(
    site: Site,
) -> None:
    """Before: the HEVC original played as sound over a black box, without a word."""
    if not hevc_encoder_available():
        pytest.skip("no libx265 in this PyAV build")
    lib = site.lib
    record = lib.uploads.ingest(make_hevc_mov(site.root / "iphone.mov", seconds=2), "video")
    link = site.watch_link(record.id)
    async with Tab(chromium_path() or "") as browser:
        await browser.send("Network.enable")
        await browser.send(
            "Network.setExtraHTTPHeaders", headers={"Accept-Language": "es-ES,es;q=0.9"}
        )
        await _fast_timers(browser)
        await browser.goto(link)
        assert await browser.wait_for("!document.getElementById('notice').hidden", 15)
        first: dict[str, Any] = await browser.evaluate(
            "({mode: window.mediadesk.mode, w: document.getElementById('video').videoWidth,"
            " notice: document.getElementById('notice').textContent})"
        )
        await asyncio.to_thread(process_all, lib)
        # the page waits on /info and loads again once a version it can show is there: HLS,
        # or the H.264 web copy when a poll fell between that job and the HLS one (a loaded
        # machine: the page then plays the web copy as a file, which is as good)
        assert await browser.wait_for(
            "window.mediadesk && ['hls', 'file'].includes(window.mediadesk.mode)"
            " && document.getElementById('notice').hidden"
            " && document.getElementById('video').videoWidth > 0",
            30,
        )
        played = await browser.evaluate(
            """(async () => { const v = document.getElementById('video'); v.muted = true;
                await v.play(); await new Promise((r) => setTimeout(r, 1000));
                return {w: v.videoWidth, t: v.currentTime}; })()"""
        )
    assert first["mode"] == "file" and first["w"] == 0, first
    assert "preparando" in first["notice"], first
    assert played["w"] > 0 and played["t"] > 0, played


async def test_a_stand_in_that_is_the_version_being_waited_on_is_not_reloaded(
    site: Site,
) -> None:
    """A phone's HEVC .mov whose faststart copy is made while its web rendition is queued:
    the page plays the faststart copy (still HEVC), says it is being prepared, and /info names
    that same copy. It reloaded for it at every poll (every 5 s until the web rendition came);
    it waits for another version. The page's timers run fast here (setInterval capped)."""
    if not hevc_encoder_available():
        pytest.skip("no libx265 in this PyAV build")
    from core.video.worker import VideoWorker

    lib = site.lib
    record = lib.uploads.ingest(make_hevc_mov(site.root / "late-moov.mov", seconds=2), "video")
    worker = VideoWorker(lib, name="faststart-only", nice=0)
    for _ in range(6):  # the jobs in their order, up to the faststart copy
        job = await asyncio.to_thread(worker.run_once)
        if job is None or job.kind == "faststart":
            break
    states = {j.kind: str(j.state) for j in lib.jobs.latest_for_file(record.id)}
    if states.get("faststart") != "done" or states.get("web") == "done":
        pytest.skip(f"this clip's jobs did not stop between faststart and web: {states}")
    link = site.watch_link(record.id)
    async with Tab(chromium_path() or "") as browser:
        await browser.send("Page.enable")
        await browser.send(
            "Page.addScriptToEvaluateOnNewDocument",
            source="sessionStorage.n = String((+sessionStorage.n || 0) + 1);"
            "const _si = window.setInterval;"
            "window.setInterval = (f, ms, ...a) => _si(f, Math.min(ms || 0, 200), ...a);",
        )
        await browser.goto(link)
        assert await browser.wait_for("!document.getElementById('notice').hidden", 15)
        await asyncio.sleep(2)  # ten polls
        loads = await browser.evaluate("+sessionStorage.n")
    assert loads == 1, loads


async def test_a_camcorder_avi_being_prepared_is_not_fetched_then_plays(site: Site) -> None:
    """An AVI (as MPEG-TS or WMV: no browser opens the container) whose web rendition is
    queued. Before: /stream/{id}/video and the watch page's <video> were sent the original
    (a camcorder's whole file asked for, then a media error); /info's stream_url named it. Now
    the bare URL answers 503 not_ready with Retry-After and the web job's state, /info names
    that URL, and the page says the video is being prepared without fetching it, then plays
    the web rendition once /info names it (its timers run fast here: setInterval capped)."""
    lib = site.lib
    record = lib.uploads.ingest(
        media.make_avi(site.root / "camcorder.avi", seconds=1, size=(160, 120)), "video"
    )
    # the web rendition is what the page waits for: the rest is not made here
    for job in lib.jobs.list(file_id=record.id)[0]:
        if job.kind != "web":
            lib.jobs.cancel(job.id)
    url = site.server.url
    waiting = http_call(f"{url}/stream/{record.id}/video", headers=bearer(site.read))
    assert waiting.status == 503, waiting.body
    assert waiting.headers["Retry-After"] == "5"
    error = waiting.json()["error"]
    assert (error["code"], error["reason"]) == ("service_unavailable", "not_ready"), error
    assert error["details"]["kind"] == "web" and error["details"]["state"] == "queued", error
    info = http_call(f"{url}/stream/{record.id}/info", headers=bearer(site.read)).json()
    assert info["stream_url"].startswith(f"/stream/{record.id}/video?exp="), info["stream_url"]
    assert http_call(f"{url}/stream/{record.id}/raw", headers=bearer(site.read)).status == 200
    link = site.watch_link(record.id)
    async with Tab(chromium_path() or "") as browser:
        await _fast_timers(browser)
        await browser.goto(link)
        assert await browser.wait_for("!document.getElementById('notice').hidden", 15)
        first: dict[str, Any] = await browser.evaluate(
            "({mode: window.mediadesk.mode, src: document.getElementById('video').currentSrc,"
            " fetched: performance.getEntriesByType('resource').map((e) => e.name)"
            "   .filter((n) => n.includes('/video')),"
            " notice: document.getElementById('notice').textContent})"
        )
        await asyncio.to_thread(process_all, lib)
        assert await browser.wait_for(
            "window.mediadesk && window.mediadesk.mode === 'file'"
            " && document.getElementById('notice').hidden"
            " && document.getElementById('video').videoWidth > 0",
            30,
        )
    assert first["mode"] == "waiting" and not first["src"] and not first["fetched"], first
    assert "being prepared" in first["notice"], first


def test_the_page_says_where_its_icon_is_and_spanish_names_the_slider(site: Site) -> None:
    """Before: /favicon.ico (404) was asked on every view; the Spanish slider said "Buscar"."""
    fid = site.ids["landscape"]
    page = http_call(
        f"{site.server.url}/watch/{fid}", headers={"Accept-Language": "es-ES,es;q=0.9"}
    ).body.decode()
    assert '<link rel="icon" href="data:,">' in page
    seek = re.search(r'id="seek"[^>]*aria-label="([^"]*)"', page)
    assert seek is not None and html.unescape(seek.group(1)) == "Posición"
    config = json.loads(re.search(r"const config = (\{.*?\});", page).group(1))  # type: ignore[union-attr]
    assert config["labels"]["mute"] == "Silenciar"
    assert config["labels"]["fullscreen"] == "Pantalla completa"
