"""A hung store under load: players keep asking for streams while the bucket is silent, and
the catalog (listings, metadata edits) keeps answering at once; once the store is back,
everything works again without a restart.

Before: each stream held one of the server's worker threads for the whole read timeout (10 s),
so 40 stalled range requests made a listing wait for the workers to drain (about 20 s, more
with more players), and every extra request on the silent store waited 10 s of its own. Real
HTTP over loopback; the bucket (moto) sits behind tests.faults' CuttableProxy, which stalls the
way to it."""

from __future__ import annotations

import io
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from core.errors import StorageUnavailable
from core.keys import THUMBNAIL_PREFIX
from core.library import Library
from core.settings import Settings
from core.storage import s3
from core.storage.s3 import S3Storage, Timeouts
from server.entry import EmbeddedServer
from tests.faults import CuttableProxy, cli, store_asked, wait_for
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
PLAYERS = 40  # range requests at once: a handful of players seeking and retrying
WORKERS = 8  # the server's threads of either pool (server_config's executor_workers)


# The store's request timeouts in the tests that wait them out: the same rules as production's
# (5 s to connect, 10 s to read), each wait a few seconds shorter (S3Storage reads REQUESTS
# when it is made).
SHORT = Timeouts(connect=3, read=5, attempts=2)
# Shorter still where nothing else needs the time: a single upload whose body stops moving
QUICK = Timeouts(connect=2, read=3, attempts=2)


def test_a_silent_store_under_load_leaves_the_catalog_answering_and_recovers(
    s3_settings: Settings,
    media_dir: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    monkeypatch.setattr(s3, "REQUESTS", SHORT)
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url))
    tokens = make_tokens(lib)
    video = lib.uploads.ingest(media_dir.mp4, "video")
    data = media_dir.mp4.read_bytes()
    server = EmbeddedServer(lib, config=server_config(lib, executor_workers=WORKERS))
    server.start()
    threads: list[threading.Thread] = []

    def play(start: int, into: list[Reply]) -> None:
        into.append(
            http_call(
                f"{server.url}/stream/{video.id}/video",
                headers={**bearer(tokens.read), "Range": f"bytes={start}-{start + 999}"},
                timeout=170,
            )
        )

    def wave(edit: str) -> tuple[list[Reply], list[Reply], list[Reply]]:
        """PLAYERS range requests at once, then a listing and an edit while they wait: (every
        player's reply, those that had ended once the listing answered, once the edit had)."""
        streams: list[Reply] = []  # in the order they end
        players = [threading.Thread(target=play, args=(i, streams)) for i in range(PLAYERS)]
        threads.extend(players)
        for player in players:
            player.start()
        time.sleep(1.0)  # the players' requests have reached the server
        listed = http_call(f"{server.url}/files/", headers=bearer(tokens.read), timeout=170)
        ended_at_listing = list(streams)
        assert listed.status == 200 and listed.json()["total"] == 1, listed.body
        edited = http_call(
            f"{server.url}/files/{video.id}",
            "PATCH",
            json.dumps({"description": edit}).encode(),
            {**bearer(tokens.admin), "Content-Type": "application/json"},
            timeout=170,
        )
        ended_at_edit = list(streams)
        assert edited.status == 200, edited.body
        for player in players:
            player.join()
        assert len(streams) == PLAYERS
        for reply in streams:
            # some not sent to the store, found silent a moment ago (core.errors.StorageNotAsked)
            assert reply.status == 500, reply.body
            error = reply.json()["error"]
            assert (error["code"], error["reason"]) == (
                "storage_unavailable",
                "endpoint_unreachable",
            )
        return streams, ended_at_listing, ended_at_edit

    def asked(replies: list[Reply]) -> list[Reply]:
        """The replies of requests sent to the store (a failure logged under their id; every
        such answer has a Retry-After, asked or not)."""
        return [reply for reply in replies if store_asked(reply, caplog.records)]

    try:
        proxy.stall()
        # Until a first request times out nobody knows the store hangs: the first players
        # hold every thread of the store's pool for one read timeout, and the listing answers
        # meanwhile (before: after they had all timed out, 50 s with 8 workers, and longer
        # with every player more; each asked the store)
        streams, ended_at_listing, _ = wave("first")
        assert ended_at_listing == [], "the listing waited for the stalled players"
        # queued behind the first ones, a player may ask the store once they timed out
        assert len(asked(streams)) <= WORKERS + 1, len(asked(streams))

        # Known out of reach: at most one request asks the store, the others fail at once
        # and the catalog answers as if nothing were wrong, before the one asking ends
        streams, _, ended_at_edit = wave("second")
        assert len(asked(streams)) <= 1, [reply.headers for reply in asked(streams)]
        assert asked(ended_at_edit) == [], "the listing or the edit waited on the store"

        proxy.restore()  # back: once the store may be asked again everything works, no restart
        wait_for(lambda: http_call(f"{server.url}/health").status == 200, 30, "a healthy store")
        played = http_call(
            f"{server.url}/stream/{video.id}/video",
            headers={**bearer(tokens.read), "Range": "bytes=100-199"},
        )
        assert played.status == 206 and played.body == data[100:200]
        assert lib.get_file(video.id).description == "second"
    finally:
        for thread in threads:
            thread.join(60)
        server.stop()
        lib.close()
        proxy.close()


def test_reads_waiting_on_a_silent_store_leave_the_threads_of_a_listing_free(
    s3_settings: Settings, media_dir: Any
) -> None:
    """More stalled reads of the store than the server has worker threads: a listing answers
    while they all still wait. Before, the reads held every worker until their read timeout
    (10 s) and the listing, /athletes and /health waited behind them (server/state.py Threads:
    store calls now have a pool of their own)."""
    workers = 3
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url))
    tokens = make_tokens(lib)
    video = lib.uploads.ingest(media_dir.mp4, "video")
    server = EmbeddedServer(lib, config=server_config(lib, executor_workers=workers))
    server.start()
    ended: list[Reply] = []  # the stalled reads' replies, as they end

    def play() -> None:
        url = f"{server.url}/stream/{video.id}/video"
        ended.append(http_call(url, headers={**bearer(tokens.read), "Range": "bytes=0-99"}))

    players = [threading.Thread(target=play) for _ in range(workers + 2)]
    try:
        proxy.stall()
        for player in players:
            player.start()
        # as many reads wait on the store as the server has threads of either pool
        wait_for(lambda: proxy.waiting() >= workers, 30, "reads waiting on the silent store")
        listed = http_call(f"{server.url}/files/", headers=bearer(tokens.read), timeout=60)
        athletes = http_call(f"{server.url}/athletes", headers=bearer(tokens.read), timeout=60)
        assert ended == [], "the listing waited for the stalled reads to fail"
        assert listed.status == 200 and listed.json()["total"] == 1, listed.body
        assert athletes.status == 200, athletes.body
    finally:
        proxy.restore()  # the stalled reads end now (a dropped connection), not in 10 s
        for player in players:
            player.join(60)
        server.stop()
        lib.close()
    assert len(ended) == len(players)
    for reply in ended:  # sent again on a new connection, or storage_unavailable
        assert reply.status in (206, 500), reply.body


def test_an_upload_body_the_silent_store_stops_taking_is_endpoint_unreachable(
    s3_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A direct upload big enough to fill the socket buffers towards a hung store: the PUT's
    body stops moving, and urllib3 gives up sending (botocore: "Connection was closed before we
    received a valid response"). Before: 500 without a reason, unlike every other way of not
    reaching the store, and the upload's object counted as surely not stored, so the deletion
    noted for it was dropped (an object the bucket may hold and no row names)."""
    monkeypatch.setattr(s3, "REQUESTS", QUICK)
    monkeypatch.setattr(s3, "HANG_WINDOW", 2.0)  # the store is asked again sooner once back
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    # the defaults: 24 MiB go in one PUT, whose body is what stops moving
    lib = Library.open(
        s3_settings.replace(
            r2_endpoint_url=proxy.url, multipart_threshold=64 * MiB, multipart_chunk_size=8 * MiB
        )
    )
    tokens = make_tokens(lib)
    video = padded_mp4(tmp_path / "match.mp4", 24 * MiB)
    form, form_type = multipart_body(
        {"file_type": "video"}, {"file": ("match.mp4", video.read_bytes(), "video/mp4")}
    )
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        proxy.stall()
        reply = http_call(
            f"{server.url}/files/upload/direct",
            "POST",
            form,
            {**bearer(tokens.upload), "Content-Type": form_type},
            timeout=170,
        )
        assert reply.status == 500, reply.body
        error = reply.json()["error"]
        assert (error["code"], error.get("reason")) == (
            "storage_unavailable",
            "endpoint_unreachable",
        ), error
        noted = [k for k in lib.deferred.pending_keys() if not k.startswith(THUMBNAIL_PREFIX)]
        assert len(noted) == 1, noted  # deleted once due, whatever the store made of the PUT

        proxy.restore()  # asked again once the store's window is over (core/storage/s3.py)
        wait_for(lambda: http_call(f"{server.url}/health").status == 200, 30, "the store")
        again = http_call(
            f"{server.url}/files/upload/direct",
            "POST",
            form,
            {**bearer(tokens.upload), "Content-Type": form_type},
            timeout=170,
        )
        assert again.status == 201, again.body
        assert lib.get_file(again.json()["id"]).size == 24 * MiB
    finally:
        server.stop()
        lib.close()
        proxy.close()


def test_maintenance_with_the_store_out_of_reach_still_prints_its_report(
    s3_settings: Settings, media_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mediadesk maintenance` while the store refuses connections: the tasks that need no
    store did their work and the report says so, with the store's failures in it (exit 1),
    the way the server's own runs report them. Before: no report at all, one error line
    (the reconcile listing) and exit 2, so what was purged or expired went unsaid. Once the
    store is back the same command is clean."""
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    settings = s3_settings.replace(r2_endpoint_url=proxy.url)
    lib = Library.open(settings)
    try:
        lib.uploads.ingest(media_dir.jpeg, "image")
    finally:
        lib.close()
    for name, value in {
        "R2_ENDPOINT_URL": settings.r2_endpoint_url,
        "R2_BUCKET_NAME": settings.r2_bucket_name,
        "R2_ACCESS_KEY_ID": settings.r2_access_key_id,
        "R2_SECRET_ACCESS_KEY": settings.r2_secret_access_key,
        "R2_REGION": settings.r2_region,
    }.items():
        monkeypatch.setenv(name, value)
    data_dir = str(settings.data_dir)
    try:
        proxy.cut()
        down = cli("maintenance", "--data-dir", data_dir, timeout=120)
        assert down.returncode == 1, (down.stdout, down.stderr)
        report = json.loads(down.stdout)
        assert report["maintenance"]["errors"], report  # the store's part failed, said so
        assert report["reconcile"]["error"].startswith("StorageUnavailable"), report

        proxy.restore()
        back = cli("maintenance", "--data-dir", data_dir, timeout=120)
        assert back.returncode == 0, (back.stdout, back.stderr)
        assert json.loads(back.stdout)["reconcile"]["clean"] is True
    finally:
        proxy.close()


def test_a_long_probe_moving_bytes_does_not_keep_the_store_counted_out(
    s3_bucket: S3Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a timeout, the next request asks the store for everyone (the others fail at
    once). When that one is a long part on a slow link it outlives what a silent store allows
    any request: from then on the store counts as there, and other requests go through while
    it is still sending, instead of failing for as long as the part takes."""
    quick = Timeouts(connect=1, read=3, attempts=1)  # patience: 4 s
    monkeypatch.setattr(s3, "HANG_WINDOW", 1.0)  # nobody asks a store found silent for 1 s
    proxy = CuttableProxy.in_front_of(s3_bucket.endpoint_url)
    storage = S3Storage(
        s3_bucket.bucket,
        proxy.url,
        s3_bucket.access_key_id,
        s3_bucket.secret_access_key,
        s3_bucket.region,
        timeouts=quick,
    )
    key = "general/2026/01/slow.bin"
    storage.put_bytes("general/2026/01/small.bin", b"small", "application/octet-stream")
    upload_id = storage.create_multipart(key, "application/octet-stream")
    data = os.urandom(12 * MiB)  # 6 s at 2 MiB/s: past the patience, with 2 s to spare
    try:
        proxy.stall()
        with pytest.raises(StorageUnavailable):
            storage.stat("general/2026/01/small.bin")  # times out: the store is counted out
        time.sleep(1.0)  # past the window: the next request may ask the store
        proxy.restore()
        # the part takes about 6 s; what loopback buffers hold of its end reaches the store
        # well within the read timeout
        proxy.slow(2 * MiB)
        sent: list[object] = []
        body = _Read(data)

        def send() -> None:
            try:
                sent.append(storage.upload_part(key, upload_id, 1, body, len(data)))
            except Exception as exc:  # the assertion below shows it
                sent.append(exc)

        part = threading.Thread(target=send)
        part.start()  # the probe
        assert body.begun.wait(60), "the part was never sent"  # the probe is on its way
        with pytest.raises(StorageUnavailable) as early:
            storage.stat("general/2026/01/small.bin")
        assert early.value.reason == "endpoint_unreachable"
        time.sleep(quick.connect + quick.read)  # past what a silent store allows a request
        assert part.is_alive()  # still sending
        assert storage.stat("general/2026/01/small.bin").size == 5
        part.join(60)
        assert sent and isinstance(sent[0], str), sent
        assert [p.part_number for p in storage.list_parts(key, upload_id)] == [1]
    finally:
        proxy.slow(None)
        storage.abort_multipart(key, upload_id)
        proxy.close()


class _Read(io.BytesIO):
    """A part's body that tells when the store's client began reading it (after the request
    was let through to the store: its probe is under way)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self.begun = threading.Event()

    def read(self, size: int | None = -1, /) -> bytes:
        self.begun.set()
        return super().read(size)
