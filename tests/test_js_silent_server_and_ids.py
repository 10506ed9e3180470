"""mediadesk.js and the README's minimal page in headless Chromium against a real server: a
frozen server is given up after the first-answer bound, an athleteId that is no id is refused
before any request, and the README's page names a duplicate by the id the library lists.

An integrator's report: getConfig (uploadFile's first request) in front of a server that takes
the connection and never answers waited the whole 60 s stall window (the Python client now
waits 5 s for a first answer); uploadFile(f, {athleteId: "abc"}) sent athlete_id null
(Number("abc") is NaN, which JSON writes as null) and the server said "The field 'athlete_id'
cannot be null"; and README's "A minimal page of your own" said "Already stored as #53", then
"#56" for the same file: the alias id each presigned duplicate gets, not the file the library
lists (duplicate_of).
"""

from __future__ import annotations

import asyncio
import functools
import json
import re
from pathlib import Path

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.browser import Tab, chromium_path
from tests.server_fixtures import bearer, http_call, make_tokens
from tests.test_client_silent_servers import frozen_server
from tests.test_form_filenames import Pictures
from tests.test_js_module import Site, _upload, server, site

__all__ = ["server", "site"]  # fixtures used here

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.timeout(90),
]

README = Path(__file__).parent.parent / "README.md"


async def test_a_frozen_servers_first_read_is_given_up_after_five_seconds(
    live: EmbeddedServer,
) -> None:
    """getConfig in front of a server that accepts and never answers: rejected with
    network_error (reason "stalled") after 5 s, not the 60 s stall window."""
    with frozen_server() as frozen:
        async with Tab(chromium_path() or "") as browser:
            await browser.goto(f"{live.url}/upload-demo")
            result = await asyncio.wait_for(
                browser.evaluate(
                    f"""(async () => {{
                      const {{ getConfig }} = await import("/static/mediadesk.js");
                      const asked = performance.now();
                      try {{
                        await getConfig({{ baseUrl: {json.dumps(frozen)} }});
                        return {{ resolved: true }};
                      }} catch (err) {{
                        return {{ code: err.code, reason: err.reason, status: err.status,
                                  message: err.message, after: performance.now() - asked }};
                      }}
                    }})()"""
                ),
                20,
            )
    assert result["code"] == "network_error" and result["reason"] == "stalled", result
    assert result["status"] is None
    assert result["message"] == (
        f"GET {frozen}/config: the server did not answer within 5 s: it may be frozen (a stopped "
        "`mediadesk serve`, a desktop app not responding) or too busy, or the host does not "
        "answer"
    ), result
    assert 5000 <= result["after"] < 7000, result


async def test_an_athlete_id_that_is_no_id_is_refused_before_any_request(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    """ "abc" went as athlete_id null and the server refused a null; 2.5, 0 and an id past the
    catalog's were sent too. Each is refused here, nothing sent; a number given as a string of
    digits (a form's value) is still the athlete's id."""
    tokens = make_tokens(library)
    pictures = Pictures(tmp_path)
    athlete = http_call(
        f"{live.url}/athletes",
        method="POST",
        body=json.dumps({"name": "Ana"}).encode(),
        headers={**bearer(tokens.upload), "Content-Type": "application/json"},
    ).json()
    async with Tab(chromium_path() or "") as browser:
        await browser.goto(f"{live.url}/upload-demo")
        up = functools.partial(_upload, browser, live.url, mime="image/jpeg", token=tokens.upload)
        photo = pictures.next()
        for given, shown in (
            ("abc", '"abc"'),
            (2.5, "2.5"),
            (0, "0"),
            (2**31, str(2**31)),
            ("-3", '"-3"'),
            (True, "true"),
        ):
            refused = await up(photo, "a.jpg", athleteId=given)
            assert refused["error"] == {
                "code": "invalid_input",
                "status": None,
                "reason": None,
                "details": {"field": "athlete_id"},
                "message": "athleteId must be an athlete id, a whole number from 1 to "
                f"2147483647, not {shown}: nothing was sent",
            }, (given, refused)
            assert refused["calls"] == [], refused["calls"]
        stored = await up(photo, "a.jpg", athleteId=str(athlete["id"]))
    assert "error" not in stored, stored
    assert stored["stored"]["athlete_id"] == athlete["id"]


def readme_minimal_page() -> str:
    text = README.read_text(encoding="utf-8")
    found = re.search(r"A minimal page of your own:\n\n```html\n(.*?)\n```", text, re.DOTALL)
    assert found, "README's minimal page"
    return found.group(1)


async def test_the_readmes_minimal_page_names_a_duplicate_by_the_stored_file(
    server: EmbeddedServer, site: Site, library: Library, tmp_path: Path
) -> None:
    """README's page, on a site of its own: the same file twice says "Stored as #N", then
    "Already stored as #N" (the file the library lists), not a new alias id each time."""
    (site.folder / "minimal.html").write_text(readme_minimal_page(), encoding="utf-8")
    photo = Pictures(tmp_path).next()
    tokens = make_tokens(library)
    said: list[str] = []
    async with Tab(chromium_path() or "") as browser:
        for _ in range(3):
            await browser.goto(f"{site.url}/minimal.html?server={server.url}")
            await browser.evaluate(
                f"document.getElementById('token').value = {json.dumps(tokens.upload)}"
            )
            root = (await browser.send("DOM.getDocument"))["root"]["nodeId"]
            node = await browser.send("DOM.querySelector", nodeId=root, selector="#file")
            await browser.send("DOM.setFileInputFiles", nodeId=node["nodeId"], files=[str(photo)])
            # the status, once the link is shown (or a refusal said)
            assert await browser.wait_for(
                "!document.getElementById('link').hidden"
                " || document.getElementById('status').value.startsWith('Refused')",
                30,
            )
            said.append(await browser.evaluate("document.getElementById('status').value"))
    stored = said[0].removeprefix("Stored as #")
    assert said == [f"Stored as #{stored}"] + [f"Already stored as #{stored}"] * 2, said
    listed = http_call(f"{server.url}/files", headers=bearer(tokens.read)).json()
    assert [item["id"] for item in listed["items"]] == [int(stored)]
