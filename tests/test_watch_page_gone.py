"""The watch page in headless Chromium when its video stops opening while the page loads: the
file trashed, or made private under a public page. Its playlist and video then answer 404 or
401, which reach the player as a media error; the page said "This browser cannot play this
video." as for a codec it cannot decode (outside tester).

The playlists are held in the browser (DevTools' Fetch domain) until the change is made, so
the page has loaded before it and asks after it, as a long match's next segment does.

A real library processed by a real worker, the live server over loopback."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from core.library import Library
from core.links import sign_grant
from server.entry import EmbeddedServer
from tests import media
from tests.browser import Tab, chromium_path
from tests.conftest import make_settings
from tests.server_fixtures import bearer, http_call, make_tokens, server_config
from tests.video_helpers import TEST_LADDER, process_all

pytestmark = pytest.mark.skipif(
    chromium_path() is None, reason="Chromium not installed (apt-get install chromium)"
)


@dataclass
class Site:
    lib: Library
    server: EmbeddedServer
    upload: str
    ids: dict[str, int]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("watch-gone")
    data = root / "data"
    data.mkdir()
    lib = Library.open(
        make_settings(data, hls_ladder=TEST_LADDER, hls_segment_seconds=2, workers=0)
    )
    tokens = make_tokens(lib)
    # sizes of their own: the same bytes twice are duplicates, which a PATCH refuses
    ids = {
        name: lib.uploads.ingest(
            media.make_mp4(root / f"{name}.mp4", seconds=1, size=(160 + 32 * n, 120)),
            "video",
            is_public=name != "expiring",
        ).id
        for n, name in enumerate(("trashed", "private", "kept", "expiring"))
    }
    # the pages play HLS: the web job (these MP4s need none: skipped after its ~1 s probe) and
    # the scrub thumbnails are not what these tests look at, and were ~7 s of the set-up
    for fid in ids.values():
        for job in lib.jobs.list(file_id=fid)[0]:
            if job.kind in ("web", "thumbnails"):
                lib.jobs.cancel(job.id)
    process_all(lib)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield Site(lib, server, tokens.upload, ids)
    finally:
        server.stop()
        lib.close()


class HoldingBrowser(Tab):
    """Chromium whose HLS requests wait, paused, until the test lets them go."""

    def __init__(self, executable: str) -> None:
        super().__init__(executable)
        self.held: list[str] = []

    def on_event(self, message: dict[str, Any]) -> None:
        if message.get("method") == "Fetch.requestPaused":
            self.held.append(message["params"]["requestId"])

    async def hold_hls(self) -> None:
        await self.send("Fetch.enable", patterns=[{"urlPattern": "*/hls/*"}])

    async def release(self) -> None:
        while self.held:
            await self.send("Fetch.continueRequest", requestId=self.held.pop())
        await self.send("Fetch.disable")  # what comes next is not held


_SEEN = """({error: window.mediadesk.error, reason: window.mediadesk.reason,
             notice: document.getElementById('notice').textContent})"""


async def _watch_while(
    site: Site, fid: int, change: Any, language: str = "en", grant: Any = None
) -> Any:
    """The page's notice once `change` (a call to the API) is made while its playlist waits."""
    browser = HoldingBrowser(chromium_path() or "")
    async with browser:  # `as` would give the base class's type
        await browser.send("Network.enable")
        await browser.send("Network.setExtraHTTPHeaders", headers={"Accept-Language": language})
        await browser.hold_hls()
        await browser.goto(f"{site.server.url}/watch/{fid}" + (f"?{grant()}" if grant else ""))
        assert await browser.wait_for("window.mediadesk.mode === 'hls'", 10)
        for _ in range(200):  # until the page has asked for its playlist, which now waits
            if browser.held:
                break
            await asyncio.sleep(0.05)
            await browser.evaluate("1")  # events arrive while a reply is awaited
        assert browser.held
        change()
        await browser.release()
        assert await browser.wait_for("!document.getElementById('notice').hidden", 20)
        return await browser.evaluate(_SEEN)


async def test_a_video_trashed_while_its_page_loads_is_no_longer_available(site: Site) -> None:
    """Before: "This browser cannot play this video." (reason "media error 4")."""
    fid = site.ids["trashed"]

    def trash() -> None:
        reply = http_call(f"{site.server.url}/files/{fid}", "DELETE", headers=bearer(site.upload))
        assert reply.status == 200, reply.body

    seen = await _watch_while(site, fid, trash, "es-ES,es;q=0.9")
    assert seen["notice"] == "Este vídeo ya no está disponible.", seen
    assert seen["error"] == "gone", seen


async def test_a_video_made_private_under_its_public_page_needs_its_link(site: Site) -> None:
    """Before: "This browser cannot play this video."; a public page's URL has no grant."""
    fid = site.ids["private"]

    def make_private() -> None:
        headers = {**bearer(site.upload), "Content-Type": "application/json"}
        url = f"{site.server.url}/files/{fid}"
        reply = http_call(url, "PATCH", b'{"is_public": false}', headers)
        assert reply.status == 200, reply.body

    seen = await _watch_while(site, fid, make_private)
    assert seen["notice"] == (
        "This video opens only with the link that was shared for it; ask for it."
    ), seen
    assert "cannot play" not in seen["notice"], seen


async def test_a_link_that_expires_while_its_page_loads_says_it_has_expired(site: Site) -> None:
    """The answer's code read: a 403 is an expired link here, not a link that is not valid."""
    fid = site.ids["expiring"]
    grants = []

    def sign() -> str:  # as the page is opened: its seconds are not spent starting Chromium
        grants.append(sign_grant(site.lib, site.lib.get_file(fid), expires_in=4))
        return grants[-1]

    def expire() -> None:
        for _ in range(200):  # the grant's seconds end
            if http_call(f"{site.server.url}/stream/{fid}/info?{grants[-1]}").status == 403:
                return
            time.sleep(0.05)
        raise AssertionError("the grant did not expire")

    seen = await _watch_while(site, fid, expire, grant=sign)
    assert seen["notice"] == "This link has expired. Ask the person who sent it for a new one.", (
        seen
    )
    assert seen["error"] == "expired", seen


async def test_a_video_still_there_that_fails_still_says_this_browser_cannot_play_it(
    site: Site,
) -> None:
    """The server answers /info: the failure is the browser's, and the page says so."""
    fid = site.ids["kept"]
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{site.server.url}/watch/{fid}")
        # what a codec this browser lacks ends in: the <video> element's own error
        await browser.evaluate(
            "(() => { window.mediadesk.mode = 'file';"
            " document.getElementById('video').dispatchEvent(new Event('error')); })()"
        )
        assert await browser.wait_for("!document.getElementById('notice').hidden", 10)
        seen = await browser.evaluate(_SEEN)
    assert seen["notice"] == "This browser cannot play this video.", seen
    assert seen["error"] == "unplayable", seen
