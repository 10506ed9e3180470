"""Issue 8, items 2 and 3: streams never fail while their file moves to another athlete, and
concurrent moves with the same version give exactly one 200 and 409 for the others."""

from __future__ import annotations

import http.client
import json
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.faults import assert_healthy
from tests.internals import storage_of
from tests.server_fixtures import bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(120)

GRACE = 0.3  # shorter than one slow stream below, so the reader count is what protects it


@pytest.fixture(params=["local", "s3"])
def served(request: pytest.FixtureRequest) -> Any:
    lib: Library = request.getfixturevalue("library" if request.param == "local" else "s3_library")
    lib.deferred.grace = GRACE
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    yield lib, server
    server.stop()


def _slow_get(url: str, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    """A client that reads its response slowly, as a player on a phone does."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        body = bytearray()
        while chunk := resp.read(16 * 1024):
            body += chunk
            time.sleep(0.01)
        return resp.status, bytes(body)
    finally:
        conn.close()


def test_streams_never_fail_while_the_file_moves(served: Any, media_dir: Any) -> None:
    lib, server = served
    tokens = make_tokens(lib)
    record = lib.uploads.ingest(media_dir.mp4, "video")
    data = media_dir.mp4.read_bytes()
    auth = bearer(tokens.read)
    stop = threading.Event()
    failures: list[tuple[int, bytes]] = []
    served_ok = [0]
    lock = threading.Lock()

    def reader(n: int) -> None:
        while not stop.is_set():
            if n % 2:
                status, body = _slow_get(server.url, f"/stream/{record.id}/raw", auth)
                good = status == 200 and body == data
            else:
                headers = {**auth, "Range": "bytes=1000-50999"}
                status, body = _slow_get(server.url, f"/stream/{record.id}/video", headers)
                good = status == 206 and body == data[1000:51000]
            with lock:
                if good:
                    served_ok[0] += 1
                else:
                    failures.append((status, body[:200]))

    readers = [threading.Thread(target=reader, args=(n,)) for n in range(8)]
    for t in readers:
        t.start()
    try:
        time.sleep(0.3)
        for move in range(10):
            reply = http_call(
                f"{server.url}/files/{record.id}",
                "PATCH",
                json.dumps({"athlete_id": 1 + move % 3}).encode(),
                {**bearer(tokens.upload), "Content-Type": "application/json"},
            )
            assert reply.status == 200, reply.body
            time.sleep(0.15)
    finally:
        stop.set()
        for t in readers:
            t.join(30)
    assert failures == []
    assert served_ok[0] >= 8
    time.sleep(GRACE + 0.2)
    assert_healthy(lib, {record.id: data}, server.url, tokens.read)
    moved = lib.get_file(record.id)
    assert moved.athlete_id == 1 + 9 % 3 and f"athletes/{moved.athlete_id}/" in moved.storage_key


def test_concurrent_moves_with_one_version_one_wins(served: Any, media_dir: Any) -> None:
    lib, server = served
    tokens = make_tokens(lib)
    record = lib.uploads.ingest(media_dir.jpeg, "image")
    data = media_dir.jpeg.read_bytes()
    start = threading.Barrier(8)
    statuses: list[tuple[int, str]] = []

    def move(n: int) -> None:
        start.wait()
        reply = http_call(
            f"{server.url}/files/{record.id}",
            "PATCH",
            json.dumps({"athlete_id": 10 + n}).encode(),
            {
                **bearer(tokens.upload),
                "Content-Type": "application/json",
                "If-Match": f'"{record.version}"',
            },
        )
        statuses.append((reply.status, reply.json().get("error", {}).get("code", "")))

    threads = [threading.Thread(target=move, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    # the losers' If-Match no longer holds: a failed precondition (RFC 9110), not a conflict
    assert sorted(s for s, _ in statuses) == [200] + [412] * 7, statuses
    assert {c for s, c in statuses if s == 412} == {"precondition_failed"}
    final = lib.get_file(record.id)
    assert final.version == record.version + 1 and final.athlete_id is not None
    # the losers left no copy behind: only the winner's key and the old one (pending)
    time.sleep(GRACE + 0.2)
    assert_healthy(lib, {record.id: data}, server.url, tokens.read)


def test_a_pending_deletion_survives_a_restart_and_a_move_back_keeps_the_key(
    settings: Any, media_dir: Any
) -> None:
    from core import keys

    lib = Library.open(settings)
    lib.deferred.grace = GRACE
    data = media_dir.png.read_bytes()
    record = lib.uploads.ingest(media_dir.png, "image")
    there = lib.update_file(record.id, {"athlete_id": 4})
    back = lib.update_file(record.id, {"athlete_id": None})  # within the grace period
    assert back.storage_key == record.storage_key
    lib.close()  # stopped before the grace period ends: nothing deleted yet
    assert storage_of(lib).exists(there.storage_key) and storage_of(lib).exists(record.storage_key)
    time.sleep(GRACE + 0.1)
    again = Library.open(settings)  # start-up runs what came due while stopped
    try:
        assert not storage_of(again).exists(there.storage_key)
        assert not storage_of(again).exists(keys.thumbnail_key(there.storage_key))
        assert storage_of(again).exists(record.storage_key)  # the key in use again is kept
        assert storage_of(again).exists(keys.thumbnail_key(record.storage_key))
        assert_healthy(again, {record.id: data})
    finally:
        again.close()
