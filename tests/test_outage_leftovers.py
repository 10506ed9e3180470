"""What a request that fails during a store outage leaves behind: nothing that outlives it.

- A permanent delete of a trashed file (DELETE ?hard_delete=true, the trash's emptying)
  claims it for deletion before any byte goes. Failing on an unreachable store, it answered
  500 "try again later" but left the claim, so once the store was back a restore answered 409
  being_deleted for the claim's whole lease (10 minutes) although the bytes were intact. A
  deletion that fails before its bytes go now releases its claim at once; one that may have
  deleted some leaves it settled by the bytes (the restore brings the file back if its object
  is stored, finishes the deletion if not). Only its own claim: another deletion's stays.
- A presign in parts created the pending file row, then failed to start the multipart upload
  on the unreachable store: 500, and the row stayed (listed as pending, counted in /usage)
  until its expiry an hour later. Now nothing is left: the row goes, and a multipart upload
  started before a later step failed is aborted.

Before the fixes the restores answer 409 being_deleted and the pending rows stay.

Real HTTP over loopback; the bucket (moto) sits behind tests.faults' CuttableProxy, with short
store timeouts, as in tests/test_confirm_outage.py."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from core import resumable
from core.db.models import MediaFile, utcnow
from core.errors import StorageUnavailable
from core.library import CLAIM_LEASE
from core.records import FileStatus
from core.settings import Settings
from core.storage.s3 import S3Storage
from tests.faults import ProxiedStore, assert_healthy, served_behind_proxy
from tests.internals import db_of
from tests.resumable_client import JSON, MiB, noise_png
from tests.s3_server import S3Target
from tests.server_fixtures import Reply, bearer, http_call, upload_file

pytestmark = pytest.mark.timeout(180)

WINDOW = 1.0  # seconds nobody asks the store after it was found out of reach


@dataclass
class Served(ProxiedStore):
    def call(self, path: str, method: str = "GET", body: Any = None) -> Reply:
        data = None if body is None else json.dumps(body).encode()
        headers = {**bearer(self.tokens.admin), **(JSON if body is not None else {})}
        return http_call(f"{self.server.url}{path}", method, data, headers)

    def when_back(self, path: str, method: str = "GET") -> Reply:
        """`path` asked until the store, back after a cut, is asked again (a 500 with
        Retry-After: the outage's window, in which the store is not asked)."""
        for _ in range(10):
            reply = self.call(path, method)
            if reply.status != 500 or "Retry-After" not in reply.headers:
                return reply
            time.sleep(int(reply.headers["Retry-After"]))
        return reply


@pytest.fixture
def served(
    s3_settings: Settings, s3_bucket: S3Target, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Served]:
    with served_behind_proxy(
        Served, s3_settings, s3_bucket, monkeypatch, window=WINDOW, longest_window=2 * WINDOW
    ) as served:
        yield served


def _trashed(served: Served, path: Path) -> tuple[int, bytes]:
    """A file uploaded and moved to the trash: (its id, its bytes)."""
    file_id = upload_file(served.server, served.tokens.upload, path)["id"]
    assert served.call(f"/files/{file_id}", "DELETE").status == 200
    return file_id, path.read_bytes()


def _unreachable(reply: Reply) -> None:
    assert reply.status == 500, reply.body
    error = reply.json()["error"]
    assert (error["code"], error.get("reason")) == ("storage_unavailable", "endpoint_unreachable")


def _restored_whole(served: Served, file_id: int, data: bytes) -> None:
    reply = served.when_back(f"/files/{file_id}/restore", "POST")
    assert reply.status == 200, reply.body
    assert reply.json()["deleted_at"] is None, reply.body
    assert_healthy(served.lib, {file_id: data}, served.server.url, served.tokens.read)


def test_a_hard_delete_that_fails_on_a_cut_store_leaves_the_file_restorable(
    served: Served, tmp_path: Path
) -> None:
    file_id, data = _trashed(served, noise_png(tmp_path / "a.png", 64))
    served.proxy.cut()
    _unreachable(served.call(f"/files/{file_id}?hard_delete=true", "DELETE"))
    served.proxy.restore()
    # before: 409 being_deleted for the claim's lease, the bytes intact
    _restored_whole(served, file_id, data)


def test_a_hard_delete_on_a_frozen_store_answers_the_outage_and_can_be_sent_again(
    served: Served, tmp_path: Path
) -> None:
    """A bucket that takes connections and never answers (a hung store): the seed's 500
    storage_unavailable, reason endpoint_unreachable, with Retry-After, as every store outage
    (never internal_error), and the file waits in the trash whole, its claim released: the same
    DELETE works once the store answers."""
    file_id, _ = _trashed(served, noise_png(tmp_path / "a.png", 64))
    key = served.lib.get_file(file_id).storage_key
    served.proxy.stall()
    reply = served.call(f"/files/{file_id}?hard_delete=true", "DELETE")
    _unreachable(reply)
    assert int(reply.headers["Retry-After"]) >= 1
    assert served.call(f"/files/{file_id}").json()["deleted_at"] is not None  # in the trash
    with db_of(served.lib).read() as s:
        row = s.get(MediaFile, file_id)
        # the DELETE got no answer, so it may have been done: the claim is dated back past
        # its lease, for the bytes to settle (core/library.py _drop_claim), holding nothing
        assert row is not None and row.purging_since is not None
        assert row.purging_since.replace(tzinfo=UTC) < utcnow() - CLAIM_LEASE
    served.proxy.restore()
    assert served.bucket.head_object(Bucket=served.bucket_name, Key=key)["ContentLength"] > 0
    reply = served.when_back(f"/files/{file_id}?hard_delete=true", "DELETE")
    assert reply.status == 200, reply.body
    assert "Contents" not in served.bucket.list_objects_v2(Bucket=served.bucket_name, Prefix=key)
    with db_of(served.lib).read() as s:
        assert s.get(MediaFile, file_id) is None
    assert_healthy(served.lib, {})


def test_a_hard_delete_cut_after_its_object_went_finishes_instead_of_restoring(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The object deleted, the store cut before the derivatives: a restore never brings back
    a file without its bytes; the deletion is finished once the store is back."""
    file_id, _ = _trashed(served, noise_png(tmp_path / "a.png", 64))
    key = served.lib.get_file(file_id).storage_key
    delete_prefix = S3Storage.delete_prefix

    def cut_first(self: S3Storage, prefix: str) -> None:
        served.proxy.cut()
        delete_prefix(self, prefix)

    monkeypatch.setattr(S3Storage, "delete_prefix", cut_first)
    _unreachable(served.call(f"/files/{file_id}?hard_delete=true", "DELETE"))
    monkeypatch.setattr(S3Storage, "delete_prefix", delete_prefix)
    assert "Contents" not in served.bucket.list_objects_v2(Bucket=served.bucket_name, Prefix=key)
    served.proxy.restore()
    # before: 409 being_deleted for the claim's lease
    reply = served.when_back(f"/files/{file_id}/restore", "POST")
    assert reply.status == 404, reply.body
    assert served.call(f"/files/{file_id}").status == 404
    assert_healthy(served.lib, {})


def test_an_emptying_of_the_trash_that_fails_on_a_cut_store_leaves_the_files_restorable(
    served: Served, tmp_path: Path
) -> None:
    """The desktop's Empty trash (Library.empty_trash): the batch's claim goes with the
    failure, and each file restores whole once the store is back."""
    files = dict(_trashed(served, noise_png(tmp_path / f"{n}.png", 64)) for n in range(3))
    served.proxy.cut()
    with pytest.raises(StorageUnavailable):
        served.lib.empty_trash()
    served.proxy.restore()
    for file_id in files:
        reply = served.when_back(f"/files/{file_id}/restore", "POST")
        assert reply.status == 200, reply.body  # before: 409 being_deleted
    assert_healthy(served.lib, files, served.server.url, served.tokens.read)


def test_a_failed_hard_delete_leaves_another_deletions_claim_alone(
    served: Served, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another server claimed the file while this one's delete was under way (its mark
    replaced ours): this one's failure releases nothing, and a restore still answers
    being_deleted while that claim lives."""
    file_id, _ = _trashed(served, noise_png(tmp_path / "a.png", 64))
    delete = S3Storage.delete
    theirs = []

    def claimed_elsewhere_then_cut(self: S3Storage, key: str) -> None:
        if not theirs:
            theirs.append(utcnow())
            with db_of(served.lib).write() as s:
                s.execute(
                    update(MediaFile)
                    .where(MediaFile.id == file_id)
                    .values(purging_since=theirs[0], version=MediaFile.version + 1)
                )
            served.proxy.cut()
        delete(self, key)

    monkeypatch.setattr(S3Storage, "delete", claimed_elsewhere_then_cut)
    _unreachable(served.call(f"/files/{file_id}?hard_delete=true", "DELETE"))
    with db_of(served.lib).read() as s:
        row = s.get(MediaFile, file_id)
        assert row is not None and row.purging_since == theirs[0]
    served.proxy.restore()
    reply = served.when_back(f"/files/{file_id}/restore", "POST")
    assert reply.status == 409 and reply.json()["error"]["reason"] == "being_deleted"


def _pending(served: Served) -> list[dict[str, Any]]:
    page = served.call("/files/?status=pending&limit=500").json()
    return [f for f in page["items"] if f["status"] == FileStatus.PENDING]


def _presign_in_parts(served: Served) -> Reply:
    body = {
        "original_filename": "match.mp4",
        "file_type": "video",
        "size": 80 * MiB,
        "multipart": True,
    }
    return served.call("/files/upload/presigned", "POST", body)


def test_a_presign_in_parts_on_a_cut_store_leaves_no_pending_file(served: Served) -> None:
    served.proxy.cut()
    _unreachable(_presign_in_parts(served))
    assert _pending(served) == []  # before: the pending row, until its expiry
    served.proxy.restore()
    usage = served.when_back("/usage")
    assert usage.status == 200, usage.body
    assert usage.json()["by_status"]["pending"]["files"] == 0, usage.body
    # and once the store is back the same presign works
    assert _presign_in_parts(served).status == 201
    assert len(_pending(served)) == 1


def test_a_presign_in_parts_failing_after_its_multipart_started_aborts_it(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The multipart upload created, a later step failing (the part URLs' signing or the
    catalog's record of it; here the signing): the row goes, and so does the multipart upload,
    which nothing records (before: both stayed)."""
    sign_parts = resumable.ResumableUploads._sign_parts

    def broken(self: Any, *args: Any) -> Any:
        raise StorageUnavailable("The catalog is out of reach", reason="catalog_unreachable")

    monkeypatch.setattr(resumable.ResumableUploads, "_sign_parts", broken)
    reply = _presign_in_parts(served)
    assert reply.status == 500, reply.body
    monkeypatch.setattr(resumable.ResumableUploads, "_sign_parts", sign_parts)
    assert _pending(served) == []
    listed = served.bucket.list_multipart_uploads(Bucket=served.bucket_name)
    assert listed.get("Uploads", []) == [], listed
