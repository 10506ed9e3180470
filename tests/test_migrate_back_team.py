"""A file migrated back to the backend it left, by one process, while another process runs the
deletion of the old copy it left there (LEFT_BEHIND): the object the row names again must
survive (README: "an object is never deleted while a row names it"). The deletion checked that
no row named the key on that backend, then deleted; the migration's copy and its row's switch,
made by another process between the two, lost the object (and the copy it came from went a
minute later). Two Library instances on one catalog (SQLite, PostgreSQL) stand for the two
processes: each has its own in-process locks, so only what is shared across processes keeps
them apart."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core import deferred, storage_migration
from core.db.models import DeferredDeletion
from core.library import Library
from core.storage_migration import MigrationReport, MigrationStep
from tests.conftest import make_settings
from tests.internals import db_of, storage_of
from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.r2_migrate import r2_settings

pytestmark = pytest.mark.timeout(120)

# How long the deletion, stopped between its check and its delete, gives the migration back to
# finish: one that is not kept waiting by a lock shared across processes ends well within it.
MOVE_PATIENCE = 3.0
# The migration back found waiting this long for the object's lock, in a call that has not
# returned, is kept waiting by the deletion (a lock this process's own threads would get at
# once): the deletion goes on then, without waiting out the whole patience every run.
BLOCKED = 1.0


@pytest.fixture
def postgresql_pair(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
    s3_bucket: Any,
) -> Iterator[tuple[Library, Library]]:
    """Two libraries (two servers' machines) on a fresh PostgreSQL database and one bucket."""
    url = fresh_database(postgres_url, "migback")
    libs = []
    for side in ("a", "b"):
        folder = tmp_path / side
        folder.mkdir()
        libs.append(Library.open(make_settings(folder, database_url=url, **r2_settings(s3_bucket))))
    yield libs[0], libs[1]
    for lib in libs:
        lib.close()


@pytest.fixture
def sqlite_pair(tmp_path: Path, s3_bucket: Any) -> Iterator[tuple[Library, Library]]:
    """The desktop and the CLI of one machine on one SQLite catalog, data folder and bucket."""
    folder = tmp_path / "data"
    folder.mkdir()
    first = Library.open(make_settings(folder, **r2_settings(s3_bucket)))
    second = Library.open(make_settings(folder, **r2_settings(s3_bucket)), migrate=False)
    yield first, second
    second.close()
    first.close()


@pytest.fixture(params=["postgresql", "sqlite"])
def pair(request: pytest.FixtureRequest) -> tuple[Library, Library]:
    return request.getfixturevalue(f"{request.param}_pair")  # type: ignore[no-any-return]


def _migrate_leaving_sources(lib: Library, target: str) -> MigrationReport:
    """A migration stopped in its wait for the old copies' deletion: they stay queued."""
    stop = threading.Event()

    def progress(step: MigrationStep) -> None:
        if step.removing:
            stop.set()

    return lib.backends.migrate(target, progress=progress, cancel=stop)


def _left_behind(lib: Library, key: str) -> list[str]:
    with db_of(lib).read() as s:
        return list(
            s.scalars(
                select(DeferredDeletion.backend).where(
                    DeferredDeletion.storage_key == key,
                    DeferredDeletion.reason == deferred.LEFT_BEHIND,
                )
            )
        )


def test_a_migration_back_during_the_other_processes_deletion_keeps_the_object(
    pair: tuple[Library, Library], media_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, two = pair
    # the old copies wait for their deletion (the tests' default deletes them at once)
    monkeypatch.setattr(storage_migration, "SOURCE_KEPT_SECONDS", 60.0)
    record = one.uploads.ingest(media_dir.jpeg, "image")  # on the bucket, the active backend
    key = record.storage_key
    data = b"".join(storage_of(one).open_range(key))
    assert _migrate_leaving_sources(one, "local").moved == 1
    bucket = storage_of(one).backend("r2")  # type: ignore[attr-defined]
    assert _left_behind(one, key) == ["r2"] and bucket.exists(key)  # the old copy, queued

    # Process two's deletion of the old copy has found no row naming the key on the bucket;
    # right then process one migrates the file back there.
    back: list[Any] = []
    real_named_on = deferred.named_on
    fired = threading.Event()

    def migrate_back() -> None:
        try:
            back.append(_migrate_leaving_sources(one, "r2"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertions below
            back.append(exc)

    mover = threading.Thread(target=migrate_back)
    # since when the mover has been asking for the object's lock, None while it is not
    asking: list[float | None] = [None]
    locks = one.deferred.object_locks
    real_hold = locks.hold

    @contextlib.contextmanager
    def watched_hold(locked: str) -> Iterator[None]:
        mine = locked == key and threading.current_thread() is mover
        if mine:
            asking[0] = time.monotonic()
        with real_hold(locked):
            if mine:
                asking[0] = None
            yield

    monkeypatch.setattr(locks, "hold", watched_hold)

    def kept_waiting() -> bool:
        since = asking[0]
        return since is not None and time.monotonic() - since >= BLOCKED

    def named_then_migrate_back(session: Any, named_key: str, backend: str) -> bool:
        found = real_named_on(session, named_key, backend)
        if named_key == key and backend == "r2" and not fired.is_set():
            fired.set()
            mover.start()
            # done unless a lock keeps it waiting for this deletion
            deadline = time.monotonic() + MOVE_PATIENCE
            while mover.is_alive() and not kept_waiting() and time.monotonic() < deadline:
                time.sleep(0.02)
        return found

    monkeypatch.setattr(deferred, "named_on", named_then_migrate_back)
    two.deferred.run(datetime.now(UTC) + timedelta(minutes=5))
    assert fired.is_set()
    mover.join(60)
    assert not mover.is_alive()
    monkeypatch.setattr(deferred, "named_on", real_named_on)

    assert len(back) == 1 and isinstance(back[0], MigrationReport), back
    assert back[0].moved == 1 and not back[0].failed, back[0]
    for lib in (one, two):
        assert lib.backends.backend_of_key(key) == "r2"
        # the row's object is on the bucket (was: deleted by the other process's deletion)
        assert b"".join(lib.open_range(lib.get_file(record.id), 0, None)) == data
    assert bucket.exists(key)
    # nothing waits to delete the copy the row names on the bucket
    assert "r2" not in _left_behind(one, key)
