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
