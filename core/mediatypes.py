"""The accepted media types, their aliases and extensions, and content sniffing with puremagic."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from core.errors import EmptyFile, InvalidInput, TypeMismatch, UnsupportedType


@dataclass(frozen=True)
class MediaType:
    """One accepted type: its canonical MIME type, kind (image|video) and stored extension."""

    mime: str
    kind: str
    ext: str
    pil_format: str | None = None
    # In the seed's ALLOWED_*_TYPES: accepted unless the setting leaves it out. The others are
    # validated and processed, but only where the setting names them.
    accepted_by_default: bool = True
    # A video container some browser opens in a <video> (MP4, MOV, WebM). The others (AVI,
    # WMV, MPEG-TS) are shown from their web rendition only: their original is not sent to a
    # browser in its stead while that is made (core/video/service.py Served.waiting)
    in_browsers: bool = True


IMAGE_TYPES = (
    MediaType("image/jpeg", "image", "jpg", "JPEG"),
    MediaType("image/png", "image", "png", "PNG"),
    MediaType("image/webp", "image", "webp", "WEBP"),
    MediaType("image/gif", "image", "gif", "GIF"),
)
VIDEO_TYPES = (
    MediaType("video/mp4", "video", "mp4"),
    MediaType("video/x-msvideo", "video", "avi", in_browsers=False),
    MediaType("video/quicktime", "video", "mov"),
    MediaType("video/x-ms-wmv", "video", "wmv", in_browsers=False),
    MediaType("video/webm", "video", "webm"),
    # MPEG-TS (a camcorder's AVCHD .mts/.m2ts, a broadcast recording): no browser plays the
    # original, so it is shown from its web copy once that is made; accepted when the admin
    # adds it to ALLOWED_VIDEO_TYPES
    MediaType("video/mp2t", "video", "ts", accepted_by_default=False, in_browsers=False),
)
ALL_TYPES = IMAGE_TYPES + VIDEO_TYPES
BY_MIME = {t.mime: t for t in ALL_TYPES}
# The seed's spellings and other common aliases -> canonical type.
ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "video/avi": "video/x-msvideo",
    "video/msvideo": "video/x-msvideo",
    "video/mov": "video/quicktime",
    "video/wmv": "video/x-ms-wmv",
    "video/x-ms-asf": "video/x-ms-wmv",
    "video/x-m4v": "video/mp4",
    "video/vnd.avi": "video/x-msvideo",
    "image/x-png": "image/png",
    # what Windows names .mts/.m2ts (browsers send it)
    "video/vnd.dlna.mpeg-tts": "video/mp2t",
}


class FileKind(StrEnum):
    """A file's `file_type` (the same strings in JSON and in the catalog)."""

    IMAGE = "image"
    VIDEO = "video"


FILE_KINDS = tuple(k.value for k in FileKind)
_RIFF_FORM = {"video/x-msvideo": b"AVI ", "image/webp": b"WEBP"}
SNIFF_BYTES = 8192
# ISO BMFF major brands that are not videos although they share MP4's box structure.
# brand -> (description, extension, MIME type) of what the file is instead
_NOT_VIDEO_BRANDS = {
    **dict.fromkeys(
        (b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"msf1"),
        ("HEIF image", "heic", "image/heif"),
    ),
    **dict.fromkeys((b"avif", b"avis"), ("AVIF image", "avif", "image/avif")),
    **dict.fromkeys((b"M4A ", b"M4B "), ("MPEG-4 audio", "m4a", "audio/mp4")),
    b"crx ": ("Canon raw image", "cr3", "image/x-canon-cr3"),
}


# Sound with no picture in one of our video containers (a phone's voice memo saved as .mp4) is
# not a video: refused like the M4A brand above, not stored as a video without a frame.
_AUDIO_ONLY = {
    "video/mp4": ("MPEG-4 audio", "m4a", "audio/mp4"),
    "video/quicktime": ("QuickTime audio", "mov", "audio/quicktime"),
    "video/webm": ("WebM audio", "weba", "audio/webm"),
    "video/x-ms-wmv": ("Windows Media audio", "wma", "audio/x-ms-wma"),
    "video/x-msvideo": ("AVI audio", "avi", "audio/x-msvideo"),
}


def audio_only(mime: str, accepted: Iterable[str] | None = None) -> UnsupportedType:
    """The refusal of a `mime` container holding sound only (see `unsupported`)."""
    found, extension, its_mime = _AUDIO_ONLY.get(mime, ("audio", "", ""))
    return unsupported(
        f"Unsupported file type ({found}: sound only, no video track)",
        accepted,
        details=_found(found, extension, its_mime),
    )


def _found(described: str, extension: str, mime: str) -> dict[str, object]:
    """What refused bytes are: `found`, an English description for the log and API readers,
    and, for a client to name it in its own language, `found_extension` (no dot, lower case)
    and `found_mime` (each left out when not known). The desktop showed libmagic's English
    ("Adobe Portable Document Format file") inside its Spanish sentence."""
    found: dict[str, object] = {"found": described}
    if extension.strip("."):
        found["found_extension"] = extension.strip(".").lower()
    if mime:
        found["found_mime"] = mime.lower()
    return found


# puremagic extension -> our MIME type. Container families share magic numbers, so the
# extension puremagic names is used to tell them apart; MP4/MOV are split by the ftyp brand.
_PUREMAGIC_EXT = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".jfif": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".gif": "image/gif",
    ".mp4": "video/mp4",
    ".m4v": "video/mp4",
    ".m4a": "video/mp4",
    ".3gp": "video/mp4",
    ".mov": "video/quicktime",
    ".qt": "video/quicktime",
    ".avi": "video/x-msvideo",
    ".wmv": "video/x-ms-wmv",
    ".asf": "video/x-ms-wmv",
    ".wma": "video/x-ms-wmv",
    ".webm": "video/webm",
    ".mkv": "video/webm",
}


def canonical_mime(declared: str | None) -> str | None:
    """A client's Content-Type spelled our way, or None when it is not one we accept."""
    if not declared:
        return None
    mime = declared.split(";", 1)[0].strip().lower()
    mime = ALIASES.get(mime, mime)
    return mime if mime in BY_MIME else None


def check_kind(file_type: str) -> str:
    kind = (file_type or "").strip().lower()
    if kind not in FILE_KINDS:
        raise InvalidInput(f"file_type must be 'image' or 'video', not {file_type!r}")
    return kind


def unsupported(
    what: str,
    accepted: Iterable[str] | None = None,
    *,
    details: dict[str, object] | None = None,
    reason: str | None = None,
) -> UnsupportedType:
    """UnsupportedType ("`what`; accepted: ...") naming the types this server accepts:
    `accepted` (the settings' ALLOWED_*_TYPES) or, when None, every type MediaDesk validates;
    of those, the ones of the kind of the refused bytes (`details.found_mime`) when there are
    any. The list is also `details.allowed`."""
    names = [t.mime for t in ALL_TYPES] if accepted is None else list(accepted)
    # A refusal names the types of the file's kind: bytes seen to be an image (a HEIC sent
    # over tus, whose upload named no kind) were offered the video types too.
    found_kind = str((details or {}).get("found_mime", "")).partition("/")[0]
    names = [n for n in names if n.partition("/")[0] == found_kind] or names
    return UnsupportedType(
        f"{what}; accepted: {', '.join(names) or 'none'}",
        details={**(details or {}), "allowed": names},
        reason=reason,
    )


def sniff_bytes(head: bytes, accepted: Iterable[str] | None = None) -> MediaType:
    """The media type of content from its first bytes; UnsupportedType if not one we accept.

    `accepted`: the types the refusal names (see `unsupported`); it does not narrow the
    result (Settings.check_allowed does)."""
    if not head:
        raise EmptyFile("The file is empty")
    if _is_transport_stream(head):
        return BY_MIME["video/mp2t"]
    # ISO BMFF: decide MP4 vs QuickTime from the major brand before asking puremagic.
    if len(head) >= 12 and head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free"):
        if head[4:8] == b"ftyp":
            brand = head[8:12]
            if brand in _NOT_VIDEO_BRANDS:
                found, extension, its_mime = _NOT_VIDEO_BRANDS[brand]
                raise unsupported(
                    f"Unsupported file type ({found})",
                    accepted,
                    details=_found(found, extension, its_mime),
                )
            return BY_MIME["video/quicktime" if brand == b"qt  " else "video/mp4"]
        return BY_MIME["video/quicktime"]
    # puremagic reads its table of magic numbers when imported (~40 ms of CPU): loaded at the
    # first sniff, not by every command that reads the settings
    import puremagic

    try:
        matches = puremagic.magic_string(head)
    except (puremagic.PureError, ValueError):
        matches = []
    for match in matches:
        mime = _PUREMAGIC_EXT.get(match.extension.lower())
        if mime:
            if mime == "video/webm" and b"webm" not in head[:64]:
                continue  # Matroska but not WebM
            if mime in _RIFF_FORM and head[8:12] != _RIFF_FORM[mime]:
                continue  # another RIFF format (WAV, ANI, ...)
            return BY_MIME[mime]
    if _is_text(head) and not (matches and matches[0].mime_type.startswith(_NAMED_TEXT)):
        raise unsupported(
            "Unsupported file type (text, not an image or video)",
            accepted,
            details=_found("text", "", "text/plain"),
            reason="unknown_content",
        )
    if not matches:
        raise unsupported(
            "Unsupported file type (unknown content)", accepted, reason="unknown_content"
        )
    described, extension = matches[0].name, matches[0].extension
    its_mime = _PUREMAGIC_MIME_FIXES.get(extension.lower(), matches[0].mime_type)
    if extension.lower() in _OOXML_EXTENSIONS and _OOXML_PART not in head:
        # puremagic names every ZIP by its first guess, an Office document: a ZIP of photos
        # renamed .jpg was refused as "MS Office Open XML Format Document", which nobody who
        # sent it recognised
        described, extension, its_mime = "ZIP archive", "zip", "application/zip"
    raise unsupported(
        f"Unsupported file type ({described})",
        accepted,
        details=_found(described, extension, its_mime),
    )


# puremagic's table names a JPEG 2000 file (.jp2) image/jpeg: its refusal told
# `found_mime: image/jpeg`, a type this server accepts, and a client naming the type from it
# said a JPEG was refused as unsupported.
_PUREMAGIC_MIME_FIXES = {".jp2": "image/jp2"}
# puremagic's guesses for any ZIP (its local file header's magic): an Office Open XML document
# is a ZIP whose first part is, as Office and LibreOffice write it, its [Content_Types].xml
_OOXML_EXTENSIONS = frozenset({".docx", ".pptx", ".xlsx", ".docm", ".pptm", ".xlsm"})
_OOXML_PART = b"[Content_Types].xml"


# MPEG-TS packets: 188 bytes, each starting with the sync byte 0x47; a camcorder's AVCHD
# (.mts/.m2ts, BDAV) puts a 4-byte arrival time before each: 192. puremagic knows neither, and
# a camcorder clip was refused as bytes of no known format whatever ALLOWED_VIDEO_TYPES said.
_TS_PACKETS = ((188, 0), (192, 4))  # (packet size, offset of the first sync byte)
_TS_MIN_PACKETS = 3


def _is_transport_stream(head: bytes) -> bool:
    """Whether `head` is MPEG-TS packets from the first: a sync byte at every packet's start,
    at least _TS_MIN_PACKETS of them (every one in the sniffed head must have it)."""
    for size, offset in _TS_PACKETS:
        starts = range(offset, len(head), size)
        if len(starts) >= _TS_MIN_PACKETS and all(head[i] == 0x47 for i in starts):
            return True
    return False


# puremagic names text by its first characters, a guess: "import " is a Python file to it,
# "function" a MATLAB script, "graph " a Graphviz graph (a JavaScript file sent as x.jpg was
# refused as a "Python file"). Text is said to be text, and reason unknown_content as for
# bytes of no known format; only the text formats a person may take for a picture or a
# document, which it knows by a signature of their own, keep their names (SVG, PDF, EPS).
_NAMED_TEXT = ("image/", "video/", "application/pdf", "application/postscript")
# C0 controls that no text holds (tab, line feed, form feed, carriage return and escape do)
_NOT_TEXT = re.compile(rb"[\x00-\x08\x0b\x0e-\x1a\x1c-\x1f\x7f]")


def _is_text(head: bytes) -> bool:
    """Whether the first bytes are UTF-8 (ASCII included) text: no byte sequence UTF-8 does
    not have (a character cut at the end of the head is fine) and no control character."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head)
    except UnicodeDecodeError:
        return False
    return _NOT_TEXT.search(head) is None


def sniff_file(path: str | Path, accepted: Iterable[str] | None = None) -> MediaType:
    with open(path, "rb") as fh:
        return sniff_bytes(fh.read(SNIFF_BYTES), accepted)


def require_kind(media: MediaType, file_type: str) -> None:
    if media.kind != file_type:
        raise TypeMismatch(
            f"The content is {media.kind} ({media.mime}) but file_type says {file_type}"
        )


_BY_EXTENSION = {t.ext: t.mime for t in ALL_TYPES} | {
    "jpeg": "image/jpeg",
    "jpe": "image/jpeg",
    "m4v": "video/mp4",
    "qt": "video/quicktime",
    "mts": "video/mp2t",
    "m2ts": "video/mp2t",
    "m2t": "video/mp2t",
}


def guess_from_name(filename: str) -> str | None:
    """The MIME type a browser would send for this file name (our table, not the system's)."""
    _, dot, ext = filename.rpartition(".")
    return _BY_EXTENSION.get(ext.lower()) if dot else None


def extensions_of(mime: str) -> list[str]:
    """File name extensions of a canonical type, the stored one first (advertised to clients)."""
    ext = BY_MIME[mime].ext
    return [ext, *sorted(e for e, m in _BY_EXTENSION.items() if m == mime and e != ext)]


def is_whole_webp(head: bytes, size: int) -> bool:
    """A WebP of `size` bytes starting with `head` (its first 12 bytes at least) is whole as
    we write them: its RIFF header says WEBP and counts exactly the bytes that follow it.
    Thumbnails and variants are written unsynced (core/storage/local.py): a power cut can leave
    one empty, zero-filled at its full size, or cut short, and those were served as pictures no
    viewer shows. Not a decode: a thumbnail is read at every grid scroll, and the header is
    what such damage breaks."""
    return (
        size >= 12
        and head[:4] == b"RIFF"
        and head[8:12] == b"WEBP"
        and int.from_bytes(head[4:8], "little") == size - 8
    )
