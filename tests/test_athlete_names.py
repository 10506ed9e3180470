"""Athletes' ids and names, on SQLite and PostgreSQL: a new athlete always gets an id every
request takes, a placeholder athlete always a free name, and a name is cleaned as a file name
is (no control, zero-width or bidi characters, NFC)."""

from __future__ import annotations

import threading
import time
import unicodedata

import pytest
from sqlalchemy import create_engine, text

from core.catalog import Catalog
from core.errors import Conflict, InvalidInput
from core.library import Library
from core.records import MAX_ID
from tests.internals import db_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401


@pytest.fixture(params=["sqlite", "postgres"])
def lib(request: pytest.FixtureRequest) -> Library:
    library: Library = request.getfixturevalue(
        "library" if request.param == "sqlite" else "pg_library"
    )
    return library


def test_a_new_athlete_after_the_highest_id_takes_the_lowest_free_id(lib: Library) -> None:
    assert lib.create_athlete("Ana Torres").id == 1
    # anyone with an upload token can name the highest id: the athlete is made as a placeholder
    with db_of(lib).write() as s:
        Catalog.ensure_athlete(s, MAX_ID)
    # SQLite answered 2147483648 (refused by every other request), PostgreSQL a 500 (the end
    # of its sequence)
    assert [lib.create_athlete(n).id for n in ("Luis Gómez", "Eva Ruiz")] == [2, 3]
    assert lib.create_athlete("Explicit", 5).id == 5
    assert [lib.create_athlete(n).id for n in ("Sara Gil", "Leo Paz")] == [4, 6]
    assert max(a.id for a in lib.athletes()) == MAX_ID


def test_an_id_at_the_end_rolled_back_still_leaves_room(
    pg_library: Library,  # noqa: F811
) -> None:
    """PostgreSQL's setval outlives the transaction that made the athlete: the sequence is at
    its end although no athlete holds that id."""
    lib = pg_library
    with pytest.raises(RuntimeError), db_of(lib).write() as s:
        Catalog.ensure_athlete(s, MAX_ID)
        raise RuntimeError("the upload failed after naming the athlete")
    assert lib.create_athlete("Ana Torres").id == 1
    assert [a.id for a in lib.athletes()] == [1]


def test_a_placeholder_athlete_finds_a_free_name(lib: Library) -> None:
    lib.create_athlete("Athlete 7", 100)
    lib.create_athlete("Athlete 7 (#7)", 101)
    lib.create_athlete("Athlete 70", 102)
    for athlete_id in (7, 7, 8):  # the second 7 finds its athlete
        with db_of(lib).write() as s:
            Catalog.ensure_athlete(s, athlete_id)
    names = {a.id: a.name for a in lib.athletes()}
    assert names[7] == "Athlete 7 (#7, 2)"
    assert names[8] == "Athlete 8"
    lib.create_athlete("Athlete 9 (#9)", 103)
    lib.create_athlete("Athlete 9 (#9, 2)", 104)
    with db_of(lib).write() as s:
        Catalog.ensure_athlete(s, 9)
    assert {a.id: a.name for a in lib.athletes()}[9] == "Athlete 9"


def test_a_placeholder_name_taken_at_the_same_moment_is_passed_over(
    pg_library: Library,  # noqa: F811
    postgres_url: str,  # noqa: F811
) -> None:
    """Another transaction inserts "Athlete 7" after the placeholder looked for free names and
    before its own insert: the placeholder takes the next free name, not a 500."""
    other = create_engine(postgres_url)
    try:
        with other.connect() as conn:
            conn.execute(
                text("INSERT INTO athletes (id, name, created_at) VALUES (50, 'Athlete 7', now())")
            )
            failure: list[BaseException] = []

            def placeholder() -> None:
                try:
                    with db_of(pg_library).write() as s:
                        Catalog.ensure_athlete(s, 7)
                except BaseException as exc:  # noqa: BLE001 (reported by the test's thread)
                    failure.append(exc)

            worker = threading.Thread(target=placeholder)
            worker.start()
            deadline = time.monotonic() + 30
            # the placeholder waits on the uncommitted "Athlete 7" of the unique index
            while (
                not conn.execute(
                    text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
                ).scalar()
                and time.monotonic() < deadline
            ):
                time.sleep(0.05)
            conn.commit()
            worker.join(30)
        assert not failure, failure
        names = {a.id: a.name for a in pg_library.athletes()}
        assert names == {50: "Athlete 7", 7: "Athlete 7 (#7)"}
    finally:
        other.dispose()


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("Ana\u200bPérez", "AnaPérez"),  # zero-width space
        ("ev\u202eil", "evil"),  # right-to-left override
        ("a\x01b", "ab"),
        ("  Ana\t\nPérez \u200b Gil ", "Ana Pérez Gil"),  # whitespace runs stay one space
        (unicodedata.normalize("NFD", "Óscar Ruiz"), "Óscar Ruiz"),
    ],
)
def test_athlete_names_lose_invisible_characters(lib: Library, given: str, stored: str) -> None:
    created = lib.create_athlete(given)
    assert created.name == stored
    assert lib.rename_athlete(created.id, given + " 2").name == stored + " 2"


@pytest.mark.parametrize("invisible", ["   ", "\u200b", "\u2060\u200d", "\u202e\u200f"])
def test_an_invisible_athlete_name_is_refused_as_a_blank_one(lib: Library, invisible: str) -> None:
    with pytest.raises(InvalidInput):
        lib.create_athlete(invisible)
    athlete = lib.create_athlete("Ana Torres")
    with pytest.raises(InvalidInput):
        lib.rename_athlete(athlete.id, invisible)


def test_a_name_that_looks_the_same_is_the_same_athlete(lib: Library) -> None:
    lib.create_athlete("Óscar Ruiz")
    with pytest.raises(Conflict):
        lib.create_athlete(unicodedata.normalize("NFD", "Óscar Ruiz"))
    with pytest.raises(Conflict):
        lib.create_athlete("Óscar\u200b Ruiz")
    other = lib.create_athlete("Eva Gil")
    with pytest.raises(Conflict):
        lib.rename_athlete(other.id, unicodedata.normalize("NFD", "Óscar Ruiz"))


def test_a_name_another_athlete_has_is_a_conflict_that_names_it(lib: Library) -> None:
    """Reason athlete_exists, with the athlete that has the name: the bare conflict read as "the
    file changed in the meantime" in the desktop. Two desktops adding "Marco Ruiz" at once meet
    it too; an id taken under a free name is another conflict, reason athlete_id_taken, that
    names the id and its athlete (not the free name)."""
    marco = lib.create_athlete("Marco Ruiz")
    other = lib.create_athlete("Ana Gil")
    for attempt in (
        lambda: lib.create_athlete("Marco Ruiz"),
        lambda: lib.rename_athlete(other.id, "Marco  Ruiz"),
    ):
        with pytest.raises(Conflict) as caught:
            attempt()
        assert caught.value.reason == "athlete_exists"
        assert caught.value.details == {"name": "Marco Ruiz", "athlete_id": marco.id}
    with pytest.raises(Conflict) as caught:
        lib.create_athlete("Nadie", other.id)
    assert caught.value.reason == "athlete_id_taken"
    assert caught.value.details == {"athlete_id": other.id, "name": "Ana Gil"}
    assert "Nadie" not in str(caught.value) and "Ana Gil" in str(caught.value)
