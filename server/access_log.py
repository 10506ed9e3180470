"""The HTTP access log (logger `aiohttp.access`): aiohttp's line, with what the client sent made
safe to read.

aiohttp writes the request line and the Referer and User-Agent headers between double quotes
verbatim, so a `"` in one ended the field and a client could write a status, a size or a
whole second line's fields of its choosing into the line. Every value is escaped as nginx does
(`"` as \\x22, `\\` as \\x5C, control characters and each byte of a non-ASCII character's
UTF-8 as \\xHH), then redacted (core.logsetup): the line's own record carries the values
too (`extra`), for any formatter that prints them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from aiohttp.web_log import AccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from core.logsetup import redact_secrets

# Anything but printable ASCII, and `"` and `\`. Above 0x7E too, as nginx escapes every byte
# there: a U+202E in a User-Agent (right-to-left override) showed the rest of the line reversed
# to whoever read it. A lone surrogate is a byte of a header that was not UTF-8
# (surrogateescape).
_UNSAFE = re.compile(r"[^\x20\x21\x23-\x5b\x5d-\x7e]")


def _escape_char(match: re.Match[str]) -> str:
    char = match.group(0)
    code = ord(char)
    raw = (
        bytes([code - 0xDC00])
        if 0xDC80 <= code <= 0xDCFF
        else char.encode("utf-8", "surrogatepass")
    )
    return "".join(f"\\x{byte:02X}" for byte in raw)


def escape_field(value: str) -> str:
    """`value` with no character that could end a quoted field or the line."""
    return redact_secrets(_UNSAFE.sub(_escape_char, value))


class EscapedAccessLogger(AccessLogger):
    def _format_line(
        self, request: BaseRequest, response: StreamResponse, time: float
    ) -> Iterable[tuple[str | tuple[str, str], str]]:
        return [
            (key, escape_field(value) if isinstance(value, str) else value)
            for key, value in super()._format_line(request, response, time)
        ]
