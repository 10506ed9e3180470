"""A big direct upload that goes to the bucket in parts (boto3's managed transfer) when the store
hangs after some parts (an outside fault-injection finding, moto SIGSTOPped).

Before: the transfer's own failure clean-up asked the store it had just found silent to abort
the multipart upload, with the whole read timeout again, so the upload answered 500 after about
20 s (README: "within about 10 s"); the abort's failure was swallowed, and the multipart upload
with its parts stayed in the bucket until maintenance's sweep of uploads older than a day.
Now the abort is not asked of a store in its quiet window: it is kept as a deferred deletion
(core/deferred.py keep_abort) and made once the store answers again, by the timed retry or by
maintenance. Real HTTP over loopback; the bucket (moto) sits behind tests.faults' CuttableProxy,
whose stall takes connections and answers nothing (and drops what it held when restored, as a
restarted store does)."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, select, text

from core.db.migrate import downgrade, upgrade
from core.db.models import DeferredDeletion
from core.deferred import ABORT_UPLOAD
from core.library import Library
from core.maintenance import run_maintenance
from core.settings import Settings
from core.storage import s3
from core.storage.s3 import Timeouts
from server.entry import EmbeddedServer
from tests.faults import CuttableProxy, wait_for
from tests.internals import db_of
from tests.resumable_client import padded_mp4
from tests.s3_server import S3Target, s3_client
from tests.server_fixtures import (
    Reply,
    bearer,
    http_call,
    make_tokens,
    multipart_body,
    server_config,
)

pytestmark = pytest.mark.timeout(150)

MiB = 1024 * 1024
# README: a store that takes connections and never answers fails an upload "within about
# 10 s" (REQUESTS' read timeout). Shorter ones here, to keep the suite's time: the upload
# fails a read timeout (6 s) after the stall, or a part's stalled send (connect, 2 s, after
# botocore's 1 s wait for "100 Continue"; not tried again: test_storage_stall.py) if later.
# Before, the abort then asked the silent store waited another read timeout: 12 s and more.
TIMEOUTS = Timeouts(connect=2, read=6, attempts=2)
ANSWERED_WITHIN = 1.5 * TIMEOUTS.read
# The quiet window a silent store opens (production 5 s): the abort waits it out
QUIET_WINDOW = 2.0


def _uploads(bucket: S3Target) -> list[dict[str, Any]]:
    """The bucket's multipart uploads, asked of moto itself (not through the proxy)."""
    found = s3_client(bucket).list_multipart_uploads(Bucket=bucket.bucket)
    return list(found.get("Uploads", []))


def _parts(bucket: S3Target, upload: dict[str, Any]) -> int:
    listed = s3_client(bucket).list_parts(
        Bucket=bucket.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
    )
    return len(listed.get("Parts", []))


@pytest.mark.parametrize("made_by", ["retry", "maintenance"])
def test_a_hung_store_fails_a_multipart_upload_in_time_and_its_parts_go_once_it_answers(
    s3_settings: Settings,
    s3_bucket: S3Target,
    tmp_path: Path,
    made_by: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(s3, "REQUESTS", TIMEOUTS)
    monkeypatch.setattr(s3, "HANG_WINDOW", QUIET_WINDOW)
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    # 5 MiB parts (s3_settings); 40 MiB in 8 of them, 4 at a time
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url, usage_scan_interval=0))
    # "retry": the timed retries of deferred deletions make the abort; "maintenance": only it
    lib.deferred.retry = 1.0 if made_by == "retry" else 3600.0
    tokens = make_tokens(lib)
    video = padded_mp4(tmp_path / "match.mp4", 40 * MiB)
    form, form_type = multipart_body(
        {"file_type": "video"}, {"file": ("match.mp4", video.read_bytes(), "video/mp4")}
    )
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    answer: list[Reply] = []

    def upload() -> None:
        answer.append(
            http_call(
                f"{server.url}/files/upload/direct",
                "POST",
                form,
                {**bearer(tokens.upload), "Content-Type": form_type},
                timeout=120,
            )
        )

    try:
        proxy.slow(4 * MiB)  # each part takes a while: the hang comes after some, not all
        sender = threading.Thread(target=upload)
        sender.start()
        started = wait_for(lambda: [u for u in _uploads(s3_bucket) if _parts(s3_bucket, u)], 60)
        proxy.stall()
        stalled = time.monotonic()
        sender.join(90)
        took = time.monotonic() - stalled
        reply = answer[0]
        assert reply.status == 500, reply.body
        error = reply.json()["error"]
        assert (error["code"], error["reason"]) == ("storage_unavailable", "endpoint_unreachable")
        # before: two read timeouts (the abort asked of the silent store waited its own too)
        assert took < ANSWERED_WITHIN, took

        (left,) = started
        upload_kept = DeferredDeletion.reason == ABORT_UPLOAD
        with db_of(lib).read() as s:
            kept = s.execute(
                select(DeferredDeletion.storage_key, DeferredDeletion.upload_id).where(upload_kept)
            ).all()
        assert [tuple(k) for k in kept] == [(left["Key"], left["UploadId"])]
        assert [u["UploadId"] for u in _uploads(s3_bucket)] == [left["UploadId"]]

        proxy.slow(None)
        proxy.restore()  # the store answers again (what the stall held is dropped)
        if made_by == "maintenance":
            # once its quiet window is over (the health check asks it then)
            wait_for(lambda: http_call(f"{server.url}/health").status == 200, 30, "the store")
            assert _uploads(s3_bucket)  # nothing aborted it meanwhile
            report = run_maintenance(lib, only=frozenset({"deferred_deletions"}))
            assert not report.errors, report.errors
            assert _uploads(s3_bucket) == []
        else:
            # before: left for the sweep of uploads older than a day
            wait_for(lambda: _uploads(s3_bucket) == [], 40, "the abort")

        def still_kept() -> list[int]:
            with db_of(lib).read() as s:
                return list(s.scalars(select(DeferredDeletion.id).where(upload_kept)))

        # done: no longer kept (the timed retry forgets it just after the abort answered)
        wait_for(lambda: still_kept() == [], 10, "the kept abort forgotten")
    finally:
        server.stop()
        lib.close()
        proxy.close()


def test_going_back_to_schema_0030_drops_the_kept_aborts_and_keeps_the_deletions(
    settings: Settings,
) -> None:
    """An older MediaDesk would run a kept abort as the deletion of its key: the downgrade
    leaves those uploads to the stale-upload sweep, as before, and keeps every other entry."""
    lib = Library.open(settings)
    engine = db_of(lib).engine
    lib.deferred.retry = 3600.0  # no timed run meanwhile: this catalog has no bucket
    lib.deferred.keep_abort("r2", "general/2026/01/a.mp4", "upload-1")
    with db_of(lib).write() as s:
        lib.deferred.queue(s, "general/2026/01/b.mp4")
    lib.close()
    try:
        downgrade(engine, "0030")
        with engine.connect() as conn:
            assert "upload_id" not in {
                c["name"] for c in inspect(conn).get_columns("deferred_deletions")
            }
            left = conn.execute(text("SELECT storage_key FROM deferred_deletions")).scalars()
            assert list(left) == ["general/2026/01/b.mp4"]
    finally:
        upgrade(engine)
        engine.dispose()
