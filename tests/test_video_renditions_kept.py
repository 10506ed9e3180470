"""A video keeps its renditions, HLS ladder and scrub thumbnails while it is reprocessed, when
the new jobs are cancelled, and after maintenance purges old jobs (over real HTTP).

The outside report: past the trash retention `purge_jobs` removed the done jobs, the only
record of where the derivatives are, and every video fell back to its original; a reprocess
hid them until the new jobs finished, and cancelling those hid them for good.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core import keys
from core.library import Library
from core.maintenance import run_maintenance
from core.video import service
from server.entry import EmbeddedServer
from tests import media
from tests.conftest import make_settings
from tests.internals import storage_of
from tests.server_fixtures import (
    Tokens,
    bearer,
    http_call,
    library_served,
    make_tokens,
)
from tests.video_helpers import process_all


@contextmanager
def serving(data: Path, ladder: str = "120,240") -> Iterator[tuple[Library, EmbeddedServer]]:
    with library_served(data, hls_ladder=ladder, hls_segment_seconds=2) as served:
        yield served


def plays(server: EmbeddedServer, tokens: Tokens, fid: int) -> dict[str, Any]:
    """What a player gets over HTTP: the rendition, the HLS master's status, the VTT's status
    and the renditions /stream/{id}/info lists."""
    auth = bearer(tokens.read)
    video = http_call(f"{server.url}/stream/{fid}/video", headers={**auth, "Range": "bytes=0-9"})
    info = http_call(f"{server.url}/stream/{fid}/info", headers=auth).json()
    master = http_call(f"{server.url}/stream/{fid}/hls/master.m3u8", headers=auth)
    vtt = http_call(f"{server.url}/stream/{fid}/thumbnails/thumbnails.vtt", headers=auth)
    return {
        "rendition": video.headers.get("X-MediaDesk-Rendition"),
        "etag": video.headers.get("ETag"),
        "master": master.status,
        # without the grants' query (its expiry moves with the clock)
        "master_text": re.sub(r"\?.*", "", master.body.decode()) if master.status == 200 else "",
        "vtt": vtt.status,
        "renditions": [r["name"] for r in info["renditions"]],
        "processing": info["processing"]["state"] if info["processing"] else None,
    }


FULL = ["original", "web", "120p", "240p"]


def test_purged_jobs_leave_every_rendition_playable_after_a_restart(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with serving(data) as (lib, server):
        tokens = make_tokens(lib)
        fid = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video").id
        process_all(lib)
        before = plays(server, tokens, fid)
        assert before["rendition"] == "web" and before["master"] == before["vtt"] == 200
        assert [n for n in before["renditions"] if n in FULL] == FULL, before
    # MEDIADESK_TRASH_RETENTION_DAYS=0 mediadesk maintenance, a year later
    lib = Library.open(make_settings(data, trash_retention_days=0))
    report = run_maintenance(lib, now=datetime.now(UTC) + timedelta(days=365))
    assert not report.errors
    lib.close()
    with serving(data) as (lib, server):  # a fresh process: no jobs cache
        after = plays(server, tokens, fid)
        assert after == before


def test_reprocess_and_its_cancel_keep_the_renditions_a_ladder_change_replaces_them(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with serving(data) as (lib, server):
        tokens = make_tokens(lib)
        fid = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video").id
        process_all(lib)
        before = plays(server, tokens, fid)  # also fills the server's jobs cache
        assert before["rendition"] == "web" and "240p" in before["renditions"]
        admin = bearer(tokens.admin)
        again = http_call(f"{server.url}/files/{fid}/reprocess", "POST", headers=admin)
        assert again.status == 202, again.body
        queued = plays(server, tokens, fid)
        assert queued == {**before, "processing": "queued"}
        for job in again.json()["items"]:
            cancel = http_call(f"{server.url}/jobs/{job['id']}/cancel", "POST", headers=admin)
            assert cancel.status == 200, cancel.body
        assert plays(server, tokens, fid) == {**before, "processing": "cancelled"}
        service.reprocess(lib, fid)
    prefix = keys.video_prefix(lib.get_file(fid).storage_key)
    with serving(data, ladder="120") as (lib, server):  # MEDIADESK_HLS_LADDER=120
        assert plays(server, tokens, fid)["renditions"] == before["renditions"]
        process_all(lib)
        after = plays(server, tokens, fid)
        assert after["rendition"] == "web" and after["etag"] != before["etag"]  # the new job's
        assert after["processing"] == "done" and after["master"] == after["vtt"] == 200
        assert "240p" not in after["renditions"] and "120p" in after["renditions"]
        assert "240" not in after["master_text"]
        # the old rung's files go with the replaced job's, once the grace period has passed
        later = datetime.now(UTC) + timedelta(seconds=lib.deferred.replaced_grace + 1)
        assert lib.deferred.run(later)
        rungs = {k.key.split("/")[-2] for k in storage_of(lib).list_keys(prefix) if "/" in k.key}
        assert "240" not in rungs, rungs
