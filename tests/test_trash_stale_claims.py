"""A claim for deletion (migration 0024) is a lease. A deletion that died after claiming its
files (kill -9, power loss, a catalog outage) once left them claimed for ever: a restore
answered 409 being_deleted however long after, and the trash kept them as they were. Past
CLAIM_LEASE the bytes decide: still stored, the claim goes (a restore answers 200, maintenance
leaves the file in the trash unmarked); gone, the deletion is finished (the restore answers
not_found, maintenance deletes the row). The crash is a claim written into the catalog as the
emptying writes it, dated back past the lease, and for "bytes gone" the object deleted as the
emptying deletes it first."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

import core.library
from core import keys
from core.catalog import Catalog
from core.db.models import MediaFile, utcnow
from core.errors import Conflict, NotFound
from core.library import CLAIM_LEASE, Library
from core.maintenance import run_maintenance
from core.records import FileRecord
from tests.internals import db_of, storage_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(params=["sqlite-local", "sqlite-s3", "postgresql"])
def lib(request: pytest.FixtureRequest) -> Library:
    name = {"sqlite-local": "library", "sqlite-s3": "s3_library", "postgresql": "pg_library"}
    return request.getfixturevalue(name[request.param])


def claimed(lib: Library, record: FileRecord, age: timedelta, bytes_gone: bool) -> None:
    """The state a deletion that died leaves: the file claimed `age` ago (as
    `_claim_for_deletion` claims, version bumped), and its object deleted if `bytes_gone`."""
    with db_of(lib).write() as s:
        s.execute(
            update(MediaFile)
            .where(MediaFile.id == record.id)
            .values(purging_since=utcnow() - age, version=MediaFile.version + 1)
            .execution_options(synchronize_session=False)
        )
    if bytes_gone:
        storage_of(lib).delete(record.storage_key)


def claim_of(lib: Library, file_id: int) -> object:
    with db_of(lib).read() as s:
        row = s.get(MediaFile, file_id)
        assert row is not None
        return row.purging_since


STALE = CLAIM_LEASE + timedelta(minutes=1)


def test_a_restore_of_a_file_whose_deletion_died_before_its_bytes_went_restores_it(
    lib: Library, media_dir: Any
) -> None:
    record = lib.uploads.ingest(media_dir.png, "image")
    lib.trash(record.id)
    claimed(lib, record, STALE, bytes_gone=False)
    restored = lib.restore(record.id)
    assert restored.id == record.id and not restored.is_trashed
    assert claim_of(lib, record.id) is None
    assert storage_of(lib).exists(record.storage_key)
    assert storage_of(lib).exists(keys.thumbnail_key(record.storage_key))


def test_a_restore_of_a_file_whose_deletion_died_after_its_bytes_went_answers_not_found(
    lib: Library, media_dir: Any
) -> None:
    record = lib.uploads.ingest(media_dir.png, "image")
    kept = lib.uploads.ingest(media_dir.jpeg, "image")
    lib.trash(record.id)
    lib.trash(kept.id)
    claimed(lib, record, STALE, bytes_gone=True)
    thumbnail = keys.thumbnail_key(record.storage_key)
    assert storage_of(lib).exists(thumbnail)
    outcome = lib.restore_many([record.id, kept.id])
    assert outcome.done == (kept.id,)
    [(file_id, error)] = outcome.failed
    assert file_id == record.id and isinstance(error, NotFound)
    with pytest.raises(NotFound):  # the deletion was finished: no row, no derivative
        lib.get_file(record.id)
    with pytest.raises(NotFound):
        lib.restore(record.id)
    assert record.id not in lib.trashed_before(utcnow())
    assert not storage_of(lib).exists(thumbnail)
    assert not lib.get_file(kept.id).is_trashed


def test_a_restore_within_the_lease_still_answers_being_deleted(
    lib: Library, media_dir: Any
) -> None:
    record = lib.uploads.ingest(media_dir.png, "image")
    lib.trash(record.id)
    claimed(lib, record, CLAIM_LEASE - timedelta(minutes=1), bytes_gone=False)
    with pytest.raises(Conflict) as refused:
        lib.restore(record.id)
    assert refused.value.reason == "being_deleted"
    assert lib.get_file(record.id).is_trashed
    assert claim_of(lib, record.id) is not None


def test_maintenance_settles_the_claims_of_deletions_that_died(
    lib: Library, media_dir: Any
) -> None:
    whole = lib.uploads.ingest(media_dir.png, "image")
    gone = lib.uploads.ingest(media_dir.jpeg, "image")
    live = lib.uploads.ingest(media_dir.gif, "image")
    for record in (whole, gone, live):
        lib.trash(record.id)
    claimed(lib, whole, STALE, bytes_gone=False)
    claimed(lib, gone, STALE, bytes_gone=True)
    claimed(lib, live, timedelta(0), bytes_gone=False)  # an emptying at work elsewhere
    report = run_maintenance(lib, only=frozenset({"stale_claims"}))
    assert report.errors == []
    assert report.released_claims == [whole.id]
    assert report.finished_deletions == [gone.id]
    assert sorted(lib.trashed_before(utcnow())) == sorted([whole.id, live.id])
    assert claim_of(lib, whole.id) is None  # in the trash as any other: the purge's turn
    assert lib.get_file(whole.id).is_trashed
    assert storage_of(lib).exists(whole.storage_key)
    with pytest.raises(NotFound):
        lib.get_file(gone.id)
    assert claim_of(lib, live.id) is not None
    with pytest.raises(Conflict):
        lib.restore(live.id)
    # and the next emptying deletes the file it unmarked, as any other in the trash
    assert sorted(lib.empty_trash()) == sorted([whole.id, live.id])
    assert not storage_of(lib).exists(whole.storage_key)


def delete_while(
    lib: Library,
    record: FileRecord,
    way: str,
    monkeypatch: pytest.MonkeyPatch,
    elsewhere: Callable[[], None],
) -> None:
    """Deletes the trashed `record` by `way` (emptying the trash or purging it), running
    `elsewhere` once after its claim and before any byte goes (both ways count the object's
    other references there), and asserts the deletion kept the file."""
    name = "referenced_by_others" if way == "empty_trash" else "references"
    count = getattr(Catalog, name)
    done: list[bool] = []

    def count_after_elsewhere(catalog: Catalog, *args: Any, **kw: Any) -> Any:
        if not done:
            done.append(True)
            elsewhere()
        return count(catalog, *args, **kw)

    monkeypatch.setattr(Catalog, name, count_after_elsewhere)
    if way == "empty_trash":
        assert lib.empty_trash() == []
    else:
        with pytest.raises(Conflict) as kept:
            lib.delete_permanently(record.id, only_trashed=True)
        assert kept.value.reason == "not_trashed"
    assert done == [True]
    assert not lib.get_file(record.id).is_trashed
    assert storage_of(lib).exists(record.storage_key)


@pytest.mark.parametrize("way", ["empty_trash", "purge"])
def test_a_deletion_stalled_past_the_lease_keeps_a_file_restored_meanwhile(
    lib: Library,
    media_dir: Any,
    monkeypatch: pytest.MonkeyPatch,
    way: str,
) -> None:
    """The deletion's claim outlives the lease between the claim and the bytes' deletion (a
    lease of 0: every claim is stale at once), and a restore on another server takes the file
    back meanwhile (its bytes are there): the deletion finds its claim gone and keeps it."""
    monkeypatch.setattr(core.library, "CLAIM_LEASE", timedelta(0))
    other = Library.open(lib.settings)  # another process on this catalog and store
    try:
        record = lib.uploads.ingest(media_dir.png, "image")
        lib.trash(record.id)
        restored: list[FileRecord] = []
        delete_while(
            lib, record, way, monkeypatch, lambda: restored.append(other.restore(record.id))
        )
        assert [r.id for r in restored] == [record.id]
    finally:
        other.close()


@pytest.mark.parametrize("way", ["empty_trash", "purge"])
def test_a_fresh_claim_settled_by_a_server_whose_clock_runs_ahead_keeps_the_file(
    lib: Library,
    media_dir: Any,
    monkeypatch: pytest.MonkeyPatch,
    way: str,
) -> None:
    """The claim is young on the deletion's clock (far from half the lease), but another
    server whose clock runs ahead past the lease (or a deletion stalled that long in a
    storage request's retries) finds it stale: its maintenance releases it, the bytes being
    there, and a restore there takes the file back. The deletion, which once renewed only
    past half the lease on its own clock, deleted the bytes of that live file; it now checks
    its mark right before the bytes go and keeps the file."""
    other = Library.open(lib.settings)  # another process on this catalog and store
    try:
        record = lib.uploads.ingest(media_dir.png, "image")
        lib.trash(record.id)
        settled: list[tuple[list[int], list[int]]] = []
        restored: list[FileRecord] = []

        def settle_then_restore() -> None:
            settled.append(other.settle_stale_claims(now=utcnow() + STALE))
            restored.append(other.restore(record.id))

        delete_while(lib, record, way, monkeypatch, settle_then_restore)
        assert settled == [([record.id], [])]
        assert [r.id for r in restored] == [record.id]
        assert claim_of(lib, record.id) is None
        assert storage_of(lib).exists(keys.thumbnail_key(record.storage_key))
    finally:
        other.close()


def test_a_deletion_that_renews_its_claim_still_deletes(
    lib: Library, media_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deletion renews its own claim before the bytes go (with a lease of 0 its claim is
    stale at once), which holds while nobody settled it: both ways delete as ever."""
    monkeypatch.setattr(core.library, "CLAIM_LEASE", timedelta(0))
    emptied = lib.uploads.ingest(media_dir.png, "image")
    purged = lib.uploads.ingest(media_dir.jpeg, "image")
    lib.trash(emptied.id)
    lib.trash(purged.id)
    assert lib.delete_permanently(purged.id, only_trashed=True).id == purged.id
    assert lib.empty_trash() == [emptied.id]
    assert lib.trashed_before(utcnow()) == []
    assert not storage_of(lib).exists(emptied.storage_key)
    assert not storage_of(lib).exists(purged.storage_key)
