"""A download offers a name of at most core.filenames.DISK_NAME_BYTES (200) bytes of UTF-8, its
extension kept: names are stored up to 255 characters and were offered whole (Content-
Disposition's filename* and its ASCII fallback, on local storage and in S3's presigned
response-content-disposition), and Chromium cancels, saying nothing, the download of a name
whose "<name>.crdownload" passes the file system's 255 bytes. The catalog's name stays whole.
Real HTTP over loopback, moto's S3 server, and headless Chromium when it is installed."""

from __future__ import annotations

import asyncio
import os
import re
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from core.filenames import DISK_NAME_BYTES
from core.storage.disposition import content_disposition
from server.entry import EmbeddedServer
from tests.browser import Browser, chromium_path
from tests.name_helpers import direct, pictures
from tests.server_fixtures import bearer, http_call, make_tokens
from tests.test_form_filenames import Pictures

__all__ = ["pictures"]

pytestmark = pytest.mark.timeout(120)

FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467"
LONG = [
    "y" * 245 + ".jpg",  # 249 bytes: Chromium's limit is 244
    "é" * 150 + ".jpg",  # 154 characters, 304 bytes
    "写" * 80 + " final.jpeg",
    FAMILY * 40 + ".jpg",  # a cut inside the sequence leaves no joiner
]


def offered(header: str) -> tuple[str, str]:
    """(filename, filename*) of a Content-Disposition value, filename* decoded."""
    fallback = re.search(r'filename="([^"]*)"', header)
    extended = re.search(r"filename\*=UTF-8''(\S+)", header)
    assert fallback and extended, header
    return fallback.group(1), unquote(extended.group(1))


def check_offered(header: str, stored: str) -> None:
    fallback, name = offered(header)
    ext = stored.rsplit(".", 1)[1]
    for each in (fallback, name):
        assert len(each.encode()) <= DISK_NAME_BYTES, (len(each.encode()), each)
        assert each.endswith("." + ext), each
    assert stored.startswith(name[: -len(ext) - 1]), name
    assert "\u200d." not in name


@pytest.mark.parametrize("name", LONG, ids=["ascii", "latin", "cjk", "emoji"])
@pytest.mark.parametrize("kind", ["attachment", "inline"])
def test_a_long_name_is_offered_within_the_bound(name: str, kind: str) -> None:
    check_offered(content_disposition(name, kind), name)


def test_a_name_within_the_bound_is_offered_whole() -> None:
    name = "x" * (DISK_NAME_BYTES - 4) + ".jpg"
    assert offered(content_disposition(name)) == (name, name)
    assert offered(content_disposition("José Peña.jpg")) == ("Jose Pena.jpg", "José Peña.jpg")


@pytest.mark.parametrize("backend", ["live", "s3_live"])
def test_every_download_link_offers_the_short_name_and_the_catalog_keeps_it_whole(
    request: pytest.FixtureRequest, backend: str, pictures: Pictures
) -> None:
    server: EmbeddedServer = request.getfixturevalue(backend)
    tokens = make_tokens(server.library)
    for name in LONG[:2]:
        record = direct(server.url, tokens.upload, name, pictures.next().read_bytes())
        assert record["original_filename"] == name
        first = http_call(
            f"{server.url}/files/{record['id']}/download", headers=bearer(tokens.read)
        )
        assert first.status == 302, first.body
        check_offered(first.headers["Content-Disposition"], name)
        target = first.headers["Location"]
        if backend == "s3_live":  # the bucket answers with what the link asks it to say
            asked = parse_qs(urlsplit(target).query)["response-content-disposition"][0]
            check_offered(asked, name)
        got = http_call(target if target.startswith("http") else server.url + target)
        assert got.status == 200, got.body
        check_offered(got.headers["Content-Disposition"], name)
        raw = http_call(f"{server.url}/stream/{record['id']}/raw", headers=bearer(tokens.read))
        check_offered(raw.headers["Content-Disposition"], name)


class _Downloads(Browser):
    """Chromium, keeping the end of each download (completed or canceled)."""

    def __init__(self, executable: str) -> None:
        super().__init__(executable)
        self.ended: list[str] = []

    def on_event(self, message: dict[str, Any]) -> None:
        state = message.get("params", {}).get("state")
        if message.get("method") == "Browser.downloadProgress" and state != "inProgress":
            self.ended.append(state)


@pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed")
async def test_chromium_saves_a_long_name(
    live: EmbeddedServer, pictures: Pictures, tmp_path: Path
) -> None:
    tokens = make_tokens(live.library)
    links = []
    for name in LONG[:2]:
        record = direct(live.url, tokens.upload, name, pictures.next().read_bytes())
        first = http_call(f"{live.url}/files/{record['id']}/download", headers=bearer(tokens.read))
        target = first.headers["Location"]
        links.append(target if target.startswith("http") else live.url + target)
    saved = tmp_path / "saved"
    saved.mkdir()
    downloads = _Downloads(chromium_path() or "")
    async with downloads as browser:
        await browser.send(
            "Browser.setDownloadBehavior",
            behavior="allow",
            downloadPath=str(saved),
            eventsEnabled=True,
        )
        for link in links:
            await browser.send("Page.navigate", url=link)
        deadline = time.monotonic() + 60
        while len(downloads.ended) < len(links) and time.monotonic() < deadline:
            await browser.evaluate("1")  # events arrive with the replies
            await asyncio.sleep(0.05)
    assert downloads.ended == ["completed"] * len(links)
    names = sorted(os.listdir(saved))
    assert len(names) == len(links) and all(n.endswith(".jpg") for n in names), names
