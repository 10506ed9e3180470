"""A search reads white space in the texts as it reads the term's: each run one space.

An outside hunt (GET /files/?q= against a model of what was uploaded, SQLite and PostgreSQL):
the term's runs of white space were read as one space but the stored folds kept the texts'
own, so a description on two lines ("final" / "de copa") was not found by "final de copa", nor
by the line break pasted in, and a name with two spaces ("game  2.jpg") by nothing typed, not
even the whole name. Migration 0032 makes the stored folds of such rows again."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.db.migrate import upgrade
from core.db.models import Athlete, MediaFile
from core.library import Library
from core.query import matches
from core.records import FileQuery
from tests.internals import db_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.test_search_unicode import _catalog_from_0022, _searched

pytestmark = pytest.mark.timeout(120)

ROWS = [  # name, description
    ("game  2.jpg", ""),
    ("final.jpg", "final\nde copa"),
    ("tabs.jpg", "uno\tdos\r\ntres  cuatro "),
    ("plain.jpg", "game 3"),
]


@pytest.fixture(params=["sqlite", "postgres"])
def catalog(request: pytest.FixtureRequest) -> Library:
    lib: Library = request.getfixturevalue("library" if request.param == "sqlite" else "pg_library")
    with db_of(lib).write() as s:
        s.add(Athlete(id=1, name="Ana  María"))
        for i, (name, description) in enumerate(ROWS):
            s.add(
                MediaFile(
                    storage_key=f"general/2026/12/{i:032x}.jpg",
                    original_filename=name,
                    content_type="image/jpeg",
                    file_type="image",
                    size=1000 + i,
                    sha256=f"{i:064x}",
                    description=description,
                    athlete_id=1 if name == "plain.jpg" else None,
                    status="ready",
                )
            )
    return lib


@pytest.mark.parametrize(
    ("q", "want"),
    [
        ("game 2", {"game  2.jpg"}),
        ("game  2", {"game  2.jpg"}),  # the name as it is, pasted
        ("GAME  2.JPG", {"game  2.jpg"}),
        ("final de copa", {"final.jpg"}),
        ("final\nde", {"final.jpg"}),
        ("l d", {"final.jpg"}),  # a term shorter than a trigram
        ("uno dos tres cuatro", {"tabs.jpg"}),
        ("dos\r\ntres", {"tabs.jpg"}),
        ("ana maria", {"plain.jpg"}),  # by its athlete
        ("game", {"game  2.jpg", "plain.jpg"}),
        ("e 2", {"game  2.jpg"}),
        ("e  3", {"plain.jpg"}),
    ],
)
def test_words_apart_on_lines_or_by_several_spaces_are_found(
    catalog: Library, q: str, want: set[str]
) -> None:
    for sort in ("-created_at", "original_filename", "size"):
        page = catalog.list_files(FileQuery(q=q, sort=sort, limit=50))
        assert page.total == len(page.items), q
        assert {r.original_filename for r in page.items} == want, (q, sort)
    # the desktop places a live change by the same rule
    every = catalog.list_files(FileQuery(limit=50)).items
    assert {r.original_filename for r in every if matches(r, FileQuery(q=q))} == want


def test_the_migration_lists_every_white_space_a_term_reads_as_one() -> None:
    from core.db.migrations.versions import __path__ as versions  # noqa: PLC0415

    source = (Path(versions[0]) / "0032_search_folds_white_space.py").read_text(encoding="utf-8")
    scope: dict[str, object] = {}
    exec(compile(source, "0032", "exec"), scope)  # noqa: S102
    spaces = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace() and c != " ")
    assert scope["OTHER_SPACES"] == spaces


def _refolds_from_0031(url: str) -> None:
    """A catalog whose folds an older version wrote (line breaks and double spaces kept)."""
    _catalog_from_0022(url)
    engine = create_engine(url)
    try:
        upgrade(engine, "0031")
        with engine.begin() as conn:
            conn.execute(
                text(
                    "UPDATE media_files SET description = :d, search_description = :fd, "
                    "original_filename = :n, search_name = :fn WHERE id = 2"
                ),
                {
                    "d": "Canción\nde cuna",
                    "fd": "cancion\nde cuna",
                    "n": "Medellín  2.jpg",
                    "fn": "medellin  2.jpg",
                },
            )
            conn.execute(
                text("UPDATE athletes SET name = :n, search_name = :f WHERE id = 1"),
                {"n": "Íñigo  Ibáñez", "f": "inigo  ibanez"},
            )
        assert _searched(url, "cion de") == set()
        assert _searched(url, "medellin 2") == set()
        assert _searched(url, "cuna") == {"Medellín  2.jpg"}
        upgrade(engine)
        assert _searched(url, "cion de") == {"Medellín  2.jpg"}
        assert _searched(url, "medellin 2") == {"Medellín  2.jpg"}
        assert _searched(url, "inigo ibanez") == {"plain.jpg"}  # by its athlete
        assert _searched(url, "nandu") == {"Ñandú final.jpg"}  # the other rows as they were
    finally:
        engine.dispose()


def test_migration_0032_refolds_the_texts_holding_white_space_on_sqlite(tmp_path: Path) -> None:
    _refolds_from_0031(f"sqlite:///{tmp_path / 'old.db'}")


def test_migration_0032_refolds_the_texts_holding_white_space_on_postgres(
    postgres_url: str,  # noqa: F811
) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("DROP DATABASE IF EXISTS folds_0032"))
        conn.execute(text("CREATE DATABASE folds_0032"))
    try:
        _refolds_from_0031(postgres_url.rsplit("/", 1)[0] + "/folds_0032")
    finally:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS folds_0032 WITH (FORCE)"))
        admin.dispose()
