"""A new athlete given no id takes the id after the highest, on SQLite and PostgreSQL alike.

The outside report: on PostgreSQL a POST /athletes refused with 409 athlete_exists used up an id
of the table's sequence, so the next new athlete skipped one (README: "takes the id after the
highest").
"""

from __future__ import annotations

import threading

import pytest

from core.catalog import Catalog
from core.db.engine import Database
from core.errors import Conflict
from core.library import Library
from tests.internals import db_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=["sqlite", "postgres"])
def lib(request: pytest.FixtureRequest) -> Library:
    library: Library = request.getfixturevalue(
        "library" if request.param == "sqlite" else "pg_library"
    )
    return library


def test_a_refused_creation_leaves_no_gap(lib: Library) -> None:
    assert lib.create_athlete("Ana Torres").id == 1
    for _ in range(3):
        with pytest.raises(Conflict) as refused:
            lib.create_athlete("Ana Torres")
        assert refused.value.reason == "athlete_exists"
    assert lib.create_athlete("Luis Gómez").id == 2
    assert lib.create_athlete("Explicit", 7).id == 7
    with pytest.raises(Conflict):
        lib.create_athlete("Explicit")
    assert lib.create_athlete("Eva Ruiz").id == 8
    with db_of(lib).write() as s:  # a placeholder an upload made
        Catalog.ensure_athlete(s, 9)
    assert lib.create_athlete("Sara Gil").id == 10


def test_creations_at_once_take_the_ids_in_a_row(lib: Library) -> None:
    """Servers creating athletes at the same moment, some of them refused and uploads making
    placeholders for the ids coming next: every creation given no name taken succeeds, and
    the ids run on without a gap."""
    lib.create_athlete("Taken")
    workers = 6
    dbs = [Database(db_of(lib).url) for _ in range(workers)]
    start = threading.Barrier(workers)
    failures: list[BaseException] = []
    refused: list[str] = []

    def work(n: int) -> None:
        catalog = Catalog(dbs[n])
        try:
            start.wait()
            for i in range(5):
                try:
                    catalog.create_athlete("Taken" if (n + i) % 3 == 0 else f"New {n}-{i}")
                except Conflict as exc:
                    refused.append(exc.reason)
                if n == 0:  # an upload naming the id after the highest
                    with dbs[n].write() as s:
                        Catalog.ensure_athlete(s, max(a.id for a in lib.athletes()) + 1)
        except BaseException as exc:  # noqa: BLE001 (reported by the test's thread)
            failures.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(workers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(90)
    finally:
        for db in dbs:
            db.dispose()
    assert not failures, failures
    assert refused and set(refused) == {"athlete_exists"}
    ids = sorted(a.id for a in lib.athletes())
    assert ids == list(range(1, len(ids) + 1))
    named = [a for a in lib.athletes() if a.name.startswith("New ")]
    assert len(named) == sum(1 for n in range(workers) for i in range(5) if (n + i) % 3)
