"""Text that every catalog backend can store (valid Unicode without NUL characters), and the one
form text is kept and searched in (NFC)."""

from __future__ import annotations

import re
import unicodedata

# Unpaired surrogates have no UTF-8 form: JSON's "\ud800", or the surrogate escapes of header
# bytes that were not UTF-8. PostgreSQL refuses NUL in text columns.
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


def storable(text: str) -> str:
    """`text` with unpaired surrogates replaced by U+FFFD and NUL characters removed."""
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)


def composed(text: str) -> str:
    """`text` in NFC, the form file names, descriptions and search terms are kept in: macOS
    hands out names decomposed ("n" + U+0303 for "ñ"), which compare unequal to the composed
    text typed elsewhere, so a search or a substring test of one misses the other."""
    return unicodedata.normalize("NFC", text)
