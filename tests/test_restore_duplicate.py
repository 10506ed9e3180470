"""A file restored from the trash whose bytes were uploaded again meanwhile comes back as that
upload: its id becomes an alias of it (the duplicate rule), never a second copy.

An integrator's report: upload X, trash it, upload X again (same athlete, same is_public:
201, a new file, since a trashed file is no file an upload duplicates), then restore the
first: 200, and the athlete had two ready files with the same SHA-256. The restore now
answers 200 with the restored id, `duplicate: true` and `duplicate_of` naming the ready file,
as a presigned upload's confirm of a duplicate does; the id keeps answering as that file, the
trash no longer lists it, and nothing of it is left behind. Real server, real HTTP, real
media on the local backend.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core.library import Library
from server.entry import EmbeddedServer
from tests import media
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body

pytestmark = pytest.mark.timeout(90)


def photo(seed: int) -> bytes:
    buf = io.BytesIO()
    Image.effect_noise((64, 64), seed).convert("RGB").save(buf, "JPEG")
    return buf.getvalue()


def upload(url: str, token: str, data: bytes, name: str, **fields: str) -> Any:
    kind = "video" if name.endswith(".avi") else "image"
    body, ctype = multipart_body({"file_type": kind, **fields}, {"file": (name, data, "x/y")})
    return http_call(
        f"{url}/files/upload/direct", "POST", body, {**bearer(token), "Content-Type": ctype}
    )


def call(url: str, token: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else b""
    headers = {**bearer(token), "Content-Type": "application/json"}
    return http_call(f"{url}{path}", method, data if method != "GET" else None, headers)


def objects(library: Library) -> list[Path]:
    return sorted(
        p
        for p in library.paths.objects_dir.rglob("*")
        if p.is_file() and p.suffix in (".jpg", ".avi") and "_derived" not in str(p)
    )


def test_a_restore_of_bytes_uploaded_again_answers_the_new_file_as_a_duplicate(
    live: EmbeddedServer, library: Library
) -> None:
    tokens = make_tokens(library)
    url, up, data = live.url, tokens.upload, photo(11)
    first = upload(url, up, data, "first.jpg", athlete_id="9")
    assert first.status == 201, first.body
    a = first.json()["id"]
    assert call(url, up, "DELETE", f"/files/{a}").status == 200
    again = upload(url, up, data, "again.jpg", athlete_id="9")
    assert again.status == 201 and again.json()["duplicate_of"] is None, again.body
    b = again.json()["id"]

    back = call(url, up, "POST", f"/files/{a}/restore")
    assert back.status == 200, back.body
    body = back.json()
    assert body["id"] == a and body["duplicate"] is True and body["duplicate_of"] == b
    assert body["original_filename"] == "again.jpg" and not body["deleted_at"]

    # one ready file with these bytes; the trash is empty; the old id answers as the new file
    read = tokens.read
    page = call(url, read, "GET", "/files/?athlete_id=9&status=any").json()
    assert [f["id"] for f in page["items"]] == [b]
    assert call(url, read, "GET", "/files/?trashed=true").json()["total"] == 0
    got = call(url, read, "GET", f"/files/{a}")
    assert got.status == 200 and got.json()["duplicate_of"] == b
    stream = http_call(f"{url}/stream/{a}/image", headers=bearer(read))
    assert stream.status == 200 and stream.body == data
    assert len(objects(library)) == 1
    athlete = next(x for x in library.athletes() if x.id == 9)
    assert (athlete.file_count, athlete.trash_count) == (1, 0)

    # restored again: it is not in the trash (as any file restored twice)
    twice = call(url, up, "POST", f"/files/{a}/restore")
    assert twice.status == 409 and twice.json()["error"]["reason"] == "not_trashed"
    # the file's hard delete takes the alias along, and the bytes with it
    hard = http_call(f"{url}/files/{b}?hard_delete=true", "DELETE", headers=bearer(tokens.admin))
    assert hard.status == 200, hard.body
    assert call(url, read, "GET", f"/files/{a}").status == 404
    assert objects(library) == []


def test_only_a_ready_copy_for_the_same_athlete_and_flags_makes_a_restore_a_duplicate(
    live: EmbeddedServer, library: Library
) -> None:
    tokens = make_tokens(library)
    url, up, data = live.url, tokens.upload, photo(12)
    a = upload(url, up, data, "a.jpg", athlete_id="9").json()["id"]
    assert call(url, up, "DELETE", f"/files/{a}").status == 200
    other = upload(url, up, data, "b.jpg", athlete_id="4").json()["id"]  # another athlete
    public = upload(url, up, data, "c.jpg", athlete_id="9", is_public="true").json()["id"]
    back = call(url, up, "POST", f"/files/{a}/restore")
    assert back.status == 200 and back.json()["duplicate_of"] is None, back.body
    # the same athlete's copy, itself in the trash, is none either
    assert call(url, up, "DELETE", f"/files/{a}").status == 200
    again = upload(url, up, data, "d.jpg", athlete_id="9").json()["id"]
    assert call(url, up, "DELETE", f"/files/{again}").status == 200
    back = call(url, up, "POST", f"/files/{a}/restore")
    assert back.status == 200 and back.json()["duplicate_of"] is None, back.body
    live_ids = {f.id for f in library.list_files(limit=100).items}
    assert live_ids == {a, other, public}


def test_a_video_restored_as_its_upload_again_hands_it_its_jobs(
    live: EmbeddedServer, library: Library, tmp_path: Path
) -> None:
    """The first upload of shared bytes owns the object's jobs (renditions, HLS): restored as
    the new upload's alias, the jobs go to the file that keeps the object, as a hard delete's."""
    tokens = make_tokens(library)
    url, up = live.url, tokens.upload
    data = media.make_avi(tmp_path / "clip.avi", seconds=1).read_bytes()
    a = upload(url, up, data, "clip.avi", athlete_id="9").json()["id"]
    kinds = sorted(j.kind for j in library.jobs.list(file_id=a)[0])
    assert kinds
    assert call(url, up, "DELETE", f"/files/{a}").status == 200
    b = upload(url, up, data, "clip2.avi", athlete_id="9").json()["id"]
    assert call(url, up, "POST", f"/files/{a}/restore").json()["duplicate_of"] == b
    assert library.jobs.list(file_id=a)[0] == []
    assert sorted(j.kind for j in library.jobs.list(file_id=b)[0]) == kinds
    info = call(url, tokens.read, "GET", f"/stream/{a}/info")
    assert info.status == 200 and info.json()["processing"] is not None, info.body


def test_a_restored_file_with_an_object_of_its_own_leaves_it_to_the_file_it_joins(
    live: EmbeddedServer, library: Library
) -> None:
    """Two files of one athlete with the same bytes and objects of their own (a move between
    athletes of a file in the trash makes one; a ready one is refused as a duplicate):
    restored, the first joins the second, and its own object and thumbnail go."""
    tokens = make_tokens(library)
    url, up, data = live.url, tokens.upload, photo(13)
    a = upload(url, up, data, "a.jpg", athlete_id="5").json()["id"]
    b = upload(url, up, data, "b.jpg", athlete_id="9").json()["id"]
    assert call(url, up, "DELETE", f"/files/{a}").status == 200
    moved = call(url, up, "PATCH", f"/files/{a}", {"athlete_id": 9})
    assert moved.status == 200, moved.body
    key_a, key_b = library.get_file(a).storage_key, library.get_file(b).storage_key
    if key_a == key_b:
        pytest.skip("the move kept the shared object: no object of its own to test")
    assert len(objects(library)) == 2
    back = call(url, up, "POST", f"/files/{a}/restore")
    assert back.status == 200 and back.json()["duplicate_of"] == b, back.body
    assert objects(library) == [library.paths.objects_dir / key_b]
    stream = http_call(f"{url}/stream/{a}/image", headers=bearer(tokens.read))
    assert stream.status == 200 and stream.body == data


@pytest.fixture(params=["sqlite", "postgresql"])
def any_library(request: pytest.FixtureRequest) -> Library:
    lib: Library = request.getfixturevalue("library" if request.param == "sqlite" else "pg_library")
    return lib


def test_the_rule_holds_in_core_on_both_catalogs_and_in_one_batch(
    any_library: Library, tmp_path: Path
) -> None:
    """Through the library as the desktop calls it, on SQLite and PostgreSQL (the hash lock
    and the held row are PostgreSQL's); both copies in the trash and restored in one batch:
    the first comes back as itself, the second as its alias."""
    lib = any_library
    path = tmp_path / "x.jpg"
    path.write_bytes(photo(14))
    a = lib.uploads.ingest(path, "image", athlete_id=9)
    lib.trash(a.id)
    b = lib.uploads.ingest(path, "image", athlete_id=9)
    assert b.id != a.id and not b.duplicate
    back = lib.restore(a.id)
    assert (back.id, back.duplicate, back.duplicate_of) == (a.id, True, b.id)
    assert [f.id for f in lib.list_files(athlete_id=9).items] == [b.id]

    c = lib.uploads.ingest(path, "image", athlete_id=7)
    lib.trash(c.id)
    d = lib.uploads.ingest(path, "image", athlete_id=7)
    lib.trash(d.id)
    outcome = lib.restore_many([c.id, d.id])
    assert outcome.done == (c.id, d.id) and outcome.failed == ()
    assert [f.id for f in lib.list_files(athlete_id=7).items] == [c.id]
    assert lib.get_file(d.id).duplicate_of == c.id
    assert lib.list_files(trashed=True).total == 0
