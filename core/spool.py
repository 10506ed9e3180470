"""Writes an incoming stream to a temp file while hashing and counting, stopping at the limit."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from core.errors import Cancelled, EmptyFile, TooLarge

CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Spooled:
    path: Path
    size: int
    sha256: str


def too_large(max_size: int) -> TooLarge:
    return TooLarge(
        f"The file is larger than the limit of {max_size} bytes (MAX_FILE_SIZE)",
        details={"max_size": max_size},
    )


class SpoolWriter:
    """Accepts chunks; raises TooLarge as soon as the total passes max_size."""

    def __init__(self, tmp_dir: Path, max_size: int) -> None:
        tmp_dir.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(prefix="upload-", suffix=".part", dir=tmp_dir)
        self._fh = os.fdopen(fd, "wb")
        self.path = Path(name)
        self.max_size = max_size
        self.size = 0
        self._hash = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_size:
            self.abort()
            raise too_large(self.max_size)
        self._hash.update(chunk)
        self._fh.write(chunk)

    def finish(self) -> Spooled:
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        if self.size == 0:
            self.abort()
            raise EmptyFile("The file is empty")
        return Spooled(self.path, self.size, self._hash.hexdigest())

    def abort(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self.path.unlink(missing_ok=True)


def spool_stream(
    stream: BinaryIO,
    tmp_dir: Path,
    max_size: int,
    progress: Callable[[int], None] | None = None,
    cancel: threading.Event | None = None,
) -> Spooled:
    writer = SpoolWriter(tmp_dir, max_size)
    try:
        while chunk := stream.read(CHUNK):
            if cancel is not None and cancel.is_set():
                raise Cancelled("Cancelled")
            writer.write(chunk)
            if progress:
                progress(len(chunk))
        return writer.finish()
    except BaseException:
        writer.abort()
        raise


def hash_file(
    path: Path, progress: Callable[[int], None] | None = None, cancel: threading.Event | None = None
) -> tuple[int, str]:
    """(size, sha256 hex) of a file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            if cancel is not None and cancel.is_set():
                raise Cancelled("Cancelled")
            digest.update(chunk)
            size += len(chunk)
            if progress:
                progress(len(chunk))
    return size, digest.hexdigest()
