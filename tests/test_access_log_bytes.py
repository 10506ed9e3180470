"""The access log escapes every byte above 0x7E of what a client sent, as nginx does."""

from __future__ import annotations

import http.client
import json
import time
from pathlib import Path

from tests.served import serve


def _access_line(log: Path, request_start: str) -> str:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
            if request_start in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no access log line for {request_start!r}")


def test_a_bidi_override_or_any_non_ascii_byte_in_a_header_is_escaped(tmp_path: Path) -> None:
    """A U+202E (right-to-left override) in a User-Agent showed the rest of the line reversed
    to whoever read the log; a byte that is not UTF-8 comes out as itself, escaped."""
    agent = "x\u202egnp.exe é".encode() + b" \xff"
    with serve(tmp_path, {}) as srv:
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        conn.putrequest("GET", "/health?m=bidi")
        conn.putheader("User-Agent", agent)
        conn.endheaders()
        assert conn.getresponse().status == 200
        conn.close()
        line = _access_line(srv.log, "GET /health?m=bidi")
    assert line.isascii(), ascii(line)
    message = json.loads(line)["message"]
    assert message.endswith('"x\\xE2\\x80\\xAEgnp.exe \\xC3\\xA9 \\xFF"'), message


def test_the_size_column_counts_a_file_body_sent_by_sendfile(tmp_path: Path) -> None:
    """A 40 MB download was logged as its headers' ~450 bytes: sendfile puts the body on the
    socket past aiohttp's writer, whose count the size column reads. Bandwidth worked out from
    the access log (goaccess, awstats) was wrong."""
    from core.library import Library
    from tests.conftest import make_settings
    from tests.resumable_client import noise_png

    data = tmp_path / "data"
    lib = Library.open(make_settings(data))
    try:
        record = lib.uploads.ingest(noise_png(tmp_path / "big.png", 900), "image")  # ~2.4 MB
    finally:
        lib.close()
    size = int(record.size or 0)
    assert size > 1024 * 1024
    with serve(data, {}) as srv:
        for ranged in (False, True):
            conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
            headers = {"Authorization": f"Bearer {srv.token}"}  # the first start's admin
            if ranged:
                headers["Range"] = f"bytes=1000-{size - 1}"
            conn.request("GET", f"/stream/{record.id}/raw?m={ranged}", headers=headers)
            reply = conn.getresponse()
            body = reply.read()
            conn.close()
            assert reply.status == (206 if ranged else 200)
            line = json.loads(_access_line(srv.log, f"/raw?m={ranged}"))["message"]
            logged = int(line.split('" ', 1)[1].split()[1])  # after "request": status, size
            assert logged >= len(body) > 1024 * 1024, line
