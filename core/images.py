"""The process-wide budget of decoded image memory.

A small compressed image can decode to hundreds of MiB: a 380 KB PNG of 9,900 x 9,900 RGBA
pixels (under the MAX_PIXELS bomb limit, so accepted) is 374 MiB decoded, and validation,
thumbnails, posters and `?w=` variants of several uploads at once (MEDIADESK_UPLOAD_BODIES
bodies in parallel) exhausted the server's memory. Every full decode goes through
DECODE_BUDGET: decodes run together while the sum of their decoded bytes stays under the
budget; the others wait in their worker threads (never on an event loop). An image larger than
the whole budget is still decoded, alone: it is under the pixel limit, so the budget only
orders it, never refuses it.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager

from PIL import Image

DEFAULT_DECODE_BUDGET = 512 * 1024 * 1024  # bytes of decoded pixels in flight in one process

# Pillow keeps a big image in blocks (16 MiB by default, PILLOW_BLOCK_SIZE); glibc serves blocks
# under its mmap threshold from heaps that keep freed memory, so decodes admitted one after
# another in different worker threads still added up (809 MiB for two 374 MiB PNGs in turn).
# Blocks of 64 MiB are mapped and unmapped: a finished decode's memory goes back.
Image.core.set_block_size(64 * 1024 * 1024)


def decoded_bytes(im: Image.Image, convert_to: int = 0) -> int:
    """Bytes of `im` decoded (width x height x bands at its current, possibly drafted, size),
    plus a copy of `convert_to` bands when the caller converts it (a palette image to RGBA)."""
    return im.width * im.height * (len(im.getbands()) + convert_to)


class DecodeBudget:
    """A gate admitting decodes while the sum of their decoded bytes stays within `budget`.

    First come, first admitted: a big decode waiting at the head of the line is not overtaken
    by a stream of small ones (it would wait for ever behind them). `in_flight`, `peak` and
    `waiting` are its public state, for logs and tests.
    """

    def __init__(self, budget: int = DEFAULT_DECODE_BUDGET) -> None:
        self._cond = threading.Condition()
        self._budget = budget
        self._line: deque[object] = deque()
        self._in_flight = 0
        self._peak = 0

    @property
    def budget(self) -> int:
        return self._budget

    @budget.setter
    def budget(self, value: int) -> None:
        if value < 1:
            raise ValueError("The decode budget must be positive")
        with self._cond:
            self._budget = value
            self._cond.notify_all()

    @property
    def in_flight(self) -> int:
        """Decoded bytes admitted and not yet released."""
        with self._cond:
            return self._in_flight

    @property
    def waiting(self) -> int:
        """Decodes waiting for room."""
        with self._cond:
            return len(self._line)

    @property
    def peak(self) -> int:
        """The most decoded bytes ever in flight at once (since the last reset_peak)."""
        with self._cond:
            return self._peak

    def reset_peak(self) -> None:
        with self._cond:
            self._peak = self._in_flight

    @contextmanager
    def hold(self, cost: int) -> Iterator[None]:
        """Waits until `cost` bytes fit (or nothing else is in flight), holds them while the
        block runs. Not reentrant: a thread holding room must not ask for more."""
        cost = max(0, cost)
        ticket = object()
        with self._cond:
            self._line.append(ticket)
            try:
                while not (
                    self._line[0] is ticket
                    and (self._in_flight == 0 or self._in_flight + cost <= self._budget)
                ):
                    self._cond.wait()
            finally:
                self._line.remove(ticket)
                self._cond.notify_all()  # the next in line may fit too
            self._in_flight += cost
            self._peak = max(self._peak, self._in_flight)
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= cost
                self._cond.notify_all()


DECODE_BUDGET = DecodeBudget()
