"""Refusals answered before the body is read reach a client that sends its whole body first.

Python's http.client (like many simple clients) reads the answer only after its last body
byte: a server that closes the connection while that body still comes resets it, and the
client gets ConnectionResetError instead of the 413/401/409 JSON. Each body here lasts longer
than aiohttp lingered over an unread body (10 s, then a reset; AIOHTTP_LINGERING here, to keep
the suite's time) and well within server.protocol.LINGER_TOTAL, never quiet for LINGER_IDLE.
"""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from aiohttp.web_protocol import RequestHandler

from core.library import Library
from server.entry import EmbeddedServer
from server.protocol import LINGER_IDLE, LINGER_TOTAL
from tests.conftest import make_settings
from tests.resumable_client import OCTETS, TUS, create
from tests.server_fixtures import bearer, make_tokens, server_config

pytestmark = pytest.mark.timeout(120)
LIMIT = 1_000_000
PIECE = 16 * 1024
# aiohttp's lingering over an unread body (its RequestHandler's lingering_time, 10 s), made
# shorter: a server that left the body to it again resets these clients all the same
AIOHTTP_LINGERING = 2.0
SECONDS = 4.0  # past aiohttp's lingering, short of LINGER_TOTAL
PIECES = 1000  # ~16 MB: one piece every 4 ms


@pytest.fixture
def small(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmbeddedServer]:
    """A live server whose MAX_FILE_SIZE is 1 MB (and aiohttp's lingering AIOHTTP_LINGERING)."""
    defaults = {**(RequestHandler.__init__.__kwdefaults__ or {})}
    assert defaults["lingering_time"] == 10.0  # what the server leaves to aiohttp
    monkeypatch.setattr(
        RequestHandler.__init__,
        "__kwdefaults__",
        {**defaults, "lingering_time": AIOHTTP_LINGERING},
    )
    lib = Library.open(make_settings(data_dir, max_file_size=LIMIT))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    yield server
    server.stop()
    lib.close()


def _paced_body() -> Iterator[bytes]:
    """PIECES pieces over SECONDS, each sent at its time (late ones at once, never slower)."""
    piece = b"\xff" * PIECE
    started = time.monotonic()
    for i in range(PIECES):
        wait = started + i * SECONDS / PIECES - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        yield piece


def _send_all_then_read(
    server: EmbeddedServer, method: str, path: str, headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    try:
        # sends the whole body before reading anything, as http.client does
        conn.request(
            method,
            path,
            body=_paced_body(),
            headers={**headers, "Content-Length": str(PIECES * PIECE)},
        )
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_an_answer_before_the_body_reaches_a_client_that_sends_it_all_first(
    small: EmbeddedServer,
) -> None:
    assert AIOHTTP_LINGERING < SECONDS < LINGER_TOTAL and SECONDS / PIECES < LINGER_IDLE
    tokens = make_tokens(small.library)
    form = {"Content-Type": "multipart/form-data; boundary=xyz"}
    made = create(small.url, tokens.upload, LIMIT)
    assert made.status == 201, made.body
    upload = made.headers["Location"]
    calls = {
        # Content-Length over MAX_FILE_SIZE: 413 at once
        "oversize": ("POST", "/files/upload/direct", {**form, **bearer(tokens.upload)}, 413),
        # a bad token on a big body: 401 from the auth middleware
        "bad token": ("POST", "/files/upload/direct", {**form, **bearer("mdk_nope")}, 401),
        # a tus PATCH at the wrong offset (the server has 0): 409
        "wrong offset": (
            "PATCH",
            upload if upload.startswith("/") else "/" + upload.split("/", 3)[3],
            {**bearer(tokens.upload), **TUS, **OCTETS, "Upload-Offset": "5"},
            409,
        ),
    }
    with ThreadPoolExecutor(len(calls)) as pool:
        futures = {
            what: pool.submit(_send_all_then_read, small, method, path, headers)
            for what, (method, path, headers, _) in calls.items()
        }
        answers = {what: future.result() for what, future in futures.items()}
    for what, (status, body) in answers.items():
        expected = calls[what][3]
        assert status == expected, (what, body)
        assert body["error"]["code"] and body["error"]["message"], (what, body)
    assert answers["oversize"][1]["error"]["code"] == "too_large"
    assert answers["bad token"][1]["error"]["code"] == "invalid_token"
