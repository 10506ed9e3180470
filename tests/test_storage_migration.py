"""Switching storage never strands a file: each row names its backend, old files stay readable,
and `migrate` moves them (verified by SHA-256) in both directions, resumably."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.db.engine import Database
from core.db.migrate import upgrade
from core.errors import Cancelled
from core.library import Library
from core.records import FileRecord
from core.settings import Settings
from core.storage_migration import MigrationStep
from tests.conftest import make_settings
from tests.internals import storage_of
from tests.media_fixtures import MediaSet
from tests.pg_server import pg_library, postgres_url  # noqa: F401


def _bytes(library: Library, record: FileRecord) -> bytes:
    return b"".join(library.open_range(library.get_file(record.id), 0, None))


def _reopen(settings: Settings, **changes: object) -> Library:
    return Library.open(settings.replace(**changes))


def _rows(settings: Settings) -> dict[int, str]:
    db = sqlite3.connect(settings.paths.database_file)
    try:
        return dict(db.execute("SELECT id, storage_backend FROM media_files").fetchall())
    finally:
        db.close()


@pytest.fixture
def local_then_r2(s3_settings: Settings) -> Settings:
    """R2 credentials present, new files written locally: the state before switching to R2."""
    return s3_settings.replace(storage_backend="local")


def test_rows_name_their_backend_and_old_files_stay_readable_after_a_switch(
    local_then_r2: Settings, media_dir: MediaSet
) -> None:
    lib = Library.open(local_then_r2)
    old = lib.uploads.ingest(media_dir.jpeg, "image")
    original = _bytes(lib, old)
    lib.close()
    assert _rows(local_then_r2) == {old.id: "local"}

    lib = _reopen(local_then_r2, storage_backend="")  # R2 is now where new files go
    try:
        assert lib.settings.backend_name == "r2"
        new = lib.uploads.ingest(media_dir.png, "image")
        assert _rows(local_then_r2) == {old.id: "local", new.id: "r2"}
        assert _bytes(lib, old) == original  # keep reading old files from where they are
        assert lib.thumbnail_bytes(old.id)  # derivatives too
        assert lib.backends.counts_by_backend() == {"local": 1, "r2": 1}
        assert lib.backends.files_elsewhere() == 1
        lib.delete_permanently(old.id)  # deletes reach the file's own backend
        assert not (local_then_r2.paths.objects_dir / old.storage_key).exists()
    finally:
        lib.close()


@pytest.mark.parametrize("direction", ["local_to_r2", "r2_to_local"])
def test_migrate_moves_every_file_verified_and_deletes_sources(
    local_then_r2: Settings, media_dir: MediaSet, direction: str
) -> None:
    start, target = ("local", "r2") if direction == "local_to_r2" else ("r2", "local")
    settings = local_then_r2.replace(storage_backend=start)
    lib = Library.open(settings)
    records = [lib.uploads.ingest(p, "image") for p in (media_dir.jpeg, media_dir.png)]
    originals = {r.id: _bytes(lib, r) for r in records}
    lib.trash(records[1].id)  # trashed files move too (they can be restored)
    edited = {r.id: lib.get_file(r.id).updated_at for r in records}
    source = storage_of(lib).backend(start)  # type: ignore[attr-defined]
    assert all(source.exists(r.storage_key) for r in records)
    seen: list[MigrationStep] = []
    report = lib.backends.migrate(target, progress=seen.append)
    assert report.complete and report.moved == 2
    assert [s[:2] for s in seen] == [(1, 2), (2, 2)]
    assert _rows(settings) == {r.id: target for r in records}
    # a move is no edit: 'Recently edited' keeps its order
    assert {r.id: lib.get_file(r.id).updated_at for r in records} == edited
    destination = storage_of(lib).backend(target)  # type: ignore[attr-defined]
    for r in records:
        assert not source.exists(r.storage_key)  # the source went only after the switch
        data = b"".join(destination.open_range(r.storage_key, 0, None))
        assert hashlib.sha256(data).hexdigest() == r.sha256 and data == originals[r.id]
    assert lib.backends.migrate(target).moved == 0  # nothing left: idempotent
    lib.close()
    lib = _reopen(settings, storage_backend=target)
    try:
        assert all(_bytes(lib, r) == originals[r.id] for r in records)
    finally:
        lib.close()


def test_a_cancelled_migration_resumes_and_never_leaves_a_record_without_bytes(
    local_then_r2: Settings, media_dir: MediaSet
) -> None:
    lib = Library.open(local_then_r2)
    records = [
        lib.uploads.ingest(p, "image") for p in (media_dir.jpeg, media_dir.png, media_dir.webp)
    ]
    cancel = threading.Event()

    def stop_after_first(step: MigrationStep) -> None:
        if step.done == 1:
            cancel.set()

    with pytest.raises(Cancelled):
        lib.backends.migrate("r2", progress=stop_after_first, cancel=cancel)
    rows = _rows(local_then_r2)
    assert sorted(rows.values()) == ["local", "local", "r2"]
    for r in records:  # every row's bytes are where the row says
        backend = storage_of(lib).backend(rows[r.id])  # type: ignore[attr-defined]
        assert backend.exists(r.storage_key)
    report = lib.backends.migrate("r2")
    assert report.moved == 2 and set(_rows(local_then_r2).values()) == {"r2"}
    lib.close()


def test_a_copy_that_does_not_match_its_sha256_is_refused(
    local_then_r2: Settings, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = Library.open(local_then_r2)
    record = lib.uploads.ingest(media_dir.jpeg, "image")
    r2 = storage_of(lib).backend("r2")  # type: ignore[attr-defined]
    real_put = r2.put_file

    def corrupting_put(key: str, path: Path, content_type: str, *a: object) -> object:
        path.write_bytes(path.read_bytes()[:-10] + b"corrupted!")
        return real_put(key, path, content_type)

    monkeypatch.setattr(r2, "put_file", corrupting_put)
    report = lib.backends.migrate("r2")
    assert report.moved == 0 and [f.code for f in report.failed] == ["checksum_mismatch"]
    assert record.storage_key not in report.failed[0].error  # user terms: the log has the key
    assert _rows(local_then_r2) == {record.id: "local"}
    assert _bytes(lib, record) == media_dir.jpeg.read_bytes()
    assert not r2.exists(record.storage_key)  # the bad copy was removed
    lib.close()


def test_an_unreachable_target_fails_before_touching_anything(
    settings: Settings, media_dir: MediaSet
) -> None:
    from core.storage.factory import build_backend

    lib = Library.open(settings)
    record = lib.uploads.ingest(media_dir.jpeg, "image")
    dead = settings.replace(
        r2_endpoint_url="http://127.0.0.1:9",
        r2_bucket_name="b",
        r2_access_key_id="k",
        r2_secret_access_key="s",
        storage_backend="local",
    )
    with pytest.raises(Exception):  # noqa: B017 - any storage error, before any copy
        lib.backends.migrate("r2", target_storage=build_backend(dead, "r2"))
    assert _rows(settings) == {record.id: "local"}
    lib.close()


def test_cli_storage_migrate_moves_files_and_switches_new_writes(
    local_then_r2: Settings, media_dir: MediaSet, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    from core.settings import load_settings, save_settings
    from server import cli

    save_settings(local_then_r2, local_then_r2.config_file)
    lib = Library.open(local_then_r2)
    record = lib.uploads.ingest(media_dir.jpeg, "image")
    lib.close()
    data_dir = str(local_then_r2.paths.data_dir)
    assert cli.run(["storage", "migrate", "--to", "r2", "--data-dir", data_dir]) == 0
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out == {
        "target": "r2",
        "moved": 1,
        "skipped": 0,
        "failed": [],
        "leftovers": [],
        "queued_deletions": 0,
        "interrupted": False,
    }
    assert _rows(local_then_r2) == {record.id: "r2"}
    reloaded = load_settings(environ={}, config_file=local_then_r2.config_file)
    assert reloaded.backend_name == "r2"
    assert cli.run(["storage", "status", "--data-dir", data_dir]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status == {"active": "r2", "files": {"r2": 1}}


def test_links_of_files_kept_on_the_old_backend_point_where_the_bytes_are(
    local_then_r2: Settings, media_dir: MediaSet
) -> None:
    lib = Library.open(local_then_r2.replace(r2_public_domain="https://cdn.example"))
    old = lib.uploads.ingest(media_dir.jpeg, "image", is_public=True)
    lib.close()
    lib = _reopen(local_then_r2, storage_backend="", r2_public_domain="https://cdn.example")
    try:
        new = lib.uploads.ingest(media_dir.png, "image", is_public=True)
        assert lib.public_url(lib.get_file(new.id)) == f"https://cdn.example/{new.storage_key}"
        assert lib.public_url(lib.get_file(old.id)) is None  # not on the CDN's bucket
        local_link = lib.presigned_get(old.id).url
        assert "/signed/" in local_link and local_link.startswith(lib.settings.server_url)
        assert "/signed/" not in lib.presigned_get(new.id).url  # R2 signs the new one
    finally:
        lib.close()


def test_reconcile_after_a_switch_finds_kept_files_on_their_own_backend(
    local_then_r2: Settings, media_dir: MediaSet
) -> None:
    """Files kept on the old backend after a switch ("keep reading old files from where they
    are") were reported missing by every maintenance run (rows_without_objects: the listing
    was the active backend's only), and a stray object there went unseen."""
    from core.maintenance import reconcile

    lib = Library.open(local_then_r2)
    old = lib.uploads.ingest(media_dir.jpeg, "image")
    lib.close()
    lib = _reopen(local_then_r2, storage_backend="")
    try:
        new = lib.uploads.ingest(media_dir.png, "image")
        report = reconcile(lib)
        assert report.clean, report
        local = storage_of(lib).backend("local")
        local.put_bytes("general/2026/01/stray.jpg", b"stray", "image/jpeg")
        (local_then_r2.paths.objects_dir / old.storage_key).unlink()
        report = reconcile(lib)
        assert report.rows_without_objects == [old.id], report
        assert report.objects_without_rows == ["general/2026/01/stray.jpg"], report
        assert new.id not in report.rows_without_objects
    finally:
        lib.close()


def _sha_on(lib: Library, backend: str, key: str) -> str:
    data = b"".join(storage_of(lib).backend(backend).open_range(key, 0, None))  # type: ignore[attr-defined]
    return hashlib.sha256(data).hexdigest()


def test_two_migrations_at_once_never_lose_a_file(
    local_then_r2: Settings, media_dir: MediaSet
) -> None:
    """Two `storage migrate --to r2` at once (the desktop, and the CLI of another machine on the
    same catalog) deleted most originals: the run that lost a row's switch deleted the copy the
    other had just made the truth. The second one is now refused at once, whichever process."""
    from core.errors import Conflict

    lib = Library.open(local_then_r2)
    other = Library.open(local_then_r2)  # another process on the same catalog
    try:
        records = [
            lib.uploads.ingest(p, "image") for p in (media_dir.jpeg, media_dir.png, media_dir.webp)
        ]
        outcome: list[object] = []

        def second_migration() -> None:
            try:
                outcome.append(other.backends.migrate("r2"))
            except Conflict as exc:
                outcome.append(exc)

        def start_it_midway(step: MigrationStep) -> None:
            if step.done == 1:
                runner = threading.Thread(target=second_migration)
                runner.start()
                runner.join()

        report = lib.backends.migrate("r2", progress=start_it_midway)
        refused = outcome[0]
        assert isinstance(refused, Conflict) and refused.reason == "migration_running", refused
        assert report.complete and report.moved == 3
        for r in records:  # every file's bytes, where its row says
            assert _sha_on(lib, _rows(local_then_r2)[r.id], r.storage_key) == r.sha256
        assert other.backends.migrate("r2").moved == 0  # the lock went with the first run
    finally:
        other.close()
        lib.close()


def test_a_copy_that_another_migration_made_the_truth_is_never_deleted(
    local_then_r2: Settings, media_dir: MediaSet, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The row switched by another run between this run's copy and its switch (same key, same
    bytes): the copy at the target is what the row names now, and must stay."""
    lib = Library.open(local_then_r2)
    record = lib.uploads.ingest(media_dir.jpeg, "image")
    r2 = storage_of(lib).backend("r2")  # type: ignore[attr-defined]
    real_put = r2.put_file

    def put_then_lose_the_switch(key: str, path: Path, content_type: str, *a: object) -> object:
        stat = real_put(key, path, content_type)
        db = sqlite3.connect(local_then_r2.paths.database_file)  # the other run's switch
        db.execute("UPDATE media_files SET storage_backend = 'r2'")
        db.commit()
        db.close()
        return stat

    monkeypatch.setattr(r2, "put_file", put_then_lose_the_switch)
    try:
        report = lib.backends.migrate("r2")
        assert _rows(local_then_r2) == {record.id: "r2"}
        assert _sha_on(lib, "r2", record.storage_key) == record.sha256
        assert report.complete, report  # it is where the target wants it
    finally:
        lib.close()


def test_a_source_that_cannot_be_deleted_leaves_the_file_moved_and_is_reported(
    local_then_r2: Settings,
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A store that refused to delete a moved file's source made `migrate` report the file
    failed ("stays readable where it is") though its row named the copy, and the old object
    stayed for good. It counts as moved; the delete is tried again at the end of the run, and
    an object still left is named in the report and the log, and queued for deletion from
    its old backend (the routing storage would find the moved copy first)."""
    import logging
    from datetime import UTC, datetime, timedelta

    from core.errors import StorageUnavailable
    from core.maintenance import reconcile

    lib = Library.open(local_then_r2)
    hiccup, stuck = (lib.uploads.ingest(p, "image") for p in (media_dir.jpeg, media_dir.png))
    local = storage_of(lib).backend("local")  # type: ignore[attr-defined]
    real_delete = local.delete
    refused: list[str] = []

    def refusing_delete(key: str) -> None:
        if key == stuck.storage_key or (key == hiccup.storage_key and key not in refused):
            refused.append(key)
            raise StorageUnavailable(f"Cannot delete {key!r}")
        real_delete(key)

    monkeypatch.setattr(local, "delete", refusing_delete)
    try:
        with caplog.at_level(logging.WARNING, logger="core.storage_migration"):
            report = lib.backends.migrate("r2")
        assert report.complete and report.moved == 2 and not report.failed, report
        assert report.leftovers == [("local", stuck.storage_key)]
        assert stuck.storage_key in caplog.text
        assert _rows(local_then_r2) == {hiccup.id: "r2", stuck.id: "r2"}
        assert not (local_then_r2.paths.objects_dir / hiccup.storage_key).exists()  # retried
        assert stuck.storage_key in reconcile(lib).pending_deletions  # queued, not forgotten
        monkeypatch.undo()  # the store deletes again: maintenance's deferred run takes it
        assert lib.deferred.run(datetime.now(UTC) + timedelta(hours=1)) == [stuck.storage_key]
        assert not local.exists(stuck.storage_key)
        assert _sha_on(lib, "r2", stuck.storage_key) == stuck.sha256  # not the moved copy
        assert not reconcile(lib).pending_deletions
    finally:
        lib.close()


def test_video_renditions_hls_and_sprites_move_with_their_file(
    local_then_r2: Settings, media_dir: MediaSet
) -> None:
    """A video's renditions, HLS ladder and sprites stayed on the old store (the README said
    "rebuilt on demand"; nothing rebuilt them): once it was gone, HLS answered 404 for good
    while the file's info said its processing was done."""
    from core import keys

    lib = Library.open(local_then_r2)
    try:
        record = lib.uploads.ingest(media_dir.mp4, "video")
        local = storage_of(lib).backend("local")  # type: ignore[attr-defined]
        folder = keys.video_prefix(record.storage_key)
        derived = {
            f"{folder}hls/7/master.m3u8": b"#EXTM3U\n",
            f"{folder}hls/7/v0/seg0.ts": b"\x47" * 1880,
            f"{folder}web/8/web.mp4": b"mp4" * 100,
            f"{folder}scrub/9/sprite.jpg": b"\xff\xd8jpeg",
        }
        for key, data in derived.items():
            local.put_bytes(key, data, "application/octet-stream")
        report = lib.backends.migrate("r2")
        assert report.complete and report.moved == 1, report
        r2 = storage_of(lib).backend("r2")  # type: ignore[attr-defined]
        for key, data in derived.items():
            assert b"".join(r2.open_range(key, 0, None)) == data, key
            assert not local.exists(key), key
    finally:
        lib.close()


def test_aliases_follow_their_file_to_the_target(
    local_then_r2: Settings, media_dir: MediaSet
) -> None:
    """A duplicate's alias row kept storage_backend=local after every complete migration, so
    `storage status` never showed the library on one backend."""
    lib = Library.open(local_then_r2)
    try:
        first = lib.uploads.ingest(media_dir.png, "image")
        upload = lib.uploads.create_presigned_upload("copy.png", "image", content_type="image/png")
        storage_of(lib).put_file(upload.file_key, media_dir.png, "image/png")
        assert lib.uploads.confirm_upload(upload.file.id).duplicate_of == first.id
        assert lib.backends.migrate("r2").complete
        assert _rows(local_then_r2) == {first.id: "r2", upload.file.id: "r2"}
        assert lib.backends.counts_by_backend() == {"r2": 1}  # the alias is no file of its own
    finally:
        lib.close()


def test_one_migration_at_a_time_on_postgres(pg_library: Library, media_dir: MediaSet) -> None:
    """A team's machines share one PostgreSQL catalog: a migration running on another machine
    (its advisory lock, held here by another session) refuses this one at once."""
    import psycopg

    from core.errors import Conflict
    from core.feed import pg_conninfo
    from core.storage_migration import MIGRATION_LOCK
    from tests.internals import db_of

    record = pg_library.uploads.ingest(media_dir.jpeg, "image")
    with psycopg.connect(pg_conninfo(db_of(pg_library)), autocommit=True) as elsewhere:
        assert elsewhere.execute("SELECT pg_try_advisory_lock(%s)", (MIGRATION_LOCK,)).fetchone()
        with pytest.raises(Conflict) as refused:
            pg_library.backends.migrate("local")
        assert refused.value.reason == "migration_running"
        elsewhere.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))  # it finished
    assert pg_library.backends.migrate("local").complete
    assert pg_library.backends.counts_by_backend() == {"local": 1}
    assert _bytes(pg_library, record) == media_dir.jpeg.read_bytes()


def test_the_first_open_of_a_catalog_from_before_backends_keeps_edit_dates(
    tmp_path: Path,
) -> None:
    """A catalog from before migration 0002 has no backend in its rows: the first open names
    them all, and wrote that moment into every file's updated_at ('Recently edited' lost)."""
    data = tmp_path / "data"
    db = Database(f"sqlite:///{data / 'mediadesk.sqlite3'}")
    upgrade(db.engine, "0001")
    db.engine.dispose()
    with sqlite3.connect(data / "mediadesk.sqlite3") as conn:
        conn.execute(
            "INSERT INTO media_files (id, storage_key, original_filename, content_type, "
            "file_type, size, extra, is_public, description, status, has_thumbnail, "
            "created_at, updated_at, version) VALUES (1, 'general/2020/01/a.jpg', 'a.jpg', "
            "'image/jpeg', 'image', 3, '{}', 0, '', 'ready', 0, '2020-01-01 00:00:00.000000', "
            "'2020-01-02 00:00:00.000000', 1)"
        )
    conn.close()
    settings = make_settings(data)
    lib = Library.open(settings)
    try:
        assert _rows(settings) == {1: "local"}
        assert lib.get_file(1).updated_at == datetime(2020, 1, 2, tzinfo=UTC)
    finally:
        lib.close()
