"""An upload of a file whose stored object is missing or broken repairs it: the duplicate answer
(README, "Duplicates keep their id") is kept, and the new bytes take the object's place."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from core.maintenance import reconcile
from core.settings import Settings
from server.entry import EmbeddedServer
from tests.internals import storage_of
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body
from tests.test_duplicates import presign, put_and_confirm

pytestmark = pytest.mark.timeout(90)


def direct(live: EmbeddedServer, token: str, data: bytes) -> Any:
    body, ctype = multipart_body({"file_type": "image"}, {"file": ("p.jpg", data, "image/jpeg")})
    return http_call(
        f"{live.url}/files/upload/direct", "POST", body, {"Content-Type": ctype, **bearer(token)}
    )


def served(live: EmbeddedServer, token: str, file_id: int) -> bytes:
    got = http_call(f"{live.url}/stream/{file_id}/image", headers=bearer(token))
    assert got.status == 200, got.body
    return got.body


def repaired(caplog: pytest.LogCaptureFixture, file_id: int) -> bool:
    return any(
        r.levelno == logging.WARNING and r.getMessage().startswith(f"Repaired file {file_id}:")
        for r in caplog.records
    )


def assert_consistent(lib: Library) -> None:
    """What `mediadesk maintenance` reconciles finds nothing amiss, nor a deletion pending."""
    report = reconcile(lib)
    assert report.clean and not report.pending_deletions, report.as_dict()


def test_local_upload_again_repairs_a_missing_or_truncated_object(
    live: EmbeddedServer, media_dir: Any, caplog: pytest.LogCaptureFixture
) -> None:
    lib, tokens, data = live.library, make_tokens(live.library), media_dir.jpeg.read_bytes()
    first = direct(live, tokens.upload, data)
    assert first.status == 201
    file_id, key = first.json()["id"], first.json()["storage_key"]
    obj = storage_of(lib).local_path(key)
    assert obj is not None
    obj.unlink()  # deleted from the objects folder behind the catalog's back
    assert reconcile(lib).rows_without_objects == [file_id]

    with caplog.at_level(logging.WARNING, logger="core.ingest"):
        again = direct(live, tokens.upload, data)
    assert again.status == 200, again.body
    body = again.json()
    assert body["id"] == body["duplicate_of"] == file_id and body["duplicate"] is True
    assert body["storage_key"] == key
    assert repaired(caplog, file_id)
    assert served(live, tokens.read, file_id) == data
    assert_consistent(lib)

    # a truncated object (same key, fewer bytes), through the Library façade the desktop uses
    obj.write_bytes(data[: len(data) // 2])
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="core.ingest"):
        record = lib.uploads.ingest(Path(media_dir.jpeg), "image")
    assert record.id == record.duplicate_of == file_id and record.storage_key == key
    assert repaired(caplog, file_id)
    assert obj.read_bytes() == data
    assert_consistent(lib)

    # an intact object is left alone, and logs no repair
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="core.ingest"):
        assert direct(live, tokens.upload, data).status == 200
    assert not repaired(caplog, file_id)


def test_s3_upload_again_repairs_a_deleted_object(
    s3_live: EmbeddedServer, s3_library: Library, media_dir: Any
) -> None:
    live, lib = s3_live, s3_library
    tokens, data = make_tokens(lib), media_dir.jpeg.read_bytes()
    first = direct(live, tokens.upload, data)
    assert first.status == 201
    file_id, key = first.json()["id"], first.json()["storage_key"]
    storage_of(lib).delete(key)  # gone from the bucket
    assert reconcile(lib).rows_without_objects == [file_id]

    again = direct(live, tokens.upload, data)
    assert again.status == 200, again.body
    assert again.json()["id"] == again.json()["duplicate_of"] == file_id
    assert served(live, tokens.read, file_id) == data
    assert_consistent(lib)

    # a presigned upload's confirm of the same bytes repairs a truncated object too, its id
    # an alias of the file as before
    storage_of(lib).put_bytes(key, data[:100], "image/jpeg")
    upload = presign(live.url, tokens.upload, "b.jpg")
    done = put_and_confirm(live.url, tokens.upload, upload, data)
    assert done.status == 200, done.body
    assert done.json()["id"] == upload["file_id"] and done.json()["duplicate_of"] == file_id
    assert storage_of(lib).stat(key).size == len(data)
    assert served(live, tokens.read, file_id) == data
    assert_consistent(lib)


def test_a_presigned_confirm_repairs_a_file_kept_on_the_old_backend_there(
    s3_settings: Settings, media_dir: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """After a switch to R2, a file left on local storage whose object is gone is repaired by a
    presigned upload (its copy in the bucket) on local storage, where its row says it is."""
    before = s3_settings.replace(storage_backend="local")
    lib = Library.open(before)
    try:
        old = lib.uploads.ingest(Path(media_dir.jpeg), "image")
    finally:
        lib.close()
    obj = before.paths.objects_dir / old.storage_key
    data = obj.read_bytes()
    obj.unlink()

    lib = Library.open(before.replace(storage_backend=""))  # R2 is where new files go
    try:
        upload = lib.uploads.create_presigned_upload("b.jpg", "image")
        storage_of(lib).put_bytes(upload.file_key, data, "image/jpeg")  # the client's PUT
        with caplog.at_level(logging.WARNING, logger="core.ingest"):
            done = lib.uploads.confirm_upload(upload.file.id)
        assert done.duplicate_of == old.id
        assert repaired(caplog, old.id)
        assert obj.read_bytes() == data
        assert b"".join(lib.open_range(lib.get_file(old.id), 0, None)) == data
        r2 = storage_of(lib).backend("r2")
        assert not r2.exists(old.storage_key) and not r2.exists(upload.file_key)
        assert_consistent(lib)  # the file kept on local storage is found there
    finally:
        lib.close()
