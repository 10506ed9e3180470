"""Trashing and restoring many files at once (the desktop's selection of a thousand): a batch of
files per transaction, each file answering as a single trash or restore would.

One commit per file took 12-30 ms apiece: 600 selected files took more than 12 s to reach the
trash on a loaded machine, and woke every other process of the catalog as many times."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import event, update

from core.db.models import MediaFile
from core.errors import Conflict, NotFound
from core.library import BULK_BATCH, Library
from tests.internals import db_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.test_desktop_models import add_rows


@pytest.fixture(params=["sqlite", "postgres"])
def lib(request: pytest.FixtureRequest) -> Library:
    library: Library = request.getfixturevalue(
        "library" if request.param == "sqlite" else "pg_library"
    )
    return library


def all_ids(lib: Library) -> list[int]:
    return sorted(r.id for r in lib.list_files(limit=1000).items)


def commits_during(lib: Library) -> list[int]:
    """Counts the catalog's committed transactions from now on (its write engine)."""
    seen: list[int] = []
    engine = db_of(lib)._write_engine
    event.listen(engine, "commit", lambda _conn: seen.append(1))
    return seen


def test_many_files_go_to_the_trash_and_back_a_batch_per_commit(lib: Library) -> None:
    count = BULK_BATCH * 2 + 17
    add_rows(lib, count)
    ids = all_ids(lib)
    reports: list[tuple[int, int]] = []
    commits = commits_during(lib)
    outcome = lib.trash_many(ids, report=lambda done, total: reports.append((done, total)))
    assert outcome.done == tuple(ids) and outcome.failed == ()
    assert len(commits) == 3, f"{len(commits)} commits for {count} files"
    assert reports == [(BULK_BATCH, count), (2 * BULK_BATCH, count), (count, count)]
    assert lib.counts()["trash"] == count and lib.counts()["all"] == 0
    assert all(lib.get_file(i).is_trashed for i in ids)

    outcome = lib.restore_many(ids[:10])
    assert outcome.done == tuple(ids[:10])
    assert lib.counts()["trash"] == count - 10
    assert not any(lib.get_file(i).is_trashed for i in ids[:10])
    assert lib.get_file(ids[10]).is_trashed


def test_each_file_answers_as_a_single_trash_would(lib: Library) -> None:
    add_rows(lib, 4)
    a, b, c, d = all_ids(lib)
    # d becomes an alias of c (what a duplicate upload hands out): both name one file
    with db_of(lib).write() as s:
        s.execute(update(MediaFile).where(MediaFile.id == d).values(alias_of=c))
    lib.trash(b)
    outcome = lib.trash_many([a, b, c, d, a, 2**40, 987654])
    assert outcome.done == (a, c)
    reasons = {i: (type(e), getattr(e, "reason", None)) for i, e in outcome.failed}
    assert reasons == {
        b: (Conflict, "already_trashed"),
        d: (Conflict, "already_trashed"),  # its file was trashed a moment before, as c
        2**40: (NotFound, None),
        987654: (NotFound, None),
    }
    assert lib.get_file(a).is_trashed and lib.get_file(c).is_trashed
    # the single calls are the same path: an alias answers as itself
    restored = lib.restore(d)
    assert restored.id == d and not lib.get_file(c).is_trashed
    with pytest.raises(Conflict) as caught:
        lib.restore(c)
    assert caught.value.reason == "not_trashed"
    with pytest.raises(NotFound):
        lib.trash(987654)


def test_a_batch_that_loses_a_race_runs_again_from_its_reads(pg_library: Library) -> None:
    """Another process trashes one of the batch's files between the batch's reads and its
    commit (on PostgreSQL, where two writers overlap): the batch runs again, answers
    already_trashed for that file and trashes the others."""
    library = pg_library
    add_rows(library, 3)
    a, b, c = all_ids(library)
    db = db_of(library)
    raced = threading.Event()

    def trash_b_elsewhere(session, _flush_context, _instances) -> None:  # type: ignore[no-untyped-def]
        if raced.is_set():
            return
        raced.set()
        # a second connection's commit, as another process's would be
        with db.engine.connect() as other:
            other.execute(
                update(MediaFile)
                .where(MediaFile.id == b)
                .values(deleted_at=MediaFile.created_at, version=MediaFile.version + 1)
            )
            other.commit()

    event.listen(db._write_factory, "before_flush", trash_b_elsewhere)
    try:
        outcome = library.trash_many([a, b, c])
    finally:
        event.remove(db._write_factory, "before_flush", trash_b_elsewhere)
    assert raced.is_set()
    assert outcome.done == (a, c)
    assert [(i, getattr(e, "reason", None)) for i, e in outcome.failed] == [(b, "already_trashed")]
