"""A reprocess swaps a video's renditions the way hosted video services do (over real HTTP, on
local storage and on moto S3).

The outside report: when a new HLS job finished (a reprocess, a ladder change) it deleted the
file's HLS folder before uploading its own, while the old playlists were still served, so
players got 404s on segments for the whole upload; and the new files took the old names, so a
player holding the old variant playlist would have been handed segments of another encode.
Now each job writes under a folder of its own, every playlist URI names the job that made it
(`v`), and the replaced job's files are deleted by the deferred deletion (core/deferred.py)
once its grace period has passed: a player holding the old playlists finishes them, a new
request gets the new ones.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from sqlalchemy import update

from core import keys
from core.db.models import Job
from core.jobs import current_derivatives
from core.library import Library
from core.maintenance import reconcile, run_maintenance
from core.video import service
from core.video import worker as video_worker
from server.entry import EmbeddedServer
from tests import media
from tests.conftest import make_settings, r2_settings
from tests.internals import db_of, storage_of
from tests.s3_server import new_bucket
from tests.server_fixtures import bearer, http_call, library_served, make_tokens
from tests.video_helpers import process_all


@pytest.fixture(autouse=True, scope="module")
def _prompt_worker() -> Iterator[None]:
    """The worker checks between an encoder's messages every STOP_POLL (0.4 s), so it heard a
    finished encoder's exit only at the next check: up to 0.4 s a job, and these tests run
    many jobs. Checked every 50 ms it hears it at once; what each job does is the same.
    Module-wide: the module's shared set-ups run jobs too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(video_worker, "STOP_POLL", 0.05)
        yield


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest) -> dict[str, Any]:
    """The settings of the backend: the local folder, or a fresh bucket on moto's S3."""
    if request.param == "local":
        return {}
    return r2_settings(new_bucket(request.getfixturevalue("moto_server")))


@contextmanager
def serving(data: Path, store: dict[str, Any]) -> Iterator[tuple[Library, EmbeddedServer]]:
    with library_served(data, hls_ladder="120,240", hls_segment_seconds=2, **store) as served:
        yield served


def uris(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def ladder(url: str, auth: dict[str, str]) -> dict[str, list[str]]:
    """What a player reads: variant playlist URL -> its segments' URLs (all absolute)."""
    master = http_call(url, headers=auth)
    assert master.status == 200, master.body
    out = {}
    for uri in uris(master.body.decode()):
        variant_url = urljoin(url, uri)
        variant = http_call(variant_url, headers=auth)
        assert variant.status == 200, (variant_url, variant.body)
        out[variant_url] = [urljoin(variant_url, s) for s in uris(variant.body.decode())]
    return out


def fetch(url: str, auth: dict[str, str]) -> tuple[int, bytes]:
    # a bucket URL is presigned: the token is this server's, not the bucket's
    reply = http_call(url, headers=auth if "/stream/" in url else {})
    return reply.status, reply.body


def stored(lib: Library, prefix: str) -> set[str]:
    return {o.key for o in storage_of(lib).list_keys(prefix)}


def test_a_player_holding_the_old_ladder_finishes_it_and_the_old_files_go_after_the_grace(
    tmp_path: Path, store: dict[str, Any]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with serving(data, store) as (lib, server):
        tokens = make_tokens(lib)
        auth = bearer(tokens.read)
        fid = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video").id
        process_all(lib)
        prefix = keys.video_prefix(lib.get_file(fid).storage_key)
        master_url = f"{server.url}/stream/{fid}/hls/master.m3u8"
        old = ladder(master_url, auth)  # a player started: it holds these playlists
        assert len(old) == 2 and all(old.values())
        old_bytes = {seg: fetch(seg, auth) for segs in old.values() for seg in segs}
        assert all(status == 200 for status, _ in old_bytes.values())
        old_keys = stored(lib, prefix)
        vtt_url = f"{server.url}/stream/{fid}/thumbnails/thumbnails.vtt"
        vtt = http_call(vtt_url, headers=auth)
        sprite_url = urljoin(vtt_url, uris(vtt.body.decode())[-1].split("#")[0])
        old_sprite = fetch(sprite_url, auth)
        assert old_sprite[0] == 200

        # MEDIADESK_HLS_LADDER=120 and a reprocess: the new job has no 240p rung
        lib.apply_settings(hls_ladder=("120",))
        service.reprocess(lib, fid)
        process_all(lib)
        done = current_derivatives(lib.jobs.latest_for_file(fid))
        assert done["hls"].result["variants"][0]["name"] == "120p"

        # within the grace: every playlist and segment the player holds answers as before
        for variant_url, segments in old.items():
            assert http_call(variant_url, headers=auth).status == 200, variant_url
            for seg in segments:
                assert fetch(seg, auth) == old_bytes[seg], seg
        assert fetch(sprite_url, auth) == old_sprite
        assert old_keys <= stored(lib, prefix)
        # a new request gets the new ladder, from the new job's files
        new = ladder(master_url, auth)
        assert len(new) == 1 and not set(new) & set(old)
        assert all(fetch(s, auth)[0] == 200 for segs in new.values() for s in segs)
        # an unpinned variant playlist (an older client's) names the new job's segments too
        plain = http_call(f"{server.url}/stream/{fid}/hls/120/index.m3u8", headers=auth)
        pinned = (f"v={done['hls'].id}", f"/hls-{done['hls'].id}/120/")  # local, bucket URL
        assert all(any(p in u for p in pinned) for u in uris(plain.body.decode())), plain.body
        assert lib.deferred.run() == []  # nothing is due yet
        # nor past a moved file's short grace: a match is watched for longer than a minute
        an_hour = datetime.now(UTC) + timedelta(seconds=lib.deferred.grace + 3600)
        assert lib.deferred.run(now=an_hour) == []
        report = reconcile(lib)
        assert report.clean, report.as_dict()
        assert report.pending_deletions  # the old folders, expected
        was = server.url
    # the pending deletions are in the catalog: another process deletes them once due
    lib = Library.open(make_settings(data, **store))
    try:
        later = datetime.now(UTC) + timedelta(seconds=lib.deferred.replaced_grace + 1)
        result = run_maintenance(lib, now=later, only=frozenset({"deferred_deletions"}))
        assert not result.errors and result.deferred_deletions
        new_dirs = {service.job_dir(kind, job.id) for kind, job in done.items()}
        left = {k[len(prefix) :].split("/", 1)[0] + "/" for k in stored(lib, prefix)}
        assert left == new_dirs, left  # the replaced jobs' files are gone, the new ones kept
        report = reconcile(lib)
        assert report.clean and not report.pending_deletions, report.as_dict()
    finally:
        lib.close()
    with serving(data, store) as (lib, server):  # on another port
        for seg in (s for segs in old.values() for s in segs):
            assert fetch(seg.replace(was, server.url), auth)[0] == 404, seg
        for seg in (s for segs in new.values() for s in segs):
            assert fetch(seg.replace(was, server.url), auth)[0] == 200, seg


def test_a_hard_delete_within_the_grace_removes_every_jobs_files(
    tmp_path: Path, store: dict[str, Any]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with serving(data, store) as (lib, _server):
        fid = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video").id
        process_all(lib)
        service.reprocess(lib, fid)
        process_all(lib)
        prefix = keys.video_prefix(lib.get_file(fid).storage_key)
        dirs = {k[len(prefix) :].split("/", 1)[0] for k in stored(lib, prefix)}
        assert len(dirs) == 6, dirs  # web, hls, thumbnails of each run, side by side
        lib.delete_permanently(fid)
        assert stored(lib, prefix) == set()
        later = datetime.now(UTC) + timedelta(seconds=lib.deferred.replaced_grace + 1)
        lib.deferred.run(later)  # the replaced folders' deletions find nothing: no error
        report = reconcile(lib)
        assert report.clean and not report.pending_deletions, report.as_dict()


def _as_made_before_job_folders(lib: Library, fid: int, tmp: Path) -> dict[str, str]:
    """Moves the file's derivatives where jobs wrote them before each had a folder of its own
    (hls/, thumbs/, web.mp4 beside them) and drops "dir" from the done jobs' results, as a
    library made by an older MediaDesk holds them. Returns kind -> its old place."""
    record = lib.get_file(fid)
    prefix = keys.video_prefix(record.storage_key)
    old_places = {}
    with db_of(lib).write() as s:
        for kind, job in current_derivatives(lib.jobs.latest_for_file(fid)).items():
            old = {k: v for k, v in job.result.items() if k != "dir"}
            for name in job.result["files"]:
                path = tmp / "old"
                new_key = service.derived_key(record, kind, name, job.result)
                path.write_bytes(lib.read_object(new_key))
                old_key = service.derived_key(record, kind, name, old)
                lib.put_object_file(old_key, path, service.content_type_of(name))
            lib.delete_objects_under(service.job_prefix(record, kind, job.result))
            s.execute(update(Job).where(Job.id == job.id).values(result=old))
            old_places[kind] = prefix + (service.SUBDIR[kind] or job.result["files"][0])
    return old_places


def test_a_library_made_before_job_folders_keeps_playing_and_is_cleaned_when_reprocessed(
    tmp_path: Path, store: dict[str, Any]
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with serving(data, store) as (lib, server):
        auth = bearer(make_tokens(lib).read)
        fid = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video").id
        process_all(lib)
        old_places = _as_made_before_job_folders(lib, fid, tmp_path)
        prefix = keys.video_prefix(lib.get_file(fid).storage_key)
        assert {k[len(prefix) :].split("/")[0] for k in stored(lib, prefix)} == {
            "hls",
            "thumbs",
            "web.mp4",
        }
    with serving(data, store) as (lib, server):  # no jobs cached from before the change
        master_url = f"{server.url}/stream/{fid}/hls/master.m3u8"
        old = ladder(master_url, auth)
        segments = [s for segs in old.values() for s in segs]
        assert segments and all(fetch(s, auth)[0] == 200 for s in segments)
        web = http_call(f"{server.url}/stream/{fid}/video", headers=auth)
        assert web.status == 200 and web.headers["X-MediaDesk-Rendition"] == "web"
        service.reprocess(lib, fid)
        process_all(lib)
        assert all(fetch(s, auth)[0] == 200 for s in segments)  # within the grace
        assert set(ladder(master_url, auth)).isdisjoint(old)
        pending = set(reconcile(lib).pending_deletions)
        assert pending == {old_places["hls"], old_places["thumbnails"], old_places["web"]}
        later = datetime.now(UTC) + timedelta(seconds=lib.deferred.replaced_grace + 1)
        assert set(lib.deferred.run(later)) == pending
        assert all(fetch(s, auth)[0] == 404 for s in segments)
        done = current_derivatives(lib.jobs.latest_for_file(fid))
        new_dirs = {service.job_dir(kind, job.id) for kind, job in done.items()}
        assert {k[len(prefix) :].split("/")[0] + "/" for k in stored(lib, prefix)} == new_dirs
        report = reconcile(lib)
        assert report.clean and not report.pending_deletions, report.as_dict()


def test_a_replaced_folder_waits_for_a_reader_of_a_file_under_it(
    tmp_path: Path, store: dict[str, Any]
) -> None:
    """A long download of the old web rendition (send_derived holds its key as read) keeps
    the replaced job's folder past the grace period; it goes when the download ends."""
    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, hls_ladder="120", **store))
    try:
        lib.deferred.grace = lib.deferred.replaced_grace = 0.0
        folder = "_derived/video/0123456789abcdef/web-1/"
        body = tmp_path / "web.mp4"
        body.write_bytes(b"\0" * 1000)
        lib.put_object_file(folder + "web.mp4", body, "video/mp4")
        with db_of(lib).write() as s:
            lib.deferred.queue_prefix(s, folder, "reprocess")
        with lib.reading(folder + "web.mp4"):
            assert lib.deferred.run() == []
            assert stored(lib, folder) == {folder + "web.mp4"}
        wait = datetime.now(UTC) + timedelta(seconds=10)
        # the reader's end starts the deletion in a timer thread: the files go, then its row
        while (stored(lib, folder) or lib.deferred.pending_keys()) and datetime.now(UTC) < wait:
            time.sleep(0.05)
        assert stored(lib, folder) == set()
        assert lib.deferred.pending_keys() == set()
    finally:
        lib.close()


def test_a_version_no_job_can_have_is_a_404_not_a_server_error(tmp_path: Path) -> None:
    """`v` past any job id (above MAX_ID, past SQLite's 64 bits, too long for int(), or a
    digit int() refuses) is a version that is not served, as any other unknown one: found by
    schemathesis, which sent 616695320513603960832 and got a 500 (OverflowError from SQLite)."""
    data = tmp_path / "data"
    data.mkdir()
    with serving(data, {}) as (lib, server):
        auth = bearer(make_tokens(lib).read)
        fid = lib.uploads.ingest(media.make_mp4(tmp_path / "a.mp4", seconds=1), "video").id
        process_all(lib)
        base = f"{server.url}/stream/{fid}"
        urls = (
            f"{base}/hls/120/index.m3u8",
            f"{base}/hls/120/seg_00000.ts",
            f"{base}/thumbnails/thumbnails.vtt",
            f"{base}/thumbnails/sprite.jpg",
        )
        assert all(http_call(url, headers=auth).status == 200 for url in urls)
        for v in ("2147483648", str(2**63), str(2**70), "1" * 5000, "%C2%B2"):
            for url in urls:
                reply = http_call(f"{url}?v={v}", headers=auth)
                assert reply.status == 404, (url, v[:30], reply.body[:300])
                assert reply.json()["error"]["code"] == "not_found"
