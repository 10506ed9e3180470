"""HLS on S3/R2 storage: players fetch the segments straight from the bucket, not via MediaDesk.

A real library on the moto S3 server, real clips processed by a real worker, a live server;
FFmpeg (PyAV) plays the master and every variant of a private file (presigned segment URLs)
and of a public one (URLs on R2_PUBLIC_DOMAIN), hls.js in headless Chromium plays and seeks a
private file's ladder on /watch/{id}, and the server's request counters show that no segment
request reached it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import av
import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests import media
from tests.browser import Tab, chromium_path, play_and_seek_on_watch_page
from tests.conftest import make_settings
from tests.s3_server import S3Target, new_bucket, public_domain
from tests.server_fixtures import Tokens, bearer, http_call, make_tokens, server_config
from tests.video_helpers import TEST_LADDER, process_all

EXPIRY = 900  # PRESIGNED_URL_EXPIRY of this library (not the default, so the test can tell)


@dataclass
class OnBucket:
    lib: Library
    server: EmbeddedServer
    tokens: Tokens
    bucket: S3Target
    domain: str
    ids: dict[str, int]


@pytest.fixture(scope="module")
def on_bucket(tmp_path_factory: pytest.TempPathFactory, moto_server: str) -> Iterator[OnBucket]:
    tmp_path = tmp_path_factory.mktemp("hls-s3")
    s3_bucket = new_bucket(moto_server)
    clips = {
        "private": media.make_avi(tmp_path / "private.avi", seconds=3),
        "public": media.make_avi(tmp_path / "public.avi", seconds=3, audio=False),
        "browser": media.make_mp4(tmp_path / "match.mp4", seconds=6, size=(320, 240)),
    }
    data = tmp_path / "data"
    data.mkdir()
    domain = public_domain(s3_bucket)  # stands in for an R2 public domain
    settings = make_settings(
        data,
        r2_endpoint_url=s3_bucket.endpoint_url,
        r2_bucket_name=s3_bucket.bucket,
        r2_access_key_id=s3_bucket.access_key_id,
        r2_secret_access_key=s3_bucket.secret_access_key,
        r2_region="us-east-1",
        r2_public_domain=domain,
        presigned_url_expiry=EXPIRY,
        hls_ladder=TEST_LADDER,
        hls_segment_seconds=2,
    )
    lib = Library.open(settings)
    tokens = make_tokens(lib)
    ids = {
        name: lib.uploads.ingest(path, "video", is_public=(name == "public")).id
        for name, path in clips.items()
    }
    # the tests look at the HLS ladder: the web copy and the scrub thumbnails (an encode and a
    # bucket upload each, for each clip) were seconds of the set-up, as in test_watch_page_gone
    for fid in ids.values():
        for job in lib.jobs.list(file_id=fid)[0]:
            if job.kind in ("web", "thumbnails"):
                lib.jobs.cancel(job.id)
    process_all(lib)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield OnBucket(lib, server, tokens, s3_bucket, domain, ids)
    finally:
        server.stop()
        lib.close()


def _uris(text: str) -> list[str]:
    return [line for line in text.splitlines() if line and not line.startswith("#")]


def _segment_requests(b: OnBucket) -> float:
    """Requests the server counted on its segment route (any status)."""
    text = http_call(b.server.url + "/metrics", headers=bearer(b.tokens.admin)).body.decode()
    pattern = r'^mediadesk_http_requests_total\{[^}]*route="[^"]*\{segment\}"[^}]*\} (\S+)$'
    return sum(float(v) for v in re.findall(pattern, text, re.M))


@pytest.mark.parametrize("which", ["private", "public"])
def test_variants_name_bucket_urls_and_ffmpeg_plays_them(on_bucket: OnBucket, which: str) -> None:
    b = on_bucket
    fid = b.ids[which]
    token = b.tokens.read if which == "private" else None
    info = http_call(
        f"{b.server.url}/stream/{fid}/info", headers=bearer(token) if token else {}
    ).json()
    master_url = b.server.url + info["hls_url"]
    master = http_call(master_url)
    assert master.status == 200
    variants = _uris(master.body.decode())
    assert len(variants) == 2
    for uri in variants:
        variant_url = f"{b.server.url}/stream/{fid}/hls/{uri}"
        reply = http_call(variant_url)
        assert reply.status == 200
        segments = _uris(reply.body.decode())
        assert segments
        rung = uri.split("/", 1)[0]
        for seg in segments:
            parts = urlsplit(seg)
            assert f"{parts.scheme}://{parts.netloc}" == b.bucket.endpoint_url
            assert re.search(rf"/_derived/.+/hls-\d+/{rung}/seg_\d{{5}}\.ts$", parts.path), seg
            query = parse_qs(parts.query)
            if which == "private":
                # until the info's grant (PRESIGNED_URL_EXPIRY) ends: what is left of it
                assert EXPIRY - 5 <= int(query["X-Amz-Expires"][0]) <= EXPIRY
                assert "X-Amz-Signature" in query
                assert reply.headers["Cache-Control"] == "no-store"
            else:
                assert seg.startswith(b.domain + "/") and not parts.query
            fetched = http_call(seg)  # straight from the bucket, no header
            assert fetched.status == 200 and fetched.body[:1] == b"\x47"  # MPEG-TS sync byte
        with av.open(variant_url) as c:
            assert sum(1 for _ in c.decode(c.streams.video[0])) >= 60  # 3 s at 24 fps
    with av.open(master_url) as c:
        assert len(c.streams.video) == 2
        assert sum(1 for _ in c.decode(c.streams.video[-1])) >= 60
    assert _segment_requests(b) == 0  # no segment byte went through the server


@pytest.mark.parametrize("lifetime", [86400, 60])  # longer, then shorter than EXPIRY
def test_presigned_segments_of_a_watch_page_end_with_its_link(
    on_bucket: OnBucket, lifetime: int
) -> None:
    """Under a signed watch link the bucket's segment URLs live as long as the link: a long
    match keeps playing past PRESIGNED_URL_EXPIRY, and no URL outlives the link."""
    b = on_bucket
    fid = b.ids["private"]
    link = http_call(
        f"{b.server.url}/files/{fid}/presigned-url?kind=watch&expires_in={lifetime}",
        headers=bearer(b.tokens.read),
    ).json()
    until = int(parse_qs(urlsplit(link["url"]).query)["exp"][0])
    page = http_call(link["url"]).body.decode()
    config = json.loads(re.search(r"const config = (\{.*?\});", page).group(1))  # type: ignore[union-attr]
    master = http_call(b.server.url + config["hls_url"])
    for uri in _uris(master.body.decode()):
        assert int(parse_qs(urlsplit(uri).query)["exp"][0]) == until
        reply = http_call(f"{b.server.url}/stream/{fid}/hls/{uri}")
        assert reply.status == 200 and reply.headers["Cache-Control"] == "no-store"
        for seg in _uris(reply.body.decode()):
            query = parse_qs(urlsplit(seg).query)
            signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
            ends = signed.replace(tzinfo=UTC).timestamp() + int(query["X-Amz-Expires"][0])
            assert until - 5 <= ends <= until, (seg, until)


def test_local_storage_keeps_serving_segments_itself(tmp_path: Path) -> None:
    """The local backend: relative segment URIs with the job that made them and the file
    grant, sent by the server."""
    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, hls_ladder="120", hls_segment_seconds=2))
    try:
        clip = media.make_avi(tmp_path / "c.avi", seconds=2)
        fid = lib.uploads.ingest(clip, "video", is_public=False).id
        process_all(lib)
        assert lib.bucket_links(["_derived/anything"], False) is None
        server = EmbeddedServer(lib, config=server_config(lib))
        server.start()
        try:
            tokens = make_tokens(lib)
            info = http_call(f"{server.url}/stream/{fid}/info", headers=bearer(tokens.read)).json()
            master = http_call(server.url + info["hls_url"]).body.decode()
            variant = http_call(f"{server.url}/stream/{fid}/hls/{_uris(master)[0]}")
            segments = _uris(variant.body.decode())
            # pinned to the job that made the playlist (`v`), then the grant
            assert all(re.match(r"^seg_\d{5}\.ts\?v=\d+&exp=\d+&sig=\w+$", s) for s in segments)
        finally:
            server.stop()
    finally:
        lib.close()


@pytest.mark.skipif(chromium_path() is None, reason="Chromium not installed")
async def test_hlsjs_plays_and_seeks_from_the_bucket_on_the_watch_page(on_bucket: OnBucket) -> None:
    """hls.js in headless Chromium: segments cross-origin from the bucket (moto allows any
    origin, as the README's CORS rule does on R2)."""
    b = on_bucket
    fid = b.ids["browser"]
    link = http_call(
        f"{b.server.url}/files/{fid}/presigned-url?kind=watch", headers=bearer(b.tokens.read)
    ).json()["url"]
    async with Tab(chromium_path() or "") as browser:
        state = await play_and_seek_on_watch_page(browser, link)
        segments = await browser.evaluate(
            "performance.getEntriesByType('resource').map((e) => e.name)"
            ".filter((n) => /seg_\\d{5}\\.ts/.test(n))"
        )
    assert state["mode"] == "hls" and state["error"] is None, state
    assert state["played"] and state["seeked"] and state["moved"], state
    assert segments and all(u.startswith(b.bucket.endpoint_url + "/") for u in segments), segments
    assert _segment_requests(b) == 0


def test_anonymous_segments_of_a_public_file_live_five_minutes(
    tmp_path: Path, moto_server: str
) -> None:
    """A public file on a bucket without a public domain: a player without a token gets
    presigned segment URLs, which nothing takes back when staff make the file private, so
    they live PUBLICITY_BUCKET_EXPIRY (300 s), as an anonymous download link does; a token
    holder's live PRESIGNED_URL_EXPIRY."""
    s3_bucket = new_bucket(moto_server)
    data = tmp_path / "data"
    data.mkdir()
    settings = make_settings(
        data,
        r2_endpoint_url=s3_bucket.endpoint_url,
        r2_bucket_name=s3_bucket.bucket,
        r2_access_key_id=s3_bucket.access_key_id,
        r2_secret_access_key=s3_bucket.secret_access_key,
        r2_region="us-east-1",
        presigned_url_expiry=EXPIRY,
        hls_ladder="120",
        hls_segment_seconds=2,
    )
    lib = Library.open(settings)
    server = EmbeddedServer(lib, config=server_config(lib))
    try:
        clip = media.make_avi(tmp_path / "c.avi", seconds=2, audio=False)
        fid = lib.uploads.ingest(clip, "video", is_public=True).id
        process_all(lib)
        server.start()
        tokens = make_tokens(lib)

        def ends(headers: dict[str, str]) -> tuple[float, float, list[tuple[int, float]]]:
            """(asked at, answered at, [(X-Amz-Expires, the epoch second each URL ends)])"""
            asked = time.time()
            info = http_call(f"{server.url}/stream/{fid}/info", headers=headers).json()
            master = http_call(server.url + info["hls_url"], headers=headers).body.decode()
            uri = _uris(master)[0]
            reply = http_call(f"{server.url}/stream/{fid}/hls/{uri}", headers=headers)
            assert reply.status == 200 and reply.headers["Cache-Control"] == "no-store"
            segments = _uris(reply.body.decode())
            assert segments and all(s.startswith(s3_bucket.endpoint_url + "/") for s in segments)
            answered = time.time()
            found = []
            for s in segments:
                query = parse_qs(urlsplit(s).query)
                signed = datetime.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
                expires = int(query["X-Amz-Expires"][0])
                found.append((expires, signed.replace(tzinfo=UTC).timestamp() + expires))
            return asked, answered, found

        # judged against the clock around the requests, not a fixed allowance: a loaded
        # machine may take seconds between the server's reading of the time and the signature
        for headers, life in (({}, 300), (bearer(tokens.read), EXPIRY)):
            asked, answered, found = ends(headers)
            assert found and all(n <= life for n, _ in found), (life, found)
            # a second is lost to int() and one to the signer's second ahead (bucket_links)
            assert all(asked + life - 3 <= end <= answered + life for _, end in found), (
                asked,
                answered,
                life,
                found,
            )
    finally:
        server.stop()
        lib.close()
