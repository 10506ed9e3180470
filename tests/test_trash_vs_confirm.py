"""A trash of a pending presigned upload racing its confirm (two servers on one catalog).

Both answered 200, and the file was not in the trash afterwards: the confirm made the trashed
pending row an alias of the file of the same bytes, and an alias's own deleted_at is read by
nothing (every lookup follows it to its file). Each order of the two must hold as if they came
one after the other: trashed first, the confirm refuses (409 already_trashed, the file stays a
pending upload in the trash that a restore brings back to be confirmed); confirmed first, the
trash acts on the file the id now names. The test holds one call at the point where the other
lands, on a real catalog (SQLite, PostgreSQL) and moto's S3.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from core.db.models import MediaFile
from core.errors import Conflict
from core.ingest import Ingestor
from core.keys import thumbnail_key
from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.internals import catalog_of, db_of, storage_of
from tests.media import make_jpeg
from tests.pg_server import postgres_url  # noqa: F401
from tests.s3_server import S3Target, s3_client
from tests.server_fixtures import bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(params=["sqlite", "postgres"])
def lib(request: pytest.FixtureRequest, tmp_path: Path, s3_bucket: S3Target) -> Iterator[Library]:
    url = request.getfixturevalue("postgres_url") if request.param == "postgres" else None
    data = tmp_path / "data"
    data.mkdir()
    settings = make_settings(
        data,
        **({"database_url": url} if url else {}),
        r2_endpoint_url=s3_bucket.endpoint_url,
        r2_bucket_name=s3_bucket.bucket,
        r2_access_key_id=s3_bucket.access_key_id,
        r2_secret_access_key=s3_bucket.secret_access_key,
        r2_region="us-east-1",
    )
    library = Library.open(settings)
    if url:  # the session's database: emptied of the other tests' files
        with db_of(library).write() as s:
            s.execute(text("TRUNCATE media_files, athletes RESTART IDENTITY CASCADE"))
    yield library
    library.close()


def _pending(lib: Library, photo: Path) -> int:
    upload = lib.uploads.create_presigned_upload(
        "p.jpg", "image", content_type="image/jpeg", athlete_id=9
    )
    storage_of(lib).put_file(upload.file_key, photo, "image/jpeg")
    return upload.file.id


def _rows(lib: Library) -> dict[int, Any]:
    with db_of(lib).read() as s:
        return {
            r.id: (r.status, r.alias_of, r.deleted_at is not None, r.storage_key)
            for r in s.scalars(select(MediaFile))
        }


def _objects(bucket: S3Target) -> set[str]:
    listed = s3_client(bucket).list_objects_v2(Bucket=bucket.bucket)
    return {item["Key"] for item in listed.get("Contents", [])}


def _named(lib: Library) -> set[str]:
    named = {row[3] for row in _rows(lib).values() if row[1] is None}
    return named | {thumbnail_key(k) for k in named}


@pytest.mark.parametrize("duplicate", [True, False], ids=["duplicate", "new"])
def test_a_trash_landing_during_the_confirm_is_kept(
    lib: Library, s3_bucket: S3Target, tmp_path: Path, duplicate: bool, monkeypatch: Any
) -> None:
    """Trashed after the confirm read the pending row, before its transaction: the confirm
    answers as it does after the trash (409 already_trashed), the file stays pending in the
    trash with its uploaded bytes, and a restore then a confirm make it (or its alias)."""
    photo = make_jpeg(tmp_path / "a.jpg", color=(200, 10, 40))
    original = lib.uploads.ingest(photo, "image", athlete_id=9).id if duplicate else None
    fid = _pending(lib, photo)
    making_ready = Ingestor._make_ready

    def trashed_meanwhile(self: Ingestor, record: Any, *args: Any, **kwargs: Any) -> Any:
        lib.trash(record.id)  # another server's DELETE, committed before this transaction
        return making_ready(self, record, *args, **kwargs)

    monkeypatch.setattr(Ingestor, "_make_ready", trashed_meanwhile)
    with pytest.raises(Conflict) as refused:
        lib.uploads.confirm_upload(fid)
    monkeypatch.setattr(Ingestor, "_make_ready", making_ready)
    assert refused.value.reason == "already_trashed"
    status, alias_of, trashed, _key = _rows(lib)[fid]
    assert (status, alias_of, trashed) == ("pending", None, True)
    record = lib.get_file(fid)
    assert record.is_trashed and record.status == "pending"
    if original is not None:
        assert not lib.get_file(original).is_trashed
    # nothing in the bucket that no row names (the confirm's copy is the pending file's object)
    assert _objects(s3_bucket) <= _named(lib)

    # the same answer as a confirm that comes after the trash
    with pytest.raises(Conflict) as again:
        lib.uploads.confirm_upload(fid)
    assert again.value.reason == "already_trashed"

    lib.restore(fid)
    confirmed = lib.uploads.confirm_upload(fid)
    assert confirmed.id == fid and not confirmed.is_trashed
    assert confirmed.duplicate_of == original
    assert _objects(s3_bucket) <= _named(lib)


@pytest.mark.parametrize("duplicate", [True, False], ids=["duplicate", "new"])
def test_a_confirm_landing_during_the_trash_trashes_the_file_it_made(
    lib: Library, s3_bucket: S3Target, tmp_path: Path, duplicate: bool, monkeypatch: Any
) -> None:
    """Confirmed after the trash looked the id up, before its write: the trash acts on what
    the id names by then (an alias's file, README "Duplicates keep their id"), so the id
    answers trashed afterwards."""
    photo = make_jpeg(tmp_path / "b.jpg", color=(10, 200, 40))
    original = lib.uploads.ingest(photo, "image", athlete_id=9).id if duplicate else None
    fid = _pending(lib, photo)
    catalog = catalog_of(lib)
    resolving = catalog.resolve_many

    def confirmed_meanwhile(file_ids: list[int]) -> dict[int, int]:
        found = resolving(file_ids)
        lib.uploads.confirm_upload(fid)  # another server's confirm, committed meanwhile
        return found

    monkeypatch.setattr(catalog, "resolve_many", confirmed_meanwhile)
    trashed = lib.trash(fid)
    monkeypatch.setattr(catalog, "resolve_many", resolving)
    assert trashed.is_trashed
    assert lib.get_file(fid).is_trashed
    if original is not None:
        assert lib.get_file(original).is_trashed
        assert not _rows(lib)[fid][2], "the alias row itself carries no deleted_at"
    assert _objects(s3_bucket) <= _named(lib)


@pytest.mark.parametrize("duplicate", [True, False], ids=["duplicate", "new"])
def test_confirming_a_pending_upload_in_the_trash_says_so(
    s3_live: EmbeddedServer, tmp_path: Path, duplicate: bool
) -> None:
    """Over HTTP, one after the other: the confirm of a pending upload that was trashed
    answered 404 "File N not found" while GET answered it (pending, trashed) and a restore
    worked. It answers 409 already_trashed, and after a restore the confirm goes through."""
    lib = s3_live.library
    tokens = make_tokens(lib)
    url, auth = s3_live.url, bearer(tokens.upload)
    photo = make_jpeg(tmp_path / "c.jpg", color=(40, 10, 200))
    original = lib.uploads.ingest(photo, "image", athlete_id=9).id if duplicate else None
    fid = _pending(lib, photo)
    assert http_call(f"{url}/files/{fid}", "DELETE", b"", auth).status == 200

    refused = http_call(f"{url}/files/{fid}/confirm-upload", "POST", b"", auth)
    assert refused.status == 409, refused.body
    error = refused.json()["error"]
    assert (error["code"], error["reason"]) == ("conflict", "already_trashed")
    assert "in the trash" in error["message"]
    shown = http_call(f"{url}/files/{fid}", "GET", b"", auth)
    assert shown.status == 200 and shown.json()["is_trashed"] is True
    assert shown.json()["status"] == "pending"

    assert http_call(f"{url}/files/{fid}/restore", "POST", b"", auth).status == 200
    done = http_call(f"{url}/files/{fid}/confirm-upload", "POST", b"", auth)
    assert done.status == 200, done.body
    assert done.json()["id"] == fid and done.json()["duplicate_of"] == original
