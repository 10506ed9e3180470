"""An edited cursor is refused as one (400 invalid_input) on SQLite and PostgreSQL alike.

An outside hunt (a property test of GET /files/ against both catalogs): values a column cannot
hold reached the database and answered 500 internal_error — on PostgreSQL an id past 32 bits
(the id column is INTEGER), a float for the BIGINT size (1e308: "bigint out of range"), a name
key holding NUL; on both, a name key holding a lone surrogate (no UTF-8 form). A later hunt: a
cursor that decodes to three other things (the JSON string "str", an object of three keys, a
number first) or the desktop's backwards cursor was answered "cursor belongs to sort=s" /
"sort=<-size", naming a sort no client has."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest

from core.db.models import MediaFile
from core.errors import InvalidInput
from core.library import Library
from core.records import MAX_ID, FileQuery
from tests.internals import db_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(120)

EDITED = (
    ("size", ["size", 5, 99999999999]),
    ("duration", ["duration", None, 99999999999]),
    ("-created_at", ["-created_at", "2026-12-07T04:09:34+00:00", -(2**40)]),
    ("size", ["size", 1e308, 1]),
    ("-size", ["-size", 1.5, 1]),
    ("original_filename", ["original_filename", "\x00", 1]),
    ("original_filename", ["original_filename", "a\ud800", 1]),
    ("-size", "str"),
    ("-size", {"-size": 1, "b": 2, "c": 3}),
    ("-size", [5, 5, 1]),
    ("-size", [["-size"], 5, 1]),
    ("-size", ["<-size", 5, 1]),
)


def _cursor(fields: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(fields).encode()).decode().rstrip("=")


def _fill(lib: Library) -> None:
    with db_of(lib).write() as s:
        for i in range(6):
            s.add(
                MediaFile(
                    storage_key=f"general/2026/12/{i:032x}.jpg",
                    original_filename=f"game_{i}.jpg",
                    content_type="image/jpeg",
                    file_type="image",
                    size=1000 + i % 2,
                    sha256=f"{i:064x}",
                    status="ready",
                    created_at=datetime(2026, 12, 7, tzinfo=UTC),
                )
            )


def _check(lib: Library) -> None:
    _fill(lib)
    for sort, fields in EDITED:
        for q in ("", "game"):  # the listing and a search read the cursor apart
            for trashed in (False, True):
                with pytest.raises(InvalidInput, match="handed out"):
                    lib.list_files(
                        FileQuery(cursor=_cursor(fields), sort=sort, q=q, trashed=trashed)
                    )
    # the edges the columns hold are still cursors
    for sort, fields in (
        ("size", ["size", 2**63 - 1, MAX_ID]),
        ("-size", ["-size", -(2**63), -MAX_ID - 1]),
        ("original_filename", ["original_filename", "\U0010ffff", MAX_ID]),
    ):
        assert lib.list_files(FileQuery(cursor=_cursor(fields), sort=sort)).items == []
    # past the longest duration come the files without one (NULLS LAST), here all of them
    longest = _cursor(["duration", 1e308, MAX_ID])
    assert len(lib.list_files(FileQuery(cursor=longest, sort="duration")).items) == 6
    walked = lib.list_files(FileQuery(sort="size", limit=4))
    assert walked.next_cursor is not None
    rest = lib.list_files(FileQuery(sort="size", cursor=walked.next_cursor, limit=4))
    assert len(walked.items) + len(rest.items) == 6


def test_edited_cursors_are_400s_on_sqlite(library: Library) -> None:
    _check(library)


def test_edited_cursors_are_400s_on_postgres(pg_library: Library) -> None:
    _check(pg_library)
