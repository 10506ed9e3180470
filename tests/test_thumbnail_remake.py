"""Thumbnails and ?w= variants made before a rendering fix are made again.

They are stored once and served for good, so a photo uploaded before colour profiles were
converted (1209e4b: an iPhone's Display P3, here a camera's Adobe RGB, came out dull) kept
its dull thumbnail for ever. Each row records the rendering it was made with
(thumbnail_generation); maintenance, a batch a run, and `mediadesk reprocess` make older ones
again, and the thumbnail's ETag, content tag and local cache name change with it.
"""

from __future__ import annotations

import dataclasses
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import create_engine, inspect, update

from core import keys, thumbnail_remake
from core.db.migrate import downgrade, upgrade
from core.db.models import MediaFile, utcnow
from core.errors import NotFound
from core.library import Library
from core.maintenance import run_maintenance
from core.settings import Settings
from core.thumbnails import THUMBNAIL_GENERATION
from server.entry import EmbeddedServer
from tests import media
from tests.internals import db_of, original_reads, storage_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.server_fixtures import Reply, bearer, http_call, make_tokens
from tests.test_jobs_workers import worker_env

pytestmark = pytest.mark.timeout(180)

_GREEN = (40, 160, 60)  # a grass green, in Adobe RGB as the photo's profile says
_GREEN_SRGB = (0, 161, 47)  # the same colour in sRGB: what a right thumbnail shows
ONLY = frozenset({"remake_thumbnails"})


def _wide_gamut_photo(path: Path) -> Path:
    """600x400 green tagged Adobe RGB (Display P3 is the same kind of profile)."""
    Image.new("RGB", (600, 400), _GREEN).save(path, "JPEG", icc_profile=media.adobe_rgb_icc())
    return path


def _centre(data: bytes) -> tuple[int, int, int]:
    with Image.open(io.BytesIO(data)) as im:
        rgb = im.convert("RGB")
        r, g, b = rgb.getpixel((rgb.width // 2, rgb.height // 2))  # type: ignore[misc]
        return r, g, b


def _near(pixel: tuple[int, int, int], want: tuple[int, int, int], tolerance: int = 6) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, want, strict=True))


def _old_webp(width: int) -> bytes:
    """What the old rendering made of the photo: its Adobe RGB numbers read as sRGB."""
    buf = io.BytesIO()
    Image.new("RGB", (width, width * 2 // 3), _GREEN).save(buf, "WEBP")
    return buf.getvalue()


def _made_by_an_old_version(lib: Library, file_id: int, widths: tuple[int, ...] = ()) -> None:
    """The photo as a library upgraded from before 1209e4b has it: the dull thumbnail (and
    variants) in the store, the row's generation null (migration 0025)."""
    key = lib.get_file(file_id).storage_key
    store = storage_of(lib)
    store.put_bytes(keys.thumbnail_key(key), _old_webp(320), "image/webp")
    for width in widths:
        store.put_bytes(keys.variant_key(key, width), _old_webp(width), "image/webp")
    with db_of(lib).write() as s:  # through the ORM: the change feed tells the server
        row = s.get(MediaFile, file_id)
        assert row is not None
        row.thumbnail_generation = None


def test_maintenance_makes_an_old_thumbnail_and_its_variants_again(
    live: EmbeddedServer, tmp_path: Path
) -> None:
    lib = live.library
    photo = lib.uploads.ingest(_wide_gamut_photo(tmp_path / "iphone.jpg"), "image")
    assert photo.thumbnail_generation == THUMBNAIL_GENERATION  # a new upload: today's
    _made_by_an_old_version(lib, photo.id, widths=(160,))
    auth = bearer(make_tokens(lib).read)
    thumb_url = f"{live.url}/files/{photo.id}/thumbnail"
    old = http_call(thumb_url, headers=auth)
    assert old.status == 200 and _near(_centre(old.body), _GREEN)  # dull, as it was
    old_tag = http_call(f"{live.url}/files/{photo.id}", headers=auth).json()["urls"]["thumbnail"]
    assert _near(_centre(lib.thumbnail_bytes(photo.id)), _GREEN)  # and in the local cache

    report = run_maintenance(lib, only=ONLY)

    assert report.remade_thumbnails == [photo.id] and not report.errors
    record = lib.get_file(photo.id)
    assert record.thumbnail_generation == THUMBNAIL_GENERATION
    new = http_call(thumb_url, headers={**auth, "If-None-Match": old.headers["ETag"]})
    assert new.status == 200, new.status  # the browser's old copy is not confirmed
    assert new.headers["ETag"] != old.headers["ETag"]
    assert _near(_centre(new.body), _GREEN_SRGB), _centre(new.body)
    assert _near(_centre(lib.thumbnail_bytes(photo.id)), _GREEN_SRGB)  # the desktop's grid
    links = http_call(f"{live.url}/files/{photo.id}", headers=auth).json()["urls"]
    assert links["thumbnail"] != old_tag and links["thumbnail"].endswith(record.content_tag)
    variant = http_call(f"{live.url}/stream/{photo.id}/image?w=150", headers=auth)
    assert variant.headers["X-MediaDesk-Width"] == "160"
    assert _near(_centre(variant.body), _GREEN_SRGB), _centre(variant.body)
    assert run_maintenance(lib, only=ONLY).remade_thumbnails == []  # done once


@pytest.fixture(params=["sqlite", "sqlite-s3", "postgresql"])
def any_catalog(request: pytest.FixtureRequest) -> Library:
    name = {"sqlite": "library", "sqlite-s3": "s3_library", "postgresql": "pg_library"}
    lib: Library = request.getfixturevalue(name[request.param])
    return lib


def test_a_run_makes_a_batch_and_the_next_runs_go_on(any_catalog: Library, tmp_path: Path) -> None:
    library = any_catalog
    photos = [
        library.uploads.ingest(_wide_gamut_photo(tmp_path / f"p{n}.jpg"), "image", is_public=n == 1)
        for n in range(2)
    ]
    # a third: other bytes (the same bytes would be a reference to the first's object)
    third = tmp_path / "p2.jpg"
    Image.new("RGB", (300, 200), (200, 30, 30)).save(third, icc_profile=media.adobe_rgb_icc())
    photos.append(library.uploads.ingest(third, "image"))
    for p in photos:
        _made_by_an_old_version(library, p.id)
    remaker = library.thumbnail_remaker
    # the first two share one object: made again once, both rows marked
    assert remaker.run(limit=2) == [photos[0].id]
    assert remaker.stale_ids() == [photos[2].id]
    assert remaker.run(limit=2) == [photos[2].id]
    assert remaker.stale_ids() == [] and remaker.run(limit=2) == []
    assert all(library.get_file(p.id).thumbnail_generation == THUMBNAIL_GENERATION for p in photos)


@pytest.mark.parametrize("deletion", ["trash_purge", "hard_delete"])
def test_a_remake_racing_a_deletion_leaves_no_images_behind(
    any_catalog: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, deletion: str
) -> None:
    """A deletion goes object, derivatives, then the row: one that got as far as the
    derivatives while the remake decoded the photo still left the row, and the remake wrote
    the thumbnail and variant again under a key no file would name, in the store for ever.
    The trash's deletion claims the file first (purging_since, as `_claim_for_deletion`
    writes it); a hard delete of a live file does not."""
    library = any_catalog
    photo = library.uploads.ingest(_wide_gamut_photo(tmp_path / "p.jpg"), "image")
    _made_by_an_old_version(library, photo.id, widths=(160,))
    key = photo.storage_key
    store = storage_of(library)
    made = thumbnail_remake.make_thumbnail

    def decode_while_deleted(*args: Any, **kw: Any) -> bytes:
        thumb = made(*args, **kw)
        if deletion == "trash_purge":
            library.trash(photo.id)
            with db_of(library).write() as s:
                s.execute(
                    update(MediaFile)
                    .where(MediaFile.id == photo.id)
                    .values(purging_since=utcnow(), version=MediaFile.version + 1)
                    .execution_options(synchronize_session=False)
                )
        store.delete(key)
        store.delete_prefix(keys.variant_prefix(key))
        store.delete(keys.thumbnail_key(key))
        return thumb

    monkeypatch.setattr(thumbnail_remake, "make_thumbnail", decode_while_deleted)
    with pytest.raises(NotFound):
        library.thumbnail_remaker.remake(photo.id)
    assert not store.exists(keys.thumbnail_key(key))
    assert [o.key for o in store.list_keys(keys.variant_prefix(key))] == []


def test_reprocess_makes_a_photos_thumbnail_again_now(
    library: Library, data_dir: Path, tmp_path: Path
) -> None:
    photo = library.uploads.ingest(_wide_gamut_photo(tmp_path / "a.jpg"), "image")
    other = tmp_path / "b.jpg"
    Image.new("RGB", (300, 200), _GREEN).save(other, icc_profile=media.adobe_rgb_icc())
    second = library.uploads.ingest(other, "image")
    # its original's bytes damaged in place, its size kept: nothing to make a thumbnail from
    broken = library.uploads.ingest(media.make_jpeg(tmp_path / "c.jpg"), "image")
    for p in (photo, second, broken):
        _made_by_an_old_version(library, p.id)
    stored = storage_of(library).local_path(broken.storage_key)
    assert stored is not None
    stored.write_bytes(bytes(255 - b for b in stored.read_bytes()))
    env = worker_env(data_dir)
    cmd = [sys.executable, "-m", "desktop_app", "reprocess"]

    one = subprocess.run([*cmd, str(photo.id)], env=env, capture_output=True, text=True)
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout) == {"queued": {}, "remade": [photo.id]}
    assert library.get_file(photo.id).thumbnail_generation == THUMBNAIL_GENERATION
    assert _near(_centre(library.thumbnail_bytes(photo.id)), _GREEN_SRGB)
    assert library.get_file(second.id).thumbnail_generation is None  # only the one named

    every = subprocess.run([*cmd, "--photos"], env=env, capture_output=True, text=True)
    assert every.returncode == 0, every.stderr
    # one whose thumbnail could not be made is not said remade (it keeps what it had)
    assert json.loads(every.stdout) == {
        "queued": {},
        "remade": [second.id],
        "not_made": [broken.id],
    }
    assert _near(_centre(library.thumbnail_bytes(second.id)), _GREEN_SRGB)


def test_another_servers_cached_thumbnail_is_not_served_once_made_again(
    s3_library: Library, s3_settings: Settings, tmp_path: Path
) -> None:
    """Team mode: each server keeps thumbnails in its own data folder's cache. The one that
    made the thumbnail again cannot empty another's: the new one has a new name there."""
    other_data = tmp_path / "other"
    other_data.mkdir()
    other = Library.open(
        s3_settings.replace(
            data_dir=str(other_data),
            config_file=str(other_data / "settings.toml"),
            database_url=s3_settings.effective_database_url,
        )
    )
    try:
        photo = s3_library.uploads.ingest(_wide_gamut_photo(tmp_path / "p.jpg"), "image")
        _made_by_an_old_version(s3_library, photo.id)
        assert _near(_centre(other.thumbnail_bytes(photo.id)), _GREEN)  # cached there, dull
        assert run_maintenance(s3_library, only=ONLY).remade_thumbnails == [photo.id]
        assert _near(_centre(other.thumbnail_bytes(photo.id)), _GREEN_SRGB)
    finally:
        other.close()


def test_an_upgraded_catalog_counts_its_photos_thumbnails_as_old(
    settings: Settings, tmp_path: Path
) -> None:
    """Migration 0025 on a catalog of the version before: the column comes, null for the
    rows there (their thumbnails were made before the fixes), so maintenance makes them."""
    lib = Library.open(settings)
    photo = lib.uploads.ingest(_wide_gamut_photo(tmp_path / "p.jpg"), "image").id
    lib.close()
    engine = create_engine(settings.effective_database_url)
    try:
        downgrade(engine, "0024")
        assert "thumbnail_generation" not in {
            c["name"] for c in inspect(engine).get_columns("media_files")
        }
        upgrade(engine)
    finally:
        engine.dispose()
    lib = Library.open(settings)
    try:
        assert lib.get_file(photo).thumbnail_generation is None
        assert lib.thumbnail_remaker.stale_ids() == [photo]
    finally:
        lib.close()


@pytest.mark.parametrize("loss", ["deleted", "empty"])
def test_a_lost_photo_thumbnail_is_made_again_when_asked_for(
    live: EmbeddedServer, tmp_path: Path, loss: str
) -> None:
    """Thumbnails are written unsynced: a power cut can leave an empty file, which read as
    missing, so the photo answered 404 and the grid showed no picture for ever. Asked for,
    it is made again from the original; with the original gone too, still 404."""
    lib = live.library
    photo = lib.uploads.ingest(media.make_jpeg(tmp_path / "p.jpg"), "image")
    gone = lib.uploads.ingest(media.make_jpeg(tmp_path / "q.jpg", color=(200, 30, 30)), "image")
    store = storage_of(lib)
    for record in (lib.get_file(photo.id), lib.get_file(gone.id)):
        key = keys.thumbnail_key(record.storage_key)
        if loss == "deleted":
            store.delete(key)
        else:
            path = store.local_path(key)
            assert path is not None
            path.write_bytes(b"")
        cached = lib.paths.cache_dir / "thumbnails" / f"{record.id}-{record.content_tag}.webp"
        cached.unlink(missing_ok=True)
    store.delete(lib.get_file(gone.id).storage_key)  # its original lost as well
    auth = bearer(make_tokens(lib).read)

    reply = http_call(f"{live.url}/files/{photo.id}/thumbnail", headers=auth)

    served_whole(lib, photo.id, reply)
    assert http_call(f"{live.url}/files/{gone.id}/thumbnail", headers=auth).status == 404


def served_whole(lib: Library, file_id: int, reply: Reply) -> None:
    """The answer is a decodable WebP, the one now stored, and the one the desktop reads."""
    assert reply.status == 200, reply.status
    with Image.open(io.BytesIO(reply.body)) as im:
        assert im.format == "WEBP"
        im.load()
    assert b"".join(storage_of(lib).open_range(_thumb_key(lib, file_id))) == reply.body
    assert lib.thumbnail_bytes(file_id) == reply.body  # the desktop's grid too


def _thumb_key(lib: Library, file_id: int) -> str:
    return keys.thumbnail_key(lib.get_file(file_id).storage_key)


def _cached_path(lib: Library, file_id: int) -> Path:
    record = lib.get_file(file_id)
    return lib.paths.cache_dir / "thumbnails" / f"{record.id}-{record.content_tag}.webp"


def _broken(data: bytes, damage: str) -> bytes:
    """What a power cut can leave of a file written without fsync, short of an empty one:
    its blocks allocated but never written (zeros, the full size), or only its first part."""
    return bytes(len(data)) if damage == "zero-filled" else data[: len(data) // 2]


@pytest.mark.parametrize("damage", ["zero-filled", "truncated"])
def test_a_damaged_photo_thumbnail_is_made_again_not_served(
    live: EmbeddedServer, tmp_path: Path, damage: str
) -> None:
    """A zero-filled or cut-short thumbnail (in the store and in the local cache) was served
    as it was: 200 with bytes no viewer shows, and the desktop grid drew nothing. It is made
    again from the original like a missing one, and both copies are whole again."""
    lib = live.library
    photo = lib.uploads.ingest(media.make_jpeg(tmp_path / "p.jpg"), "image")
    store = storage_of(lib)
    good = b"".join(store.open_range(_thumb_key(lib, photo.id)))
    stored = store.local_path(_thumb_key(lib, photo.id))
    assert stored is not None
    stored.write_bytes(_broken(good, damage))
    cached = _cached_path(lib, photo.id)
    assert cached.read_bytes() == good  # the ingest cached it
    cached.write_bytes(_broken(good, damage))
    auth = bearer(make_tokens(lib).read)

    reply = http_call(f"{live.url}/files/{photo.id}/thumbnail", headers=auth)

    served_whole(lib, photo.id, reply)
    assert _cached_path(lib, photo.id).read_bytes() == reply.body


@pytest.mark.parametrize("damage", ["zero-filled", "truncated"])
def test_a_damaged_cached_thumbnail_is_read_again_from_the_store(
    library: Library, tmp_path: Path, damage: str
) -> None:
    """The local cache is written unsynced too: a damaged entry is a miss, and the store's
    whole thumbnail takes its place."""
    photo = library.uploads.ingest(media.make_jpeg(tmp_path / "p.jpg"), "image")
    good = b"".join(storage_of(library).open_range(_thumb_key(library, photo.id)))
    cached = _cached_path(library, photo.id)
    cached.write_bytes(_broken(good, damage))

    assert library.thumbnail_bytes(photo.id) == good
    assert cached.read_bytes() == good


@pytest.mark.parametrize("original", ["undecodable", "gone"])
def test_a_thumbnail_that_cannot_be_made_again_is_not_tried_at_every_request(
    live: EmbeddedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, original: str
) -> None:
    """A lost thumbnail whose original cannot be decoded (or is gone too) downloaded the whole
    original again at each GET of its thumbnail (on R2, each a paid download of up to 100 MB
    for a 404). A failed remake is remembered for a while, for the file as it is (its content
    tag): the next request answers 404 without reading the original; a new tag tries again."""
    lib = live.library
    photo = lib.uploads.ingest(media.make_jpeg(tmp_path / "p.jpg"), "image")
    store = storage_of(lib)
    store.delete(_thumb_key(lib, photo.id))
    _cached_path(lib, photo.id).unlink()
    key = photo.storage_key
    if original == "gone":
        store.delete(key)
    else:
        path = store.local_path(key)
        assert path is not None
        path.write_bytes(b"not a photo any more" * 100)
    reads = original_reads(monkeypatch, lib, key)
    auth = bearer(make_tokens(lib).read)
    url = f"{live.url}/files/{photo.id}/thumbnail"

    assert http_call(url, headers=auth).status == 404
    assert len(reads) == 1  # the remake tried it
    assert http_call(url, headers=auth).status == 404
    with pytest.raises(NotFound):
        lib.thumbnail_bytes(photo.id)  # the desktop's read remembers it too
    assert len(reads) == 1

    with db_of(lib).write() as s:  # a new content tag (here an older rendering's)
        row = s.get(MediaFile, photo.id)
        assert row is not None
        row.thumbnail_generation = None
    assert http_call(url, headers=auth).status == 404
    assert len(reads) == 2


def test_a_remade_thumbnails_etag_is_the_new_content_tag(
    live: EmbeddedServer, tmp_path: Path
) -> None:
    """A lost thumbnail of an older rendering is made by today's, which moves the file's
    content tag: the answer that made it carried the old ETag with the new picture, so a
    browser kept it under a tag no link names and asked again. Its ETag is the file's tag as
    it is once made again, the one GET /files/{id} and the next request give."""
    lib = live.library
    photo = lib.uploads.ingest(_wide_gamut_photo(tmp_path / "p.jpg"), "image")
    _made_by_an_old_version(lib, photo.id)
    storage_of(lib).delete(_thumb_key(lib, photo.id))
    old_tag = lib.get_file(photo.id).content_tag
    auth = bearer(make_tokens(lib).read)
    url = f"{live.url}/files/{photo.id}/thumbnail"

    first = http_call(url, headers=auth)

    assert first.status == 200, first.status
    assert _near(_centre(first.body), _GREEN_SRGB)  # today's rendering
    link = http_call(f"{live.url}/files/{photo.id}", headers=auth).json()["urls"]["thumbnail"]
    tag = link.rsplit("?v=", 1)[1]
    assert tag != old_tag and tag == lib.get_file(photo.id).content_tag
    assert first.headers["ETag"] == f'"thumb-{tag}"'
    again = http_call(url, headers=auth)
    assert again.status == 200 and again.headers["ETag"] == first.headers["ETag"]
    assert again.body == first.body


def test_failed_remakes_are_forgotten_after_a_while_and_kept_bounded(
    library: Library, tmp_path: Path
) -> None:
    """The memory of failed remakes costs a bounded amount, and an original put back (the same
    tag) is tried again once the time is up."""
    photo = library.uploads.ingest(media.make_jpeg(tmp_path / "p.jpg"), "image")
    now = [0.0]
    failures = thumbnail_remake.FailedRemakes(seconds=60, kept=2, clock=lambda: now[0])
    a, b, c = (dataclasses.replace(photo, id=n) for n in (1, 2, 3))
    for record in (a, b, a, c):  # a again: now younger than b
        failures.remember(record)
    assert [failures.failed(r) for r in (a, b, c)] == [True, False, True]
    assert not failures.failed(dataclasses.replace(a, thumbnail_generation=None))  # new tag
    now[0] = 59.0
    assert failures.failed(a)
    now[0] = 60.0
    assert not failures.failed(a) and not failures.failed(c)
