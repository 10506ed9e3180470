"""Cleans user-supplied names: no folders, no invisible characters, bounded length.

The one home of the rule for every stored name: file names (uploads, renames, presigned
uploads) and, through visible_text, athletes' names; and of the rule that a file's name ends in
an extension of its type (with_type_extension): a rename keeps one, a new file (direct, tus,
presigned upload, import) gets one for the type its bytes are, and the desktop's name field
follows it too.
"""

from __future__ import annotations

import re
import unicodedata

from core.mediatypes import BY_MIME, canonical_mime, extensions_of
from core.text import storable

MAX_NAME = 255
# Removed: control characters (Cc), format characters (Cf: the bidi overrides and isolates
# U+202A-U+202E and U+2066-U+2069 that let `cat\u202egpj.exe` show as `catexe.jpg`, the marks
# U+200E/U+200F/U+061C, zero-width space, word joiner, the BOM, the soft hyphen, which only
# hides a break...), line and paragraph separators and lone surrogates. Every other letter,
# mark, digit, symbol and space of any script stays.
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
# Format characters that change what the text says, kept where they join something: the
# zero-width joiner and non-joiner (the ZWJ in an emoji sequence makes a family of three
# people one emoji, a ZWNJ is the spelling of Persian "نامه‌ها") and the emoji tag
# characters (a tag run ending in CANCEL TAG after 🏴, the one base Unicode names flags on,
# is the Scotland flag). Alone, at an end, next to a space or out of sequence they show
# nothing and only make look-alike names, so there they go too.
_JOINERS = "\u200c\u200d"
_TAGS = "\U000e0020-\U000e007f"
_KEPT_FORMAT = frozenset(_JOINERS) | frozenset(map(chr, range(0xE0020, 0xE0080)))
_STRAY_TAGS = re.compile(f"(?<=\U0001f3f4)([\U000e0020-\U000e007e]+\U000e007f)|[{_TAGS}]")
_STRAY_JOINERS = re.compile(
    f"(?<![^\\s{_JOINERS}])[{_JOINERS}]|[{_JOINERS}](?![^\\s{_JOINERS}{_TAGS}])"
)


def kept_format(char: str) -> bool:
    """Whether `char` is a format character (Cf) a stored name keeps where it joins something
    (_KEPT_FORMAT): the joiners and emoji tags. A name shown in a terminal keeps them too, as
    the characters of the name; every other format character (a bidi override) is not."""
    return char in _KEPT_FORMAT


def _drop_stray_joiners(text: str) -> str:
    """`text` without the joiners and tag characters that join nothing (see _KEPT_FORMAT)."""
    return _STRAY_JOINERS.sub("", _STRAY_TAGS.sub(lambda m: m.group(1) or "", text))


def strip_invisible(text: str) -> str:
    """`text` without the characters a name must not carry (see _REMOVED_CATEGORIES)."""
    kept = "".join(
        c for c in text if c in _KEPT_FORMAT or unicodedata.category(c) not in _REMOVED_CATEGORIES
    )
    return _drop_stray_joiners(kept)


def visible_text(text: str) -> str:
    """`text` storable, without invisible characters, in NFC: a name typed on macOS (NFD) or
    with a zero-width space is then the same stored name as the one it looks like. NFC comes
    last, as removing a character may bring a letter and its accent together."""
    return unicodedata.normalize("NFC", strip_invisible(storable(text)))


def fit_bytes(name: str, limit: int) -> str:
    """`name` shortened (its stem, at a character boundary) to at most `limit` bytes of UTF-8,
    its extension kept: names are stored up to 255 characters, but file systems take 255
    bytes, which 128 accented or 64 CJK characters already fill."""
    if len(name.encode()) <= limit:
        return name
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext.encode()) > 10:
        stem, dot, ext = name, "", ""
    room = limit - len((dot + ext).encode())
    # a cut inside an emoji sequence leaves a joiner or an unfinished flag at the end
    short = _drop_stray_joiners(stem.encode()[:room].decode(errors="ignore")).rstrip()
    return short + dot + ext


# A name's bytes that are not UTF-8 come from a system that wrote names in Windows' Western
# code page (cp1252: Latin-1 with letters and signs in 0x80-0x9F): an old USB stick or share
# (b"Pe\xf1a.jpg"), an old client's form. Python hands such a name over with each byte it could
# not decode as a lone surrogate U+DC80-U+DCFF (surrogateescape: os.listdir, sys.argv, aiohttp's
# part headers), which storable() makes U+FFFD ("Pe\ufffda.jpg") and UTF-8 refuses to encode
# (`mediadesk upload` stopped with a traceback). The five bytes cp1252 leaves out stay Latin-1's
# controls, which clean_filename drops.
_CP1252_HIGH = {b: bytes([b]).decode("cp1252", "ignore") or chr(b) for b in range(0x80, 0xA0)}
_SURROGATE = re.compile("[\ud800-\udfff]")
# a whole UTF-8 character beyond ASCII; and the start of one cut short (a lead byte and some of
# its continuation bytes, then something else)
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)
_UTF8_CUT = re.compile(rb"[\xe0-\xef][\x80-\xbf]|[\xf0-\xf4][\x80-\xbf]{1,2}")


def readable_name(name: str | bytes) -> str:
    """`name` as text: its bytes read as UTF-8 when they are UTF-8, else as cp1252 (an old
    system's name: b"Jos\\xe9.jpg" is "José.jpg"). A name that is UTF-8 but for a few bytes (one
    cut at a byte limit mid-character, a stray byte) keeps its UTF-8 part: a character cut short
    is one U+FFFD, a lone byte is read as cp1252. A str is first taken back to its bytes when it
    carries surrogate escapes; one with other lone surrogates (JSON's "\\ud800") is returned as
    it is, for storable() to mark."""
    if isinstance(name, str):
        if not _SURROGATE.search(name):
            return name
        try:
            raw = name.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            return name
    else:
        raw = name
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if not _UTF8_MULTIBYTE.search(raw):
        # not one character of UTF-8 beyond ASCII: the whole name is in the old encoding
        return raw.decode("latin-1").translate(_CP1252_HIGH)
    out: list[str] = []
    at = 0
    while at < len(raw):
        try:
            out.append(raw[at:].decode("utf-8"))
            break
        except UnicodeDecodeError as exc:
            out.append(raw[at : at + exc.start].decode("utf-8"))
            bad = at + exc.start
            cut = _UTF8_CUT.match(raw, bad)
            if cut:
                out.append("\ufffd")
                at = cut.end()
            else:
                out.append(raw[bad : bad + 1].decode("latin-1").translate(_CP1252_HIGH))
                at = bad + 1
    return "".join(out)


# Stands in for a backslash in a local file's name. clean_filename reads "\" as a folder
# separator, as it must for the names Windows browsers send ("C:\photos\a.jpg"), but on Linux and
# macOS it is a character of the name itself: "back\slash.jpg" was stored as "slash.jpg".
# U+2216 SET MINUS looks like it, NFC and NFKC leave it as it is (the fullwidth U+FF3C becomes a
# backslash again under NFKC), and Windows takes it in a file name, so an export or a download
# there keeps the name as the user read it; "_" would be as safe but no longer look like the
# name on disk. One rule for every way a local file comes in: the desktop's import, and the
# Python client's and `mediadesk upload`'s direct, presigned and tus uploads.
BACKSLASH_STAND_IN = "\u2216"


def local_name(name: str | bytes) -> str:
    """The name a local file (its own name on this machine's disk, no folder) is uploaded and
    stored under: read as readable_name reads it, each backslash given BACKSLASH_STAND_IN (on
    Windows a name holds none: there it is the folder separator)."""
    return readable_name(name).replace("\\", BACKSLASH_STAND_IN)


# Tabs, line breaks and the Unicode line and paragraph separators: each run one space, as in
# athletes' names ("Final\r\nHalf.mp4" is "Final Half.mp4", not "FinalHalf.mp4")
_BREAKS = re.compile("[\t\n\v\f\r\x85\u2028\u2029]+")


def clean_filename(name: str | None, fallback: str = "unnamed") -> str:
    """The last path component of `name`, without control characters, at most 255 characters;
    no leading dots (never hidden, never "." or ".."), no trailing dots or spaces (Windows and
    some phones leave "IMG_1.jpg.", whose type is then the extension's on every path)."""
    text = visible_text(_BREAKS.sub(" ", name or "")).replace("\\", "/").rsplit("/", 1)[-1]
    # a joiner or flag tags left at the start by the folder taken off join nothing now
    text = _drop_stray_joiners(text).strip()
    text = _drop_stray_joiners(text.lstrip("." + _JOINERS).rstrip(". "))
    if not text:
        return fallback
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        if dot and len(ext) <= 10:
            text = stem[: MAX_NAME - len(ext) - 1] + "." + ext
        else:
            text = text[:MAX_NAME]
        text = _drop_stray_joiners(text)  # the cut may end inside an emoji sequence
    return text


def type_extension(name: str, content_type: str | None) -> str:
    """The extension of `name` (without its dot, as written) when it is one of `content_type`'s
    ("MP4" for "clip.MP4", "jpeg" for a JPEG's "a.jpeg"), else ""."""
    mime = canonical_mime(content_type)
    _, dot, ext = name.rpartition(".")
    if mime is None or not dot or ext.lower() not in extensions_of(mime):
        return ""
    return ext


def with_type_extension(name: str, content_type: str | None, previous: str = "") -> str:
    """`name` ending in an extension of the file's stored type: the `previous` name's when it
    has one of the type's, else the type's own ("final" -> "final.mp4", "final.v2" ->
    "final.v2.mp4"). A name without one is exported and downloaded as is, and then opens in
    no player on a double-click (the type is the content's, which a rename does not change).
    A new file has no previous name: a JPEG uploaded as "clip.mp4" is "clip.mp4.jpg" (core/
    ingest.py, when the bytes' type is known). A type we do not know leaves the name alone."""
    mime = canonical_mime(content_type)
    if mime is None or type_extension(name, mime):
        return name
    # "final." -> "final.mp4", not "final..mp4"; "IMG_1.jpg." (Windows and some phones leave
    # the dot, or a dot and spaces) is "IMG_1.jpg", not "IMG_1.jpg.jpg"
    stem = name.rstrip(". ") or name
    if type_extension(stem, mime):
        return stem
    ext = type_extension(previous, mime) or BY_MIME[mime].ext
    return stem[: MAX_NAME - len(ext) - 1] + "." + ext


# What an export folder refuses that a stored name may hold: the characters Windows, FAT/exFAT
# (a USB stick) and SMB shares refuse in a file name, and the names Windows keeps for devices
# ("con.jpg" opens the console there). A stored name keeps them: only the copy on disk changes.
_REFUSED_ON_DISK = re.compile(r'[<>:"/\\|?*\x00-\x1f\x7f]')
# Windows also reserves the ports numbered with superscript ¹²³ (COM¹, LPT²) and the console's
# own CONIN$ and CONOUT$.
_DEVICE_NAMES = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{n}" for port in ("COM", "LPT") for n in (*"123456789", *"\u00b9\u00b2\u00b3")}
)
# Room under the file systems' 255 bytes for " (12345)" and a writer's own temporary suffix:
# the bound of a name written to disk here (export, `mediadesk download`) and of the name a
# download offers (core.storage.disposition): Chromium saves to "<name>.crdownload" and
# cancels, saying nothing, a download whose name then passes 255 bytes.
DISK_NAME_BYTES = 200
# What one file name may take on ext4, XFS, Btrfs, APFS (bytes of UTF-8; NTFS and exFAT count
# 255 UTF-16 units, never fewer characters): more is ENAMETOOLONG before a byte is written.
NAME_BYTES = 255


def disk_name(name: str) -> str:
    """`name` as every file system takes it: the characters some refuse as "_", no trailing
    dot or space (Windows drops them, so "a." and "a" would be one file), no device name, at
    most DISK_NAME_BYTES bytes with its extension kept."""
    text = _REFUSED_ON_DISK.sub("_", clean_filename(name)).rstrip(". ") or "unnamed"
    if text.split(".", 1)[0].rstrip(" ").upper() in _DEVICE_NAMES:
        text = f"_{text}"
    return fit_bytes(text, DISK_NAME_BYTES)


def numbered_name(name: str, n: int) -> str:
    """The n-th name to try for `name` in a folder that may hold it already: `name` itself,
    then "name (2).jpg", "name (3).jpg"... (as file managers number a copy), within the
    bytes of `name`'s own length bound."""
    if n < 2:
        return name
    mark = f" ({n})"
    short = fit_bytes(name, DISK_NAME_BYTES - len(mark))
    stem, dot, ext = short.rpartition(".")
    if not dot or not stem or len(ext.encode()) > 10:
        return short + mark
    return f"{stem}{mark}.{ext}"


def temp_name(name: str, suffix: str, limit: int = NAME_BYTES) -> str:
    """`.{name}{suffix}`, hidden, the name cut (at a character boundary, its extension kept)
    so the whole is at most `limit` bytes: a long name (the 240 bytes the desktop's Export
    proposes) plus a writer's suffix passed 255 bytes, and the copy failed before it began."""
    return f".{fit_bytes(name, max(limit - 1 - len(suffix.encode()), 0))}{suffix}"
