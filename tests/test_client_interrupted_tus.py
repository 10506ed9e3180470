"""Ctrl+C during `mediadesk upload` ends the tus upload it leaves on the server.

An outside tester's report: SIGINT stopped `mediadesk upload` (exit 130, "mediadesk:
interrupted") but left the server's tus upload and its .part file until the 24 h expiry, though
the client cannot resume it (its state is not saved across a restart). The client now ends it
(tus termination, DELETE) within 2 s before the interrupt goes on; the exit status stays 130.

A real `mediadesk upload` process, a real server over loopback behind a slow TCP proxy (so
the upload is still going when the signal comes), a real 10 MiB video that takes tus there.
A pending presigned file (files between 10 MiB and the multipart threshold; R2/S3 parts) is
left as it was: the upload scope's only call on it is DELETE /files/{id}, which moves it to the
trash rather than dropping it, and the same expiry drops it from either.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.faults import CuttableProxy, wait_for
from tests.server_fixtures import library_served, make_tokens
from tests.test_client_net import MiB, big_video

pytestmark = pytest.mark.timeout(90)
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def tus_server(tmp_path: Path) -> Iterator[tuple[Library, EmbeddedServer, Path]]:
    data = tmp_path / "data"
    data.mkdir()
    with library_served(data, multipart_threshold=5 * MiB, multipart_chunk_size=5 * MiB) as (
        lib,
        live,
    ):
        yield lib, live, data


def parts(data: Path) -> list[Path]:
    folder = data / "uploads"
    return sorted(folder.glob("*.part")) if folder.exists() else []


def test_ctrl_c_ends_the_tus_upload_on_the_server(
    tus_server: tuple[Library, EmbeddedServer, Path], tmp_path: Path, media_dir: Any
) -> None:
    lib, live, data = tus_server
    video = big_video(Path(media_dir.mp4), tmp_path / "match.mp4", 10 * MiB + 4096)
    proxy = CuttableProxy.in_front_of(live.url)
    proxy.slow(1 * MiB)  # about ten seconds for the whole file
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEDIADESK_")}
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config-home")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from desktop_app.cli import main; sys.exit(main())",
            *("upload", str(video), "--server", proxy.url, "--token", make_tokens(lib).upload),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # the upload is under way on the server: its .part holds some bytes
        wait_for(lambda: any(p.stat().st_size > 0 for p in parts(data)), 30, "a .part")
        signalled = time.monotonic()
        proc.send_signal(signal.SIGINT)
        # the link is fast again: what the stopped PATCH left in the sockets' buffers (the
        # kernel sends it after the close) reaches the server at once, and the PATCH lets the
        # upload go. On a slow link that drain holds it (423) past the 2 s, and the .part stays
        # until its expiry as before: best effort.
        proxy.slow(None)
        out, err = proc.communicate(timeout=30)
        took = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
        proxy.close()
    assert proc.returncode == 130, err
    assert err.endswith("mediadesk: interrupted\n"), err
    assert "Traceback" not in err
    assert took < 4.0, took  # 2 s at most for the DELETE, and the process's own exit
    # the upload is gone from the server: no .part, and no file for it in the catalog
    wait_for(lambda: not parts(data), 5, "the .part removed")
    assert lib.list_files(status="any").items == []
