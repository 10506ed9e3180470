"""core.background.SharedThread: the counted start/stop shared by the change feed and the
maintenance leader (the desktop and its embedded server each start them once)."""

from __future__ import annotations

import threading

from core.background import SharedThread


def test_the_last_stop_ends_the_thread() -> None:
    ran = threading.Event()
    prepared: list[int] = []
    loop: SharedThread

    def target() -> None:
        ran.set()
        loop.stopping.wait()

    loop = SharedThread("test-loop", target)
    loop.start(prepare=lambda: prepared.append(1))
    loop.start(prepare=lambda: prepared.append(2))  # already running: counted only
    assert ran.wait(10) and loop.alive and prepared == [1]
    assert not loop.stop(5)  # one user left
    assert loop.alive
    woken: list[bool] = []
    assert loop.stop(5, wake=lambda: woken.append(True))
    assert not loop.alive and woken == [True]
    assert not loop.stop(5)  # nothing left to stop


def test_force_stops_whatever_the_count() -> None:
    def target() -> None:
        loop.stopping.wait()

    loop = SharedThread("test-loop", target)
    for _ in range(3):
        loop.start()
    assert loop.stop(5, force=True) and not loop.alive
    loop.start()  # and it starts again afterwards
    assert loop.alive
    assert loop.stop(5)
