"""Reconcile lists every configured backend, each against the rows that live on it: an object
left on a backend that holds no file is reported, and a bucket out of reach is reported while
the rest is still checked."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from core import keys
from core.doctor import check_reconcile
from core.library import Library
from core.maintenance import reconcile
from core.records import FileRecord
from core.settings import Settings
from tests.internals import storage_of
from tests.media_fixtures import MediaSet


def _open(settings: Settings) -> Iterator[Library]:
    lib = Library.open(settings)
    try:
        yield lib
    finally:
        lib.close()


@pytest.fixture
def local_file(s3_settings: Settings, media_dir: MediaSet) -> FileRecord:
    """A photo stored locally, its 160 px variant cached in the bucket while R2 was active (the
    file kept where it was), then local made active again: nothing lives on R2."""
    settings = s3_settings.replace(storage_backend="local")
    for lib in _open(settings):
        record = lib.uploads.ingest(media_dir.jpeg, "image")
    for lib in _open(s3_settings):
        key, _ = lib.variant(lib.get_file(record.id), 160)
        assert storage_of(lib).backend("r2").exists(key)  # type: ignore[attr-defined]
    return record


def test_an_object_on_a_backend_that_holds_no_file_is_reported(
    s3_settings: Settings, local_file: FileRecord
) -> None:
    for lib in _open(s3_settings.replace(storage_backend="local")):
        assert lib.backends.counts_by_backend() == {"local": 1}
        r2 = storage_of(lib).backend("r2")  # type: ignore[attr-defined]
        r2.put_bytes("general/2020/01/stray.jpg", b"x", "image/jpeg")
        found = reconcile(lib)
        variant = keys.variant_key(local_file.storage_key, 160)
        strays = sorted(["general/2020/01/stray.jpg", variant])
        assert sorted(found.objects_without_rows) == strays
        assert {k: sorted(v) for k, v in found.objects_without_rows_by_backend.items()} == {
            "r2": strays  # the active (local) backend is clean
        }
        assert found.rows_without_objects == [] and not found.clean
        assert found.as_dict()["objects_without_rows_by_backend"] == (
            found.objects_without_rows_by_backend
        )
        summary = found.summary()
        assert summary["objects_without_rows"] == 2
        assert summary["objects_without_rows_by_backend"] == {"r2": 2}
        lib.remember_reconcile(summary)
        check = check_reconcile(lib._db)  # noqa: SLF001
        said = "2 stored objects the catalog does not know (e.g. after restoring an older catalog)"
        assert not check.ok and f"{said}; in r2: 2" in check.detail, check


def test_a_variant_of_a_file_on_its_own_backend_is_known(
    s3_settings: Settings, media_dir: MediaSet
) -> None:
    """Files kept on R2 after local became active: their thumbnails and variants there are
    theirs, not orphans; the active backend's variants of any file are its cache."""
    for lib in _open(s3_settings):
        record = lib.uploads.ingest(media_dir.jpeg, "image")
        lib.variant(record, 160)
    for lib in _open(s3_settings.replace(storage_backend="local")):
        lib.variant(lib.get_file(record.id), 320)  # cached on the active local backend
        found = reconcile(lib)
        assert found.clean, found


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_an_unreachable_bucket_is_reported_and_the_rest_still_checked(
    s3_settings: Settings, media_dir: MediaSet
) -> None:
    for lib in _open(s3_settings):  # a file that lives on R2
        on_r2 = lib.uploads.ingest(media_dir.png, "image")
    gone = s3_settings.replace(
        storage_backend="local", r2_endpoint_url=f"http://127.0.0.1:{_closed_port()}"
    )
    for lib in _open(gone):
        local = lib.uploads.ingest(media_dir.jpeg, "image")
        storage_of(lib).backend("local").delete(local.storage_key)  # type: ignore[attr-defined]
        started = time.monotonic()
        found = reconcile(lib)
        assert time.monotonic() - started < 10
        assert list(found.unreachable_backends) == ["r2"]
        assert found.rows_without_objects == [local.id]  # the local check still ran
        assert on_r2.id not in found.rows_without_objects  # not known missing: not listed
        assert found.summary()["unreachable_backends"] == ["r2"]
        lib.remember_reconcile(found.summary())
        check = check_reconcile(lib._db)  # noqa: SLF001
        assert not check.ok and "not listed (unreachable): r2" in check.detail, check
