"""A store that hangs (takes connections, never answers), asked one request after another: a
user clicking through files, a page of thumbnails fetched in turn, a desktop worker.

Before: each request after the one that timed out became the next probe of the store and
waited the whole read timeout (10 s) of its own, so requests made in turn waited 10 s each.
Now, once a request waited out the store's silence, nobody asks it for a few seconds: those
requests answer 500 storage_unavailable (endpoint_unreachable) with Retry-After at once, then
one request asks it again, and once it answers everything works without a restart. A store
that refuses connections answers fast by itself and is not held back. Real HTTP over loopback;
the bucket (moto) sits behind tests.faults' CuttableProxy, with short store timeouts.

No assertion here reads a clock (a loaded machine stretches any request): whether a request
was sent to the store is what the proxy saw and what the server logged under its request id
(every such answer has a Retry-After, asked or not)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from core.errors import StorageNotAsked, StorageUnavailable
from core.library import Library
from core.settings import Settings
from core.storage import s3
from core.storage.s3 import S3Storage, Timeouts
from server.entry import EmbeddedServer
from tests.faults import CuttableProxy, store_asked
from tests.s3_server import S3Target
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(120)

SHORT = Timeouts(connect=3, read=4, attempts=2)  # what a request waits on a silent store
WINDOW = 3.0  # seconds nobody asks the store after it was found silent (first time)


@pytest.fixture
def served_video(
    s3_settings: Settings,
    media_dir: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> Iterator[tuple[CuttableProxy, Any, Callable[[Reply], bool]]]:
    """(proxy in front of the bucket, a function asking for bytes 100-199 of a stored video
    through the real server: (reply, expected bytes), whether a reply's request was sent to
    the store), with short store timeouts."""
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(s3, "REQUESTS", SHORT)
    monkeypatch.setattr(s3, "HANG_WINDOW", WINDOW)
    monkeypatch.setattr(s3, "LONGEST_HANG_WINDOW", 4 * WINDOW)
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    # no periodic listing of the bucket: the proxy counts only the requests made here
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url, usage_scan_interval=0))
    tokens = make_tokens(lib)
    video = lib.uploads.ingest(media_dir.mp4, "video")
    data = media_dir.mp4.read_bytes()[100:200]
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()

    def play() -> tuple[Reply, bytes]:
        reply = http_call(
            f"{server.url}/stream/{video.id}/video",
            headers={**bearer(tokens.read), "Range": "bytes=100-199"},
            timeout=60,
        )
        return reply, data

    def asked(reply: Reply) -> bool:
        return store_asked(reply, caplog.records)

    try:
        yield proxy, play, asked
    finally:
        server.stop()
        lib.close()
        proxy.close()


def _unreachable(reply: Reply) -> None:
    """The seed's storage error, asked or not, saying when to ask again."""
    assert reply.status == 500, reply.body
    error = reply.json()["error"]
    assert (error["code"], error["reason"]) == ("storage_unavailable", "endpoint_unreachable")
    assert 1 <= int(reply.headers["Retry-After"]) <= 4 * WINDOW, reply.headers


def test_requests_in_turn_on_a_hung_store_answer_at_once_and_work_once_it_answers(
    served_video: tuple[CuttableProxy, Any, Callable[[Reply], bool]],
) -> None:
    proxy, play, _asked = served_video
    proxy.stall()
    first, _ = play()  # nobody knew: this one waits out the store's silence
    _unreachable(first)  # with the window it opened (before: no Retry-After)
    assert _asked(first) and proxy.waiting() == 1, (first.headers, proxy.waiting())

    # before: each one sent to the store, and waiting SHORT.read (4 s) for its silence
    replies = [play()[0] for _ in range(5)]
    for reply in replies:
        _unreachable(reply)
    not_asked = [reply for reply in replies if not _asked(reply)]
    # Milliseconds each, so all fit in the window; one more may ask the store only if a loaded
    # machine stretched them past it (that one then opens a longer window for the rest)
    assert len(not_asked) >= len(replies) - 1, [r.headers for r in replies]
    assert proxy.waiting() == 1 + len(replies) - len(not_asked), proxy.waiting()

    proxy.restore()  # answers again: a client that waits Retry-After gets its bytes
    for _ in range(4):
        reply, expected = play()
        if reply.status != 500:
            break
        _unreachable(reply)
        assert not _asked(reply), reply.headers  # held back by the window, nothing else
        time.sleep(int(reply.headers["Retry-After"]))
    assert reply.status == 206 and reply.body == expected, reply.body
    for _ in range(3):  # and everyone after it, with no restart
        reply, expected = play()
        assert reply.status == 206 and reply.body == expected, reply.body


def test_a_store_that_refuses_is_asked_again_at_once(
    served_video: tuple[CuttableProxy, Any, Callable[[Reply], bool]],
) -> None:
    """A refused connection costs milliseconds: no window holds the next request back (each
    one is sent to the store), so the first request after the store is back works (as before
    the window existed)."""
    proxy, play, _asked = served_video
    proxy.cut()
    for _ in range(3):
        reply, _ = play()
        _unreachable(reply)
        assert _asked(reply), reply.headers  # refused again, not held back unasked
    proxy.restore()
    reply, expected = play()
    assert reply.status == 206 and reply.body == expected, reply.body


def test_each_probe_that_meets_silence_again_keeps_the_store_unasked_longer(
    s3_bucket: S3Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store hung for minutes: the windows grow (the first, then twice as long, ...) so
    requests in turn meet one timeout a window, not one each; a store that answers again
    serves the next request once the window is over."""
    monkeypatch.setattr(s3, "HANG_WINDOW", 1.0)
    monkeypatch.setattr(s3, "LONGEST_HANG_WINDOW", 4.0)
    proxy = CuttableProxy.in_front_of(s3_bucket.endpoint_url)
    storage = S3Storage(
        s3_bucket.bucket,
        proxy.url,
        s3_bucket.access_key_id,
        s3_bucket.secret_access_key,
        s3_bucket.region,
        timeouts=Timeouts(connect=1, read=1.5, attempts=2),
    )
    key = "general/2026/01/small.bin"
    storage.put_bytes(key, b"small", "application/octet-stream")
    try:
        proxy.stall()
        with pytest.raises(StorageUnavailable) as timed_out:
            storage.stat(key)  # waits out the silence
        assert not isinstance(timed_out.value, StorageNotAsked)
        with pytest.raises(StorageNotAsked) as first:
            storage.stat(key)
        time.sleep(first.value.retry_after)
        with pytest.raises(StorageUnavailable) as probed:
            storage.stat(key)  # the probe, silence again
        assert not isinstance(probed.value, StorageNotAsked)
        with pytest.raises(StorageNotAsked) as second:
            storage.stat(key)
        assert second.value.retry_after > first.value.retry_after, second.value.retry_after
        proxy.restore()
        time.sleep(second.value.retry_after)
        assert storage.stat(key).size == 5
    finally:
        proxy.close()
