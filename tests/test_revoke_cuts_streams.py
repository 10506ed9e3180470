"""A token revoked elsewhere ends what is under way with it: a stream (cut short of its
length), a tus PATCH body (no longer taken); a signed URL's stream (no token) goes on.

The revoke is made by another Library on the same catalog (as `mediadesk token revoke` or
another team server makes it): the server hears of it through the change feed, as /events does.
"""

from __future__ import annotations

import asyncio
import base64
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import make_mocked_request

from core.events import ChangeEvent, EventKind
from core.library import Library
from core.settings import Settings
from core.tokens import TokenInfo
from server.entry import EmbeddedServer
from server.errors import ApiError
from server.live_streams import ActiveStreams
from server.state import LOOKED_UP, TOKEN
from tests.server_fixtures import bearer, http_call
from tests.test_live_streams import _record
from tests.test_team import until
from tests.test_team_live import SlowReader, big_jpeg, upload_bytes

pytestmark = pytest.mark.timeout(120)
HEARD = 10.0  # generous bound for polling only: the feed brings a revoke within ~1 s


@pytest.fixture
def elsewhere(settings: Settings) -> Iterator[Library]:
    """Another Library on the same catalog: the CLI's or another team server's view."""
    lib = Library.open(settings)
    yield lib
    lib.close()


def _refused(url: str, path: str, token: str) -> None:
    until(lambda: http_call(f"{url}{path}", "HEAD", headers=bearer(token)).status == 401, HEARD)


def test_a_revoked_token_ends_its_streams_but_not_a_signed_urls(
    library: Library, live: EmbeddedServer, elsewhere: Library
) -> None:
    admin = library.tokens.create("admin", "admin")[1]
    victim, secret = library.tokens.create("victim", "read")
    file_id = upload_bytes(live.url, admin, big_jpeg(), public=False)
    path = f"/stream/{file_id}/raw"
    link = http_call(f"{live.url}/files/{file_id}/presigned-url", headers=bearer(secret)).json()
    signed = urlsplit(link["url"])
    assert signed.path.startswith("/signed/")  # local storage: this server's own signed link

    streamed = SlowReader(live.url, path, secret)
    by_link = SlowReader(live.url, f"{signed.path}?{signed.query}")
    try:
        assert streamed.status == by_link.status == 200
        streamed.wait_reading()
        by_link.wait_reading()
        elsewhere.tokens.revoke(victim.id)
        _refused(live.url, path, secret)
        streamed.hurry()
        until(lambda: streamed.ended is not None, HEARD)
        assert streamed.ended != "complete" and streamed.received < streamed.length
        # reset, not closed once the ~4 MB the server's kernel still held had been sent
        assert streamed.ended == "ConnectionResetError", streamed.ended
        # the signed URL carries no token: still served after the stream above ended
        before = by_link.received
        by_link.wait_reading(before + 256 * 1024)
        assert by_link.ended is None
    finally:
        streamed.close()
        by_link.close()


def _tus_patch_until_cut(url: str, token: str, upload: str, length: int) -> int:
    """Sends a PATCH body of `length` bytes slowly; returns how many were sent when the server
    ended the request (or `length`, all of them taken)."""
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
    sent = 0
    try:
        sock.sendall(
            f"PATCH {upload} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Bearer {token}"
            f"\r\nTus-Resumable: 1.0.0\r\nUpload-Offset: 0\r\n"
            f"Content-Type: application/offset+octet-stream\r\nContent-Length: {length}"
            "\r\n\r\n".encode()
        )
        chunk = b"\0" * 16 * 1024
        while sent < length:
            sock.sendall(chunk[: length - sent])
            sent += min(len(chunk), length - sent)
            time.sleep(0.002)
    except OSError:  # reset, or a broken pipe: the server stopped taking the body
        pass
    finally:
        sock.close()
    return sent


def test_a_revoked_token_stops_a_tus_patch_being_taken(
    library: Library, live: EmbeddedServer, elsewhere: Library
) -> None:
    victim, secret = library.tokens.create("victim", "upload")
    length = 96 * 1024 * 1024  # ~12 s at this pace: the revoke comes long before its end
    name = base64.b64encode(b"big.bin").decode()
    created = http_call(
        f"{live.url}/files/upload/tus",
        "POST",
        b"",
        {
            **bearer(secret),
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(length),
            "Upload-Metadata": f"filename {name}",
        },
    )
    assert created.status == 201, created.body
    upload = urlsplit(created.headers["Location"]).path

    def head() -> Any:
        return http_call(
            f"{live.url}{upload}", "HEAD", headers={**bearer(secret), "Tus-Resumable": "1.0.0"}
        )

    result: list[int] = []
    sender = threading.Thread(
        target=lambda: result.append(_tus_patch_until_cut(live.url, secret, upload, length))
    )
    sender.start()
    try:
        # the server holds the body: its HEAD answers 423 or an offset that moves on
        until(lambda: head().status == 423 or int(head().headers.get("Upload-Offset", 0)) > 0, 30)
        elsewhere.tokens.revoke(victim.id)
        sender.join(HEARD * 3)
        assert not sender.is_alive(), "the PATCH body was still taken after the revoke"
        assert result and result[0] < length
        assert head().status == 401
    finally:
        sender.join(60)


def _direct_upload_until_cut(url: str, token: str, length: int) -> tuple[int, bytes]:
    """Sends a direct upload's form with a file part of `length` bytes, slowly; returns how many
    of them were sent when the server ended the request (or `length`) and what it answered."""
    parts = urlsplit(url)
    boundary = "mediadesk-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file_type"\r\n\r\nvideo\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="leak.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    sock = socket.create_connection((parts.hostname, parts.port), timeout=30)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 32 * 1024)
    sent, answer = 0, b""
    try:
        sock.sendall(
            f"POST /files/upload/direct HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
            f"Content-Length: {len(head) + length + len(tail)}\r\n\r\n".encode()
            + head
        )
        chunk = b"\0" * 16 * 1024
        while sent < length:
            sock.sendall(chunk[: length - sent])
            sent += min(len(chunk), length - sent)
            time.sleep(0.002)
        sock.sendall(tail)
        answer = sock.recv(4096)
    except OSError:  # reset, or a broken pipe: the server stopped taking the body
        pass
    finally:
        sock.close()
    return sent, answer


def test_a_revoked_token_stops_a_direct_upload_being_taken(
    library: Library, live: EmbeddedServer, elsewhere: Library
) -> None:
    """A direct upload's body went on being taken after its token was revoked, and its file was
    catalogued at its end (a leaked token's upload outlived the revoke meant to stop it)."""
    victim, secret = library.tokens.create("victim", "upload")
    length = 80 * 1024 * 1024  # ~10 s at this pace: the revoke comes long before its end
    result: list[tuple[int, bytes]] = []
    sender = threading.Thread(
        target=lambda: result.append(_direct_upload_until_cut(live.url, secret, length))
    )
    spool = library.paths.tmp_dir
    sender.start()
    try:
        # the server is taking the body: its spool file in the data folder's tmp/ grows
        until(lambda: sum(p.stat().st_size for p in spool.iterdir() if p.is_file()) > 1 << 20, 30)
        elsewhere.tokens.revoke(victim.id)
        sender.join(HEARD * 3)
        assert not sender.is_alive(), "the direct upload's body was still taken after the revoke"
        sent, answer = result[0]
        assert sent < length and b"201" not in answer, (sent, answer[:80])
        assert library.list_files().total == 0  # nothing catalogued
        until(lambda: not [p for p in spool.iterdir() if p.is_file()], HEARD)  # spool gone
        _refused(live.url, "/files/", secret)
    finally:
        sender.join(60)


READER = TokenInfo(1, "reader", "mdk_1234", "read", datetime.now(UTC), None, None)


async def test_a_stream_registered_after_its_tokens_revoke_answers_401() -> None:
    """A token checked (from the cache) just before its revoke was heard, whose stream starts
    after: refused, as a new request is."""
    streams = ActiveStreams()
    streams.attach(asyncio.get_running_loop())
    request = make_mocked_request("GET", "/stream/7/raw")
    request[TOKEN] = READER
    request[LOOKED_UP] = time.monotonic()
    streams.on_event(
        ChangeEvent(EventKind.TOKEN, None, data={"id": READER.id, "active": False}, entity_id=1)
    )
    with pytest.raises(ApiError) as refused, streams.track(request, _record(public=False)):
        pass
    assert (refused.value.status, refused.value.code) == (401, "invalid_token")
    ended: list[int] = []
    with pytest.raises(ApiError), streams.receiving(request, lambda: ended.append(1)):
        pass
    assert streams.count() == 0


def _photo(size: tuple[int, int]) -> bytes:
    import io
    import random

    from PIL import Image

    rng = random.Random(7)
    picture = Image.frombytes("RGB", size, rng.randbytes(size[0] * size[1] * 3))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95, subsampling=0)
    return out.getvalue()


def test_a_revoke_ends_an_answer_already_in_the_kernels_send_buffer(
    library: Library, live: EmbeddedServer, elsewhere: Library
) -> None:
    """An answer under the kernel's send buffer (~4 MiB: a photo, an HLS segment) is handed to
    it whole at once and its handler ends: untracked from then on, it arrived whole after the
    revoke, however slowly its client read (a concurrent-cuts tester)."""
    admin = library.tokens.create("admin", "admin")[1]
    victim, secret = library.tokens.create("victim", "read")
    data = _photo((600, 600))
    assert 512 * 1024 < len(data) < 2 * 1024 * 1024
    file_id = upload_bytes(live.url, admin, data, public=False)
    path = f"/stream/{file_id}/raw"
    streamed = SlowReader(live.url, path, secret)
    try:
        assert streamed.status == 200 and streamed.length == len(data)
        streamed._pause = 0.5  # 32 KiB a second: the rest would take half a minute
        streamed.wait_reading(64 * 1024)
        elsewhere.tokens.revoke(victim.id)
        _refused(live.url, path, secret)
        streamed.hurry()
        until(lambda: streamed.ended is not None, HEARD * 3)
        assert streamed.ended == "ConnectionResetError", streamed.ended
        assert streamed.received < streamed.length
    finally:
        streamed.close()


def test_a_revoke_leaves_the_next_request_on_a_keep_alive_connection_alone(
    library: Library, live: EmbeddedServer, elsewhere: Library
) -> None:
    """A whole answer under token A, then on the same connection a long one under token B:
    revoking A must not reset the connection, which now carries B's answer (an answer is
    watched until the kernel has sent it, and B's bytes kept that buffer full)."""
    import http.client

    admin = library.tokens.create("admin", "admin")[1]
    first, first_secret = library.tokens.create("first", "read")
    second_secret = library.tokens.create("second", "read")[1]
    small = upload_bytes(live.url, admin, _photo((200, 200)), public=False)
    big = upload_bytes(live.url, admin, big_jpeg(), public=False)
    parts = urlsplit(live.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=30)
    conn.connect()
    assert conn.sock is not None
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
    try:
        conn.request("GET", f"/stream/{small}/raw", headers=bearer(first_secret))
        whole = conn.getresponse()
        assert whole.status == 200 and len(whole.read()) == int(whole.headers["Content-Length"])
        conn.request("GET", f"/stream/{big}/raw", headers=bearer(second_secret))
        answer = conn.getresponse()
        length = int(answer.headers["Content-Length"])
        received = len(answer.read(64 * 1024))
        elsewhere.tokens.revoke(first.id)
        _refused(live.url, f"/stream/{small}/raw", first_secret)
        while piece := answer.read(256 * 1024):
            received += len(piece)
        assert received == length
    finally:
        conn.close()
