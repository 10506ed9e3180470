"""Every id the API hands out keeps answering: duplicates become aliases of the existing file."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest

from core.errors import NotFound
from core.library import Library
from server.entry import EmbeddedServer
from tests.internals import catalog_of, storage_of
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body

pytestmark = pytest.mark.timeout(90)


def presign(url: str, token: str, name: str, **fields: str) -> dict[str, Any]:
    body, ctype = multipart_body({"original_filename": name, "file_type": "image", **fields})
    resp = http_call(
        f"{url}/files/upload/presigned", "POST", body, {"Content-Type": ctype, **bearer(token)}
    )
    assert resp.status == 201, resp.body
    return resp.json()


def put_and_confirm(url: str, token: str, upload: dict[str, Any], data: bytes) -> Any:
    put = http_call(upload["upload_url"], "PUT", data, {"Content-Type": "image/jpeg"})
    assert put.status == 200, put.body
    return http_call(f"{url}/files/{upload['file_id']}/confirm-upload", "POST", b"", bearer(token))


def test_duplicate_confirm_keeps_the_handed_out_id(live: EmbeddedServer, media_dir: Any) -> None:
    tokens = make_tokens(live.library)
    url, data = live.url, media_dir.jpeg.read_bytes()
    first = put_and_confirm(url, tokens.upload, presign(url, tokens.upload, "a.jpg"), data).json()
    upload = presign(url, tokens.upload, "b.jpg")
    done = put_and_confirm(url, tokens.upload, upload, data)
    assert done.status == 200
    body = done.json()
    alias = upload["file_id"]
    assert body["id"] == body["file_id"] == alias != first["id"]
    assert body["duplicate"] is True and body["duplicate_of"] == first["id"]
    assert body["urls"]["stream"].startswith(f"/stream/{alias}/image?v=")
    # confirming again answers the same
    again = http_call(f"{url}/files/{alias}/confirm-upload", "POST", b"", bearer(tokens.upload))
    assert again.status == 200 and again.json()["duplicate_of"] == first["id"]
    # GET, stream, download through the alias
    h = bearer(tokens.read)
    got = http_call(f"{url}/files/{alias}", headers=h)
    assert got.status == 200 and got.json()["duplicate_of"] == first["id"]
    assert got.json()["original_filename"] == "a.jpg"
    stream = http_call(f"{url}/stream/{alias}/image", headers=h)
    assert stream.status == 200 and stream.body == data
    assert http_call(f"{url}/files/{alias}/download", headers=h).status == 302
    # one file in the listing, one object in the store
    page = http_call(f"{url}/files/?status=any", headers=h).json()
    assert [i["id"] for i in page["items"]] == [first["id"]]
    objects = [p for p in live.library.paths.objects_dir.rglob("*.jpg") if "_derived" not in str(p)]
    assert len(objects) == 1
    # PATCH through the alias edits the file
    patch = http_call(
        f"{url}/files/{alias}",
        "PATCH",
        json.dumps({"description": "via alias"}).encode(),
        {"Content-Type": "application/json", **bearer(tokens.upload)},
    )
    assert patch.status == 200 and patch.json()["id"] == alias
    assert live.library.get_file(first["id"]).description == "via alias"
    # DELETE through the alias trashes the file; restore through it too
    gone = http_call(f"{url}/files/{alias}", "DELETE", headers=bearer(tokens.upload))
    assert gone.status == 200 and live.library.get_file(first["id"]).is_trashed
    back = http_call(f"{url}/files/{alias}/restore", "POST", b"", bearer(tokens.upload))
    assert back.status == 200 and not live.library.get_file(first["id"]).is_trashed
    # a hard delete of the file takes its aliases with it
    hard = http_call(
        f"{url}/files/{first['id']}?hard_delete=true", "DELETE", headers=bearer(tokens.admin)
    )
    assert hard.status == 200
    assert http_call(f"{url}/files/{alias}", headers=h).status == 404


def test_same_bytes_for_another_athlete_or_flags_is_its_own_file(
    live: EmbeddedServer, media_dir: Any
) -> None:
    tokens = make_tokens(live.library)
    url, data = live.url, media_dir.jpeg.read_bytes()
    first = put_and_confirm(
        url, tokens.upload, presign(url, tokens.upload, "a.jpg", athlete_id="3"), data
    ).json()
    other = put_and_confirm(
        url, tokens.upload, presign(url, tokens.upload, "b.jpg", athlete_id="4"), data
    ).json()
    public = put_and_confirm(
        url,
        tokens.upload,
        presign(url, tokens.upload, "c.jpg", athlete_id="3", is_public="true"),
        data,
    ).json()
    ids = {first["id"], other["id"], public["id"]}
    assert len(ids) == 3
    assert not other["duplicate"] and other["duplicate_of"] is None
    assert not public["duplicate"] and public["athlete_id"] == 3 and public["is_public"]
    # deleting one never takes the bytes of another
    hard = http_call(
        f"{url}/files/{first['id']}?hard_delete=true", "DELETE", headers=bearer(tokens.admin)
    )
    assert hard.status == 200
    for fid in (other["id"], public["id"]):
        got = http_call(f"{url}/stream/{fid}/image", headers=bearer(tokens.read))
        assert got.status == 200 and got.body == data


def test_direct_upload_duplicate_rule(live: EmbeddedServer, media_dir: Any) -> None:
    tokens = make_tokens(live.library)
    data = media_dir.jpeg.read_bytes()

    def direct(**fields: str) -> Any:
        body, ctype = multipart_body(
            {"file_type": "image", **fields}, {"file": ("p.jpg", data, "image/jpeg")}
        )
        return http_call(
            f"{live.url}/files/upload/direct",
            "POST",
            body,
            {"Content-Type": ctype, **bearer(tokens.upload)},
        )

    first = direct(athlete_id="7")
    assert first.status == 201
    dup = direct(athlete_id="7")
    assert dup.status == 200
    assert dup.json()["id"] == first.json()["id"] == dup.json()["duplicate_of"]
    other = direct(athlete_id="8")
    assert other.status == 201 and other.json()["id"] != first.json()["id"]


def test_library_aliases(library: Library, media_dir: Any) -> None:
    first = library.uploads.ingest(media_dir.png, "image")
    upload = library.uploads.create_presigned_upload("copy.png", "image", content_type="image/png")
    storage_of(library).put_file(upload.file_key, media_dir.png, "image/png")
    dup = library.uploads.confirm_upload(upload.file.id)
    assert dup.id == upload.file.id and dup.duplicate_of == first.id
    assert catalog_of(library).resolve(dup.id) == first.id
    assert library.get_ready(dup.id).storage_key == first.storage_key
    assert library.list_files().total == 1
    assert library.list_files(status=None).total == 1
    again = library.uploads.ingest(
        io.BytesIO(media_dir.png.read_bytes()), "image", original_filename="x"
    )
    assert again.id == first.id and again.duplicate_of == first.id
    library.delete_permanently(dup.id)  # through the alias
    with pytest.raises(NotFound):
        library.get_file(first.id)
    with pytest.raises(NotFound):
        library.get_file(dup.id)
