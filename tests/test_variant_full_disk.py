"""A photo's resized image (GET /stream/{id}/image?w=N) on a full disk: the variant is made in
memory and served, only not kept, since README says a full disk keeps answering reads (it was
a 507 insufficient_storage for a read). Through an injected ENOSPC always, and a real small
tmpfs as root."""

from __future__ import annotations

import errno
import io
import logging
from pathlib import Path
from typing import Any, BinaryIO

import pytest
from PIL import Image

from core import keys
from core.library import Library
from core.storage.local import LocalStorage
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.faults import fill_disk, partial_files, small_tmpfs
from tests.internals import storage_of
from tests.server_fixtures import Tokens, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(90)


class _NoRoom:
    """A temp file of the object folder that fails its first write like a full disk."""

    def __init__(self, inner: BinaryIO) -> None:
        self._inner = inner

    def write(self, _data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def __enter__(self) -> _NoRoom:
        return self

    def __exit__(self, *exc: object) -> None:
        self._inner.close()


def _variant(url: str, tokens: Tokens, file_id: int, width: int, **headers: str) -> Any:
    return http_call(
        f"{url}/stream/{file_id}/image?w={width}", headers={**bearer(tokens.read), **headers}
    )


def _assert_webp(reply: Any, width: int) -> bytes:
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"] == "image/webp"
    assert reply.headers["X-MediaDesk-Width"] == str(width)
    with Image.open(io.BytesIO(reply.body)) as im:
        assert im.format == "WEBP" and im.size[0] == width
    return bytes(reply.body)


def test_a_variant_is_served_unkept_while_the_object_folder_is_full(
    library: Library,
    media_dir: Any,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, "core.library")
    record = library.uploads.ingest(media_dir.jpeg, "image")
    key = keys.variant_key(record.storage_key, 160)
    tokens = make_tokens(library)
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        real_temp = LocalStorage._create_temp

        def no_room(self: LocalStorage, key: str, path: Path) -> tuple[Path, Any]:
            tmp, out = real_temp(self, key, path)
            return tmp, _NoRoom(out)

        with monkeypatch.context() as m:
            m.setattr(LocalStorage, "_create_temp", no_room)
            unkept = _assert_webp(_variant(server.url, tokens, record.id, 160), 160)
            assert not storage_of(library).exists(key)
            assert partial_files(data_dir) == []
            # a range of the bytes made in memory, as of a kept one
            part = _variant(server.url, tokens, record.id, 160, Range="bytes=10-19")
            assert part.status == 206, part.body
            assert part.body == unkept[10:20]
            assert caplog.text.count("not kept") == 1  # said once while the disk stays full
        # room again: the next read keeps it, and serves the same picture
        kept = _assert_webp(_variant(server.url, tokens, record.id, 160), 160)
        assert storage_of(library).exists(key)
        assert kept == unkept
    finally:
        server.stop()


def test_a_variant_is_served_from_a_real_full_disk(data_dir: Path, media_dir: Any) -> None:
    with small_tmpfs(data_dir / "objects", "1m"):
        library = Library.open(make_settings(data_dir))
        tokens = make_tokens(library)
        server = EmbeddedServer(library, config=server_config(library))
        server.start()
        try:
            record = library.uploads.ingest(media_dir.jpeg, "image")
            filler = data_dir / "objects" / "filler"
            fill_disk(filler)
            for width in (160, 320):  # the photo is 640 wide
                _assert_webp(_variant(server.url, tokens, record.id, width), width)
            assert partial_files(data_dir) == []
            filler.unlink()
            _assert_webp(_variant(server.url, tokens, record.id, 160), 160)
            assert storage_of(library).exists(keys.variant_key(record.storage_key, 160))
        finally:
            server.stop()
            library.close()
