"""The Python client and `mediadesk` in front of servers that are not what they should be: one
that takes the connection and never answers (a stopped `mediadesk serve`, a desktop app not
responding: a real listening socket that is never read), one that hangs up without answering,
and another web server at the address (a real `http.server`).

An integrator's report: `mediadesk list` in front of a frozen server sat silent 60 s, then
retried five times, 60 s each (about 375 s before exit 2), where the README promises "a
host that does not answer after 5 s" in one line; `Client(timeout=2)` waited six times. And
pointed at `python3 -m http.server`, `mediadesk upload` sent every file whole to be refused
as http_501, `mediadesk list` said "HTTP 404 File not found (http_404)" with exit status 1:
any 404 of GET /config was taken for an older MediaDesk without it.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import io
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.library import Library
from server.client import Client, ClientError, cli
from server.client.api import DEFAULT_MAX_SIZE, FIRST_ANSWER_TIMEOUT
from server.client.credentials import credentials_path
from server.entry import EmbeddedServer
from tests.faults import CuttableProxy
from tests.media import make_jpeg
from tests.server_fixtures import make_tokens

pytestmark = pytest.mark.timeout(60)

MEDIADESK = str(Path(sys.executable).with_name("mediadesk"))
FROZEN = "it may be frozen (a stopped `mediadesk serve`, a desktop app not responding) or too busy"


@contextlib.contextmanager
def frozen_server() -> Iterator[str]:
    """A server whose process is frozen: the kernel takes its connections (the backlog), and
    nothing ever reads them or answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"


@contextlib.contextmanager
def hanging_up_server() -> Iterator[str]:
    """A server that takes each connection and closes it without a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def serve() -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = listener.accept()
                conn.recv(65536)
                conn.close()

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        with contextlib.suppress(OSError):
            listener.shutdown(socket.SHUT_RDWR)
        listener.close()


class _Logged(http.server.SimpleHTTPRequestHandler):
    """Python's own file server, as `python3 -m http.server` runs it; keeps each request."""

    seen: list[str]

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (the base's name)
        if args and args[0] == self.requestline:  # log_request's line, once per request
            self.seen.append(self.requestline)


@contextlib.contextmanager
def other_web_server(folder: Path) -> Iterator[tuple[str, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Logged,), {"seen": seen})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(folder))
    )
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def _mediadesk(tmp_path: Path, *args: str, timeout: float) -> tuple[int, str, str, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    env |= {"XDG_CONFIG_HOME": str(tmp_path / "config"), "MEDIADESK_TOKEN": "x"}
    started = time.monotonic()
    done = subprocess.run(
        [MEDIADESK, *args],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
    )
    return done.returncode, done.stdout, done.stderr, time.monotonic() - started


def test_mediadesk_in_front_of_a_frozen_server_says_so_in_one_line_within_seconds(
    tmp_path: Path,
) -> None:
    """Was: 60 s of silence, five retries of 60 s each. Now one wait of FIRST_ANSWER_TIMEOUT
    (the README's 5 s) for GET /config, one line, exit status 2."""
    with frozen_server() as url:
        code, out, err, took = _mediadesk(tmp_path, "list", "--server", url, timeout=20)
    assert code == 2, (out, err)
    assert err.splitlines() == [
        f"mediadesk: GET {url}/config: the server at {url} accepted the connection but did not "
        f"answer within {FIRST_ANSWER_TIMEOUT:g} s: {FROZEN} (connection_failed)"
    ], err
    assert out == ""
    assert FIRST_ANSWER_TIMEOUT <= took < 15, took


def test_the_client_waits_once_for_a_frozen_servers_first_answer() -> None:
    """Client(timeout=2) waited 2 s six times (with backoff between) before raising; now once,
    within its own timeout when that is shorter than the first-answer bound, never retried."""
    notes: list[str] = []
    with frozen_server() as url, Client(url, "x", timeout=2, on_retry=notes.append) as client:
        started = time.monotonic()
        with pytest.raises(ClientError) as failed:
            client.config()
        took = time.monotonic() - started
    assert failed.value.code == "connection_failed" and failed.value.status is None
    assert failed.value.message == (
        f"GET {url}/config: the server at {url} accepted the connection but did not answer "
        f"within 2 s: {FROZEN}"
    )
    assert notes == [] and 2 <= took < 4, (notes, took)


def test_a_first_write_gets_the_whole_timeout_and_is_not_sent_again() -> None:
    """A first request that is a write (an edit without a version, which is sent again after a
    lost answer once the server has answered) may take long on a live server: it keeps the
    whole timeout, but a server that never answered is not tried five more times."""
    notes: list[str] = []
    with (
        frozen_server() as url,
        Client(url, "x", timeout=1.5, first_answer_timeout=0.2, on_retry=notes.append) as client,
    ):
        started = time.monotonic()
        with pytest.raises(ClientError) as failed:
            client.update(7, description="late")
        took = time.monotonic() - started
    assert failed.value.message == (
        f"PATCH {url}/files/7: the server at {url} accepted the connection but did not answer "
        f"within 1.5 s: {FROZEN}"
    )
    assert notes == [] and 1.5 <= took < 3.5, (notes, took)


def test_a_server_that_hangs_up_before_answering_at_all_is_said_at_once() -> None:
    """A first request whose connection the server closes without an answer was retried five
    times like a restart; nothing says that address ever served MediaDesk."""
    notes: list[str] = []
    with (
        hanging_up_server() as url,
        Client(url, "x", on_retry=notes.append) as client,
        pytest.raises(ClientError) as failed,
    ):
        client.config()
    assert failed.value.code == "connection_failed"
    assert failed.value.message.startswith(
        f"GET {url}/config: the server at {url} accepted the connection but gave no answer ("
    ), failed.value.message
    assert notes == []


def test_a_server_that_answered_and_then_goes_silent_is_still_retried(
    live: EmbeddedServer, library: Library
) -> None:
    """The first-answer bound is for a server that never answered: one that did and goes
    silent later (a restart, a moment's freeze) gets the whole timeout and the retries."""
    proxy = CuttableProxy.in_front_of(live.url)
    notes: list[str] = []

    def told(text: str) -> None:
        notes.append(text)
        proxy.restore()  # back before the next attempt

    try:
        with Client(
            proxy.url,
            make_tokens(library).read,
            timeout=1.0,
            first_answer_timeout=0.1,
            backoff=0,
            on_retry=told,
        ) as client:
            client.config()
            proxy.stall()
            started = time.monotonic()
            assert client.list()["total"] == 0
            took = time.monotonic() - started
    finally:
        proxy.close()
    assert len(notes) == 1, notes
    assert notes[0].startswith(f"GET {proxy.url}/files failed (")
    assert took >= 1.0, took  # the whole timeout, not the first answer's


def test_another_web_server_is_not_a_mediadesk_server_and_no_file_is_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mediadesk upload` at `python3 -m http.server`: every file was sent whole and refused
    (http_501), `mediadesk list` said HTTP 404 with exit status 1. Now one line, exit 2,
    before any file; the same from `login` (no token saved) and from the Client."""
    site = tmp_path / "site"
    site.mkdir()
    photo = make_jpeg(tmp_path / "p.jpg")
    expected = "is not a MediaDesk server (GET /config answered HTTP 404 File not found, not "
    with other_web_server(site) as (url, seen):
        for args in (["upload", str(photo)], ["list"], ["download", "3"], ["trash", "3"]):
            out, err = io.StringIO(), io.StringIO()
            code = cli.run([*args, "--server", url, "--token", "x"], out, err)
            assert code == 2, (args, err.getvalue())
            assert err.getvalue() == (
                f"mediadesk: {url} {expected}MediaDesk's JSON) (not_mediadesk)\n"
            ), (args, err.getvalue())
            assert out.getvalue() == ""
        assert seen == ["GET /config HTTP/1.1"] * 4, seen  # nothing else, no file

        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
        monkeypatch.setattr(sys, "stdin", io.StringIO("x\n"))  # `echo x | mediadesk login`
        out, err = io.StringIO(), io.StringIO()
        assert cli.run(["login", "--server", url], out, err) == 2
        assert err.getvalue() == f"mediadesk: {url} {expected}MediaDesk's JSON) (not_mediadesk)\n"
        assert not credentials_path().exists()  # no token saved for it

        # a web server that answers GET /config with a page of its own (200, HTML)
        (site / "config").write_text("<!doctype html><title>Welcome</title>", encoding="utf-8")
        with Client(url, "x") as client, pytest.raises(ClientError) as failed:
            client.config()
        assert failed.value.code == "not_mediadesk"
        assert failed.value.message == (
            f"{url} is not a MediaDesk server (GET /config answered HTTP 200 OK, not "
            "MediaDesk's JSON)"
        )
        assert failed.value.status == 200


def test_a_mediadesk_404_is_still_an_older_mediadesk_without_config(
    live: EmbeddedServer, library: Library
) -> None:
    """MediaDesk answers a path it does not have 404 in its own error body, as a server older
    than GET /config answered it: that one still gets the original defaults."""
    with Client(f"{live.url}/older", make_tokens(library).read) as client:
        config = client.config()
    assert config["max_file_size"] == DEFAULT_MAX_SIZE
    assert config["resumable"] == {"tus": False, "parts": False, "renew": False}
