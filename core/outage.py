"""The quiet window of a service that hangs (takes connections, answers nothing): one home for
its arithmetic, kept by the S3 store's outage (core/storage/s3.py _Outage) and the catalog's
(core/db/engine.py CatalogOutage) under their own locks."""

from __future__ import annotations

import math

# After a call waited out a service's silence, how long nobody asks it (every call is refused
# at once, with a Retry-After), in seconds: the first time, then twice as long after each
# probe that meets silence again, up to the longest. Short, so one call that timed out on a
# service that answers again holds the others back a few seconds at most; growing, so a
# service hung for minutes costs a user clicking through files one timeout every 20 s, not
# one per click.
HANG_WINDOW = 5.0
LONGEST_HANG_WINDOW = 20.0


class NotNow(Exception):
    """An outage's refusal (its `admit`): nobody asks the service for `seconds` more."""

    def __init__(self, seconds: float) -> None:
        super().__init__(seconds)
        self.seconds = max(1, math.ceil(seconds))  # a Retry-After: whole seconds, never 0


class QuietWindow:
    """When a silent service may be asked again. Not locked: its outage's lock guards it.

    A refusing service answers in milliseconds and opens no window; a silent one costs each
    caller the whole timeout, so after it nobody asks for `length` seconds, doubled after each
    probe that meets silence again (at most `longest`), and any answer closes it."""

    def __init__(self, first: float, longest: float) -> None:
        self.first = self.length = first
        self.longest = longest
        self._until = 0.0  # monotonic: nobody asks the service before

    def left(self, now: float) -> float:
        """Seconds until the service may be asked again (0: it may be now)."""
        return max(0.0, self._until - now)

    def silent(self, probe: bool, now: float) -> None:
        """A call met silence; `probe`: it was the one call asking a service already out."""
        if probe:
            self.length = min(2 * self.length, self.longest)
        self._until = max(self._until, now + self.length)

    def answered(self) -> None:
        self._until, self.length = 0.0, self.first
