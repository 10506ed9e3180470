"""A PostgreSQL connection that drops in the middle of a request's catalog work (a restart, a
network cut): the request answers the catalog outage (storage_unavailable, reason
catalog_unreachable), or its own success when the work was done, never internal_error.

The connection is cut by a proxy in front of the session's PostgreSQL when the statement a test
names passes through it, so the drop lands exactly there.
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from PIL import Image
from sqlalchemy import text

from core.errors import catalog_unreachable
from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.internals import db_of
from tests.pg_server import postgres_url  # noqa: F401
from tests.resumable_client import create, head, patch
from tests.server_fixtures import Tokens, bearer, http_call, make_tokens, multipart_body


class SnippingProxy:
    """A TCP proxy to PostgreSQL that drops the connection carrying the first message that
    contains `needle` once armed (both sides closed, the message never delivered)."""

    def __init__(self, host: str, port: int) -> None:
        self._target = (host, port)
        self.needle: bytes | None = None
        self.fired = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def arm(self, needle: bytes) -> None:
        self.fired.clear()
        self.needle = needle

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(self._target)
            for src, dst, sniff in ((client, upstream, True), (upstream, client, False)):
                threading.Thread(target=self._pump, args=(src, dst, sniff), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, sniff: bool) -> None:
        with contextlib.suppress(OSError):
            while chunk := src.recv(65536):
                needle = self.needle
                if sniff and needle is not None and needle in chunk:
                    self.needle = None
                    self.fired.set()
                    break
                dst.sendall(chunk)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self._listener.close()


@dataclass
class Served:
    lib: Library
    server: EmbeddedServer
    tokens: Tokens
    proxy: SnippingProxy


@pytest.fixture
def served(postgres_url: str, tmp_path: Path) -> Iterator[Served]:  # noqa: F811
    target = urlsplit(postgres_url)
    proxy = SnippingProxy(target.hostname or "127.0.0.1", target.port or 5432)
    url = postgres_url.replace(f":{target.port}/", f":{proxy.port}/")
    data = tmp_path / "pg"
    data.mkdir()
    lib = Library.open(make_settings(data, database_url=url))
    with db_of(lib).write() as s:
        s.execute(text("TRUNCATE media_files, athletes RESTART IDENTITY CASCADE"))
    server = EmbeddedServer(lib)
    server.start()
    try:
        yield Served(lib, server, make_tokens(lib), proxy)
    finally:
        server.stop()
        lib.close()
        proxy.close()


def _jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (400, 300), (seed % 256, 90, 160)).save(out, "JPEG")
    return out.getvalue()


def test_a_connection_dropped_at_a_direct_uploads_commit_is_a_catalog_outage(
    served: Served,
) -> None:
    """The change-log INSERT of the upload's transaction never reaches PostgreSQL: the
    rollback of the dropped connection must not raise its own error over the real one."""
    body, ctype = multipart_body(
        {"file_type": "image"}, {"file": ("commit.jpg", _jpeg(1), "image/jpeg")}
    )
    served.proxy.arm(b"INSERT INTO change_log")
    reply = http_call(
        f"{served.server.url}/files/upload/direct",
        "POST",
        body,
        {**bearer(served.tokens.upload), "Content-Type": ctype},
    )
    assert served.proxy.fired.is_set()
    error = json.loads(reply.body)["error"]
    assert (error["code"], error.get("reason")) == ("storage_unavailable", "catalog_unreachable")


def test_a_connection_dropped_as_the_lease_is_dropped_keeps_the_uploads_answer(
    served: Served,
) -> None:
    """The last PATCH catalogued the file; the statement dropping its lease is cut: the answer
    is still the upload's (204 and its file id); the lease simply runs out."""
    data = _jpeg(2)
    token = served.tokens.upload
    url = served.server.url + create(served.server.url, token, len(data)).headers["Location"]
    # the unlease (SET lease_owner=NULL WHERE ... lease_owner = the holder), not the lease,
    # nor the records and renewals, which are fenced on the holder too since e7f6b79: three
    # values set, so its id is the fourth parameter
    served.proxy.arm(b"resumable_uploads.id = $4::VARCHAR AND resumable_uploads.lease_owner = ")
    done = patch(url, token, 0, data)
    assert served.proxy.fired.is_set()
    assert done.status == 204, done.body
    file_id = int(done.headers["MediaDesk-File-Id"])
    again = head(url, token)
    assert again.status == 200 and int(again.headers["MediaDesk-File-Id"]) == file_id


def test_catalog_unreachable_follows_the_context_of_a_rollback_error() -> None:
    """An error raised while a dropped connection's transaction is rolled back carries the
    real one as its __context__ (not __cause__): it is still the catalog's outage."""
    import psycopg

    try:
        try:
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        except psycopg.OperationalError:
            raise RuntimeError("Can't reconnect until invalid transaction is rolled back")  # noqa: B904
    except RuntimeError as exc:
        assert catalog_unreachable(exc)
