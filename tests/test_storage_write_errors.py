"""Over real HTTP, on the local folder: a data folder whose permissions were removed (chmod 000)
answers every write path (direct upload, delete) and read path (stream, thumbnail) with 500
`storage_unavailable` and a JSON body, never 500 `internal_error`, and leaves nothing behind.

The folder permissions are real. Tests here may run as root, whom permission bits do not stop
(CAP_DAC_OVERRIDE): the server then runs in its own process under `setpriv` without the two
capabilities that bypass them, still as root and owner of the files, so chmod 000 stops it as
it stops any user."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.library import Library
from tests.faults import ServeProcess, assert_healthy, partial_files, start_serve
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

    def __init__(self, *folders: Path) -> None:
        self.folders = folders

    def __enter__(self) -> Unreadable:
        self.modes = [f.stat().st_mode for f in self.folders]
        for folder in self.folders:
            folder.chmod(0)
        return self

    def __exit__(self, *exc: object) -> None:
        for folder, mode in zip(self.folders, self.modes, strict=True):
            folder.chmod(mode)


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

    # the thumbnail cache is only a cache: unreadable, the store's copy answers...
    second = _upload(url, tokens.upload, new)
    assert second.status == 201, second.body
    thumb = f"{url}/files/{second.json()['id']}/thumbnail"
    expected = http_call(thumb, headers=bearer(tokens.read))
    assert expected.status == 200, expected.body
    with Unreadable(library.paths.cache_dir / "thumbnails"):
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

    # the refused requests changed nothing: the same files, the first one whole
    after = sorted(p for p in data_dir.rglob("*") if p.is_file() and "logs" not in p.parts)
    assert [p for p in after if p not in files_before and "cache" not in p.parts] == []
    assert_healthy(library, {fid: (tmp_path / "a.jpg").read_bytes()}, url, tokens.read)
