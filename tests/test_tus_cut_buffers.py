"""A tus PATCH of 4 MiB or more cut mid-body gives its read buffers back at once.

A leak hunt on a long-running server: each cut PATCH left its RING anonymous maps (~8 MiB)
resident after the request ended, freed only when Python's cycle collector happened to run
(the BodyCutShort raised in server/rawbody.py's _pump kept that frame, and with it the maps,
through its traceback and the ApiError chained to it): RSS climbed ~28 MB per five cuts and
fell back hundreds of MB at a time. Real HTTP over loopback to an embedded server in this
process, whose anonymous maps /proc/self/maps lists; the cycle collector held off meanwhile.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from server.entry import EmbeddedServer
from tests.resumable_client import create, head, raw_patch
from tests.server_fixtures import make_tokens

pytestmark = pytest.mark.timeout(60)

LENGTH = 19_335_453
SENT = 6_000_000


def _zero_maps() -> int:
    """The anonymous shared maps of this process (`mmap.mmap(-1, n)` shows as /dev/zero)."""
    return Path(f"/proc/{os.getpid()}/maps").read_text().count("/dev/zero")


@pytest.fixture
def no_cycle_collection() -> Iterator[None]:
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@pytest.mark.usefixtures("no_cycle_collection")
def test_cut_patches_leave_no_read_buffers(live: EmbeddedServer) -> None:
    token = make_tokens(live.library).upload
    before = _zero_maps()
    for _ in range(3):
        made = create(live.url, token, LENGTH, filename="big.mp4", filetype="video/mp4")
        assert made.status == 201, made.body
        url = made.headers["Location"]
        if url.startswith("/"):
            url = live.url + url
        conn = raw_patch(url, token, 0, LENGTH)
        conn.sendall(os.urandom(SENT))
        conn.close()  # mid-body: the rest of the announced length never comes
        deadline = time.monotonic() + 20
        while int(head(url, token).headers.get("Upload-Offset", "0")) < SENT:
            assert time.monotonic() < deadline, "the cut PATCH's bytes were never kept"
            time.sleep(0.05)
    deadline = time.monotonic() + 10
    while _zero_maps() > before and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _zero_maps() <= before, f"{_zero_maps() - before} read buffers still mapped"
