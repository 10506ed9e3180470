"""Domain exceptions with a stable code and a human message, translated once at each edge."""

from __future__ import annotations


class MediaDeskError(Exception):
    """Base of every error MediaDesk reports to a user or client."""

    code = "error"

    def __init__(self, message: str, *, details: dict[str, object] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or {}

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {"code": self.code, "message": self.message}
        if self.details:
            body["details"] = self.details
        return body


class InvalidInput(MediaDeskError):
    code = "invalid_input"


class UnsupportedType(MediaDeskError):
    code = "unsupported_type"


class TypeMismatch(MediaDeskError):
    code = "type_mismatch"


class TooLarge(MediaDeskError):
    code = "too_large"


class EmptyFile(MediaDeskError):
    code = "empty_file"


class CorruptFile(MediaDeskError):
    code = "corrupt_file"


class NotFound(MediaDeskError):
    code = "not_found"


class Conflict(MediaDeskError):
    code = "conflict"


class SizeMismatch(MediaDeskError):
    code = "size_mismatch"


class UploadNotReceived(MediaDeskError):
    code = "upload_not_received"


class StorageUnavailable(MediaDeskError):
    code = "storage_unavailable"


class InvalidSignature(MediaDeskError):
    code = "invalid_signature"


class SignatureExpired(MediaDeskError):
    code = "signature_expired"


class SettingsError(MediaDeskError):
    code = "invalid_setting"


class Cancelled(MediaDeskError):
    code = "cancelled"
