"""WebP thumbnails and resized variants: images with Pillow, video poster frames with PyAV."""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol, cast

from PIL import ExifTags, Image, ImageCms, WebPImagePlugin

from core import mediatypes
from core.errors import CorruptFile, InvalidInput, UnsupportedType
from core.images import (
    BICUBIC_SUPPORT,
    DECODE_BUDGET,
    WebpLayout,
    band_rows,
    decode_webp,
    fit_cost,
    fitted,
    pillow_cost,
    poster_cost,
    reduce_factors,
    webp_fit_cost,
    webp_layout,
    webp_picture,
)
from core.mediatypes import BY_MIME, IMAGE_TYPES, FileKind, MediaType, canonical_mime
from core.metadata import header_exif, open_image

if TYPE_CHECKING:
    import av

    from core.video.encode import Probe

logger = logging.getLogger(__name__)

THUMB_SIZE = 320
# The rendering of image thumbnails and ?w= variants: one more whenever a change here makes
# them come out differently, so those made before are made again (media_files.
# thumbnail_generation, core/thumbnail_remake.py; null: before 2). 2: embedded
# colour profiles converted to sRGB (Display P3 came out dull), 16-bit grey PNGs scaled (a
# white tile), a turned photo's ladder of its shown width. 3: a 16-bit grey PNG's own grey
# colour profile applied (it was passed over).
THUMBNAIL_GENERATION = 3
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
# The longest side a WebP can have (libwebp's limit). A phone's vertical panorama (3000 x
# 20000, 60 MP) at w=2560 would be 17067 high: its encoder refused it and the variant was
# answered 400 corrupt_file "damaged or cut short"; such a variant is made narrower instead.
WEBP_MAX_SIDE = 16383
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


ImageInfo = dict[str | tuple[int, int], Any]  # an image's `info`, as Pillow types it


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
        return _fit_image(path, [media_type.pil_format or ""], lambda _turned: (size, size))
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


def variant_width(asked: int, shown: tuple[int, int] | None) -> int:
    """The width that serves a request for `asked` pixels of an image `shown` (width, height)
    as displayed: the smallest rung >= asked (the top rung above it); the image's own width
    when that rung is not narrower than it; narrower still when the picture would be taller
    than a WebP can be (WEBP_MAX_SIDE), as make_variant fits it."""
    if not 1 <= asked <= MAX_VARIANT_WIDTH:
        raise InvalidInput(f"w must be between 1 and {MAX_VARIANT_WIDTH}")
    width = next((w for w in VARIANT_WIDTHS if w >= asked), VARIANT_WIDTHS[-1])
    if not shown:
        return width
    return fitted(shown, (min(width, shown[0]), WEBP_MAX_SIDE))[0]


def make_variant(source: Path | IO[bytes] | bytes, width: int) -> bytes:
    """WebP bytes of an image `width` pixels wide as displayed (never enlarged; first frame),
    or narrower when it would be taller than WEBP_MAX_SIDE."""
    if not 1 <= width <= MAX_VARIANT_WIDTH:
        raise InvalidInput(f"The width must be between 1 and {MAX_VARIANT_WIDTH}")
    # After a quarter turn (orientations 5-8) the displayed width is the stored height.
    return _fit_image(
        io.BytesIO(source) if isinstance(source, bytes) else source,
        _IMAGE_FORMATS,
        lambda turned: (WEBP_MAX_SIDE, width) if turned else (width, WEBP_MAX_SIDE),
    )


def _media_type(media: HasMime | str) -> MediaType:
    mime = canonical_mime(media if isinstance(media, str) else media.mime)
    if mime is None:
        raise UnsupportedType(f"No thumbnails for {media!r}")
    return BY_MIME[mime]


def _fit_image(
    source: Path | IO[bytes], formats: list[str], box_of: Callable[[bool], tuple[int, int]]
) -> bytes:
    """WebP bytes of the image in `source` (its first frame) fitted in box_of(turned) as
    stored (`turned`: its EXIF orientation is a quarter turn), upright, in sRGB, RGB or RGBA.
    Everything from the decode to the WebP runs under the decode budget, at its cost."""
    with open_image(source, formats) as im:
        orientation = header_exif(im).get(ExifTags.Base.Orientation)
        target = fitted(im.size, box_of(orientation in (5, 6, 7, 8)))
        layout = None
        if im.format == "WEBP":  # Pillow has read it whole: the source is free to read again
            with _opened(source) as fp:
                layout = webp_layout(fp)
        if layout is None or layout.animated:
            _keep_canvas_transparency(im)
            return _fit_pillow(im, target, _file_size(source), orientation)
        size, info = im.size, dict(im.info)
    # A still WebP, decoded by FFmpeg once Pillow's parser (and its copy of the file) is gone
    with _opened(source) as fp:
        return _fit_webp(fp, layout, size, info, target, orientation)


def _keep_canvas_transparency(im: Image.Image) -> None:
    """An animated WebP's canvas is transparent where its first frame does not cover it, as
    browsers and the desktop's preview show it, even when the header's transparency flag is off
    (libwebp leaves it off when every frame's own pixels are opaque: a small first frame on an
    empty canvas, as Pillow and other encoders write stickers). Pillow then reads the file as RGB
    and the thumbnail was black there; libwebp composes the canvas as RGBA either way, so it is
    read as RGBA (an opaque first frame stays opaque: its WebP gets no alpha)."""
    if isinstance(im, WebPImagePlugin.WebPImageFile) and im.rawmode == "RGBX":
        im.rawmode = "RGBA"
        im._mode = "RGBA"


@contextmanager
def _opened(source: Path | IO[bytes]) -> Iterator[IO[bytes]]:
    if isinstance(source, str | Path):
        with open(source, "rb") as fp:
            yield fp
    else:
        yield source


def _file_size(source: Path | IO[bytes]) -> int:
    if isinstance(source, str | Path):
        return Path(source).stat().st_size
    at = source.tell()
    try:
        return source.seek(0, io.SEEK_END)
    finally:
        source.seek(at)


def _fit_pillow(
    im: Image.Image, target: tuple[int, int], file_size: int, orientation: object
) -> bytes:
    # The draft thumbnail() itself asks for (a JPEG decodes at 1/2 to 1/8 scale, not below
    # twice the target), made first so the decode's cost is known before it is admitted.
    im.draft(None, (target[0] * 2, target[1] * 2))
    alpha = im.mode in ("RGBA", "LA", "PA") or "transparency" in im.info
    info = dict(im.info)
    with DECODE_BUDGET.hold(fit_cost(pillow_cost(im, file_size), im.size, target, alpha)):
        return _finish(_fit(im, target), info, orientation)


def _fit_webp(
    fp: IO[bytes],
    layout: WebpLayout,
    size: tuple[int, int],
    info: ImageInfo,
    target: tuple[int, int],
    orientation: object,
) -> bytes:
    file_size = fp.seek(0, io.SEEK_END)
    with DECODE_BUDGET.hold(webp_fit_cost(layout, size, file_size, target)):
        if layout.alpha:  # RGBA, fitted premultiplied as Pillow fits it
            picture = decode_webp(fp, layout, size)
            assert picture is not None
            return _finish(_fit(picture, target), info, orientation)
        scaled = webp_picture(size, target)
        # not scaled: its chroma upsampled bilinearly, as libwebp's "fancy" upsampling
        interpolation = "BILINEAR" if scaled == size else "BICUBIC" if scaled == target else "AREA"
        picture = decode_webp(fp, layout, scaled, interpolation)
        assert picture is not None
        if picture.size == target:
            return _finish(picture, info, orientation)
        # swscale's area average for reduce(), then Pillow's BICUBIC the rest of the way
        fx, fy = reduce_factors(size, target)
        return _finish(_fit(picture, target, (size[0] / fx, size[1] / fy)), info, orientation)


def _finish(im: Image.Image, info: ImageInfo, orientation: object) -> bytes:
    """The fitted image in sRGB (on its few pixels: ~1 ms for a thumbnail), upright as
    `orientation` (header_exif's reading) says, as WebP; one copy of it alive at a time beside
    the encoder (fit_cost). The orientation is not read again from `info`: exif_transpose()
    parses the EXIF block anew, and one header_exif passed over as damaged raised there."""
    im.info = info  # the colour profile, a palette's transparency
    icc = info.get("icc_profile")
    if isinstance(icc, bytes) and icc:
        im = to_srgb(im, icc)
    turn = _UPRIGHT.get(orientation) if isinstance(orientation, int) else None
    if turn is not None:
        im = im.transpose(turn)
    im = _rgb(im)
    return _webp(im)


# EXIF orientation -> the transpose that shows the stored picture upright (exif_transpose's)
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _fit(
    im: Image.Image, target: tuple[int, int], extent: tuple[float, float] | None = None
) -> Image.Image:
    """`im` (its `extent`, when not all of it) fitted in `target` as thumbnail() fits it:
    reduced by whole factors (a box average), then BICUBIC; a band of rows at a time, each
    converted to a mode Pillow resizes (RGB, RGBA, L, CMYK) on its own, and the decode closed
    once it is no longer read: Pillow converts, premultiplies (RGBA) and resizes whole images
    through copies as large as the decode (a palette or RGBA photo was held three times)."""
    if im.size == target and extent is None:
        return _resizable(im)
    width, height = extent or im.size
    fx, fy = reduce_factors((math.ceil(width), math.ceil(height)), target)
    if fx > 1 or fy > 1:
        reduced = _reduce_in_bands(im, (fx, fy))
        im.close()  # the decode goes before the resize
        im, width, height = reduced, width / fx, height / fy
    out = _resize_in_bands(im, target, (width, height))
    im.close()
    return out


def _resizable(im: Image.Image) -> Image.Image:
    if im.mode in _RESIZABLE_MODES:
        return im
    if (im.mode == "I" or im.mode.startswith("I;16")) and "transparency" not in im.info:
        # 8-bit grey, which to_srgb converts from a grey colour profile: made RGB here, a
        # 16-bit grey PNG's profile was passed over and its thumbnail came out darker than
        # the desktop's preview (a transparent grey value keeps the RGB way: it is exact there)
        return _eight_bit(im)
    return _rgb(im)


def _rows(im: Image.Image, top: int, bottom: int) -> Image.Image:
    """Rows `top` to `bottom` of `im`: itself when that is all of it (no copy)."""
    if top == 0 and bottom >= im.height:
        return im
    return im.crop((0, top, im.width, bottom))


def _reduce_in_bands(im: Image.Image, factors: tuple[int, int]) -> Image.Image:
    """`im` reduced by `factors` (a box average, as reduce()), a band of rows at a time: the
    bands start at multiples of the vertical factor, so they average the same boxes."""
    fx, fy = factors
    width, height = im.size
    step = band_rows(width, fy)
    out: Image.Image | None = None
    for top in range(0, height, step):
        band = _resizable(_rows(im, top, min(top + step, height)))
        part = band.reduce(factors)
        if out is None:
            out = Image.new(part.mode, (-(-width // fx), -(-height // fy)))
        out.paste(part, (0, top // fy))
    assert out is not None
    return out


def _resize_in_bands(
    im: Image.Image, target: tuple[int, int], extent: tuple[float, float]
) -> Image.Image:
    """The `extent` of `im` (from its top left) resized to `target` (BICUBIC), a band of output
    rows at a time, each from the rows its filter reaches: the weights of a whole resize,
    without its copies."""
    width, height = im.size
    scale = extent[1] / target[1]
    reach = BICUBIC_SUPPORT * max(scale, 1.0) + 1  # source rows a filter reaches past its band
    rows = max(1, int(band_rows(width) / scale))
    out: Image.Image | None = None
    for first in range(0, target[1], rows):
        last = min(first + rows, target[1])
        top, bottom = first * scale, last * scale
        crop_top = max(0, math.floor(top - reach))
        crop_bottom = min(height, math.ceil(bottom + reach))
        band = _resizable(_rows(im, crop_top, crop_bottom))
        box = (0.0, top - crop_top, extent[0], bottom - crop_top)
        part = band.resize((target[0], last - first), Image.Resampling.BICUBIC, box=box)
        if out is None:
            out = Image.new(part.mode, target)
        out.paste(part, (0, first))
    assert out is not None
    return out


def to_srgb(im: Image.Image, icc: bytes) -> Image.Image:
    """`im` converted from its embedded profile to sRGB, untagged like every WebP we make (a
    browser, Qt and our clients read untagged as sRGB). Without it an Adobe RGB, ProPhoto or
    Display P3 photo (every iPhone photo) came out dull: its numbers were shown as sRGB. A
    profile that does not open, or does not fit the mode, leaves `im` as it was. The desktop
    preview converts a CMYK photo here too, so that it shows what the thumbnail shows."""
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
    # The source's info (a grey picture's transparent value) without its profile, which
    # describes the source's numbers, not these.
    out.info = {key: value for key, value in im.info.items() if key != "icc_profile"}
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
    # PyAV and the encoder's helpers (~50 ms of CPU) load with the first video read: every
    # command opens the library, which imports this module for its photos
    import av

    from core.video.encode import BadMedia, probe

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
    import av  # as in _poster_frames

    from core.video.encode import Upright, main_video, rgb_matrix

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
        # The larger of the stored and shown sizes (an anamorphic picture is made wider)
        pixels = max((stream.width or 0) * (stream.height or 0), p.width * p.height)
        with DECODE_BUDGET.hold(poster_cost(pixels, POSTER_WIDTH)):
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
            # p's size is the upright one in square pixels (a DVD's 720x576 shown 16:9), in
            # RGBX mapped from the frame swscale makes: to_image() held it four times (its
            # RGB frame, a bytearray, bytes and the image: 450 MiB of an 8K frame)
            picture = chosen.reformat(
                width=p.width, height=p.height, format="rgb0", src_colorspace=rgb_matrix(p)
            )
            del chosen
            plane = picture.planes[0]
            image = Image.frombuffer(
                "RGBX", (p.width, p.height), cast(bytes, plane), "raw", "RGBX", plane.line_size, 1
            )
            del picture, plane
            # Shrunk while the budget is held: the whole picture (136 MiB of an 8K frame) is
            # part of the decode's cost. Each size from the one before, the picture once.
            out: list[Image.Image] = []
            for size in sizes:
                source = out[-1].copy() if out else image
                out.append(_rgb(_fit(source, fitted(source.size, (size, size)))))
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
