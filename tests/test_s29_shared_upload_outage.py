"""A direct upload whose bytes equal another athlete's file is a file of its own sharing that
file's object (Ingestor._store_shared): its row is committed, then the object is looked for
and put back when gone. With the store out at that moment the upload failed with
storage_unavailable yet its row stayed: a ready, listed file naming a missing object (stream
404, maintenance's rows_without_objects). Now the failure takes the row back out, and the same
upload succeeds once the store is back, restoring the object.

Real moto S3 behind a TCP proxy the test cuts (tests/faults.py CuttableProxy)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from core.errors import StorageUnavailable
from core.ingest import Ingestor
from core.library import Library
from core.settings import Settings
from core.storage import s3
from core.storage.s3 import Timeouts
from tests.faults import CuttableProxy
from tests.internals import storage_of
from tests.s3_server import S3Target, s3_client

pytestmark = pytest.mark.timeout(60)

QUICK = Timeouts(connect=1, read=1.5, attempts=1)


@pytest.fixture
def proxied(
    s3_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Library, CuttableProxy]]:
    monkeypatch.setattr(s3, "REQUESTS", QUICK)
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url, usage_scan_interval=0))
    try:
        yield lib, proxy
    finally:
        lib.close()
        proxy.close()


def test_shared_upload_failing_on_a_store_out_leaves_no_row(
    proxied: tuple[Library, CuttableProxy], s3_bucket: S3Target, tmp_path: Path
) -> None:
    lib, proxy = proxied
    path = tmp_path / "shared.png"
    Image.new("RGB", (32, 32), (10, 120, 200)).save(path)
    first = lib.uploads.ingest(path, "image", athlete_id=1)
    # its bytes gone behind the catalog's back (as a hard delete killed mid-way leaves them)
    s3_client(s3_bucket).delete_object(Bucket=s3_bucket.bucket, Key=first.storage_key)
    before = lib.counts()

    proxy.cut()
    try:
        with pytest.raises(StorageUnavailable):
            lib.uploads.ingest(path, "image", athlete_id=2)
    finally:
        proxy.restore()

    page = lib.list_files(athlete_id=2)
    assert page.items == [] and page.total == 0, "the failed upload left its row"
    assert lib.counts() == before
    assert [r.id for r in lib.list_files().items] == [first.id]

    second = lib.uploads.ingest(path, "image", athlete_id=2)  # the store back: a retry
    assert second.id != first.id and second.storage_key == first.storage_key
    assert storage_of(lib).exists(first.storage_key), "the shared object was not put back"
    assert b"".join(lib.open_range(lib.get_ready(second.id), 0, None)) == path.read_bytes()
    assert [r.id for r in lib.list_files(athlete_id=2).items] == [second.id]


def test_upload_whose_copy_cannot_take_the_gone_shared_place_leaves_no_row(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same on the way of a new object (Ingestor._store_new): its row found the same bytes
    stored meanwhile for another file (another process; here the first look is made to miss
    them) and references that object, which is gone, so the upload's copy is moved there
    (_give_way). A failed move raised with the row left, naming the missing object."""
    path = tmp_path / "shared.png"
    Image.new("RGB", (32, 32), (200, 20, 90)).save(path)
    first = library.uploads.ingest(path, "image", athlete_id=1)
    storage = storage_of(library)
    storage.delete(first.storage_key)
    first_look = Ingestor._same_bytes

    def missed(self: Ingestor, sha: str, athlete_id: int | None, is_public: bool, s=None):  # type: ignore[no-untyped-def]
        return None if s is None else first_look(self, sha, athlete_id, is_public, s)

    def refused(*_args: object, **_kwargs: object) -> None:
        raise StorageUnavailable("the store refused the move")

    monkeypatch.setattr(Ingestor, "_same_bytes", missed)
    with monkeypatch.context() as out:
        out.setattr(type(storage), "move", refused)
        with pytest.raises(StorageUnavailable):
            library.uploads.ingest(path, "image", athlete_id=2)
    assert library.list_files(athlete_id=2).total == 0, "the failed upload left its row"
    assert [r.id for r in library.list_files().items] == [first.id]

    second = library.uploads.ingest(path, "image", athlete_id=2)
    assert second.storage_key == first.storage_key
    assert storage.exists(first.storage_key)
