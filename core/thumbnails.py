"""WebP thumbnails and resized variants: images with Pillow, video poster frames with PyAV."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Protocol

import av
from PIL import ExifTags, Image, ImageCms, ImageOps

from core import mediatypes
from core.errors import CorruptFile, InvalidInput, UnsupportedType
from core.images import DECODE_BUDGET, decoded_bytes
from core.mediatypes import BY_MIME, IMAGE_TYPES, FileKind, MediaType, canonical_mime
from core.metadata import header_exif, open_image
from core.video.encode import BadMedia, Probe, Upright, main_video, probe, rgb_matrix

logger = logging.getLogger(__name__)

THUMB_SIZE = 320
# The rendering of image thumbnails and ?w= variants: one more whenever a change here makes
# them come out differently, so those made before are made again (media_files.
# thumbnail_generation, core/thumbnail_remake.py; null: before 2). 2: embedded
# colour profiles converted to sRGB (Display P3 came out dull), 16-bit grey PNGs scaled (a
# white tile), a turned photo's ladder of its shown width.
THUMBNAIL_GENERATION = 2
# The rendering of video posters (a video's thumbnail), counted apart: a poster fix must not
# make maintenance decode every photo again, nor a photo fix change every video's ?v=. Remade
# by the video's thumbnails job, which has the original at hand (core/video/worker.py; queued
# again by `mediadesk reprocess`), never by maintenance nor a request (a whole video to
# fetch). Above every THUMBNAIL_GENERATION a video was given before (2): 3: posters
# deinterlaced, BT.2020 converted, matrix read as the renditions'. 4: PQ (HDR10) tone-mapped.
POSTER_GENERATION = 4
# A video's poster at a player's size (the watch page's <video poster>: the 320 one was blurry
# at 1280 px and more), made by its thumbnails job beside its sprite (core/video/runner.py); it
# fits in POSTER_WIDTH x POSTER_WIDTH as the thumbnail fits in THUMB_SIZE x THUMB_SIZE.
POSTER_WIDTH = 1280
MAX_VARIANT_WIDTH = 4096  # the widest `w` a client may ask for
# The only widths variants are made at, like an image CDN's srcset ladder: any asked width is
# served from the smallest rung that covers it, so an image has at most one variant per rung
# (plus its own width) however many widths are asked for; each is a full decode and a stored
# object. THUMB_SIZE (the grid's and README's 320) is on it.
VARIANT_WIDTHS = (160, 320, 480, 640, 960, 1280, 1600, 1920, 2560, 3840)
POSTER_POSITION = 0.10  # fraction of the duration
WEBP_QUALITY = 80
_MAX_DECODE_FRAMES = 300  # how far to decode after the keyframe a seek landed on
_IMAGE_FORMATS = [t.pil_format for t in IMAGE_TYPES if t.pil_format]
_RESIZABLE_MODES = ("RGB", "RGBA", "L", "CMYK", "YCbCr")  # others (palette, 1-bit) convert first
# The colour space an embedded ICC profile must describe for each mode it is applied to, and the
# mode the sRGB result is made in.
_ICC_SPACES = {
    "RGB": ("RGB ", "RGB"),
    "RGBA": ("RGB ", "RGBA"),
    "L": ("GRAY", "RGB"),
    "CMYK": ("CMYK", "RGB"),
}
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


class HasMime(Protocol):
    """A MediaType, MediaInfo or record: anything with a `mime`."""

    @property
    def mime(self) -> str: ...


def make_thumbnail(path: Path | IO[bytes], media: HasMime | str, size: int = THUMB_SIZE) -> bytes:
    """WebP bytes at most size x size: the upright image, or a video frame ~10% in (an image
    may be given open, a video only by its path)."""
    media_type = _media_type(media)
    if size < 1:
        raise InvalidInput("The thumbnail size must be positive")
    if media_type.kind == FileKind.IMAGE:
        with open_image(path, [media_type.pil_format or ""]) as im:
            return _webp(_shrink(im, (size, size)))
    if not isinstance(path, str | Path):
        raise InvalidInput("A video's poster frame is read from its path")
    return _webp(_poster_frames(Path(path), [size])[0])


def make_posters(path: Path, thumbnail: bool) -> tuple[bytes | None, bytes, tuple[int, int]]:
    """A video's thumbnail (when `thumbnail`: its THUMB_SIZE poster) and its large poster (at
    most POSTER_WIDTH square, never enlarged) as WebP, of one frame decoded once, and the
    large one's size."""
    sizes = [POSTER_WIDTH, THUMB_SIZE] if thumbnail else [POSTER_WIDTH]
    frames = _poster_frames(path, sizes)
    large = frames[0]
    return (_webp(frames[1]) if thumbnail else None), _webp(large), large.size


def poster_width(asked: int) -> int:
    """The poster that serves a request for a video's picture `asked` pixels wide: the
    thumbnail (THUMB_SIZE) up to its size, the large poster (POSTER_WIDTH) above it."""
    if not 1 <= asked <= MAX_VARIANT_WIDTH:
        raise InvalidInput(f"w must be between 1 and {MAX_VARIANT_WIDTH}")
    return THUMB_SIZE if asked <= THUMB_SIZE else POSTER_WIDTH


def variant_width(asked: int, original: int | None) -> int:
    """The width that serves a request for `asked` pixels: the smallest rung >= asked (the top
    rung above it); the original's own width when that rung is not narrower than it."""
    if not 1 <= asked <= MAX_VARIANT_WIDTH:
        raise InvalidInput(f"w must be between 1 and {MAX_VARIANT_WIDTH}")
    width = next((w for w in VARIANT_WIDTHS if w >= asked), VARIANT_WIDTHS[-1])
    return original if original and width >= original else width


def make_variant(source: Path | IO[bytes] | bytes, width: int) -> bytes:
    """WebP bytes of an image `width` pixels wide as displayed (never enlarged; first frame)."""
    if not 1 <= width <= MAX_VARIANT_WIDTH:
        raise InvalidInput(f"The width must be between 1 and {MAX_VARIANT_WIDTH}")
    with open_image(
        io.BytesIO(source) if isinstance(source, bytes) else source, _IMAGE_FORMATS
    ) as im:
        # After a quarter turn (orientations 5-8) the displayed width is the stored height.
        quarter_turn = header_exif(im).get(ExifTags.Base.Orientation) in (5, 6, 7, 8)
        return _webp(_shrink(im, (10**6, width) if quarter_turn else (width, 10**6)))


def _media_type(media: HasMime | str) -> MediaType:
    mime = canonical_mime(media if isinstance(media, str) else media.mime)
    if mime is None:
        raise UnsupportedType(f"No thumbnails for {media!r}")
    return BY_MIME[mime]


def _shrink(im: Image.Image, box: tuple[int, int]) -> Image.Image:
    """Fits `im` in box (draft decoding for JPEG), upright per EXIF, in RGB or RGBA."""
    # The draft thumbnail() itself asks for (a JPEG decodes at 1/2 to 1/8 scale), made first so
    # the decode's cost is known before it is admitted; other formats decode whole.
    im.draft(None, (box[0] * 2, box[1] * 2))
    original = im
    converted = 0 if im.mode in _RESIZABLE_MODES else 4  # palette/1-bit: an RGBA copy too
    # Alpha resized whole (no strips, below) goes through a premultiplied copy of the image.
    whole = _factor(im, box) < 2 and (converted or im.mode in ("RGBA", "LA"))
    icc = im.info.get("icc_profile")
    profiled = 4 if icc else 0  # the sRGB copy, of an image not made smaller at worst
    with DECODE_BUDGET.hold(decoded_bytes(im, converted + (4 if whole else 0) + profiled)):
        if converted:
            im = _rgb(im)
        im = _reduce_in_strips(im, box)
        im.thumbnail(box)
        if im is not original:  # its decoded pixels go before the next decode is admitted
            original.close()
        if icc:
            im = _to_srgb(im, icc)  # on the shrunk pixels: a thumbnail's costs ~1 ms
    return _rgb(ImageOps.exif_transpose(im))


def _to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    """`im` converted from its embedded profile to sRGB, untagged like every WebP we make (a
    browser, Qt and our clients read untagged as sRGB). Without it an Adobe RGB, ProPhoto or
    Display P3 photo (every iPhone photo) came out dull: its numbers were shown as sRGB. A
    profile that does not open, or does not fit the mode, leaves `im` as it was."""
    spaces = _ICC_SPACES.get(im.mode)
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if spaces is None or profile.profile.xcolor_space != spaces[0]:
            return im
        out = ImageCms.profileToProfile(im, profile, _SRGB, outputMode=spaces[1])
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError) as exc:
        logger.info("Ignoring an embedded colour profile that cannot be applied: %s", exc)
        return im
    assert out is not None  # not inPlace
    # The source's EXIF and XMP (its orientation, still to apply) without its profile, which
    # describes the source's numbers, not these.
    out.info = {key: value for key, value in im.info.items() if key != "icc_profile"}
    return out


_STRIP_ROWS = 256


def _factor(im: Image.Image, box: tuple[int, int]) -> int:
    """The integer factor thumbnail() reduces `im` by before resampling (its reducing_gap 2)."""
    return int(1 / min(box[0] / im.width, box[1] / im.height, 1) / 2)


def _reduce_in_strips(im: Image.Image, box: tuple[int, int]) -> Image.Image:
    """`im` with alpha shrunk by the integer factor thumbnail() would reduce it by, a strip of
    rows at a time: Pillow reduces (and resizes) RGBA and LA through a premultiplied copy of the
    whole image, twice the memory of the decode (750 MiB for a 9,900 x 9,900 PNG)."""
    factor = _factor(im, box)
    if im.mode not in ("RGBA", "LA") or factor < 2:
        return im
    step = factor * max(1, _STRIP_ROWS // factor)
    out = Image.new(im.mode, (-(-im.width // factor), -(-im.height // factor)))
    for top in range(0, im.height, step):
        strip = im.crop((0, top, im.width, min(top + step, im.height)))
        out.paste(strip.reduce(factor), (0, top // factor))
    out.info = dict(im.info)  # the EXIF orientation exif_transpose() reads
    return out


def _rgb(im: Image.Image) -> Image.Image:
    if im.mode in ("RGB", "RGBA"):
        return im
    if im.mode == "I" or im.mode.startswith("I;16"):
        im = _eight_bit(im)
    alpha = im.mode in ("LA", "La", "PA", "RGBa") or "transparency" in im.info
    return im.convert("RGBA" if alpha else "RGB")


def _eight_bit(im: Image.Image) -> Image.Image:
    """A 16-bit greyscale image (a 16-bit PNG) as 8-bit L, its samples scaled down by 256:
    Pillow's convert() clips them at 255 instead, and a 16-bit scan came out a white tile."""
    if im.mode not in ("I", "I;16"):  # I;16B and the like have no point()
        im = im.convert("I")
    out = im.point(lambda value: value / 256).convert("L")
    if isinstance(transparent := im.info.get("transparency"), int):
        out.info["transparency"] = transparent >> 8
    return out


def _webp(im: Image.Image) -> bytes:
    buf = io.BytesIO()
    im.save(buf, "WEBP", quality=WEBP_QUALITY)
    return buf.getvalue()


def is_whole_webp(data: bytes) -> bool:
    """`data` is a whole WebP as `_webp` writes them (core.mediatypes.is_whole_webp)."""
    return mediatypes.is_whole_webp(data[:12], len(data))


def _poster_frames(path: Path, sizes: list[int]) -> list[Image.Image]:
    """A frame ~10% into the video, or else the first frame, as the renditions show it: fixed
    as they are (core.video.encode.picture_fixes: an interlaced source deinterlaced, BT.2020
    converted to BT.709, PQ tone-mapped), its YUV read through the same matrix, upright, in
    square pixels; fitted in each of `sizes` (squares, largest first), in RGB."""
    try:
        try:
            p = probe(path)
        except BadMedia as exc:
            raise CorruptFile(str(exc)) from None
        if p.video_codec is None:
            raise CorruptFile("The file has no video track")
        try:
            images = _frame_at(path, p, POSTER_POSITION, sizes)
        except av.error.FFmpegError as exc:
            logger.debug("Seeking in %s failed (%s); using the first frame", path.name, exc)
            images = None
        if images is None:
            images = _frame_at(path, p, 0.0, sizes)
    except (av.error.FFmpegError, ValueError) as exc:
        raise CorruptFile(f"The video cannot be decoded: {exc}") from exc
    if images is None:
        raise CorruptFile("The video has no decodable frame")
    return images


def _frame_at(path: Path, p: Probe, position: float, sizes: list[int]) -> list[Image.Image] | None:
    """The first frame at or after `position` (a fraction of the duration), fitted in each of
    `sizes` (largest first)."""
    with av.open(str(path)) as container:
        stream = main_video(container)  # the film's, not a cover's
        if stream is None:
            raise CorruptFile("The file has no video track")
        stream.thread_type = "AUTO"
        base = stream.time_base
        start = float(stream.start_time * base) if stream.start_time and base else 0.0
        if container.duration:
            duration = container.duration / av.time_base
        else:
            duration = float(stream.duration * base) if stream.duration and base else 0.0
        target = start + duration * position
        if target > start and base:
            container.seek(int(target / base), stream=stream)  # lands on the keyframe before
        # Frames in flight in the decoder and the RGB picture made of one: about 4 bytes a pixel
        # of the larger of the stored and shown sizes (an anamorphic picture is made wider).
        pixels = max((stream.width or 0) * (stream.height or 0), p.width * p.height)
        with DECODE_BUDGET.hold(pixels * 4):
            # A filter of its own after the seek: bwdif makes a frame of its neighbours
            upright = Upright(stream, p)
            chosen = None
            for count, frame in enumerate(container.decode(stream)):
                chosen = _last_ready(upright(frame), target, chosen)
                if _reached(chosen, target) or count >= _MAX_DECODE_FRAMES:
                    break
            else:  # the end of the video: the frames the filters still hold
                chosen = _last_ready(upright(None), target, chosen)
            if chosen is None:
                return None
            # p's size is the upright one in square pixels (a DVD's 720x576 shown 16:9)
            image = chosen.to_image(width=p.width, height=p.height, src_colorspace=rgb_matrix(p))
            del chosen
            # Shrunk while the budget is held: the whole picture (100 MiB of an 8K frame) is
            # part of the decode's cost. Each size from the one before, the picture once.
            out: list[Image.Image] = []
            for size in sizes:
                image = image.copy() if out else image
                image.thumbnail((size, size))
                out.append(_rgb(image))
            return out


def _reached(frame: av.VideoFrame | None, target: float) -> bool:
    return frame is not None and (frame.time is None or frame.time >= target - 1e-3)


def _last_ready(
    frames: Iterator[av.VideoFrame], target: float, chosen: av.VideoFrame | None
) -> av.VideoFrame | None:
    """The first of `frames` at `target`, else the last of them (else `chosen`)."""
    for frame in frames:
        chosen = frame
        if _reached(chosen, target):
            break
    return chosen
