"""Token-bucket rate limiting of the upload endpoints, per token or client address, and the
limit on failed authentications per client address."""

from __future__ import annotations

import ipaddress
import math
import time
from collections import deque
from collections.abc import Callable

from aiohttp import web

from server.errors import ApiError
from server.state import LIBRARY, LIMITER, TOKEN, remote_address

MAX_BUCKETS = 10000
# Addresses followed by FailedAuthLimit: so many with recent failures, so many blocked
MAX_ADDRESSES = 10000
# How long a failure counted in nginx's check subrequest waits for the request nginx then
# passes on in full (at once, on the same connection pool), not to be counted twice
CHECK_REPEAT_SECONDS = 5.0


class RateLimiter:
    """`per_minute` requests per minute with bursts of the same size; 0 disables it.

    `setting`: MEDIADESK_UPLOAD_RATE_LIMIT as the server started with it. Changed since (the
    desktop's Settings ▸ Limits, another process of the data folder: core.shared_settings),
    `follow` takes the new value; before, the limit the server started with held until a
    restart while /config and the Settings said the new one."""

    def __init__(
        self,
        per_minute: int,
        clock: Callable[[], float] = time.monotonic,
        setting: int | None = None,
    ) -> None:
        self._setting = per_minute if setting is None else setting
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated)
        self._limit(per_minute)

    def _limit(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0

    def follow(self, setting: int) -> None:
        """The setting's value now: a change of it since the last look is the new limit (a
        client's allowance so far is kept, up to the new burst)."""
        if setting != self._setting:
            self._setting = setting
            self._limit(setting)

    @property
    def enabled(self) -> bool:
        return self.capacity > 0

    def take(self, key: str) -> float:
        """0 when allowed, else the seconds until the next request would be allowed."""
        if not self.enabled:
            return 0.0
        now = self._clock()
        tokens, updated = self._buckets.get(key, (self.capacity, now))
        tokens = min(self.capacity, tokens + (now - updated) * self.rate)
        if tokens >= 1.0:
            self._set(key, tokens - 1.0, now)
            return 0.0
        self._set(key, tokens, now)
        return (1.0 - tokens) / self.rate

    def _set(self, key: str, tokens: float, now: float) -> None:
        if len(self._buckets) >= MAX_BUCKETS and key not in self._buckets:
            full = [
                k
                for k, (t, u) in self._buckets.items()
                if min(self.capacity, t + (now - u) * self.rate) >= self.capacity
            ]
            for k in full:
                del self._buckets[k]
            if len(self._buckets) >= MAX_BUCKETS:
                self._buckets.clear()
        self._buckets[key] = (tokens, now)


def check_upload_rate(request: web.Request) -> None:
    """Raises 429 with Retry-After when this client has used up its upload allowance."""
    limiter = request.app[LIMITER]
    limiter.follow(request.app[LIBRARY].settings.upload_rate_limit)
    token = request.get(TOKEN)
    key = f"token:{token.id}" if token is not None else f"addr:{remote_address(request)}"
    wait = limiter.take(key)
    if wait > 0:
        raise too_many(wait, "Too many uploads; try again in {seconds} s")


def too_many(seconds: float, message: str) -> ApiError:
    wait = max(1, math.ceil(seconds))
    return ApiError(
        429,
        "rate_limited",
        message.format(seconds=wait),
        headers={"Retry-After": str(wait)},
        details={"retry_after": wait},
    )


class FailedAuthLimit:
    """At most `limit` failed authentications (unknown or revoked tokens, bad signatures) per
    client address in any `window` seconds; the one that reaches it blocks the address for
    `window` seconds, during which every request of it that presents a credential is refused
    unseen, a valid one too: answered, it would tell a guess right while the guessing goes on.
    Requests of it without a credential (public files, /health) are served as before.

    An IPv6 client counts by its /64 (`guesser`): one host is usually given a whole /64, and
    per address it could take a fresh one for every 20 guesses.

    Memory is bounded: at most `limit` times for each of MAX_ADDRESSES addresses with recent
    failures (past that, the address that failed first is forgotten) and MAX_ADDRESSES blocked
    addresses (past that, the block that ends first is lifted early). `limit` 0 turns it off.
    """

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.window = limit, window
        self.clock = clock  # tests set a clock they move by hand
        self._failures: dict[str, deque[float]] = {}
        self._blocked: dict[str, float] = {}  # address -> until; in order of their ends
        # (address, request) -> until: failures counted in nginx's checks, in order of their ends
        self._checked: dict[tuple[str, str], float] = {}

    def retry_after(self, address: str) -> float:
        """Seconds until `address` may present credentials again; 0 when it may now."""
        address = guesser(address)
        until = self._blocked.get(address)
        if until is None:
            return 0.0
        left = until - self.clock()
        if left <= 0:
            del self._blocked[address]
            return 0.0
        return left

    def failed(self, address: str) -> bool:
        """Counts a failure of `address`; True when it starts a block."""
        if self.limit <= 0:
            return False
        address = guesser(address)
        now = self.clock()
        times = self._failures.get(address)
        if times is None or (times and times[-1] <= now - self.window):
            if times is None and len(self._failures) >= MAX_ADDRESSES:
                del self._failures[next(iter(self._failures))]
            times = self._failures[address] = deque(maxlen=self.limit)
        times.append(now)
        if len(times) < self.limit or times[0] <= now - self.window:
            return False
        del self._failures[address]
        self._block(address, now + self.window)
        return True

    def failed_check(self, address: str, request: str) -> bool:
        """Counts a failure in nginx's check subrequest (X-MediaDesk-Check) as any other: the
        header is a client's to send too, and a client that reached the server without nginx
        guessed unthrottled behind it. `request` names the request checked (its credential
        among it): nginx passes a refused check on in full, and that repeat, found by
        `repeat_of_check`, is not counted again. True when it starts a block."""
        now = self.clock()
        while self._checked and next(iter(self._checked.values())) <= now:
            del self._checked[next(iter(self._checked))]  # ended: in the order they end
        if len(self._checked) >= MAX_ADDRESSES:
            del self._checked[next(iter(self._checked))]
        seen = (guesser(address), request)
        self._checked.pop(seen, None)
        self._checked[seen] = now + CHECK_REPEAT_SECONDS
        return self.failed(address)

    def repeat_of_check(self, address: str, request: str) -> bool:
        """Whether a failure is nginx's pass in full of a check whose failure counted already
        (failed_check): then it is not counted again. Once: a second repeat counts."""
        until = self._checked.pop((guesser(address), request), None)
        return until is not None and until > self.clock()

    def _block(self, address: str, until: float) -> None:
        now = self.clock()
        while self._blocked and next(iter(self._blocked.values())) <= now:
            del self._blocked[next(iter(self._blocked))]  # ended: blocks end in their order
        if len(self._blocked) >= MAX_ADDRESSES:
            del self._blocked[next(iter(self._blocked))]
        self._blocked.pop(address, None)
        self._blocked[address] = until


def guesser(address: str) -> str:
    """Who FailedAuthLimit counts: an IPv6 address's /64 (an IPv4-mapped one as IPv4), any
    other address (IPv4, "unknown") as it is."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return address
