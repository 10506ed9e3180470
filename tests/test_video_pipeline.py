"""The video pipeline end to end on real clips: jobs, renditions, HLS, thumbnails, HTTP, access."""

from __future__ import annotations

import ast
import json
import os
import re
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import pytest

from core import keys
from core.jobs import (
    FAILURE_REASONS,
    KINDS,
    SKIP_REASONS,
    current_derivatives,
    newest_of_each_kind,
)
from core.library import Library
from core.video import encode
from core.video import service as video_service
from core.video import worker as video_worker
from core.video.encode import moov_after_mdat
from core.video.failures import FAILURE_SENTENCES
from server.entry import EmbeddedServer
from tests import media
from tests.conftest import make_settings
from tests.internals import storage_of
from tests.s3_server import S3Target
from tests.server_fixtures import Tokens, bearer, http_call, make_tokens, server_config
from tests.video_helpers import TEST_LADDER, process_all, sha256


@pytest.fixture(autouse=True, scope="module")
def _prompt_worker() -> Iterator[None]:
    """The worker checks between an encoder's messages every STOP_POLL (0.4 s), so it heard a
    finished encoder's exit only at the next check: up to 0.4 s a job, and these tests run
    many jobs. Checked every 50 ms it hears it at once; what each job does is the same.
    Module-wide: the module's shared set-ups run jobs too."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(video_worker, "STOP_POLL", 0.05)
        yield


@dataclass
class Processed:
    lib: Library
    server: EmbeddedServer
    tokens: Tokens
    ids: dict[str, int]
    sources: dict[str, Path]

    @property
    def url(self) -> str:
        return self.server.url

    def get(self, path: str, token: str | None = None, **headers: str) -> Any:
        h = dict(headers)
        if token:
            h.update(bearer(token))
        return http_call(self.url + path if path.startswith("/") else path, headers=h)


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Processed]:
    """One library with an AVI, a WMV, a moov-at-end MP4, a portrait MP4 and a VP9 WebM,
    every job run by a real worker, behind a live server."""
    root = tmp_path_factory.mktemp("video")
    clips = root / "clips"
    clips.mkdir()
    sources = {
        "avi": media.make_avi(clips / "camcorder.avi", seconds=3),
        "late_moov": media.make_mp4(clips / "late.mp4", seconds=2, faststart=False),
        "portrait": media.make_mp4(clips / "phone.mp4", seconds=2, rotation=90, faststart=False),
        "webm": media.make_webm(clips / "web.webm", seconds=2),
    }
    data = root / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, hls_ladder=TEST_LADDER, hls_segment_seconds=2))
    tokens = make_tokens(lib)
    ids = {}
    for name, path in sources.items():
        ids[name] = lib.uploads.ingest(path, "video", is_public=(name == "webm")).id
    process_all(lib)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield Processed(lib, server, tokens, ids, sources)
    finally:
        server.stop()
        lib.close()


def _jobs(p: Processed, name: str) -> dict[str, Any]:
    return {j.kind: j for j in p.lib.jobs.latest_for_file(p.ids[name])}


def test_every_job_finishes_and_originals_stay_byte_exact(processed: Processed) -> None:
    p = processed
    for name, fid in p.ids.items():
        states = {k: j.state for k, j in _jobs(p, name).items()}
        expected = {"web", "hls", "thumbnails"}
        if p.lib.get_file(fid).content_type in ("video/mp4", "video/quicktime"):
            expected.add("faststart")
        assert set(states) == expected, name
        assert all(s in ("done", "skipped") for s in states.values()), (name, states)
        for job in _jobs(p, name).values():  # a skip says why as a code clients translate
            if job.state == "skipped":
                assert job.result["reason"] in SKIP_REASONS, (name, job.kind, job.result)
        record = p.lib.get_file(fid)
        stored = p.lib.local_path(record)
        assert stored is not None and sha256(stored) == sha256(p.sources[name]) == record.sha256
    # which rendition each input needed
    assert _jobs(p, "avi")["web"].state == "done"
    assert _jobs(p, "webm")["web"].state == "skipped"
    assert "plays in browsers" in (_jobs(p, "webm")["web"].error or "")
    assert _jobs(p, "webm")["web"].result["reason"] == "already_web_ready"
    listed = p.get(f"/jobs?file_id={p.ids['webm']}", p.tokens.read).json()["items"]
    assert {j["kind"]: j["reason"] for j in listed}["web"] == "already_web_ready"
    assert _jobs(p, "late_moov")["faststart"].state == "done"
    assert _jobs(p, "portrait")["faststart"].state == "done"
    assert "faststart" not in _jobs(p, "avi")  # an AVI has no moov box to move


def test_stream_video_serves_the_web_rendition_with_ranges(processed: Processed) -> None:
    p = processed
    fid = p.ids["avi"]
    reply = p.get(f"/stream/{fid}/video", p.tokens.read)
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "video/mp4"
    assert reply.headers["X-MediaDesk-Rendition"] == "web"
    body = reply.body
    tmp = p.lib.paths.tmp_dir / "web-check.mp4"
    tmp.write_bytes(body)
    assert not moov_after_mdat(tmp) and body[4:8] == b"ftyp"
    with av.open(str(tmp)) as c:
        assert c.streams.video[0].codec_context.name == "h264"
        assert c.streams.video[0].codec_context.profile in ("High", "Main")
        assert c.streams.audio[0].codec_context.name == "aac"
        assert (c.streams.video[0].width, c.streams.video[0].height) == (320, 240)
    part = p.get(f"/stream/{fid}/video", p.tokens.read, Range="bytes=100-199")
    assert part.status == 206 and part.body == body[100:200]
    assert part.headers["ETag"] == reply.headers["ETag"]
    # the original is still one query away, and /raw is always the original
    original = p.get(f"/stream/{fid}/video?rendition=original", p.tokens.read)
    assert original.body == p.sources["avi"].read_bytes()
    raw = p.get(f"/stream/{fid}/raw", p.tokens.read)
    assert raw.body == p.sources["avi"].read_bytes()
    bad = p.get(f"/stream/{fid}/video?rendition=4k", p.tokens.read)
    assert bad.status == 400 and bad.json()["error"]["code"] == "invalid_input"


def test_moov_at_the_end_gets_a_faststart_copy(processed: Processed) -> None:
    p = processed
    fid = p.ids["late_moov"]
    assert moov_after_mdat(p.sources["late_moov"])
    reply = p.get(f"/stream/{fid}/video", p.tokens.read)
    assert reply.headers["X-MediaDesk-Rendition"] == "faststart"
    tmp = p.lib.paths.tmp_dir / "fast-check.mp4"
    tmp.write_bytes(reply.body)
    assert not moov_after_mdat(tmp)
    with av.open(str(tmp)) as fast, av.open(str(p.sources["late_moov"])) as orig:
        # a remux, not a re-encode: the same packets
        a = [bytes(pk) for pk in fast.demux(fast.streams.video[0]) if pk.size]
        b = [bytes(pk) for pk in orig.demux(orig.streams.video[0]) if pk.size]
        assert a == b


def test_a_web_playable_original_is_served_as_is(processed: Processed) -> None:
    p = processed
    fid = p.ids["webm"]
    reply = p.get(f"/stream/{fid}/video")  # public file: no token
    assert reply.status == 200 and reply.body == p.sources["webm"].read_bytes()
    assert reply.headers["Content-Type"] == "video/webm"
    # asking for the web rendition of a file that needs none gives the original
    web = p.get(f"/stream/{fid}/video?rendition=web")
    assert web.status == 200 and web.body == reply.body


def _attrs(line: str) -> dict[str, str]:
    return dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1]))


def test_hls_master_and_every_variant_open_in_pyav(processed: Processed) -> None:
    p = processed
    fid = p.ids["avi"]
    info = p.get(f"/stream/{fid}/info", p.tokens.read).json()
    master_url = p.url + info["hls_url"]
    master = http_call(master_url)  # the signed URL works with no header at all
    assert master.status == 200
    assert master.headers["Content-Type"].startswith("application/vnd.apple.mpegurl")
    lines = master.body.decode().splitlines()
    assert lines[0] == "#EXTM3U"
    streams = [(ln, lines[i + 1]) for i, ln in enumerate(lines) if ln.startswith("#EXT-X-STREAM")]
    assert [_attrs(s)["RESOLUTION"] for s, _ in streams] == ["160x120", "320x240"]
    for line, uri in streams:
        attrs = _attrs(line)
        assert attrs["CODECS"].startswith('"avc1.64') and "mp4a.40.2" in attrs["CODECS"]
        variant_url = p.url + f"/stream/{fid}/hls/" + uri
        variant = http_call(variant_url)
        assert variant.status == 200
        text = variant.body.decode()
        assert "#EXT-X-PLAYLIST-TYPE:VOD" in text and text.rstrip().endswith("#EXT-X-ENDLIST")
        durations = [float(x) for x in re.findall(r"#EXTINF:([\d.]+),", text)]
        segments = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
        assert all(d <= 2.1 for d in durations[:-1])
        # BANDWIDTH is the measured peak of the real segments
        base = variant_url.rsplit("/", 1)[0]
        sizes = [len(http_call(f"{base}/{seg}").body) for seg in segments]
        peak = max(int(-(-s * 8 // d)) for s, d in zip(sizes, durations, strict=True))
        assert abs(int(attrs["BANDWIDTH"]) - peak) <= 1
        with av.open(variant_url) as c:
            v = c.streams.video[0]
            assert f"{v.width}x{v.height}" == attrs["RESOLUTION"]
            assert sum(1 for _ in c.decode(v)) >= 60  # 3 s at 24 fps, every segment read
    with av.open(master_url) as c:
        assert len(c.streams.video) >= 1


def test_portrait_rotation_is_applied_to_the_pixels(processed: Processed) -> None:
    p = processed
    fid = p.ids["portrait"]
    info = p.get(f"/stream/{fid}/info", p.tokens.read).json()
    rungs = [r for r in info["renditions"] if r["content_type"] == "application/vnd.apple.mpegurl"]
    assert [(r["width"], r["height"]) for r in rungs] == [(120, 160), (240, 320)]
    with av.open(p.url + rungs[-1]["url"]) as c:
        frame = next(c.decode(c.streams.video[0])).to_image()
    assert frame.size == (240, 320)
    # the red marker drawn in the stored top-left corner is top-right once turned clockwise
    r, g, b = frame.getpixel((frame.width - 6, 6))[:3]
    assert r > 180 and g < 90 and b < 90
    r, g, b = frame.getpixel((6, 6))[:3]
    assert not (r > 180 and g < 90)


def test_info_lists_renditions_and_signed_urls_for_a_private_file(processed: Processed) -> None:
    p = processed
    fid = p.ids["avi"]
    info = p.get(f"/stream/{fid}/info", p.tokens.read).json()
    assert info["processing"] == {
        "state": "done",
        "progress": 1.0,
        "error": None,
        "reasons": {},
    }
    names = [r["name"] for r in info["renditions"]]
    assert names == ["original", "web", "120p", "240p"]
    for r in info["renditions"]:
        assert set(r) == {"name", "width", "height", "bit_rate", "content_type", "url"}
        assert "sig=" in r["url"] and "exp=" in r["url"]
        assert http_call(p.url + r["url"]).status == 200, r["name"]
    vtt = http_call(p.url + info["thumbnails_vtt_url"])
    assert vtt.status == 200 and vtt.headers["Content-Type"].startswith("text/vtt")
    text = vtt.body.decode()
    assert text.startswith("WEBVTT")
    cue_urls = re.findall(r"^(sprite\.jpg\?[^#\s]+)#xywh=(\d+),(\d+),(\d+),(\d+)$", text, re.M)
    assert len(cue_urls) == 3  # a 3 s clip, one tile a second
    base = (p.url + info["thumbnails_vtt_url"]).split("?")[0].rsplit("/", 1)[0]
    sprite = http_call(f"{base}/{cue_urls[0][0]}")
    assert sprite.status == 200 and sprite.headers["Content-Type"] == "image/jpeg"
    # without the signature: 401; with a tampered one: 403
    for r in [*info["renditions"], {"url": info["hls_url"]}]:
        bare = r["url"].split("?")[0] + ("?rendition=web" if "rendition=web" in r["url"] else "")
        assert http_call(p.url + bare).status == 401
        tampered = re.sub(r"sig=[0-9a-f]{4}", "sig=0000", r["url"])
        reply = http_call(p.url + tampered)
        assert reply.status == 403 and reply.json()["error"]["code"] == "invalid_signature"
    # an expired grant is refused too
    expired = re.sub(r"exp=\d+", "exp=1000", info["hls_url"])
    assert http_call(p.url + expired).status == 403


def test_watch_page_needs_a_signed_link_for_a_private_file(processed: Processed) -> None:
    p = processed
    fid = p.ids["avi"]
    assert http_call(f"{p.url}/watch/{fid}").status == 401
    assert http_call(f"{p.url}/watch/{fid}?exp=9999999999&sig=abc").status == 403
    link = p.get(f"/files/{fid}/presigned-url?kind=watch", p.tokens.read).json()
    assert link["kind"] == "watch" and "sig=" in link["url"]
    page = http_call(link["url"])
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")
    html = page.body.decode()
    assert '<script src="/static/hls.min.js">' in html and "cdn" not in html.lower()
    config = json.loads(re.search(r"const config = (\{.*?\});", html).group(1))  # type: ignore[union-attr]
    assert config["hls_url"].startswith(f"/stream/{fid}/hls/master.m3u8?")
    assert config["video_url"].startswith(f"/stream/{fid}/video?")
    js = http_call(f"{p.url}/static/hls.min.js")
    assert js.status == 200 and b"Apache License" in js.body[:300]
    # a public video's page needs nothing
    assert http_call(f"{p.url}/watch/{p.ids['webm']}").status == 200


def test_jobs_api_lists_cancels_retries_and_reprocesses(processed: Processed) -> None:
    p = processed
    fid = p.ids["late_moov"]
    listing = p.get(f"/jobs?file_id={fid}", p.tokens.read).json()
    assert listing["total"] == 4
    item = listing["items"][0]
    assert set(item) == {
        "id", "kind", "file_id", "state", "progress", "attempts", "error", "reason",
        "created_at", "started_at", "finished_at",
    }  # fmt: skip
    assert p.get("/jobs?state=bogus", p.tokens.read).status == 400
    assert http_call(f"{p.url}/jobs").status == 401
    done = next(i for i in listing["items"] if i["state"] == "done")
    cancel = http_call(f"{p.url}/jobs/{done['id']}/cancel", "POST", headers=bearer(p.tokens.admin))
    assert cancel.status == 409
    retry = http_call(f"{p.url}/jobs/{done['id']}/retry", "POST", headers=bearer(p.tokens.admin))
    assert retry.status == 409
    denied = http_call(f"{p.url}/files/{fid}/reprocess", "POST", headers=bearer(p.tokens.read))
    assert denied.status == 403
    again = http_call(f"{p.url}/files/{fid}/reprocess", "POST", headers=bearer(p.tokens.admin))
    assert again.status == 202 and again.json()["total"] == 4
    queued = [j for j in again.json()["items"] if j["state"] == "queued"]
    assert len(queued) == 4
    info = p.get(f"/stream/{fid}/info", p.tokens.read).json()
    assert info["processing"]["state"] == "queued"
    # until the new jobs run, the renditions they replace are still served (reprocess keeps them)
    cancel = http_call(
        f"{p.url}/jobs/{queued[0]['id']}/cancel", "POST", headers=bearer(p.tokens.admin)
    )
    assert cancel.status == 200 and cancel.json()["state"] == "cancelled"
    retry = http_call(
        f"{p.url}/jobs/{queued[0]['id']}/retry", "POST", headers=bearer(p.tokens.admin)
    )
    assert retry.status == 202 and retry.json()["state"] == "queued"
    process_all(p.lib)
    info = p.get(f"/stream/{fid}/info", p.tokens.read).json()
    assert info["processing"]["state"] == "done"
    metrics = p.get("/metrics", p.tokens.read).body.decode()
    assert 'mediadesk_jobs{state="queued"} 0' in metrics
    assert 'mediadesk_job_duration_seconds_count{kind="hls"}' in metrics


def test_hard_delete_removes_every_derivative(tmp_path: Path) -> None:
    lib = Library.open(make_settings(tmp_path, hls_ladder=TEST_LADDER))
    try:
        events: list[Any] = []
        lib.events.subscribe(lambda e: events.append(e) if e.kind == "processing" else None)
        record = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video")
        process_all(lib)
        prefix = keys.video_prefix(record.storage_key)
        assert len(list(storage_of(lib).list_keys(prefix))) >= 5
        # live `processing` events carried the state to the end (SSE sends them on)
        assert events and all(e.file_id == record.id for e in events)
        assert events[-1].data["processing"]["state"] == "done"
        assert any(e.data["processing"]["state"] == "running" for e in events)
        # maintenance's reconcile knows the derivatives of a catalogued file, not strays
        from core.maintenance import reconcile

        assert not [k for k in reconcile(lib).objects_without_rows if "_derived/video" in k]
        stray = "_derived/video/0123456789abcdef/web.mp4"
        storage_of(lib).put_bytes(stray, b"x", "video/mp4")
        assert stray in reconcile(lib).objects_without_rows
        storage_of(lib).delete(stray)
        lib.delete_permanently(record.id)
        assert list(storage_of(lib).list_keys("_derived/video/")) == []
        assert lib.jobs.list(file_id=record.id)[1] == 0
    finally:
        lib.close()


def test_the_same_video_for_two_athletes_is_processed_once(tmp_path: Path) -> None:
    """Shared bytes (the same recording for two athletes): one set of jobs makes the object's
    derivatives and both files show and serve them; a hard delete of the first hands its jobs
    to the second, whose renditions stay; the last one takes them away."""
    lib = Library.open(make_settings(tmp_path, hls_ladder=TEST_LADDER))
    try:
        ana, luis = lib.create_athlete("Ana"), lib.create_athlete("Luis")
        clip = media.make_avi(tmp_path / "a.avi", seconds=1)
        first = lib.uploads.ingest(clip, "video", athlete_id=ana.id)
        second = lib.uploads.ingest(clip, "video", athlete_id=luis.id)
        assert second.id != first.id and second.storage_key == first.storage_key
        assert lib.jobs.list(file_id=second.id)[1] == 0  # no second set of jobs
        from server.video_access import JobsCache

        cache = JobsCache(lib)  # what /stream/{id}/video chooses the rendition from
        assert {j.state for j in cache.get(second.id)} == {"queued"}
        done = process_all(lib)
        # the first file's `processing` events refresh the second's entry too (not only its TTL)
        assert {j.state for j in cache.get(second.id)} == {"done"}
        assert {j.file_id for j in done} == {first.id}
        mine, theirs = lib.jobs.latest_for_file(first.id), lib.jobs.latest_for_file(second.id)
        assert [j.id for j in theirs] == [j.id for j in mine] and mine
        assert all(j.state == "done" for j in theirs)
        # reprocessing the second redoes the first's jobs (the object's), not a set of its own
        again = video_service.reprocess(lib, second.id)
        assert {j.file_id for j in again} == {first.id}
        assert lib.jobs.list(file_id=second.id)[1] == 0
        listed = lib.jobs.latest_for_file(second.id)
        assert {j.state for j in newest_of_each_kind(listed)} == {"queued"}
        # the done jobs stay listed: the derivatives they made are served until replaced
        assert set(current_derivatives(listed)) == {j.kind for j in again}
        process_all(lib)
        prefix = keys.video_prefix(first.storage_key)
        made = sorted(o.key for o in storage_of(lib).list_keys(prefix))
        assert len(made) >= 5
        lib.delete_permanently(first.id)
        assert sorted(o.key for o in storage_of(lib).list_keys(prefix)) == made
        assert {j.file_id for j in lib.jobs.latest_for_file(second.id)} == {second.id}
        assert all(j.state == "done" for j in lib.jobs.latest_for_file(second.id))
        lib.delete_permanently(second.id)
        assert list(storage_of(lib).list_keys("_derived/video/")) == []
        assert lib.jobs.list(file_id=second.id)[1] == 0
    finally:
        lib.close()


def test_partly_decodable_video_fails_with_the_reason_and_the_original_plays(
    tmp_path: Path,
) -> None:
    lib = Library.open(make_settings(tmp_path, hls_ladder=TEST_LADDER))
    try:
        record = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=4), "video")
        stored = lib.local_path(record)
        assert stored is not None
        from tests.video_helpers import corrupt_middle

        corrupt_middle(stored)  # the stored bytes go bad after ingest (a disk, a bad copy)
        for job in lib.jobs.list(file_id=record.id)[0]:
            if job.kind != "web":  # the other kinds fail the same way; one keeps this quick
                lib.jobs.cancel(job.id)
        process_all(lib)
        jobs = {j.kind: j for j in lib.jobs.latest_for_file(record.id)}
        assert jobs["web"].state == "failed"
        assert jobs["hls"].state == "cancelled"
        assert "could be decoded" in (jobs["web"].error or "")
        assert jobs["web"].reason == "undecodable_media"
        assert jobs["web"].attempts == 1  # bad input is not retried
        from core.jobs import combine

        state = combine(list(jobs.values()))
        assert state is not None and state.state == "failed" and "web:" in (state.error or "")
        from core.video.service import choose_video

        assert choose_video(record, list(jobs.values()), None).name == "original"
    finally:
        lib.close()


def test_audio_only_and_zero_frame_inputs_are_skipped_with_a_reason(tmp_path: Path) -> None:
    from tests.video_helpers import make_audio_only_mp4

    audio = make_audio_only_mp4(tmp_path / "audio.mp4")
    out = tmp_path / "out"
    out.mkdir()
    for run in (
        lambda: encode.web_rendition(audio, out, "video/mp4", lambda _: None),
        lambda: encode.hls_ladder(audio, out, [120], 2, lambda _: None),
        lambda: encode.scrub_thumbnails(audio, out, lambda _: None),
    ):
        with pytest.raises(encode.NothingToDo, match="audio only") as skipped:
            run()
        assert skipped.value.reason == "audio_only"
    # a video stream that holds no frame at all
    empty = tmp_path / "empty.mp4"
    with av.open(str(empty), "w", format="mp4") as c:
        s = c.add_stream("libx264", rate=24)
        s.width, s.height, s.pix_fmt = 320, 240, "yuv420p"
        c.start_encoding()  # else no file is written at all (a missing file is no bad media)
    assert empty.is_file()
    with pytest.raises((encode.NothingToDo, encode.BadMedia)):
        encode.web_rendition(empty, out, "video/x-msvideo", lambda _: None)
    assert not list(out.iterdir())  # nothing half-written


def test_a_video_track_of_no_sample_is_skipped_by_every_job(tmp_path: Path) -> None:
    """A 0-frame MP4 with its moov after its mdat (a recorder stopped before its first frame):
    its faststart copy "succeeded" with no file written, and the job failed three times as the
    storage's fault (storage_unavailable), once more at each retry. Every job skips it now."""
    from tests.video_helpers import make_zero_frame_mp4

    empty = make_zero_frame_mp4(tmp_path / "zero.mp4")
    assert encode.moov_after_mdat(empty) and encode.probe(empty).width == 320
    out = tmp_path / "out"
    out.mkdir()
    for run in (
        lambda: encode.faststart(empty, out, "video/mp4", lambda _: None),
        lambda: encode.web_rendition(empty, out, "video/mp4", lambda _: None),
        lambda: encode.hls_ladder(empty, out, [120], 2, lambda _: None),
        lambda: encode.scrub_thumbnails(empty, out, lambda _: None),
    ):
        with pytest.raises(encode.NothingToDo) as skipped:
            run()
        assert skipped.value.reason == "no_video_frames"  # its work folder: the worker's


def test_ladder_never_goes_above_the_source(tmp_path: Path) -> None:
    clip = media.make_mp4(tmp_path / "small.mp4", seconds=1, size=(320, 240))
    p = encode.probe(clip)
    assert [r for r, _ in encode.ladder_sizes(p, [360, 720, 1080])] == [240]
    assert encode.ladder_sizes(p, [120, 240, 360]) == [(120, (160, 120)), (240, (320, 240))]
    assert encode.scaled_size(p, 1080) == (320, 240)


def test_path_checks_on_hls_routes(processed: Processed) -> None:
    p = processed
    fid = p.ids["avi"]
    for path in (
        f"/stream/{fid}/hls/..%2f..%2fetc/index.m3u8",
        f"/stream/{fid}/hls/120/..%2Findex.m3u8",
        f"/stream/{fid}/hls/999/index.m3u8",
        f"/stream/{fid}/hls/120/seg_99999.ts",
    ):
        assert p.get(path, p.tokens.read).status == 404, path
    image = p.lib.uploads.ingest(media.make_jpeg(p.lib.paths.tmp_dir / "x.jpg"), "image")
    assert p.get(f"/stream/{image.id}/hls/master.m3u8", p.tokens.read).status == 404
    info = p.get(f"/stream/{image.id}/info", p.tokens.read).json()
    assert info["processing"] is None and info["hls_url"] is None


def test_hevc_mov_from_a_phone_gets_an_h264_web_rendition(tmp_path: Path) -> None:
    from tests.video_helpers import hevc_encoder_available, make_hevc_mov

    if not hevc_encoder_available():
        pytest.skip("this PyAV build has no HEVC encoder to make the test clip")
    lib = Library.open(make_settings(tmp_path, hls_ladder=TEST_LADDER))
    try:
        record = lib.uploads.ingest(make_hevc_mov(tmp_path / "phone.mov"), "video")
        assert record.content_type == "video/quicktime"
        for job in lib.jobs.list(file_id=record.id)[0]:
            if job.kind != "web":
                lib.jobs.cancel(job.id)
        process_all(lib)
        jobs = {j.kind: j for j in lib.jobs.latest_for_file(record.id)}
        assert jobs["web"].state == "done", jobs["web"].error
        from core.video.service import choose_video

        served = choose_video(record, list(jobs.values()), None)
        assert served.name == "web"
        path = storage_of(lib).local_path(served.key)
        assert path is not None
        with av.open(str(path)) as c:
            assert c.streams.video[0].codec_context.name == "h264"
            assert not c.streams.audio  # no audio in, none out
    finally:
        lib.close()


def test_a_rotated_originals_rendition_size_is_as_shown(tmp_path: Path) -> None:
    """A phone's portrait clip (landscape pixels, rotation 90): the original rendition said
    320x240 beside the faststart copy's (same packets) and the web rendition's 240x320."""
    import subprocess

    from core.video.service import renditions

    plain = media.make_mp4(tmp_path / "plain.mp4", seconds=1)
    phone = tmp_path / "phone.mp4"
    subprocess.run(
        [
            "ffmpeg",
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-i",
            str(plain),
            "-c",
            "copy",
            "-metadata:s:v:0",
            "rotate=90",
            str(phone),
        ],
        check=True,
        timeout=60,
    )
    lib = Library.open(make_settings(tmp_path, hls_ladder=TEST_LADDER))
    try:
        record = lib.uploads.ingest(phone, "video")
        assert record.rotation in (90, 270) and record.width > record.height
        (original,) = [r for r in renditions(record, []) if r["name"] == "original"]
        assert (original["width"], original["height"]) == (record.height, record.width)
    finally:
        lib.close()


def test_an_anamorphic_originals_rendition_size_is_as_shown(tmp_path: Path) -> None:
    """A DVD-like clip (180x144 stored, 64:45 pixels): the original rendition said 180x144
    beside the faststart copy's (same packets) 256x144."""
    import subprocess

    from core.video.service import renditions

    dvd = tmp_path / "dvd.mp4"
    subprocess.run(
        [
            *("ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi", "-i"),
            "testsrc2=size=180x144:rate=12:duration=1,setsar=64/45",
            *("-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(dvd)),
        ],
        check=True,
        timeout=60,
    )
    lib = Library.open(make_settings(tmp_path, hls_ladder=TEST_LADDER))
    try:
        record = lib.uploads.ingest(dvd, "video")
        process_all(lib)
        sizes = {
            r["name"]: (r["width"], r["height"])
            for r in renditions(record, lib.jobs.latest_for_file(record.id))
        }
        assert sizes["faststart"] == (256, 144), sizes
        assert sizes["original"] == sizes["faststart"], sizes
    finally:
        lib.close()


def test_processing_events_reach_sse_clients(tmp_path: Path) -> None:
    import http.client

    lib = Library.open(make_settings(tmp_path, hls_ladder=TEST_LADDER))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        tokens = make_tokens(lib)
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        conn.request("GET", f"/events?access_token={tokens.read}")
        resp = conn.getresponse()
        assert resp.status == 200
        record = lib.uploads.ingest(media.make_avi(tmp_path / "e.avi", seconds=1), "video")
        process_all(lib)
        states: list[str] = []
        while "done" not in states:
            line = resp.readline().decode()
            if line.startswith("event: processing"):
                data = json.loads(resp.readline().decode().removeprefix("data: "))
                assert data["file_id"] == record.id
                states.append(data["file"]["processing"]["state"])
        assert "running" in states
        conn.close()
    finally:
        server.stop()
        lib.close()


def test_video_settings_are_validated(tmp_path: Path) -> None:
    from core.errors import SettingsError
    from core.settings import load_settings

    def load(**env: str) -> Any:
        return load_settings(environ=env, config_file=tmp_path / "none.toml")

    assert load(MEDIADESK_HLS_LADDER="240, 480").hls_ladder == ("240", "480")
    assert load(MEDIADESK_WORKERS="0").workers == 0
    for env in (
        {"MEDIADESK_HLS_LADDER": "720p"},
        {"MEDIADESK_HLS_LADDER": "8"},
        {"MEDIADESK_WORKERS": "-1"},
        {"MEDIADESK_HLS_SEGMENT_SECONDS": "30"},
        {"MEDIADESK_JOB_LEASE_SECONDS": "1"},
        {"MEDIADESK_JOB_MAX_ATTEMPTS": "0"},
    ):
        with pytest.raises(SettingsError, match=next(iter(env))):
            load(**env)


def test_every_skip_reason_is_one_clients_know() -> None:
    """The codes NothingToDo is raised with are core.jobs.SKIP_REASONS (the desktop has a
    sentence for each, the API an enum): a new skip needs its code there too."""
    source = Path(encode.__file__).read_text(encoding="utf-8")
    used = set(re.findall(r'NothingToDo\(\s*"[^"]*",\s*"(\w+)"', source))
    assert used == set(SKIP_REASONS), used ^ set(SKIP_REASONS)


def _failed_reasons(lib: Library) -> dict[int, Any]:
    """{file id: reason} of the failed jobs, as GET /jobs answers them over HTTP (an answer
    the server's own OpenAPI document allows: the code is in the Job schema's enum)."""
    from jsonschema import Draft202012Validator

    tokens = make_tokens(lib)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        reply = http_call(f"{server.url}/jobs?state=failed", headers=bearer(tokens.read))
        assert reply.status == 200
        spec = http_call(f"{server.url}/openapi.json").json()
        answer = spec["paths"]["/jobs"]["get"]["responses"]["200"]["content"]
        schema = answer["application/json"]["schema"]
        Draft202012Validator({**schema, "components": spec["components"]}).validate(reply.json())
        return {j["file_id"]: j["reason"] for j in reply.json()["items"]}
    finally:
        server.stop()


def _web_only(lib: Library, file_id: int) -> None:
    for job in lib.jobs.list(file_id=file_id)[0]:
        if job.kind != "web":  # the other kinds fail the same way; one keeps this quick
            lib.jobs.cancel(job.id)


def test_a_failed_job_says_why_as_a_code_in_get_jobs(tmp_path: Path) -> None:
    """Real failures, each classified where it happens: an original cut off after ingest
    (FFmpeg cannot open it), one gone from the store, one the store cannot read (a symlink
    loop where the file was: ELOOP, an error of the file system, not a missing object).
    GET /jobs and the stream info answer the code; the English message stays in error."""
    lib = Library.open(make_settings(tmp_path / "data", hls_ladder=TEST_LADDER, job_max_attempts=1))
    try:
        clips = tmp_path / "clips"
        clips.mkdir()
        ids = {}
        for seconds, name in enumerate(("cut", "gone", "unreadable"), start=1):  # not shared
            clip = media.make_mp4(clips / f"{name}.mp4", seconds=seconds, faststart=False)
            ids[name] = lib.uploads.ingest(clip, "video").id
            _web_only(lib, ids[name])
        stored = {name: lib.local_path(lib.get_file(i)) for name, i in ids.items()}
        cut = stored["cut"]
        assert cut is not None
        media.make_truncated(cut, cut, keep=0.5)  # the moov box at the end is lost
        gone = stored["gone"]
        assert gone is not None
        gone.unlink()
        unreadable = stored["unreadable"]
        assert unreadable is not None
        unreadable.unlink()
        unreadable.symlink_to(unreadable.name)
        process_all(lib)
        jobs = {name: {j.kind: j for j in lib.jobs.latest_for_file(i)} for name, i in ids.items()}
        assert {n: j["web"].state for n, j in jobs.items()} == dict.fromkeys(ids, "failed")
        # the English message: the original's read refused it as shorter than recorded
        assert "it is damaged" in (jobs["cut"]["web"].error or "")
        assert _failed_reasons(lib) == {
            ids["cut"]: "undecodable_media",
            ids["gone"]: "original_missing",
            ids["unreadable"]: "storage_unavailable",
        }
        tokens = make_tokens(lib)
        server = EmbeddedServer(lib, config=server_config(lib))
        server.start()
        try:
            info, told = (
                http_call(f"{server.url}/stream/{ids['cut']}/info", headers=bearer(token)).json()
                for token in (tokens.admin, tokens.read)
            )
        finally:
            server.stop()
        processing = info["processing"]
        assert processing["state"] == "failed" and "it is damaged" in processing["error"]
        assert processing["reasons"] == {"web": "undecodable_media"}
        # the stored words name the object's key: for admins; a read token reads the reason's
        sentence = FAILURE_SENTENCES["undecodable_media"]
        assert told["processing"]["error"] == f"web: {sentence}", told
    finally:
        lib.close()


def test_failed_jobs_by_reason_in_metrics_and_the_python_client(tmp_path: Path) -> None:
    """Real failures (an original cut off, one gone from the store) show in /metrics by kind
    and reason, every other kind and reason at 0; a failure from before the codes, or with a
    code the server does not know, counts as unknown (the label values stay bounded). The
    Python client's jobs() and job() answer the reason."""
    from sqlalchemy import update

    from core.db.models import Job
    from server.client import Client
    from tests.internals import db_of

    lib = Library.open(make_settings(tmp_path / "data", hls_ladder=TEST_LADDER, job_max_attempts=1))
    try:
        clips = tmp_path / "clips"
        clips.mkdir()
        ids = {}
        for seconds, name in enumerate(("cut", "gone", "old", "odd"), start=1):  # not shared
            clip = media.make_mp4(clips / f"{name}.mp4", seconds=seconds, faststart=False)
            ids[name] = lib.uploads.ingest(clip, "video").id
            _web_only(lib, ids[name])
        cut, gone = (lib.local_path(lib.get_file(ids[n])) for n in ("cut", "gone"))
        assert cut is not None and gone is not None
        media.make_truncated(cut, cut, keep=0.5)
        for name in ("gone", "old", "odd"):
            path = lib.local_path(lib.get_file(ids[name]))
            assert path is not None
            path.unlink()
        process_all(lib)
        with db_of(lib).write() as s:  # as a row failed before migration 0017, and a stray code
            s.execute(update(Job).where(Job.file_id == ids["old"]).values(error_code=None))
            s.execute(update(Job).where(Job.file_id == ids["odd"]).values(error_code="made_up"))
        tokens = make_tokens(lib)
        server = EmbeddedServer(lib, config=server_config(lib))
        server.start()
        try:
            reply = http_call(f"{server.url}/metrics", headers=bearer(tokens.read))
            with Client(server.url, tokens.read) as client:
                failed = client.jobs(state="failed")
                one = client.job(failed["items"][0]["id"])
        finally:
            server.stop()
        assert reply.status == 200
        series = dict(
            line.rsplit(" ", 1)
            for line in reply.body.decode().splitlines()
            if line.startswith("mediadesk_jobs_failed")
        )
        by_reason = {
            k: v for k, v in series.items() if k.startswith("mediadesk_jobs_failed_by_reason")
        }
        name = 'mediadesk_jobs_failed_by_reason{{kind="{}",reason="{}"}}'.format
        expected = {name(k, r): "0" for k in KINDS for r in FAILURE_REASONS}
        expected[name("web", "undecodable_media")] = "1"
        expected[name("web", "original_missing")] = "1"
        expected[name("web", "unknown")] = "2"
        assert by_reason == expected
        assert series['mediadesk_jobs_failed{kind="web"}'] == "4"
        assert failed["total"] == 4
        reasons = {j["file_id"]: j["reason"] for j in failed["items"]}
        # a code this server does not know (a newer server's, on a shared catalog) is no code
        # here: the API's reason stays within the Job schema's enum, `error` still says it
        assert {n: reasons[ids[n]] for n in ("cut", "gone", "old", "odd")} == {
            "cut": "undecodable_media",
            "gone": "original_missing",
            "old": None,
            "odd": None,
        }
        assert one == failed["items"][0]
    finally:
        lib.close()


def test_a_full_disk_puts_the_job_back_as_insufficient_storage(tmp_path: Path) -> None:
    """The work folder on a full file system (a real tmpfs): FFmpeg's ENOSPC while writing
    the rendition, in the encoder's process, reaches GET /jobs as insufficient_storage; a full
    disk passes once someone frees room, so the job is queued again without spending its one
    attempt (tests/test_video_worker_full_disk.py)."""
    from tests.faults import fill_disk, small_tmpfs

    lib = Library.open(make_settings(tmp_path / "data", hls_ladder=TEST_LADDER, job_max_attempts=1))
    try:
        record = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=3), "video")
        _web_only(lib, record.id)
        with small_tmpfs(lib.paths.tmp_dir / "jobs", "1m") as work:
            fill_disk(work / "filler")
            process_all(lib)
        (web,) = [j for j in lib.jobs.latest_for_file(record.id) if j.kind == "web"]
        assert web.state == "queued" and "No space left" in (web.error or "")
        assert (web.attempts, web.reason) == (0, "insufficient_storage")
        assert _failed_reasons(lib) == {}
    finally:
        lib.close()


def test_an_unreachable_store_puts_the_job_back_as_storage_unavailable(
    tmp_path: Path, s3_bucket: S3Target
) -> None:
    """The S3 store cannot be reached (the library opened again with an endpoint where nothing
    listens, as when the network or the store is down): the original cannot be fetched, and
    the job says storage_unavailable, not a missing original; an outage passes, so the job is
    queued again without spending its one attempt (tests/test_video_worker_outage.py)."""
    from tests.conftest import _free_port

    def settings(endpoint: str) -> Any:
        return make_settings(
            tmp_path / "data",
            r2_endpoint_url=endpoint,
            r2_bucket_name=s3_bucket.bucket,
            r2_access_key_id=s3_bucket.access_key_id,
            r2_secret_access_key=s3_bucket.secret_access_key,
            r2_region="us-east-1",
            hls_ladder=TEST_LADDER,
            job_max_attempts=1,
        )

    lib = Library.open(settings(s3_bucket.endpoint_url))
    try:
        record = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=1), "video")
        _web_only(lib, record.id)
    finally:
        lib.close()
    lib = Library.open(settings(f"http://127.0.0.1:{_free_port()}"))
    try:
        process_all(lib)
        (web,) = [j for j in lib.jobs.latest_for_file(record.id) if j.kind == "web"]
        assert web.state == "queued" and "cannot reach" in (web.error or "")
        assert (web.reason, web.attempts) == ("storage_unavailable", 0)
    finally:
        lib.close()


def _runner_pids() -> list[int]:
    """The encoder subprocesses this test process started (core.video.runner children)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            command = Path(f"/proc/{entry}/cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and b"core.video.runner" in command:
            found.append(int(entry))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
def test_an_encoder_killed_mid_job_fails_it_as_encoder_failed(tmp_path: Path) -> None:
    """The encoder process dies without a word (as under the OOM killer): encoder_failed."""
    lib = Library.open(make_settings(tmp_path / "data", hls_ladder=TEST_LADDER, job_max_attempts=1))
    try:
        record = lib.uploads.ingest(media.make_avi(tmp_path / "a.avi", seconds=3), "video")
        _web_only(lib, record.id)
        killed: list[int] = []

        def kill_the_encoder() -> None:
            deadline = time.monotonic() + 30
            while not killed and time.monotonic() < deadline:
                for pid in _runner_pids():
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                time.sleep(0.005)

        killer = threading.Thread(target=kill_the_encoder)
        killer.start()
        process_all(lib)
        killer.join()
        assert killed
        (web,) = [j for j in lib.jobs.latest_for_file(record.id) if j.kind == "web"]
        assert web.state == "failed" and "exited with status -9" in (web.error or "")
        assert _failed_reasons(lib) == {record.id: "encoder_failed"}
    finally:
        lib.close()


def test_every_failure_reason_is_one_clients_know() -> None:
    """The codes core/video fails jobs with (a `reason` given to a failure, a class's
    default, what failure_reason returns) and core/jobs.py's are core.jobs.FAILURE_REASONS:
    the desktop has a sentence for each, the API an enum."""
    from core import jobs as jobs_module
    from core.video import failures, runner, worker

    given: list[ast.expr | None] = []  # the expressions a code is given by
    for module in (encode, failures, runner, worker, jobs_module):
        tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
                given += [k.value for k in node.keywords if k.arg in ("reason", "error_code")]
                if name in ("JobFailure", "BadMedia") and len(node.args) > 1:
                    given.append(node.args[1])
            elif isinstance(node, ast.Assign) and any(
                getattr(t, "id", None) == "reason" for t in node.targets
            ):
                given.append(node.value)
            elif isinstance(node, ast.FunctionDef) and node.name == "failure_reason":
                given += [r.value for r in ast.walk(node) if isinstance(r, ast.Return)]
    used = {
        g.value
        for g in given
        if isinstance(g, ast.Constant) and isinstance(g.value, str) and g.value
    }
    used -= set(SKIP_REASONS)
    assert used == set(FAILURE_REASONS), used ^ set(FAILURE_REASONS)


def test_an_unreadable_video_fails_without_naming_the_servers_path(tmp_path: Path) -> None:
    """The job's error reaches API clients (GET /jobs): FFmpeg's own message ended with the
    original's path on this server."""
    from core.video import encode

    junk = tmp_path / "secret-folder" / "clip.mp4"
    junk.parent.mkdir()
    junk.write_bytes(b"\x00not a video" * 100)
    with pytest.raises(encode.BadMedia) as failed:
        encode.probe(junk)
    assert "The video cannot be read" in str(failed.value)
    assert "secret-folder" not in str(failed.value) and str(tmp_path) not in str(failed.value)
