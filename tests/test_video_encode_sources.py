"""The encodes keep what the source shows: its display aspect (anamorphic pixels), its A/V
timing, its tracks and its pictures (interlaced fields). Each test makes a tiny clip and runs
core.video.encode directly, as the job subprocess does."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

from core.mediatypes import BY_MIME
from core.thumbnails import make_thumbnail
from core.video import encode
from tests import media


def _none(_: float) -> None:
    pass


def _anamorphic(path: Path, fmt: str, codec: str, rotation: int = 0) -> Path:
    """180x144 stored pixels that are 64:45 wide (a DVD's 16:9): shown 256x144."""
    with av.open(str(path), "w", format=fmt) as out:
        video = out.add_stream(codec, rate=12)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = 180, 144, "yuv420p"
        video.codec_context.sample_aspect_ratio = Fraction(64, 45)
        if rotation:
            video.set_display_rotation(-rotation)  # PyAV counts counter-clockwise
        for i in range(12):
            frame = av.VideoFrame.from_image(media._picture((180, 144), step=i))
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return path


def _shown(path: Path) -> tuple[int, int, float]:
    """Stored width and height of the first video stream and the aspect it is shown at."""
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        sar = s.sample_aspect_ratio or s.codec_context.sample_aspect_ratio or Fraction(1)
        return s.width, s.height, s.width * float(sar) / s.height


def test_anamorphic_video_keeps_its_display_aspect_everywhere(tmp_path: Path) -> None:
    for name, fmt, codec, rotation, aspect in (
        ("dvd.avi", "avi", "mpeg4", 0, 16 / 9),
        ("phone.mp4", "mp4", "libx264", 90, 9 / 16),
    ):
        clip = _anamorphic(tmp_path / name, fmt, codec, rotation)
        p = encode.probe(clip)
        assert (p.width, p.height) == ((256, 144) if rotation == 0 else (144, 256)), name
        out = tmp_path / f"out-{name}"
        out.mkdir()
        web = encode.web_rendition(clip, out, "video/x-msvideo", _none)
        width, height, shown = _shown(out / "web.mp4")
        assert abs(shown - aspect) / aspect < 0.03, (name, width, height, shown)
        assert (web["width"], web["height"]) == (width, height)
        assert width * 9 == height * 16 if rotation == 0 else width * 16 == height * 9
        hls = encode.hls_ladder(clip, out / "hls", [120], 1, _none)
        (variant,) = hls["variants"]
        width, height, shown = _shown(out / "hls" / "120" / "seg_00000.ts")
        assert abs(shown - aspect) / aspect < 0.03, (name, width, height, shown)
        assert (variant["width"], variant["height"]) == (width, height)
        sprite = encode.scrub_thumbnails(clip, out, _none)
        assert abs(sprite["width"] / sprite["height"] - aspect) / aspect < 0.03, (name, sprite)
        poster = Image.open(io.BytesIO(make_thumbnail(clip, BY_MIME["video/mp4"])))
        assert abs(poster.width / poster.height - aspect) / aspect < 0.03, (name, poster.size)
