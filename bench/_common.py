"""What every benchmark script shares: ending cleanly on SIGTERM and on Ctrl-C, and a hint
instead of a traceback when the development packages it borrows from tests/ are missing."""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType
from typing import NoReturn, TypeVar

from core.stdio import hear_interrupts

A = TypeVar("A")
B = TypeVar("B")

# top-level modules of the `dev` dependency group (pyproject.toml) that benchmarks import
DEV_MODULES = frozenset({"pytest", "moto", "flask", "flask_cors", "werkzeug", "psycopg"})
DEV_HINT = (
    "run `make bench` or `make test` once first: benchmarks need the development packages "
    "(pytest, moto...) that `make run` does not install"
)


def exit_on_sigterm() -> None:
    """SIGTERM (a CI step's timeout, `kill PID`) ends the script through SystemExit, so its
    finally blocks and context managers stop the servers, PostgreSQL clusters and child
    processes it started and delete its temporary folders: Python's default for SIGTERM is to
    die on the spot, leaving all of them behind. Ctrl-C already raises KeyboardInterrupt."""

    def stop(signum: int, frame: FrameType | None) -> None:
        # a second SIGTERM must not cut the cleanup the first one started
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop)


def run_main(main: Callable[[], int | None]) -> NoReturn:
    """Every benchmark's entry point. Ctrl-C raises KeyboardInterrupt, which has already run
    the finally blocks that stop servers and remove folders by the time it reaches here: one
    line then says so, in place of a traceback that looked like a crash, and the exit status
    is the shell's 130 (128 + SIGINT), as for any program Ctrl-C stops. Started with SIGINT
    ignored (`bench/x.py &` from a script: shells ignore it in background jobs), Python left
    it ignored and `kill -INT` went unheard: hear_interrupts() puts the handler back, as the
    product's commands do."""
    hear_interrupts()
    try:
        code = main()
    except KeyboardInterrupt:
        print(
            f"{Path(sys.argv[0]).name}: interrupted (Ctrl+C); "
            "what it started was stopped and its folders removed",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(128 + signal.SIGINT) from None
    raise SystemExit(code or 0)


def alternating(
    first: Callable[[], object], second: Callable[[], object], rounds: int
) -> tuple[list[float], list[float]]:
    """Seconds of each of `rounds` runs of both, the order swapped every round (AB, BA, AB...): run
    in blocks, or always in the same order, the one that ran while a shared machine's load
    was higher looked slower (0.54x to 1.03x in three runs of the same thumbnails)."""

    def clocked(fn: Callable[[], object]) -> Callable[[], float]:
        def run() -> float:
            started = time.perf_counter()
            fn()
            return time.perf_counter() - started

        return run

    return taking_turns(clocked(first), clocked(second), rounds)


def taking_turns(
    first: Callable[[], A], second: Callable[[], B], rounds: int
) -> tuple[list[A], list[B]]:
    """What each of `rounds` runs of both returned, in alternating()'s order (AB, BA, AB...):
    for sides that time only part of what they run (a copy made, a library opened or a
    folder removed before or after the measured part) and return their own figures."""
    ones: list[A] = []
    others: list[B] = []
    for round_ in range(rounds):
        if round_ % 2 == 0:
            ones.append(first())
            others.append(second())
        else:
            others.append(second())
            ones.append(first())
    return ones, others


@contextlib.contextmanager
def dev_packages() -> Iterator[None]:
    """Around the imports of test helpers (tests/*.py import pytest) and moto: in the app-only
    venv `make run` builds they are missing, and the traceback said nothing about why."""
    try:
        yield
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in DEV_MODULES:
            raise
        print(f"{exc.name} is not installed: {DEV_HINT}", file=sys.stderr)
        raise SystemExit(2) from None
