"""A photo's lost thumbnail (GET /files/{id}/thumbnail) on a full disk: made again from the
original and served, only not kept, as a resized image is (test_variant_full_disk.py), since
README says a full disk keeps answering reads (it was a 507 insufficient_storage for a read).
The original of a local store is read in place when tmp/ has no room for its copy. Through an
injected ENOSPC always, and a real small tmpfs as root."""

from __future__ import annotations

import errno
import io
import logging
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from core import keys
from core.db.models import MediaFile
from core.library import Library
from core.storage import local
from core.thumbnails import THUMBNAIL_GENERATION
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.faults import fill_disk, partial_files, small_tmpfs
from tests.internals import db_of, storage_of
from tests.server_fixtures import Tokens, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(90)


def _no_room(_read: Any, _out: Any, _progress: Any) -> None:
    """Every write of the local store's bytes, a put or a copy into tmp/, as on a full disk."""
    raise OSError(errno.ENOSPC, "No space left on device")


def _lose_thumbnail(library: Library, file_id: int) -> str:
    """The stored thumbnail lost and none in the local cache; its key."""
    record = library.get_file(file_id)
    key = keys.thumbnail_key(record.storage_key)
    storage_of(library).delete(key)
    _cached(library, file_id).unlink(missing_ok=True)
    return key


def _cached(library: Library, file_id: int) -> Path:
    record = library.get_file(file_id)
    return library.paths.cache_dir / "thumbnails" / f"{record.id}-{record.content_tag}.webp"


def _thumbnail(url: str, tokens: Tokens, file_id: int) -> bytes:
    reply = http_call(f"{url}/files/{file_id}/thumbnail", headers=bearer(tokens.read))
    assert reply.status == 200, reply.body
    assert reply.headers["Content-Type"] == "image/webp"
    with Image.open(io.BytesIO(reply.body)) as im:
        assert im.format == "WEBP"
        im.load()
    return bytes(reply.body)


def test_a_lost_thumbnail_is_served_unkept_while_the_disk_is_full(
    library: Library,
    media_dir: Any,
    data_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    record = library.uploads.ingest(media_dir.jpeg, "image")
    key = _lose_thumbnail(library, record.id)
    tokens = make_tokens(library)
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    try:
        with monkeypatch.context() as m:
            m.setattr(local, "_copy_chunks", _no_room)
            unkept = _thumbnail(server.url, tokens, record.id)
            assert not storage_of(library).exists(key)
            assert not _cached(library, record.id).exists()  # kept nowhere: read again next
            assert partial_files(data_dir) == []
            assert _thumbnail(server.url, tokens, record.id) == unkept
            assert library.thumbnail_bytes(record.id) == unkept  # the desktop's grid too
            assert caplog.text.count("not kept") == 1  # said once while the disk stays full
        # room again: the next read keeps it, in the store and the local cache
        assert _thumbnail(server.url, tokens, record.id) == unkept
        assert b"".join(storage_of(library).open_range(key)) == unkept
        assert _cached(library, record.id).read_bytes() == unkept
    finally:
        server.stop()


def test_a_lost_thumbnail_is_served_from_a_real_full_disk(data_dir: Path, media_dir: Any) -> None:
    with small_tmpfs(data_dir, "8m"):  # the whole data folder: tmp/ has no room for a copy
        library = Library.open(make_settings(data_dir))
        tokens = make_tokens(library)
        server = EmbeddedServer(library, config=server_config(library))
        server.start()
        try:
            record = library.uploads.ingest(media_dir.jpeg, "image")
            key = _lose_thumbnail(library, record.id)
            filler = data_dir / "filler"
            fill_disk(filler)
            unkept = _thumbnail(server.url, tokens, record.id)
            assert not storage_of(library).exists(key)
            assert partial_files(data_dir) == []
            filler.unlink()
            assert _thumbnail(server.url, tokens, record.id) == unkept
            assert storage_of(library).exists(key)
        finally:
            server.stop()
            library.close()


def test_an_older_renderings_photo_is_not_marked_while_its_images_are_unkept(
    library: Library, media_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A lost thumbnail of an older rendering, with a stored variant: made by today's and
    served, but the row stays of the older one (its tag would name images not stored, the
    variant not made again), and the read after room is made keeps and marks both."""
    record = library.uploads.ingest(media_dir.jpeg, "image")
    variant = keys.variant_key(record.storage_key, 160)
    older = io.BytesIO()
    Image.new("RGB", (160, 120), (40, 160, 60)).save(older, "WEBP")  # none of the photo's
    storage_of(library).put_bytes(variant, older.getvalue(), "image/webp")
    with db_of(library).write() as s:
        row = s.get(MediaFile, record.id)
        assert row is not None
        row.thumbnail_generation = None
    _lose_thumbnail(library, record.id)
    with monkeypatch.context() as m:
        m.setattr(local, "_copy_chunks", _no_room)
        unkept = library.thumbnail(record.id)
    assert unkept.record.thumbnail_generation is None
    assert library.get_file(record.id).thumbnail_generation is None
    assert b"".join(storage_of(library).open_range(variant)) == older.getvalue()

    kept = library.thumbnail(record.id)
    assert kept.data == unkept.data
    assert kept.record.thumbnail_generation == THUMBNAIL_GENERATION
    assert b"".join(storage_of(library).open_range(variant)) != older.getvalue()
