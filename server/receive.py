"""Streams a multipart upload part by part: the file part to a spool file, counting bytes."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote_to_bytes

from aiohttp import BodyPartReader, MultipartReader, StreamReader, hdrs, web

from core.errors import InvalidInput
from core.filenames import clean_filename, readable_name
from core.spool import Spooled, SpoolWriter, discard, too_large
from server.bodystream import SEND_AGAIN, ended_by_stop, idle_timed
from server.errors import ServerStopping
from server.params import MALFORMED_BODY, check_text, malformed
from server.state import CONFIG, THREADS, Threads

CHUNK = 256 * 1024
BATCH = 1024 * 1024  # bytes per hand-over to the writer thread
MAX_FIELD = 64 * 1024
MAX_PARTS = 32
FILE_FIELD = "file"
NO_FILE_PART = "The form has no 'file' part with a file name (curl: -F file=@photo.jpg)"


@dataclass
class Received:
    fields: dict[str, str] = field(default_factory=dict)
    spooled: Spooled | None = None
    filename: str | None = None

    def discard(self) -> None:
        if self.spooled is not None:
            discard(self.spooled.path)
            self.spooled = None


async def receive_form(
    request: web.Request, *, max_size: int, tmp_dir: Path, into: Received | None = None
) -> Received:
    """Reads every part; the `file` part goes to disk and 413 stops reading past max_size.
    `into`: filled as the parts arrive, so that a refusal can still tell the fields and file
    name that came before it (the direct upload logs and counts it by the declared type)."""
    if request.content_type != "multipart/form-data":
        raise InvalidInput("Send the file as multipart/form-data with a 'file' part")
    try:
        reader = MultipartReader(
            request.headers,
            _LenientLines(request.content),  # type: ignore[arg-type]
            client_max_size=request.client_max_size,
            max_size_error_cls=web.HTTPRequestEntityTooLarge,
        )
    except MALFORMED_BODY as exc:
        raise malformed(exc) from None
    received = Received() if into is None else into
    try:
        for _ in range(MAX_PARTS):
            try:
                part = await reader.next()
            except MALFORMED_BODY as exc:
                raise malformed(exc) from None
            if part is None:
                return received
            if not isinstance(part, BodyPartReader):
                raise InvalidInput("Nested multipart bodies are not accepted")
            # never part.name: aiohttp's reading gives up on a whole header whose quoted file
            # name holds ";" or "=" as browsers send them (a name-less part, a 400)
            name, filename = form_data_names(part.headers.get(hdrs.CONTENT_DISPOSITION, ""))
            if name == FILE_FIELD and filename is not None:
                if received.spooled is not None:
                    raise InvalidInput("Send exactly one 'file' part")
                # a name whose bytes are not UTF-8 is an older client's Latin-1/cp1252
                # (filename="Jos\xe9.jpg"): aiohttp kept them as surrogate escapes, which were
                # stored as U+FFFD ("Jos\ufffd.jpg")
                received.filename = clean_filename(readable_name(filename))
                received.spooled = await _spool(part, max_size, tmp_dir, request.app[THREADS])
            elif name == FILE_FIELD:  # its bytes as a text field (curl -F 'file=<x.jpg')
                raise InvalidInput(NO_FILE_PART)
            elif name:
                received.fields.setdefault(name, await _text(part, name))
            else:
                raise InvalidInput("Every form part needs a name")
        raise InvalidInput(f"A form may have at most {MAX_PARTS} parts")
    except BaseException as exc:
        received.discard()
        if ended_by_stop(request.content, exc):
            # the multipart reader reads the body itself, not through BodyStream: the same
            # stop, the same answer (503 server_stopping), not a connection closed unanswered
            raise ServerStopping("The read of the form was ended by a stop") from exc
        raise


# Bytes a browser leaves raw in a file name (it escapes only CR, LF and the quote) and aiohttp
# refuses in a header value: a name with \x01 or ESC in it was a 400 "invalid header".
_HEADER_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# The quoted name runs past a backslash-escaped quote (Go's and `curl --form-escape`'s `\"`)
_QUOTED_FILENAME = re.compile(
    rb'(;[ \t]*filename[ \t]*=[ \t]*")((?:\\[^\r\n]|[^"\\\r\n])*)', re.IGNORECASE
)


class _LenientLines:
    """The request body with those bytes dropped from a quoted `filename="..."` in any line
    read by `readline`; every other byte, and a control byte anywhere else in a part header
    (still a 400), as sent. Each read is given up with a 408 once the client goes quiet
    (bodystream.idle_timed): the multipart reader reads only through `readline` and `read`.

    aiohttp's multipart reader reads only boundary and part-header lines with `readline`
    (part bodies come through `read`), so no byte of a file changes. Dropping them here gives
    the name clean_filename would store anyway (it removes control characters): no UTF-8
    sequence holds a byte below 0x80, so no other character is touched.
    """

    def __init__(self, content: StreamReader) -> None:
        self._content = content

    async def readline(self, *, max_line_length: int | None = None) -> bytes:
        line = await idle_timed(self._content.readline(max_line_length=max_line_length), SEND_AGAIN)
        if not _HEADER_CONTROLS.search(line):
            return line
        return _QUOTED_FILENAME.sub(
            lambda m: m.group(1) + _HEADER_CONTROLS.sub(b"", m.group(2)), line
        )

    async def read(self, n: int = -1) -> bytes:
        return await idle_timed(self._content.read(n), SEND_AGAIN)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._content, name)


# One parameter of a part's Content-Disposition: a name, then a value quoted or not. A quoted
# value is read by RFC 9110's quoted-string (a backslash quotes the next character), or, when
# that reading does not end (below), up to the next quote.
_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*(?:"((?:\\.|[^"\\])*)("?)|([^;]*))', re.DOTALL)
_PLAIN_PARAM = re.compile(r';\s*([^\s=;]+)\s*=\s*(?:"([^"]*)()"?|([^;]*))')
_QUOTED_PAIR = re.compile(r"\\(.)", re.DOTALL)
_FORM_ESCAPES = {"%22": '"', "%0D": "\r", "%0A": "\n"}
_FORM_ESCAPE = re.compile("|".join(_FORM_ESCAPES))
_EXT_VALUE = re.compile(r"([\w!#$%&+^`{}~-]*)'[^']*'(.*)", re.DOTALL)  # RFC 5987 charset'lang'value
_EXT_CHARSETS = {"utf-8": "utf-8", "iso-8859-1": "iso-8859-1", "us-ascii": "ascii"}


def form_data_names(disposition: str) -> tuple[str | None, str | None]:
    r"""The field name and the file name (None: not a file part) of a multipart/form-data
    part, read as its sender wrote them. Browsers, curl and urllib3 follow the WHATWG HTML
    form encoding: in `name="..."` and `filename="..."` a quote is sent as %22, CR as %0D and
    LF as %0A, and nothing else is escaped (`;`, `=` and a backslash come raw). So exactly
    those three are decoded, and a backslash is a character of the name (aiohttp's RFC 2616
    reading ate it, kept the %22, and gave up on a quoted `;`). Go's mime/multipart and
    `curl --form-escape` write RFC 9110's quoted-string instead: `\"` for a quote, `\\` for
    a backslash. A value holding `\"` can only be that (a browser's quote is %22), so it is
    read as one: each backslash quotes the next character, and a %22 in it is the name's own
    (`Say \"cheese\".jpg` was cut at the escaped quote, `Say \`, stored as "unnamed").
    Without `\"` a value is read the browsers' way, which stores the same name for a `\\`
    (clean_filename takes a backslash for a folder's end either way); a Go name holding %22,
    %0D or %0A and no quote is decoded as a browser's, as nothing tells the two apart.
    `filename*` (RFC 5987: UTF-8''percent-encoded), which a few clients add for non-ASCII
    names, wins when it decodes. The caller applies the stored-name rule (clean_filename) as
    for every other way in.
    """
    params: dict[str, str] = {}
    escaped: set[str] = set()  # the parameters written as RFC 9110 quoted-strings
    matches = list(_PARAM.finditer(disposition))
    if any(_escaped_quote(m) and not m.group(3) for m in matches):
        # `filename="dir\"`, a browser's name ending in a backslash: the quoted-string reading
        # runs on past its closing quote, so the whole header is read the browsers' way
        matches = list(_PLAIN_PARAM.finditer(disposition))
    for match in matches:
        key, quoted, bare = match.group(1).lower(), match.group(2), match.group(4)
        if key in params:
            continue
        if _escaped_quote(match):
            params[key] = _QUOTED_PAIR.sub(r"\1", quoted)
            escaped.add(key)
        else:
            params[key] = quoted if quoted is not None else bare.strip()

    def decoded(key: str) -> str | None:
        value = params.get(key)
        return value if value is None or key in escaped else _form_unescape(value)

    extended = _extended_value(params.get("filename*"))
    if extended is not None:
        return decoded("name"), extended
    if "filename" not in params:
        # a file part all the same, whose name cannot be read: clean_filename names it
        return decoded("name"), "" if "filename*" in params else None
    return decoded("name"), decoded("filename")


def _escaped_quote(match: re.Match[str]) -> bool:
    """Whether a parameter's quoted value holds a quote: read as quoted-pairs, one there can
    only be a backslash-escaped one (a bare quote would have ended the value)."""
    return '"' in (match.group(2) or "")


def _form_unescape(value: str) -> str:
    return _FORM_ESCAPE.sub(lambda m: _FORM_ESCAPES[m.group(0)], value)


def _extended_value(value: str | None) -> str | None:
    """An RFC 5987 ext-value (charset'language'percent-encoded), or None if there is none or
    it cannot be decoded (an unknown charset, bytes not in it)."""
    match = _EXT_VALUE.fullmatch(value or "")
    if match is None:
        return None
    charset = _EXT_CHARSETS.get(match.group(1).lower())
    if charset is None:
        return None
    try:
        return unquote_to_bytes(match.group(2)).decode(charset)
    except UnicodeDecodeError:
        return None


async def _text(part: BodyPartReader, name: str) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > MAX_FIELD:
            raise InvalidInput(f"The field {name!r} is too long")
    try:
        text = data.decode(part.get_charset(default="utf-8"))
    except (UnicodeDecodeError, LookupError):
        raise InvalidInput(f"The field {name!r} is not valid UTF-8") from None
    return check_text(text, f"The field {name!r}")


async def _spool(part: BodyPartReader, max_size: int, tmp_dir: Path, threads: Threads) -> Spooled:
    """Chunks go to a SpoolWriter in the thread pool; past max_size we stop reading (413).

    Chunks are handed over BATCH bytes at a time (few thread hops), and the next batch is
    read while the thread writes and hashes the last one.
    """
    writer = await threads.run(SpoolWriter, tmp_dir, max_size)
    count = batched = 0
    batch: list[bytes] = []
    pending: asyncio.Future[None] | None = None
    try:
        while chunk := await part.read_chunk(CHUNK):
            count += len(chunk)
            if count > max_size:
                raise too_large(max_size)
            batch.append(bytes(chunk))
            batched += len(chunk)
            if batched >= BATCH:
                if pending is not None:
                    await pending
                pending = asyncio.ensure_future(threads.run(writer.write, b"".join(batch)))
                batch, batched = [], 0
        if pending is not None:
            await pending
            pending = None
        if batch:
            await threads.run(writer.write, b"".join(batch))
        return await threads.run(writer.finish)
    except BaseException:
        if pending is not None:  # the thread is still writing: let it end before the abort
            await asyncio.wait([pending])
        await threads.run(writer.abort)
        raise


def form_too_long(request: web.Request, max_size: int) -> bool:
    """A declared Content-Length no direct upload's form can have: a file of `max_size` and the
    form's own parts and boundaries (FORM_OVERHEAD). Asked before the 100 Continue
    (server/expect.py) and by the upload route itself."""
    length = request.content_length
    return length is not None and length > max_size + request.app[CONFIG].form_overhead
