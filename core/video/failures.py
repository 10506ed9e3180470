"""Why a video job failed, as one of core.jobs.FAILURE_REASONS, told from the exception.

The one home of the rule, used on both sides of the encode: in the runner subprocess (PyAV's
errors) and in the worker (the store's, the work folder's). Never from the English message:
that is for people and logs, and it changes. Light on purpose (no catalog, no Qt): the runner
imports it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from core.errors import StorageUnavailable, no_room


class JobFailure(Exception):
    """A failure whose reason the code that hit it knows (encode.BadMedia, a missing original)."""

    reason = "internal"

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        if reason is not None:
            self.reason = reason


def failure_reason(exc: BaseException, damaged: int = 0) -> str:
    """`damaged`: the packets of the original that did not decode and its pictures out of
    time order (runner.damage), counted once FFmpeg refused the encode's data."""
    import av.error  # here: the server's start imports this module, and PyAV costs ~50 ms

    if isinstance(exc, JobFailure):
        return exc.reason
    if no_room(exc):
        return "insufficient_storage"
    if isinstance(exc, StorageUnavailable):
        # an original cut short (core.library refuses it before FFmpeg would choke on it):
        # the bytes are wrong, not the store, which answers
        return "undecodable_media" if exc.reason == "object_damaged" else "storage_unavailable"
    # PyAV's errors of an errno (EIO, EACCES, ENOENT...) are a file that could not be read or
    # written; its other errors, once the original was opened (encode.probe), are FFmpeg's
    if isinstance(exc, av.error.FFmpegError) and not isinstance(exc, OSError):
        # What a damaged original decodes to (pictures sent back in time, a size that changes)
        # is refused the same way on every attempt: the original's fault, not the encoder's.
        # An encoder refusing a sound original's data stays encoder_failed and is retried, as
        # is a lack of memory (ENOMEM) whatever the original, and a runner the OOM killer
        # ended (it says no reason: the worker's "The encoder exited with status -9").
        if damaged and refused_data(exc):
            return "undecodable_media"
        return "encoder_failed"
    if isinstance(exc, OSError):
        return "storage_unavailable"
    return "internal"


# What a job's `error` says to a caller other than an admin token (the API's GET /jobs,
# /stream/{id}/info, /events, an HLS playlist's 404), by its reason: the stored words name what
# failed where (the store's endpoint, its bucket, a key), for the log and administrators. Keyed
# by core.jobs.FAILURE_REASONS (not imported: the runner imports this module and stays light);
# None: a failure without a code this version knows (recorded before the codes, or a newer
# server's).
FAILURE_SENTENCES: Mapping[str | None, str] = {
    "undecodable_media": (
        "The video cannot be decoded: the file is damaged, cut short or in a format MediaDesk "
        "cannot read; the original is still served"
    ),
    "encoder_failed": "The video converter (FFmpeg) failed while making this version",
    "original_missing": (
        "The original file is missing from the storage; ask the server's administrator to "
        "restore it"
    ),
    "storage_unavailable": (
        "The storage or the server's work folder could not be read or written while the video "
        "was processed"
    ),
    "insufficient_storage": "There was not enough free space to process the video",
    "interrupted": (
        "The processing stopped before finishing every time it was tried (the worker doing it "
        "stopped or stopped responding)"
    ),
    "internal": "Something went wrong inside MediaDesk while processing the video",
    None: "The processing of the video failed; the server's administrator can read why",
}


def error_for_users(error: str | None, state: str, reason: str | None) -> str | None:
    """A job's `error` as a token holder other than an admin reads it: the sentence of its
    failure's reason (`reason`: JobRecord.reason); a skip's or a cancel's own words, which
    MediaDesk writes itself ("Cancelled", "The original already plays in browsers")."""
    if not error:
        return None
    failed = reason is not None and reason in FAILURE_SENTENCES
    if not failed and state in ("skipped", "cancelled"):
        return error  # JobState's; a cancel of a job queued again after a failure has a reason
    return failure_sentence(reason)


def failure_sentence(reason: str | None) -> str:
    """The sentence of a failure's reason (FAILURE_SENTENCES), the one of no code if unknown."""
    return FAILURE_SENTENCES.get(reason, FAILURE_SENTENCES[None])


def refused_data(exc: BaseException) -> bool:
    """FFmpeg refused the data it was handed (EINVAL: a timestamp that goes back, a frame of
    another size; AVERROR_INVALIDDATA), as opposed to failing for want of a resource."""
    import av.error

    return isinstance(exc, av.error.ArgumentError | av.error.InvalidDataError)


# Local paths a job's `error` must not carry: it is answered to admin tokens (GET /jobs), shown
# in the desktop and kept in a catalog other machines share. Absolute POSIX paths, and
# Windows' drive and UNC ones (repr() doubles their backslashes); quoted with their spaces, or
# bare up to a space or a stop. A bare one needs two parts: "16/9" or "N/A" is no path, nor a
# URL's.
_QUOTED = re.compile(r"""(['"])((?:/|[A-Za-z]:[\\/]|\\\\)[^'"\n]*?)\1""")
_BARE = re.compile(
    r"""(?<![\w.~\\/:-])(?:/|[A-Za-z]:\\{1,2})[^\s'"/\\,;()]+"""
    r"""(?:(?:/|\\{1,2})[^\s'"/\\,;()]*)+"""
)


def without_paths(text: str, places: Mapping[Path, str] | None = None) -> str:
    """`text` without a local path: a path in one of `places` (a folder or a file, and the
    words for it itself) said from there ("360/index.m3u8" in the output folder), any other
    path by its file name. The one rule of a job's error text (failure_message, the worker)."""
    for place, words in _longest_first(places):

        def said(found: re.Match[str], words: str = words) -> str:
            return found.group(1) or words

        for spelt in {place, place.replace("\\", "\\\\")}:
            # the place itself, or a path in it; not a longer name that starts like it
            pattern = re.escape(spelt) + r"""(?:[/\\]+([^\s'"(),;]*))?(?![^\s'"/\\(),;])"""
            text = re.sub(pattern, said, text)
    text = _QUOTED.sub(lambda m: m.group(1) + _file_name(m.group(2)) + m.group(1), text)
    return _BARE.sub(lambda m: _file_name(m.group(0)), text)


def failure_message(exc: BaseException, places: Mapping[Path, str] | None = None) -> str:
    """A failure as a job's `error` says it: the exception's type and words, and the file it
    names (PyAV's errors and OSError's `filename`) as without_paths says a path."""
    import av.error

    strerror = getattr(exc, "strerror", None)
    if isinstance(exc, OSError | av.error.FFmpegError) and strerror:
        names = [getattr(exc, "filename", None), getattr(exc, "filename2", None)]
        named = [n for n in names if isinstance(n, str | bytes | os.PathLike)]
        files = [_name(os.fsdecode(n), places) for n in named]
        where = f" ({', '.join(files)})" if files else ""
        return f"{type(exc).__name__}: {strerror}{where}"
    return without_paths(f"{type(exc).__name__}: {exc}", places)


def _longest_first(places: Mapping[Path, str] | None) -> list[tuple[str, str]]:
    spelt = {str(place).rstrip("/\\"): words for place, words in (places or {}).items()}
    return sorted(((p, w) for p, w in spelt.items() if p), key=lambda pw: -len(pw[0]))


def _name(path: str, places: Mapping[Path, str] | None) -> str:
    for place, words in _longest_first(places):
        if path == place:
            return words
        if path.startswith((place + "/", place + "\\")):
            return path[len(place) :].lstrip("/\\")
    return _file_name(path)


def _file_name(path: str) -> str:
    return re.split(r"[/\\]+", path.rstrip("/\\"))[-1] or "a local file"
