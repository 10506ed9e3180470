"""The process-wide budget of decoded image memory, and what each decode really holds.

A small compressed image can decode to hundreds of MiB: a 380 KB PNG of 9,900 x 9,900 RGBA
pixels (under the MAX_PIXELS bomb limit, so accepted) is 374 MiB decoded, and validation,
thumbnails, posters and `?w=` variants of several uploads at once (MEDIADESK_UPLOAD_BODIES
bodies in parallel) exhausted the server's memory. Every full decode goes through
DECODE_BUDGET: decodes run together while the sum of their costs stays under the budget; the
others wait in their worker threads (never on an event loop). An image costing more than the
whole budget is still decoded, alone: the budget only orders it, never refuses it (the kinds
that would cost more than all of it are refused at upload instead: refuse_over_budget).

A decode's cost is what it really holds at its peak, counted here and nowhere else: Pillow
keeps RGB in 4 bytes a pixel (the budget used to count 3), its WebP reader held four copies of
the picture (libwebp's two canvases, the frame as bytes, the image: 1,465 MiB for a 16000 x
6000 photo counted as 275), a progressive JPEG keeps its coefficients whole, and the resize
copies come on top. Still WebPs are decoded by FFmpeg instead (decode_webp), and fitting an
image in a box works a band of rows at a time, so a decode costs its pixels and little more.
"""

from __future__ import annotations

import ctypes
import math
import os
import sys
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, cast

from PIL import Image

from core.errors import CorruptFile
from core.metadata import too_many_pixels

MiB = 1024 * 1024
DEFAULT_DECODE_BUDGET = 512 * MiB  # bytes of decoded pixels in flight in one process

# Pillow keeps a big image in blocks (16 MiB by default, PILLOW_BLOCK_SIZE); glibc serves blocks
# under its mmap threshold from heaps that keep freed memory, so decodes admitted one after
# another in different worker threads still added up (809 MiB for two 374 MiB PNGs in turn).
# Blocks of 64 MiB are mapped and unmapped: a finished decode's memory goes back.
Image.core.set_block_size(64 * MiB)
# FFmpeg's frames, the bytes of a file read whole, Pillow's smaller images: glibc's threshold
# rises to the largest block freed (up to 32 MiB), after which each worker thread's heap kept
# its last decode's buffers (4 threads at once held 52 MiB for a 37 MiB budget, 21 with this).
# From 4 MiB every block is mapped and unmapped; an administrator's own setting stays.
_MMAP_THRESHOLD = 4 * MiB


def _map_large_blocks() -> None:
    if not sys.platform.startswith("linux") or "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # a C library without it
        return
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt(-3, _MMAP_THRESHOLD)  # M_MMAP_THRESHOLD: glibc's and musl's (a no-op there)


_map_large_blocks()

# The source rows a fit works on at once (a crop, its RGB copy, its premultiplied copy): the
# overhead of a decode beyond its pixels, whatever the image's size.
BAND_BYTES = 4 * MiB
# Per canvas pixel, an animation's frame as Pillow decodes it: a WebP's libwebp keeps two
# canvases, hands the frame over as bytes and Pillow copies it into the image (4 x 4 bytes); a
# GIF's frame after the first is RGB, with the frame before it, the frame's own indices and
# what its disposal restores (measured 13, tests/test_decode_memory.py).
ANIMATED_BYTES = 16
# Per pixel of a WebP made (Pillow's encoder, libwebp at its default method 4): the lossy
# encoder's tokens and analysis (18 measured, for noise; 3 for a smooth photo), and with
# transparency the lossless encoder of its alpha plane on top (39 for noise).
ENCODE_BYTES = 20
ENCODE_ALPHA_BYTES = 40
# BICUBIC's support (Pillow's, in source pixels at scale 1), and thumbnail()'s reducing gap.
BICUBIC_SUPPORT = 2.0
_REDUCING_GAP = 2.0


def pixel_bytes(mode: str) -> int:
    """Bytes a pixel of `mode` takes in Pillow's memory: 1 for 1/L/P, 2 for 16-bit grey, 4 for
    every other mode (RGB is stored as RGBX, LA and PA in 4 bytes too)."""
    if mode in ("1", "L", "P"):
        return 1
    if mode.startswith("I;16"):
        return 2
    return 4


def fitted(size: tuple[int, int], box: tuple[int, int]) -> tuple[int, int]:
    """`size` fitted in `box` keeping its shape, never enlarged, rounded as Pillow's
    thumbnail() rounds it (so a 640 x 480 photo in 80 x 10**6 is 80 x 60, as always)."""
    width, height = size
    x, y = box
    if x >= width and y >= height:
        return size
    aspect = width / height
    if x / y >= aspect:
        candidates = (math.floor(y * aspect), math.ceil(y * aspect))
        x = max(min(candidates, key=lambda n: abs(aspect - n / y)), 1)
    else:
        candidates = (math.floor(x / aspect), math.ceil(x / aspect))
        y = max(min(candidates, key=lambda n: 0 if n == 0 else abs(aspect - x / n)), 1)
    return x, y


def reduce_factors(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int]:
    """The integer factors thumbnail() reduces by (a box average) before resampling the rest of
    the way, at least its reducing gap of 2: 1 on a side not reduced."""
    return (
        int(size[0] / target[0] / _REDUCING_GAP) or 1,
        int(size[1] / target[1] / _REDUCING_GAP) or 1,
    )


def band_rows(width: int, step: int = 1) -> int:
    """Rows of a `width`-wide image in a band of about BAND_BYTES, a multiple of `step`."""
    rows = max(1, BAND_BYTES // max(1, width * 4))
    return step * max(1, rows // step)


@dataclass(frozen=True)
class WebpLayout:
    """What a WebP's chunks say of it, read without decoding."""

    lossless: bool
    alpha: bool
    animated: bool


_WEBP_MAX_CHUNKS = 64  # VP8X, ICCP, ANIM... come before the picture; a handful in practice
# FFmpeg's own, whatever the picture: its decoder's context and row buffers (5-6 MiB measured)
_FFMPEG_FIXED = 8 * MiB


def webp_layout(fp: IO[bytes]) -> WebpLayout | None:
    """The layout of the WebP in `fp` from its chunk headers (from its start; the position is
    left anywhere); None when they cannot be read (the decoder then says what is wrong)."""
    fp.seek(0)
    head = fp.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    alpha = animated = False
    for _ in range(_WEBP_MAX_CHUNKS):
        header = fp.read(8)
        if len(header) < 8:
            return None
        fourcc, size = header[:4], int.from_bytes(header[4:], "little")
        if fourcc in (b"VP8 ", b"VP8L"):
            body = fp.read(5)
            if fourcc == b"VP8L" and len(body) == 5:  # the 'alpha is used' bit of its header
                alpha = alpha or bool(body[4] & 0x10)
            return WebpLayout(lossless=fourcc == b"VP8L", alpha=alpha, animated=animated)
        skip = size + (size & 1)  # chunks are padded to an even size
        if fourcc == b"VP8X":
            flags = fp.read(1)
            alpha, animated = bool(flags and flags[0] & 0x10), bool(flags and flags[0] & 0x02)
            skip -= len(flags)
        elif fourcc in (b"ANIM", b"ANMF"):
            return WebpLayout(lossless=False, alpha=alpha, animated=True)
        fp.seek(skip, 1)
    return None


def webp_pixel_bytes(layout: WebpLayout, rgba: bool) -> float:
    """Bytes per pixel a WebP's decode holds at its peak: FFmpeg's frame (YUV 4:2:0 of a lossy
    one, 1.5; with its alpha plane, 2.5, while the alpha, itself compressed losslessly, is
    decoded through an ARGB picture, 4 more; ARGB of a lossless one, 4), and when `rgba` the
    RGBA copy a picture with transparency is fitted from. An animation is Pillow's."""
    if layout.animated:
        return ANIMATED_BYTES
    if not layout.alpha:
        return 4 if layout.lossless else 1.5
    if layout.lossless:
        return 8 if rgba else 4
    return 6.5


def is_animation(im: Image.Image) -> bool:
    """An animated GIF, WebP or APNG: an MPO's further pictures (a camera's depth map, an
    Ultra HDR gain map) are no frames of an animation (core.metadata.image_metadata alike)."""
    return bool(getattr(im, "is_animated", False)) and im.format != "MPO"


def pillow_cost(im: Image.Image, file_size: int = 0, last_frame: bool = False) -> int:
    """Bytes Pillow holds decoding `im` (open, not loaded, at its drafted size): its pixels; an
    animation's last frame (seeking composes every frame before it) or a WebP's at
    ANIMATED_BYTES, a WebP's file (`file_size`) twice more (read whole, and libwebp's copy);
    a progressive JPEG's coefficients, kept whole at the stored size whatever the draft (2
    bytes a sample: 300 MiB for 100 MP in 4:2:0)."""
    width, height = im.size
    if im.format == "WEBP":
        return width * height * ANIMATED_BYTES + 2 * file_size
    if last_frame and is_animation(im):
        return width * height * ANIMATED_BYTES
    cost = width * height * pixel_bytes(im.mode)
    if im.format in ("JPEG", "MPO") and im.info.get("progressive"):
        config = getattr(im, "decoderconfig", None)
        scale = config[0] if config else 1
        layers = getattr(im, "layer", None) or [(0, 1, 1, 0)] * len(im.getbands())
        h_max = max(layer[1] for layer in layers) or 1
        v_max = max(layer[2] for layer in layers) or 1
        for layer in layers:
            columns = math.ceil(width * scale * layer[1] / h_max / 8) * 8
            rows = math.ceil(height * scale * layer[2] / v_max / 8) * 8
            cost += columns * rows * 2
    return cost


def fit_cost(
    decoded: int,
    size: tuple[int, int],
    target: tuple[int, int],
    alpha: bool,
    extent: tuple[float, float] | None = None,
) -> int:
    """Bytes held at the peak of fitting a decoded image (`decoded` bytes, `size` pixels; its
    `extent` of them, when not all) in `target` and making its WebP (thumbnails._fit and
    _finish), `decoded` included. Reduced by whole factors a band at a time (the reduced image,
    4 bytes a pixel), the decode dropped, resampled a band at a time; the bands themselves (a
    crop, its RGB and premultiplied copies); the output and a turned copy of it; then the
    encoder, the output alone left beside it."""
    out_pixels = target[0] * target[1]
    out = out_pixels * 4
    encode = out + out_pixels * (ENCODE_ALPHA_BYTES if alpha else ENCODE_BYTES)
    if size == target and extent is None:  # not resized: the decode is the output
        return decoded + encode
    width, height = size
    base = extent or size
    fx, fy = reduce_factors((math.ceil(base[0]), math.ceil(base[1])), target)
    stages = [encode]
    if fx > 1 or fy > 1:
        reduced_size = (-(-width // fx), -(-height // fy))
        reduced = reduced_size[0] * reduced_size[1] * 4
        rows = min(band_rows(width, fy), height)
        stages.append(decoded + reduced + rows * width * 4 * _band_copies(rows, height))
        decoded, (width, height) = reduced, reduced_size
        base = (base[0] / fx, base[1] / fy)
    scale = base[1] / target[1]
    out_rows = min(max(1, int(band_rows(width) / scale)), target[1])
    reach = BICUBIC_SUPPORT * max(scale, 1.0) + 1
    crop_rows = min(math.ceil(out_rows * scale + 2 * reach) + 1, height)
    bands = crop_rows * width * 4 * _band_copies(crop_rows, height) + target[0] * out_rows * 4 * 2
    stages.append(decoded + out + bands)
    return max(stages)


def _band_copies(rows: int, height: int) -> int:
    """Copies of a band of `rows` alive at once, at 4 bytes a pixel: the crop (none when the
    band is the whole image), its conversion (a 16-bit one goes through 32-bit, then 8-bit),
    Pillow's premultiplied copy of an RGBA one."""
    return 3 if rows >= height else 4


# The reduction from which swscale's area average hands a still WebP over to Pillow's BICUBIC
# (as reduce() hands over to it in thumbnail()); under it swscale's own BICUBIC scales it
# straight to the target: the intermediate picture of 16000 x 6000 fitted in 3840 would be
# 8000 x 3000, 160 MiB.
_WEBP_AREA_FROM = 4


def webp_picture(size: tuple[int, int], target: tuple[int, int]) -> tuple[int, int]:
    """The size decode_webp scales a still WebP without transparency to when it is fitted in
    `target`: the target itself, or reduced by thumbnail()'s whole factors when they are
    large (the rest of the way is Pillow's)."""
    fx, fy = reduce_factors(size, target)
    if max(fx, fy) < _WEBP_AREA_FROM:
        return target
    return -(-size[0] // fx), -(-size[1] // fy)


def webp_fit_cost(
    layout: WebpLayout, size: tuple[int, int], file_size: int, target: tuple[int, int]
) -> int:
    """fit_cost of a still WebP decoded by decode_webp: FFmpeg's frame and its packet (the
    whole file, and the parser's copy of it) beside the picture it hands over, scaled (RGB:
    swscale's, 3 bytes a pixel, and Pillow's copy, 4) or whole (RGBA, transparency); then
    that picture fitted as any decoded image."""
    pixels = size[0] * size[1]
    if layout.alpha:
        decode = int(pixels * webp_pixel_bytes(layout, rgba=True)) + 2 * file_size
        return _FFMPEG_FIXED + max(decode, fit_cost(pixels * 4, size, target, True))
    picture = webp_picture(size, target)
    decode = int(pixels * webp_pixel_bytes(layout, rgba=False)) + 2 * file_size
    decode += picture[0] * picture[1] * 7
    fx, fy = reduce_factors(size, target)
    extent = None if picture == target else (size[0] / fx, size[1] / fy)
    fit = fit_cost(picture[0] * picture[1] * 4, picture, target, False, extent)
    return _FFMPEG_FIXED + max(decode, fit)


def webp_decode_cost(layout: WebpLayout, size: tuple[int, int], file_size: int) -> int:
    """What decode_webp holds decoding a still WebP without scaling it (an upload's check)."""
    pixels = size[0] * size[1]
    return _FFMPEG_FIXED + int(pixels * webp_pixel_bytes(layout, rgba=False)) + 2 * file_size


# Per pixel of a video's picture, what making its poster holds beside the fit: the decoder's
# frames in flight, YUV 4:2:0 (a 4K H.264 clip with B-frames and 4 references held 140 MiB,
# 17 a pixel, decoding with 3 frame threads; more threads, more frames), the filters' few
# (a deinterlacer's neighbours), and the RGBX picture made of the chosen frame (4).
POSTER_BYTES = 22


def poster_cost(pixels: int, largest: int) -> int:
    """What core.thumbnails makes a video's posters with (the largest fitted in `largest`
    square), for a picture of `pixels`."""
    return pixels * POSTER_BYTES + largest * largest * (4 + ENCODE_BYTES)


# Refused at upload: the kinds of image whose decoding alone needs more than the default budget
# well under MAX_PIXELS (an image of them over the limit below would be decoded past it, alone).
# An animation (GIF, WebP, APNG) at ANIMATED_BYTES: at most 33,554,432 pixels (8192 x 4096); a
# WebP with transparency at its lossless, RGBA-fitted worst (8): at most 67,108,864 (8192 x
# 8192). Every other image up to MAX_PIXELS costs at most 4 bytes a pixel plus its bands
# (a progressive JPEG's coefficients aside: counted, and decoded alone past the budget).
MAX_ANIMATED_PIXELS = DEFAULT_DECODE_BUDGET // ANIMATED_BYTES
MAX_WEBP_ALPHA_PIXELS = int(
    DEFAULT_DECODE_BUDGET // webp_pixel_bytes(WebpLayout(True, True, False), rgba=True)
)


# An animation's frames times its canvas: what checking it costs. Its last frame is decoded at
# upload (a cut file raises there), and reaching it composes every frame before it onto the
# whole canvas: ~400 million pixels a second of one core here, so 2**30 is ~3 s. A 10 s 1080p
# clip at 25 frames a second is half of it. Unbounded, a 23 KB GIF of 1,000 one-pixel frames
# on a 4096 x 4096 canvas held a core for 53 s (a 2 MB one of 100,000 frames, an hour) and a
# quarter of the decode budget, stalling every other upload and thumbnail behind it.
MAX_ANIMATION_FRAME_PIXELS = 2**30


def refuse_over_budget(im: Image.Image, layout: WebpLayout | None) -> None:
    """CorruptFile image_too_large (core.metadata.too_many_pixels, details.max_pixels the
    kind's limit) for an animation above MAX_ANIMATED_PIXELS or a WebP with transparency
    (`layout`: webp_layout's) above MAX_WEBP_ALPHA_PIXELS; CorruptFile animation_too_long for
    an animation of more frames than MAX_ANIMATION_FRAME_PIXELS lets its canvas have."""
    pixels = im.width * im.height
    if is_animation(im):
        if pixels > MAX_ANIMATED_PIXELS:
            raise too_many_pixels(im.width, im.height, MAX_ANIMATED_PIXELS, "animated image")
        frames = int(getattr(im, "n_frames", 1))  # a parse of the frames' headers, no decode
        if frames * pixels > MAX_ANIMATION_FRAME_PIXELS:
            raise CorruptFile(
                f"The animation has {frames:,} frames of {im.width} × {im.height}: more than "
                f"MediaDesk checks (frames × width × height at most "
                f"{MAX_ANIMATION_FRAME_PIXELS:,}, as {MAX_ANIMATION_FRAME_PIXELS // pixels:,} "
                "frames of this size)",
                reason="animation_too_long",
                details={
                    "frames": frames,
                    "width": im.width,
                    "height": im.height,
                    "max_frame_pixels": MAX_ANIMATION_FRAME_PIXELS,
                },
            )
    elif layout is not None and layout.alpha and pixels > MAX_WEBP_ALPHA_PIXELS:
        raise too_many_pixels(
            im.width, im.height, MAX_WEBP_ALPHA_PIXELS, "WebP image with transparency"
        )


class DecodeBudget:
    """A gate admitting decodes while the sum of their decoded bytes stays within `budget`.

    First come, first admitted: a big decode waiting at the head of the line is not overtaken
    by a stream of small ones (it would wait for ever behind them). `in_flight`, `peak` and
    `waiting` are its public state, for logs and tests.
    """

    def __init__(self, budget: int = DEFAULT_DECODE_BUDGET) -> None:
        self._cond = threading.Condition()
        self._budget = budget
        self._line: deque[object] = deque()
        self._in_flight = 0
        self._peak = 0

    @property
    def budget(self) -> int:
        return self._budget

    @budget.setter
    def budget(self, value: int) -> None:
        if value < 1:
            raise ValueError("The decode budget must be positive")
        with self._cond:
            self._budget = value
            self._cond.notify_all()

    @property
    def in_flight(self) -> int:
        """Decoded bytes admitted and not yet released."""
        with self._cond:
            return self._in_flight

    @property
    def waiting(self) -> int:
        """Decodes waiting for room."""
        with self._cond:
            return len(self._line)

    @property
    def peak(self) -> int:
        """The most decoded bytes ever in flight at once (since the last reset_peak)."""
        with self._cond:
            return self._peak

    def reset_peak(self) -> None:
        with self._cond:
            self._peak = self._in_flight

    @contextmanager
    def hold(self, cost: int) -> Iterator[None]:
        """Waits until `cost` bytes fit (or nothing else is in flight), holds them while the
        block runs. Not reentrant: a thread holding room must not ask for more."""
        cost = max(0, int(cost))
        ticket = object()
        with self._cond:
            self._line.append(ticket)
            try:
                while not (
                    self._line[0] is ticket
                    and (self._in_flight == 0 or self._in_flight + cost <= self._budget)
                ):
                    self._cond.wait()
            finally:
                self._line.remove(ticket)
                self._cond.notify_all()  # the next in line may fit too
            self._in_flight += cost
            self._peak = max(self._peak, self._in_flight)
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= cost
                self._cond.notify_all()


DECODE_BUDGET = DecodeBudget()


def decode_webp(
    fp: IO[bytes],
    layout: WebpLayout,
    size: tuple[int, int] | None = None,
    interpolation: str = "AREA",
) -> Image.Image | None:
    """A still WebP (from the start of `fp`) decoded by FFmpeg's WebP decoder, which holds a
    lossy one as YUV 4:2:0 (1.5 bytes a pixel, where Pillow's reader held 16) and scales it to
    `size` straight from there (`interpolation`: swscale's AREA or BICUBIC). Without `size` it
    is only decoded (an upload's check), None; a picture with transparency is given whole as
    RGBA, for the caller to fit premultiplied as Pillow does (swscale would bleed the colour of
    transparent pixels into the edges). The caller holds the budget (webp_fit_cost,
    webp_decode_cost). CorruptFile (image_damaged) when FFmpeg cannot decode it."""
    # PyAV here, not at the module's top: every `mediadesk` command imports this module, and
    # PyAV (with FFmpeg's libraries) cost each start ~50 ms of CPU for the few that decode
    import av
    from av.video.reformatter import Interpolation

    # swscale's YUV to RGB rounds down and takes chroma at half width by default: a lossy
    # WebP's grey 128 came out 126 once scaled. With these its colours are libwebp's, exactly.
    exact = Interpolation.ACCURATE_RND | Interpolation.FULL_CHR_H_INT
    fp.seek(0)
    try:
        with av.open(fp, "r", format="webp_pipe") as container:
            stream = container.streams.video[0]
            stream.thread_type = "SLICE"  # frame threads would each hold a frame
            frame = next(container.decode(stream), None)
            if frame is None:
                raise CorruptFile("The image is damaged or cut short", reason="image_damaged")
            if size is None:
                return None
            if layout.alpha:  # its chroma upsampled bilinearly, as libwebp's "fancy" one
                bilinear = Interpolation.BILINEAR | exact
                picture = frame.reformat(format="rgba", interpolation=bilinear)
            else:
                picture = frame.reformat(
                    width=size[0],
                    height=size[1],
                    format="rgb24",
                    interpolation=Interpolation[interpolation] | exact,
                )
            del frame  # the decoded frame goes with the container, before the caller goes on
    except (av.error.FFmpegError, ValueError) as exc:
        raise CorruptFile("The image is damaged or cut short", reason="image_damaged") from exc
    plane = picture.planes[0]
    pixels = cast(bytes, plane)  # its buffer: RGBA is mapped, not copied (the image keeps it)
    mode = "RGBA" if layout.alpha else "RGB"
    return Image.frombuffer(
        mode, (plane.width, plane.height), pixels, "raw", mode, plane.line_size, 1
    )
