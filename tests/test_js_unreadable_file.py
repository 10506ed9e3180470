"""mediadesk.js says a file the browser can no longer read (changed, moved or removed on disk
since it was chosen) as such: MediaDeskError `unreadable`, status null, before any request.

An outside tester's report: a clip chosen in a page and then re-exported over the same name
made uploadFile reject with Chromium's bare DOMException (NotReadableError: no MediaDeskError,
`code` 0; the demo page said "Refused: The requested file could not be read… (0)"). A real
Chromium and a real server; the file is changed on disk after it was chosen.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.browser import Browser, chromium_path
from tests.server_fixtures import make_tokens
from tests.test_demo_phone import Phone, _open, _wait_status
from tests.test_form_filenames import Pictures

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.timeout(60),
]

CALL = """
(async (token) => {
  const md = await import("/static/mediadesk.js");
  const file = document.getElementById("chosen").files[0];
  try {
    await md.uploadFile(file, { token });
    return { stored: true };
  } catch (err) {
    return { name: err.name, code: err.code, status: err.status, message: err.message };
  }
})
"""


async def _choose(browser: Browser, base: str, path: Path) -> int:
    """`path` chosen in a file input (#chosen) added to a page of `base`; the input's node."""
    await browser.goto(f"{base}/upload-demo")
    await browser.evaluate(
        "(() => { const input = document.createElement('input'); input.type = 'file';"
        " input.id = 'chosen'; document.body.append(input); })()"
    )
    root = (await browser.send("DOM.getDocument"))["root"]["nodeId"]
    node: int = (await browser.send("DOM.querySelector", nodeId=root, selector="#chosen"))["nodeId"]
    await browser.send("DOM.setFileInputFiles", nodeId=node, files=[str(path)])
    return node


async def _chosen_then_changed(browser: Browser, base: str, path: Path) -> None:
    """`path` chosen in a file input of a page of `base`, then written again longer on disk
    (an editor's export)."""
    await _choose(browser, base, path)
    # Chromium takes a chosen file's size and date when the page first asks for them, not
    # when it is chosen: asked only after the write, the longer file reads fine (a CI run
    # saw it stored). Asking now is what a page showing the chosen file's size does.
    size = await browser.evaluate("document.getElementById('chosen').files[0].size")
    assert size == path.stat().st_size
    before = path.stat()
    with open(path, "ab") as fh:
        fh.write(b"\0" * 4096)
    # Chromium tells a changed file by its modification time alone, in whole seconds: a
    # write within the second the photo was made goes unnoticed. An editor's export comes
    # later than that.
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 2_000_000_000))


async def test_a_file_changed_since_it_was_chosen_is_said_unreadable(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    token = make_tokens(library).upload
    photo = Pictures(tmp_path).next()
    async with Browser(chromium_path() or "") as browser:
        await _chosen_then_changed(browser, live.url, photo)
        result: dict[str, Any] = await browser.evaluate(f"({CALL})({json.dumps(token)})")
    assert result["name"] == "MediaDeskError", result
    assert (result["code"], result["status"]) == ("unreadable", None)
    assert result["message"].startswith(f"{photo.name} can no longer be read")


async def test_a_file_removed_since_it_was_chosen_is_said_unreadable_not_empty(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    """Removed from disk before the page first asked its size, the chosen file reads as 0
    bytes (Chromium takes its size then, of a file no longer there): uploadFile said it was
    empty (empty_file). A file that is really empty still is."""
    token = make_tokens(library).upload
    photo = Pictures(tmp_path).next()
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    async with Browser(chromium_path() or "") as browser:
        node = await _choose(browser, live.url, photo)
        photo.unlink()
        gone: dict[str, Any] = await browser.evaluate(f"({CALL})({json.dumps(token)})")
        await browser.send("DOM.setFileInputFiles", nodeId=node, files=[str(empty)])
        nothing: dict[str, Any] = await browser.evaluate(f"({CALL})({json.dumps(token)})")
    assert (gone["name"], gone["code"], gone["status"]) == ("MediaDeskError", "unreadable", None)
    assert gone["message"].startswith(f"{photo.name} can no longer be read"), gone
    assert (nothing["code"], nothing["status"]) == ("empty_file", None), nothing


@pytest.mark.parametrize(
    ("languages", "said"),
    [
        (
            "en-GB,en;q=0.9",
            "Refused: The file can no longer be read: it changed, moved or was removed since "
            "it was chosen. Choose it again. (unreadable)",
        ),
        (
            "es-ES,es;q=0.9",
            "Rechazado: El archivo ya no se puede leer: cambió, se movió o se borró desde que "
            "se eligió. Vuelve a elegirlo. (unreadable)",
        ),
    ],
)
async def test_the_demo_page_says_a_removed_file_unreadable(
    live: EmbeddedServer, library: Library, tmp_path: Path, languages: str, said: str
) -> None:
    """/upload-demo asks a chosen file's size as it is chosen: a file gone by then (removed
    between the pick and the page's reading it) read as 0 bytes and was said "The file is
    empty." It is said unreadable, in the page's language."""
    photo = Pictures(tmp_path).next()
    photo.unlink()
    async with Phone(chromium_path() or "") as phone:
        await phone.start(languages)
        await _open(phone, live.url, make_tokens(library).upload)
        await phone.choose(photo)
        status = await _wait_status(phone, ("Refused", "Rechazado"), 10)
    assert status == said, status
