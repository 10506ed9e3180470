"""Stored objects that do not match the catalog: a cut object (a bad restore, a disk fault),
strays the listing skips, and what maintenance, doctor, the routes and the client say of them."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from core.errors import StorageUnavailable
from core.library import Library
from core.maintenance import reconcile
from core.records import FileRecord
from server.client import Client, ClientError
from server.entry import EmbeddedServer, main
from tests.conftest import make_settings
from tests.internals import storage_of
from tests.server_fixtures import bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(120)


def _cut(lib: Library, record: FileRecord) -> bytes:
    """Replaces the file's object by its first half, as a bad restore leaves it."""
    whole = lib.read_object(record.storage_key)
    storage_of(lib).put_bytes(record.storage_key, whole[: len(whole) // 2], "image/jpeg")
    return whole


def _damaged(exc: BaseException) -> bool:
    return isinstance(exc, StorageUnavailable) and exc.reason == "object_damaged"


def test_a_cut_object_is_refused_by_every_read_and_listed_by_reconcile(
    any_library: Library, media_dir: Any
) -> None:
    """The stream answered 500 "storage not available right now", the signed download 200
    with the half file, and reconcile said clean."""
    record = any_library.uploads.ingest(media_dir.jpeg, "image")
    whole = _cut(any_library, record)
    report = reconcile(any_library)
    assert report.size_mismatch == [
        {
            "file_id": record.id,
            "key": record.storage_key,
            "stored_size": len(whole) // 2,
            "recorded_size": len(whole),
        }
    ]
    assert not report.clean and report.as_dict()["clean"] is False
    assert report.summary()["size_mismatch"] == [record.id]
    with pytest.raises(StorageUnavailable) as read:
        b"".join(any_library.open_range(record, 0, None))
    assert _damaged(read.value)
    with pytest.raises(StorageUnavailable) as opened:
        any_library.open_object(record.storage_key)  # the signed route's read
    assert _damaged(opened.value)
    if any_library.storage_name == "local":
        with pytest.raises(StorageUnavailable) as local:
            any_library.local_path(record)  # the stream route's sendfile
        assert _damaged(local.value)
    else:
        assert any_library.local_path(record) is None
    if any_library.storage_name == "local":
        # a range within the bytes that are there (the route refused the file by local_path)
        assert b"".join(any_library.open_range(record, 0, 9)) == whole[:10]
    else:
        # a bucket tells the whole object's size with any range (Content-Range): refused too
        with pytest.raises(StorageUnavailable) as ranged:
            b"".join(any_library.open_range(record, 0, 9))
        assert _damaged(ranged.value)


def test_the_routes_and_the_client_say_the_copy_is_damaged_and_save_nothing(
    live: EmbeddedServer, media_dir: Any, tmp_path: Path
) -> None:
    lib = live.library
    record = lib.uploads.ingest(media_dir.jpeg, "image")
    _cut(lib, record)
    token = make_tokens(lib).admin
    for path in (f"/stream/{record.id}/raw", lib.download_url(record.id)):
        url = path if path.startswith("http") else live.url + path
        reply = http_call(url, headers=bearer(token))
        error = reply.json()["error"]
        assert (reply.status, error["code"], error["reason"]) == (
            500,
            "storage_unavailable",
            "object_damaged",
        ), (path, error)
        assert error["message"].startswith("The stored copy of this file is damaged"), error
    out = tmp_path / "out"
    with Client(live.url, token, backoff=0) as client, pytest.raises(ClientError) as failed:
        client.download(record.id, out)
    assert (failed.value.code, failed.value.reason) == ("storage_unavailable", "object_damaged")
    assert list(out.iterdir()) == []


def test_the_client_refuses_a_cut_file_a_bucket_serves_as_whole(
    s3_live: EmbeddedServer, media_dir: Any, tmp_path: Path
) -> None:
    """A download link on R2 is the bucket's: it served the cut object with a 200, and
    `mediadesk download` saved it under the file's name and said "saved"."""
    lib = s3_live.library
    record = lib.uploads.ingest(media_dir.jpeg, "image")
    whole = _cut(lib, record)
    token = make_tokens(lib).read
    # the server's own stream of it counts the bytes the bucket sends, and says why
    reply = http_call(f"{s3_live.url}/stream/{record.id}/raw", headers=bearer(token))
    assert (reply.status, reply.json()["error"]["reason"]) == (500, "object_damaged")
    out = tmp_path / "out"
    with Client(s3_live.url, token, backoff=0) as client:
        with pytest.raises(ClientError) as failed:
            client.download(record.id, out)
        assert failed.value.code == "download_mismatch"
        assert f"{len(whole) // 2} bytes where the catalog records {len(whole)}" in str(
            failed.value
        )
        assert list(out.iterdir()) == []
        # the same length with other bytes: the SHA-256 the catalog records tells them apart
        storage_of(lib).put_bytes(record.storage_key, bytes(len(whole)), "image/jpeg")
        with pytest.raises(ClientError) as other:
            client.download(record.id, out)
        assert other.value.code == "download_mismatch" and "SHA-256" in str(other.value)
        assert list(out.iterdir()) == []


def test_reconcile_reports_strays_the_listing_skips_and_keeps_them(
    library: Library, tmp_path: Path
) -> None:
    """A name that is not UTF-8 and a symlink were left out of objects_without_rows."""
    folder = library.paths.objects_dir / "general" / "2026" / "12"
    folder.mkdir(parents=True)
    (folder / "plain.jpg").write_bytes(b"x")
    odd = os.fsencode(folder) + b"/bad\xff.jpg"
    Path(os.fsdecode(odd)).write_bytes(b"y")
    outside = tmp_path / "outside.jpg"
    outside.write_bytes(b"z")
    (folder / "link.jpg").symlink_to(outside)
    (folder / "linked-folder").symlink_to(tmp_path)
    report = reconcile(library)
    assert sorted(report.objects_without_rows) == [
        "general/2026/12/bad\\xff.jpg",
        "general/2026/12/link.jpg",
        "general/2026/12/linked-folder",
        "general/2026/12/plain.jpg",
    ]
    assert not report.clean
    assert os.path.lexists(odd) and (folder / "link.jpg").is_symlink() and outside.exists()


def test_maintenance_exits_1_and_doctor_fails_while_the_store_does_not_match(
    data_dir: Path, media_dir: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """`maintenance` exited 0 with "clean": false, and `doctor` said "All good."."""
    lib = Library.open(make_settings(data_dir))
    try:
        record = lib.uploads.ingest(media_dir.jpeg, "image")
        whole = _cut(lib, record)
    finally:
        lib.close()
    assert main(["maintenance", "--data-dir", str(data_dir)]) == 1
    report = json.loads(capsys.readouterr().out)["reconcile"]
    assert report["clean"] is False and report["size_mismatch"][0]["file_id"] == record.id
    assert main(["doctor", "--data-dir", str(data_dir)]) == 1
    said = capsys.readouterr().out
    line = next(x for x in said.splitlines() if x.startswith("FAIL  reconcile:"))
    assert f"files whose object is not the recorded size: 1 (ids {record.id})" in line, said
    assert "All good." not in said

    lib = Library.open(make_settings(data_dir))
    try:  # the bytes restored from a backup
        storage_of(lib).put_bytes(record.storage_key, whole, "image/jpeg")
    finally:
        lib.close()
    assert main(["maintenance", "--data-dir", str(data_dir)]) == 0
    capsys.readouterr()
    assert main(["doctor", "--data-dir", str(data_dir)]) == 0
    assert "ok    reconcile: the store matched the catalog at " in capsys.readouterr().out
