"""Log formats: human text, or one JSON object a line (MEDIADESK_LOG_FORMAT=json), and the
log file kept in the data folder (`LogFile`).

A JSON line carries time, level, logger, message and, when known, request_id (the API request
being served), file_id, key (the storage key) and outcome. The last three come from a log
call's `extra=`; the request id from a context variable the server sets per request.
"""

from __future__ import annotations

import contextvars
import json
import logging
import logging.handlers
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
CONTEXT_FIELDS = ("file_id", "key", "outcome", "file_type", "code")

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "mediadesk_request_id", default=None
)


class JsonFormatter(logging.Formatter):
    """One JSON object a line; never raises on odd arguments."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or request_id_var.get(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def make_formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


def apply_format(log_format: str, logger: logging.Logger | None = None) -> None:
    """Gives every handler of the root logger (or `logger`) the chosen format."""
    target = logger or logging.getLogger()
    formatter = make_formatter(log_format)
    for handler in target.handlers:
        handler.setFormatter(formatter)


class LogFile(logging.handlers.RotatingFileHandler):
    """The log file in the data folder, rotated (a few MB at most).

    The data folder is where a disk fills up first. While the file cannot be written, the
    other handlers (the console) say so once, instead of Python's "--- Logging error ---" and a
    traceback on stderr for every record, and once more when it can be written again, with the
    number of records lost meanwhile (that line goes into the file too). A record that cannot
    be formatted (a wrong log call) still gets Python's traceback: it names the call.
    """

    def __init__(self, path: Path, max_bytes: int = 2_000_000, backups: int = 3) -> None:
        super().__init__(path, maxBytes=max_bytes, backupCount=backups, encoding="utf-8")
        self._failing: str | None = None  # the error, while records cannot be written
        self._lost = 0
        self._failed = False  # in the record being written

    def emit(self, record: logging.LogRecord) -> None:
        self._failed = False
        super().emit(record)
        if self._failing is not None and not self._failed:
            lost, self._failing, self._lost = self._lost, None, 0
            back = self._record(
                logging.INFO,
                "The log file %s can be written again; %d log records were lost",
                self.baseFilename,
                lost,
            )
            self._tell(back)
            super().emit(back)

    def handleError(self, record: logging.LogRecord) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, OSError):
            super().handleError(record)
            return
        self._failed = True
        self._lost += 1
        if self._failing is None:
            self._failing = str(error)
            self._tell(
                self._record(
                    logging.WARNING,
                    "The log file %s cannot be written (%s); log records are lost until it can",
                    self.baseFilename,
                    error,
                )
            )

    def _record(self, level: int, message: str, *args: object) -> logging.LogRecord:
        return logging.LogRecord(__name__, level, __file__, 0, message, args, None)

    def _tell(self, record: logging.LogRecord) -> None:
        """Hands `record` to the root logger's other handlers (Python's last resort, stderr,
        when there is none)."""
        others = [h for h in logging.getLogger().handlers if h is not self]
        if not others and logging.lastResort is not None:
            others = [logging.lastResort]
        for handler in others:
            if record.levelno >= handler.level:
                handler.handle(record)
