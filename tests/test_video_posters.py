"""A video's poster (its thumbnail) shows its pictures as the renditions do: an interlaced
source deinterlaced, a BT.2020 source converted to BT.709, YUV read as RGB through the
source's matrix (an untagged HD video's is BT.709). Each test makes a tiny clip with ffmpeg
(the makers of tests/test_video_encode_sources.py) and compares pixels."""

from __future__ import annotations

import io
from pathlib import Path

import av
from av.video.reformatter import Colorspace
from PIL import Image, ImageChops, ImageStat

from core.mediatypes import BY_MIME
from core.thumbnails import make_thumbnail
from core.video import encode
from tests.video_helpers import ffmpeg_clip as _ffmpeg_clip
from tests.video_helpers import no_progress as _none

Pixel = tuple[int, ...]


def _poster(clip: Path, mime: str = "video/mp4") -> Image.Image:
    return Image.open(io.BytesIO(make_thumbnail(clip, BY_MIME[mime]))).convert("RGB")


def _combing(image: Image.Image) -> float:
    """How much more each row differs from the next than from the one after it: above 1,
    the rows alternate between two pictures (two fields woven, combing on motion); a whole
    picture's neighbouring rows are the closest."""
    grey = image.convert("L")
    top = grey.crop((0, 0, grey.width, grey.height - 2))
    adjacent = ImageChops.difference(top, grey.crop((0, 1, grey.width, grey.height - 1)))
    alternate = ImageChops.difference(top, grey.crop((0, 2, grey.width, grey.height)))
    return ImageStat.Stat(adjacent).mean[0] / max(ImageStat.Stat(alternate).mean[0], 1e-6)


def _far(want: Pixel, got: Pixel) -> int:
    return max(abs(a - b) for a, b in zip(want, got, strict=True))


def test_an_interlaced_videos_poster_has_no_combing(tmp_path: Path) -> None:
    """A 25i clip (top field first) of a picture in motion: its poster was the woven frame."""
    clip = _ffmpeg_clip(
        tmp_path / "i25.mp4",
        *["-f", "lavfi", "-i", "testsrc2=size=320x240:rate=50:d=1.2,scroll=h=0.02"],
        *["-vf", "interlace=scan=tff", "-c:v", "libx264", "-preset", "ultrafast"],
        *["-flags", "+ildct+ilme", "-x264-params", "tff=1", "-pix_fmt", "yuv420p"],
    )
    with av.open(str(clip)) as c:
        woven = next(c.decode(c.streams.video[0])).to_image()
    assert _combing(woven) > 1.2  # the clip is what it should be
    poster = _poster(clip)
    assert poster.size == (320, 240)
    assert _combing(poster) < 1.0, _combing(poster)


def test_a_bt2020_hlg_videos_poster_has_the_colours_of_its_bars(tmp_path: Path) -> None:
    """A phone's 10-bit HLG clip (BT.2020 primaries and matrix) of SMPTE bars: the poster's
    bars are the bars' BT.709 colours, as in the web rendition (they came out washed out)."""
    bars = "smptebars=size=320x180"
    clip = _ffmpeg_clip(
        tmp_path / "hlg.mov",
        *["-f", "lavfi", "-i", f"{bars}:rate=12:d=0.5"],
        *["-vf", "colorspace=all=bt2020:iall=bt709:format=yuv420p10"],
        *["-c:v", "libx265", "-preset", "ultrafast", "-x265-params", "log-level=none"],
        *["-pix_fmt", "yuv420p10le", "-color_primaries", "bt2020"],
        *["-color_trc", "arib-std-b67", "-colorspace", "bt2020nc", "-tag:v", "hvc1"],
    )
    with av.open(bars, format="lavfi") as c:
        truth = next(c.decode(c.streams.video[0])).to_image(src_colorspace=Colorspace.ITU709)
    poster = _poster(clip, "video/quicktime")
    assert poster.size == truth.size
    for i in range(7):  # the middle of each bar
        spot = (int(truth.width * (i + 0.5) / 7), truth.height // 4)
        want, got = truth.getpixel(spot), poster.getpixel(spot)
        assert isinstance(want, tuple) and isinstance(got, tuple)
        assert _far(want, got) <= 8, (spot, want, got)


def test_an_hd_videos_poster_and_sprite_read_its_colours_as_bt709(tmp_path: Path) -> None:
    """Red, green and blue columns encoded with BT.709's matrix at 1280x720, tagged BT.709 and
    untagged (players read an untagged HD video as BT.709): the poster and the scrub sprite
    show them red, green and blue. Read as BT.601 (swscale's default), the green was 147 and
    the red 115 with green in it."""
    columns = ";".join(f"color=c={c}:s=432x720:r=12:d=0.5[{c[0]}]" for c in ("red", "lime", "blue"))
    made = {}
    for name, tags in (
        ("tagged", ["-color_primaries", "bt709", "-color_trc", "bt709", "-colorspace", "bt709"]),
        ("untagged", []),
    ):
        made[name] = _ffmpeg_clip(
            tmp_path / f"{name}.mp4",
            *["-f", "lavfi", "-i", f"{columns};[r][l][b]hstack=3,crop=1280:720"],
            *["-vf", "scale=out_color_matrix=bt709:out_range=tv,format=yuv420p"],
            *["-c:v", "libx264", "-preset", "ultrafast", *tags],
        )
    for name, clip in made.items():
        out = tmp_path / f"sprite-{name}"
        out.mkdir()
        encode.scrub_thumbnails(clip, out, _none)
        sprite = Image.open(out / "sprite.jpg").convert("RGB")
        for image, label in ((_poster(clip), "poster"), (sprite, "sprite")):
            for i, want in enumerate(((255, 0, 0), (0, 255, 0), (0, 0, 255))):
                x = int(image.width * (i + 0.5) * 432 / 1280)
                got = image.getpixel((x, image.height // 2))
                assert isinstance(got, tuple)
                assert _far(want, got) <= 10, (name, label, want, got)
