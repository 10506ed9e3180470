"""Writes an incoming stream to a temp file while hashing and counting, stopping at the limit."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from core import partials
from core.errors import Cancelled, EmptyFile, TooLarge, storage_error
from core.fsmodes import make_dirs

logger = logging.getLogger(__name__)

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


def owned_temp(tmp_dir: Path, prefix: str) -> tuple[int, Path]:
    """A new partial file in `tmp_dir` owned by this process (see core.partials)."""
    try:
        make_dirs(tmp_dir)
        partials.register(tmp_dir)
        fd, name = tempfile.mkstemp(
            prefix=f"{prefix}-{partials.tag()}-", suffix=partials.PART_MARK, dir=tmp_dir
        )
    except OSError as exc:
        raise storage_error(exc, "Cannot create a temporary file") from exc
    return fd, Path(name)


class SpoolWriter:
    """Accepts chunks; raises TooLarge as soon as the total passes max_size.

    Any failure (limit, full disk, cancel) removes the partial file before raising.
    """

    def __init__(self, tmp_dir: Path, max_size: int) -> None:
        fd, self.path = owned_temp(tmp_dir, "upload")
        self._fh = os.fdopen(fd, "wb")
        self.max_size = max_size
        self.size = 0
        self._hash = hashlib.sha256()

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.max_size:
            self.abort()
            raise too_large(self.max_size)
        self._hash.update(chunk)
        try:
            self._fh.write(chunk)
        except OSError as exc:
            self.abort()
            raise storage_error(exc, "Cannot write the upload to the temporary folder") from exc

    def finish(self) -> Spooled:
        try:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()
        except OSError as exc:
            self.abort()
            raise storage_error(exc, "Cannot write the upload to the temporary folder") from exc
        if self.size == 0:
            self.abort()
            raise EmptyFile("The file is empty")
        return Spooled(self.path, self.size, self._hash.hexdigest())

    def abort(self) -> None:
        # Closing flushes the buffer, which fails again on a full disk: the file goes anyway.
        if not self._fh.closed:
            with contextlib.suppress(OSError):
                self._fh.close()
        discard(self.path)


def discard(path: Path) -> None:
    """Removes an upload's temp file once it is no longer needed (stored, refused, failed).

    A failure here (the temp folder made unwritable meanwhile) is logged, never raised: the
    upload's own answer, its file or the error that stopped it, is the one to report. What
    stays is maintenance's: a spool file keeps its owner tag, so the partial-file sweep removes
    it once this process is gone; the resumable uploads' sweep removes an ended upload's bytes.
    """
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        logger.warning("Cannot remove the partial upload %s: %s", path, exc)


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
