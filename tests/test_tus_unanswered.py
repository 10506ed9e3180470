"""A tus creation-with-upload that was never answered (its server SIGKILLed while it read the
body) leaves nothing behind once maintenance runs a little later: the client got no Location to
resume or DELETE it with. An answered creation keeps its life, and a creation still being
received by another live server of the team is not removed under it."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core.db.models import ResumableUpload
from core.library import Library
from core.maintenance import run_maintenance
from core.resumable import LEASE
from tests.conftest import make_settings
from tests.internals import db_of
from tests.resumable_client import (
    OCTETS,
    TUS,
    MiB,
    ServeProcess,
    call,
    free_port,
    head,
    meta,
    noise_png,
)
from tests.s3_server import S3Target, s3_client
from tests.server_fixtures import bearer, make_tokens

LATER = timedelta(minutes=2)  # "a little later": far short of the tus expiry (24 h)


def _store(bucket: S3Target | None) -> dict[str, Any]:
    if bucket is None:
        return {}
    return {
        "r2_endpoint_url": bucket.endpoint_url,
        "r2_bucket_name": bucket.bucket,
        "r2_access_key_id": bucket.access_key_id,
        "r2_secret_access_key": bucket.secret_access_key,
        "r2_region": bucket.region,
        "upload_part_size": 5 * MiB,
    }


@pytest.fixture(params=["local", "s3"])
def bucket(request: pytest.FixtureRequest) -> S3Target | None:
    if request.param == "local":
        return None
    return request.getfixturevalue("s3_bucket")  # type: ignore[no-any-return]


@pytest.fixture
def library(data_dir: Path, bucket: S3Target | None) -> Iterator[Library]:
    lib = Library.open(make_settings(data_dir, max_file_size=300 * MiB, **_store(bucket)))
    yield lib
    lib.close()


def _env(bucket: S3Target | None) -> dict[str, str]:
    env = {"MEDIADESK_WORKERS": "0"}
    if bucket is not None:
        env.update(
            R2_ENDPOINT_URL=bucket.endpoint_url,
            R2_BUCKET_NAME=bucket.bucket,
            R2_ACCESS_KEY_ID=bucket.access_key_id,
            R2_SECRET_ACCESS_KEY=bucket.secret_access_key,
            R2_REGION=bucket.region,
            MEDIADESK_UPLOAD_PART_SIZE=str(5 * MiB),
        )
    return env


def _start_creation(url: str, token: str, data: bytes) -> socket.socket:
    """A creation-with-upload POST announcing all of `data`; the caller sends the body."""
    conn = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=30)
    conn.sendall(
        (
            f"POST /files/upload/tus HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
            f"Upload-Length: {len(data)}\r\nUpload-Metadata: {meta(filename='cut.png')}\r\n"
            f"Content-Length: {len(data)}\r\n\r\n"
        ).encode()
    )
    return conn


def _rows(lib: Library) -> list[tuple[str, str, int]]:
    with db_of(lib).read() as s:
        return [(r.id, r.state, r.received) for r in s.query(ResumableUpload).all()]


def _recorded(lib: Library, upload_id: str | None, at_least: int) -> str:
    """Waits until the catalog records `at_least` bytes of an upload (not `upload_id`)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        for found, _, received in _rows(lib):
            if found != upload_id and received >= at_least:
                return found
        time.sleep(0.05)
    raise AssertionError(f"no upload recorded {at_least} bytes: {_rows(lib)}")


def _multipart_uploads(bucket: S3Target) -> list[Any]:
    return s3_client(bucket).list_multipart_uploads(Bucket=bucket.bucket).get("Uploads", [])


def test_a_creation_killed_mid_body_is_removed_by_the_next_maintenance(
    library: Library, bucket: S3Target | None, data_dir: Path, tmp_path: Path
) -> None:
    token = make_tokens(library).upload
    data = noise_png(tmp_path / "big.png", 3000).read_bytes()  # ≈ 27 MB
    assert len(data) > 20 * MiB
    server = ServeProcess(data_dir, free_port(), 300 * MiB, _env(bucket))
    server.start()
    try:
        # answered: a creation with the first 3 MiB; its Location lets the client go on
        answered = call(
            f"{server.url}/files/upload/tus",
            "POST",
            data[: 3 * MiB],
            {**bearer(token), **TUS, **OCTETS, "Upload-Length": str(len(data))},
        )
        assert answered.status == 201, answered.body
        kept = answered.headers["Location"].rsplit("/", 1)[1]
        conn = _start_creation(server.url, token, data)
        try:
            conn.sendall(data[: 18 * MiB])
            # the local checkpoint (8 MiB) or the R2/S3 parts (5 MiB) recorded in the catalog
            cut = _recorded(library, kept, 8 * MiB if bucket is None else 10 * MiB)
            server.kill()  # the POST is never answered: no Location
        finally:
            conn.close()
        uploads = data_dir / "uploads"
        assert any(p.name.startswith(cut) for p in uploads.iterdir())
        if bucket is not None:
            assert len(_multipart_uploads(bucket)) == 1  # the answered one is short of a part
        run_maintenance(library, now=datetime.now(UTC) + LATER)
        assert [(i, s) for i, s, _ in _rows(library)] == [(kept, "receiving")]
        assert not any(p.name.startswith(cut) for p in uploads.iterdir())
        if bucket is not None:
            assert _multipart_uploads(bucket) == []  # aborted
        # the answered upload still lives its tus expiry, and goes on after a restart
        assert library.resumable.get(kept).expires_at > datetime.now(UTC) + timedelta(hours=23)
        server.start()
        answer = head(f"{server.url}/files/upload/tus/{kept}", token)
        assert answer.status == 200 and answer.headers["Upload-Offset"] == str(3 * MiB)
    finally:
        server.stop()


def test_a_creation_still_received_by_another_server_is_not_removed(data_dir: Path) -> None:
    """Two libraries on one catalog stand for two servers of a team: the one receiving the
    creation's body holds its lease; the other's maintenance leaves the upload alone, and the
    creation is answered with the usual expiry."""
    library = Library.open(make_settings(data_dir))
    other = Library.open(library.settings)
    try:
        writer = library.resumable.start(1000, {"filename": "slow.png"})
        writer.write(b"x" * 10)
        for lib in (other, library):
            run_maintenance(lib, now=datetime.now(UTC) + LEASE / 2)
        assert [i for i, _, _ in _rows(library)] == [writer.id]
        state = writer.close()
        assert state.offset == 10
        assert state.expires_at > datetime.now(UTC) + timedelta(hours=23)
        for lib in (other, library):
            run_maintenance(lib, now=datetime.now(UTC) + LATER)
        assert library.resumable.get(writer.id).offset == 10
    finally:
        other.close()
        library.close()
