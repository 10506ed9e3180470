"""Text from the wire that only means something in ASCII: numbers and secrets.

Python's str methods read all of Unicode, HTTP does not: int() and str.isdigit() take other
scripts' digits ("١٢" is 12, "１２" too), and header bytes that are not UTF-8 reach handlers as
surrogate escapes, which neither hmac.compare_digest nor str.encode() accept (a 500 instead of
a refusal).
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]+")
_SIGNED = re.compile(r"-?[0-9]+")


def whole_number(text: str, *, signed: bool = False, huge: int | None = None) -> int | None:
    """The number `text` spells in ASCII digits (HTTP's and tus's 1*DIGIT; with `signed`, a
    leading "-" too), else None: no other script's digits, sign, space or "_". More digits
    than int() reads (4,300) give `huge`: a size past every limit is too large, not a
    malformed header (a signature's expiry has no such answer: None)."""
    if not (_SIGNED if signed else _DIGITS).fullmatch(text):
        return None
    try:
        return int(text)
    except ValueError:
        return huge if huge is not None and not text.startswith("-") else None


def secret_bytes(text: str) -> bytes | None:
    """The bytes of a presented secret (a token, a signature), or None when it is not ASCII:
    every secret MediaDesk issues is, so such a one is simply wrong, and is refused as any
    wrong secret is."""
    return text.encode("ascii") if text.isascii() else None


# The spellings of a yes/no field in a form, a query or tus Upload-Metadata (one set, so a
# value one route takes is not refused by another); empty is a field left out.
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off", "")


def yes_no(text: str) -> bool | None:
    """What a yes/no field's text says (any case, spaces around it), else None; an empty one
    says no."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None
