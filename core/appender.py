"""Appends a big incoming stream to a file fast, without weakening what a commit promises.

A naive loop (hash, write, and every few MiB an fsync, all in one thread) runs at a fraction
of the disk's speed: each fsync waits for all the bytes since the last one, and nothing else
moves meanwhile. Here the same promises are kept with the work spread out:

- bytes go straight to a raw file descriptor (`os.writev`, no buffered-file copy);
- the hash runs in its own thread beside the writes (hashlib releases the GIL on big buffers);
- write-back of what was just written starts at once (`sync_file_range`, Linux), so the disk
  works while the next bytes arrive and an fsync finds little left to do;
- checkpoints (fdatasync, then `on_durable(offset)`) run in a third thread while writing goes
  on: an offset is reported only after every byte below it is on disk;
- `finish()` waits for all of that, fsyncs and reports the final offset.

When bytes cannot be made durable (a full disk, where the catalog that records offsets may be
full too), `abandon()` cuts the file back to the last reported offset at once: the bytes past it
were never acknowledged, and on a full disk their room is what everything else is waiting for.
"""

from __future__ import annotations

import collections
import contextvars
import ctypes
import ctypes.util
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

# Bytes written between two write-back starts.
WRITEBACK = 2 * 1024 * 1024
# Hash jobs queued beside the writes before a write waits for the hasher (bounds memory).
HASH_QUEUE = 2
_SYNC_FILE_RANGE_WRITE = 2  # <linux/fs.h>: start write-out of dirty pages, do not wait


def _load_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        fn = libc.sync_file_range  # Linux only; elsewhere the fsyncs do all the write-back
    except (OSError, AttributeError, TypeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn  # type: ignore[no-any-return]


_sync_file_range = _load_sync_file_range()


def start_writeback(fd: int, start: int, length: int) -> None:
    """Asks the kernel to start writing [start, start+length) to disk now (a hint)."""
    if _sync_file_range is not None and length > 0:
        _sync_file_range(fd, start, length, _SYNC_FILE_RANGE_WRITE)


# fdatasync and writev are POSIX (no fdatasync on macOS, neither on Windows).
def _datasync(fd: int) -> None:
    getattr(os, "fdatasync", os.fsync)(fd)


def _writev(fd: int, views: list[memoryview]) -> int:
    if hasattr(os, "writev"):
        return os.writev(fd, views)
    return os.write(fd, views[0])


def _hash(sha: Any, chunks: Sequence[bytes | memoryview]) -> None:
    for chunk in chunks:
        sha.update(chunk)


class Appender:
    """Appends chunks at the end of `path` (cut to `offset` first is the caller's job).

    `sha`: a hashlib object that has seen the file's first `offset` bytes (or None: no hash).
    `on_durable(n)`: called (from a helper thread, or from finish()) once bytes [0, n) are on
    disk; calls come in increasing order of n. `checkpoint`: bytes between two of them.
    Not thread-safe: one thread calls write/finish/close.
    """

    def __init__(
        self,
        path: Path,
        offset: int,
        *,
        sha: Any = None,
        checkpoint: int = 0,
        on_durable: Callable[[int], None] | None = None,
    ) -> None:
        flags = os.O_WRONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
        self._fd = os.open(path, flags)
        try:
            os.lseek(self._fd, offset, os.SEEK_SET)
        except BaseException:
            os.close(self._fd)
            raise
        self.offset = offset  # bytes in the file
        self.durable = offset  # bytes reported through on_durable
        self.sha = sha
        self._checkpoint = checkpoint
        self._on_durable = on_durable
        self._written_back = offset
        self._hasher = ThreadPoolExecutor(1, "mediadesk-hash") if sha is not None else None
        self._hashing: collections.deque[Future[None]] = collections.deque()
        self._syncer = (
            ThreadPoolExecutor(1, "mediadesk-sync") if checkpoint and on_durable else None
        )
        self._syncing: Future[None] | None = None
        self._closed = False

    def write(self, chunks: Sequence[bytes | memoryview]) -> None:
        """Appends the chunks in order. A failed write leaves `offset` at the bytes written
        and drops the hash (it may have seen bytes that did not reach the file)."""
        if self._hasher is not None:
            self._hashing.append(self._hasher.submit(_hash, self.sha, chunks))
        try:
            self._write_all(chunks)
        except BaseException:
            self._drop_hash()
            raise
        while len(self._hashing) > HASH_QUEUE:
            self._hashing.popleft().result()
        if self.offset - self._written_back >= WRITEBACK:
            start_writeback(self._fd, self._written_back, self.offset - self._written_back)
            self._written_back = self.offset
        due = self._syncer is not None and self.offset - self.durable >= self._checkpoint
        if due and (self._syncing is None or self._syncing.done()):
            if self._syncing is not None:
                self._syncing.result()  # a failed checkpoint fails the write
            assert self._syncer is not None
            # in the writer's context: what bounds its catalog statements (a request's
            # core.db.engine.catalog_deadline) bounds on_durable's too, or a hung catalog held
            # the checkpoint, and finish() waiting for it, for good
            context = contextvars.copy_context()
            self._syncing = self._syncer.submit(context.run, self._sync, self.offset)

    def _write_all(self, chunks: Sequence[bytes | memoryview]) -> None:
        views = [memoryview(c) for c in chunks if len(c)]
        while views:
            n = _writev(self._fd, views[:1024])  # IOV_MAX
            self.offset += n
            while views and n >= len(views[0]):
                n -= len(views[0])
                views.pop(0)
            if n:
                views[0] = views[0][n:]

    def _sync(self, upto: int) -> None:
        _datasync(self._fd)
        assert self._on_durable is not None
        self._on_durable(upto)
        self.durable = upto

    def _drop_hash(self) -> None:
        for job in self._hashing:
            job.cancel()
            with_errors_ignored(job)
        self._hashing.clear()
        if self._hasher is not None:
            self._hasher.shutdown(wait=True)
            self._hasher = None
        self.sha = None

    def finish(self) -> None:
        """Waits for the hash and checkpoints, fsyncs, and reports the final offset; when that
        fails, the bytes past the last reported offset are cut off (`abandon`)."""
        try:
            while self._hashing:
                self._hashing.popleft().result()
            if self._syncing is not None:
                self._syncing.result()
            if self.offset > self.durable:
                os.fsync(self._fd)
                if self._on_durable is not None:
                    self._on_durable(self.offset)
                self.durable = self.offset
        except BaseException:
            self.abandon()
            raise
        self.close()

    def abandon(self) -> None:
        """Lets go of the file after cutting it back to the last offset reported durable
        (ftruncate frees their room on every file system); the hash is dropped, as it saw them.
        Raises OSError if the file cannot be cut (it is closed all the same)."""
        if self._closed:
            return
        try:
            if self._syncing is not None:
                with_errors_ignored(self._syncing)  # a checkpoint under way may still report
            self._drop_hash()
            if self.offset > self.durable:
                os.ftruncate(self._fd, self.durable)
                self.offset = self.durable
        finally:
            self.close()

    def close(self) -> None:
        """Lets go of the file and the threads; bytes not yet durable are not reported."""
        if self._closed:
            return
        self._closed = True
        if self._syncing is not None:
            with_errors_ignored(self._syncing)
        if self._hashing:
            self._drop_hash()
        for pool in (self._hasher, self._syncer):
            if pool is not None:
                pool.shutdown(wait=True)
        os.close(self._fd)


def with_errors_ignored(job: Future[Any]) -> None:
    """Waits for a helper thread's job whose outcome no longer matters."""
    if not job.cancelled():
        job.exception()
