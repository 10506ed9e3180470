"""A video job's `error` names no storage internals to a token that is not an admin's.

An SRE's report: with the store out of reach, GET /jobs with a read token answered
`Reading 'general/2026/12/<uuid>.avi': cannot reach http://127.0.0.1:18461 (Could not connect
to the endpoint URL: "http://127.0.0.1:18461/mdleak/general/…avi")`: the storage endpoint, the
bucket and the object key (README: only an admin token's errors name the bucket and endpoint,
as /health's do; messages are in user terms, never a storage key or endpoint). Real jobs fail
for real here (a worker whose store does not answer; an original gone from a moto bucket), and
the real server answers them over loopback HTTP.
"""

from __future__ import annotations

import http.client
import json
import socket
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.library import Library
from core.settings import Settings
from core.video.failures import FAILURE_SENTENCES, error_for_users
from server.entry import EmbeddedServer
from tests import media
from tests.conftest import make_s3_settings
from tests.s3_server import S3Target, s3_client
from tests.server_fixtures import bearer, http_call, make_tokens, server_config
from tests.video_helpers import TEST_LADDER, process_all

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def s3_settings(data_dir: Path, s3_bucket: S3Target) -> Settings:
    return make_s3_settings(
        data_dir,
        s3_bucket,
        hls_ladder=TEST_LADDER,
        job_max_attempts=1,
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _web_video(lib: Library, tmp_path: Path, kinds: tuple[str, ...] = ("web",)) -> Any:
    """A real AVI in the bucket with only its `kinds` jobs queued."""
    record = lib.uploads.ingest(media.make_avi(tmp_path / "clip.avi", seconds=1), "video")
    for job in lib.jobs.list(file_id=record.id)[0]:
        if job.kind not in kinds:
            lib.jobs.cancel(job.id)
    return record


def _errors(server: EmbeddedServer, token: str, file_id: int) -> tuple[str, str | None]:
    """The web job's `error` as GET /jobs and GET /jobs/{id} answer it (the same), and
    /stream/{id}/info's processing.error."""
    jobs = http_call(f"{server.url}/jobs?file_id={file_id}", headers=bearer(token))
    assert jobs.status == 200, jobs.body
    (web,) = [j for j in jobs.json()["items"] if j["kind"] == "web"]
    one = http_call(f"{server.url}/jobs/{web['id']}", headers=bearer(token))
    assert one.status == 200 and one.json()["error"] == web["error"], one.body
    info = http_call(f"{server.url}/stream/{file_id}/info", headers=bearer(token))
    assert info.status == 200, info.body
    return web["error"] or "", info.json()["processing"]["error"]


def _no_internals(text: str, bucket: S3Target, key: str) -> None:
    assert "http" not in text, text
    assert bucket.bucket not in text, text
    assert key not in text and key.rsplit("/", 1)[-1] not in text, text
    assert "127.0.0.1" not in text, text


def test_an_unreachable_store_is_told_in_user_terms_but_to_admins(
    s3_library: Library, s3_bucket: S3Target, s3_settings: Settings, tmp_path: Path
) -> None:
    """The SRE's case: a worker whose store does not answer puts the job back with the store's
    own words (endpoint, bucket, key). A read and an upload token read a sentence for its
    reason; an admin token the words the log has."""
    record = _web_video(s3_library, tmp_path)
    away = s3_settings.replace(r2_endpoint_url=f"http://127.0.0.1:{_closed_port()}")
    worker_lib = Library.open(away)
    try:
        assert process_all(worker_lib, limit=1)
    finally:
        worker_lib.close()
    (stored,) = [j for j in s3_library.jobs.list(file_id=record.id)[0] if j.kind == "web"]
    assert stored.error_code == "storage_unavailable" and "http://127.0.0.1" in (stored.error or "")

    tokens = make_tokens(s3_library)
    server = EmbeddedServer(s3_library, config=server_config(s3_library))
    server.start()
    try:
        for token in (tokens.read, tokens.upload):
            error, _ = _errors(server, token, record.id)
            _no_internals(error, s3_bucket, record.storage_key)
            assert error == FAILURE_SENTENCES["storage_unavailable"], error
        error, _ = _errors(server, tokens.admin, record.id)
        assert error == stored.error  # the detail, as kept (the log's and the admin's)
    finally:
        server.stop()


def test_a_missing_original_names_no_key_but_to_admins(
    s3_library: Library, s3_bucket: S3Target, tmp_path: Path
) -> None:
    """An original gone from the bucket fails its job for good (original_missing) with the
    store's words naming the key: GET /jobs and /stream/{id}/info's processing.error say it
    in user terms to a read token, and keep the words for an admin token."""
    record = _web_video(s3_library, tmp_path, ("web", "hls"))
    s3_client(s3_bucket).delete_object(Bucket=s3_bucket.bucket, Key=record.storage_key)
    process_all(s3_library)
    (stored,) = [j for j in s3_library.jobs.list(file_id=record.id)[0] if j.kind == "web"]
    assert stored.state == "failed" and stored.error_code == "original_missing", stored
    assert record.storage_key in (stored.error or ""), stored.error

    tokens = make_tokens(s3_library)
    server = EmbeddedServer(s3_library, config=server_config(s3_library))
    server.start()
    try:
        error, processing = _errors(server, tokens.read, record.id)
        _no_internals(error, s3_bucket, record.storage_key)
        _no_internals(processing or "", s3_bucket, record.storage_key)
        sentence = FAILURE_SENTENCES["original_missing"]
        assert error == sentence, error
        assert processing == f"web: {sentence}; hls: {sentence}", processing
        # a player asking for the playlist that was not made
        playlist = f"{server.url}/stream/{record.id}/hls/master.m3u8"
        missing = http_call(playlist, headers=bearer(tokens.read))
        assert missing.status == 404 and sentence in missing.json()["error"]["message"]
        _no_internals(missing.body.decode(), s3_bucket, record.storage_key)
        # the processing events /events replays (its jobs' and the combined state's errors)
        told = _replayed(server, tokens.read)
        assert told and all(record.storage_key not in e for e in told), told
        assert f"web: {sentence}; hls: {sentence}" in told and sentence in told, told

        error, processing = _errors(server, tokens.admin, record.id)
        assert error == stored.error
        assert processing == f"web: {stored.error}; hls: {stored.error}"
        assert stored.error in _replayed(server, tokens.admin)
    finally:
        server.stop()


def _replayed(server: EmbeddedServer, token: str) -> list[str]:
    """The errors (a job's, a combined state's) of every processing event GET /events replays
    from the change log, read up to the id line that ends the replay."""
    where = urlsplit(server.url)
    conn = http.client.HTTPConnection(where.hostname or "", where.port, timeout=20)
    try:
        conn.request("GET", "/events", headers={**bearer(token), "Last-Event-ID": "0"})
        answer = conn.getresponse()
        assert answer.status == 200
        errors: list[str] = []
        previous = ""
        while True:
            line = answer.fp.readline().decode().rstrip("\n")
            if line == "" and previous.startswith("id:"):
                return errors  # an id without data: the replay is over
            if line.startswith("data: ") and previous == "event: processing":
                body = json.loads(line.removeprefix("data: "))["file"]
                errors += [
                    part["error"]
                    for part in (body.get("job"), body.get("processing"))
                    if part and part.get("error")
                ]
            previous = line
    finally:
        conn.close()


def test_a_skip_or_a_cancel_keeps_its_own_words() -> None:
    """MediaDesk's own words of a skip or a cancel stay; a cancelled job that a failure had
    put back says its failure's sentence; a failure without a known code, the generic one."""
    plays = "The original already plays in browsers"
    assert error_for_users(plays, "skipped", "already_web_ready") == plays
    assert error_for_users("Cancelled", "cancelled", None) == "Cancelled"
    store = "Reading 'general/x.avi': cannot reach http://h"
    said = error_for_users(store, "cancelled", "internal")
    assert said == FAILURE_SENTENCES["internal"]
    assert error_for_users("http://h/b/k", "failed", None) == FAILURE_SENTENCES[None]
    assert error_for_users(None, "failed", "internal") is None
