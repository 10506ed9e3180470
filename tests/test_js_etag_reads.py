"""mediadesk.js reads a bucket's ETag answers only where the confirm uses them (parts), and only
when the bucket's CORS rule exposes them: Chromium logs "Refused to get unsafe header" in the
page's console for every read of a header that is not exposed."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.browser import Tab, chromium_path
from tests.conftest import make_s3_settings
from tests.resumable_client import MiB, noise_png
from tests.s3_server import s3_client
from tests.server_fixtures import make_tokens, server_config
from tests.test_form_filenames import Pictures
from tests.test_js_module import _upload

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.timeout(120),
]


class ConsoleBrowser(Tab):
    """A Browser that keeps the page's console messages (Log and Runtime events), which the
    plain one drops while it waits for its replies."""

    def __init__(self, executable: str) -> None:
        super().__init__(executable)
        self.console: list[str] = []

    def on_event(self, message: dict[str, Any]) -> None:
        event = message.get("params", {})
        if message.get("method") == "Log.entryAdded":
            self.console.append(event["entry"].get("text", ""))
        elif message.get("method") == "Runtime.consoleAPICalled":
            self.console.append(" ".join(str(a.get("value", "")) for a in event["args"]))

    async def listen(self) -> None:
        await self.send("Log.enable")
        await self.send("Runtime.enable")

    async def etag_messages(self) -> list[str]:
        await self.evaluate("1")  # the events logged so far come before this reply
        return [text for text in self.console if "etag" in text.lower()]


def _cors(bucket: Any, origin: str, *, expose_etag: bool) -> None:
    rule: dict[str, Any] = {
        "AllowedOrigins": [origin],
        "AllowedMethods": ["PUT", "GET"],
        "AllowedHeaders": ["content-type"],
        "MaxAgeSeconds": 600,
    }
    if expose_etag:
        rule["ExposeHeaders"] = ["ETag"]
    s3_client(bucket).put_bucket_cors(Bucket=bucket.bucket, CORSConfiguration={"CORSRules": [rule]})


@pytest.fixture
def s3_library(data_dir: Path, s3_bucket: Any) -> Iterator[Library]:
    """Moto's S3, with browser uploads in parts of 5 MiB from 5 MiB on."""
    lib = Library.open(
        make_s3_settings(
            data_dir,
            s3_bucket,
            upload_part_size=5 * MiB,
            multipart_threshold=5 * MiB,
            multipart_chunk_size=5 * MiB,
        )
    )
    yield lib
    lib.close()


@pytest.fixture
def live(s3_library: Library) -> Iterator[EmbeddedServer]:
    server = EmbeddedServer(s3_library, config=server_config(s3_library))
    server.start()
    yield server
    server.stop()


def _confirm_body(result: dict[str, Any]) -> Any:
    [confirm] = [c for c in result["calls"] if c[1].endswith("/confirm-upload")]
    return json.loads(confirm[2]) if confirm[2] else None


async def test_a_single_put_reads_no_etag(
    live: EmbeddedServer, s3_library: Library, s3_bucket: Any, tmp_path: Path
) -> None:
    _cors(s3_bucket, live.url, expose_etag=False)
    token = make_tokens(s3_library).upload
    async with ConsoleBrowser(chromium_path() or "") as browser:
        await browser.goto(f"{live.url}/upload-demo")
        await browser.listen()
        result = await _upload(
            browser, live.url, Pictures(tmp_path).next(), "lap.jpg", "image/jpeg", token
        )
        assert "error" not in result, result
        assert result["stored"]["status"] == "ready"
        assert not any("partNumber=" in u for u in result["requests"])  # one PUT, no parts
        assert _confirm_body(result) is None
        assert await browser.etag_messages() == []


async def test_parts_confirm_with_etags_only_when_the_bucket_exposes_them(
    live: EmbeddedServer, s3_library: Library, s3_bucket: Any, tmp_path: Path
) -> None:
    """Not exposed: no read (no console message), the server asks the bucket (ListParts);
    exposed: the confirm carries each part's ETag."""
    token = make_tokens(s3_library).upload
    async with ConsoleBrowser(chromium_path() or "") as browser:
        await browser.goto(f"{live.url}/upload-demo")
        await browser.listen()
        for expose in (False, True):
            _cors(s3_bucket, live.url, expose_etag=expose)
            # ~5.9 MB: two parts of (at most) 5 MiB
            data = noise_png(tmp_path / f"n{expose}.png", side=1400)
            result = await _upload(browser, live.url, data, "n.png", "image/png", token)
            assert "error" not in result, result
            assert result["stored"]["status"] == "ready"
            assert result["stored"]["size"] == data.stat().st_size
            assert sum("partNumber=" in u for u in result["requests"]) == 2, result["requests"]
            body = _confirm_body(result)
            if expose:
                assert [p["part_number"] for p in body["parts"]] == [1, 2]
                assert all(p["etag"].strip('"') for p in body["parts"]), body
            else:
                assert body is None  # the server reads the parts from the bucket
            assert await browser.etag_messages() == [], expose
