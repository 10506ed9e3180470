"""A hard delete (`DELETE /files/{id}?hard_delete=true`) of a live file whose object DELETE
gets no answer from the bucket (a read timeout, a cut connection): the bucket may carry the
DELETE out all the same, then or later. The file was put back live (the server took the
failure for a refusal, its check of the object not asked after the timeout or answering
before the DELETE went through), and then listed as ready without its bytes, which nothing
settled. Now only a DELETE the store answered with a refusal, and the object then confirmed
stored, puts the file back; otherwise it stays in the trash under a claim the bytes settle
(maintenance, a restore), and listeners hear it trashed.

Real moto S3; the fault is injected at the boto3 call, under S3Storage's own error handling
(its outage state included), as the bucket's answer lost on the way."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import botocore.exceptions as bx
import pytest

from core.db.models import utcnow
from core.errors import Conflict, StorageUnavailable
from core.events import ChangeEvent
from core.library import CLAIM_LEASE, Library
from core.maintenance import reconcile, run_maintenance
from core.records import FileRecord
from core.settings import Settings
from core.storage.routing import RoutingStorage
from core.storage.s3 import S3Storage
from tests.internals import storage_of

pytestmark = pytest.mark.timeout(120)


def _bucket(lib: Library) -> S3Storage:
    storage = storage_of(lib)
    if isinstance(storage, RoutingStorage):
        storage = storage.active
    assert isinstance(storage, S3Storage)
    return storage


@pytest.fixture
def lib(s3_settings: Settings) -> Iterator[Library]:
    opened = Library.open(s3_settings)
    yield opened
    opened.close()


def _events(lib: Library) -> list[ChangeEvent]:
    heard: list[ChangeEvent] = []
    lib.events.subscribe(heard.append)
    return heard


def _heard(events: list[ChangeEvent], kind: str, file_id: int) -> ChangeEvent:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        for event in events:
            if event.kind == kind and event.file_id == file_id:
                return event
        time.sleep(0.05)
    raise AssertionError(f"no {kind} event of file {file_id}: {events}")


def _lost_answer(lib: Library, error: Exception, carried_out: bool) -> list[Callable[[], Any]]:
    """This thread's DELETE of an object answered with `error` (the bucket's answer lost),
    carried out first when `carried_out`; else the returned list gets the DELETE, for the
    test to carry out later (the bucket that works through a queue)."""
    client = _bucket(lib).client
    real = client.delete_object
    later: list[Callable[[], Any]] = []

    def delete_object(**kwargs: Any) -> Any:
        if carried_out:
            real(**kwargs)
        else:
            later.append(lambda: real(**kwargs))
        raise error

    client.delete_object = delete_object
    return later


def _read_timeout() -> Exception:
    return bx.ReadTimeoutError(endpoint_url="http://bucket/")


def _connection_cut() -> Exception:
    return bx.ConnectionClosedError(endpoint_url="http://bucket/")


def _assert_not_live_without_bytes(lib: Library, record: FileRecord) -> None:
    live = [r.id for r in lib.list_files().items]
    # was: listed live and ready, its object gone
    assert record.id not in live, live
    assert lib.get_file(record.id).is_trashed


def _settled_as_deleted(settings: Settings, record: FileRecord) -> None:
    """A fresh process (no outage remembered): maintenance finishes the deletion."""
    lib = Library.open(settings)
    try:
        assert not storage_of(lib).exists(record.storage_key)
        report = run_maintenance(lib, now=utcnow() + CLAIM_LEASE + timedelta(minutes=1))
        assert report.errors == []
        assert record.id in report.finished_deletions, report.as_dict()
        assert reconcile(lib).clean
        assert record.id not in [r.id for r in lib.list_files().items]
        assert lib.stored_keys() == []
    finally:
        lib.close()


@pytest.mark.parametrize("fault", [_read_timeout, _connection_cut])
def test_a_hard_delete_carried_out_but_answered_with_no_answer_leaves_the_file_in_the_trash(
    lib: Library, s3_settings: Settings, media_dir: Any, fault: Callable[[], Exception]
) -> None:
    record = lib.uploads.ingest(media_dir.png, "image")
    events = _events(lib)
    _lost_answer(lib, fault(), carried_out=True)
    with pytest.raises(StorageUnavailable) as failed:
        lib.delete_permanently(record.id)
    assert failed.value.reason == "endpoint_unreachable"
    _assert_not_live_without_bytes(lib, record)
    # the claim moved it to the trash unheard: listeners (the desktop's counts) hear it now,
    # as a file that was live
    trashed = _heard(events, "trashed", record.id)
    assert trashed.previous is not None and trashed.previous["deleted_at"] is None
    lib.close()
    _settled_as_deleted(s3_settings, record)


def test_a_hard_delete_whose_lost_delete_goes_through_later_leaves_the_file_in_the_trash(
    lib: Library, s3_settings: Settings, media_dir: Any
) -> None:
    """The connection cut before the answer; the store's check answers at once, the object
    still stored, and the bucket carries out the DELETE afterwards."""
    record = lib.uploads.ingest(media_dir.png, "image")
    later = _lost_answer(lib, _connection_cut(), carried_out=False)
    with pytest.raises(StorageUnavailable):
        lib.delete_permanently(record.id)
    (carry_out,) = later
    carry_out()
    _assert_not_live_without_bytes(lib, record)  # was: live, then its bytes went
    lib.close()
    _settled_as_deleted(s3_settings, record)


def test_a_hard_delete_of_a_stored_file_after_a_lost_answer_is_kept_in_the_trash(
    lib: Library, s3_settings: Settings, media_dir: Any
) -> None:
    """The lost DELETE never carried out: the bytes settle the claim, the file is kept in the
    trash and restores with them."""
    record = lib.uploads.ingest(media_dir.png, "image")
    _lost_answer(lib, _connection_cut(), carried_out=False)
    with pytest.raises(StorageUnavailable):
        lib.delete_permanently(record.id)
    _assert_not_live_without_bytes(lib, record)
    lib.close()
    again = Library.open(s3_settings)
    try:
        restored = again.restore(record.id)  # the stale claim settled by the bytes
        assert not restored.is_trashed
        assert b"".join(again.open_range(restored, 0, None)) == media_dir.png.read_bytes()
    finally:
        again.close()


def test_a_hard_delete_the_bucket_refused_leaves_the_file_live(
    lib: Library, media_dir: Any
) -> None:
    """A DELETE the store answered with a refusal, the object confirmed stored: as it was."""
    record = lib.uploads.ingest(media_dir.png, "image")
    denied = bx.ClientError(
        {"Error": {"Code": "AccessDenied", "Message": "no"}, "ResponseMetadata": {}},
        "DeleteObject",
    )
    _lost_answer(lib, denied, carried_out=False)
    with pytest.raises(StorageUnavailable) as failed:
        lib.delete_permanently(record.id)
    assert failed.value.reason == "no_permission"
    again = lib.get_file(record.id, include_trashed=False)
    assert not again.is_trashed
    with pytest.raises(Conflict) as answer:
        lib.restore(record.id)
    assert answer.value.reason == "not_trashed"
