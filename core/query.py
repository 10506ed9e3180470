"""Which files a FileQuery lists, and in which order: one rule for SQL and for Python.

core/catalog.py builds its WHERE and ORDER BY from these definitions; `matches` and
`insert_position` apply the same rule to a FileRecord, so the desktop places a live change in
a loaded page where the catalog's next page would put it (tests/test_query_rule.py compares
both on real catalogs, SQLite and PostgreSQL).
"""

from __future__ import annotations

from bisect import bisect_left
from typing import Any

from core.errors import InvalidInput
from core.mediatypes import FILE_KINDS, canonical_mime
from core.natsort import name_sort_key
from core.records import FileQuery, FileRecord, Sort
from core.text import composed, search_fold

NAME_FIELD = "original_filename"  # sorted by its natural key, stored as media_files.name_sort


def search_term(q: str) -> str:
    """The text searched for: runs of white space read as one space, the ends trimmed, in NFC
    as the texts searched are stored (core.text.composed)."""
    return " ".join(composed(q).split())


def searched(q: str) -> str:
    """What a search compares with the texts' folds: its term folded as they are
    (core.text.search_fold, which also reads again the two spaces a lone accent between two
    words leaves). Empty for no search, and for a term of lone accents: see finds_nothing."""
    return search_fold(search_term(q))


def finds_nothing(q: str) -> bool:
    """True for a term that folds away (lone combining accents, "\u0301"): it lists no file,
    where an empty fold, found in every text, would list them all."""
    return bool(search_term(q)) and not searched(q)


def searched_fields(record: FileRecord) -> tuple[str, str, str]:
    """What a search looks in: the file name, the description and the athlete's name."""
    return record.original_filename, record.description or "", record.athlete_name or ""


def content_type_filter(query: FileQuery) -> str | None:
    """The canonical type asked for (the seed's spellings too: video/avi), or None for any."""
    if not query.content_type:
        return None
    mime = canonical_mime(query.content_type)
    if mime is None:
        raise InvalidInput(f"Unsupported content_type {query.content_type!r}")
    return mime


def file_type_filter(query: FileQuery) -> str | None:
    if not query.file_type:
        return None
    if query.file_type not in FILE_KINDS:
        raise InvalidInput("file_type must be 'image' or 'video'")
    return query.file_type


def parse_sort(sort: str) -> Sort:
    try:
        return Sort(sort)
    except ValueError:
        raise InvalidInput(f"sort must be one of {', '.join(sorted(Sort))}") from None


def sort_value(record: FileRecord, field: str) -> Any:
    """The value a record is ordered by (names by their natural key, core.natsort)."""
    value = getattr(record, field)
    return name_sort_key(value) if field == NAME_FIELD else value


def matches(record: FileRecord, query: FileQuery) -> bool:
    """True when the catalog would list this record for `query` (paging aside)."""
    if record.is_trashed != query.trashed:
        return False
    if query.status and record.status != query.status:
        return False
    if query.athlete_id is not None and record.athlete_id != query.athlete_id:
        return False
    file_type = file_type_filter(query)
    if file_type and record.file_type != file_type:
        return False
    if query.is_public is not None and record.is_public != query.is_public:
        return False
    mime = content_type_filter(query)
    if mime and record.content_type != mime:
        return False
    # the catalog compares the stored folds (core.text.search_fold) of the same fields
    if finds_nothing(query.q):
        return False
    term = searched(query.q)
    return not term or any(term in search_fold(text) for text in searched_fields(record))


class _Key:
    """The catalog's order: the sort field with NULLS LAST both ways, ties by id the same way."""

    __slots__ = ("value", "id", "desc")

    def __init__(self, record: FileRecord, sort: Sort) -> None:
        self.desc = sort.descending
        self.value: Any = sort_value(record, sort.field)
        self.id = record.id

    def __lt__(self, other: _Key) -> bool:
        if self.value is None or other.value is None:
            if self.value is None and other.value is None:
                return self.id > other.id if self.desc else self.id < other.id
            return other.value is None  # NULLS LAST: a value comes before a null
        if self.value != other.value:
            return self.value > other.value if self.desc else self.value < other.value
        return self.id > other.id if self.desc else self.id < other.id


def order_key(sort: str) -> Any:
    """A `key=` for sorted(): records in the catalog's order for `sort`."""
    parsed = parse_sort(sort)
    return lambda record: _Key(record, parsed)


def insert_position(rows: list[FileRecord], record: FileRecord, sort: str) -> int:
    """Where `record` belongs in `rows` (already in `sort` order)."""
    key = order_key(sort)
    return bisect_left(rows, key(record), key=key)
