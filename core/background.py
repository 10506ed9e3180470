"""A background loop shared by counted users: the change feed's listener (core/feed.py) and the
maintenance leader (core/leader.py) each run one."""

from __future__ import annotations

import threading
from collections.abc import Callable


class SharedThread:
    """One daemon thread running `target`; the first start() starts it and the stop() matching
    the last start() (or a forced one) ends it, so the desktop and its embedded server can share
    one loop. `target` returns once `stopping` is set."""

    def __init__(self, name: str, target: Callable[[], None]) -> None:
        self.name = name
        self.stopping = threading.Event()
        self._target = target
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._users = 0

    @property
    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, prepare: Callable[[], None] | None = None) -> None:
        """Counts a user; starts the thread unless it runs, calling `prepare` first."""
        with self._lock:
            self._users += 1
            if self.alive:
                return
            self.stopping.clear()
            if prepare is not None:
                prepare()
            self._thread = threading.Thread(target=self._target, name=self.name, daemon=True)
            self._thread.start()

    def stop(
        self, timeout: float, force: bool = False, wake: Callable[[], None] | None = None
    ) -> bool:
        """Uncounts a user (all with `force`); the last one ends the thread, calling `wake` to
        cut its wait short, and waits up to `timeout` seconds. True when this call ended it."""
        with self._lock:
            self._users = 0 if force else max(0, self._users - 1)
            if self._users or self._thread is None:
                return False
            thread, self._thread = self._thread, None
            self.stopping.set()
            if wake is not None:
                wake()
        thread.join(timeout)
        return True
