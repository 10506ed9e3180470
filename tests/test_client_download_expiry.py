"""Client.download resumes after its signed link expired during a break.

An outside tester's report: the client asked GET /files/{id}/presigned-url once, before its
retries; a download cut on a slow link whose retry came after PRESIGNED_URL_EXPIRY was answered
403 signature_expired, and the download failed, the bytes kept thrown away. Now a 403 to a link
an attempt already used (this server's signature_expired, or a bucket's own 403) makes the
client ask for a fresh link and go on with a Range from the bytes kept, as an upload renews its
expired URL. A real server with a 2 s link expiry, a TCP proxy that cuts the first answer."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.client import Client
from server.entry import EmbeddedServer
from tests.server_fixtures import library_served, make_tokens
from tests.test_client_download_resume import (
    SIZE,
    MiB,
    Via,
    cut_proxy,
    header_of,
    resumed_from,
)

pytestmark = pytest.mark.timeout(60)
EXPIRY = 2  # seconds: the shortest a link lives that the first attempt surely finds valid


@pytest.fixture
def served(tmp_path: Path, media_dir: Any) -> Iterator[tuple[Library, EmbeddedServer, int, bytes]]:
    data = tmp_path / "data"
    data.mkdir()
    with library_served(data, presigned_url_expiry=EXPIRY) as (lib, live):
        photo = tmp_path / "big.jpg"
        shutil.copy(media_dir.jpeg, photo)
        with open(photo, "ab") as fh:
            fh.write(os.urandom(SIZE - photo.stat().st_size))
        record = lib.uploads.ingest(photo, "image", original_filename="big.jpg")
        yield lib, live, record.id, photo.read_bytes()


def past_expiry(_seconds: float) -> None:
    """The retry's wait, long enough for the link to expire meanwhile (a slow link's break)."""
    time.sleep(EXPIRY + 1.2)


def test_a_download_whose_link_expired_during_a_break_resumes_on_a_fresh_link(
    served: tuple[Library, EmbeddedServer, int, bytes], tmp_path: Path
) -> None:
    lib, live, file_id, data = served
    notes: list[str] = []
    with (
        cut_proxy(live.url, marker=b"sig=", after=MiB) as cut,
        Client(
            live.url,
            make_tokens(lib).read,
            transport=Via(cut),
            on_retry=notes.append,
            sleep=past_expiry,
        ) as client,
    ):
        saved = client.download(file_id, tmp_path / "out")
    assert saved.read_bytes() == data
    # the first answer cut; its retry refused, the link expired; then the rest on a new link
    assert len(cut.heads) == 3, [h.split("\r\n", 1)[0] for h in cut.heads]
    assert cut.answers[1].startswith("HTTP/1.1 403 ") and "signature_expired" in cut.answers[1]
    assert cut.answers[2].startswith("HTTP/1.1 206 "), cut.answers[2][:200]
    first, second, third = (head.split("\r\n", 1)[0] for head in cut.heads)
    assert first == second != third  # the same link once more, then a fresh one
    kept = resumed_from(cut.heads[1])
    assert kept and kept == resumed_from(cut.heads[2]), cut.heads
    assert header_of(cut.heads[2], "If-Range") == header_of(cut.answers[0], "ETag")
    assert cut.passed[2] < SIZE - kept + 4096  # only the bytes not received yet
    assert len(notes) == 2 and "expired" in notes[1] and f"{kept} bytes kept" in notes[1], notes
    assert [p.name for p in saved.parent.iterdir()] == ["big.jpg"]
