"""A presigned upload is the presigning token's, as a tus upload is: another upload token (an
admin's too) could renew its URL, PUT its own bytes and confirm them, and the file was made
ready under the owner's name, description and athlete with the other's bytes (the owner's own
URL then answered 409); the parts listing was as blind. Now those calls of another token answer
the 404 of a file that does not exist, for a single PUT and an upload in parts, on local
storage and on S3 (moto). Over real HTTP with two tokens."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from core.db.models import ChangeLog, MediaFile, ResumableUpload
from core.errors import NotFound
from core.library import Library
from core.records import UPLOAD_OWNER
from server.entry import EmbeddedServer
from tests.conftest import make_s3_settings
from tests.internals import db_of
from tests.resumable_client import JSON, MiB, confirm, noise_png, presign, put_part
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def s3_small_parts(data_dir: Path, s3_bucket: Any) -> Iterator[EmbeddedServer]:
    """The real server over moto, with the smallest parts S3 takes (5 MiB)."""
    settings = make_s3_settings(
        data_dir, s3_bucket, upload_part_size=5 * MiB, multipart_threshold=8 * MiB
    )
    lib = Library.open(settings)
    with EmbeddedServer(lib, config=server_config(lib)) as server:
        yield server
    lib.close()


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest) -> EmbeddedServer:
    return request.getfixturevalue("live" if request.param == "local" else "s3_live")  # type: ignore[no-any-return]


def _error(reply: Reply) -> dict[str, Any]:
    """The error body but its request id (each request's own)."""
    body = dict(reply.json()["error"])
    body.pop("request_id", None)
    return body


def _calls(url: str, fid: int, parts: Any = None) -> dict[str, tuple[str, str, bytes | None]]:
    """The three calls that go on with a pending presigned upload."""
    confirm_body = None if parts is None else json.dumps({"parts": parts}).encode()
    return {
        "renew": ("POST", f"{url}/files/{fid}/upload/renew", None),
        "renew_part": ("POST", f"{url}/files/{fid}/upload/renew", b'{"part_numbers": [2]}'),
        "parts": ("GET", f"{url}/files/{fid}/upload/parts", None),
        "confirm": ("POST", f"{url}/files/{fid}/confirm-upload", confirm_body),
    }


def _ask(call: tuple[str, str, bytes | None], token: str) -> Reply:
    method, url, body = call
    return http_call(url, method, body, {**bearer(token), **(JSON if body else {})})


def assert_unseen(url: str, fid: int, tokens: list[str], parts: Any = None) -> None:
    """Each of `tokens` gets, on every call, the very answer of a file that does not exist."""
    missing = fid + 1000
    for name, call in _calls(url, fid, parts).items():
        nothing = _ask(_calls(url, missing, parts)[name], tokens[0])
        assert nothing.status == 404, (name, nothing.status, nothing.body)
        expected = _error(nothing)
        assert expected == {"code": "not_found", "message": f"File {missing} not found"}
        for token in tokens:
            reply = _ask(call, token)
            assert reply.status == 404, (name, reply.status, reply.body)
            assert _error(reply) == {**expected, "message": f"File {fid} not found"}, name


def _owner_of(lib: Library, fid: int) -> tuple[Any, Any]:
    """The owner kept on the pending file's row, and on its upload in parts' row (if any)."""
    with db_of(lib).read() as s:
        row = s.get(MediaFile, fid)
        assert row is not None
        parts_owner = s.scalar(select(ResumableUpload.owner).where(ResumableUpload.file_id == fid))
        return (row.extra or {}).get(UPLOAD_OWNER), parts_owner


def assert_owner_never_shown(url: str, token: str, lib: Library, *answers: Reply) -> None:
    """No answer, listing or feed row names the upload's owner."""
    for reply in answers:
        assert UPLOAD_OWNER not in reply.body.decode(), reply.body
    pending = http_call(f"{url}/files/?status=pending", headers=bearer(token))
    ready = http_call(f"{url}/files/", headers=bearer(token))
    for reply in (pending, ready):
        assert reply.status == 200 and UPLOAD_OWNER not in reply.body.decode(), reply.body
    with db_of(lib).read() as s:
        feed = [json.dumps(d) for d in s.scalars(select(ChangeLog.data))]
    assert feed and not [d for d in feed if UPLOAD_OWNER in d]


def test_another_tokens_renewal_put_and_confirm_of_a_single_put_are_a_404(
    server: EmbeddedServer, tmp_path: Path
) -> None:
    lib, url = server.library, server.url
    owner = make_tokens(lib).upload
    others = make_tokens(lib)  # another upload token, and an admin (refused too, as for tus)
    data = noise_png(tmp_path / "mine.png", 64).read_bytes()
    made = presign(url, owner, len(data))
    assert made.status == 201, made.body
    fid = made.json()["file_id"]
    assert "parts" not in made.json()
    assert _owner_of(lib, fid)[0].startswith("token:")

    assert_unseen(url, fid, [others.upload, others.admin])
    # the owner's calls are as before: a single PUT has no parts; its URL renewed
    assert http_call(f"{url}/files/{fid}/upload/parts", headers=bearer(owner)).status == 409
    renewed = _ask(_calls(url, fid)["renew"], owner)
    assert renewed.status == 200, renewed.body
    put = http_call(renewed.json()["upload_url"], "PUT", data, renewed.json()["headers"])
    assert put.status == 200, put.body
    # the bytes are there now: still not another token's to confirm
    assert confirm(url, others.upload, fid).status == 404
    done = confirm(url, owner, fid)
    assert done.status == 200, done.body
    assert done.json()["status"] == "ready"
    assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()
    again = confirm(url, owner, fid)  # idempotent, as before
    assert again.status == 200 and again.json()["id"] == fid
    # ready, it is no one's upload: another token's confirm answers it, as GET does
    assert confirm(url, others.upload, fid).json()["sha256"] == done.json()["sha256"]
    assert _owner_of(lib, fid) == (None, None)  # dropped with the upload
    assert_owner_never_shown(url, owner, lib, made, renewed, done)


def test_another_tokens_listing_renewal_and_confirm_of_parts_are_a_404(
    s3_small_parts: EmbeddedServer, tmp_path: Path
) -> None:
    lib, url = s3_small_parts.library, s3_small_parts.url
    owner = make_tokens(lib).upload
    others = make_tokens(lib)
    data = noise_png(tmp_path / "big.png", 1400).read_bytes()  # ~5.9 MB: two parts
    made = presign(url, owner, len(data), multipart=True)
    assert made.status == 201, made.body
    plan = made.json()
    fid, size = plan["file_id"], plan["part_size"]
    assert [p["part_number"] for p in plan["parts"]] == [1, 2]
    kept, on_parts = _owner_of(lib, fid)
    assert kept is not None and on_parts == kept  # the upload in parts' row names it too

    etags = [put_part(plan["parts"][0]["url"], data[:size])]
    named = [{"part_number": 1, "etag": etags[0]}]
    assert_unseen(url, fid, [others.upload, others.admin], parts=named)
    listed = http_call(f"{url}/files/{fid}/upload/parts", headers=bearer(owner))
    assert listed.status == 200, listed.body
    assert [p["part_number"] for p in listed.json()["parts"]] == [1]  # nothing was aborted
    renewed = _ask(_calls(url, fid)["renew"], owner)
    assert renewed.status == 200, renewed.body
    assert [p["part_number"] for p in renewed.json()["parts"]] == [2]
    etags.append(put_part(renewed.json()["parts"][0]["url"], data[size:]))
    every = [{"part_number": n, "etag": e} for n, e in enumerate(etags, 1)]
    assert confirm(url, others.upload, fid, every).status == 404
    done = confirm(url, owner, fid, every)
    assert done.status == 200, done.body
    assert done.json()["sha256"] == hashlib.sha256(data).hexdigest()
    assert confirm(url, owner, fid, every).status == 200
    assert _owner_of(lib, fid)[0] is None
    assert_owner_never_shown(url, owner, lib, made, listed, renewed, done)


def test_in_process_callers_name_no_owner(library: Library) -> None:
    """The desktop and the tus finish call the library directly: no owner, no check."""
    upload, _ = library.presign_upload(
        False, 100, owner="token:1", original_filename="a.png", file_type="image"
    )
    fid = upload.file.id
    assert UPLOAD_OWNER not in upload.file.extra
    assert library.resumable.renew(fid)["upload_url"]
    library.resumable.check_presign_owner(fid, None)
    library.resumable.check_presign_owner(fid, "token:1")
    with pytest.raises(NotFound, match=f"^File {fid} not found$"):
        library.resumable.check_presign_owner(fid, "token:2")


def test_a_failed_upload_is_no_ones_upload_any_more(live: EmbeddedServer) -> None:
    """Refused at its confirm, the file keeps no owner: its repeat answers the failure to any
    upload token, as GET shows it."""
    lib, url = live.library, live.url
    owner, other = make_tokens(lib).upload, make_tokens(lib).upload
    made = presign(url, owner, 12)
    fid = made.json()["file_id"]
    put = http_call(made.json()["upload_url"], "PUT", b"not a photo!", made.json()["headers"])
    assert put.status == 200, put.body
    assert confirm(url, other, fid).status == 404
    assert confirm(url, owner, fid).status == 400
    assert _owner_of(lib, fid) == (None, None)
    again = confirm(url, other, fid)
    assert again.status == 409 and _error(again)["message"].startswith("This upload failed")
