"""HDR10 (PQ, SMPTE ST 2084) clips, as Android phones and action cameras record them: every
picture made of one (web copy, HLS rungs, scrub sprite, thumbnail, large poster) is tone-mapped
to SDR BT.709. Read as BT.709 without it, PQ's numbers came out a dim, washed-out grey: the
clip's 1,000-nit white showed as 190 of 255 and its 203-nit reference white as 146.

The clip is made with ffmpeg's libx265 (10 bits, BT.2020, PQ, HDR10 mastering display of
1,000 nits): two grey patches whose PQ numbers are set directly, so they are the same in any
primaries and matrix."""

from __future__ import annotations

import io
import logging
from fractions import Fraction
from pathlib import Path

import av
import pytest
from av.video.reformatter import Colorspace
from PIL import Image

from core.library import Library
from core.mediatypes import BY_MIME
from core.thumbnails import make_posters, make_thumbnail
from core.video import encode, tonemap
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.server_fixtures import bearer, http_call, make_tokens, server_config
from tests.video_helpers import TEST_LADDER, process_all
from tests.video_helpers import ffmpeg_clip as _ffmpeg_clip
from tests.video_helpers import no_progress as _none

# PQ code values (of 255) of 1,000 nits (0.752) and 203 nits (0.580, BT.2408's HDR
# reference white), each patch half the picture
WHITE_1000, WHITE_203 = "0xC0C0C0", "0x949494"
# Shown as BT.709 untouched they are 190 and 146; tone-mapped they are near white and light
BRIGHT, LIGHT = 240, 165
HDR10 = (
    "log-level=none:hdr10=1:max-cll=1000,400:master-display="
    "G(13250,34500)B(7500,3000)R(34000,16000)WP(15635,16450)L(10000000,1)"
)


@pytest.fixture(scope="module")
def pq_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    patches = ";".join(
        f"color=c={c}:s=160x180:r=12:d=0.5[{name}]"
        for name, c in (("w", WHITE_1000), ("g", WHITE_203))
    )
    return _ffmpeg_clip(
        tmp_path_factory.mktemp("pq") / "hdr10.mov",
        *["-f", "lavfi", "-i", f"{patches};[w][g]hstack=2"],
        # the numbers kept as they are, only written with BT.2020's matrix in 10 bits
        *["-vf", "scale=out_color_matrix=bt2020:out_range=tv,format=yuv420p10le"],
        *["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", HDR10],
        *["-pix_fmt", "yuv420p10le", "-color_primaries", "bt2020"],
        *["-color_trc", "smpte2084", "-colorspace", "bt2020nc", "-tag:v", "hvc1"],
    )


def _patches(image: Image.Image) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """The middle of the 1,000-nit patch and of the 203-nit one."""
    w, h = image.size
    white, grey = image.getpixel((w // 4, h // 2)), image.getpixel((3 * w // 4, h // 2))
    assert isinstance(white, tuple) and isinstance(grey, tuple)
    return white, grey


def _assert_tone_mapped(image: Image.Image, what: str, tint: int = 6) -> None:
    white, grey = _patches(image.convert("RGB"))
    for pixel in (white, grey):
        assert max(pixel) - min(pixel) <= tint, (what, pixel)  # still grey
    bright, light = sum(white) / 3, sum(grey) / 3
    assert bright >= BRIGHT and light >= LIGHT and light < bright, (what, white, grey)


def _first_frame(path: Path) -> av.VideoFrame:
    with av.open(str(path)) as c:
        return next(c.decode(c.streams.video[0]))


def test_the_clip_is_pq_and_dim_when_read_as_bt709(pq_clip: Path) -> None:
    """The clip is what the tests below need: tagged PQ, and dim without tone mapping."""
    frame = _first_frame(pq_clip)
    assert (frame.color_primaries, frame.color_trc) == (encode.BT2020, encode.PQ)
    white, grey = _patches(frame.to_image(src_colorspace=Colorspace.ITU709))
    assert max(white) < 200 and max(grey) < 155, (white, grey)


def test_a_pq_clips_renditions_are_tone_mapped_to_bt709(pq_clip: Path, tmp_path: Path) -> None:
    encode.web_rendition(pq_clip, tmp_path, "video/quicktime", _none)
    encode.hls_ladder(pq_clip, tmp_path / "hls", [90, 180], 1, _none)  # 90: through scale
    hls = tmp_path / "hls"
    for made in (tmp_path / "web.mp4", hls / "180" / "index.m3u8", hls / "90" / "index.m3u8"):
        frame = _first_frame(made)
        assert frame.format.name == "yuv420p"
        tags = (frame.color_primaries, frame.color_trc, frame.colorspace)
        assert tags == (encode.BT709,) * 3, (made.name, tags)
        _assert_tone_mapped(frame.to_image(src_colorspace=Colorspace.ITU709), str(made))


def test_a_pq_clips_sprite_and_posters_are_tone_mapped(pq_clip: Path, tmp_path: Path) -> None:
    encode.scrub_thumbnails(pq_clip, tmp_path, _none)
    _assert_tone_mapped(Image.open(tmp_path / "sprite.jpg"), "sprite")
    thumbnail = make_thumbnail(pq_clip, BY_MIME["video/quicktime"])
    _assert_tone_mapped(Image.open(io.BytesIO(thumbnail)), "thumbnail")
    _, large, size = make_posters(pq_clip, thumbnail=False)
    assert size == (320, 180)
    _assert_tone_mapped(Image.open(io.BytesIO(large)), "large poster")


@pytest.mark.timeout(400)
def test_an_uploaded_pq_clip_is_served_tone_mapped(pq_clip: Path, tmp_path: Path) -> None:
    """End to end: stored in a library (real SQLite), every job run by a real worker (each
    encode in its subprocess), then the thumbnail, the web copy and the large poster fetched
    over HTTP."""
    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data, hls_ladder=TEST_LADDER, hls_segment_seconds=2))
    server = EmbeddedServer(lib, config=server_config(lib))
    try:
        fid = lib.uploads.ingest(pq_clip, "video").id
        process_all(lib)
        states = {j.kind: j.state for j in lib.jobs.latest_for_file(fid)}
        assert states["faststart"] in ("done", "skipped"), states
        assert [states[k] for k in ("web", "hls", "thumbnails")] == ["done"] * 3, states
        server.start()
        token = bearer(make_tokens(lib).read)
        thumb = http_call(f"{server.url}/files/{fid}/thumbnail", headers=token)
        assert thumb.status == 200
        _assert_tone_mapped(Image.open(io.BytesIO(thumb.body)), "thumbnail")
        web = http_call(f"{server.url}/stream/{fid}/video?rendition=web", headers=token)
        assert web.status == 200
        (tmp_path / "web.mp4").write_bytes(web.body)
        frame = _first_frame(tmp_path / "web.mp4")
        _assert_tone_mapped(frame.to_image(src_colorspace=Colorspace.ITU709), "web copy")
        poster = http_call(f"{server.url}/files/{fid}/thumbnail?w=1280", headers=token)
        assert poster.status == 200 and poster.headers["Content-Location"].find("w=1280") > 0
        _assert_tone_mapped(Image.open(io.BytesIO(poster.body)), "large poster")
    finally:
        server.stop()
        lib.close()


@pytest.mark.parametrize(
    ("codec", "tint"),
    [
        # a phone's 10-bit HEVC that writes no mastering display nor content light level
        (["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=none"], 6),
        # 8-bit H.264 tagged PQ (libx264 writes no HDR10 metadata either): its greys are a
        # code off neutral (U, V 127), a tint that the steep top of PQ's curve makes visible
        (["-c:v", "libx264", "-preset", "ultrafast"], 25),
    ],
    ids=["hevc-10bit", "h264-8bit"],
)
def test_a_pq_clip_without_hdr10_metadata_is_tone_mapped_as_bright(
    codec: list[str], tint: int, tmp_path: Path
) -> None:
    """No mastering display: the peak is taken as 1,000 nits (BT.2408, as players do), not
    a far higher one that left the clip dim (swscale's own tone mapping: 206 and 153)."""
    bits = "yuv420p10le" if "libx265" in codec else "yuv420p"
    patches = ";".join(
        f"color=c={c}:s=160x180:r=12:d=0.5[{name}]"
        for name, c in (("w", WHITE_1000), ("g", WHITE_203))
    )
    clip = _ffmpeg_clip(
        tmp_path / "bare.mov",
        *["-f", "lavfi", "-i", f"{patches};[w][g]hstack=2"],
        *["-vf", f"scale=out_color_matrix=bt2020:out_range=tv,format={bits}"],
        *codec,
        *["-pix_fmt", bits, "-color_primaries", "bt2020", "-color_trc", "smpte2084"],
        *["-colorspace", "bt2020nc"],
    )
    assert encode.probe(clip).pq
    encode.web_rendition(clip, tmp_path, "video/quicktime", _none)
    frame = _first_frame(tmp_path / "web.mp4")
    _assert_tone_mapped(frame.to_image(src_colorspace=Colorspace.ITU709), "web copy", tint)
    thumbnail = make_thumbnail(clip, BY_MIME["video/quicktime"])
    _assert_tone_mapped(Image.open(io.BytesIO(thumbnail)), "thumbnail", tint)


def test_a_saturated_colour_keeps_its_hue() -> None:
    """The table tone-maps on the largest of R, G and B: a bright PQ red stays red (no
    channel of another colour rises), where a curve per channel would wash it towards white."""
    size = tonemap.LUT_SIZE
    rows = tonemap.cube_text().splitlines()[2:]
    assert len(rows) == size**3
    red = [float(v) for v in rows[size - 1].split()]  # R at its top, G and B at 0
    assert red[0] >= 0.99 and red[1] == red[2] == 0.0, red
    black = [float(v) for v in rows[0].split()]
    assert black == [0.0, 0.0, 0.0]


def test_without_a_tone_mapper_pq_is_converted_as_before_with_one_warning(
    pq_clip: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """An FFmpeg without lut3d (or a table that cannot be written): BT.2020 converted to BT.709
    as for any BT.2020 source, and one warning for the process, not one a frame or a job."""
    monkeypatch.setattr(encode, "TONE_MAPS", [lambda: ["nosuchfilter=x=1"]])
    encode.tone_mapper.cache_clear()
    try:
        p = encode.probe(pq_clip)
        with caplog.at_level(logging.WARNING, logger=encode.__name__):
            for _ in range(3):
                assert encode.picture_fixes(p) == [
                    "colorspace=all=bt709:iall=bt2020:format=yuv420p"
                ]
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "PQ" in warnings[0].getMessage(), warnings
    finally:
        encode.tone_mapper.cache_clear()


def test_a_table_removed_under_a_long_running_process_is_written_again() -> None:
    """A cleaner of temporary files (systemd-tmpfiles, about ten days) removed the table under
    a server up for weeks: every PQ picture's filter graph then failed to open it."""
    first = encode.tone_map()
    assert first is not None
    table = tonemap.table_file()
    table.unlink()
    again = encode.tone_map()
    assert again is not None and tonemap.table_file().is_file()
    frame = av.VideoFrame(16, 16, "yuv420p10le")
    frame.time_base = Fraction(1, 25)
    encode._filter_graph(frame, again)  # opens the table
