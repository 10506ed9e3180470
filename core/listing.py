"""The catalog's listing rules (page size, ids, status filters, orders) without the catalog.

Their home is here rather than in core.records so that scripts importing the HTTP client
(server.client.cli's `mediadesk list`) get them without loading SQLAlchemy and Pillow
(tests/test_client.py); core.records re-exports them.
"""

from __future__ import annotations

from enum import StrEnum

MAX_LIMIT = 1000  # files in one page of the catalog (FileQuery.limit, GET /files' limit)
# Catalog ids are INTEGER columns: 32-bit on PostgreSQL, so larger ids cannot exist (or be bound).
MAX_ID = 2**31 - 1


class FileStatus(StrEnum):
    """A file's `status` (the same strings in JSON and in the catalog)."""

    PENDING = "pending"  # a presigned or resumable upload not yet confirmed
    READY = "ready"
    FAILED = "failed"


# GET /files' `status`: a FileStatus, or "any" (FileQuery.status None); the default first
ANY_STATUS = "any"
STATUS_FILTERS = (
    FileStatus.READY.value,
    FileStatus.PENDING.value,
    FileStatus.FAILED.value,
    ANY_STATUS,
)


class Sort(StrEnum):
    """The catalog's orders: a record field, "-" first for descending (ties by id, same way).

    Listed in the order the desktop's sort box offers them (desktop_app/views/browser.py).
    """

    NEWEST = "-created_at"
    OLDEST = "created_at"
    # when shot (EXIF, a video's creation time), else when uploaded: a match from several
    # cameras in shooting order (core.metadata.capture_instant)
    TAKEN_NEWEST = "-captured_at"
    TAKEN_OLDEST = "captured_at"
    NAME = "original_filename"  # natural order (core.natsort): game_2 before game_10
    NAME_DESC = "-original_filename"
    LARGEST = "-size"
    SMALLEST = "size"
    LONGEST = "-duration"  # images have no duration: after the videos both ways
    SHORTEST = "duration"
    RECENTLY_EDITED = "-updated_at"
    EDITED_FIRST = "updated_at"

    @property
    def field(self) -> str:
        """The FileRecord field this order sorts by."""
        return self.value.lstrip("-")

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")


SORTS = frozenset(s.value for s in Sort)
