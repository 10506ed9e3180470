"""The process's standard streams, made sure of before anything else runs (both entry points:
`mediadesk` and `mediadesk serve`/`maintenance`/...)."""

from __future__ import annotations

import os
import sys

_STD_STREAMS = ((0, "stdin", "r"), (1, "stdout", "w"), (2, "stderr", "w"))


def reopen_closed_std_streams() -> None:
    """Puts /dev/null on a standard descriptor the process was started without (`cmd >&-`,
    `2>&-`, some daemonisers). Python then has no sys.stdout or sys.stderr: `maintenance`
    died on its report ('NoneType' object has no attribute 'write') and `serve` exited 1
    with nothing said anywhere; worse, the next file opened would take descriptor 1 or 2 and
    receive what was printed. Its log file still says what the server does."""
    for fd, name, mode in _STD_STREAMS:
        try:
            os.fstat(fd)
            continue
        except OSError:
            pass
        null = os.open(os.devnull, os.O_RDWR)  # the lowest free descriptor: this one, or lower
        if null != fd:
            os.dup2(null, fd)
            os.close(null)
        if getattr(sys, name) is None:
            setattr(sys, name, open(fd, mode, encoding="utf-8", closefd=False))  # noqa: SIM115
