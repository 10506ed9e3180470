"""Turns exceptions into readable, translated messages: what went wrong, then the cause."""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication

from core.errors import MediaDeskError

logger = logging.getLogger(__name__)


def _titles() -> dict[str, str]:
    return {
        "invalid_input": QCoreApplication.translate("Errors", "The request is not valid"),
        "unsupported_type": QCoreApplication.translate(
            "Errors", "This type of file is not supported"
        ),
        "type_mismatch": QCoreApplication.translate(
            "Errors", "The content does not match the file type"
        ),
        "too_large": QCoreApplication.translate("Errors", "The file is too large"),
        "empty_file": QCoreApplication.translate("Errors", "The file is empty"),
        "corrupt_file": QCoreApplication.translate(
            "Errors", "The file is damaged or cannot be read"
        ),
        "not_found": QCoreApplication.translate("Errors", "Not found"),
        "conflict": QCoreApplication.translate("Errors", "Conflict"),
        "size_mismatch": QCoreApplication.translate("Errors", "The size does not match"),
        "upload_not_received": QCoreApplication.translate("Errors", "The upload was not received"),
        "storage_unavailable": QCoreApplication.translate(
            "Errors", "The storage cannot be reached"
        ),
        "invalid_signature": QCoreApplication.translate(
            "Errors", "The link signature is not valid"
        ),
        "signature_expired": QCoreApplication.translate("Errors", "The link has expired"),
        "invalid_setting": QCoreApplication.translate("Errors", "A setting is not valid"),
        "cancelled": QCoreApplication.translate("Errors", "Cancelled"),
    }


def error_title(exc: BaseException) -> str:
    """A short translated description of the kind of error."""
    if isinstance(exc, MediaDeskError):
        return _titles().get(exc.code, QCoreApplication.translate("Errors", "Error"))
    if isinstance(exc, PermissionError):
        return QCoreApplication.translate("Errors", "Permission denied")
    if isinstance(exc, FileNotFoundError):
        return QCoreApplication.translate("Errors", "File not found")
    if isinstance(exc, OSError):
        return QCoreApplication.translate("Errors", "A file or network operation failed")
    return QCoreApplication.translate("Errors", "Unexpected error")


def error_cause(exc: BaseException) -> str:
    if isinstance(exc, MediaDeskError):
        return exc.message
    if isinstance(exc, OSError) and exc.strerror:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{exc.strerror}{where}"
    return str(exc) or type(exc).__name__


def error_text(exc: BaseException) -> str:
    """`Title: cause`, e.g. 'The file is too large: The file is larger than …'."""
    if not isinstance(exc, MediaDeskError | OSError):
        logger.error("Unexpected error", exc_info=exc)
    title, cause = error_title(exc), error_cause(exc)
    return f"{title}: {cause}" if cause and cause != title else title
