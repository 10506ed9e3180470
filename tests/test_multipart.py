"""Presigned uploads in parts straight to the bucket (moto's S3 server), parts listing, renewal."""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_s3_settings
from tests.resumable_client import JSON, MiB, confirm, noise_png, presign, put_part
from tests.s3_server import s3_client
from tests.server_fixtures import bearer, http_call, make_tokens, server_config


@pytest.fixture
def s3_parts(data_dir: Path, s3_bucket: Any) -> Iterator[tuple[Library, Any, EmbeddedServer]]:
    settings = make_s3_settings(
        data_dir,
        s3_bucket,
        max_file_size=300 * MiB,
        upload_part_size=5 * MiB,
        multipart_threshold=8 * MiB,
        multipart_chunk_size=5 * MiB,
    )
    lib = Library.open(settings)
    s3 = s3_client(s3_bucket)
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        yield lib, s3, server
    lib.close()


def leftovers(s3: Any, bucket: str) -> list[Any]:
    return s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])


def test_parts_resume_with_listing_and_renewal_then_confirm(
    s3_parts: tuple[Library, Any, EmbeddedServer], s3_bucket: Any, tmp_path: Path
) -> None:
    lib, s3, server = s3_parts
    token = make_tokens(lib).upload
    data = noise_png(tmp_path / "m.png").read_bytes()  # ~12 MB > the 8 MiB threshold
    reply = presign(server.url, token, len(data))
    assert reply.status == 201, reply.body
    plan = reply.json()
    assert plan["part_size"] == 5 * MiB and plan["upload_id"]
    assert [p["part_number"] for p in plan["parts"]] == [1, 2, 3]
    assert plan["upload_url"] and plan["file"]["status"] == "pending"
    fid = plan["file_id"]
    size = plan["part_size"]
    etags = {1: put_part(plan["parts"][0]["url"], data[:size])}
    etags[2] = put_part(plan["parts"][1]["url"], data[size : 2 * size])
    # The connection broke: what does the bucket already hold?
    listed = http_call(f"{server.url}/files/{fid}/upload/parts", headers=bearer(token)).json()
    assert [(p["part_number"], p["size"]) for p in listed["parts"]] == [(1, size), (2, size)]
    assert listed["part_count"] == 3
    early = confirm(server.url, token, fid)
    assert early.status == 400 and early.json()["error"]["code"] == "upload_not_received"
    assert early.json()["error"]["details"]["missing_parts"] == [3]
    # The URLs expired meanwhile: renew signs the missing part only
    renewed = http_call(
        f"{server.url}/files/{fid}/upload/renew", "POST", headers=bearer(token)
    ).json()
    assert [p["part_number"] for p in renewed["parts"]] == [3] and renewed["expires_at"]
    etags[3] = put_part(renewed["parts"][0]["url"], data[2 * size :])
    wrong = [{"part_number": n, "etag": '"0000"'} for n in etags]
    assert confirm(server.url, token, fid, wrong).status == 400
    done = confirm(
        server.url, token, fid, [{"part_number": n, "etag": e} for n, e in etags.items()]
    )
    assert done.status == 200, done.body
    record = done.json()
    assert record["status"] == "ready" and record["sha256"] == hashlib.sha256(data).hexdigest()
    assert leftovers(s3, s3_bucket.bucket) == []
    stored = s3.head_object(Bucket=s3_bucket.bucket, Key=record["storage_key"])
    assert stored["ContentLength"] == len(data)
    # Nothing to list or renew once it is ready
    after = http_call(f"{server.url}/files/{fid}/upload/parts", headers=bearer(token))
    assert after.status == 409
    again = http_call(f"{server.url}/files/{fid}/upload/renew", "POST", headers=bearer(token))
    assert again.status == 409


def test_bad_parts_abort_and_bad_content_is_removed(
    s3_parts: tuple[Library, Any, EmbeddedServer], s3_bucket: Any
) -> None:
    lib, s3, server = s3_parts
    token = make_tokens(lib).upload
    size = 11 * MiB
    # Parts of the wrong size: the upload is aborted
    plan = presign(server.url, token, size, multipart=True).json()
    for part in plan["parts"]:
        put_part(part["url"], b"x" * (4 * MiB))
    bad = confirm(server.url, token, plan["file_id"])
    assert bad.status == 400 and "wrong_parts" in bad.json()["error"]["details"]
    assert leftovers(s3, s3_bucket.bucket) == []
    # Right sizes, but not a picture: validation refuses it and the object is removed
    plan = presign(server.url, token, size, multipart=True).json()
    blob = os.urandom(size)
    for i, part in enumerate(plan["parts"]):
        put_part(part["url"], blob[i * 5 * MiB : (i + 1) * 5 * MiB])
    refused = confirm(server.url, token, plan["file_id"])
    assert refused.status == 400 and refused.json()["error"]["code"] == "unsupported_type"
    assert leftovers(s3, s3_bucket.bucket) == []
    assert s3.list_objects_v2(Bucket=s3_bucket.bucket).get("KeyCount", 0) == 0
    # Bad input
    assert presign(server.url, token, 0, multipart=True).status == 400
    no_size = http_call(
        f"{server.url}/files/upload/presigned",
        "POST",
        body=json.dumps(
            {"original_filename": "a.png", "file_type": "image", "multipart": True}
        ).encode(),
        headers={**bearer(token), **JSON},
    )
    assert no_size.status == 400
    assert presign(server.url, token, 301 * MiB, multipart=True).status == 413
    bad_parts = confirm(server.url, token, plan["file_id"], [{"part_number": "1"}])
    assert bad_parts.status == 400
    missing = http_call(f"{server.url}/files/999999/upload/parts", headers=bearer(token))
    assert missing.status == 404


def test_a_single_put_can_be_renewed(
    s3_parts: tuple[Library, Any, EmbeddedServer], tmp_path: Path
) -> None:
    lib, _, server = s3_parts
    token = make_tokens(lib).upload
    data = noise_png(tmp_path / "small.png", 300).read_bytes()
    plan = presign(server.url, token, len(data)).json()
    assert "parts" not in plan  # below the threshold: one PUT
    parts = http_call(f"{server.url}/files/{plan['file_id']}/upload/parts", headers=bearer(token))
    assert parts.status == 409
    renewed = http_call(
        f"{server.url}/files/{plan['file_id']}/upload/renew", "POST", headers=bearer(token)
    ).json()
    assert renewed["upload_url"] and renewed["method"] == "PUT"
    put = http_call(renewed["upload_url"], "PUT", body=data, headers=renewed["headers"])
    assert put.status == 200
    assert confirm(server.url, token, plan["file_id"]).json()["status"] == "ready"


def test_local_storage_has_no_parts(live: EmbeddedServer, library: Library) -> None:
    token = make_tokens(library).upload
    reply = presign(live.url, token, 10 * MiB, multipart=True)
    assert reply.status == 400 and "R2/S3" in reply.json()["error"]["message"]
    # too big to take at all: 413, as R2/S3 answers it (was this backend's 400 "needs R2/S3")
    too_big = presign(live.url, token, library.settings.max_file_size + 1, multipart=True)
    assert too_big.status == 413, too_big.body
    plain = presign(live.url, token, 10 * MiB).json()
    assert "parts" not in plain
    renewed = http_call(
        f"{live.url}/files/{plain['file_id']}/upload/renew", "POST", headers=bearer(token)
    )
    assert renewed.status == 200 and "/signed/" in renewed.json()["upload_url"]


def test_an_abandoned_upload_in_parts_expires_and_leaves_nothing(
    s3_parts: tuple[Library, Any, EmbeddedServer], s3_bucket: Any
) -> None:
    from datetime import UTC, datetime, timedelta

    from core.maintenance import run_maintenance

    lib, s3, server = s3_parts
    token = make_tokens(lib).upload
    plan = presign(server.url, token, 11 * MiB, multipart=True).json()
    put_part(plan["parts"][0]["url"], os.urandom(5 * MiB))
    assert len(leftovers(s3, s3_bucket.bucket)) == 1
    later = datetime.now(UTC) + timedelta(hours=2)  # past PRESIGNED_URL_EXPIRY
    report = run_maintenance(lib, now=later)
    assert plan["file_id"] in report.expired_pending and report.expired_uploads
    assert leftovers(s3, s3_bucket.bucket) == []
    assert s3.list_objects_v2(Bucket=s3_bucket.bucket).get("KeyCount", 0) == 0
    gone = http_call(f"{server.url}/files/{plan['file_id']}/upload/parts", headers=bearer(token))
    assert gone.status == 404


def test_maintenance_leaves_the_multipart_upload_of_a_pending_upload_in_parts(
    s3_parts: tuple[Library, Any, EmbeddedServer], s3_bucket: Any, tmp_path: Path
) -> None:
    """The bucket's stale-upload sweep (older than a day) spares the multipart uploads the
    catalog still uses: a presigned upload renewed for days, or a tus upload with a long
    MEDIADESK_TUS_EXPIRY, is older than a day and still going. moto lists every multipart
    upload as started in 2010, so to the sweep these look as old as such an upload does."""
    from core.maintenance import run_maintenance
    from tests.resumable_client import create, patch

    lib, s3, server = s3_parts
    token = make_tokens(lib).upload
    data = noise_png(tmp_path / "m.png").read_bytes()  # ~12 MB: three 5 MiB parts
    plan = presign(server.url, token, len(data)).json()
    size = plan["part_size"]
    put_part(plan["parts"][0]["url"], data[:size])
    tus = server.url + create(server.url, token, len(data), filename="t.png").headers["Location"]
    assert patch(tus, token, 0, data[: 6 * MiB]).status == 204
    stray = s3.create_multipart_upload(Bucket=s3_bucket.bucket, Key="general/stray.png")
    assert len(leftovers(s3, s3_bucket.bucket)) == 3

    report = run_maintenance(lib)
    assert report.aborted_multipart == 1  # the one no upload in the catalog knows
    left = {u["UploadId"] for u in leftovers(s3, s3_bucket.bucket)}
    assert plan["upload_id"] in left and stray["UploadId"] not in left

    for part in plan["parts"][1:]:
        n = part["part_number"]
        put_part(part["url"], data[(n - 1) * size : n * size])
    done = confirm(server.url, token, plan["file_id"])
    assert done.status == 200, done.body
    assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()
    last = patch(tus, token, 6 * MiB, data[6 * MiB :])
    assert last.status == 204, last.body
    assert lib.get_file(int(last.headers["MediaDesk-File-Id"])).sha256 == done.json()["sha256"]
    assert leftovers(s3, s3_bucket.bucket) == []


def test_an_aborted_upload_in_parts_fails_its_file_instead_of_turning_into_a_single_put(
    s3_parts: tuple[Library, Any, EmbeddedServer], s3_bucket: Any
) -> None:
    """Once a confirm has aborted the parts (wrong sizes), the file is failed with that reason,
    as one whose content failed validation: a repeated confirm answers 409 with it, and there
    is nothing to list or renew; it did not stay pending and hand out a single-PUT URL for
    the whole file, nor answer 'not uploaded yet'."""
    lib, s3, server = s3_parts
    token = make_tokens(lib).upload
    plan = presign(server.url, token, 11 * MiB, multipart=True).json()
    for part in plan["parts"]:
        put_part(part["url"], b"x" * (4 * MiB))
    fid = plan["file_id"]
    bad = confirm(server.url, token, fid)
    assert bad.status == 400 and "wrong_parts" in bad.json()["error"]["details"]
    assert leftovers(s3, s3_bucket.bucket) == []
    assert lib.get_file(fid).status == "failed"
    again = confirm(server.url, token, fid)
    assert again.status == 409, again.body
    error = again.json()["error"]
    # the failure in words, its code as the reason (it said "This upload failed: invalid_input:")
    assert "do not add up" in error["message"] and "invalid_input" not in error["message"]
    assert error["reason"] == "invalid_input"
    parts = http_call(f"{server.url}/files/{fid}/upload/parts", headers=bearer(token))
    renewed = http_call(f"{server.url}/files/{fid}/upload/renew", "POST", headers=bearer(token))
    assert (parts.status, renewed.status) == (409, 409), renewed.body


def test_confirm_of_parts_aborted_outside_mediadesk_answers_410_and_fails_the_file(
    s3_parts: tuple[Library, Any, EmbeddedServer], s3_bucket: Any
) -> None:
    """The multipart upload behind a presigned upload in parts is aborted behind the server's
    back (a lifecycle rule, an admin): the confirm answers 410 upload_gone, not a 500, and the
    file is failed, so a repeated confirm answers 409 instead of retrying for nothing."""
    lib, s3, server = s3_parts
    token = make_tokens(lib).upload
    plan = presign(server.url, token, 11 * MiB, multipart=True).json()
    for part in plan["parts"]:
        put_part(part["url"], b"x" * (5 * MiB if part["part_number"] < 3 else MiB))
    (pending,) = leftovers(s3, s3_bucket.bucket)
    s3.abort_multipart_upload(
        Bucket=s3_bucket.bucket, Key=pending["Key"], UploadId=pending["UploadId"]
    )
    fid = plan["file_id"]
    gone = confirm(server.url, token, fid)
    assert gone.status == 410, gone.body
    assert (gone.json()["error"]["code"], gone.json()["error"]["reason"]) == (
        "upload_gone",
        "parts_gone",
    )
    assert lib.get_file(fid).status == "failed"
    assert confirm(server.url, token, fid).status == 409
    assert leftovers(s3, s3_bucket.bucket) == []


@pytest.mark.parametrize("first", ["parts", "renew", "renew_some"])
def test_listing_or_renewing_parts_aborted_outside_mediadesk_answers_410_as_confirm_does(
    s3_parts: tuple[Library, Any, EmbeddedServer], s3_bucket: Any, first: str
) -> None:
    """The multipart upload is aborted behind the server's back: the parts listing and the
    renewal (which asks the bucket which parts it lacks, or whether the upload is still there
    when the client names the parts it wants) answer what confirm answers, 410
    upload_gone / parts_gone, not 404 not_found (the file is there; its parts are not), and
    the file is failed, so every later call answers 409."""
    lib, s3, server = s3_parts
    token = make_tokens(lib).upload
    plan = presign(server.url, token, 11 * MiB, multipart=True).json()
    put_part(plan["parts"][0]["url"], b"x" * (5 * MiB))
    (pending,) = leftovers(s3, s3_bucket.bucket)
    s3.abort_multipart_upload(
        Bucket=s3_bucket.bucket, Key=pending["Key"], UploadId=pending["UploadId"]
    )
    fid = plan["file_id"]
    parts_url, renew_url = (f"{server.url}/files/{fid}/upload/{p}" for p in ("parts", "renew"))

    def ask(what: str) -> Any:
        if what == "parts":
            return http_call(parts_url, headers=bearer(token))
        if what == "renew_some":
            some = json.dumps({"part_numbers": [2]}).encode()
            headers = {**bearer(token), "Content-Type": "application/json"}
            return http_call(renew_url, "POST", some, headers)
        return http_call(renew_url, "POST", headers=bearer(token))

    gone = ask(first)
    assert gone.status == 410, gone.body
    error = gone.json()["error"]
    assert (error["code"], error["reason"]) == ("upload_gone", "parts_gone")
    assert lib.get_file(fid).status == "failed"
    later = [ask("parts").status, ask("renew").status, confirm(server.url, token, fid).status]
    assert later == [409, 409, 409]


def _complete_in_the_bucket(
    s3: Any, bucket: str, plan: dict[str, Any], etags: dict[int, str]
) -> None:
    """What a confirm does with the bucket, done behind the server's back: the parts are
    assembled into the file's object and the multipart upload is gone."""
    (pending,) = leftovers(s3, bucket)
    s3.complete_multipart_upload(
        Bucket=bucket,
        Key=pending["Key"],
        UploadId=plan["upload_id"],
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in sorted(etags.items())]},
    )


@pytest.mark.parametrize("how", ["killed", "unanswered"])
def test_a_completion_that_went_through_unanswered_stays_confirmable_after_listing_and_renewal(
    s3_parts: tuple[Library, Any, EmbeddedServer],
    s3_bucket: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    how: str,
) -> None:
    """The bucket assembled the parts but the confirm never learnt it: `mediadesk serve` was
    killed right after CompleteMultipartUpload (killed), or the store hung on its answer
    (unanswered: the confirm's 500). A client resuming as the README says lists the parts and
    renews first: both find the multipart upload gone and the file's object whole, so they
    answer every part held and nothing to sign, the file stays pending, and the same confirm
    stores it. They answered 410 parts_gone, failed the file and deleted the finished object:
    the confirm then answered 409."""
    from core.errors import StorageUnavailable
    from core.maintenance import run_maintenance

    lib, s3, server = s3_parts
    token = make_tokens(lib).upload
    # ~5.9 MB, two parts, where the sizes are the plan's; one small part for the other
    data = noise_png(tmp_path / "m.png", 1400 if how == "killed" else 300).read_bytes()
    plan = presign(server.url, token, len(data), multipart=True).json()
    fid, size = plan["file_id"], plan["part_size"]
    count = len(plan["parts"])
    etags = {
        p["part_number"]: put_part(
            p["url"], data[(p["part_number"] - 1) * size : p["part_number"] * size]
        )
        for p in plan["parts"]
    }
    assert count == (2 if how == "killed" else 1)
    if how == "killed":
        _complete_in_the_bucket(s3, s3_bucket.bucket, plan, etags)
    else:
        store = lib.resumable._storage
        complete = store.complete_multipart

        def unanswered(*args: Any) -> Any:
            complete(*args)
            raise StorageUnavailable("The store did not answer", reason="endpoint_unreachable")

        monkeypatch.setattr(store, "complete_multipart", unanswered)
        lost = confirm(server.url, token, fid)
        assert lost.status == 500, lost.body
        monkeypatch.undo()
    assert leftovers(s3, s3_bucket.bucket) == []

    listed = http_call(f"{server.url}/files/{fid}/upload/parts", headers=bearer(token))
    assert listed.status == 200, listed.body
    body = listed.json()
    assert body["assembled"] is True and body["part_count"] == count
    sizes = [size] * (count - 1) + [len(data) - size * (count - 1)]
    assert [(p["part_number"], p["size"], p["etag"]) for p in body["parts"]] == [
        (n, sizes[n - 1], "") for n in range(1, count + 1)
    ]
    renew_url = f"{server.url}/files/{fid}/upload/renew"
    renewed = http_call(renew_url, "POST", headers=bearer(token))
    assert renewed.status == 200, renewed.body
    assert renewed.json()["parts"] == [] and renewed.json()["assembled"] is True
    some = json.dumps({"part_numbers": [count]}).encode()
    named = http_call(renew_url, "POST", some, {**bearer(token), **JSON})
    assert named.status == 200 and named.json()["parts"] == [], named.body
    assert lib.get_file(fid).status == "pending"

    # the Python client confirms with the ETags the listing gave
    given = [{"part_number": p["part_number"], "etag": p["etag"]} for p in body["parts"]]
    done = confirm(server.url, token, fid, given)
    assert done.status == 200, done.body
    record = done.json()
    assert record["status"] == "ready" and record["sha256"] == hashlib.sha256(data).hexdigest()
    signed = http_call(f"{server.url}/files/{fid}/download", headers=bearer(token))
    assert signed.status == 302, signed.body
    assert http_call(signed.headers["Location"]).body == data
    report = run_maintenance(lib)
    assert report.errors == [] and not report.expired_pending and not report.expired_uploads
    assert s3.head_object(Bucket=s3_bucket.bucket, Key=record["storage_key"])[
        "ContentLength"
    ] == len(data)
    assert confirm(server.url, token, fid).status == 200
    assert leftovers(s3, s3_bucket.bucket) == []


def test_a_completion_whose_retry_finds_the_upload_gone_is_the_object_stored(
    s3_parts: tuple[Library, Any, EmbeddedServer],
    s3_bucket: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """CompleteMultipartUpload went through but its answer was cut, and the retry meets
    NoSuchUpload: the parts were assembled, not aborted, so the confirm stores the object
    instead of answering 410 parts_gone and deleting it."""
    from core.errors import NoSuchMultipartUpload

    lib, s3, server = s3_parts
    token = make_tokens(lib).upload
    data = noise_png(tmp_path / "s.png", 300).read_bytes()
    plan = presign(server.url, token, len(data), multipart=True).json()
    (part,) = plan["parts"]
    put_part(part["url"], data)
    store = lib.resumable._storage
    complete = store.complete_multipart

    def retried(*args: Any) -> Any:
        complete(*args)
        raise NoSuchMultipartUpload("The upload is gone")

    monkeypatch.setattr(store, "complete_multipart", retried)
    done = confirm(server.url, token, plan["file_id"])
    assert done.status == 200, done.body
    assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert leftovers(s3, s3_bucket.bucket) == []


def test_a_confirms_parts_must_name_each_part_of_the_plan_once(
    s3_parts: tuple[Library, Any, EmbeddedServer],
) -> None:
    """A part number twice (S3 refuses it; the last one won here), 0, below 0 or past the
    upload's parts is a 400 invalid_input, as renew's part_numbers are; the file stays pending."""
    lib, _, server = s3_parts
    token = make_tokens(lib).upload
    plan = presign(server.url, token, 11 * MiB, multipart=True).json()
    fid = plan["file_id"]
    assert len(plan["parts"]) == 3
    for numbers in ([1, 1], [1, 2, 3, 2], [0], [-1], [4], [99]):
        given = [{"part_number": n, "etag": '"abc"'} for n in numbers]
        refused = confirm(server.url, token, fid, given)
        assert refused.status == 400, (numbers, refused.body)
        assert refused.json()["error"]["code"] == "invalid_input", (numbers, refused.body)
    assert lib.get_file(fid).status == "pending"


def test_a_presign_in_parts_sent_again_with_its_key_answers_the_same_upload(
    s3_parts: tuple[Library, Any, EmbeddedServer], tmp_path: Path
) -> None:
    """A presign whose answer was lost, sent again with its idempotency_key: the same pending
    upload, the same multipart upload in the bucket, every part signed again; and the file is
    stored from the second answer's URLs, one pending file in all."""
    lib, _s3, server = s3_parts
    token = make_tokens(lib).upload
    data = noise_png(tmp_path / "k.png").read_bytes()  # ~12 MB: 3 parts
    first = presign(server.url, token, len(data), idempotency_key="lost-1").json()
    again = presign(server.url, token, len(data), idempotency_key="lost-1")
    assert again.status == 201, again.body
    plan = again.json()
    assert (plan["file_id"], plan["upload_id"]) == (first["file_id"], first["upload_id"])
    assert [p["part_number"] for p in plan["parts"]] == [1, 2, 3]
    assert plan["file"]["status"] == "pending"
    size = plan["part_size"]
    for part in plan["parts"]:
        n = part["part_number"]
        put_part(part["url"], data[(n - 1) * size : n * size])
    stored = confirm(server.url, token, plan["file_id"])
    assert stored.status == 200 and stored.json()["status"] == "ready", stored.body
    assert lib.list_files(status="pending").total == 0
