"""What every benchmark script shares: ending cleanly on SIGTERM, and a hint instead of a
traceback when the development packages it borrows from tests/ are missing."""

from __future__ import annotations

import contextlib
import signal
import sys
from collections.abc import Iterator
from types import FrameType

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
