"""Names sort naturally (issue 7): game_2 < game_5 < game_10, any case, on SQLite and PostgreSQL,
through keyset cursors and an index, and the desktop places live rows the same way."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from core.db.migrate import upgrade
from core.db.models import MediaFile
from core.library import Library
from core.natsort import name_sort_key, natural_key
from core.query import insert_position
from core.records import FileQuery, FileRecord
from tests.internals import db_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(120)

# in insertion (id) order; plain string order would put game_10 before game_5 and Game_2 last
NAMES = [
    "game_10.mp4",
    "game_5.mp4",
    "Game_2.mp4",
    "game_1b.mp4",
    "game_1.mp4",
    "game_02.mp4",
    "Game_100.mp4",
    "game_9.mp4",
    "alpha.mp4",
    "GAME_20.mp4",
    "game_1a.mp4",
]
NATURAL = [
    "alpha.mp4",
    "game_1.mp4",
    "game_1a.mp4",
    "game_1b.mp4",
    "Game_2.mp4",
    "game_02.mp4",
    "game_5.mp4",
    "game_9.mp4",
    "game_10.mp4",
    "GAME_20.mp4",
    "Game_100.mp4",
]


def add(lib: Library, names: list[str]) -> None:
    with db_of(lib).write() as s:
        for i, name in enumerate(names):
            s.add(
                MediaFile(
                    storage_key=f"general/2024/01/{name}-{i}",
                    original_filename=name,
                    content_type="video/mp4",
                    file_type="video",
                    size=1000,
                    status="ready",
                )
            )


def walk(lib: Library, sort: str, limit: int = 3) -> list[str]:
    names: list[str] = []
    cursor = None
    while True:
        page = lib.list_files(FileQuery(sort=sort, limit=limit, cursor=cursor))
        names += [r.original_filename for r in page.items]
        if page.next_cursor is None:
            return names
        cursor = page.next_cursor


def check_natural_order(lib: Library) -> None:
    add(lib, NAMES)
    assert [r.original_filename for r in lib.list_files(sort="original_filename").items] == (
        NATURAL
    )
    # Game_2 and game_02 have the same key: the id breaks the tie, reversed when descending
    expected_desc = list(reversed(NATURAL))
    assert [r.original_filename for r in lib.list_files(sort="-original_filename").items] == (
        expected_desc
    )
    for limit in (1, 2, 3, 4):
        assert walk(lib, "original_filename", limit) == NATURAL
        assert walk(lib, "-original_filename", limit) == expected_desc
    assert [
        r.original_filename
        for r in lib.list_files(FileQuery(sort="original_filename", limit=4, offset=4)).items
    ] == (NATURAL[4:8])


def test_names_sort_naturally_with_cursors_on_sqlite(library: Library) -> None:
    check_natural_order(library)


def test_rename_moves_a_file_in_the_name_order(library: Library) -> None:
    add(library, ["clip_3.mp4", "clip_20.mp4", "clip_100.mp4"])
    first = library.list_files(sort="original_filename").items[0]
    assert first.original_filename == "clip_3.mp4"
    library.update_file(first.id, {"original_filename": "clip_50.mp4"})
    assert [r.original_filename for r in library.list_files(sort="original_filename").items] == [
        "clip_20.mp4",
        "clip_50.mp4",
        "clip_100.mp4",
    ]


def test_name_sort_walks_an_index(library: Library) -> None:
    add(library, NAMES)
    with db_of(library).read() as s:
        plan = " ".join(
            str(r[-1])
            for r in s.execute(
                text(
                    "EXPLAIN QUERY PLAN SELECT id FROM media_files WHERE deleted_at IS NULL "
                    "AND status = 'ready' ORDER BY name_sort DESC, id DESC LIMIT 50"
                )
            )
        )
    assert "ix_media_files_by_name_sort" in plan and "TEMP B-TREE" not in plan, plan


def test_migration_backfills_existing_rows(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    upgrade(engine, "0007")
    with engine.begin() as conn:
        for i, name in enumerate(NAMES):
            conn.execute(
                text(
                    "INSERT INTO media_files (storage_key, original_filename, file_type, "
                    "is_public, description, status, has_thumbnail, extra, created_at, "
                    "updated_at, version) VALUES (:k, :n, 'video', 0, '', 'ready', 0, '{}', "
                    "'2024-01-01 00:00:00', '2024-01-01 00:00:00', 1)"
                ),
                {"k": f"k{i}", "n": name},
            )
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT original_filename, name_sort FROM media_files")).all()
    engine.dispose()
    assert all(key == name_sort_key(name) for name, key in rows)
    assert [n for n, _ in sorted(rows, key=lambda r: r[1])] == NATURAL


def test_keys_order_like_the_python_sort() -> None:
    assert sorted(NAMES, key=natural_key) == NATURAL
    assert name_sort_key("Game_2") == name_sort_key("game_02")
    # numbers before text at the same place, and a shorter name first
    assert sorted(["a-", "ab", "a1", "a"], key=natural_key) == ["a", "a1", "a-", "ab"]
    assert len(name_sort_key("1_" * 127)) <= 512  # fits the column and its index


def test_desktop_places_live_rows_in_natural_order(library: Library) -> None:
    add(library, ["game_1.mp4", "game_5.mp4", "game_10.mp4", "game_100.mp4"])
    rows: list[FileRecord] = library.list_files(sort="original_filename").items
    record = dataclasses.replace(rows[0], id=99, original_filename="Game_7.mp4")
    assert insert_position(rows, record, "original_filename") == 2
    desc = library.list_files(sort="-original_filename").items
    assert insert_position(desc, record, "-original_filename") == 2


def test_names_sort_naturally_with_cursors_on_postgres(pg_library: Library) -> None:
    check_natural_order(pg_library)
    with db_of(pg_library).read() as s:
        indexes = set(s.scalars(text("SELECT indexname FROM pg_indexes")))
        collation = s.scalar(
            text(
                "SELECT collation_name FROM information_schema.columns "
                "WHERE table_name = 'media_files' AND column_name = 'name_sort'"
            )
        )
    assert "ix_media_files_by_name_sort" in indexes and collation == "C"


# Spanish staff's alphabetical order: accented letters beside their base letter, ñ after n;
# byte order put every accented initial after "z" (Álvaro, Ñandú, Óscar, Úrsula last)
SPANISH = ["Álvaro.jpg", "Beatriz.jpg", "Łukasz.jpg", "nube.jpg", "Ñandú.jpg", "ocho.jpg"]
SPANISH += ["Óscar.jpg", "Úrsula.jpg", "Zoe.jpg"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_accented_names_sort_beside_their_letter(
    backend: str, request: pytest.FixtureRequest
) -> None:
    lib: Library = request.getfixturevalue("library" if backend == "sqlite" else "pg_library")
    add(lib, list(reversed(SPANISH)))
    assert walk(lib, "original_filename", 2) == SPANISH
    assert walk(lib, "-original_filename", 4) == list(reversed(SPANISH))
    for name in ("Zoë", "Álvaro Ruiz", "ñu", "Nadia"):
        lib.create_athlete(name)
    lib.create_athlete("Alvaro Ruiz", athlete_id=900)
    lib.create_athlete("ÁLVARO RUIZ", athlete_id=5)  # ties with both: ids decide
    assert [a.name for a in lib.athletes()] == [
        "Álvaro Ruiz",  # id 2
        "ÁLVARO RUIZ",
        "Alvaro Ruiz",
        "Nadia",
        "ñu",
        "Zoë",
    ]


def test_migration_rewrites_the_keys_of_accented_names(tmp_path: Path) -> None:
    """A catalog keyed by the old rule (0008's case-folding) is rekeyed by 0022."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = create_engine(url)
    upgrade(engine, "0021")
    with engine.begin() as conn:
        for i, name in enumerate(reversed(SPANISH)):
            conn.execute(
                text(
                    "INSERT INTO media_files (storage_key, original_filename, name_sort, "
                    "file_type, is_public, description, status, has_thumbnail, extra, "
                    "created_at, updated_at, version) VALUES (:k, :n, :old, 'image', 0, '', "
                    "'ready', 0, '{}', '2024-01-01 00:00:00', '2024-01-01 00:00:00', 1)"
                ),
                {"k": f"k{i}", "n": name, "old": name.casefold()},
            )
    upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT original_filename FROM media_files ORDER BY name_sort, id")
        ).all()
    engine.dispose()
    assert [n for (n,) in rows] == SPANISH


# A club's names with Latin letters that no decomposition leads to a base letter, among plain
# ones they must sort beside: ø with o, ł with l, đ with d, æ as ae, þ as th, ß as ss (the fold
# library catalogues use). The old key left Æsa, Đorđe, Łukasz, Ødegaard, Søren and Þór after Zoe.
CLUB = ["Adam", "Æsa", "Afton", "Dora", "Đorđe", "Dorf", "İlkay", "Ivan", "Lars", "Łukasz"]
CLUB += ["Luna", "Nube", "Ñúñez", "Oda", "Ødegaard", "Olsen", "Sofia", "Søren", "Strand"]
CLUB += ["Straße", "Street", "Theo", "Þór", "Tomas", "Zoe"]


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_letters_without_a_decomposition_sort_with_their_base_letter(
    backend: str, request: pytest.FixtureRequest
) -> None:
    lib: Library = request.getfixturevalue("library" if backend == "sqlite" else "pg_library")
    files = [f"{n}.jpg" for n in CLUB]
    add(lib, files[1::2] + files[::2])  # ids out of name order
    # cursor pages of every size put each file once, in order, both ways
    for limit in (2, 7):
        assert walk(lib, "original_filename", limit) == files
        assert walk(lib, "-original_filename", limit) == files[::-1]
    page = lib.list_files(FileQuery(sort="original_filename", limit=5, offset=10))
    assert [r.original_filename for r in page.items] == files[10:15]
    # the desktop places a live row by the same key
    rows = lib.list_files(sort="original_filename").items
    moved = dataclasses.replace(rows[0], id=999, original_filename="Øyvind.jpg")
    assert insert_position(rows, moved, "original_filename") == files.index("Olsen.jpg") + 1
    for name in reversed(CLUB):
        lib.create_athlete(name)
    assert [a.name for a in lib.athletes()] == CLUB  # the sidebar, selectors and GET /athletes


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_migration_0033_rekeys_only_the_names_holding_such_letters(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path / 'old.db'}"
    else:
        admin = create_engine(request.getfixturevalue("postgres_url"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS name_sort_0033"))
            conn.execute(text("CREATE DATABASE name_sort_0033"))
        url = admin.url.set(database="name_sort_0033").render_as_string(hide_password=False)
    engine = create_engine(url)
    try:
        upgrade(engine, "0032")
        # the keys an older version stored: the letters as they are ("ǿ" decomposed as 0022 did)
        old = {n: name_sort_key(n) for n in ("Oda", "Olsen", "Zoe")}
        old |= {"Ødegaard": "ødegaard", "ǾRJAN": "ø\u0301rjan", "Æsa": "æsa", "Þór": "þor"}
        with engine.begin() as conn:
            for i, (name, key) in enumerate(old.items()):
                conn.execute(
                    text(
                        "INSERT INTO media_files (storage_key, original_filename, name_sort, "
                        "file_type, is_public, description, status, has_thumbnail, extra, "
                        "created_at, updated_at, version) VALUES (:k, :n, :key, 'image', "
                        "false, '', 'ready', false, '{}', '2024-01-01 00:00:00', "
                        "'2024-01-01 00:00:00', 1)"
                    ),
                    {"k": f"k{i}", "n": name, "key": "unread" if name == "Zoe" else key},
                )
        upgrade(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT original_filename, name_sort FROM media_files ORDER BY name_sort")
            ).all()
    finally:
        engine.dispose()
        if backend == "postgres":
            with admin.connect() as conn:
                conn.execute(text("DROP DATABASE IF EXISTS name_sort_0033 WITH (FORCE)"))
            admin.dispose()
    # Zoe's key was not read again: only the rows holding such a letter are written
    assert [n for n, _ in rows] == ["Æsa", "Oda", "Ødegaard", "Olsen", "ǾRJAN", "Þór", "Zoe"]
    assert dict(rows)["Zoe"] == "unread"
