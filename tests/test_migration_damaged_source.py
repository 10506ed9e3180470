"""A file whose stored bytes are damaged (cut short by a bad restore, a disk fault, changed
behind the catalog's back) is reported by `storage migrate` as damaged, not as a failed copy.

It was reported `checksum_mismatch`, "The copy at the target did not match the original...
run the move again", which fails the same way at every run, while the API answers 500
storage_unavailable/object_damaged for the same file. Now the source is held to the catalog's
size and SHA-256: damaged, the file is left where it is (nothing written at the target), the
failure says so in user terms (restore it from a backup), and the other files move. A copy
that differs while the source is whole stays checksum_mismatch
(tests/test_storage_migration.py). Real SQLite, local storage and moto's S3 server."""

from __future__ import annotations

import json

import pytest

from core import keys
from core.library import Library
from core.records import FileRecord
from core.settings import Settings, save_settings
from core.storage.base import Storage
from server import cli
from tests.internals import storage_of
from tests.media_fixtures import MediaSet


def _backend(lib: Library, name: str) -> Storage:
    return storage_of(lib).backend(name)  # type: ignore[attr-defined, no-any-return]


def _cut(storage: Storage, record: FileRecord) -> bytes:
    """Halves the stored object behind the catalog's back; the bytes left."""
    data = b"".join(storage.open_range(record.storage_key, 0, None))
    storage.put_bytes(record.storage_key, data[: len(data) // 2], record.content_type or "")
    return data[: len(data) // 2]


def _flipped(storage: Storage, record: FileRecord) -> bytes:
    """Changes one byte of the stored object in place: the size stays the catalog's."""
    data = bytearray(b"".join(storage.open_range(record.storage_key, 0, None)))
    data[len(data) // 2] ^= 0xFF
    storage.put_bytes(record.storage_key, bytes(data), record.content_type or "")
    return bytes(data)


def _assert_damaged(error: str, code: str, reason: str | None, record: FileRecord) -> None:
    assert (code, reason) == ("storage_unavailable", "object_damaged"), (code, reason, error)
    assert "damaged" in error and "backup" in error, error
    assert "run the move again" not in error, error  # it would fail the same way again
    assert record.storage_key not in error  # user terms: the log has the key


@pytest.mark.parametrize(
    ("start", "target", "damage"),
    [("local", "r2", _cut), ("local", "r2", _flipped), ("r2", "local", _cut)],
    ids=["local-cut", "local-flipped", "r2-cut"],
)
def test_a_damaged_source_is_reported_as_damaged_and_the_rest_moves(
    s3_settings: Settings, media_dir: MediaSet, start: str, target: str, damage: object
) -> None:
    settings = s3_settings.replace(storage_backend=start)
    lib = Library.open(settings)
    try:
        whole = lib.uploads.ingest(media_dir.png, "image")
        damaged = lib.uploads.ingest(media_dir.jpeg, "image")
        later = lib.uploads.ingest(media_dir.webp, "image")
        source, destination = _backend(lib, start), _backend(lib, target)
        left = damage(source, damaged)  # type: ignore[operator]
        for attempt in (1, 2):  # the same answer at every run, never "run it again"
            report = lib.backends.migrate(target)
            assert report.moved == (2 if attempt == 1 else 0), report
            [failure] = report.failed
            assert failure.file_id == damaged.id
            _assert_damaged(failure.error, failure.code, failure.reason, damaged)
            # nothing half-moved: the damaged file stays where it was, as it was
            assert lib.backends.backend_of_key(damaged.storage_key) == start
            assert b"".join(source.open_range(damaged.storage_key, 0, None)) == left
            assert not destination.exists(damaged.storage_key)
            assert not destination.exists(keys.thumbnail_key(damaged.storage_key))
        for moved in (whole, later):
            assert lib.backends.backend_of_key(moved.storage_key) == target
            assert destination.exists(moved.storage_key)
    finally:
        lib.close()


def test_cli_migrate_says_a_damaged_original_is_damaged(
    s3_settings: Settings, media_dir: MediaSet, capsys: pytest.CaptureFixture[str]
) -> None:
    """The tester's case: `mediadesk storage migrate --to r2`, a local file cut short."""
    settings = s3_settings.replace(storage_backend="local")
    save_settings(settings, settings.config_file)
    lib = Library.open(settings)
    damaged = lib.uploads.ingest(media_dir.jpeg, "image")
    kept = lib.uploads.ingest(media_dir.png, "image")
    _cut(_backend(lib, "local"), damaged)
    lib.close()
    data_dir = str(settings.paths.data_dir)
    assert cli.run(["storage", "migrate", "--to", "r2", "--data-dir", data_dir]) == 1
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert out["moved"] == 1, out
    [failure] = out["failed"]
    assert failure["id"] == damaged.id
    assert failure["reason"] == "object_damaged"  # what a script chooses by
    # the API's code for it (README: `code` is the API's error code)
    _assert_damaged(failure["error"], failure["code"], "object_damaged", damaged)
    lib = Library.open(settings)
    try:
        assert lib.backends.backend_of_key(damaged.storage_key) == "local"
        assert lib.backends.backend_of_key(kept.storage_key) == "r2"
    finally:
        lib.close()
