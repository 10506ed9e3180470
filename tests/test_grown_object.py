"""An object longer than the size its catalog row records (overwritten behind the catalog's
back, a wrong restore): no read serves its first `size` bytes as the whole file, on either
backend, for a whole GET and a Range GET alike."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import StorageUnavailable
from core.library import Library
from server.entry import EmbeddedServer
from tests.internals import storage_of
from tests.server_fixtures import bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(120)


def _grow(lib: Library, key: str) -> bytes:
    """Puts 500 more bytes after the object's own, under its key."""
    whole = lib.read_object(key)
    storage_of(lib).put_bytes(key, whole + b"X" * 500, "image/jpeg")
    return whole


def test_a_grown_object_is_refused_by_every_read(any_library: Library, media_dir: Any) -> None:
    """On a bucket the reads are bounded by the recorded size: the first `size` bytes of the
    longer object came back as the whole file (local storage refused it)."""
    record = any_library.uploads.ingest(media_dir.jpeg, "image")
    _grow(any_library, record.storage_key)
    if any_library.storage_name == "local":
        # the server sends a local file by its path (sendfile), stat'ed against the catalog
        with pytest.raises(StorageUnavailable) as local:
            any_library.local_path(record)
        assert local.value.reason == "object_damaged"
    else:
        for start, end in ((0, None), (0, (record.size or 0) - 1), (0, 9), (5, 20)):
            with pytest.raises(StorageUnavailable) as read:
                b"".join(any_library.open_range(record, start, end))
            assert read.value.reason == "object_damaged", (start, end)
    with pytest.raises(StorageUnavailable) as opened:
        any_library.open_object(record.storage_key)
    assert opened.value.reason == "object_damaged"


def test_the_stream_routes_refuse_a_grown_bucket_object(
    s3_live: EmbeddedServer, media_dir: Any
) -> None:
    lib = s3_live.library
    record = lib.uploads.ingest(media_dir.jpeg, "image")
    whole = _grow(lib, record.storage_key)
    token = make_tokens(lib).read
    for path in ("raw", "image"):
        for headers in ({}, {"Range": "bytes=0-99"}, {"Range": f"bytes=10-{len(whole) - 1}"}):
            reply = http_call(
                f"{s3_live.url}/stream/{record.id}/{path}", headers={**bearer(token), **headers}
            )
            assert reply.status == 500, (path, headers, reply.status)
            error = reply.json()["error"]
            assert (error["code"], error["reason"]) == ("storage_unavailable", "object_damaged")


def test_a_local_object_replaced_right_after_a_read_is_refused(
    live: EmbeddedServer, media_dir: Any
) -> None:
    """The size check of a local object was cached for a few seconds with its path: a file
    put back longer (a bad restore) or replaced by an atomic mv just after a request was sent
    as its first `size` bytes of other content, 200, under the old ETag, for an hour's cache."""
    lib = live.library
    record = lib.uploads.ingest(media_dir.mp4, "video")
    path = lib.local_path(record)
    assert path is not None
    token = make_tokens(lib).read
    for route in ("raw", "video?rendition=original"):
        url = f"{live.url}/stream/{record.id}/{route}"
        assert http_call(url, headers=bearer(token)).status == 200  # the path is cached now
        whole = path.read_bytes()
        other = path.with_name(path.name + ".other")
        other.write_bytes(bytes(reversed(whole)) + b"X" * 500)
        other.replace(path)  # atomic, as a restore tool or `mv` does
        try:
            for headers in ({}, {"Range": "bytes=0-99"}):
                reply = http_call(url, headers={**bearer(token), **headers})
                assert reply.status == 500, (route, headers, reply.status)
                error = reply.json()["error"]
                assert error["reason"] == "object_damaged", error
        finally:
            path.write_bytes(whole)
