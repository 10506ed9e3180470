"""The process's standard streams and its Ctrl+C, made sure of before anything else runs (both
entry points: `mediadesk` and `mediadesk serve`/`maintenance`/...)."""

from __future__ import annotations

import os
import signal
import sys
import threading

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


def hear_interrupts() -> None:
    """Ctrl+C (SIGINT) stops every command, whatever its start left it at.

    A process started with SIGINT ignored (a script's `mediadesk maintenance &`: shells ignore
    it in background jobs; cron or nohup under `trap '' INT`; a parent that ignores it) keeps
    it ignored, as Python leaves an inherited SIG_IGN alone: `maintenance` and `catalog copy`
    went on to their end deaf to the `kill -INT` meant to stop them, as `serve` once went on
    through a catalog migration of minutes. With Python's own handler back, an interrupt is a
    KeyboardInterrupt wherever it comes: the work under way rolls back (its transaction, a
    deletion's claim) and `run` says it in one line, exit status 130. A handler someone
    installed (a caller running `run` in its own process) is left as it is."""
    if threading.current_thread() is not threading.main_thread():
        return  # only the main thread may set one; none of the commands' starts is elsewhere
    if signal.getsignal(signal.SIGINT) in (signal.SIG_IGN, signal.SIG_DFL, None):
        signal.signal(signal.SIGINT, signal.default_int_handler)
