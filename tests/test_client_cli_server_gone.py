"""`mediadesk upload` stops when the server goes away part-way, as trash and restore do.

An outside tester's report: with the server gone after the first of a card's clips, every
further file waited through the client's retries for it (0.5 + 1 + 2 + 4 + 8 s: some 15 s a
file, an hour for 200 clips) and was reported failed one by one, exit status 1. Now the first
file that cannot reach the server stops the command: the summary, the files not sent named on
stderr, exit status 2 (no server), as `mediadesk trash|restore` already did.
A real server behind a TCP proxy that the test cuts once the first file is stored.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from core.library import Library
from server.client import api, cli
from server.entry import EmbeddedServer
from tests.faults import CuttableProxy
from tests.server_fixtures import make_tokens
from tests.test_form_filenames import Pictures

pytestmark = pytest.mark.timeout(60)


class CutAfterFirst(io.StringIO):
    """stderr of the command: cuts the proxy once the first file is said stored."""

    def __init__(self, proxy: CuttableProxy) -> None:
        super().__init__()
        self.proxy = proxy

    def write(self, text: str) -> int:
        if "uploaded as id" in text:
            self.proxy.cut()
        return super().write(text)


def test_upload_stops_at_the_first_file_that_cannot_reach_the_server(
    live: EmbeddedServer,
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(api, "MAX_BACKOFF", 0.01)  # the retries' waits, not what is tested
    pictures = Pictures(tmp_path)
    files = [str(pictures.next()) for _ in range(4)]
    proxy = CuttableProxy.in_front_of(live.url)
    out, err = io.StringIO(), CutAfterFirst(proxy)
    try:
        argv = ["upload", *files, "--server", proxy.url, "--token", make_tokens(library).upload]
        code = cli.run(argv, out, err)
    finally:
        proxy.close()
    assert code == 2
    assert out.getvalue().startswith("Uploaded 1, duplicates 0, refused 0, failed 1\n")
    assert f"mediadesk: stopped; not sent: {files[2]} {files[3]}\n" in err.getvalue()
    assert err.getvalue().count("retrying in") == 5  # the second file's retries only
