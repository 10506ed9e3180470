"""An uploaded JPEG's check: its segments reach an EOI marker, and its scans decode whole.

libjpeg (Pillow's decoder) takes damaged scan data as a warning, which Pillow never reports:
it fills what it cannot decode with grey and goes on. A JPEG cut inside its scan with other
bytes after the cut (a copy broken off and padded, a disk's garbage) was accepted as a good
photo whenever libjpeg met an EOI marker in those bytes. FFmpeg's decoder with
err_detect=explode refuses a scan whose codes do not decode, or that ends before its last
block; the walk over the segments refuses a file whose first image has no EOI (cut short, or
a progressive JPEG cut between scans, which FFmpeg shows blurred). What follows the first
image's EOI is not looked at: phones and cameras append data there (an MPO's gain map or
depth map, a maker's trailer), and every viewer ignores it.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from PIL import Image

from core.images import DECODE_BUDGET, pillow_cost

logger = logging.getLogger(__name__)


class JpegDamaged(ValueError):
    """The JPEG's structure or scan data is broken (core.metadata.open_image says it as
    CorruptFile image_damaged; these words go to its debug log)."""


@dataclass(frozen=True)
class JpegLayout:
    """What the walk over a JPEG's segments found of its first image."""

    end: int  # the offset just past its EOI marker: what follows is appended data
    frame: int  # its SOF marker's code (0xC0 baseline, 0xC2 progressive, …)
    precision: int  # bits a sample


# A marker ending a scan's entropy-coded data: 0xFF followed by neither a stuffed 0x00 nor a
# restart marker (RST0-RST7), which belong to the scan
_SCAN_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_SOI, _EOI, _SOS = 0xD8, 0xD9, 0xDA
# Markers without a length: TEM and the restart markers
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})
# SOFn markers (0xC4 DHT, 0xC8 JPG and 0xCC DAC share their range and are not frames)
_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# The frames FFmpeg's decoder reads (Huffman baseline, extended and progressive) at 8 bits a
# sample, as Pillow does; any other (arithmetic coding, 12 bits) is left to Pillow's decode
_FFMPEG_FRAMES = frozenset({0xC0, 0xC1, 0xC2})


def jpeg_layout(data: bytes) -> JpegLayout:
    """The first image of the JPEG `data` (SOI, segments, scans, EOI); JpegDamaged when its
    segments are broken or it ends before its EOI. Bytes between segments are passed over,
    as libjpeg and FFmpeg do (some cameras pad there)."""
    if data[:2] != b"\xff\xd8":
        raise JpegDamaged("JPEG without its start-of-image marker")
    size = len(data)
    pos, frame, precision, scans = 2, 0, 0, 0
    while True:
        at = data.find(b"\xff", pos)
        if at < 0:
            raise JpegDamaged("JPEG file is truncated: no end-of-image marker")
        pos = at
        while pos < size and data[pos] == 0xFF:  # fill bytes before a marker
            pos += 1
        if pos >= size:
            raise JpegDamaged("JPEG file is truncated: no end-of-image marker")
        marker = data[pos]
        pos += 1
        if marker == _EOI:
            if not frame or not scans:
                raise JpegDamaged("JPEG ends before its picture (no frame or no scan)")
            return JpegLayout(end=pos, frame=frame, precision=precision)
        if marker in _STANDALONE or marker == 0x00:  # a stray FF 00: passed over, as libjpeg does
            continue
        if marker == _SOI or marker < 0xC0:
            raise JpegDamaged(f"JPEG with a misplaced or unknown marker 0xFF{marker:02X}")
        if pos + 2 > size:
            raise JpegDamaged("JPEG file is truncated inside a segment")
        length = int.from_bytes(data[pos : pos + 2], "big")
        if length < 2:
            raise JpegDamaged(f"JPEG segment 0xFF{marker:02X} with a bad length")
        if pos + length > size:
            raise JpegDamaged("JPEG file is truncated inside a segment")
        if marker in _FRAMES:
            if frame:
                raise JpegDamaged("JPEG with two frame headers")
            frame, precision = marker, data[pos + 2] if length > 2 else 0
        pos += length
        if marker == _SOS:
            if not frame:
                raise JpegDamaged("JPEG scan before its frame header")
            scans += 1
            found = _SCAN_END.search(data, pos)
            if found is None:
                raise JpegDamaged("JPEG file is truncated inside its scan data")
            pos = found.start()


def check_jpeg(path: Path, im: Image.Image, file_size: int) -> None:
    """Checks the JPEG (or MPO) at `path`, open as `im` (not loaded), decodes whole: its first
    image's segments reach an EOI (jpeg_layout) and its scans decode without an error, at
    1/8 scale (the same work over the compressed data, 1/64 of the pixels). Raises
    JpegDamaged, or Pillow's own error when FFmpeg cannot read this kind of JPEG and Pillow
    decodes it. Closes `im`'s pixels once decoded."""
    im.draft(None, (1, 1))  # the reduced decode's size, for the budget (and Pillow's decode)
    # the file's bytes and FFmpeg's copy of its first image, beside the decode itself
    with DECODE_BUDGET.hold(pillow_cost(im, file_size) + 2 * file_size):
        with open(path, "rb") as fh:
            data = fh.read()
        layout = jpeg_layout(data)
        if layout.frame in _FFMPEG_FRAMES and layout.precision == 8:
            with memoryview(data) as whole, whole[: layout.end] as first:
                decoded = _ffmpeg_decodes(first)
            if decoded:
                return
        del data
        im.load()  # Pillow's reduced decode: what FFmpeg could not judge
        size = im.size
        im.close()
    if size[0] < 1 or size[1] < 1:
        raise JpegDamaged("JPEG with no pixels")


def _ffmpeg_decodes(first: memoryview) -> bool:
    """Whether FFmpeg decoded the JPEG image `first` whole (at 1/8 scale, every error fatal);
    JpegDamaged when its data are broken; False when FFmpeg cannot judge it (a feature it
    lacks, some other failure): Pillow's decode decides then."""
    # PyAV here, not at the module's top: every `mediadesk` command imports this module
    import av

    codec = av.CodecContext.create("mjpeg", "r")
    codec.options = {"err_detect": "explode", "lowres": "3"}
    codec.thread_type = "NONE"
    try:
        # any buffer does (PyAV copies it into the packet); its stubs say bytes
        frames = codec.decode(av.Packet(cast(bytes, first)))
        frames += codec.decode(None)
    except av.error.InvalidDataError as exc:
        raise JpegDamaged(f"JPEG scan data do not decode: {exc}") from exc
    except av.error.FFmpegError as exc:
        logger.debug("FFmpeg cannot check this JPEG (Pillow decodes it instead): %s", exc)
        return False
    if not frames:
        raise JpegDamaged("JPEG with no picture FFmpeg can decode")
    return True
