"""RFC 6266 / RFC 5987 Content-Disposition values with an ASCII fallback and a UTF-8 name."""

from __future__ import annotations

import functools
import unicodedata
from urllib.parse import quote

from core.errors import InvalidInput
from core.filenames import DISK_NAME_BYTES, fit_bytes, strip_invisible

# RFC 5987 attr-char, minus ALPHA / DIGIT which quote() never escapes.
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"


def _is_control(char: str) -> bool:
    return ord(char) < 32 or ord(char) == 127


def _plain(char: str) -> str:
    """An ASCII character as it is (quotes, backslashes and controls "_"); an accented letter
    as its base letter ("é" -> "e", "Ñ" -> "N"); anything else "_". Canonical decomposition
    only, character by character: compatibility forms (NFKD) turn "․․" (U+2024) into "..",
    "／" into "/" and "℀" into "a/c", which a client that saves by `filename=` would take as
    a folder or a hidden file."""
    if ord(char) < 127:
        return "_" if _is_control(char) or char in '"\\' else char
    if unicodedata.combining(char):
        return ""  # an accent written apart (macOS names are decomposed): its letter stays
    base = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return base if len(base) == 1 and base.isascii() and base.isalnum() else "_"


def ascii_fallback(filename: str) -> str:
    """The name for clients that read only `filename=` (`curl -OJ`, old players): accents
    dropped from the letters that carry them ("José Peña.jpg" saves as "Jose Pena.jpg", not
    "Jos_ Pe_a.jpg"), other characters outside ASCII "_", one for one."""
    plain = "".join(_plain(c) for c in unicodedata.normalize("NFC", filename))
    # accents dropped can leave nothing, or only dots: never a name that is a folder
    return plain if plain.strip(".") else "_" * max(1, len(plain))


@functools.lru_cache(maxsize=4096)  # every range request of a file asks again
def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """`attachment; filename="fallback"; filename*=UTF-8''percent-encoded`, both names within
    DISK_NAME_BYTES of UTF-8, the extension kept: a stored name may take 255 characters, and
    Chromium cancels, without a word, the download of a name its ".crdownload" takes past the
    file system's 255 bytes. The catalog's name stays whole."""
    if disposition not in ("attachment", "inline"):
        raise InvalidInput(f"Unknown Content-Disposition type {disposition!r}")
    marked = "".join("_" if _is_control(c) else c for c in filename)
    # Names stored before the rule existed may still carry bidi overrides: never served.
    clean = fit_bytes(strip_invisible(marked).strip() or "download", DISK_NAME_BYTES)
    encoded = quote(clean, safe=_ATTR_CHAR_SAFE, encoding="utf-8")
    # the fallback has one ASCII byte or none for each character of `clean`: within it too
    return f"{disposition}; filename=\"{ascii_fallback(clean)}\"; filename*=UTF-8''{encoded}"
