"""WebP thumbnails (images upright, video poster frames) and resized image variants."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageStat

from core.errors import CorruptFile, InvalidInput, UnsupportedType
from core.mediatypes import BY_MIME
from core.thumbnails import make_thumbnail, make_variant
from core.validation import validate_file
from tests import media
from tests.media_fixtures import MediaSet


def _webp(data: bytes) -> Image.Image:
    im = Image.open(io.BytesIO(data))
    assert im.format == "WEBP"
    im.load()
    return im


def _rgb(im: Image.Image, xy: tuple[int, int]) -> tuple[int, int, int]:
    pixel = im.getpixel(xy)
    assert isinstance(pixel, tuple)
    return pixel[0], pixel[1], pixel[2]


def _is_red(pixel: tuple[int, int, int]) -> bool:
    r, g, b = pixel
    return r > 170 and g < 90 and b < 90


@pytest.mark.parametrize(
    ("name", "mime", "size"),
    [
        ("jpeg", "image/jpeg", (320, 240)),
        ("png", "image/png", (320, 240)),
        ("webp", "image/webp", (320, 240)),
        ("gif", "image/gif", (160, 120)),  # never enlarged
        ("mp4", "video/mp4", (320, 240)),
        ("webm", "video/webm", (320, 240)),
        ("avi", "video/x-msvideo", (320, 240)),
        ("mov", "video/quicktime", (320, 240)),
        ("wmv", "video/x-ms-wmv", (320, 240)),
    ],
)
def test_thumbnail_every_type(
    media_dir: MediaSet, name: str, mime: str, size: tuple[int, int]
) -> None:
    im = _webp(make_thumbnail(getattr(media_dir, name), BY_MIME[mime]))
    assert im.size == size
    assert im.mode in ("RGB", "RGBA")


def test_thumbnail_size_and_media_spellings(media_dir: MediaSet) -> None:
    info = validate_file(media_dir.jpeg, "image", 10**8)
    assert _webp(make_thumbnail(media_dir.jpeg, info, size=100)).size == (100, 75)
    assert _webp(make_thumbnail(media_dir.jpeg, "image/jpg", size=64)).size == (64, 48)
    with pytest.raises(UnsupportedType):
        make_thumbnail(media_dir.jpeg, "application/pdf")


def test_exif_orientation_is_applied(media_dir: MediaSet) -> None:
    """Orientation 6: stored 640x480, shown rotated 90 degrees clockwise."""
    im = _webp(make_thumbnail(media_dir.jpeg_rotated, BY_MIME["image/jpeg"])).convert("RGB")
    assert im.size == (240, 320)
    # The red marker drawn in the stored top-left corner ends up top-right.
    assert _is_red(_rgb(im, (im.width - 5, 5)))
    assert not _is_red(_rgb(im, (5, 5)))


def test_poster_frame_is_not_blank_and_seeked(media_dir: MediaSet) -> None:
    im = _webp(make_thumbnail(media_dir.mp4, BY_MIME["video/mp4"])).convert("RGB")
    assert max(ImageStat.Stat(im).stddev) > 20
    # The yellow block starts at x=0 and moves right each frame; ~10% in it has moved.
    row = [_rgb(im, (x, im.height // 2)) for x in range(im.width)]
    first_yellow = next(x for x, (r, g, b) in enumerate(row) if r > 180 and g > 150 and b < 100)
    assert first_yellow > 20


def test_rotated_video_poster_is_upright(tmp_path: Path) -> None:
    path = media.make_mp4(tmp_path / "phone.mp4", seconds=1, audio=False, rotation=90)
    im = _webp(make_thumbnail(path, BY_MIME["video/mp4"])).convert("RGB")
    assert im.size == (240, 320)
    assert _is_red(_rgb(im, (im.width - 5, 5)))


def test_corrupt_inputs(media_dir: MediaSet, tmp_path: Path) -> None:
    with pytest.raises(CorruptFile):
        make_thumbnail(media_dir.truncated_jpeg, BY_MIME["image/jpeg"])
    with pytest.raises(CorruptFile, match="larger than 100 megapixels"):
        make_thumbnail(media_dir.png_bomb, BY_MIME["image/png"])
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(media_dir.mp4.read_bytes()[:64] + bytes(4096))
    with pytest.raises(CorruptFile):
        make_thumbnail(junk, BY_MIME["video/mp4"])
    with pytest.raises(CorruptFile):
        make_thumbnail(media_dir.wav, BY_MIME["video/x-msvideo"])


@pytest.mark.parametrize("name", ["jpeg", "png", "webp", "gif"])
def test_variant_sources(media_dir: MediaSet, name: str) -> None:
    path = getattr(media_dir, name)
    for source in (path, path.read_bytes(), io.BytesIO(path.read_bytes())):
        im = _webp(make_variant(source, 80))
        assert im.width == 80 and im.height == 60


def test_variant_rules(media_dir: MediaSet) -> None:
    assert _webp(make_variant(media_dir.jpeg, 4000)).size == (640, 480)  # never enlarged
    assert _webp(make_variant(media_dir.jpeg_rotated, 240)).size == (240, 320)  # displayed width
    for width in (0, 5000):
        with pytest.raises(InvalidInput):
            make_variant(media_dir.jpeg, width)
    with pytest.raises(CorruptFile):
        make_variant(media_dir.png_bomb, 100)
    with pytest.raises(CorruptFile):
        make_variant(media_dir.mp4.read_bytes(), 100)


_GREEN = (40, 160, 60)  # a grass green, in Adobe RGB when the profile says so
_GREEN_SRGB = (0, 161, 47)  # the same colour in sRGB (LittleCMS, perceptual)


def _near(pixel: tuple[int, int, int], want: tuple[int, int, int], tolerance: int = 6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, want, strict=True))


def _green_photo(fmt: str, icc: bytes | None, mode: str = "RGB") -> bytes:
    """400x300 green with a red corner, stored turned (EXIF orientation 6), `icc` embedded."""
    im = Image.new(mode, (400, 300), (*_GREEN, 200) if mode == "RGBA" else _GREEN)
    im.paste((255, 0, 0, 255) if mode == "RGBA" else (255, 0, 0), (0, 0, 40, 40))
    exif = Image.Exif()
    exif[0x0112] = 6
    buf = io.BytesIO()
    im.save(buf, fmt, exif=exif.tobytes(), **({"icc_profile": icc} if icc else {}))
    return buf.getvalue()


@pytest.mark.parametrize(("fmt", "mode"), [("JPEG", "RGB"), ("PNG", "RGBA"), ("WEBP", "RGB")])
def test_an_embedded_colour_profile_is_converted_to_srgb(
    tmp_path: Path, fmt: str, mode: str
) -> None:
    """A camera's Adobe RGB photo (an iPhone's Display P3 alike) read as sRGB came out dull:
    thumbnails and variants are its colours in sRGB, still upright, untagged like all others."""
    path = tmp_path / f"adobe-rgb.{fmt.lower()}"
    path.write_bytes(data := _green_photo(fmt, media.adobe_rgb_icc(), mode))
    for made in (make_thumbnail(path, f"image/{fmt.lower()}"), make_variant(data, 150)):
        im = _webp(made)
        assert not im.info.get("icc_profile")
        assert im.mode == mode
        rgb = im.convert("RGB")
        assert rgb.width < rgb.height  # the orientation survived the conversion
        assert _is_red(_rgb(rgb, (rgb.width - 3, 3)))
        assert _near(_rgb(rgb, (5, rgb.height - 5)), _GREEN_SRGB), _rgb(rgb, (5, rgb.height - 5))


def test_a_profile_that_cannot_be_applied_is_ignored(tmp_path: Path) -> None:
    """Junk, or a profile of another colour space than the pixels: today's numbers, no error."""
    for junk in (b"not a profile" * 20, media.adobe_rgb_icc()[:200]):
        im = _webp(make_variant(_green_photo("JPEG", junk), 150)).convert("RGB")
        assert _near(_rgb(im, (5, im.height - 5)), _GREEN)
    cmyk = Image.new("CMYK", (200, 100), (0, 220, 220, 20))  # a red, in ink
    for icc in (None, media.adobe_rgb_icc()):  # without a profile, or an RGB one: as ever
        path = tmp_path / "cmyk.jpg"
        cmyk.save(path, "JPEG", **({"icc_profile": icc} if icc else {}))
        assert _is_red(_rgb(_webp(make_thumbnail(path, "image/jpeg")).convert("RGB"), (5, 5)))


def test_a_16_bit_greyscale_png_keeps_its_tones(tmp_path: Path) -> None:
    """Pillow clips 16-bit samples at 255 when converting: a 16-bit scan was a white tile in
    the thumbnail (the desktop grid's too) and variants. Black at the top, white at the bottom."""
    path = media.make_gray16_png(tmp_path / "scan16.png")
    assert Image.open(path).mode == "I;16"
    for made in (make_thumbnail(path, "image/png"), make_variant(path, 100)):
        im = _webp(made).convert("L")
        top, middle = im.getpixel((im.width // 2, 1)), im.getpixel((im.width // 2, im.height // 2))
        bottom = im.getpixel((im.width // 2, im.height - 2))
        assert isinstance(top, int) and isinstance(middle, int) and isinstance(bottom, int)
        assert top < 20 and 100 < middle < 160 and bottom > 235, (top, middle, bottom)


def test_an_animated_webp_keeps_the_transparent_canvas_around_its_first_frame(
    tmp_path: Path,
) -> None:
    """A WebP animation whose first frame is a small opaque patch on an empty canvas carries no
    transparency flag (libwebp sets it from the frames' own pixels): browsers and the desktop's
    preview show the page around the patch, while its thumbnail and variants were black there.
    An opaque animation's stay without alpha."""
    first = Image.new("RGBA", (120, 80), (0, 0, 0, 0))
    first.paste((255, 0, 0, 255), (10, 10, 40, 40))
    path = tmp_path / "sticker.webp"
    rest = [Image.new("RGBA", (120, 80), (0, 0, 255, 255))]
    first.save(path, "WEBP", save_all=True, append_images=rest, duration=100, lossless=True)
    assert Image.open(path).mode == "RGB"  # what Pillow makes of the header
    for made in (make_thumbnail(path, "image/webp"), make_variant(path.read_bytes(), 100)):
        im = _webp(made)
        assert im.mode == "RGBA"
        scale = im.width / 120
        corner = im.getpixel((im.width - 3, im.height - 3))
        assert isinstance(corner, tuple) and corner[3] == 0, corner
        assert _is_red(_rgb(im, (int(25 * scale), int(25 * scale))))
    opaque = media.make_webp(tmp_path / "opaque.webp", animated=True)
    assert _webp(make_thumbnail(opaque, "image/webp")).mode == "RGB"
