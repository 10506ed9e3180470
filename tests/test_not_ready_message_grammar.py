"""The 404 of a scrub track or HLS ladder not made yet says it in English that reads: it said
"The thumbnails of file 8 is not ready (failed: …)" (and "The hls of file 8 …"). Its code,
reason and details (tests/test_hls_not_ready.py) stay as they were."""

from __future__ import annotations

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.test_hls_not_ready import Unprocessed, error_404, unprocessed  # noqa: F401

pytestmark = pytest.mark.timeout(60)


def test_not_ready_messages_agree_with_their_subject(
    live: EmbeddedServer, library: Library, unprocessed: Unprocessed
) -> None:
    record, h = unprocessed.record, unprocessed.read
    # the thumbnails job failed for good, as the tester's file 8 (the live server runs no
    # video workers, so the jobs stay as the test leaves them)
    job = library.jobs.claim("test", ("thumbnails",))
    assert job is not None and job.file_id == record.id
    library.jobs.fail(job.id, "test", "bad", permanent=True, reason="undecodable_media")

    error = error_404(f"{live.url}/stream/{record.id}/thumbnails/thumbnails.vtt", h)
    assert error["reason"] == "not_ready" and error["details"]["state"] == "failed"
    message = error["message"]
    assert message.startswith(f"The scrub thumbnails of file {record.id} are not ready (failed: ")
    assert " is not ready" not in message, message

    error = error_404(f"{live.url}/stream/{record.id}/hls/master.m3u8", h)
    assert error["message"] == f"The HLS ladder of file {record.id} is not ready (queued)"
