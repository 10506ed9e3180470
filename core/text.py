"""Text that every catalog backend can store: valid Unicode without NUL characters."""

from __future__ import annotations

import re

# Unpaired surrogates have no UTF-8 form: JSON's "\ud800", or the surrogate escapes of header
# bytes that were not UTF-8. PostgreSQL refuses NUL in text columns.
_UNSTORABLE = re.compile("[\ud800-\udfff\x00]")


def storable(text: str) -> str:
    """`text` with unpaired surrogates replaced by U+FFFD and NUL characters removed."""
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", text)
