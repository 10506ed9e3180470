"""A video's poster at the watch page's size: made by the thumbnails job, served at
/files/{id}/thumbnail?w=1280, named by the watch page.

The page used the 320-px thumbnail as its <video poster>, blurry on a laptop or a TV before
play (the player is 1280 px wide and more). The thumbnails job now makes a poster that fits in
1280 x 1280 beside its sprite, of the same frame, square pixels and colours as the 320 one; the
thumbnail endpoint serves it under the same ETag/`?v=`/grant rules, and a video processed by an
older version (no large poster) is served its 320 one, which the page names then.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from urllib.parse import urlsplit

import av
import pytest
from PIL import Image, ImageChops, ImageStat

from core.db.models import Job
from core.images import DECODE_BUDGET
from core.library import Library
from core.thumbnails import (
    POSTER_WIDTH,
    THUMB_SIZE,
    is_whole_webp,
    make_posters,
    make_thumbnail,
)
from core.video import service
from server.entry import EmbeddedServer
from tests import media
from tests.internals import db_of
from tests.server_fixtures import (
    bearer,
    http_call,
    library_served,
    make_tokens,
    server_config,
)
from tests.video_helpers import process_all

pytestmark = pytest.mark.timeout(240)

SETTINGS = {"hls_ladder": "120", "hls_segment_seconds": 2, "workers": 0}


def _anamorphic_hd(path: Path) -> Path:
    """1440x1080 stored pixels 4:3 wide (HDV): shown 1920x1080, so the large poster is both
    narrowed to 1280 and made of square pixels (1280x720, not 1280x960)."""
    size = (1440, 1080)
    with av.open(str(path), "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=12)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = *size, "yuv420p"
        video.gop_size = 12
        video.options = {"preset": "ultrafast"}
        video.codec_context.sample_aspect_ratio = Fraction(4, 3)
        for i in range(12):
            frame = av.VideoFrame.from_image(media._picture(size, step=i))
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return path


def _size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "WEBP"
        return im.size


def _difference(a: Image.Image, b: Image.Image) -> float:
    """The mean channel difference (sharp edges differ a little more once resampled)."""
    diff = ImageChops.difference(a.convert("RGB"), b.convert("RGB"))
    return max(ImageStat.Stat(diff).mean)


def _poster_attr(page: str) -> str | None:
    match = re.search(r'<video[^>]*\sposter="([^"]*)"', page)
    return match.group(1).replace("&amp;", "&") if match else None


@pytest.fixture(scope="module")
def processed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Library, int, int]]:
    """A library with a public HD clip and a private small one, every job run."""
    from tests.conftest import make_settings

    root = tmp_path_factory.mktemp("large-poster")
    data = root / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, **SETTINGS))
    try:
        hd = lib.uploads.ingest(_anamorphic_hd(root / "hdv.mp4"), "video", is_public=True)
        small = lib.uploads.ingest(
            media.make_mp4(root / "small.mp4", seconds=1, size=(480, 360), audio=False), "video"
        )
        process_all(lib)
        yield lib, hd.id, small.id
    finally:
        lib.close()


@pytest.fixture
def live_lib(processed: tuple[Library, int, int]) -> Iterator[EmbeddedServer]:
    lib = processed[0]
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield server
    finally:
        server.stop()


def test_the_thumbnails_job_makes_a_large_poster_in_square_pixels(
    processed: tuple[Library, int, int], live_lib: EmbeddedServer
) -> None:
    lib, hd_id, _ = processed
    record = lib.get_file(hd_id)
    poster = service.large_poster(record, lib.jobs.latest_for_file(hd_id))
    assert poster is not None
    assert (poster.width, poster.height) == (POSTER_WIDTH, 720)
    stored = lib.read_object(poster.key)
    assert is_whole_webp(stored) and _size(stored) == (1280, 720)

    url = f"{live_lib.url}/files/{hd_id}/thumbnail"
    small = http_call(url)
    large = http_call(f"{url}?w=1280&v={record.content_tag}")
    assert small.status == 200 and _size(small.body) == (THUMB_SIZE, 180)
    assert large.status == 200, large.body
    assert large.headers["Content-Type"] == "image/webp"
    assert large.body == stored
    assert large.headers["X-MediaDesk-Width"] == "1280"
    assert large.headers["ETag"] != small.headers["ETag"]
    assert "immutable" in large.headers["Cache-Control"]  # ?v= names these bytes for good
    assert large.headers["Content-Location"] == (
        f"/files/{hd_id}/thumbnail?w={POSTER_WIDTH}&v={record.content_tag}"
    )
    again = http_call(f"{url}?w=1280", headers={"If-None-Match": large.headers["ETag"]})
    assert again.status == 304
    assert http_call(f"{url}?w=100").body == small.body  # at most 320: the thumbnail
    assert http_call(f"{url}?w=0").status == 400
    # the same frame, colours and aspect as the 320 one
    with Image.open(io.BytesIO(stored)) as big, Image.open(io.BytesIO(small.body)) as little:
        assert _difference(big.resize(little.size, Image.Resampling.BOX), little) <= 3


def test_the_watch_page_names_the_large_poster(
    processed: tuple[Library, int, int], live_lib: EmbeddedServer
) -> None:
    lib, hd_id, _ = processed
    record = lib.get_file(hd_id)
    page = http_call(f"{live_lib.url}/watch/{hd_id}")
    assert page.status == 200
    poster = _poster_attr(page.body.decode())
    assert poster == f"/files/{hd_id}/thumbnail?v={record.content_tag}&w={POSTER_WIDTH}"
    assert _size(http_call(live_lib.url + poster).body) == (1280, 720)


def test_a_private_signed_watch_links_poster_opens_under_its_grant(
    processed: tuple[Library, int, int], live_lib: EmbeddedServer
) -> None:
    lib, _, small_id = processed
    tokens = make_tokens(lib)
    link = http_call(
        f"{live_lib.url}/files/{small_id}/presigned-url?kind=watch&expires_in=600",
        headers=bearer(tokens.read),
    ).json()["url"]
    parts = urlsplit(link)
    page = http_call(f"{live_lib.url}{parts.path}?{parts.query}")
    assert page.status == 200, page.body
    poster = _poster_attr(page.body.decode())
    assert poster is not None and f"w={POSTER_WIDTH}" in poster and "sig=" in poster
    opened = http_call(live_lib.url + poster)
    assert opened.status == 200, opened.body
    assert _size(opened.body) == (480, 360)  # never enlarged
    assert opened.headers["Cache-Control"].startswith("private")
    bare = re.sub(r"&?(exp|sig)=[^&]*", "", poster)
    assert http_call(live_lib.url + bare).status in (401, 403, 404)


def test_a_video_processed_by_an_older_version_falls_back_to_its_thumbnail(
    processed: tuple[Library, int, int],
) -> None:
    """Its thumbnails job's result names no large poster (made before there was one): the page
    names the 320 one, `?w=1280` serves that one without caching it for good; a reprocess
    makes the large one."""
    lib, hd_id, _ = processed
    with db_of(lib).write() as s:
        for job in s.query(Job).filter(Job.file_id == hd_id, Job.kind == "thumbnails"):
            if job.result:
                result = dict(job.result)
                result.pop("poster", None)
                result["files"] = [n for n in result["files"] if not n.endswith(".webp")]
                job.result = result
    record = lib.get_file(hd_id)
    assert service.large_poster(record, lib.jobs.latest_for_file(hd_id)) is None
    data = Path(lib.settings.data_dir)
    # another process's view of the catalog: no jobs cached from before the planting
    with library_served(data, **SETTINGS) as (_, server):
        page = http_call(f"{server.url}/watch/{hd_id}")
        assert _poster_attr(page.body.decode()) == (
            f"/files/{hd_id}/thumbnail?v={record.content_tag}"
        )
        asked = http_call(f"{server.url}/files/{hd_id}/thumbnail?w=1280&v={record.content_tag}")
        assert asked.status == 200 and _size(asked.body) == (THUMB_SIZE, 180)
        assert asked.headers["X-MediaDesk-Width"] == str(THUMB_SIZE)
        assert "immutable" not in asked.headers["Cache-Control"]

    service.reprocess(lib, hd_id)
    process_all(lib)
    assert service.large_poster(lib.get_file(hd_id), lib.jobs.latest_for_file(hd_id)) is not None
    with library_served(data, **SETTINGS) as (_, server):
        page = http_call(f"{server.url}/watch/{hd_id}")
        assert f"w={POSTER_WIDTH}" in (_poster_attr(page.body.decode()) or "")


def test_the_posters_are_made_of_one_decode_within_the_decode_budget(tmp_path: Path) -> None:
    """Both posters of one frame, decoded once and shrunk while the process's decode budget
    holds room for the picture at its shown size (an anamorphic one is made wider than it is
    stored: 180x144 shown 256x144)."""
    clip = tmp_path / "dvd.avi"
    with av.open(str(clip), "w", format="avi") as out:
        video = out.add_stream("mpeg4", rate=12)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = 180, 144, "yuv420p"
        video.codec_context.sample_aspect_ratio = Fraction(64, 45)
        for i in range(12):
            frame = av.VideoFrame.from_image(media._picture((180, 144), step=i))
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    DECODE_BUDGET.reset_peak()

    thumb, large, size = make_posters(clip, thumbnail=True)

    assert DECODE_BUDGET.peak >= 256 * 144 * 4 and DECODE_BUDGET.in_flight == 0
    assert size == (256, 144) and _size(large) == (256, 144)  # never enlarged
    assert thumb is not None and _size(thumb) == (256, 144)
    assert thumb == make_thumbnail(clip, "video/x-msvideo")  # the upload's poster, the same


def test_a_photo_asked_at_the_posters_width_is_answered_its_thumbnail(
    processed: tuple[Library, int, int], live_lib: EmbeddedServer, tmp_path: Path
) -> None:
    """A grid asking every file's picture at one width gets a photo's thumbnail (its bigger
    sizes are /stream/{id}/image?w=), saying so, rather than a 400."""
    lib = processed[0]
    photo = lib.uploads.ingest(
        media.make_jpeg(tmp_path / "p.jpg", size=(1600, 1200)), "image", is_public=True
    )
    url = f"{live_lib.url}/files/{photo.id}/thumbnail"
    small, large = http_call(url), http_call(f"{url}?w=1280")
    assert large.status == 200, large.body
    assert large.body == small.body
    assert large.headers["X-MediaDesk-Width"] == str(THUMB_SIZE)
    assert large.headers["Content-Location"] == f"/files/{photo.id}/thumbnail?w={THUMB_SIZE}"
