"""A stop of `mediadesk serve` ends the process when a request's blocking work outlasts its
wait (server.cli.STOP_WAIT), exit status 1 and a line saying so, instead of living on until
that work ends.

Found by an outside security run: SIGTERM during a long decode closed the listener, logged "The
HTTP server thread did not stop within 30.0 s", and the process went on for minutes at full
CPU (the interpreter joins the thread doing the work at exit) until killed with -9, as systemd
would. A real `serve` process, a real upload whose check takes seconds (an animation just within
core.images.MAX_ANIMATION_FRAME_PIXELS), SIGTERM; the stop's wait set short in the process."""

from __future__ import annotations

import contextlib
import signal
import threading
import time
from pathlib import Path

import pytest

from core.images import MAX_ANIMATION_FRAME_PIXELS
from tests import media
from tests.faults import start_serve
from tests.server_fixtures import bearer, http_call, multipart_body

pytestmark = pytest.mark.timeout(90)

ENTRY = (
    "import sys, server.cli as cli; cli.STOP_WAIT = 0.5; "
    "from server.entry import main; sys.exit(main(sys.argv[1:]))"
)


def test_a_stop_does_not_wait_for_ever_on_a_request_s_blocking_work(tmp_path: Path) -> None:
    side = 1024
    gif = media.make_sparse_gif(
        tmp_path / "long.gif", (side, side), MAX_ANIMATION_FRAME_PIXELS // (side * side)
    )
    served = start_serve(tmp_path / "data", entry=ENTRY)
    try:
        assert served.token is not None
        body, ctype = multipart_body(
            {"file_type": "image"}, {"file": (gif.name, gif.read_bytes(), "image/gif")}
        )
        headers = {**bearer(served.token), "Content-Type": ctype}
        upload = threading.Thread(
            target=_send, args=(f"{served.url}/files/upload/direct", body, headers), daemon=True
        )
        upload.start()
        time.sleep(1.0)  # its small body taken, its last frame being decoded (~3 s)
        served.proc.send_signal(signal.SIGTERM)
        assert served.proc.wait(60) == 1, "".join(served.stderr)
        line = "Exiting without waiting for the work still running"
        deadline = time.monotonic() + 10  # the collecting thread reads to the pipe's end
        while line not in "".join(served.stderr) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert line in "".join(served.stderr), "".join(served.stderr)
    finally:
        served.stop()


def _send(url: str, body: bytes, headers: dict[str, str]) -> None:
    with contextlib.suppress(OSError):  # the server goes away under it: what this test does
        http_call(url, "POST", body, headers, timeout=60)
