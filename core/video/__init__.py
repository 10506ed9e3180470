"""The video pipeline: job kinds run by workers (encode, runner, worker) and what they made."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

_Track = TypeVar("_Track")


def played_track(tracks: Iterable[_Track], is_default: Callable[[_Track], bool]) -> _Track | None:
    """The track players play: the one flagged default, else the first (None: none). The one
    home of the rule, for sound and pictures alike, read through PyAV (core.video.encode's
    main_audio and main_video: what the copies play) and MediaInfo (core.metadata: what the
    file's details say). Taken for the first, a clip whose default is its second (a commentary
    first, the match's sound second) played the commentary in its HLS and web copies, and its
    details named the commentary's codec; an MP4 of two cameras whose second is the enabled
    one (the one Chromium shows) had the first's pictures and size in its HLS and details."""
    listed = list(tracks)
    return next((t for t in listed if is_default(t)), listed[0] if listed else None)
