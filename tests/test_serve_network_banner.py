"""`mediadesk serve` bound to every address (0.0.0.0, ::) names this machine's address on the
network in its banner, its admin link and its "listening on" log line (core.links
.shareable_origin), and keeps the loopback one for use here; MEDIADESK_PUBLIC_URL, when set,
is the address it hands out. A real `serve` process, answered over real HTTP."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from core.links import network_address, origin
from tests.server_fixtures import bearer, http_call

pytestmark = pytest.mark.timeout(60)
ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def _serve(data_dir: Path, host: str, **env: str) -> Iterator[tuple[str, str]]:
    """A `serve --host host --port 0` process: its banner and its admin token, until stopped."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    command = [
        sys.executable,
        "-c",
        "import sys; from server.entry import main; sys.exit(main(sys.argv[1:]))",
        "serve",
        "--host",
        host,
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
    ]
    proc = subprocess.Popen(command, cwd=ROOT, env=environ | env, stderr=subprocess.PIPE, text=True)
    try:
        lines: list[str] = []
        assert proc.stderr is not None
        while not lines or "Press Ctrl+C" not in lines[-1]:
            line = proc.stderr.readline()
            assert line, "".join(lines)
            lines.append(line)
        text = "".join(lines)
        token = re.search(r"(mdk_\S+)", text).group(1)  # type: ignore[union-attr]
        yield text, token
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _banner(text: str) -> str:
    """The banner's lines, without the log lines before them."""
    return text[text.index("MediaDesk API running at") :]


@pytest.mark.parametrize(
    ("host", "family", "loopback"),
    [
        ("0.0.0.0", socket.AF_INET, "127.0.0.1"),
        ("::", socket.AF_INET6, "::1"),
        ("::0", socket.AF_INET6, "::1"),  # every address however written
    ],
)
def test_serve_on_every_address_names_the_network_address(
    data_dir: Path, host: str, family: socket.AddressFamily, loopback: str
) -> None:
    lan = network_address(family)
    if not lan:
        pytest.skip("this machine has no network address in that family")
    with _serve(data_dir, host) as (text, token):
        banner = _banner(text)
        port = int(re.search(r"running at http://\S+:(\d+)/", banner).group(1))  # type: ignore[union-attr]
        shared, here = origin(lan, port), origin(loopback, port)
        assert f"running at {shared}/" in banner, banner
        assert "all addresses" in banner, banner
        assert f"{here}/" in banner, banner  # for a browser on this machine
        assert f"{shared}/docs" in banner, banner
        assert f"{shared}/docs#token={token}" in banner, banner
        assert f"{here}/docs#token" not in banner, banner
        # both answer: the address on the network (as another device reaches it) and loopback
        for url in (shared, here):
            assert http_call(f"{url}/athletes", headers=bearer(token)).status == 200
    log = (data_dir / "logs" / "server.log").read_text()
    listening = next(line for line in log.splitlines() if "listening on" in line)
    assert shared in listening and here in listening and "all addresses" in listening, listening
    assert token not in log


def test_the_public_url_wins_over_the_network_address(data_dir: Path) -> None:
    public = "https://media.club.example"
    with _serve(data_dir, "0.0.0.0", MEDIADESK_PUBLIC_URL=public + "/") as (text, token):
        banner = _banner(text)
        assert f"running at {public}/" in banner, banner
        assert f"{public}/docs#token={token}" in banner, banner
        here = re.search(r"(http://127\.0\.0\.1:\d+)/", banner)
        assert here is not None, banner  # the loopback address, for use on this machine
        assert http_call(f"{here.group(1)}/athletes", headers=bearer(token)).status == 200
    log = (data_dir / "logs" / "server.log").read_text()
    listening = next(line for line in log.splitlines() if "listening on" in line)
    assert "all addresses" in listening and public in listening, listening


def test_serve_on_loopback_names_loopback_alone(data_dir: Path) -> None:
    with _serve(data_dir, "127.0.0.1") as (text, token):
        banner = _banner(text)
        url = re.search(r"running at (http://127\.0\.0\.1:\d+)/\n", banner)
        assert url is not None, banner
        assert f"{url.group(1)}/docs#token={token}" in banner
        assert "all addresses" not in banner and "this machine" not in banner, banner
    log = (data_dir / "logs" / "server.log").read_text()
    assert f"listening on {url.group(1)}\n" in log, log
