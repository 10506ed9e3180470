"""POST /files/{id}/upload/renew, GET …/upload/parts and the confirm of a presigned upload
in parts whose give-up was cut between its two writes (the multipart upload aborted and its
row failed, the file not yet failed: the catalog lost, or the server killed, in between).
Read as a single PUT, its renewal signed a PUT of the whole file for {} and answered 400
'part_numbers must be between 1 and 1' when it named one of its three parts; the listing said
"a single PUT" (409) and the confirm "not uploaded yet" (400). All now answer what the
give-up's own call did, 410 upload_gone (reason parts_gone), and fail the file: later calls
answer 409.

moto's S3 server, the real server over loopback; the state the cut give-up leaves is written
into the real SQLite catalog, as it would stand after the kill."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from typing import Any

import pytest

from core.library import Library
from core.resumable import PRESIGNED_PARTS_GONE
from server.entry import EmbeddedServer
from tests.resumable_client import JSON, MiB, confirm, presign
from tests.server_fixtures import Reply, bearer, http_call, make_tokens
from tests.test_multipart import leftovers, s3_parts

__all__ = ["s3_parts"]


def _renew(body: dict[str, Any]) -> Callable[[str, str, int], Reply]:
    def call(url: str, token: str, fid: int) -> Reply:
        data = json.dumps(body).encode()
        return http_call(f"{url}/files/{fid}/upload/renew", "POST", data, {**bearer(token), **JSON})

    return call


def _parts(url: str, token: str, fid: int) -> Reply:
    return http_call(f"{url}/files/{fid}/upload/parts", "GET", None, bearer(token))


@pytest.mark.parametrize(
    "call",
    [_renew({}), _renew({"part_numbers": [2]}), _parts, confirm],
    ids=["renew", "renew-a-part", "parts", "confirm"],
)
def test_a_call_on_parts_given_up_answers_410_and_fails_the_file(
    s3_parts: tuple[Library, Any, EmbeddedServer],
    s3_bucket: Any,
    call: Callable[[str, str, int], Reply],
) -> None:
    lib, s3, server = s3_parts
    token = make_tokens(lib).upload
    plan = presign(server.url, token, 11 * MiB, multipart=True).json()
    assert [p["part_number"] for p in plan["parts"]] == [1, 2, 3]
    fid = plan["file_id"]
    # the give-up's first write (and the abort before it); its second, the file's, never came
    (pending,) = leftovers(s3, s3_bucket.bucket)
    s3.abort_multipart_upload(
        Bucket=s3_bucket.bucket, Key=pending["Key"], UploadId=pending["UploadId"]
    )
    with sqlite3.connect(lib.paths.database_file) as db:
        changed = db.execute(
            "UPDATE resumable_uploads SET state = 'failed' "
            "WHERE protocol = 'multipart' AND file_id = ?",
            (fid,),
        ).rowcount
    assert changed == 1
    assert lib.get_file(fid).status == "pending"

    answered = call(server.url, token, fid)
    assert answered.status == 410, answered.body
    error = answered.json()["error"]
    assert (error["code"], error["reason"]) == ("upload_gone", "parts_gone"), error
    assert error["message"] == PRESIGNED_PARTS_GONE
    assert lib.get_file(fid).status == "failed"
    for later in (_renew({}), _parts, confirm):
        assert later(server.url, token, fid).status == 409
