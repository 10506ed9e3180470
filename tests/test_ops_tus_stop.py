"""A stop (SIGTERM) while a tus PATCH's body is arriving is said as the server stopping, as a
direct or signed upload's is, not as the client going away; the bytes in are kept."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

import pytest

from server.rawbody import TAKE_MIN
from tests.faults import start_serve, wait_for
from tests.resumable_client import MiB, create, head, raw_patch

pytestmark = pytest.mark.timeout(90)

# A stop waits its shutdown grace (server.entry.SHUTDOWN_TIMEOUT, 5 s) for a body that never
# comes, then aiohttp ends the body's read: the stop these tests make. The grace is shortened
# in the server process, as tests/test_client_restart.py does: the same stop, 4 s sooner.
# (start_serve runs `WRAPPER python -c ENTRY serve ...`: this runs ENTRY with the rest.)
QUICK_STOP = (
    sys.executable,
    "-c",
    "import sys, server.entry; server.entry.SHUTDOWN_TIMEOUT = 1.0; "
    "entry = sys.argv[3]; sys.argv = sys.argv[3:]; exec(entry)",
)


def _bytes_in(data: Path) -> int:
    """Bytes of tus uploads under way in the data folder (their .part files)."""
    return sum(p.stat().st_size for p in data.rglob("*.part") if p.is_file())


# a body of 4 MiB or more is read from the socket (server/rawbody.py), a smaller one through
# aiohttp, written a batch (2 MiB) at a time
@pytest.mark.parametrize(
    ("length", "sent"),
    [(8 * MiB, 256 * 1024), (3 * MiB, 5 * MiB // 2)],
    ids=["taken-from-socket", "via-aiohttp"],
)
def test_sigterm_during_a_tus_patch_is_a_stop(tmp_path: Path, length: int, sent: int) -> None:
    data = tmp_path / "data"
    served = start_serve(data, wrapper=QUICK_STOP)
    try:
        assert served.token is not None
        created = create(served.url, served.token, length, filename="a.mp4")
        assert created.status == 201, created.body
        upload = served.url + created.headers["Location"]
        conn = raw_patch(upload, served.token, 0, length)
        conn.sendall(b"\0" * sent)  # and no more: the body is still arriving at the stop
        with conn:
            wait_for(lambda: _bytes_in(data) > 0, what="the PATCH's first bytes written")
            served.proc.send_signal(signal.SIGTERM)
            answer = b""
            while chunk := conn.recv(65536):
                answer += chunk
            assert served.proc.wait(60) == 0
    finally:
        served.stop()
    log = "".join(served.stderr)
    assert "Stopping during PATCH" in log, log
    assert "Client went away during PATCH" not in log
    if length < TAKE_MIN:
        # read through aiohttp, the client is told (taken from the socket, the connection is
        # closed under the answer: server/rawbody.py shuts the socket to end its thread's read)
        assert answer.startswith(b"HTTP/1.1 503 ") and b'"server_stopping"' in answer, answer
    again = start_serve(data)  # the bytes in are kept: the upload resumes from them
    try:
        assert again.token is None
        assert (
            int(head(upload.replace(served.url, again.url), served.token).headers["Upload-Offset"])
            > 0
        )
    finally:
        again.stop()
