"""The renditions keep the source's colours when they are resized or change range: the scale
filter used to be given frames without their matrix and range, so a BT.709 clip's smaller
rungs were converted to BT.601 numbers still tagged BT.709 (red turned orange) and a
full-range MJPEG's numbers were passed on unconverted and read as limited (grey 128 -> 130).
Each test makes a tiny clip with PyAV and runs core.video.encode as the job subprocess does."""

from __future__ import annotations

import io
from pathlib import Path

import av
from av.video.reformatter import ColorRange, Colorspace
from PIL import Image, ImageDraw

from core.mediatypes import BY_MIME
from core.thumbnails import make_thumbnail
from core.video import encode

PATCHES = [(200, 40, 40), (40, 180, 60), (40, 60, 200), (128, 128, 128)]
BT601 = 6  # FFmpeg's AVColorSpace SMPTE170M


def _none(_: float) -> None:
    pass


def _patches(size: tuple[int, int]) -> Image.Image:
    """Four colour patches side by side, each a quarter of the width."""
    w, h = size
    im = Image.new("RGB", size)
    draw = ImageDraw.Draw(im)
    for i, colour in enumerate(PATCHES):
        draw.rectangle([i * w // 4, 0, (i + 1) * w // 4 - 1, h - 1], fill=colour)
    return im


def _spots(size: tuple[int, int]) -> list[tuple[int, int]]:
    w, h = size
    return [(int(w * (i + 0.5) / 4), h // 2) for i in range(4)]


def _clip(path: Path, fmt: str, codec: str, pix_fmt: str, matrix: Colorspace) -> Path:
    """Six frames of the patches, the numbers made with `matrix` (limited range unless the
    format is a full-range yuvj one) and tagged with it."""
    size = (640, 360)
    with av.open(str(path), "w", format=fmt) as out:
        video = out.add_stream(codec, rate=12)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = *size, pix_fmt
        full = pix_fmt.startswith("yuvj")
        tag = encode.BT709 if matrix == Colorspace.ITU709 else BT601
        video.codec_context.colorspace = tag
        video.codec_context.color_primaries = tag if tag == encode.BT709 else BT601
        video.codec_context.color_trc = tag if tag == encode.BT709 else BT601
        video.codec_context.color_range = ColorRange.JPEG if full else ColorRange.MPEG
        if codec == "libx264":
            video.options = {"preset": "ultrafast"}
        rgb = av.VideoFrame.from_image(_patches(size))
        for i in range(6):
            frame = rgb.reformat(
                format=pix_fmt,
                dst_colorspace=matrix,
                dst_color_range=ColorRange.JPEG if full else ColorRange.MPEG,
            )
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return path


def _first_frame(path: Path) -> av.VideoFrame:
    with av.open(str(path)) as c:
        return next(c.decode(c.streams.video[0]))


def _rgb(frame: av.VideoFrame, matrix: Colorspace) -> Image.Image:
    return frame.to_image(src_colorspace=matrix, src_color_range=frame.color_range)


def _assert_close(want: Image.Image, got: Image.Image, what: str, tolerance: int = 6) -> None:
    got = got.convert("RGB").resize(want.size)
    for spot in _spots(want.size):
        a, b = want.getpixel(spot), got.getpixel(spot)
        assert max(abs(x - y) for x, y in zip(a, b, strict=True)) <= tolerance, (
            what,
            spot,
            a,
            b,
        )


def test_a_bt709_clips_smaller_rung_keeps_its_colours_and_tags(tmp_path: Path) -> None:
    """The 180p rung of a 360p BT.709 clip is made by the scale filter; the 360p rung is the
    decoded frames as they are. Both decode to the source's colours and say BT.709."""
    clip = _clip(tmp_path / "bt709.mp4", "mp4", "libx264", "yuv420p", Colorspace.ITU709)
    source = _rgb(_first_frame(clip), Colorspace.ITU709)
    _assert_close(_patches(source.size), source, "the clip itself")
    hls = encode.hls_ladder(clip, tmp_path / "hls", [180, 360], 1, _none)
    assert [v["height"] for v in hls["variants"]] == [180, 360]
    for rung in (180, 360):
        frame = _first_frame(tmp_path / "hls" / str(rung) / "seg_00000.ts")
        assert (frame.colorspace, frame.color_range) == (encode.BT709, ColorRange.MPEG), rung
        _assert_close(source, _rgb(frame, Colorspace.ITU709), f"{rung}p rung")
    encode.scrub_thumbnails(clip, tmp_path, _none)
    _assert_close(source, Image.open(tmp_path / "sprite.jpg").crop((0, 0, 160, 90)), "sprite")
    poster = Image.open(io.BytesIO(make_thumbnail(clip, BY_MIME["video/mp4"])))
    _assert_close(source, poster, "poster")


def test_a_full_range_mjpeg_keeps_its_colours_in_the_web_copy_and_rungs(tmp_path: Path) -> None:
    """An old camera's MJPEG AVI is full range (yuvj420p): the web copy (same size) and a
    smaller rung come out limited range, tagged so, and decode to the same colours."""
    clip = _clip(tmp_path / "cam.avi", "avi", "mjpeg", "yuvj420p", Colorspace.ITU601)
    source = _rgb(_first_frame(clip), Colorspace.ITU601)
    _assert_close(_patches(source.size), source, "the clip itself")
    encode.web_rendition(clip, tmp_path, "video/x-msvideo", _none)
    encode.hls_ladder(clip, tmp_path / "hls", [180], 1, _none)
    for made in (tmp_path / "web.mp4", tmp_path / "hls" / "180" / "seg_00000.ts"):
        frame = _first_frame(made)
        assert (frame.format.name, frame.color_range) == ("yuv420p", ColorRange.MPEG), made.name
        _assert_close(source, _rgb(frame, Colorspace.ITU601), made.name)
    encode.scrub_thumbnails(clip, tmp_path, _none)
    _assert_close(source, Image.open(tmp_path / "sprite.jpg").crop((0, 0, 160, 90)), "sprite")
    poster = Image.open(io.BytesIO(make_thumbnail(clip, BY_MIME["video/x-msvideo"])))
    _assert_close(source, poster, "poster")


def test_an_rgb_clips_renditions_are_bt709_yuv_tagged_so(tmp_path: Path) -> None:
    """A screen recording or lossless export in RGB H.264 (libx264rgb, matrix "GBR"): every
    output is YUV 4:2:0, so it must be written with a YUV matrix and tagged with it. It was
    converted with scale's default and tagged GBR, which players read as G/B/R planes."""
    size = (640, 360)
    clip = tmp_path / "rgb.mp4"
    with av.open(str(clip), "w", format="mp4") as out:
        video = out.add_stream("libx264rgb", rate=12)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = *size, "bgr24"
        video.codec_context.colorspace = 0  # AVCOL_SPC_RGB
        video.options = {"preset": "ultrafast"}
        rgb = av.VideoFrame.from_image(_patches(size)).reformat(format="bgr24")
        for i in range(6):
            frame = rgb.reformat(format="bgr24")
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    assert _first_frame(clip).format.name == "gbrp"
    encode.web_rendition(clip, tmp_path, "video/mp4", _none)
    encode.hls_ladder(clip, tmp_path / "hls", [180, 360], 1, _none)
    made = [tmp_path / "web.mp4"] + [tmp_path / "hls" / f"{r}" / "seg_00000.ts" for r in (180, 360)]
    for path in made:
        frame = _first_frame(path)
        assert (frame.format.name, frame.colorspace, frame.color_range) == (
            "yuv420p",
            encode.BT709,
            ColorRange.MPEG,
        ), path.name
        _assert_close(_patches(size), _rgb(frame, Colorspace.ITU709), path.name)
