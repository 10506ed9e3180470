"""A store that takes connections and never answers (a hung S3/R2 endpoint, a black-holed
route) is reported within seconds, and a slow link still carries a big part.

Before: a 60 s read timeout tried 3 times held /health for 60 s and streams and uploads for
three minutes. Real HTTP over loopback; the bucket (moto) sits behind tests.faults'
CuttableProxy, which stalls or slows the way to it. The time bounds are behaviour bounds (an
answer before monitors, players and proxies give up), far above what the code takes."""

from __future__ import annotations

import http.client
import io
import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from core import keys
from core.errors import StorageUnavailable
from core.library import Library
from core.settings import Settings
from core.storage import s3
from core.storage.s3 import REQUESTS, S3Storage, Timeouts
from server.entry import EmbeddedServer
from tests.faults import CuttableProxy, assert_healthy, wait_for
from tests.resumable_client import padded_mp4
from tests.s3_server import S3Target
from tests.server_fixtures import (
    Reply,
    bearer,
    http_call,
    make_tokens,
    multipart_body,
    server_config,
)

pytestmark = pytest.mark.timeout(180)

MiB = 1024 * 1024
BOUND = 20.0  # seconds: far above the code's (about 4 s for /health, 10 s for the rest)
# The store's request timeouts the tests wait out: production's rules (REQUESTS: 5 s to connect,
# 10 s to read, a timed-out try never tried again) on half the read timeout, and the bounds
# scaled with it (a timeout tried twice still overshoots them). S3Storage reads REQUESTS and
# HANG_WINDOW when it is made.
SHORT = Timeouts(connect=3, read=5, attempts=2)
SHORT_BOUND = BOUND * SHORT.read / REQUESTS.read


@pytest.fixture
def short_timeouts(monkeypatch: pytest.MonkeyPatch) -> Timeouts:
    monkeypatch.setattr(s3, "REQUESTS", SHORT)
    monkeypatch.setattr(s3, "HANG_WINDOW", 2.0)  # asked again sooner once back
    return SHORT


def test_the_production_timeouts_fit_the_bound() -> None:
    """What the tests below check on SHORT holds for production's own values."""
    assert REQUESTS.connect + REQUESTS.read < BOUND
    assert s3.PROBE.connect + s3.PROBE.read < BOUND


def _timed(calls: dict[str, Callable[[], Reply]]) -> dict[str, tuple[Reply, float]]:
    """Runs the calls at once; each one's reply and seconds taken."""
    results: dict[str, tuple[Reply, float]] = {}

    def run(label: str, call: Callable[[], Reply]) -> None:
        start = time.monotonic()
        reply = call()
        results[label] = (reply, time.monotonic() - start)

    threads = [threading.Thread(target=run, args=item) for item in calls.items()]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_a_silent_store_fails_health_streams_and_uploads_within_seconds(
    s3_settings: Settings, media_dir: Any, short_timeouts: Timeouts
) -> None:
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url))
    tokens = make_tokens(lib)
    video = lib.uploads.ingest(media_dir.mp4, "video")
    data = media_dir.mp4.read_bytes()
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    form, form_type = multipart_body(
        {"file_type": "image"}, {"file": ("new.png", media_dir.png.read_bytes(), "image/png")}
    )
    try:
        proxy.stall()
        answered = _timed(
            {
                "health": lambda: http_call(f"{server.url}/health", timeout=120),
                "stream": lambda: http_call(
                    f"{server.url}/stream/{video.id}/raw", headers=bearer(tokens.read), timeout=120
                ),
                "upload": lambda: http_call(
                    f"{server.url}/files/upload/direct",
                    "POST",
                    form,
                    {**bearer(tokens.upload), "Content-Type": form_type},
                    timeout=120,
                ),
            }
        )
        health, seconds = answered["health"]
        assert health.status == 503 and health.json()["storage"]["ok"] is False, health.body
        assert seconds < SHORT_BOUND, f"/health took {seconds:.1f} s"
        for label in ("stream", "upload"):
            reply, seconds = answered[label]
            assert reply.status == 500, (label, reply.body)
            error = reply.json()["error"]
            assert (error["code"], error.get("reason")) == (
                "storage_unavailable",
                "endpoint_unreachable",
            ), (label, error)
            assert seconds < SHORT_BOUND, f"{label} took {seconds:.1f} s"

        proxy.restore()  # asked again once the store's window is over (core/storage/s3.py)
        wait_for(lambda: http_call(f"{server.url}/health").status == 200, BOUND, "the store")
        streamed = http_call(f"{server.url}/stream/{video.id}/raw", headers=bearer(tokens.read))
        assert streamed.status == 200 and streamed.body == data
        # The bucket never answered the upload's PUT, so it may hold the object: the deletion
        # noted before the PUT stays, and deletes it once due (as 6 hours later)
        noted = lib.deferred.pending_keys()
        assert len([k for k in noted if not k.startswith(keys.THUMBNAIL_PREFIX)]) == 1, noted
        lib.deferred.run(datetime.now(UTC) + timedelta(hours=7))
        assert_healthy(lib, {video.id: data}, server.url, tokens.read)
    finally:
        server.stop()
        lib.close()
        proxy.close()


def test_a_10_mib_part_on_a_slow_link_outlasts_the_timeouts(
    s3_bucket: S3Target, short_timeouts: Timeouts
) -> None:
    """botocore's read timeout is per socket read and urllib3 sends a body block by block
    under the connect timeout: a part PUT taking longer than the read timeout, at about 1.4 MB/s, is
    fine (the timeouts are for a silent store, not a slow one)."""
    proxy = CuttableProxy.in_front_of(s3_bucket.endpoint_url)
    storage = S3Storage(
        s3_bucket.bucket,
        proxy.url,
        s3_bucket.access_key_id,
        s3_bucket.secret_access_key,
        s3_bucket.region,
    )
    assert storage.timeouts == short_timeouts  # the default: s3.REQUESTS
    try:
        key = "general/2026/01/slow.bin"
        upload_id = storage.create_multipart(key, "application/octet-stream")
        data = os.urandom(10 * MiB)  # ~7.5 s
        proxy.slow(1.4e6)
        start = time.monotonic()
        etag = storage.upload_part(key, upload_id, 1, io.BytesIO(data), len(data))
        seconds = time.monotonic() - start
        proxy.slow(None)
        assert seconds > short_timeouts.read, seconds  # it did outlast the read timeout
        parts = storage.list_parts(key, upload_id)
        assert [(p.part_number, p.size, p.etag) for p in parts] == [(1, len(data), etag)]
        storage.abort_multipart(key, upload_id)
    finally:
        proxy.close()


def test_a_part_the_silent_store_stops_taking_is_sent_once(
    s3_bucket: S3Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """urllib3 sends a body under the connect timeout; botocore words that send's timeout as
    ConnectionClosedError (a reset, tried again). Before: the part was sent again to the store
    just found silent, for another connect timeout: a hung store failed an upload whose part
    was still going in 12.2 s (2 x (5 s + about 1 s)), not within README's 10 s."""
    timeouts = Timeouts(connect=2, read=3, attempts=2)
    monkeypatch.setattr(s3, "REQUESTS", timeouts)
    proxy = CuttableProxy.in_front_of(s3_bucket.endpoint_url)
    storage = S3Storage(
        s3_bucket.bucket,
        proxy.url,
        s3_bucket.access_key_id,
        s3_bucket.secret_access_key,
        s3_bucket.region,
    )
    try:
        key = "general/2026/01/stalled.bin"
        upload_id = storage.create_multipart(key, "application/octet-stream")
        data = bytes(32 * MiB)  # more than the loopback buffers on the way hold
        proxy.stall()
        start = time.monotonic()
        with pytest.raises(StorageUnavailable) as failed:
            storage.upload_part(key, upload_id, 1, io.BytesIO(data), len(data))
        seconds = time.monotonic() - start
        assert failed.value.reason == "endpoint_unreachable", failed.value
        assert proxy.waiting() == 1  # before: 2, the part sent again on a new connection
        # one send that timed out, after botocore's 1 s wait for a "100 Continue" (3.0 s
        # here); before, two: 6.1 s
        assert seconds < timeouts.connect + 1.5, seconds
    finally:
        proxy.close()


def test_a_store_that_stalls_mid_stream_cuts_the_answer_within_seconds(
    s3_settings: Settings, tmp_path: Any, short_timeouts: Timeouts
) -> None:
    """The bucket stops sending halfway through an object: the player gets a cut answer (not
    a connection left open forever, which players show as endless buffering), the server
    keeps answering others meanwhile, and streams again once the store is back.

    Loopback buffers along the way (proxy → server → client) hold a few MiB, so the object is
    big and the client reads slowly until the stall: what the server has not yet fetched when
    the bucket falls silent is most of it."""
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url))
    tokens = make_tokens(lib)
    source = padded_mp4(tmp_path / "match.mp4", 64 * MiB)
    video = lib.uploads.ingest(source, "video")
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    conn = http.client.HTTPConnection("127.0.0.1", urlsplit(server.url).port, timeout=120)
    try:
        conn.request("GET", f"/stream/{video.id}/raw", headers=bearer(tokens.read))
        answer = conn.getresponse()
        assert answer.status == 200 and int(answer.headers["Content-Length"]) == 64 * MiB
        received = len(answer.read(MiB))
        proxy.stall()
        start = time.monotonic()
        listed = http_call(f"{server.url}/files/", headers=bearer(tokens.read), timeout=5)
        assert listed.status == 200 and listed.json()["total"] == 1, listed.body
        with pytest.raises(http.client.IncompleteRead) as cut:
            answer.read()  # everything the server sends until it gives up on the bucket
        seconds = time.monotonic() - start
        received += len(cut.value.partial)
        assert received < 64 * MiB
        assert seconds < SHORT_BOUND, f"the cut answer took {seconds:.1f} s"
        assert short_timeouts.read - 1 < seconds, seconds  # cut by the read timeout, not by chance

        proxy.restore()  # asked again once the store's window is over (core/storage/s3.py)
        wait_for(lambda: http_call(f"{server.url}/health").status == 200, BOUND, "the store")
        streamed = http_call(f"{server.url}/stream/{video.id}/raw", headers=bearer(tokens.read))
        assert streamed.status == 200 and streamed.body == source.read_bytes()
    finally:
        conn.close()
        server.stop()
        lib.close()
        proxy.close()
