"""mediadesk.js reads a header of a bucket's answer only when the bucket's CORS rule exposes it:
Chromium logs "Refused to get unsafe header" in the page's console for every read of one that
is not. A bucket's 503 SlowDown with Retry-After (R2 and S3 throttling a busy prefix) made the
module read Retry-After unexposed; it now waits by its own back-off then, and as long as
Retry-After says when the bucket exposes it."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.browser import chromium_path
from tests.server_fixtures import make_tokens
from tests.test_form_filenames import Pictures
from tests.test_js_etag_reads import ConsoleBrowser, _cors, live, s3_library
from tests.test_js_module import _upload

__all__ = ["live", "s3_library"]  # fixtures used here

pytestmark = [
    pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed"),
    pytest.mark.timeout(120),
]

RETRY_AFTER = 3  # seconds, far above the module's own first wait (0.5 s)

_SLOW_DOWN = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SlowDown</Code>'
    b"<Message>Please reduce your request rate.</Message></Error>"
)


class ThrottledBucket(ConsoleBrowser):
    """Answers the first PUT to the bucket 503 SlowDown with Retry-After, as R2 and S3 do when
    throttling (DevTools' Fetch domain stands in for the bucket); lets every other request
    through. Keeps when each PUT left."""

    def __init__(self, executable: str, origin: str, *, expose: bool) -> None:
        super().__init__(executable)
        self.origin, self.expose = origin, expose
        self.puts: list[float] = []

    async def throttle(self) -> None:
        await self.send("Fetch.enable", patterns=[{"urlPattern": "*X-Amz-Signature*"}])

    def on_event(self, message: dict[str, Any]) -> None:
        super().on_event(message)
        if message.get("method") != "Fetch.requestPaused":
            return
        event = message["params"]
        reply: dict[str, Any] = {"requestId": event["requestId"]}
        method = "Fetch.continueRequest"
        if event["request"]["method"] == "PUT":
            self.puts.append(time.monotonic())
            if len(self.puts) == 1:
                headers = {
                    "Access-Control-Allow-Origin": self.origin,
                    "Content-Type": "application/xml",
                    "Retry-After": str(RETRY_AFTER),
                }
                if self.expose:
                    headers["Access-Control-Expose-Headers"] = "Retry-After"
                method = "Fetch.fulfillRequest"
                reply.update(
                    responseCode=503,
                    responseHeaders=[{"name": k, "value": v} for k, v in headers.items()],
                    body=base64.b64encode(_SLOW_DOWN).decode(),
                )
        self.send_later(method, **reply)

    async def header_messages(self) -> list[str]:
        await self.evaluate("1")  # the events logged so far come before this reply
        return [text for text in self.console if "unsafe header" in text.lower()]


@pytest.mark.parametrize("expose", [False, True], ids=["hidden", "exposed"])
async def test_a_throttled_put_is_sent_again_reading_only_exposed_headers(
    live: EmbeddedServer, s3_library: Library, s3_bucket: Any, tmp_path: Path, expose: bool
) -> None:
    _cors(s3_bucket, live.url, expose_etag=False)
    token = make_tokens(s3_library).upload
    async with ThrottledBucket(chromium_path() or "", live.url, expose=expose) as browser:
        await browser.goto(f"{live.url}/upload-demo")
        await browser.listen()
        await browser.throttle()
        result = await _upload(
            browser, live.url, Pictures(tmp_path).next(), "lap.jpg", "image/jpeg", token
        )
        assert "error" not in result, result
        assert result["stored"]["status"] == "ready"
        assert len(browser.puts) == 2, browser.puts  # the 503, then the same PUT again
        waited = browser.puts[1] - browser.puts[0]
        if expose:
            assert waited >= RETRY_AFTER - 0.2, waited  # as the bucket asked
        else:
            assert waited < RETRY_AFTER - 0.5, waited  # its own back-off: nothing to read
        assert await browser.header_messages() == []


_REFUSAL = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>SignatureDoesNotMatch</Code>'
    b"<Message>Check your key &amp; signing method.</Message></Error>"
)


class RefusingBucket(ThrottledBucket):
    """Answers every PUT to the bucket 403 with S3's XML error document, its CORS rule matching
    the page (so the page may read it), as R2 and S3 refuse a signature they do not take."""

    def on_event(self, message: dict[str, Any]) -> None:
        if message.get("method") != "Fetch.requestPaused":
            ConsoleBrowser.on_event(self, message)
            return
        event = message["params"]
        reply: dict[str, Any] = {"requestId": event["requestId"]}
        method = "Fetch.continueRequest"
        if event["request"]["method"] == "PUT":
            self.puts.append(time.monotonic())
            method = "Fetch.fulfillRequest"
            headers = {
                "Access-Control-Allow-Origin": self.origin,
                "Content-Type": "application/xml",
            }
            reply.update(
                responseCode=403,
                responseHeaders=[{"name": k, "value": v} for k, v in headers.items()],
                body=base64.b64encode(_REFUSAL).decode(),
            )
        self.send_later(method, **reply)


async def test_a_buckets_refusal_of_a_put_is_said_in_its_words(
    live: EmbeddedServer, s3_library: Library, s3_bucket: Any, tmp_path: Path
) -> None:
    """mediadesk.js rejected a bucket's 403 (its XML error) with only "HTTP 403": the page could
    not tell an expired link from a signature the bucket would not take."""
    _cors(s3_bucket, live.url, expose_etag=False)
    token = make_tokens(s3_library).upload
    async with RefusingBucket(chromium_path() or "", live.url, expose=False) as browser:
        await browser.goto(f"{live.url}/upload-demo")
        await browser.listen()
        await browser.throttle()
        result = await _upload(
            browser, live.url, Pictures(tmp_path).next(), "lap.jpg", "image/jpeg", token
        )
    error = result["error"]
    assert (error["code"], error["status"]) == ("http_403", 403)
    assert error["message"] == (
        "HTTP 403: the storage answered SignatureDoesNotMatch (Check your key & signing method.)"
    )
    assert error["details"] == {
        "storage_code": "SignatureDoesNotMatch",
        "storage_message": "Check your key & signing method.",
    }
    assert len(browser.puts) == 1  # a refusal, not sent again
