"""The HTTP access log (logger `aiohttp.access`): aiohttp's line, with what the client sent made
safe to read.

aiohttp writes the request line and the Referer and User-Agent headers between double quotes
verbatim, so a `"` in one ended the field and a client could write a status, a size or a
whole second line's fields of its choosing into the line. Every value is escaped as nginx does
(`"` as \\x22, `\\` as \\x5C, control characters as \\xHH), then redacted (core.logsetup): the
line's own record carries the values too (`extra`), for any formatter that prints them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from aiohttp.web_log import AccessLogger
from aiohttp.web_request import BaseRequest
from aiohttp.web_response import StreamResponse

from core.logsetup import redact_secrets

# a lone surrogate is a byte of a header that was not UTF-8 (surrogateescape)
_UNSAFE = re.compile(r'["\\\x00-\x1f\x7f\udc80-\udcff]')


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code - 0xDC00 if code >= 0xDC80 else code:02X}"


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
