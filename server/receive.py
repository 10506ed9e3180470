"""Streams a multipart upload part by part: the file part to a spool file, counting bytes."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from aiohttp import BodyPartReader, web

from core.errors import InvalidInput
from core.spool import Spooled, SpoolWriter, too_large
from server.params import MALFORMED_BODY, check_text, malformed
from server.state import THREADS, Threads

CHUNK = 256 * 1024
BATCH = 1024 * 1024  # bytes per hand-over to the writer thread
MAX_FIELD = 64 * 1024
MAX_PARTS = 32
FILE_FIELD = "file"


@dataclass
class Received:
    fields: dict[str, str] = field(default_factory=dict)
    spooled: Spooled | None = None
    filename: str | None = None

    def discard(self) -> None:
        if self.spooled is not None:
            self.spooled.path.unlink(missing_ok=True)
            self.spooled = None


async def receive_form(request: web.Request, *, max_size: int, tmp_dir: Path) -> Received:
    """Reads every part; the `file` part goes to disk and 413 stops reading past max_size."""
    if request.content_type != "multipart/form-data":
        raise InvalidInput("Send the file as multipart/form-data with a 'file' part")
    try:
        reader = await request.multipart()
    except MALFORMED_BODY as exc:
        raise malformed(exc) from None
    received = Received()
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
            if part.name == FILE_FIELD and part.filename is not None:
                if received.spooled is not None:
                    raise InvalidInput("Send exactly one 'file' part")
                received.filename = part.filename
                received.spooled = await _spool(part, max_size, tmp_dir, request.app[THREADS])
            elif part.name:
                received.fields.setdefault(part.name, await _text(part))
            else:
                raise InvalidInput("Every form part needs a name")
        raise InvalidInput(f"A form may have at most {MAX_PARTS} parts")
    except BaseException:
        received.discard()
        raise


async def _text(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > MAX_FIELD:
            raise InvalidInput(f"The field {part.name!r} is too long")
    try:
        text = data.decode(part.get_charset(default="utf-8"))
    except (UnicodeDecodeError, LookupError):
        raise InvalidInput(f"The field {part.name!r} is not valid UTF-8") from None
    return check_text(text, f"The field {part.name!r}")


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
