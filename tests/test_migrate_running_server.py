"""A process opened on the local folder while another one runs `mediadesk storage migrate --to
r2 --save-keys`: the moved files' rows name R2, which that process has no settings for. It
answered 404 not_found "No object in local storage" for every moved file once the old copies
were deleted (the bytes are on R2); it now reads the storage settings the migration saved."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from core import storage_migration
from core.errors import SETUP_FAULT_REASONS, NotFound, StorageUnavailable
from core.library import Library
from core.settings import Settings
from server import record_cache
from server.entry import EmbeddedServer
from server.errors import UNAVAILABLE_MESSAGES
from tests.media_fixtures import MediaSet
from tests.r2_migrate import migrate_to_r2, r2_environment, saved_local
from tests.s3_server import S3Target
from tests.server_fixtures import bearer, http_call, make_tokens, server_config


@pytest.fixture
def local_saved(data_dir: Path) -> Settings:
    return saved_local(data_dir)


@pytest.fixture
def r2_env(s3_bucket: S3Target) -> dict[str, str]:
    return r2_environment(s3_bucket)


@pytest.fixture
def running(local_saved: Settings) -> Iterator[Library]:
    lib = Library.open(local_saved)
    yield lib
    lib.close()


def _fetch(url: str, headers: dict[str, str]) -> tuple[int, bytes]:
    reply = http_call(url, headers=headers)
    if reply.status in (301, 302, 303, 307, 308):  # an R2 file may be sent to its signed URL
        reply = http_call(reply.headers["Location"])
    return reply.status, reply.body


def test_a_running_server_serves_files_moved_to_r2_with_saved_keys(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert storage_migration.SOURCE_KEPT_SECONDS == 0  # the old copy goes at once
    server = EmbeddedServer(running, config=server_config(running))
    server.start()
    try:
        tokens = make_tokens(running)
        record = running.uploads.ingest(media_dir.jpeg, "image")
        original = media_dir.jpeg.read_bytes()
        url = f"{server.url}/stream/{record.id}/image"
        assert _fetch(url, bearer(tokens.read)) == (200, original)
        migrate_to_r2(local_saved, r2_env, monkeypatch, "--save-keys")
        local = running.settings.paths.objects_dir
        assert not any(p.is_file() for p in local.rglob("*") if record.storage_key in str(p))
        # the server's record and its local path are cached that long (the real migration
        # keeps the old copy a minute for it: SOURCE_KEPT_SECONDS)
        time.sleep(record_cache.TTL_SECONDS + 0.5)
        status, body = _fetch(url, bearer(tokens.read))
        assert status == 200, body[:300]
        assert body == original
        # and the library itself (the desktop app's, the video worker's)
        assert running.read_object(record.storage_key) == original
    finally:
        server.stop()


def test_a_running_library_reads_moved_files_with_the_saved_keys(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = running.uploads.ingest(media_dir.png, "image")
    migrate_to_r2(local_saved, r2_env, monkeypatch, "--save-keys")
    assert running.read_object(record.storage_key) == media_dir.png.read_bytes()
    assert running.thumbnail_bytes(record.id)[:4] == b"RIFF"


def test_without_saved_keys_a_moved_file_is_unavailable_not_missing(
    running: Library,
    local_saved: Settings,
    r2_env: dict[str, str],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Keys given to the migration only in its environment are not saved: this process cannot
    reach R2, which is said (storage_unavailable, restart or configure), never "no such file"."""
    record = running.uploads.ingest(media_dir.jpeg, "image")
    migrate_to_r2(local_saved, r2_env, monkeypatch)  # without --save-keys
    with pytest.raises(StorageUnavailable) as caught:
        running.read_object(record.storage_key)
    assert not isinstance(caught.value, NotFound)
    assert "Restart MediaDesk" in str(caught.value)
    # a lasting cause, said to the client: not the generic "try again later"
    assert caught.value.reason == "storage_not_configured"
    assert caught.value.reason in SETUP_FAULT_REASONS
    server = EmbeddedServer(running, config=server_config(running))
    server.start()
    try:
        token = make_tokens(running).read
        reply = http_call(f"{server.url}/stream/{record.id}/image", headers=bearer(token))
        assert reply.status >= 500, reply.body
        error = reply.json()["error"]
        assert (error["code"], error["reason"]) == ("storage_unavailable", "storage_not_configured")
        assert error["message"] == UNAVAILABLE_MESSAGES["storage_not_configured"]
        assert "restart MediaDesk" in error["message"]
        assert "storage migrate --save-keys" in error["message"]
    finally:
        server.stop()
    # once saved (a second run with --save-keys), the same process reads it
    migrate_to_r2(local_saved, r2_env, monkeypatch, "--save-keys")
    assert running.read_object(record.storage_key) == media_dir.jpeg.read_bytes()
