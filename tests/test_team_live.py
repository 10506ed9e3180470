"""Team mode, what is already under way: streams and settings follow changes made elsewhere.

Two `mediadesk serve` processes on one catalog (PostgreSQL + the moto bucket, and SQLite with
one data folder; the fixtures of tests/test_team.py): a stream in progress on B ends when A
trashes its file (or makes it private, for an anonymous stream), and a settings change saved
in the shared data folder reaches the other process through the feed.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import socket
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from tests.pg_server import postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, multipart_body
from tests.test_team import LIVE, Team, pg_team, sqlite_team, team, until  # noqa: F401

pytestmark = pytest.mark.timeout(300)
BIG = (3000, 2400)  # a noise JPEG of ~17 MB: more than loopback socket buffers hold


def big_jpeg() -> bytes:
    rng = random.Random(12)
    w, h = BIG
    picture = Image.frombytes("RGB", BIG, rng.randbytes(w * h * 3))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=95, subsampling=0)
    return out.getvalue()


def upload_bytes(url: str, token: str, data: bytes, public: bool) -> int:
    body, ctype = multipart_body(
        {"file_type": "image", "is_public": "true" if public else "false"},
        {"file": ("big.jpg", data, "image/jpeg")},
    )
    reply = http_call(
        f"{url}/files/upload/direct", "POST", body, {**bearer(token), "Content-Type": ctype}
    )
    assert reply.status in (200, 201), reply.body
    record = reply.json()
    return int(record.get("file_id", record.get("id")))


class SlowReader:
    """A GET read a few KiB at a time in a thread; records how it ended."""

    def __init__(self, url: str, path: str, token: str | None = None, extra: str = "") -> None:
        parts = urlsplit(url)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # a small receive window: the server cannot push the whole file into our buffers
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 * 1024)
        self.sock.connect((parts.hostname, parts.port))
        self.sock.settimeout(30)
        auth = f"Authorization: Bearer {token}\r\n" if token else ""
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{auth}{extra}\r\n".encode("latin-1")
        )
        head = b""
        while b"\r\n\r\n" not in head:
            piece = self.sock.recv(4096)
            assert piece, head
            head += piece
        head, _, rest = head.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.status = int(lines[0].split()[1])
        headers = dict(line.split(": ", 1) for line in lines[1:])
        self.length = int(headers["Content-Length"])
        self.received = len(rest)
        self.ended: str | None = None
        self._gate = threading.Event()  # reading goes on while set
        self._gate.set()
        self._pause = 0.02  # ~800 KB/s: the whole file would take ~20 s
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        try:
            while self.received < self.length:
                self._gate.wait()
                piece = self.sock.recv(16 * 1024)
                if not piece:
                    self.ended = "closed"
                    return
                self.received += len(piece)
                time.sleep(self._pause)
            self.ended = "complete"
        except OSError as exc:  # a reset connection
            self.ended = type(exc).__name__

    def wait_reading(self, at_least: int = 256 * 1024) -> None:
        until(lambda: self.received >= at_least, 30)

    def hurry(self) -> None:
        """Reads the rest four times as fast (the whole file would take ~5 s): for once the
        server has heard of the change. What it had written before ending the stream (~4 MB
        that its socket's buffer holds) must be read before the end shows, ~5 s at the slow
        pace."""
        self._pause = 0.005

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        self._thread.join(5)


def heard(url: str, path: str, token: str | None) -> None:
    """Waits until the server at `url` refuses a new request of `path` (with `token`): it has
    heard of the change, and ends the streams under way at the same event (a passing 5xx of a
    loaded machine is not that)."""
    headers = bearer(token) if token else {}
    refused = (401, 403, 404, 410)
    until(lambda: http_call(f"{url}{path}", "HEAD", headers=headers).status in refused, 10 * LIVE)


def _patch(url: str, token: str, file_id: int, body: dict[str, Any]) -> None:
    reply = http_call(
        f"{url}/files/{file_id}",
        "PATCH",
        json.dumps(body).encode(),
        {**bearer(token), "Content-Type": "application/json"},
    )
    assert reply.status == 200, reply.body


def test_streams_under_way_follow_changes_elsewhere(team: Team) -> None:
    a, b = team.a, team.b
    file_id = upload_bytes(a.url, team.admin, big_jpeg(), public=True)
    path = f"/stream/{file_id}/raw"
    until(lambda: http_call(f"{b.url}{path}", "HEAD").status == 200, 10)

    # made private through A: B's anonymous stream ends, a token's stream goes on
    anonymous = SlowReader(b.url, path)
    holder = SlowReader(b.url, path, team.admin)
    try:
        assert anonymous.status == holder.status == 200
        anonymous.wait_reading()
        holder.wait_reading()
        _patch(a.url, team.admin, file_id, {"is_public": False})
        heard(b.url, path, None)
        anonymous.hurry()
        until(lambda: anonymous.ended is not None, 10 * LIVE)
        assert anonymous.ended != "complete" and anonymous.received < anonymous.length
        before = holder.received
        holder.wait_reading(before + 256 * 1024)  # still served
        assert holder.ended is None

        # trashed through A: the token's stream on B ends too, short of its length
        reply = http_call(f"{a.url}/files/{file_id}", "DELETE", headers=bearer(team.admin))
        assert reply.status == 200, reply.body
        heard(b.url, path, team.admin)
        holder.hurry()
        until(lambda: holder.ended is not None, 10 * LIVE)
        assert holder.ended != "complete" and holder.received < holder.length
    finally:
        anonymous.close()
        holder.close()

    # restored: streams work again; then hard-deleted through A ends a multi-range answer
    http_call(f"{a.url}/files/{file_id}/restore", "POST", headers=bearer(team.admin))
    until(lambda: http_call(f"{b.url}{path}", "HEAD", headers=bearer(team.admin)).status == 200, 10)
    ranges = SlowReader(b.url, path, team.admin, "Range: bytes=0-99,1000-8000000,9000000-\r\n")
    try:
        assert ranges.status == 206
        ranges.wait_reading()
        reply = http_call(
            f"{a.url}/files/{file_id}?hard_delete=true", "DELETE", headers=bearer(team.admin)
        )
        assert reply.status == 200, reply.body
        heard(b.url, path, team.admin)
        ranges.hurry()
        until(lambda: ranges.ended is not None, 10 * LIVE)
        assert ranges.ended != "complete" and ranges.received < ranges.length
    finally:
        ranges.close()


def test_settings_saved_by_the_app_reach_a_server_of_the_same_data_folder(
    sqlite_team: Team,
    qtbot: Any,
    media_dir: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app's Settings save → settings.toml + a `settings` feed event → B re-reads it."""
    from core.library import Library
    from core.settings import load_settings
    from desktop_app.controllers.settings_controller import SettingsController

    team = sqlite_team
    for name in os.environ:
        if name not in team.env:
            monkeypatch.delenv(name)
    for name, value in team.env.items():
        monkeypatch.setenv(name, value)
    lib = Library.open(load_settings(data_dir=str(team.data_a)))
    try:
        config = f"{team.b.url}/config"
        assert http_call(config).json()["max_file_size"] == lib.settings.max_file_size
        jpeg = media_dir.jpeg.read_bytes()
        upload_bytes(team.b.url, team.admin, jpeg, public=False)  # accepted before

        controller = SettingsController(lib.settings)
        controller.library = lib
        with qtbot.waitSignal(controller.saved, timeout=10_000):
            controller.save({"max_file_size": len(jpeg) - 1, "trash_retention_days": 3})
        until(lambda: http_call(config).json()["max_file_size"] == len(jpeg) - 1, LIVE)
        body, ctype = multipart_body(
            {"file_type": "image"}, {"file": ("late.jpg", jpeg, "image/jpeg")}
        )
        reply = http_call(
            f"{team.b.url}/files/upload/direct",
            "POST",
            body,
            {**bearer(team.admin), "Content-Type": ctype},
        )
        assert reply.status == 413, reply.body

        with qtbot.waitSignal(controller.saved, timeout=10_000):
            controller.save({"max_file_size": 104857600, "allowed_image_types": ["image/png"]})
        # both servers re-read them from the feed, each in its own time: the upload goes to A
        until(
            lambda: all(
                http_call(f"{serve.url}/config").json()["allowed_types"]["image"] == ["image/png"]
                for serve in (team.a, team.b)
            ),
            LIVE,
        )
        reply = http_call(
            f"{team.a.url}/files/upload/direct",
            "POST",
            body,
            {**bearer(team.admin), "Content-Type": ctype},
        )
        assert reply.status == 400 and "not_allowed" in reply.body.decode(), reply.body
    finally:
        lib.close()
