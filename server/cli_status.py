"""The progress line of a long command on stderr (`storage migrate`, `catalog copy`)."""

from __future__ import annotations

import sys
import time

WIDTH = 60
# Seconds between two progress lines written anywhere but a terminal
LOG_EVERY = 5.0


class StatusLine:
    """Redrawn in place on a terminal. Elsewhere (a log file, cron's mail, journald, a pipe)
    the same `\\r`-redrawn steps, each padded to 60 columns, made one line of ~60 characters a
    file or a table's batch, which log readers show as one line of megabytes: there it is a line
    every LOG_EVERY seconds, and the last step's line at the end."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.written: float | None = None
        self.pending = ""

    def show(self, text: str) -> None:
        if self.tty:
            sys.stderr.write(f"\r{text[:WIDTH]:<{WIDTH}}")
            sys.stderr.flush()
            return
        now = time.monotonic()
        if self.written is not None and now - self.written < LOG_EVERY:
            self.pending = text
            return
        self.written, self.pending = now, ""
        sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def end(self) -> None:
        """Ends a terminal's line, or writes the last step a log was not told yet."""
        if self.tty:
            sys.stderr.write("\n")
        elif self.pending:
            sys.stderr.write(self.pending + "\n")
        self.pending = ""
        sys.stderr.flush()
