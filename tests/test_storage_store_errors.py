"""A store that answers, but with an error of its own: 503 SlowDown or 429 (throttling, as R2
does under load) and 500 InternalError (a failure inside, as in R2's incidents).

Before, neither had a `reason`: GET /health said 503 with storage {ok: false} and no reason,
and every request needing the store 500 storage_unavailable without reason or Retry-After,
although README's R2 section promises every caller storage.reason. Now (a throttled or failed
request tried once more after botocore's back-off, as R2 asks, then): reason
storage_throttled (nobody asks the store for as long as it asked, its Retry-After within the
longest window, else the window a silence opens) and storage_server_error (asked again by the
next request), each answer with a Retry-After. And every answer of a store out of reach says
Retry-After, the first one to meet a hang and a refused connection's too (before: only those
given without asking it). Real HTTP over loopback; the bucket is moto's behind
tests.faults' ErringStore (answers S3 errors) or CuttableProxy (refuses, hangs)."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import pytest

from core.errors import StorageNotAsked, StorageUnavailable
from core.library import Library
from core.outage import ASK_AGAIN
from core.settings import Settings
from core.storage import s3
from core.storage.s3 import S3Storage, Timeouts
from server.entry import EmbeddedServer
from tests.faults import CuttableProxy, ErringStore, store_asked
from tests.s3_server import S3Target
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(120)

KEY = "general/2026/01/small.bin"
WINDOW = 2.0  # the first quiet window, shortened (production: 5 s)
LONGEST = 3.0  # the longest (production: 20 s)


@pytest.fixture
def erring(s3_bucket: S3Target, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """(an ErringStore in front of the bucket, an S3Storage through it holding KEY)."""
    monkeypatch.setattr(s3, "HANG_WINDOW", WINDOW)
    monkeypatch.setattr(s3, "LONGEST_HANG_WINDOW", LONGEST)
    proxy = ErringStore(s3_bucket.endpoint_url)
    storage = S3Storage(
        s3_bucket.bucket,
        proxy.url,
        s3_bucket.access_key_id,
        s3_bucket.secret_access_key,
        s3_bucket.region,
        timeouts=Timeouts(connect=3, read=4, attempts=2),
    )
    storage.put_bytes(KEY, b"small", "application/octet-stream")
    try:
        yield proxy, storage
    finally:
        proxy.close()


def test_a_throttling_store_is_named_and_not_asked_for_as_long_as_it_says(erring: Any) -> None:
    proxy, storage = erring
    proxy.fail(503, "SlowDown", {"Retry-After": "3600"})  # more than any window: bounded
    with pytest.raises(StorageUnavailable) as throttled:
        storage.open_range(KEY)
    assert not isinstance(throttled.value, StorageNotAsked)
    assert throttled.value.reason == "storage_throttled"
    assert throttled.value.retry_after == LONGEST
    assert proxy.answered == 2  # tried once more after botocore's back-off, then given up
    with pytest.raises(StorageNotAsked) as held:  # nobody asks it meanwhile
        storage.stat(KEY)
    assert held.value.reason == "storage_throttled", held.value.reason
    assert 1 <= held.value.retry_after <= LONGEST
    assert proxy.answered == 2
    proxy.restore()
    time.sleep(held.value.retry_after)
    assert storage.stat(KEY).size == 5  # asked again once the window is over


def test_a_throttling_store_that_says_no_wait_is_left_the_window_of_a_silence(
    erring: Any,
) -> None:
    proxy, storage = erring
    proxy.fail(503, "SlowDown")
    with pytest.raises(StorageUnavailable) as throttled:
        storage.stat(KEY)  # a HEAD: no body, the status says it
    assert throttled.value.reason == "storage_throttled"
    assert throttled.value.retry_after == WINDOW
    with pytest.raises(StorageNotAsked) as held:
        storage.stat(KEY)
    assert held.value.reason == "storage_throttled"
    proxy.fail(429, "TooManyRequests", {"Retry-After": "1"})
    time.sleep(held.value.retry_after)
    with pytest.raises(StorageUnavailable) as again:  # the probe: throttled again
        storage.stat(KEY)
    assert not isinstance(again.value, StorageNotAsked)
    assert (again.value.reason, again.value.retry_after) == ("storage_throttled", 1)


def test_a_store_failing_inside_is_named_and_asked_again_by_the_next_request(
    erring: Any,
) -> None:
    proxy, storage = erring
    proxy.fail(500, "InternalError")
    with pytest.raises(StorageUnavailable) as failing:
        storage.open_range(KEY)
    assert (failing.value.reason, failing.value.retry_after) == ("storage_server_error", ASK_AGAIN)
    assert proxy.answered == 2  # tried once more: a store's passing glitch
    proxy.fail(502, "BadGateway", {"Retry-After": "3"})
    with pytest.raises(StorageUnavailable) as again:  # asked, not held back
        storage.open_range(KEY)
    assert not isinstance(again.value, StorageNotAsked)
    assert (again.value.reason, again.value.retry_after) == ("storage_server_error", 3)
    proxy.restore()
    assert storage.stat(KEY).size == 5  # the first request after it works


@pytest.fixture
def served(s3_settings: Settings, media_dir: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """A live server whose bucket sits behind an ErringStore (then a CuttableProxy): (the
    proxy, the server, tokens, an image stored there)."""
    monkeypatch.setattr(s3, "HANG_WINDOW", WINDOW)
    monkeypatch.setattr(s3, "LONGEST_HANG_WINDOW", LONGEST)
    proxy = ErringStore(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url, usage_scan_interval=0))
    image = lib.uploads.ingest(media_dir.jpeg, "image")
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield proxy, server, make_tokens(lib), image.id
    finally:
        server.stop()
        lib.close()
        proxy.close()


def _said(reply: Reply, reason: str) -> int:
    """The Retry-After of a 500 storage_unavailable with `reason`."""
    assert reply.status == 500, reply.body
    error = reply.json()["error"]
    assert (error["code"], error.get("reason")) == ("storage_unavailable", reason), error
    assert error["message"].endswith("try again later"), error
    return int(reply.headers["Retry-After"])


@pytest.mark.parametrize(
    ("status", "code", "reason"),
    [(503, "SlowDown", "storage_throttled"), (500, "InternalError", "storage_server_error")],
)
def test_health_and_every_request_name_a_store_answering_5xx(
    served: Any, status: int, code: str, reason: str
) -> None:
    proxy, server, tokens, image = served
    proxy.fail(status, code)
    health = http_call(f"{server.url}/health")
    assert health.status == 503, health.body
    storage = health.json()["storage"]
    assert (storage["ok"], storage.get("reason")) == (False, reason), storage
    for _ in range(2):  # the first, and one after it (not asked while a throttle lasts)
        raw = http_call(f"{server.url}/stream/{image}/raw", headers=bearer(tokens.read))
        assert 1 <= _said(raw, reason) <= LONGEST


def test_every_answer_of_a_store_out_of_reach_says_when_to_ask_again(
    s3_settings: Settings,
    media_dir: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The first request to meet a hung store waits out its silence, then answers with the
    window it opened; one whose connection was refused asks again soon (ASK_AGAIN)."""
    monkeypatch.setattr(s3, "REQUESTS", Timeouts(connect=2, read=2, attempts=2))
    monkeypatch.setattr(s3, "HANG_WINDOW", WINDOW)
    monkeypatch.setattr(s3, "LONGEST_HANG_WINDOW", LONGEST)
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url, usage_scan_interval=0))
    image = lib.uploads.ingest(media_dir.jpeg, "image").id
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    read = bearer(make_tokens(lib).read)
    caplog.set_level(logging.INFO)
    try:
        proxy.stall()
        first = http_call(f"{server.url}/stream/{image}/raw", headers=read, timeout=60)
        assert store_asked(first, caplog.records)  # it waited out the silence
        assert 1 <= _said(first, "endpoint_unreachable") <= WINDOW
        proxy.restore()
        proxy.cut()
        time.sleep(WINDOW)  # the window over: the next request asks the store
        refused = http_call(f"{server.url}/stream/{image}/raw", headers=read, timeout=60)
        assert store_asked(refused, caplog.records)
        assert _said(refused, "endpoint_unreachable") == ASK_AGAIN
    finally:
        server.stop()
        lib.close()
        proxy.close()


def test_one_throttled_answer_is_retried_not_an_outage(erring: Any) -> None:
    """R2 asks clients to retry a 503 SlowDown: one throttled part failed a whole multipart
    transfer at once (botocore's retry was cut for throttling answers) and held every caller
    of the store for the outage's window (an outside regression hunt, 8b9be91)."""
    proxy, storage = erring
    proxy.fail(503, "SlowDown", times=1)
    assert storage.stat(KEY).size == 5  # the retry got through
    assert proxy.answered == 1
    assert storage.stat(KEY).size == 5  # and nobody was held back after it
