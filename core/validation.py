"""Content validation of a received file: size, sniffed type, and a full decode or parse."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from PIL import Image

from core.errors import CorruptFile, EmptyFile, TooLarge
from core.images import (
    DECODE_BUDGET,
    WebpLayout,
    decode_webp,
    pillow_cost,
    refuse_over_budget,
    webp_decode_cost,
    webp_layout,
)
from core.mediatypes import FileKind, MediaType, check_kind, require_kind, sniff_file
from core.metadata import (
    MediaInfo,
    check_video_picture,
    image_metadata,
    open_image,
    video_metadata,
)
from core.validation_jpeg import check_jpeg

logger = logging.getLogger(__name__)


def validate_file(
    path: Path, file_type: str, max_size: int, accepted: Iterable[str] | None = None
) -> MediaInfo:
    """Checks `path` is a whole, decodable `file_type` ("image"|"video") no larger than max_size.

    The type comes from the content, never from the name. Raises EmptyFile, TooLarge,
    UnsupportedType, TypeMismatch or CorruptFile. `accepted`: the types an UnsupportedType
    names (this server's ALLOWED_*_TYPES; None: every type MediaDesk validates).
    """
    kind = check_kind(file_type)
    size = Path(path).stat().st_size
    if size == 0:
        raise EmptyFile("The file is empty")
    if size > max_size:
        raise TooLarge(
            f"The file is {size} bytes; the limit is {max_size} bytes",
            details={"size": size, "max_size": max_size},
        )
    media = sniff_file(path, accepted)
    require_kind(media, kind)
    if media.mime == "video/x-ms-wmv":
        _check_asf_length(path, size)
    if kind == FileKind.IMAGE:
        meta = _image_metadata(path, media, size)
    else:
        meta = video_metadata(path, media.ext, media.mime, accepted)
        # At upload only: a reprocess of a video stored before the limit reads it as it is
        check_video_picture(meta["width"], meta["height"])
    info = MediaInfo(mime=media.mime, kind=media.kind, ext=media.ext, size=size, **meta)
    logger.debug("Validated %s as %s (%sx%s)", Path(path).name, info.mime, info.width, info.height)
    return info


def _image_metadata(path: Path, media: MediaType, file_size: int) -> dict[str, Any]:
    layout: WebpLayout | None = None
    with open_image(path, [media.pil_format or ""]) as im:
        meta = image_metadata(im)
        if im.format == "WEBP":
            with open(path, "rb") as fp:
                layout = webp_layout(fp)
        refuse_over_budget(im, layout)
        if im.format in ("JPEG", "MPO"):  # an MPO's first picture is the photo
            check_jpeg(path, im, file_size)
            return meta
        if layout is None or layout.animated:
            _decode(im, file_size)
            return meta
        size = im.size
    # A still WebP, decoded by FFmpeg once Pillow's parser (and its copy of the file) is gone
    with open(path, "rb") as fp, DECODE_BUDGET.hold(webp_decode_cost(layout, size, file_size)):
        decode_webp(fp, layout)
    return meta


def _decode(im: Image.Image, file_size: int) -> None:
    """Decodes the first and the last frame, so truncated data raises (-> CorruptFile). Not
    a JPEG's (core.validation_jpeg)."""
    frames = int(getattr(im, "n_frames", 1))
    with DECODE_BUDGET.hold(pillow_cost(im, file_size, last_frame=frames > 1)):
        im.load()
        if frames > 1:
            im.seek(frames - 1)
            im.load()
        size = im.size
        im.close()  # its decoded pixels go before the next decode is admitted
    if size[0] < 1 or size[1] < 1:
        raise CorruptFile("The image has no pixels")


# ASF (WMV) File Properties Object: mediainfo does not flag a cut ASF file, but its header
# declares the whole file's size (a QWORD 24 bytes after the object's 24-byte header).
_ASF_FILE_PROPERTIES = bytes.fromhex("A1DCAB8C47A9CF118EE400C00C205365")
_ASF_HEADER_SCAN = 64 * 1024


def _check_asf_length(path: Path, size: int) -> None:
    with open(path, "rb") as fh:
        head = fh.read(_ASF_HEADER_SCAN)
    at = head.find(_ASF_FILE_PROPERTIES)
    if at < 0 or at + 48 > len(head):
        raise CorruptFile("The WMV file has no file properties header")
    declared = int.from_bytes(head[at + 40 : at + 48], "little")
    if declared and size < declared:
        raise CorruptFile(f"The WMV file is truncated: {size} of {declared} bytes")
