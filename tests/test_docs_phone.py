"""/docs on a phone (Chromium at 390x844): every route's row fits the screen (its path and
summary wrap, the token/open label on a line of its own), opened rows too, and the page names
its icon, so the browser does not ask /favicon.ico (a 404 in the console on every visit)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.browser import chromium_path
from tests.server_fixtures import server_config
from tests.test_demo_phone import Phone

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.timeout(120),
]

_ROWS = """
(() => {
  const rows = [...document.querySelectorAll('summary')];
  const over = rows.filter((s) => s.scrollWidth > s.clientWidth
    || [...s.children].some((c) => c.getBoundingClientRect().right > innerWidth))
    .map((s) => s.innerText.replace(/\\n/g, ' '));
  // rows whose token/open label is on the line of the path (under it on a phone)
  const beside = rows.filter((s) => s.querySelector('.lock').getBoundingClientRect().top
    < s.querySelector('.path').getBoundingClientRect().bottom).length;
  return {rows: rows.length, width: innerWidth, page: document.documentElement.scrollWidth,
          over, beside, icon: document.querySelector('link[rel=icon]')?.getAttribute('href')};
})()
"""


@pytest.fixture
def local(library: Library) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    yield server
    server.stop()


async def test_the_routes_fit_a_phone_and_no_icon_is_asked(local: EmbeddedServer) -> None:
    async with Phone(chromium_path() or "") as phone:
        await phone.start("en")
        await phone.goto(f"{local.url}/docs")
        assert await phone.wait_for("document.querySelectorAll('summary').length > 20", 10)
        rows = await phone.evaluate(_ROWS)
        assert rows["width"] == 390 and rows["page"] <= 390, rows  # was 604
        assert not rows["over"], rows["over"][:5]
        assert rows["beside"] == 0, rows
        # opened: parameters, bodies and answers stay within the screen too
        await phone.evaluate("document.querySelectorAll('details').forEach((d) => d.open = true)")
        assert await phone.evaluate("document.documentElement.scrollWidth") <= 390
        assert rows["icon"] == "data:,"
        assert not [u for _, u in phone.requests if u.endswith("/favicon.ico")], phone.requests
        assert not [m for m in phone.console if "404" in m], phone.console


async def test_on_a_wide_screen_the_label_stays_at_the_rows_end(local: EmbeddedServer) -> None:
    async with Phone(chromium_path() or "") as phone:
        await phone.start("en")
        await phone.send(
            "Emulation.setDeviceMetricsOverride",
            width=1200,
            height=900,
            deviceScaleFactor=1,
            mobile=False,
        )
        await phone.goto(f"{local.url}/docs")
        assert await phone.wait_for("document.querySelectorAll('summary').length > 20", 10)
        rows = await phone.evaluate(_ROWS)
        assert not rows["over"] and rows["beside"] == rows["rows"], rows
