"""With R2_PUBLIC_DOMAIN, a public file made private or trashed stops being served there.

A public domain serves every object of the bucket by its key, to anyone: the object of a file
made private (PATCH is_public=false) or trashed stayed under the key its public link named
(`urls.public`, also in anonymous listings), so that link went on serving it, with no token and
no expiry, until a hard delete. Now its object and derivatives move to a key under a new name
(the athlete move's copy, then the old key after the grace period). A real library on the moto
S3 server with a public-read bucket standing in for the public domain, a live server."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from core import keys
from core.library import Library
from core.locks import ObjectLocks
from core.maintenance import reconcile
from core.settings import Settings
from core.storage.s3 import S3Storage
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.internals import catalog_of, storage_of
from tests.media_fixtures import MediaSet
from tests.pg_server import fresh_database, postgres_url  # noqa: F401 - a fixture
from tests.r2_migrate import r2_settings
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
    # another athlete's: `shown` made private is then no duplicate of it (refused, 409)
    other = lib.create_athlete("Bo")
    hidden = lib.uploads.ingest(media_dir.jpeg, "image", is_public=False, athlete_id=other.id)
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


@pytest.mark.parametrize("left_as", ["trashed", "private", "public"])
def test_a_public_file_moved_to_another_athlete_takes_the_old_address_from_its_sharers(
    served: EmbeddedServer, s3_bucket: S3Target, media_dir: MediaSet, left_as: str
) -> None:
    """A trashed or private file sharing a public file's object stays on the key while that
    file's link is the same address; once that file moves to another athlete's folder, the
    ones left there go to a key under a new name (the old address went on serving the bytes
    for good, the left file's row naming it). One left public keeps the address."""
    lib = served.library
    tokens = make_tokens(lib)
    data = media_dir.jpeg.read_bytes()
    ana, bob = lib.create_athlete("Ana"), lib.create_athlete("Bob")
    moving = lib.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    left = lib.uploads.ingest(media_dir.jpeg, "image", is_public=True, athlete_id=ana.id)
    key = moving.storage_key
    link = lib.public_url(left)
    assert left.storage_key == key and link is not None
    segment = keys.video_prefix(key) + "hls-1/seg0.ts"
    storage_of(lib).put_bytes(segment, b"segment", "video/mp2t")
    if left_as == "trashed":
        lib.trash(left.id)
    elif left_as == "private":
        _edit(served, tokens.upload, left.id, b'{"is_public": false}')
    assert lib.get_file(left.id).storage_key == key  # the moving file's link: the same address

    _edit(served, tokens.upload, moving.id, b'{"athlete_id": %d}' % bob.id)
    _settle(lib)

    moved = lib.get_file(moving.id)
    assert moved.storage_key == keys.rekey_for_athlete(key, bob.id)
    assert http_call(lib.public_url(moved) or "").body == data
    stays = lib.get_file(left.id)
    if left_as == "public":
        assert stays.storage_key == key and http_call(link).body == data
        return
    assert stays.storage_key not in (key, moved.storage_key)
    assert not _stored(s3_bucket, key) and http_call(link).status in (403, 404)
    assert lib.read_object(keys.video_prefix(stays.storage_key) + "hls-1/seg0.ts") == b"segment"
    assert lib.read_object(segment) == b"segment"  # the moved file's folder: the same name
    if left_as == "trashed":
        lib.restore(left.id)
    _streams(served, left.id, tokens.read, data)


@pytest.fixture
def sqlite_servers(tmp_path: Path, s3_bucket: S3Target) -> Iterator[tuple[Library, Library]]:
    """Two libraries ("the desktop and the server") on one SQLite catalog and one bucket with
    a public domain."""
    settings = make_settings(
        tmp_path, **r2_settings(s3_bucket), r2_public_domain=public_domain(s3_bucket)
    )
    first = Library.open(settings)
    second = Library.open(settings, migrate=False)
    yield first, second
    second.close()
    first.close()


@pytest.fixture
def postgresql_servers(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
    s3_bucket: S3Target,
) -> Iterator[tuple[Library, Library]]:
    """Two servers of a team on one PostgreSQL catalog and one bucket with a public domain."""
    url = fresh_database(postgres_url, "linkends")
    domain = public_domain(s3_bucket)
    libs = []
    for side in ("a", "b"):
        folder = tmp_path / side
        folder.mkdir()
        settings = make_settings(
            folder, database_url=url, **r2_settings(s3_bucket), r2_public_domain=domain
        )
        libs.append(Library.open(settings))
    yield libs[0], libs[1]
    for lib in libs:
        lib.close()


@pytest.fixture
def servers(request: pytest.FixtureRequest) -> tuple[Library, Library]:
    return request.getfixturevalue(f"{request.param}_servers")  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("servers", "first_ends"),
    [("sqlite", "private"), ("postgresql", "private"), ("sqlite", "trash"), ("sqlite", "hard")],
    indirect=["servers"],
)
def test_two_sharers_whose_links_end_at_once_leave_the_public_link(
    servers: tuple[Library, Library],
    first_ends: str,
    s3_bucket: S3Target,
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each asked whether the other file keeps the object public before either wrote: both
    answered yes, and the object stayed at the address the links named. Here each request
    gets as far as it can (its own answer, or the wait for the object's lock) before the
    other writes: the decision is taken under that lock, held to the write (the trash's
    too), so the second sees the first's."""
    one, two = servers
    for lib in (one, two):
        lib.deferred.grace = 0.0  # the old key goes at the next run, not a minute later
    first = one.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    athlete = one.create_athlete("Ana")
    second = one.uploads.ingest(media_dir.jpeg, "image", is_public=True, athlete_id=athlete.id)
    old = first.storage_key
    assert second.storage_key == old
    link = one.public_url(first)
    assert link is not None and http_call(link).status == 200

    # the threads that decided, asked for the old key's object lock, hold it
    went: dict[str, set[int]] = {"decided": set(), "asked": set(), "holding": set()}
    turn = threading.Condition()

    def note(what: str, there: bool = True) -> None:
        with turn:
            (went[what].add if there else went[what].discard)(threading.get_ident())
            turn.notify_all()

    def wait_until(done: Callable[[int], bool]) -> None:
        me = threading.get_ident()
        with turn:
            assert turn.wait_for(lambda: done(me), timeout=10)

    real_ends = Library._public_link_ends

    def deciding(self: Library, current: Any, besides: Any) -> bool:
        answer = real_ends(self, current, besides)
        note("decided")
        # the other gets as far as it can: its own answer, or the wait for this one's lock
        wait_until(lambda me: bool((went["decided"] | went["asked"]) - {me}))
        return answer

    real_delete = Library._delete_permanently_locked

    def deleting(self: Library, *args: Any) -> Any:
        # a hard delete's claim (its trash) waits for the other's answer, unless it holds
        # the lock that answer waits for
        wait_until(lambda me: me in went["holding"] or bool(went["decided"] - {me}))
        return real_delete(self, *args)

    real_many = ObjectLocks.hold_many

    @contextlib.contextmanager
    def hold_many(self: ObjectLocks, keys_: Any) -> Iterator[None]:
        keys_ = list(keys_)
        if old in keys_:
            note("asked")
        with real_many(self, keys_):
            if old not in keys_:
                yield
                return
            note("holding")
            try:
                yield
            finally:
                note("holding", there=False)

    monkeypatch.setattr(Library, "_public_link_ends", deciding)
    monkeypatch.setattr(Library, "_delete_permanently_locked", deleting)
    monkeypatch.setattr(ObjectLocks, "hold", lambda self, key: hold_many(self, [key]))
    monkeypatch.setattr(ObjectLocks, "hold_many", hold_many)
    with ThreadPoolExecutor(2) as pool:
        ending = {
            "private": lambda: one.update_file(first.id, {"is_public": False}),
            "trash": lambda: one.trash(first.id),
            "hard": lambda: one.delete_permanently(first.id),
        }
        edits = [
            pool.submit(ending[first_ends]),
            pool.submit(two.update_file, second.id, {"is_public": False}),
        ]
        for edit in edits:
            edit.result(timeout=30)
    for lib in (one, two):
        _settle(lib)
    left = (second,) if first_ends == "hard" else (first, second)
    moved = {catalog_of(one).get(f.id, include_trashed=True).storage_key for f in left}
    assert len(moved) == 1 and old not in moved  # all left, still sharing one object
    assert not _stored(s3_bucket, old) and http_call(link).status in (403, 404)


def test_a_rekey_killed_after_a_video_copy_leaves_nothing_untracked(
    s3_settings: Settings, s3_bucket: S3Target, media_dir: MediaSet
) -> None:
    """A process killed (-9) in the middle of copying the video folder to the new name left
    the copies made so far under a name no row has and no deletion names: maintenance listed
    them for good. Each copy is noted for deletion before it is written (the storage move's
    way), and the note goes with the commit of the new key."""
    settings = s3_settings.replace(r2_public_domain=public_domain(s3_bucket))
    lib = Library.open(settings)
    try:
        record = lib.uploads.ingest(media_dir.jpeg, "image", is_public=True)
        old = record.storage_key
        for part in ("hls-1/seg0.ts", "hls-1/seg1.ts", "web.mp4"):
            storage_of(lib).put_bytes(keys.video_prefix(old) + part, b"video", "video/mp2t")
        pid = os.fork()
        if pid == 0:  # the process killed in the middle of the re-key
            try:
                child = Library.open(settings, migrate=False)
                real_copy = S3Storage.copy

                def copy_then_die(self: S3Storage, src: str, dst: str, **kw: Any) -> None:
                    real_copy(self, src, dst, **kw)
                    if dst.startswith(keys.VIDEO_PREFIX):
                        os.kill(os.getpid(), signal.SIGKILL)

                S3Storage.copy = copy_then_die  # type: ignore[method-assign]
                child.update_file(record.id, {"is_public": False})
            finally:
                os._exit(3)
        _, status = os.waitpid(pid, 0)
        assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        listed = [o.key for o in storage_of(lib).list_keys(keys.VIDEO_PREFIX)]
        copies = [k for k in listed if not k.startswith(keys.video_prefix(old))]
        assert len(copies) == 1  # killed after the first one
        assert lib.get_file(record.id).storage_key == old  # never committed
        found = reconcile(lib)
        assert found.clean, found.as_dict()
        lib.deferred.run(datetime.now(UTC) + timedelta(days=1))  # once due
        left = {o.key for o in storage_of(lib).list_keys("")}
        fresh_name = keys.video_owner_name(copies[0])
        assert [k for k in left if fresh_name in k] == []  # the copies went with their note
        assert {old, keys.video_prefix(old) + "web.mp4"} <= left  # the file's own stay
        assert reconcile(lib).clean
    finally:
        lib.close()
