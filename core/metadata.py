"""The MediaInfo record and metadata extraction from Pillow images and pymediainfo reports."""

from __future__ import annotations

import ctypes
import logging
import os
import re
import struct
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import IO, Any

from PIL import ExifTags, Image, PngImagePlugin

from core.errors import CorruptFile
from core.mediatypes import FileKind, audio_only, sniff_file
from core.video import played_track

logger = logging.getLogger(__name__)

# Decompression-bomb guard: images with more pixels than this are refused before decoding.
MAX_PIXELS = 100_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow warns above this and refuses above twice this
# The largest video picture taken: the most the highest level of H.264 (6.2: 139,264
# macroblocks), HEVC, VP9 and AV1 (6.2) allows, 35,651,584 samples (8192 x 4352, DCI 8K).
# Players and hardware decoders promise nothing past it, and each decoded frame of a bigger one
# holds hundreds of MiB in the rendition worker (a 16000 x 16000 frame: 366 MiB). No side
# longer than 16,384 either: x264, the renditions' encoder, refuses a wider picture, and a
# picture whose short side is under the lowest HLS rung is encoded at its own size.
MAX_VIDEO_PIXELS = 35_651_584
MAX_VIDEO_SIDE = 16_384


def upright_size(
    width: int | None, height: int | None, rotation: int | None, pixel_aspect: object = None
) -> tuple[int, int] | None:
    """(width, height) as shown: a quarter turn (a phone's portrait photo or video, stored
    landscape with an EXIF orientation or a display matrix) swaps the stored ones, and a
    video's non-square pixels (`extra.pixel_aspect`: a DVD's 720x576 at 64:45) are shown
    wider, as the renditions are made (core.video.encode.shown_size)."""
    if not width or not height:
        return None
    if isinstance(pixel_aspect, int | float) and pixel_aspect > 0:
        width = max(1, int(round(width * pixel_aspect)))
    return (height, width) if rotation in (90, 270) else (width, height)


# EXIF orientation -> clockwise degrees to display upright; some orientations also mirror.
_ROTATION = {1: 0, 2: 0, 3: 180, 4: 180, 5: 90, 6: 90, 7: 270, 8: 270}
_MIRRORED = (2, 4, 5, 7)
_VIDEO_CODECS = {
    "AVC": "h264",
    "HEVC": "hevc",
    "VP8": "vp8",
    "VP9": "vp9",
    "AV1": "av1",
    "MPEG-4 Visual": "mpeg4",
    "MPEG Video": "mpeg2video",
    "VC-1": "vc1",
    "ProRes": "prores",
    "JPEG": "mjpeg",
    "H.263": "h263",
}
_AUDIO_CODECS = {
    "AAC": "aac",
    "Opus": "opus",
    "Vorbis": "vorbis",
    "WMA": "wma",
    "PCM": "pcm",
    "AC-3": "ac3",
    "E-AC-3": "eac3",
    "FLAC": "flac",
    "ALAC": "alac",
}


@dataclass(frozen=True)
class MediaInfo:
    """What validation learned about a file. Sizes are stored pixels; `rotation` is clockwise."""

    mime: str
    kind: str
    ext: str
    size: int
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    video_codec: str | None = None
    audio_codec: str | None = None
    frame_rate: float | None = None
    bit_rate: int | None = None
    rotation: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def display_size(self) -> tuple[int, int] | None:
        """(width, height) as shown, after rotation."""
        return upright_size(self.width, self.height, self.rotation)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@contextmanager
def open_image(source: str | Path | IO[bytes], formats: Sequence[str]) -> Iterator[Image.Image]:
    """Opens an image of `formats`; bombs and decode errors, also in the body: CorruptFile."""
    fp: IO[bytes]
    owned: IO[bytes] | None = None
    if isinstance(source, str | Path):
        fp = owned = open(source, "rb")  # noqa: SIM115
    else:
        fp = source
    try:
        with Image.open(fp, formats=list(formats)) as im:
            if im.width * im.height > MAX_PIXELS:
                raise too_many_pixels(im.width, im.height)
            yield im
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        # Pillow's own refusal (above twice the limit, or above it under an "error" warnings
        # filter) comes inside Image.open, before the image and its size are handed over: a
        # 900 MP PNG was refused without the width and height a 108 MP one is told
        logger.debug("Image refused as a decompression bomb: %s", exc)
        raise too_many_pixels(*(_declared_size(fp, formats) or (None, None))) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        # Pillow's words ("image file is truncated (0 bytes not processed)") mean nothing to
        # the person who sent the photo: they go to the log
        logger.debug("Image not decodable: %s: %s", type(exc).__name__, exc)
        raise CorruptFile("The image is damaged or cut short", reason="image_damaged") from exc
    finally:
        if owned is not None:
            owned.close()


def _declared_size(fp: IO[bytes], formats: Sequence[str]) -> tuple[int, int] | None:
    """The width and height an image's header declares, read here rather than by Pillow: its
    bomb guard (in Image.open, and inside the WebP and GIF parsers) refuses without telling the
    size. Headers only, nothing decoded. None when no reader of `formats` finds a size."""
    for name in formats:
        reader = _SIZE_READERS.get(name.upper())
        if reader is None:
            continue
        try:
            fp.seek(0)
            size = reader(fp)
        except (OSError, ValueError, struct.error) as exc:
            logger.debug("Image header not read as %s: %s", name, exc)
            continue
        if size is not None:
            return size
    return None


def _png_size(fp: IO[bytes]) -> tuple[int, int] | None:
    head = fp.read(24)
    if head[:8] != b"\x89PNG\r\n\x1a\n" or head[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", head[16:24])
    return width, height


# Start-of-frame markers (every coding process; C4, C8 and CC are other segments), and how many
# segments are skipped looking for one: a camera's EXIF, ICC and MPF segments are a handful
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_MAX_SEGMENTS = 1000


def _jpeg_size(fp: IO[bytes]) -> tuple[int, int] | None:
    """The first frame header's size (an MPO's first picture, as Pillow gives it)."""
    if fp.read(2) != b"\xff\xd8":
        return None
    for _ in range(_JPEG_MAX_SEGMENTS):
        if fp.read(1) != b"\xff":
            return None
        marker = fp.read(1)
        while marker == b"\xff":  # fill bytes
            marker = fp.read(1)
        if not marker or marker[0] in (0xD9, 0xDA):  # the end, or a scan before any frame
            return None
        if 0xD0 <= marker[0] <= 0xD7 or marker[0] == 0x01:  # markers without a length
            continue
        (length,) = struct.unpack(">H", fp.read(2))
        if marker[0] in _JPEG_FRAMES:
            _, height, width = struct.unpack(">BHH", fp.read(5))
            return width, height
        if length < 2:
            return None
        fp.seek(length - 2, os.SEEK_CUR)
    return None


def _webp_size(fp: IO[bytes]) -> tuple[int, int] | None:
    """The canvas (VP8X) or the one frame's size (VP8, VP8L), as Pillow's parser reads it."""
    head = fp.read(30)
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8X":
        little = int.from_bytes(head[24:27], "little"), int.from_bytes(head[27:30], "little")
        return little[0] + 1, little[1] + 1
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", head[26:30])
        return width & 0x3FFF, height & 0x3FFF
    return None


def _gif_size(fp: IO[bytes]) -> tuple[int, int] | None:
    """The logical screen, grown to the first frame where that frame reaches past it (Pillow
    gives the image that size)."""
    head = fp.read(13)
    if len(head) < 13 or head[:6] not in (b"GIF87a", b"GIF89a"):
        return None
    width, height, flags = struct.unpack("<HHB", head[6:11])
    if flags & 0x80:  # the global colour table
        fp.seek(3 << ((flags & 7) + 1), os.SEEK_CUR)
    while (introducer := fp.read(1)) == b"!":  # extensions before the first frame
        fp.read(1)
        while (block := fp.read(1)) and block[0]:
            fp.seek(block[0], os.SEEK_CUR)
    if introducer == b",":
        left, top, frame_width, frame_height = struct.unpack("<HHHH", fp.read(8))
        return max(width, left + frame_width), max(height, top + frame_height)
    return width, height


_SIZE_READERS: dict[str, Callable[[IO[bytes]], tuple[int, int] | None]] = {
    "PNG": _png_size,
    "JPEG": _jpeg_size,
    "WEBP": _webp_size,
    "GIF": _gif_size,
}


def too_many_pixels(
    width: int | None = None,
    height: int | None = None,
    max_pixels: int = MAX_PIXELS,
    what: str = "image",
) -> CorruptFile:
    """An image refused before decoding, as a possible decompression bomb or as one whose
    decoding alone would not fit in the decode budget (`what`: "animated image", ...; reason
    image_too_large; details: its size when known and the limit that applies to it)."""
    megapixels = f"The {what} is larger than {max_pixels // 1_000_000} megapixels"
    details: dict[str, object] = {}
    if width and height:
        megapixels += f" ({width} × {height})"
        details.update(width=width, height=height)
    details["max_pixels"] = max_pixels
    return CorruptFile(megapixels, reason="image_too_large", details=details)


def check_video_picture(width: int, height: int) -> None:
    """Refuses a video whose stored picture is past MAX_VIDEO_PIXELS or MAX_VIDEO_SIDE
    (reason video_too_large; details as an image's image_too_large, and the side limit)."""
    if width * height <= MAX_VIDEO_PIXELS and max(width, height) <= MAX_VIDEO_SIDE:
        return
    raise CorruptFile(
        f"The video's picture ({width} × {height}) is larger than MediaDesk takes: at most "
        f"{MAX_VIDEO_PIXELS:,} pixels (8192 × 4352) and {MAX_VIDEO_SIDE} on a side",
        reason="video_too_large",
        details={
            "width": width,
            "height": height,
            "max_pixels": MAX_VIDEO_PIXELS,
            "max_side": MAX_VIDEO_SIDE,
        },
    )


# What Pillow raises on an EXIF block it cannot parse: a TIFF header cut short (struct.error),
# one that is no TIFF at all (SyntaxError), a "Raw profile type exif" that is no hex (ValueError).
_EXIF_ERRORS = (
    struct.error,
    SyntaxError,
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    EOFError,
    OSError,
    ZeroDivisionError,
)


def header_exif(im: Image.Image) -> Image.Exif:
    """The EXIF (and XMP orientation) of an open image, from what its header gave, never
    decoding it: Pillow's PNG getexif() decodes the whole image to look for an eXIf chunk after
    the pixels (a 374 MiB decode of a 9,900 x 9,900 PNG, outside any budget). An eXIf after
    the pixels, rare and discouraged by the PNG spec, is not seen. An EXIF block that cannot be
    read (cut short, or not TIFF) is none: the pixels are whole and browsers show them (such a
    PNG or WebP was refused as damaged, and one whose TIFF header was cut was a 500)."""
    try:
        if isinstance(im, PngImagePlugin.PngImageFile):
            return Image.Image.getexif(im)
        return im.getexif()
    except _EXIF_ERRORS as exc:
        logger.debug("Ignoring an EXIF block that cannot be read: %s: %s", type(exc).__name__, exc)
        return Image.Exif()


def image_metadata(im: Image.Image) -> dict[str, Any]:
    """MediaInfo fields of an open (not yet decoded) image: size, rotation and `extra`."""
    exif = header_exif(im)
    orientation = exif.get(ExifTags.Base.Orientation)
    if not (isinstance(orientation, int) and 1 <= orientation <= 8):
        # 0, 9, 65535 or the text "6" turn nothing (thumbnails, the desktop, browsers): no
        # orientation, rather than an `exif_orientation` outside the 1-8 the API documents
        orientation = None
    rotation = _ROTATION.get(orientation or 1, 0)
    extra: dict[str, Any] = {"format": im.format, "mode": im.mode}
    if orientation:
        extra.update(exif_orientation=orientation, mirrored=orientation in _MIRRORED)
    # An MPO's further images (a camera's depth map, an Ultra HDR gain map) are not frames of
    # an animation: only GIF, WebP and APNG animate.
    if getattr(im, "is_animated", False) and im.format != "MPO":
        extra.update(animated=True, frames=int(getattr(im, "n_frames", 1)))
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    for name, value in (
        ("camera_make", exif.get(ExifTags.Base.Make)),
        ("camera_model", exif.get(ExifTags.Base.Model)),
    ):
        if isinstance(value, str) and value.strip("\x00 "):
            extra[name] = value.strip("\x00 ")
    taken = photo_taken_at(exif, sub)
    if taken:
        extra["taken_at"] = taken
    return {"width": im.width, "height": im.height, "rotation": rotation, "extra": extra}


# `extra.taken_at`, the capture date, is ISO 8601 like created_at: "2026-03-29T01:30:00-03:00"
# when the photo says its offset (EXIF OffsetTimeOriginal), "2026-03-29T01:30:00" (the camera's
# local time, zone unknown) when it does not, "…Z" for a video (its container's creation_time,
# which is UTC). Files catalogued before kept EXIF's own "2026:03:29 01:30:00": taken_at_iso
# reads both, and FileRecord.as_dict answers every record's in ISO form.
_DATE_TIME = re.compile(
    r"\s*(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})"
    r"(?:\.(\d+))?\s*(Z|UTC|[+-]\d{2}:?\d{2})?\s*"
)
_OFFSET = re.compile(r"\s*([+-])(\d{2}):?(\d{2})\s*")
_SUBSEC = re.compile(r"\s*(\d+)\s*")

# Where a photo's capture date is, best first: EXIF DateTimeOriginal (the shutter), then
# DateTimeDigitized (a scan's, or a camera that writes only that), then IFD0's DateTime (the
# file's last change: in-camera it is the shot, after an editor it may be later). Each has its
# own offset and sub-second tags, all three in the EXIF IFD.
_CAPTURE_TAGS = (
    (
        ExifTags.Base.DateTimeOriginal,
        ExifTags.Base.OffsetTimeOriginal,
        ExifTags.Base.SubsecTimeOriginal,
    ),
    (
        ExifTags.Base.DateTimeDigitized,
        ExifTags.Base.OffsetTimeDigitized,
        ExifTags.Base.SubsecTimeDigitized,
    ),
    (ExifTags.Base.DateTime, ExifTags.Base.OffsetTime, ExifTags.Base.SubsecTime),
)


def _zone(text: str | None) -> timezone | None:
    if not text:
        return None
    if text in ("Z", "UTC"):
        return UTC
    m = _OFFSET.fullmatch(text)
    if m is None:
        return None
    minutes = int(m[2]) * 60 + int(m[3])
    if minutes >= 24 * 60:
        return None
    return timezone(timedelta(minutes=-minutes if m[1] == "-" else minutes))


# A clock never set counts from its zero: 1 January 1970 (Unix; many cameras, some muxers) or
# 1904 (QuickTime/MP4 creation times). Its dates fall in that year, or just before it when a
# zero kept as local time was turned into UTC (1970-01-01 00:00 at +09:00 is
# 1969-12-31T15:00Z). Dates before, a scanned print's for one, are kept.
_CLOCK_ZERO_YEARS = (1904, 1970)


def _clock_never_set(when: datetime) -> bool:
    wall = when.replace(tzinfo=None)  # as written: the camera's own reading
    if not 1 < wall.year < 9999:  # .NET's DateTime.MinValue and MaxValue, written by software
        return True
    return any(
        datetime(year, 1, 1) - timedelta(days=1) <= wall < datetime(year + 1, 1, 1)
        for year in _CLOCK_ZERO_YEARS
    )


def _microseconds(digits: str | None) -> int:
    """A fraction of a second's digits ("12" of .12, EXIF SubSecTime's form) in microseconds;
    digits past the sixth are cut (no camera counts finer)."""
    return int((digits or "").ljust(6, "0")[:6] or 0)


def _parse_date_time(
    value: object, offset: object = None, subsec: object = None
) -> datetime | None:
    """A date and time as EXIF ("2026:03:29 01:30:00"), MediaInfo ("2026-03-29 04:30:00 UTC")
    or ISO 8601 write it, with the zone it carries or `offset`, and the fraction of a second it
    carries or `subsec` (EXIF SubSecTime*: a burst at 10-20 frames a second shares one second);
    None when it is no real date (cameras write "0000:00:00 00:00:00", blanks or their clock's
    zero when it was never set). The one rule for photos, videos and stored rows."""
    if not isinstance(value, str):
        return None
    m = _DATE_TIME.fullmatch(value.strip("\x00 "))
    if m is None:
        return None
    zone = (
        _zone(m[8]) if m[8] else _zone(offset.strip("\x00 ") if isinstance(offset, str) else None)
    )
    fraction = m[7]
    if fraction is None and isinstance(subsec, str):
        sub = _SUBSEC.fullmatch(subsec.strip("\x00"))
        fraction = sub[1] if sub else None
    try:
        year, month, day, hour, minute, second = (int(m[i]) for i in range(1, 7))
        when = datetime(
            year, month, day, hour, minute, second, _microseconds(fraction), tzinfo=zone
        )
    except ValueError:
        return None
    return None if _clock_never_set(when) else when


def _iso(when: datetime) -> str:
    """ISO 8601 with the fraction a camera gives (".120" for SubSecTime "12"), none without."""
    if not when.microsecond:
        return when.isoformat()
    return when.isoformat(timespec="milliseconds" if when.microsecond % 1000 == 0 else "auto")


def exif_taken_at(date_time: object, offset: object = None, subsec: object = None) -> str | None:
    """An EXIF date (and its OffsetTime*, SubSecTime*) as ISO 8601, None if it is no date."""
    when = _parse_date_time(date_time, offset, subsec)
    return _iso(when) if when else None


def photo_taken_at(ifd0: Image.Exif | dict[int, Any], sub: dict[int, Any]) -> str | None:
    """A photo's capture date (`extra.taken_at`) from its EXIF: the first of _CAPTURE_TAGS
    that is a real date, with its own offset and fraction of a second."""
    for date_tag, offset_tag, subsec_tag in _CAPTURE_TAGS:
        value = (ifd0 if date_tag == ExifTags.Base.DateTime else sub).get(date_tag)
        taken = exif_taken_at(value, sub.get(offset_tag), sub.get(subsec_tag))
        if taken:
            return taken
    return None


def taken_at_iso(value: object) -> str | None:
    """A stored `extra.taken_at` in ISO 8601: the EXIF form older rows keep is converted, an
    ISO one is kept as it is; None (no capture date, never an error on read) for anything that
    is no date, such as the "0000:00:00 00:00:00" or ":  :     :  :" that versions before
    b3c3eac stored as the camera wrote it, or a clock's zero."""
    when = _parse_date_time(value)
    if when is None:
        return None
    return value if isinstance(value, str) and "T" in value else _iso(when)


def capture_instant(taken_at: object) -> datetime | None:
    """The catalog's capture-date sort key (media_files.captured_at) of an `extra.taken_at`,
    in either stored form: the instant in UTC. A date with its offset (a phone's photo with
    OffsetTime*, a video's UTC creation_time) is converted; a camera's wall time without one
    is read in this machine's time zone. Its real zone is unknown, and the machine's is the
    best guess for a club's library: a match's DSLR shots (no offset) then sort among the
    phones' photos and the videos of the same minutes, where keeping the wall time as if it
    were UTC moved them by the zone's offset (an hour in Madrid, three in São Paulo). None: no
    capture date (created_at sorts), also for a date this machine's calendar cannot hold."""
    when = _parse_date_time(taken_at)
    if when is None:
        return None
    try:
        return when.astimezone(UTC)  # a naive datetime is read as this machine's local time
    except (OverflowError, ValueError, OSError):  # year 1 or 9999 moved past the calendar
        return None


def _video_taken_at(general: Any) -> str | None:
    """The container's creation_time (MediaInfo's encoded date, in UTC) as ISO 8601 with 'Z';
    None when absent or the format's zero (MP4 counts from 1904, some muxers write 1970)."""
    when = _parse_date_time(getattr(general, "encoded_date", None), "Z")
    if when is None:
        return None
    return _iso(when.astimezone(UTC).replace(tzinfo=None)) + "Z"


@contextmanager
def _named(path: Path, ext: str | None) -> Iterator[Path]:
    """`path`, or a symbolic link to it (in a temporary folder of its own) named
    `media.<ext>`: MediaInfo reads a name without the container's extension (an upload's
    `<id>.part`, a spool file) through more parsers, 40 ms more on a 1 GiB MP4 than the 10 ms it
    takes otherwise; and it turns the name into bytes through the C library's locale, so a name
    that is not ASCII ('.../Médias José/...') cannot be opened under LANG=C. The bytes
    themselves are read through its file mode either way (its buffer mode reports some tracks
    differently)."""
    suffix = f".{ext}" if ext else path.suffix.lower()
    if path.suffix.lower() == suffix and str(path).isascii():
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="mediadesk-mi-") as folder:
        link = Path(folder) / ("media" + (suffix if suffix.isascii() else ""))
        try:
            link.symlink_to(path.resolve())
        except OSError:  # no symbolic links here (some Windows set-ups): the slower way
            yield path
            return
        yield link


# MediaInfo folds its option names with the C library's towlower(): under a Turkish LC_CTYPE
# 'Info_Version' becomes 'ınfo_version', an option it does not know, and pymediainfo gives up
# ("Could not determine library version"). Each read runs under a C/UTF-8 locale of its own
# thread (uselocale, POSIX 2008), never the process's: setlocale would change it under every
# other thread (Qt's, the server's workers) while they run.
_LOCALE_NAMES = (b"C.UTF-8", b"C.utf8", b"en_US.UTF-8", b"UTF-8", b"C")
_ALL_MASKS = (0x1FBF, 0x3F)  # LC_ALL_MASK: glibc and musl, then macOS and the BSDs
_locale_lock = threading.Lock()
_neutral: list[tuple[Any, int | None]] = []  # (libc, locale_t) once made; None: not available


def _neutral_locale() -> tuple[Any, int | None]:
    with _locale_lock:
        if not _neutral:
            _neutral.append(_make_neutral_locale())
        return _neutral[0]


def _make_neutral_locale() -> tuple[Any, int | None]:
    if os.name != "posix":  # Windows: MediaInfo takes wide names and is not set by the locale
        return None, None
    try:
        libc = ctypes.CDLL(None)
        libc.newlocale.restype = ctypes.c_void_p
        libc.newlocale.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p]
        libc.uselocale.restype = ctypes.c_void_p
        libc.uselocale.argtypes = [ctypes.c_void_p]
    except (OSError, AttributeError) as exc:
        logger.warning("MediaInfo runs under the process's locale (no uselocale: %s)", exc)
        return None, None
    for mask in _ALL_MASKS:
        for name in _LOCALE_NAMES:
            made = libc.newlocale(mask, name, None)
            if made:
                return libc, made
    logger.warning("MediaInfo runs under the process's locale (no C locale could be made)")
    return None, None


@contextmanager
def _neutral_thread_locale() -> Iterator[None]:
    libc, neutral = _neutral_locale()
    if libc is None or neutral is None:
        yield
        return
    previous = libc.uselocale(neutral)
    try:
        yield
    finally:
        libc.uselocale(previous)


def mediainfo_version() -> str:
    """libmediainfo's version as it reads files here (its locale set as for a read);
    RuntimeError or OSError when it cannot be loaded or does not answer."""
    from pymediainfo import MediaInfo as MediaInfoReport  # as in video_metadata

    with _neutral_thread_locale():
        return MediaInfoReport._get_library()[2]


def _num(value: object) -> float | None:
    """A pymediainfo number (int, or strings like '24.000' or '2000.000000')."""
    try:
        return float(str(value).split()[0]) if value not in (None, "") else None
    except ValueError:
        return None


def _int(value: object) -> int | None:
    number = _num(value)
    return int(round(number)) if number is not None else None


def video_metadata(
    path: str | Path,
    ext: str | None = None,
    mime: str = "",
    accepted: Iterable[str] | None = None,
) -> dict[str, Any]:
    """MediaInfo fields of a video from pymediainfo; CorruptFile when nothing usable is found,
    UnsupportedType (naming `accepted`) when it holds sound only.

    `ext`, `mime`: the container's extension ("mp4") and type as sniffed from the content, for
    a file named without it.
    """
    # loaded at the first video read (~10 ms of CPU), not by every command that opens the catalog
    from pymediainfo import MediaInfo as MediaInfoReport

    try:
        with _named(Path(path), ext) as named, _neutral_thread_locale():
            report = MediaInfoReport.parse(named)
    except (RuntimeError, ValueError, SyntaxError) as exc:  # XML parse errors are SyntaxErrors
        # pymediainfo's messages name the file by its path on this computer: the log has it,
        # the client only the sentence
        logger.warning("MediaInfo could not read %s: %s", path, exc)
        raise CorruptFile("The video cannot be read (MediaInfo could not open it)") from exc
    general = report.general_tracks[0] if report.general_tracks else None
    streamed: float | None = None  # a streamed WebM's length, read from its blocks
    if general is not None and str(general.istruncated or "").lower() == "yes":
        # MediaInfo says so of every Matroska segment of unknown size too: a WebM written as a
        # stream (a browser's MediaRecorder, ffmpeg to a pipe), which is whole when it ends
        # at the end of an element
        streamed = (
            streamed_matroska_duration(Path(path))
            if general.format in ("WebM", "Matroska")
            else None
        )
        if streamed is None:
            raise CorruptFile("The video is truncated (the file ends early)")
    if not report.video_tracks:
        if report.audio_tracks:
            raise audio_only(mime, accepted)
        raise CorruptFile("The file has no video track")
    video = _shown_video(report.video_tracks)
    width, height = _int(video.width), _int(video.height)
    if not width or not height:
        raise CorruptFile("The video track has no picture size")
    audio = _played_audio(report.audio_tracks)
    duration = _num(general.duration if general else None) or _num(video.duration)
    bit_rate = _int(general.overall_bit_rate if general else None) or _int(video.bit_rate)
    if not duration and streamed:
        # a stream has no Duration element: its blocks' span, and its rate over that
        duration = streamed * 1000
        bit_rate = bit_rate or int(Path(path).stat().st_size * 8 / streamed)
    pixel_aspect = _num(video.pixel_aspect_ratio)
    if pixel_aspect is not None and abs(pixel_aspect - 1) < 0.001:
        pixel_aspect = None  # square pixels: the stored size is the shown one
    extra: dict[str, Any] = {
        "container": general.format if general else None,
        "container_profile": general.format_profile if general else None,
        "video_format": video.format,
        "video_profile": video.format_profile,
        "frame_count": _int(video.frame_count),
        "pixel_aspect": pixel_aspect,
        "taken_at": _video_taken_at(general) if general is not None else None,
    }
    if audio is not None:
        extra.update(
            audio_format=audio.format,
            audio_channels=_int(audio.channel_s),
            audio_sample_rate=_int(audio.sampling_rate),
        )
    return {
        "width": width,
        "height": height,
        "duration": duration / 1000 if duration else None,
        "video_codec": _codec(video.format, _VIDEO_CODECS),
        "audio_codec": _audio_codec(audio) if audio is not None else None,
        "frame_rate": (
            _num(video.frame_rate)
            or _num(general.frame_rate if general else None)
            or _average_rate(Path(path))
        ),
        "bit_rate": bit_rate,
        "rotation": (_int(video.rotation) or 0) % 360,
        "extra": {k: v for k, v in extra.items() if v is not None},
    }


def _average_rate(path: Path) -> float | None:
    """The frame rate FFmpeg reads from the first video stream's timestamps, when MediaInfo
    names none: it names none for an MPEG-TS whose H.264 headers allow the rate to vary (one
    written by FFmpeg or OBS, a camcorder clip re-encoded), which then showed no frame rate
    and the desktop preview stepped it at 25 frames a second whatever it was. Only opened
    (the first megabytes probed), never decoded; None when FFmpeg cannot tell either."""
    # loaded at the first such read, as pymediainfo is (~50 ms of CPU)
    import av

    try:
        with av.open(str(path)) as container:
            video = next(iter(container.streams.video), None)
            rate = video.average_rate if video is not None else None
    except (av.error.FFmpegError, OSError, ValueError):
        return None
    return round(float(rate), 3) if rate else None


# Matroska element IDs (RFC 9559) the walk of a streamed WebM reads
_MKV_SEGMENT, _MKV_CLUSTER, _MKV_INFO, _MKV_BLOCK_GROUP = 0x18538067, 0x1F43B675, 0x1549A966, 0xA0
_MKV_TIMESTAMP_SCALE, _MKV_CLUSTER_TIMESTAMP = 0x2AD7B1, 0xE7
_MKV_SIMPLE_BLOCK, _MKV_BLOCK, _MKV_BLOCK_DURATION = 0xA3, 0xA1, 0x9B
# Masters whose children are read in place; the others are stepped over whole
_MKV_OPENED = {_MKV_SEGMENT, _MKV_CLUSTER, _MKV_INFO, _MKV_BLOCK_GROUP}


def _ebml_vint(data: bytes, at: int, keep_marker: bool) -> tuple[int, int, bool] | None:
    """(value, length, unknown) of the EBML variable-size integer at `at`; None when it is cut
    off or not one. `unknown`: every value bit set (an element size "unknown", RFC 8794)."""
    if at >= len(data) or not data[at]:
        return None
    length = 9 - data[at].bit_length()
    if at + length > len(data):
        return None
    value = int.from_bytes(data[at : at + length], "big")
    bits = 7 * length
    payload = value & ((1 << bits) - 1)
    return (value if keep_marker else payload), length, payload == (1 << bits) - 1


def streamed_matroska_duration(path: Path) -> float | None:
    """The seconds a Matroska/WebM's blocks span when the file ends at the end of an element
    (whole); None when it ends inside one (cut off), or its elements cannot be followed.

    For a segment of unknown size (RFC 9559 6.2: written as a stream, so with no Duration and
    no Cues), which MediaInfo calls truncated whatever its end: only the last element tells. A
    block's end is its time plus its BlockDuration, or its track's last gap between blocks."""
    size = path.stat().st_size
    scale = 1_000_000  # ns per tick: TimestampScale's default
    cluster = 0
    track, tick = 0, 0
    last: dict[int, tuple[int | None, int]] = {}  # track: (time before the last, the last)
    end = 0
    with path.open("rb") as f:
        pos = 0
        while pos < size:
            f.seek(pos)
            head = f.read(12)
            eid = _ebml_vint(head, 0, keep_marker=True)
            if eid is None or eid[1] > 4:
                return None
            length = _ebml_vint(head, eid[1], keep_marker=False)
            if length is None:
                return None
            start = pos + eid[1] + length[1]
            if length[2]:  # of unknown size: only a stream's segment and clusters may be
                if eid[0] not in (_MKV_SEGMENT, _MKV_CLUSTER):
                    return None
                pos = start
                continue
            if start + length[0] > size:
                return None
            if eid[0] in _MKV_OPENED:
                pos = start
                continue
            f.seek(start)
            if eid[0] in (_MKV_TIMESTAMP_SCALE, _MKV_CLUSTER_TIMESTAMP, _MKV_BLOCK_DURATION):
                number = int.from_bytes(f.read(length[0])[-8:], "big") if length[0] else 0
                if eid[0] == _MKV_TIMESTAMP_SCALE:
                    scale = number or scale
                elif eid[0] == _MKV_CLUSTER_TIMESTAMP:
                    cluster = number
                else:
                    end = max(end, tick + number)
            elif eid[0] in (_MKV_SIMPLE_BLOCK, _MKV_BLOCK):
                body = f.read(min(length[0], 11))  # the track's number and the time
                held = _ebml_vint(body, 0, keep_marker=False)
                if held is None or len(body) < held[1] + 2:
                    return None
                track = held[0]
                tick = cluster + int.from_bytes(body[held[1] : held[1] + 2], "big", signed=True)
                last[track] = (last[track][1] if track in last else None, tick)
                end = max(end, tick)
            pos = start + length[0]
    for before, final in last.values():
        end = max(end, final + (final - before if before is not None else 0))
    return end * scale / 1e9


# What a reader writes in a row: the columns and the `extra` keys of image_metadata and
# video_metadata. A reprocess reads the original again and writes these (reread_changes);
# every other key of `extra` and every other column (a name, description, athlete, flags: what
# a person edits) is not the readers' and is never touched.
READ_COLUMNS = (
    "width",
    "height",
    "duration",
    "video_codec",
    "audio_codec",
    "frame_rate",
    "bit_rate",
    "rotation",
)
READ_EXTRA_KEYS = frozenset(
    {
        "format",
        "mode",
        "exif_orientation",
        "mirrored",
        "animated",
        "frames",
        "camera_make",
        "camera_model",
        "taken_at",
        "container",
        "container_profile",
        "video_format",
        "video_profile",
        "frame_count",
        "pixel_aspect",
        "audio_format",
        "audio_channels",
        "audio_sample_rate",
    }
)


def read_again(path: str | Path, file_type: str) -> dict[str, Any]:
    """The metadata today's readers find in a stored original (`file_type`: its row's
    "image" or "video"), as image_metadata and video_metadata give it, every READ_COLUMNS
    present (None when not found). Headers only: the original was validated when it was
    stored, so a photo is not decoded again. CorruptFile or UnsupportedType when it cannot be
    read now (a reprocess then keeps what the row has)."""
    media = sniff_file(path)
    if file_type == FileKind.IMAGE:
        with open_image(path, [media.pil_format or ""]) as im:
            meta = image_metadata(im)
    else:
        meta = video_metadata(path, media.ext, media.mime)
    return {name: meta.get(name) for name in READ_COLUMNS} | {"extra": meta.get("extra") or {}}


def reread_changes(
    columns: dict[str, Any], extra: dict[str, Any], fresh: dict[str, Any]
) -> dict[str, Any]:
    """What a row (its READ_COLUMNS values, its `extra`) must change to hold `fresh`
    (read_again's): the columns that differ, and `extra` when a reader's key differs, was
    added or is no longer found (an older reader's "0000:00:00" date). Keys no reader writes
    stay as they are. Empty: the row already says what the original does."""
    changes = {
        name: fresh.get(name)
        for name in READ_COLUMNS
        if name in fresh and columns.get(name) != fresh.get(name)
    }
    kept = {k: v for k, v in extra.items() if k not in READ_EXTRA_KEYS}
    merged = kept | {k: v for k, v in (fresh.get("extra") or {}).items() if k in READ_EXTRA_KEYS}
    if merged != extra:
        changes["extra"] = merged
    return changes


def _codec(fmt: str | None, names: dict[str, str]) -> str | None:
    return names.get(fmt, fmt.lower()) if fmt else None


def _shown_video(tracks: Sequence[Any]) -> Any:
    """core.video.played_track read through MediaInfo: an MP4's disabled video track says
    Default "No" and its enabled one says nothing (a Matroska's says "Yes")."""
    shown = [t for t in tracks if str(t.default or "").lower() != "no"] or list(tracks)
    return played_track(shown, lambda t: str(t.default or "").lower() == "yes")


def _played_audio(tracks: Sequence[Any]) -> Any:
    """core.video.played_track read through MediaInfo (Default "Yes")."""
    return played_track(tracks, lambda t: str(t.default or "").lower() == "yes")


def _audio_codec(audio: Any) -> str | None:
    if audio.format == "MPEG Audio":
        return {"Layer 3": "mp3", "Layer 2": "mp2"}.get(audio.format_profile, "mpeg-audio")
    return _codec(audio.format, _AUDIO_CODECS)
