"""A file moved back to its old key on one process while another process's deferred deletion
of that key runs: the object must survive (README: "an object is never deleted while a row
names it"). Two Library instances on one catalog stand for two servers: each has its own
in-process locks, so only what is shared across processes keeps them apart."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core import deferred
from core.db.models import DeferredDeletion
from core.library import Library
from tests.conftest import make_settings
from tests.internals import db_of, storage_of
from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.r2_migrate import r2_settings

pytestmark = pytest.mark.timeout(120)

# How long the deletion, stopped between its check and its delete, gives the move back to
# finish: a move that is not kept waiting by a lock shared across processes ends well within it.
MOVE_PATIENCE = 2.0


@pytest.fixture
def postgresql_pair(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
    s3_bucket: Any,
) -> Iterator[tuple[Library, Library]]:
    """Two libraries ("servers") on a fresh PostgreSQL database and one moto bucket."""
    url = fresh_database(postgres_url, "moveback")
    libs = []
    for side in ("a", "b"):
        folder = tmp_path / side
        folder.mkdir()
        libs.append(Library.open(make_settings(folder, database_url=url, **r2_settings(s3_bucket))))
    yield libs[0], libs[1]
    for lib in libs:
        lib.close()


@pytest.fixture
def sqlite_pair(tmp_path: Path) -> Iterator[tuple[Library, Library]]:
    """The desktop and the server of one machine on one SQLite catalog and data folder."""
    folder = tmp_path / "data"
    folder.mkdir()
    first = Library.open(make_settings(folder))
    second = Library.open(make_settings(folder), migrate=False)
    yield first, second
    second.close()
    first.close()


@pytest.fixture(params=["postgresql", "sqlite"])
def pair(request: pytest.FixtureRequest) -> tuple[Library, Library]:
    return request.getfixturevalue(f"{request.param}_pair")  # type: ignore[no-any-return]


def _queued(lib: Library, key: str) -> list[str]:
    with db_of(lib).read() as s:
        return list(
            s.scalars(select(DeferredDeletion.reason).where(DeferredDeletion.storage_key == key))
        )


def test_a_move_back_during_the_other_servers_deletion_keeps_the_object(
    pair: tuple[Library, Library], media_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = pair
    record = one.uploads.ingest(media_dir.jpeg, "image", athlete_id=11)
    old_key = record.storage_key
    data = b"".join(storage_of(one).open_range(old_key))
    moved = one.update_file(record.id, {"athlete_id": 12})
    assert moved.storage_key != old_key and _queued(one, old_key) == ["move"]

    # Server one's deletion of the old key has found no row naming it; right then server two
    # moves the file back, to that very key.
    back: list[Any] = []
    real_named = deferred._named
    fired = threading.Event()

    def move_back() -> None:
        try:
            back.append(two.update_file(record.id, {"athlete_id": 11}))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            back.append(exc)

    mover = threading.Thread(target=move_back)

    def named_then_move_back(session: Any, key: str) -> bool:
        found = real_named(session, key)
        if key == old_key and not fired.is_set():
            fired.set()
            mover.start()
            mover.join(MOVE_PATIENCE)  # done unless a lock keeps it waiting for this deletion
        return found

    monkeypatch.setattr(deferred, "_named", named_then_move_back)
    one.deferred.run(datetime.now(UTC) + timedelta(minutes=5))
    assert fired.is_set()
    mover.join(30)
    assert not mover.is_alive()
    monkeypatch.setattr(deferred, "_named", real_named)

    assert len(back) == 1 and not isinstance(back[0], BaseException), back
    assert back[0].storage_key == old_key
    for lib in (one, two):
        assert lib.get_file(record.id).storage_key == old_key
        assert b"".join(storage_of(lib).open_range(old_key)) == data  # the row's object is there
    # nothing waits to delete the key a live row names (reconcile would list it for hours)
    assert _queued(one, old_key) == []


def test_a_move_that_lost_to_the_same_move_on_the_other_server_leaves_no_note(
    pair: tuple[Library, Library], media_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both servers move the file to athlete 12; server two commits first, so server one's
    copy lands on the key server two's row already names. That copy is the row's object now:
    it stays, and the deletion noted before it goes (else reconcile lists the key of a live
    file among the pending deletions for six hours)."""
    one, two = pair
    record = one.uploads.ingest(media_dir.jpeg, "image", athlete_id=11)
    old_key = record.storage_key
    data = b"".join(storage_of(one).open_range(old_key))
    catalog = one._catalog  # noqa: SLF001 - its read of the file is where the race is placed
    real_get = catalog.get
    raced: list[Any] = []

    def get_then_other_moves(file_id: int, *args: Any, **kwargs: Any) -> Any:
        found = real_get(file_id, *args, **kwargs)
        if not raced:  # server one has read the file; server two moves it meanwhile
            raced.append(two.update_file(record.id, {"athlete_id": 12}))
        return found

    monkeypatch.setattr(catalog, "get", get_then_other_moves)
    moved = one.update_file(record.id, {"athlete_id": 12})
    monkeypatch.setattr(catalog, "get", real_get)

    new_key = raced[0].storage_key
    assert moved.storage_key == new_key != old_key
    assert b"".join(storage_of(two).open_range(new_key)) == data
    assert _queued(one, new_key) == []
    assert _queued(one, old_key) == ["move"]
