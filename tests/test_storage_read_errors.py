"""Over real HTTP, on the local folder: a missing object is 404 `not_found`; a folder that cannot
be read (replaced by a file, unreadable, I/O errors) is 500 `storage_unavailable` with a JSON
body on every read path (stream, resized image, thumbnail, signed GET and download)."""

from __future__ import annotations

import errno
import os
import pathlib
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.errors import NotFound, StorageUnavailable
from core.storage.local import LocalStorage
from server import streaming
from server.entry import EmbeddedServer
from server.state import RECORDS
from tests.server_fixtures import Reply, Tokens, bearer, http_call, upload_file

pytestmark = pytest.mark.timeout(90)


def read_paths(live: EmbeddedServer, token: str, fid: int) -> dict[str, Reply]:
    """Every way a client reads the file's bytes, answered."""
    auth = bearer(token)
    # the caches in front of the store would answer without it: records with their local
    # paths (for 2 s), thumbnails beside the store
    live.app[RECORDS].forget(None)
    shutil.rmtree(live.library.paths.cache_dir / "thumbnails", ignore_errors=True)
    signed = http_call(f"{live.url}/files/{fid}/presigned-url", headers=auth)
    assert signed.status == 200, signed.body
    download = http_call(f"{live.url}/files/{fid}/download", headers=auth)
    assert download.status == 302, download.body
    return {
        "raw": http_call(f"{live.url}/stream/{fid}/raw", headers=auth),
        "raw range": http_call(f"{live.url}/stream/{fid}/raw", headers={**auth, "Range": "0-9"}),
        "image": http_call(f"{live.url}/stream/{fid}/image", headers=auth),
        "resized": http_call(f"{live.url}/stream/{fid}/image?w=50", headers=auth),
        "thumbnail": http_call(f"{live.url}/files/{fid}/thumbnail", headers=auth),
        "signed GET": http_call(live.url + _path(signed.json()["url"])),
        "download": http_call(live.url + _path(download.headers["Location"])),
    }


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def assert_storage_error(replies: dict[str, Reply]) -> None:
    for name, reply in replies.items():
        assert reply.status == 500, (name, reply.status, reply.body)
        assert reply.headers["Content-Type"].startswith("application/json"), name
        error = reply.json()["error"]
        assert error["code"] == "storage_unavailable", (name, error)
        assert "objects" not in error["message"], (name, error)


@pytest.fixture
def stored(live: EmbeddedServer, tokens: Tokens, media_dir: Any) -> Iterator[int]:
    fid = upload_file(live, tokens.upload, media_dir.jpeg)["id"]
    assert all(r.status in (200, 206) for r in read_paths(live, tokens.read, fid).values())
    yield fid


def test_objects_folder_replaced_by_a_file_is_a_storage_error(
    live: EmbeddedServer, tokens: Tokens, stored: int
) -> None:
    objects = live.library.paths.objects_dir
    raw = f"{live.url}/stream/{stored}/raw"
    assert http_call(raw, headers=bearer(tokens.read)).status == 200  # its path now cached
    objects.rename(objects.with_name("objects.away"))
    objects.write_bytes(b"not a folder")
    try:
        # the server's own open of the cached path, then every read path from the start
        assert_storage_error({"cached raw": http_call(raw, headers=bearer(tokens.read))})
        assert_storage_error(read_paths(live, tokens.read, stored))
        health = http_call(f"{live.url}/health", headers=bearer(tokens.admin))
        assert health.status == 503 and health.json()["storage"]["ok"] is False
    finally:
        objects.unlink()
        objects.with_name("objects.away").rename(objects)
    assert all(r.status in (200, 206) for r in read_paths(live, tokens.read, stored).values())

    # a missing object (and nothing else) is still 404 not_found
    record = live.library.get_file(stored)
    objects.joinpath(*record.storage_key.split("/")).unlink()
    auth = bearer(tokens.read)
    signed = http_call(f"{live.url}/files/{stored}/presigned-url", headers=auth).json()["url"]
    # w=300: a rung (320) not made yet (w=50 above made 160's), so made from the lost original
    for url in (f"/stream/{stored}/raw", f"/stream/{stored}/image?w=300", _path(signed)):
        reply = http_call(live.url + url, headers=auth)
        assert reply.status == 404, (url, reply.body)
        assert reply.json()["error"]["code"] == "not_found", url


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.EIO, "Input/output error"),
        PermissionError(errno.EACCES, "Permission denied"),
    ],
    ids=["EIO", "EACCES"],
)
def test_unreadable_objects_folder_is_a_storage_error(
    live: EmbeddedServer,
    tokens: Tokens,
    stored: int,
    monkeypatch: pytest.MonkeyPatch,
    error: OSError,
) -> None:
    """The disk fails under the folder (injected: the tests run as root, whom chmod does not
    stop). Every stat and open of a path in it fails as the kernel would say."""
    objects = str(live.library.paths.objects_dir) + os.sep
    under: Callable[[object], bool] = lambda p: str(p).startswith(objects)  # noqa: E731
    real_stat, real_os_open = pathlib.Path.stat, os.open

    def stat(self: Path, *a: Any, **k: Any) -> os.stat_result:
        if under(self):
            raise type(error)(error.errno, error.strerror)
        return real_stat(self, *a, **k)

    def os_open(path: Any, *a: Any, **k: Any) -> int:
        if under(path):
            raise type(error)(error.errno, error.strerror)
        return real_os_open(path, *a, **k)

    def pread(*a: Any) -> bytes:
        raise type(error)(error.errno, error.strerror)

    # the server's read of a path it holds (cached) fails: answered before anything is sent
    raw = f"{live.url}/stream/{stored}/raw"
    assert http_call(raw, headers=bearer(tokens.read)).status == 200
    monkeypatch.setattr(streaming, "_pread", pread)  # from the disk, in a thread
    monkeypatch.setattr(streaming, "_cached_read", pread)  # from the page cache, on the loop
    assert_storage_error({"cached raw": http_call(raw, headers=bearer(tokens.read))})
    # every stat and open under the folder fails
    monkeypatch.setattr(pathlib.Path, "stat", stat)
    monkeypatch.setattr(os, "open", os_open)
    assert_storage_error(read_paths(live, tokens.read, stored))
    monkeypatch.undo()
    assert all(r.status in (200, 206) for r in read_paths(live, tokens.read, stored).values())


def test_local_storage_tells_missing_from_unreachable(tmp_path: Path) -> None:
    store = LocalStorage(tmp_path / "objects")
    store.put_bytes("a/b.bin", b"data", "application/octet-stream")
    for key in ("a/none.bin", "a/b.bin/c"):  # absent, and a key through another object
        assert store.exists(key) is False
        with pytest.raises(NotFound):
            store.stat(key)
        with pytest.raises(NotFound):
            store.open_range(key)
    assert [o.key for o in store.list_keys("a/b.bin/")] == []
    shutil.rmtree(tmp_path / "objects")
    (tmp_path / "objects").write_bytes(b"a file")
    for read in (
        lambda: store.exists("a/b.bin"),
        lambda: store.stat("a/b.bin"),
        lambda: store.open_range("a/b.bin"),
        lambda: store.download_to("a/b.bin", tmp_path / "out.bin"),
        lambda: list(store.list_keys()),
    ):
        with pytest.raises(StorageUnavailable):
            read()
