"""FileQuery filters and sort order evaluated in Python, to place live changes in a loaded page."""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from core.natsort import name_sort_key
from core.records import FileQuery, FileRecord


def matches(record: FileRecord, query: FileQuery) -> bool:
    """True when the catalog query would return this record (same rules as core.catalog)."""
    if record.is_trashed != query.trashed:
        return False
    if query.status and record.status != query.status:
        return False
    if query.athlete_id is not None and record.athlete_id != query.athlete_id:
        return False
    if query.file_type and record.file_type != query.file_type:
        return False
    if query.is_public is not None and record.is_public != query.is_public:
        return False
    text = query.q.strip().lower()
    if not text:
        return True
    return text in record.original_filename.lower() or text in (record.description or "").lower()


class _Key:
    """Sort key with NULLS LAST on the column and the id as a tie-breaker, like the catalog."""

    __slots__ = ("value", "id", "desc")

    def __init__(self, record: FileRecord, sort: str) -> None:
        self.desc = sort.startswith("-")
        key = sort.lstrip("-")
        # names by the catalog's natural key (core.natsort), the order the server pages in
        self.value: Any = (
            name_sort_key(record.original_filename)
            if key == "original_filename"
            else getattr(record, key)
        )
        self.id = record.id

    def __lt__(self, other: _Key) -> bool:
        if self.value is None or other.value is None:
            if self.value is None and other.value is None:
                return self.id > other.id if self.desc else self.id < other.id
            return other.value is None  # NULLS LAST: a value comes before a null
        if self.value != other.value:
            return self.value > other.value if self.desc else self.value < other.value
        return self.id > other.id if self.desc else self.id < other.id


def insert_position(rows: list[FileRecord], record: FileRecord, sort: str) -> int:
    """Where `record` belongs in `rows` (already in `sort` order)."""
    return bisect_left(rows, _Key(record, sort), key=lambda r: _Key(r, sort))
