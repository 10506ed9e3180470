"""Cleans user-supplied file names: no folders, no control characters, bounded length."""

from __future__ import annotations

import re
import unicodedata

from core.text import storable

_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")
MAX_NAME = 255


def clean_filename(name: str | None, fallback: str = "unnamed") -> str:
    """The last path component of `name`, without control characters, at most 255 characters."""
    text = unicodedata.normalize("NFC", storable(name or ""))
    text = _CONTROL.sub("", text)
    text = text.replace("\\", "/").rsplit("/", 1)[-1].strip()
    if text in ("", ".", ".."):
        return fallback
    text = text.lstrip(".") or fallback
    if len(text) > MAX_NAME:
        stem, dot, ext = text.rpartition(".")
        if dot and len(ext) <= 10:
            text = stem[: MAX_NAME - len(ext) - 1] + "." + ext
        else:
            text = text[:MAX_NAME]
    return text
