"""Fixtures and plain-HTTP helpers for the server tests: tokens, test clients, live servers."""

from __future__ import annotations

import base64
import http.client
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.library import Library
from server.app import create_app
from server.config import ServerConfig
from server.entry import EmbeddedServer

__all__ = [
    "Reply",
    "Tokens",
    "api",
    "bearer",
    "direct_upload",
    "http_call",
    "live",
    "make_tokens",
    "multipart_body",
    "presigned_upload",
    "s3_live",
    "server_config",
    "tokens",
    "tus_upload",
]


@dataclass(frozen=True)
class Tokens:
    read: str
    upload: str
    admin: str


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_tokens(library: Library) -> Tokens:
    store = library.tokens
    return Tokens(*(store.create(f"test-{s}", s)[1] for s in ("read", "upload", "admin")))


def server_config(library: Library, **overrides: Any) -> ServerConfig:
    values: dict[str, Any] = {
        "maintenance_interval": 0,
        "heartbeat_interval": 0.5,
        "upload_rate_limit": 0,
        "executor_workers": 8,
    }
    values.update(overrides)
    return ServerConfig.from_settings(library.settings, host="127.0.0.1", port=0, **values)


@pytest.fixture
def tokens(library: Library) -> Tokens:
    return make_tokens(library)


@pytest.fixture
async def api(library: Library, aiohttp_client: Any) -> Any:
    """An aiohttp test client over the app on the local backend. The library comes first, so
    it is closed after the app's clean-up (which writes the tokens' last uses): a write after
    the close opened a catalog connection nothing closed, ~3 descriptors a test."""
    return await aiohttp_client(create_app(library, config=server_config(library)))


@pytest.fixture
def live(library: Library) -> Iterator[EmbeddedServer]:
    """The real server on a free loopback port, local backend."""
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def s3_live(s3_library: Library) -> Iterator[EmbeddedServer]:
    """The real server over moto's S3 server."""
    server = EmbeddedServer(s3_library, config=server_config(s3_library))
    server.start()
    yield server
    server.stop()


def http_call(
    url: str,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> Reply:
    """One request with http.client (a plain client: no redirects, no cookies)."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=timeout)
    try:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        conn.request(method, path, body=body, headers=headers or {})
        resp = conn.getresponse()
        return Reply(resp.status, {k: v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def multipart_body(
    fields: dict[str, str], files: dict[str, tuple[str, bytes, str]] | None = None
) -> tuple[bytes, str]:
    """(body, content type) of a multipart/form-data form, as a browser's FormData sends it."""
    boundary = f"----mediadesk{uuid.uuid4().hex}"
    out = bytearray()
    for name, value in fields.items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        ).encode()
    for name, (filename, data, ctype) in (files or {}).items():
        out += (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {ctype}\r\n\r\n'
        ).encode()
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def direct_upload(url: str, token: str, body: bytes, content_type: str) -> dict[str, Any]:
    """POST /files/upload/direct of a form (multipart_body's, or one a test spells out byte
    by byte): the new file's record (201)."""
    reply = http_call(
        f"{url}/files/upload/direct", "POST", body, {**bearer(token), "Content-Type": content_type}
    )
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]


def upload_file(
    live: EmbeddedServer, token: str, path: Path, kind: str = "image", **fields: str
) -> dict[str, Any]:
    """A direct upload of the file at `path` (its type told from its content): the answer."""
    body, ctype = multipart_body(
        {"file_type": kind, **fields}, {"file": (path.name, path.read_bytes(), "image/x")}
    )
    return direct_upload(live.url, token, body, ctype)


def tus_upload(url: str, token: str, data: bytes, metadata: dict[str, str]) -> dict[str, Any]:
    """A tus creation with the whole upload in its body (Upload-Metadata: `metadata`, each
    value base64'd): the new file's record, as GET /files/{id} answers it."""
    told = ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in metadata.items())
    headers = {
        **bearer(token),
        "Tus-Resumable": "1.0.0",
        "Upload-Length": str(len(data)),
        "Upload-Metadata": told,
        "Content-Type": "application/offset+octet-stream",
    }
    reply = http_call(f"{url}/files/upload/tus", "POST", data, headers)
    assert reply.status == 201, reply.body
    file_id = reply.headers["MediaDesk-File-Id"]
    return http_call(f"{url}/files/{file_id}", headers=bearer(token)).json()  # type: ignore[no-any-return]


def presign_grant(url: str, token: str, **ask: Any) -> dict[str, Any]:
    """POST /files/upload/presigned with the JSON `ask`, answered 201: the grant."""
    reply = http_call(
        f"{url}/files/upload/presigned",
        "POST",
        json.dumps(ask).encode(),
        {**bearer(token), "Content-Type": "application/json"},
    )
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]


def presigned_upload(url: str, token: str, data: bytes, ask: dict[str, Any]) -> dict[str, Any]:
    """POST /files/upload/presigned with the JSON `ask`, the PUT of `data` to the signed URL
    with ask's content_type, then the confirm: the new file's record."""
    signed = presign_grant(url, token, **ask)
    put = http_call(signed["upload_url"], "PUT", data, {"Content-Type": ask["content_type"]})
    assert put.status in (200, 201, 204), put.body
    done = http_call(f"{url}/files/{signed['file_id']}/confirm-upload", "POST", b"", bearer(token))
    assert done.status in (200, 201), done.body
    return done.json()  # type: ignore[no-any-return]


@contextmanager
def library_served(data: Path, **settings: Any) -> Iterator[tuple[Library, EmbeddedServer]]:
    """A library on the data folder `data` (tests.conftest.make_settings with `settings`) and
    its embedded server on a free port; another `with` on the same folder is a new process's
    view (no caches from before)."""
    from tests.conftest import make_settings  # conftest imports this module

    lib = Library.open(make_settings(data, **settings))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield lib, server
    finally:
        server.stop()
        lib.close()
