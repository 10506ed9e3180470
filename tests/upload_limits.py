"""A served library with a small MAX_FILE_SIZE on either backend (local storage or moto's S3
server), and what the upload refusal tests read: pictures over and under the limit, chunked
requests, the validation metric and the seed's log records."""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings, r2_settings
from tests.server_fixtures import Reply, Tokens, bearer, http_call, make_tokens, server_config

LIMIT = 60_000  # bytes; a form of a picture past LIMIT + FORM_OVERHEAD is refused unread
VALIDATION = "File validation error"


@dataclass(frozen=True)
class Served:
    backend: str
    server: EmbeddedServer
    tokens: Tokens

    @property
    def url(self) -> str:
        return self.server.url


@pytest.fixture(params=["local", "s3"])
def limited(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[Served]:
    """The real server over a library whose MAX_FILE_SIZE is LIMIT, on each backend."""
    bucket: dict[str, Any] = {}
    if request.param == "s3":
        bucket = r2_settings(request.getfixturevalue("s3_bucket"))
    lib = Library.open(make_settings(data_dir, max_file_size=LIMIT, **bucket))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield Served(request.param, server, make_tokens(lib))
    finally:
        server.stop()
        lib.close()


def noise_jpeg(path: Path, side: int) -> bytes:
    """A JPEG of random pixels (it hardly compresses: about 1.2 bytes a pixel)."""
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(path, quality=95)
    return path.read_bytes()


def big_jpeg(tmp_path: Path) -> bytes:
    """A JPEG whose direct upload form is over LIMIT + FORM_OVERHEAD (64 KiB)."""
    data = noise_jpeg(tmp_path / "big.jpg", 380)
    assert len(data) > LIMIT + 64 * 1024 + 10_000
    return data


def chunked(url: str, method: str, chunks: Iterable[bytes], headers: dict[str, str]) -> Reply:
    """One request whose body is sent chunked (no Content-Length): refused only as it arrives.
    The server may answer and close before the whole body went out."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        # answered before the end of the body: the answer is there to read
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            conn.request(method, path, body=iter(chunks), headers=headers, encode_chunked=True)
        resp = conn.getresponse()
        return Reply(resp.status, dict(resp.getheaders()), resp.read())
    finally:
        conn.close()


def pieces(data: bytes, size: int = 16 * 1024) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i : i + size]


def counter(served: Served, name: str, **labels: str) -> float:
    """The value of /metrics' `name` with those labels (0 before its first count)."""
    text = http_call(f"{served.url}/metrics", headers=bearer(served.tokens.admin)).body.decode()
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def seed_records(caplog: pytest.LogCaptureFixture, start: str) -> list[logging.LogRecord]:
    """The log records whose message starts with `start` (one of the seed's three events)."""
    return [r for r in caplog.records if r.getMessage().startswith(start)]


def presign(served: Served, **ask: Any) -> dict[str, Any]:
    reply = http_call(
        f"{served.url}/files/upload/presigned",
        "POST",
        json.dumps(ask).encode(),
        {**bearer(served.tokens.upload), "Content-Type": "application/json"},
    )
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]


def confirm(served: Served, file_id: int) -> Reply:
    return http_call(
        f"{served.url}/files/{file_id}/confirm-upload", "POST", b"", bearer(served.tokens.upload)
    )


def file_status(served: Served, file_id: int) -> str:
    reply = http_call(f"{served.url}/files/{file_id}", headers=bearer(served.tokens.read))
    return str(reply.json()["status"])
