"""Why a video job failed, as one of core.jobs.FAILURE_REASONS, told from the exception.

The one home of the rule, used on both sides of the encode: in the runner subprocess (PyAV's
errors) and in the worker (the store's, the work folder's). Never from the English message:
that is for people and logs, and it changes. Light on purpose (no catalog, no Qt): the runner
imports it.
"""

from __future__ import annotations

import av.error

from core.errors import InsufficientStorage, StorageUnavailable, is_no_space


class JobFailure(Exception):
    """A failure whose reason the code that hit it knows (encode.BadMedia, a missing original)."""

    reason = "internal"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


def failure_reason(exc: BaseException) -> str:
    if isinstance(exc, JobFailure):
        return exc.reason
    if isinstance(exc, InsufficientStorage) or is_no_space(exc):
        return "insufficient_storage"
    if isinstance(exc, StorageUnavailable):
        # an original cut short (core.library refuses it before FFmpeg would choke on it):
        # the bytes are wrong, not the store, which answers
        return "undecodable_media" if exc.reason == "object_damaged" else "storage_unavailable"
    # PyAV's errors of an errno (EIO, EACCES, ENOENT...) are a file that could not be read or
    # written; its other errors, once the original was opened (encode.probe), are FFmpeg's
    if isinstance(exc, av.error.FFmpegError) and not isinstance(exc, OSError):
        return "encoder_failed"
    if isinstance(exc, OSError):
        return "storage_unavailable"
    return "internal"
