"""Over real HTTP, on the local folder: a data folder whose permissions were removed (chmod 000)
answers every write path (direct upload, delete) and read path (stream, thumbnail) with 500
`storage_unavailable` and a JSON body, never 500 `internal_error`, and leaves nothing behind:
nothing half-written, nothing half-destroyed (a refused hard delete keeps the file whole, a
retry finishes it), and a temp file that cannot be removed never hides the upload's answer.

The folder permissions are real. Tests here may run as root, whom permission bits do not stop
(CAP_DAC_OVERRIDE): the server then runs in its own process under `setpriv` without the two
capabilities that bypass them, still as root and owner of the files, so chmod 000 stops it as
it stops any user."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core import keys
from core.library import Library
from core.maintenance import reconcile
from tests import resumable_client as tus
from tests.faults import (
    ServeProcess,
    assert_healthy,
    open_request,
    partial_files,
    start_serve,
    wait_for,
)
from tests.media import make_jpeg
from tests.server_fixtures import Reply, Tokens, bearer, http_call, make_tokens, multipart_body

pytestmark = pytest.mark.timeout(90)

DROP_CAPS = ("setpriv", "--bounding-set=-dac_override,-dac_read_search")


@pytest.fixture
def served(library: Library) -> Iterator[tuple[ServeProcess, Tokens]]:
    """`mediadesk serve` on the library's data folder, in a process that permissions stop."""
    wrapper: tuple[str, ...] = ()
    if os.geteuid() == 0:
        if shutil.which("setpriv") is None:
            pytest.skip("as root, permissions stop the server only under setpriv (util-linux)")
        wrapper = DROP_CAPS
    tokens = make_tokens(library)
    server = start_serve(library.paths.data_dir, wrapper=wrapper)
    try:
        yield server, tokens
    finally:
        server.stop()


def _upload(url: str, token: str, path: Path) -> Reply:
    body, ctype = multipart_body(
        {"file_type": "image"}, {"file": (path.name, path.read_bytes(), "image/jpeg")}
    )
    return http_call(
        f"{url}/files/upload/direct", "POST", body, {**bearer(token), "Content-Type": ctype}
    )


def _assert_storage_error(name: str, reply: Reply) -> None:
    assert reply.status == 500, (name, reply.status, reply.body)
    assert reply.headers["Content-Type"].startswith("application/json"), name
    error = reply.json()["error"]
    assert error["code"] == "storage_unavailable", (name, error)
    assert "/" not in error["message"], (name, error)  # no path, no key


class Unreadable:
    """chmod 000 on folders for the time of a `with`; their modes come back after it."""

    mode = 0

    def __init__(self, *folders: Path) -> None:
        self.folders = folders

    def __enter__(self) -> Unreadable:
        self.modes = [f.stat().st_mode for f in self.folders]
        for folder in self.folders:
            folder.chmod(self.mode)
        return self

    def __exit__(self, *exc: object) -> None:
        for folder, mode in zip(self.folders, self.modes, strict=True):
            folder.chmod(mode)


class ReadOnly(Unreadable):
    """chmod 555: what is in the folders can be read, nothing there added, renamed or removed."""

    mode = 0o555


def _upload_while(url: str, token: str, path: Path, change: Unreadable) -> tuple[int, Any]:
    """A direct upload during which `change` is made: from the moment the server spools the
    file part (its first bytes sent, the rest held back) to the answer."""
    # The file part first: the server starts its spool file once the part's headers come (a
    # field before it would be read to its end only once more of the body follows).
    boundary = f"----mediadesk{uuid.uuid4().hex}"
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{path.name}"\r\nContent-Type: image/jpeg\r\n\r\n'
    ).encode()
    cut = len(body) + 100
    body += (
        path.read_bytes()
        + (
            f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="file_type"\r\n\r\n'
            f"image\r\n--{boundary}--\r\n"
        ).encode()
    )
    head = (
        f"POST /files/upload/direct HTTP/1.1\r\nHost: {url.split('//', 1)[1]}\r\n"
        f"Authorization: Bearer {token}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    tmp = change.folders[0]
    before = set(tmp.iterdir())
    with open_request(url, head, body[:cut]) as sock:
        wait_for(lambda: set(tmp.iterdir()) - before, what="the spool file")
        with change:
            sock.sendall(body[cut:])
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
    status, _, payload = answer.partition(b"\r\n\r\n")
    return int(status.split()[1]), json.loads(payload)


def test_a_folder_without_permissions_is_a_storage_error_on_every_path(
    library: Library, served: tuple[ServeProcess, Tokens], tmp_path: Path
) -> None:
    server, tokens = served
    url, data_dir = server.url, library.paths.data_dir
    first = _upload(url, tokens.upload, make_jpeg(tmp_path / "a.jpg", size=(320, 200)))
    assert first.status == 201, first.body
    fid, key = first.json()["id"], first.json()["storage_key"]
    month = library.paths.objects_dir.joinpath(*key.split("/")[:-1])  # general/YYYY/MM
    objects = library.paths.objects_dir
    thumbnails = library.paths.cache_dir / "thumbnails"
    first_thumb = f"{url}/files/{fid}/thumbnail"
    thumb_bytes = http_call(first_thumb, headers=bearer(tokens.read))
    assert thumb_bytes.status == 200, thumb_bytes.body
    new = make_jpeg(tmp_path / "b.jpg", size=(321, 200))
    files_before = sorted(p for p in data_dir.rglob("*") if p.is_file() and "logs" not in p.parts)

    for folders in ((month,), (objects,)):
        with Unreadable(*folders):
            _assert_storage_error("upload", _upload(url, tokens.upload, new))
            hard = f"{url}/files/{fid}?hard_delete=true"
            _assert_storage_error("delete", http_call(hard, "DELETE", headers=bearer(tokens.admin)))
            raw = http_call(f"{url}/stream/{fid}/raw", headers=bearer(tokens.read))
            _assert_storage_error("stream", raw)
        assert partial_files(data_dir) == [], folders  # nothing half-written
        assert list((data_dir / "tmp").iterdir()) == [], folders  # the spooled upload went
        # nothing half-destroyed: the refused hard delete left the store's thumbnail (the
        # cache, unreadable, cannot answer in its place)
        with Unreadable(thumbnails):
            again = http_call(first_thumb, headers=bearer(tokens.read))
        assert (again.status, again.body) == (200, thumb_bytes.body), (folders, again.body)

    # the thumbnail cache is only a cache: unreadable, the store's copy answers...
    second = _upload(url, tokens.upload, new)
    assert second.status == 201, second.body
    thumb = f"{url}/files/{second.json()['id']}/thumbnail"
    expected = http_call(thumb, headers=bearer(tokens.read))
    assert expected.status == 200, expected.body
    with Unreadable(thumbnails):
        again = http_call(thumb, headers=bearer(tokens.read))
        assert (again.status, again.body) == (200, expected.body), again.body
        # ...and with the store's copy unreadable too, the storage error
        with Unreadable(objects):
            _assert_storage_error("thumbnail", http_call(thumb, headers=bearer(tokens.read)))
        # a file deleted while the cache cannot be written is deleted, not an error
        gone = http_call(
            f"{url}/files/{second.json()['id']}?hard_delete=true",
            "DELETE",
            headers=bearer(tokens.admin),
        )
        assert gone.status == 200, gone.body

    # the refused requests changed nothing: the same files, the first one whole (lock files
    # beside the catalog, such as the per-object one the hard delete takes, hold no data)
    after = sorted(p for p in data_dir.rglob("*") if p.is_file() and "logs" not in p.parts)
    new = [p for p in after if p not in files_before and "cache" not in p.parts]
    assert [p for p in new if p.suffix != ".lock"] == []
    assert_healthy(library, {fid: (tmp_path / "a.jpg").read_bytes()}, url, tokens.read)

    # the permissions back, the hard delete refused above deletes everything
    retried = http_call(
        f"{url}/files/{fid}?hard_delete=true", "DELETE", headers=bearer(tokens.admin)
    )
    assert retried.status == 200, retried.body
    assert http_call(f"{url}/files/{fid}", headers=bearer(tokens.read)).status == 404
    assert http_call(first_thumb, headers=bearer(tokens.read)).status == 404
    stored = sorted(str(p.relative_to(objects)) for p in objects.rglob("*") if p.is_file())
    assert stored == [], stored  # the object, its thumbnail: the other file went before
    assert_healthy(library, {})


def test_a_hard_delete_stopped_after_the_object_went_is_finished_by_a_retry(
    library: Library, served: tuple[ServeProcess, Tokens], tmp_path: Path
) -> None:
    """The object goes first: a derivative that cannot be deleted then leaves the row, a file
    without bytes that reconcile reports, and the next hard delete finishes the work."""
    server, tokens = served
    url, objects = server.url, library.paths.objects_dir
    up = _upload(url, tokens.upload, make_jpeg(tmp_path / "a.jpg", size=(320, 200)))
    assert up.status == 201, up.body
    fid, key = up.json()["id"], up.json()["storage_key"]
    thumb = objects / keys.thumbnail_key(key)
    hard = f"{url}/files/{fid}?hard_delete=true"
    with Unreadable(thumb.parent):
        _assert_storage_error("delete", http_call(hard, "DELETE", headers=bearer(tokens.admin)))
    assert not (objects / key).exists()
    assert thumb.is_file()  # still found through the row
    assert http_call(f"{url}/files/{fid}", headers=bearer(tokens.read)).status == 200
    # in the trash under its claim, dated back (bytes went): a deletion to finish, not a loss
    report = reconcile(library)
    assert (report.rows_without_objects, report.claimed_deletions) == ([], [fid])

    again = http_call(hard, "DELETE", headers=bearer(tokens.admin))
    assert again.status == 200, again.body
    assert http_call(f"{url}/files/{fid}", headers=bearer(tokens.read)).status == 404
    assert [p for p in objects.rglob("*") if p.is_file()] == []
    assert_healthy(library, {})


def test_a_temp_folder_made_read_only_mid_upload_keeps_the_uploads_own_answer(
    library: Library, served: tuple[ServeProcess, Tokens], tmp_path: Path
) -> None:
    """The spool file cannot be removed once the upload is answered (its folder was made
    read-only while the bytes came): a warning, and the client gets the upload's own answer,
    not `internal_error`; maintenance removes the file once its server is gone."""
    server, tokens = served
    url, data_dir, tmp = server.url, library.paths.data_dir, library.paths.tmp_dir
    photo = make_jpeg(tmp_path / "a.jpg", size=(320, 200))
    stored = _upload(url, tokens.upload, photo)
    assert stored.status == 201, stored.body

    # the same bytes: nothing to store, the existing file is the answer
    status, body = _upload_while(url, tokens.upload, photo, ReadOnly(tmp))
    assert (status, body.get("id")) == (200, stored.json()["id"]), body
    # new bytes: the store cannot take the spool file by a rename, the storage's error
    new = make_jpeg(tmp_path / "b.jpg", size=(321, 200))
    status, body = _upload_while(url, tokens.upload, new, ReadOnly(tmp))
    assert (status, body["error"]["code"]) == (500, "storage_unavailable"), body

    left = partial_files(data_dir)
    assert [p.parent for p in left] == [tmp, tmp], left  # this live server's: kept
    warned = [line for line in server.stderr if "Cannot remove the partial upload" in line]
    assert warned, "".join(server.stderr)
    server.stop()
    assert_healthy(library, {stored.json()["id"]: photo.read_bytes()})
    assert partial_files(data_dir) == []


def test_a_tus_upload_whose_folder_turned_read_only_gets_the_storage_error(
    library: Library, served: tuple[ServeProcess, Tokens], tmp_path: Path
) -> None:
    """The last PATCH of a tus upload whose bytes cannot leave `uploads/` (made read-only
    after the first PATCH): the storage's error on that PATCH, not `internal_error`, and the
    whole upload is kept (a storage error while finishing is not the file's fault, d58f1ef):
    once the folder is writable again the client's next HEAD finishes it, nothing sent again."""
    server, tokens = served
    photo = make_jpeg(tmp_path / "c.jpg", size=(640, 400))
    data = photo.read_bytes()
    created = tus.create(server.url, tokens.upload, len(data), filename="c.jpg")
    assert created.status == 201, created.body
    location = server.url + created.headers["Location"]
    first = tus.patch(location, tokens.upload, 0, data[:1000])
    assert first.status == 204, first.body
    uploads = library.paths.data_dir / "uploads"
    with ReadOnly(uploads):
        last = tus.patch(location, tokens.upload, 1000, data[1000:])
    _assert_storage_error("tus", last)
    head = tus.head(location, tokens.upload)
    assert head.status == 200 and head.headers["Upload-Offset"] == str(len(data))
    file_id = int(head.headers["MediaDesk-File-Id"])
    assert library.get_file(file_id).sha256 == hashlib.sha256(data).hexdigest()
    server.stop()
    assert_healthy(library, {})
    assert list(uploads.iterdir()) == []
