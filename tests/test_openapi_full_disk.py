"""Every operation that can answer 507 insufficient_storage declares it: every write (the
catalog, the data folder or the store) from one rule (server/openapi.py `_no_room`), and the
one read that writes (a photo's lost thumbnail made again on R2/S3) in its own words.

Found by an outside README check: on a full data disk DELETE /files/{id} (hard too), POST
/files/{id}/restore, POST /files/upload/presigned and POST /athletes answered 507, which
/openapi.json did not list for them (PATCH /files/{id} did), so a generated client had no type
for the answer. The real checks send each write to a server whose data folder (catalog, local
store, tmp/) is a small tmpfs filled up (root only; moto's S3 server for the R2 read)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from core import keys
from core.library import Library
from server.entry import EmbeddedServer
from server.openapi import WRITES, build_spec, routes
from tests import media
from tests.conftest import make_s3_settings, make_settings
from tests.faults import fill_disk, small_tmpfs
from tests.internals import storage_of
from tests.media_fixtures import MediaSet
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(120)

S = dict[str, Any]
TUS = {"Tus-Resumable": "1.0.0"}
JSON = {"Content-Type": "application/json"}


def test_every_operation_that_writes_declares_507() -> None:
    spec = build_spec()
    writes = {(r.method, r.path) for r in routes() if r.method in WRITES and r.scope != "public"}
    assert len(writes) >= 16  # the rule is not vacuous
    missing = [
        f"{method.upper()} {path}"
        for method, path in sorted(writes)
        if "507" not in spec["paths"][path][method]["responses"]
    ]
    assert missing == []
    for method, path in writes:
        answer = spec["paths"][path][method]["responses"]["507"]
        assert answer["description"].startswith("insufficient_storage"), (method, path)
        assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


class Call(NamedTuple):
    """A request, and the operation of the document it is."""

    operation: str  # "post /files/{file_id}/restore"
    method: str
    url: str
    body: bytes = b""
    headers: dict[str, str] = {}


def _send(call: Call, token: str) -> Reply:
    return http_call(call.url, call.method, call.body, {**bearer(token), **call.headers})


def _declared(spec: S, operation: str, status: int) -> bool:
    method, path = operation.split(" ", 1)
    return str(status) in spec["paths"][path][method]["responses"]


def _photo(lib: Library, folder: Path, n: int) -> int:
    """A photo of its own bytes (the same bytes twice would be a duplicate's alias)."""
    path = media.make_jpeg(folder / f"p{n}.jpg", size=(64, 48), color=(20 * n, 90, 200 - 20 * n))
    return lib.uploads.ingest(path, "image").id


def _exhaust(url: str, token: str, fid: int) -> None:
    """Writes to the catalog until one fails for room: SQLite reuses the room its write-ahead
    log already holds, so the first writes on a full disk may still get through."""
    for n in range(2000):
        body = json.dumps({"description": f"{n}" * 5000}).encode()
        reply = http_call(f"{url}/files/{fid}", "PATCH", body, {**bearer(token), **JSON})
        if reply.status == 507:
            return
        assert reply.status == 200, reply.body
    raise AssertionError("the catalog never ran out of room")


def test_a_full_disk_answers_every_write_507_and_the_spec_lists_it(
    tmp_path: Path, media_dir: MediaSet
) -> None:
    with small_tmpfs(tmp_path / "data", "24m") as data_dir:
        lib = Library.open(make_settings(data_dir, workers=0))
        try:
            with EmbeddedServer(lib, config=server_config(lib)) as server:
                _check_writes(server.url, lib, tmp_path, media_dir, data_dir)
        finally:
            lib.close()


def _check_writes(
    url: str, lib: Library, tmp_path: Path, media_dir: MediaSet, data_dir: Path
) -> None:
    tokens = make_tokens(lib)
    spec = http_call(f"{url}/openapi.json").json()
    edited, trashed, restored, deleted = (_photo(lib, tmp_path, n) for n in range(4))
    lib.delete(restored)
    video = lib.uploads.ingest(media_dir.mp4, "video").id
    queued, cancelled, *_ = lib.jobs.list(file_id=video)[0]
    lib.jobs.cancel(cancelled.id)
    athlete = lib.create_athlete("Before").id
    fresh = media.make_jpeg(tmp_path / "new.jpg", size=(64, 48), color=(5, 6, 7)).read_bytes()
    ask = {"original_filename": "n.jpg", "file_type": "image", "content_type": "image/jpeg"}

    def presign() -> S:
        reply = _send(
            Call("", "POST", f"{url}/files/upload/presigned", json.dumps(ask).encode(), JSON),
            tokens.upload,
        )
        assert reply.status == 201, reply.body
        return reply.json()  # type: ignore[no-any-return]

    confirmed, renewed, put_later = presign(), presign(), presign()
    jpeg = {"Content-Type": "image/jpeg"}
    assert http_call(confirmed["upload_url"], "PUT", fresh, jpeg).status in (200, 201, 204)
    tus = _send(
        Call("", "POST", f"{url}/files/upload/tus", headers={**TUS, "Upload-Length": "1000"}),
        tokens.upload,
    )
    assert tus.status == 201, tus.body
    upload = f"{url}{tus.headers['Location']}"
    other = media.make_jpeg(tmp_path / "d.jpg", size=(64, 48), color=(7, 8, 9)).read_bytes()
    form = b'--b\r\nContent-Disposition: form-data; name="file_type"\r\n\r\nimage\r\n--b\r\n'
    form += b'Content-Disposition: form-data; name="file"; filename="d.jpg"\r\n'
    form += b"Content-Type: image/jpeg\r\n\r\n" + other + b"\r\n--b--\r\n"
    part = {**TUS, "Upload-Offset": "0", "Content-Type": "application/offset+octet-stream"}

    def body(value: S) -> bytes:
        return json.dumps(value).encode()

    uploads = [
        Call(
            "post /files/upload/presigned", "POST", f"{url}/files/upload/presigned", body(ask), JSON
        ),
        Call(
            "post /files/{file_id}/confirm-upload",
            "POST",
            f"{url}/files/{confirmed['file_id']}/confirm-upload",
        ),
        Call(
            "post /files/{file_id}/upload/renew",
            "POST",
            f"{url}/files/{renewed['file_id']}/upload/renew",
        ),
        Call(
            "post /files/upload/direct",
            "POST",
            f"{url}/files/upload/direct",
            form,
            {"Content-Type": "multipart/form-data; boundary=b"},
        ),
        Call("put /signed/{key}", "PUT", put_later["upload_url"], fresh, jpeg),
        Call(
            "patch /files/{file_id}",
            "PATCH",
            f"{url}/files/{edited}",
            body({"description": "x"}),
            JSON,
        ),
        Call("delete /files/{file_id}", "DELETE", f"{url}/files/{trashed}"),
        Call("post /files/{file_id}/restore", "POST", f"{url}/files/{restored}/restore"),
        Call("post /athletes", "POST", f"{url}/athletes", body({"name": "Full Disk"}), JSON),
        Call(
            "patch /athletes/{athlete_id}",
            "PATCH",
            f"{url}/athletes/{athlete}",
            body({"name": "After"}),
            JSON,
        ),
        Call(
            "post /files/upload/tus",
            "POST",
            f"{url}/files/upload/tus",
            headers={**TUS, "Upload-Length": "10"},
        ),
        Call("patch /files/upload/tus/{upload_id}", "PATCH", upload, other[:1000], part),
    ]
    admin = [
        Call("post /jobs/{job_id}/cancel", "POST", f"{url}/jobs/{queued.id}/cancel"),
        Call("post /jobs/{job_id}/retry", "POST", f"{url}/jobs/{cancelled.id}/retry"),
        Call("post /files/{file_id}/reprocess", "POST", f"{url}/files/{video}/reprocess"),
    ]
    # last, as it may free room (the tus upload's, by its owner)
    last = Call("delete /files/upload/tus/{upload_id}", "DELETE", upload, headers=TUS)
    fill_disk(data_dir / "filler")
    answered = []
    for call, token in [
        *((c, tokens.upload) for c in uploads),
        *((c, tokens.admin) for c in admin),
        (last, tokens.upload),
    ]:
        _exhaust(url, tokens.upload, edited)
        status = _send(call, token).status
        answered.append((call.operation, status, _declared(spec, call.operation, status)))
    assert [a for a in answered if a[1:] != (507, True)] == []
    # A hard delete is the one write that goes through: it runs in the catalog's reserve, so
    # staff can free room (the trash's DELETE above got 507, the same operation's declared one).
    hard = _send(Call("", "DELETE", f"{url}/files/{deleted}?hard_delete=true"), tokens.admin)
    assert hard.status == 200, hard.body
    written = {(m, p) for m, p in (a[0].split(" ", 1) for a in answered)}
    assert written == {
        (r.method, r.path) for r in routes() if r.method in WRITES and r.scope != "public"
    }
    # reads go on (README)
    for path in (
        "/files",
        f"/files/{edited}",
        f"/files/{edited}/thumbnail",
        f"/stream/{edited}/image?w=160",
        "/athletes",
        "/jobs",
    ):
        reply = http_call(f"{url}{path}", headers=bearer(tokens.read))
        assert reply.status == 200, (path, reply.status, reply.body)


def test_a_lost_thumbnail_on_r2_with_a_full_disk_answers_as_the_spec_says(
    tmp_path: Path, media_dir: MediaSet, s3_bucket: Any
) -> None:
    """The read that writes: a photo's thumbnail lost from the bucket is made again from its
    original, downloaded into the data folder's tmp/ first, which a full disk has no room for
    (a local store's original is read in place instead: tests/test_thumbnail_full_disk.py)."""
    with small_tmpfs(tmp_path / "data", "16m") as data_dir:
        settings = make_s3_settings(
            data_dir,
            s3_bucket,
        )
        lib = Library.open(settings)
        try:
            tokens = make_tokens(lib)
            photo = lib.get_file(_photo(lib, tmp_path, 1))
            with EmbeddedServer(lib, config=server_config(lib)) as server:
                spec = http_call(f"{server.url}/openapi.json").json()
                storage_of(lib).delete(keys.thumbnail_key(photo.storage_key))
                for cached in (lib.paths.cache_dir / "thumbnails").glob("*"):
                    cached.unlink()
                fill_disk(data_dir / "filler")
                for method in ("GET", "HEAD"):
                    reply = http_call(
                        f"{server.url}/files/{photo.id}/thumbnail",
                        method,
                        headers=bearer(tokens.read),
                    )
                    operation = f"{method.lower()} /files/{{file_id}}/thumbnail"
                    assert reply.status in (200, 507), reply.body
                    assert _declared(spec, operation, reply.status), (operation, reply.status)
        finally:
            lib.close()
