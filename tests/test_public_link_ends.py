"""With R2_PUBLIC_DOMAIN, a public file made private or trashed stops being served there.

A public domain serves every object of the bucket by its key, to anyone: the object of a file
made private (PATCH is_public=false) or trashed stayed under the key its public link named
(`urls.public`, also in anonymous listings), so that link went on serving it, with no token and
no expiry, until a hard delete. Now its object and derivatives move to a key under a new name
(the athlete move's copy, then the old key after the grace period). A real library on the moto
S3 server with a public-read bucket standing in for the public domain, a live server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core import keys
from core.library import Library
from core.settings import Settings
from server.entry import EmbeddedServer
from tests.internals import storage_of
from tests.media_fixtures import MediaSet
from tests.s3_server import S3Target, public_domain, s3_client
from tests.server_fixtures import bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def served(s3_settings: Settings, s3_bucket: S3Target) -> Iterator[EmbeddedServer]:
    lib = Library.open(s3_settings.replace(r2_public_domain=public_domain(s3_bucket)))
    lib.deferred.grace = 0.0  # the old key goes at the next run, not a minute later
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    yield server
    server.stop()
    lib.close()


def _stored(target: S3Target, key: str) -> bool:
    try:
        s3_client(target).head_object(Bucket=target.bucket, Key=key)
    except Exception:  # noqa: BLE001 - a 404 is the answer looked for
        return False
    return True


def _settle(lib: Library) -> None:
    """The deferred deletions, run now rather than by their timer."""
    lib.deferred.run(datetime.now(UTC) + timedelta(seconds=1))


def _streams(server: EmbeddedServer, file_id: int, token: str, data: bytes) -> None:
    reply = http_call(f"{server.url}/stream/{file_id}/raw", headers=bearer(token))
    assert (reply.status, reply.body == data) == (200, True)
    thumb = http_call(f"{server.url}/files/{file_id}/thumbnail", headers=bearer(token))
    assert thumb.status == 200 and thumb.body[:4] == b"RIFF"


def _edit(server: EmbeddedServer, token: str, file_id: int, body: bytes) -> dict[str, Any]:
    headers = {**bearer(token), "Content-Type": "application/json"}
    reply = http_call(f"{server.url}/files/{file_id}", "PATCH", body, headers)
    assert reply.status == 200, reply.body
    return reply.json()  # type: ignore[no-any-return]


def test_a_public_file_made_private_leaves_its_public_link(
    served: EmbeddedServer, s3_bucket: S3Target, media_dir: MediaSet
) -> None:
    lib = served.library
    tokens = make_tokens(lib)
    data = media_dir.jpeg.read_bytes()
    record = lib.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    old = record.storage_key
    link = lib.public_url(record)
    assert link is not None and http_call(link).body == data  # anyone can open it
    # a video's derivatives and a resized copy, as a public player and page fetched them
    video_part = keys.video_prefix(old) + "hls-1/seg0.ts"
    storage_of(lib).put_bytes(video_part, b"segment", "video/mp2t")
    lib.variant(record, 320)
    variant = keys.variant_key(old, 320)
    assert _stored(s3_bucket, variant) and _stored(s3_bucket, keys.thumbnail_key(old))

    edited = _edit(served, tokens.upload, record.id, b'{"is_public": false}')
    assert edited["urls"]["public"] is None
    moved = lib.get_file(record.id)
    assert moved.storage_key != old and moved.storage_key.rsplit("/", 1)[0] == old.rsplit("/", 1)[0]
    _settle(lib)
    for gone in (old, keys.thumbnail_key(old), variant, video_part):
        assert not _stored(s3_bucket, gone), gone
    assert http_call(link).status in (403, 404)  # the public domain has nothing there now
    new_part = keys.video_prefix(moved.storage_key) + "hls-1/seg0.ts"
    assert lib.read_object(new_part) == b"segment"
    _streams(served, record.id, tokens.read, data)  # with a token, as any private file

    # public again: a new link, the new key's; the old one stays dead
    again = _edit(served, tokens.upload, record.id, b'{"is_public": true}')
    assert again["urls"]["public"] not in (None, link)
    assert http_call(again["urls"]["public"]).body == data


def test_a_trashed_public_file_leaves_its_public_link_and_a_restore_keeps_the_new_key(
    served: EmbeddedServer, s3_bucket: S3Target, media_dir: MediaSet
) -> None:
    lib = served.library
    tokens = make_tokens(lib)
    data = media_dir.jpeg.read_bytes()
    record = lib.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    link = lib.public_url(record)
    assert link is not None and http_call(link).status == 200
    reply = http_call(f"{served.url}/files/{record.id}", "DELETE", None, bearer(tokens.upload))
    assert reply.status == 200, reply.body
    _settle(lib)
    assert not _stored(s3_bucket, record.storage_key)
    assert http_call(link).status in (403, 404)
    trashed = lib.get_file(record.id)
    assert trashed.is_trashed and trashed.storage_key != record.storage_key
    restored = http_call(
        f"{served.url}/files/{record.id}/restore", "POST", None, bearer(tokens.upload)
    )
    assert restored.status == 200, restored.body
    back = lib.get_file(record.id)
    assert back.storage_key == trashed.storage_key  # the restore keeps the new key
    assert restored.json()["urls"]["public"] == lib.public_url(back) != link
    _streams(served, record.id, tokens.read, data)


def test_files_sharing_the_object_move_with_it_unless_one_stays_public(
    served: EmbeddedServer, s3_bucket: S3Target, media_dir: MediaSet
) -> None:
    """The same bytes with another is_public or athlete share one object. Made private, the
    last public file showing it takes every file sharing it to the new key (a private one left
    on the old key would keep it served); while another stays public, that one's link is the
    same address, so the object stays and the link keeps working (the bytes are public)."""
    lib = served.library
    tokens = make_tokens(lib)
    data = media_dir.jpeg.read_bytes()
    shown = lib.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    hidden = lib.uploads.ingest(media_dir.jpeg, "image", is_public=False)
    athlete = lib.create_athlete("Ana")
    also_shown = lib.uploads.ingest(media_dir.jpeg, "image", is_public=True, athlete_id=athlete.id)
    key = shown.storage_key
    assert hidden.storage_key == also_shown.storage_key == key  # one object, three files
    link = lib.public_url(shown)
    assert link is not None and lib.public_url(also_shown) == link

    _edit(served, tokens.upload, shown.id, b'{"is_public": false}')
    _settle(lib)
    assert {lib.get_file(f.id).storage_key for f in (shown, hidden, also_shown)} == {key}
    assert http_call(link).body == data  # also_shown's link: the same address

    _edit(served, tokens.upload, also_shown.id, b'{"is_public": false}')
    _settle(lib)
    moved = {lib.get_file(f.id).storage_key for f in (shown, hidden, also_shown)}
    assert len(moved) == 1 and key not in moved  # all three, still sharing one object
    assert not _stored(s3_bucket, key) and http_call(link).status in (403, 404)
    for f in (shown, hidden, also_shown):
        _streams(served, f.id, tokens.read, data)


def test_without_a_public_domain_nothing_moves(
    s3_library: Library, s3_bucket: S3Target, media_dir: MediaSet
) -> None:
    """Keys are never public then: the object stays where it is."""
    record = s3_library.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    s3_library.update_file(record.id, {"is_public": False})
    s3_library.trash(record.id)
    assert s3_library.get_file(record.id).storage_key == record.storage_key
    assert _stored(s3_bucket, record.storage_key)


def test_a_hard_deleted_public_file_leaves_the_object_other_files_keep(
    served: EmbeddedServer, s3_bucket: S3Target, media_dir: MediaSet
) -> None:
    """The object stays for the private file sharing it: it left the public address first."""
    lib = served.library
    tokens = make_tokens(lib)
    shown = lib.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    hidden = lib.uploads.ingest(media_dir.jpeg, "image", is_public=False)
    link = lib.public_url(shown)
    assert link is not None and hidden.storage_key == shown.storage_key
    reply = http_call(
        f"{served.url}/files/{shown.id}?hard_delete=true", "DELETE", None, bearer(tokens.admin)
    )
    assert reply.status == 200, reply.body
    _settle(lib)
    assert not _stored(s3_bucket, shown.storage_key) and http_call(link).status in (403, 404)
    assert lib.get_file(hidden.id).storage_key != shown.storage_key
    _streams(served, hidden.id, tokens.read, media_dir.jpeg.read_bytes())
