"""`mediadesk serve` open to the network over plain HTTP says so, once, on stderr and in its log
(security review 31, finding 2): bound to 0.0.0.0 it said nothing, while its banner printed the
admin token inside a network link. Loopback alone, or an https:// MEDIADESK_PUBLIC_URL (TLS in
front), says nothing. Real `serve` processes."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[1]
WARNING = "over plain HTTP"


def _serve(data_dir: Path, host: str, **env: str) -> tuple[str, str]:
    """A `serve --host host --port 0` run up to its banner, then stopped: (stderr, server.log)."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    command = [
        sys.executable,
        "-c",
        "import sys; from server.entry import main; sys.exit(main(sys.argv[1:]))",
        *("serve", "--host", host, "--port", "0", "--data-dir", str(data_dir)),
    ]
    proc = subprocess.Popen(command, cwd=ROOT, env=environ | env, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stderr is not None
        lines: list[str] = []
        while not lines or "Press Ctrl+C" not in lines[-1]:
            line = proc.stderr.readline()
            assert line, "".join(lines)
            lines.append(line)
        proc.send_signal(signal.SIGINT)
        lines.append(proc.stderr.read())
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return "".join(lines), (data_dir / "logs" / "server.log").read_text()


def test_every_address_over_plain_http_is_warned_of(data_dir: Path) -> None:
    stderr, log = _serve(data_dir, "0.0.0.0")
    said = [line for line in stderr.splitlines() if WARNING in line]
    assert len(said) == 1, stderr
    line = said[0]
    assert "WARNING" in line and re.search(r"0\.0\.0\.0 port \d+", line), line
    assert "TLS" in line and "nginx-config" in line and "Behind nginx" in line, line
    assert "mdk_" not in line
    assert [x for x in log.splitlines() if WARNING in x] == [line]
    # before the banner that hands out the token: read first, not scrolled past
    assert stderr.index(WARNING) < stderr.index("MediaDesk API running at")


@pytest.mark.parametrize(
    ("host", "env"),
    [
        ("127.0.0.1", {}),
        ("localhost", {}),  # a name: the sockets bound are what count
        ("0.0.0.0", {"MEDIADESK_PUBLIC_URL": "https://media.club.example"}),  # TLS in front
    ],
    ids=["loopback", "localhost", "https-public-url"],
)
def test_no_warning_on_loopback_or_behind_tls(
    data_dir: Path, host: str, env: dict[str, str]
) -> None:
    stderr, log = _serve(data_dir, host, **env)
    assert WARNING not in stderr and WARNING not in log, stderr
    assert "MediaDesk API running at" in stderr
