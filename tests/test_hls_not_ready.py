"""An HLS ladder or scrub track not made yet is told from a missing file by its `reason`.

An integrator's report: `GET /stream/66/hls/master.m3u8` of a video whose job was still queued
answered 404 `not_found` with no reason, the same as a file that is not there; only the English
message ("The hls of file 66 is not ready (queued)") told them apart. The 404 and its code stay
(players and the spec know them); `reason` is `not_ready` with the job's state in `details`.
The live server here runs no video workers, so the jobs stay as the test leaves them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from core.records import FileRecord
from server.entry import EmbeddedServer
from tests import media
from tests.server_fixtures import bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(60)


@dataclass(frozen=True)
class Unprocessed:
    """A video just uploaded, whose jobs stay as the test leaves them, and a reader's headers."""

    record: FileRecord
    read: dict[str, str]


@pytest.fixture
def unprocessed(library: Library, tmp_path: Path) -> Unprocessed:
    record = library.uploads.ingest(media.make_avi(tmp_path / "clip.avi", seconds=1), "video")
    return Unprocessed(record, bearer(make_tokens(library).read))


def error_404(url: str, headers: dict[str, str]) -> dict[str, Any]:
    """The error of a GET answered 404."""
    reply = http_call(url, headers=headers)
    assert reply.status == 404, reply.body
    return reply.json()["error"]  # type: ignore[no-any-return]


def test_a_queued_or_cancelled_ladder_says_not_ready_and_a_missing_file_does_not(
    live: EmbeddedServer, library: Library, unprocessed: Unprocessed
) -> None:
    record, h = unprocessed.record, unprocessed.read
    jobs = {job.kind: job for job in library.jobs.list(file_id=record.id)[0]}
    library.jobs.cancel(jobs["thumbnails"].id)

    error = error_404(f"{live.url}/stream/{record.id}/hls/master.m3u8", h)
    assert (error["code"], error["reason"]) == ("not_found", "not_ready")
    assert error["details"] == {"kind": "hls", "state": "queued", "job_id": jobs["hls"].id}

    error = error_404(f"{live.url}/stream/{record.id}/thumbnails/thumbnails.vtt", h)
    assert (error["code"], error["reason"]) == ("not_found", "not_ready")
    assert error["details"] == {
        "kind": "thumbnails",
        "state": "cancelled",
        "job_id": jobs["thumbnails"].id,
    }

    # the web rendition asked for by name, before its job made it: the same not_ready
    error = error_404(f"{live.url}/stream/{record.id}/video?rendition=web", h)
    assert (error["code"], error["reason"]) == ("not_found", "not_ready")
    assert error["details"] == {"kind": "web", "state": "queued", "job_id": jobs["web"].id}

    # a file that is not there keeps its plain 404
    gone = http_call(f"{live.url}/stream/{record.id + 1000}/hls/master.m3u8", headers=h)
    assert gone.status == 404
    assert "reason" not in gone.json()["error"], gone.body
