"""RFC 6266 / RFC 5987 Content-Disposition values with an ASCII fallback and a UTF-8 name."""

from __future__ import annotations

import functools
import unicodedata
from urllib.parse import quote

from core.errors import InvalidInput
from core.filenames import strip_invisible

# RFC 5987 attr-char, minus ALPHA / DIGIT which quote() never escapes.
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"


def _is_control(char: str) -> bool:
    return ord(char) < 32 or ord(char) == 127


def ascii_fallback(filename: str) -> str:
    """The name for clients that read only `filename=` (`curl -OJ`, `wget
    --content-disposition`, old players): accents dropped from the letters that carry them
    ("José Peña.jpg" saves as "Jose Pena.jpg", not "Jos_ Pe_a.jpg"), then quotes,
    backslashes, control and other non-ASCII characters replaced by "_"."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", filename) if not unicodedata.combining(c)
    )
    # NFKD can spread one character into several (a ligature "ﬁ" into "fi"): fine for a
    # name, but a character it turns into nothing plain stays one "_".
    return "".join("_" if _is_control(c) or ord(c) > 126 or c in '"\\' else c for c in plain)


@functools.lru_cache(maxsize=4096)  # every range request of a file asks again
def content_disposition(filename: str, disposition: str = "attachment") -> str:
    """`attachment; filename="fallback"; filename*=UTF-8''percent-encoded`."""
    if disposition not in ("attachment", "inline"):
        raise InvalidInput(f"Unknown Content-Disposition type {disposition!r}")
    marked = "".join("_" if _is_control(c) else c for c in filename)
    # Names stored before the rule existed may still carry bidi overrides: never served.
    clean = strip_invisible(marked).strip() or "download"
    encoded = quote(clean, safe=_ATTR_CHAR_SAFE, encoding="utf-8")
    return f"{disposition}; filename=\"{ascii_fallback(clean)}\"; filename*=UTF-8''{encoded}"
