"""The quiet window of a service that hangs (takes connections, answers nothing) or asks to be
left alone a while (a store throttling): one home for its arithmetic, kept by the S3 store's
outage (core/storage/s3.py _Outage) and the catalog's (core/db/engine.py CatalogOutage) under
their own locks."""

from __future__ import annotations

import itertools
import math
import threading
import time

# After a call waited out a service's silence, how long nobody asks it (every call is refused
# at once, with a Retry-After), in seconds: the first time, then twice as long after each
# probe that meets silence again, up to the longest. Short, so one call that timed out on a
# service that answers again holds the others back a few seconds at most; growing, so a
# service hung for minutes costs a user clicking through files one timeout every 20 s, not
# one per click.
HANG_WINDOW = 5.0
LONGEST_HANG_WINDOW = 20.0
# The Retry-After of an outage that opens no window (a refused connection, a store's error
# answered at once): the next call asks the service again at once, and a client told this
# waits about what the Python client waits without one. Every answer of an outage says when
# to ask again: the first one to meet a hang had none, the ones after it had the window's.
ASK_AGAIN = 2


_EPISODES = itertools.count(1)  # Outage.episode: process-wide, so newer is greater


def whole_seconds(seconds: float) -> int:
    """A Retry-After: whole seconds, never 0."""
    return max(1, math.ceil(seconds))


class NotNow(Exception):
    """An outage's refusal (its `admit`): nobody asks the service for `seconds` more;
    `cause`: the reason of the failure that made the outage known, when its keeper said one."""

    def __init__(self, seconds: float, cause: str | None = None) -> None:
        super().__init__(seconds)
        self.seconds = whole_seconds(seconds)
        self.cause = cause


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

    def hold(self, seconds: float, now: float) -> None:
        """The service said when to ask it again (a throttling store's Retry-After)."""
        self._until = max(self._until, now + min(seconds, self.longest))

    def answered(self) -> None:
        self._until, self.length = 0.0, self.first


class Outage:
    """What one client of a service (an S3Storage, a Database) knows of the service being out
    of reach, shared by its threads: core/storage/s3.py's _Outage and core/db/engine.py's
    CatalogOutage say why each keeps one.

    Once a call found the service unreachable, one call at a time goes on asking it — the
    probe — and the others are refused at once (NotNow) instead of each waiting out its own
    timeouts. Any answer ends the outage, and so does a probe still going after `patience`
    seconds (a silent service fails it sooner, so it is being answered, slowly). A service
    that was silent (a timeout, not a refusal), or that answered asking to be left alone a
    while (`held`: a store throttling), is not asked at all for a while (QuietWindow).
    """

    def __init__(
        self,
        patience: float,
        window: float = HANG_WINDOW,
        longest_window: float = LONGEST_HANG_WINDOW,
    ) -> None:
        self._lock = threading.Lock()
        self._down = False
        self._probe_since: float | None = None  # monotonic start of the probe in flight
        self._quiet = QuietWindow(window, longest_window)  # the service was silent: not asked
        self._cause: str | None = None  # the reason of the failure that made it known out
        self._silent = False  # the last failure was a silence (or a hold), not a refusal
        self._said = False  # this episode's first failure was claimed (first_failure)
        # claims so far (first_failure): a call that began before the latest one cannot end its
        # episode (ended's `seen`)
        self.claims = 0
        # the number of the last episode (from a first failure until the service answers
        # again), unique in the process: a log's counts start again with a newer one
        self.episode = 0
        self.patience = patience

    def first_failure(self) -> bool:
        """Whether a failure of the service is the first of its episode (from the first
        failure any caller meets until the service answers again), claimed at once: the one
        whose log line is the episode's ERROR. Loops with connections of their own (a change
        feed's LISTEN) claim too, so the first line is the ERROR whoever met it."""
        with self._lock:
            if self._said:
                return False
            self._said = True
            self.claims += 1
            self.episode = next(_EPISODES)
            return True

    def admit(self) -> bool:
        """True: this call is the probe (it must end with `ended`); False: no outage known.
        Raises NotNow while the service is out of reach and must not be asked now."""
        if not self._down:  # every call asks: no lock on the common path
            return False
        with self._lock:
            if not self._down:
                return False
            now = time.monotonic()
            if quiet := self._quiet.left(now):
                raise NotNow(quiet, self._cause)
            if self._probe_since is None:
                self._probe_since = now
                return True
            if now - self._probe_since < self.patience:
                # the probe ends within patience; a guess: a silent service's window, else
                # ASK_AGAIN. A refusing one opens no window (a stopped PostgreSQL): the
                # window's length said Retry-After 5 to the requests that met a probe in flight
                raise NotNow(self._quiet.length if self._silent else ASK_AGAIN, self._cause)
            self._down = False  # the probe is being answered, slowly: the service is there
            return False

    def ended(
        self,
        probe: bool,
        reached: bool | None,
        silent: bool = False,
        cause: str | None = None,
        seen: int | None = None,
    ) -> None:
        """A call ended; `reached`: the service answered (True), was unreachable (False), or
        the call ended for a cause that says nothing about it (None); `silent`: unreachable
        because it did not answer in time; `cause`: the reason the refusals say meanwhile;
        `seen`: `claims` when the call began."""
        if reached and self._said:  # the episode ends: its next failure is an ERROR again
            with self._lock:
                # unless the answer came before the failure that began it: a call answered just
                # before a cut, ending after another one claimed it, made a second ERROR line
                if seen is None or seen == self.claims:
                    self._said = False
        if not probe and (reached is None or (reached != self._down and not silent)):
            return  # nothing to change: no lock on the common path
        with self._lock:
            if probe:
                self._probe_since = None
            if reached is None:
                return
            self._down = not reached
            if reached:
                self._quiet.answered()
                return
            self._cause = cause
            self._silent = silent
            if silent:
                self._quiet.silent(probe, time.monotonic())

    def held(self, probe: bool, seconds: float | None, cause: str | None = None) -> None:
        """A call ended with the service's answer that it takes no work now (a store
        throttling: 503 SlowDown, 429): nobody asks it for `seconds` (what it asked for, at
        most the longest window), or, when it said nothing, for the window a silence opens
        (growing while each probe is told the same). Each call asking it meanwhile would only
        add to the load it asks to shed."""
        with self._lock:
            if probe:
                self._probe_since = None
            self._down = True
            self._cause = cause
            self._silent = True
            now = time.monotonic()
            if seconds is None:
                self._quiet.silent(probe, now)
            else:
                self._quiet.hold(seconds, now)

    def left(self) -> float:
        """Seconds until the service may be asked again (0: now, or no outage known)."""
        return self._quiet.left(time.monotonic())

    def retry_after(self, said: float | None = None) -> int:
        """The Retry-After of an answer that met this outage: the quiet window left, or what
        the service said of itself (`said`: a throttling store's own Retry-After), whichever
        is longer, else ASK_AGAIN. The one rule of every such answer, the first to meet the
        outage (which has no NotNow to tell it) and /health's too."""
        left = max(self.left(), float(said or 0))
        return whole_seconds(left) if left > 0 else ASK_AGAIN
