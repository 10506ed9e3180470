"""Log formats: human text, or one JSON object a line (MEDIADESK_LOG_FORMAT=json).

A JSON line carries time, level, logger, message and, when known, request_id (the API request
being served), file_id, key (the storage key) and outcome. The last three come from a log
call's `extra=`; the request id from a context variable the server sets per request.
"""

from __future__ import annotations

import contextvars
import json
import logging
from datetime import UTC, datetime
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
