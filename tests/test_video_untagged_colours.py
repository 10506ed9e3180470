"""An untagged source's renditions are tagged with the colours its poster is read in.

The poster and the scrub sprite read an untagged video as players guess it (core.video.encode
.rgb_matrix: BT.601 at or below 576 lines, BT.709 above), but the web copy and the HLS rungs
were left untagged, which browsers play as BT.709 whatever the size: an SD clip's green bar,
0,255,0 on the poster, turned 0,216,2 the moment play started. Now every output of an untagged
source is tagged with that same guess (matrix, primaries and transfer) and its numbers are
the source's (no conversion), so a player shows what the poster shows."""

from __future__ import annotations

import subprocess
from pathlib import Path

import av
import pytest
from av.video.reformatter import Colorspace

from core.video import encode

# FFmpeg's AVColorSpace numbers of the matrices, as swscale names them
_MATRIX = {1: Colorspace.ITU709, 5: Colorspace.ITU601, 6: Colorspace.SMPTE170M}


def _none(_: float) -> None:
    pass


def _tags(path: Path) -> tuple[int, int, int]:
    with av.open(str(path)) as c:
        cc = c.streams.video[0].codec_context
        return int(cc.color_primaries), int(cc.color_trc), int(cc.colorspace)


def _bars(path: Path, matrix: Colorspace) -> list[tuple[int, int, int]]:
    """The first picture's 7 bars' colours, its YUV read through `matrix`."""
    with av.open(str(path)) as c:
        frame = next(c.decode(c.streams.video[0]))
        image = frame.to_image(src_colorspace=matrix).convert("RGB")
    w, h = image.size
    return [image.getpixel((int((i + 0.5) * w / 7), h // 3)) for i in range(7)]


@pytest.mark.parametrize(
    ("size", "expected"),
    [
        ((640, 360), (6, 6, 6)),  # SD: BT.601 (SMPTE 170M, NTSC's primaries)
        ((720, 576), (5, 6, 5)),  # PAL: BT.601 with PAL's (BT.470BG) primaries
        ((1280, 720), (1, 1, 1)),  # HD: BT.709
    ],
)
def test_untagged_outputs_are_tagged_as_their_poster_is_read(
    tmp_path: Path, size: tuple[int, int], expected: tuple[int, int, int]
) -> None:
    clip = tmp_path / "untagged.mp4"
    subprocess.run(
        [
            *["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "lavfi"],
            *["-i", f"smptebars=size={size[0]}x{size[1]}:rate=10:d=1"],
            *["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", str(clip)],
        ],
        check=True,
        timeout=60,
    )
    p = encode.probe(clip)
    assert p.colour == (2, 2, 2)  # untagged, as most phones' SD and camcorders' files
    poster = _bars(clip, encode.rgb_matrix(p))  # as the poster and the sprite read it
    encode.web_rendition(clip, tmp_path, "video/x-msvideo", _none)
    rung = min(size[1], 360)
    encode.hls_ladder(clip, tmp_path / "hls", [rung], 1, _none)
    for made in (tmp_path / "web.mp4", tmp_path / "hls" / str(rung) / "index.m3u8"):
        tags = _tags(made)
        assert tags == expected, (made.name, tags)
        shown = _bars(made, _MATRIX[tags[2]])  # as a player reads it, by its tag
        assert all(
            abs(a - b) <= 6
            for bar, want in zip(shown, poster, strict=True)
            for a, b in zip(bar, want, strict=True)
        ), (made.name, shown, poster)
