"""Token-bucket rate limiting of the upload endpoints, per token or client address."""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from aiohttp import web

from server.errors import ApiError
from server.state import LIMITER, TOKEN, remote_address

MAX_BUCKETS = 10000


class RateLimiter:
    """`per_minute` requests per minute with bursts of the same size; 0 disables it."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.capacity = float(per_minute)
        self.rate = per_minute / 60.0
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, updated)

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
    token = request.get(TOKEN)
    key = f"token:{token.id}" if token is not None else f"addr:{remote_address(request)}"
    wait = limiter.take(key)
    if wait > 0:
        seconds = max(1, math.ceil(wait))
        raise ApiError(
            429,
            "rate_limited",
            f"Too many uploads; try again in {seconds} s",
            headers={"Retry-After": str(seconds)},
            details={"retry_after": seconds},
        )
