"""Security review findings 1 and 2: settings.toml holds only what the user chose (never the
environment's values), a DATABASE_URL's password lives in the secret store, and every folder
and file MediaDesk makes in the data folder has its own mode whatever the umask; a secrets
folder or key someone else owns or may write is refused."""

from __future__ import annotations

import io
import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import cast

import pytest

from core.errors import SettingsError
from core.paths import DataPaths
from core.records import FileRecord
from core.settings import ENV_NAMES, load_settings, save_settings
from core.storage.local import LocalStorage
from core.storage.signing import load_or_create_secret
from core.thumbnail_cache import ThumbnailCache

PASSWORD = "Sup3rSecretPw"
PG_URL = f"postgresql+psycopg://md:{PASSWORD}@127.0.0.1:55432/md"
PG_BARE = "postgresql+psycopg://md@127.0.0.1:55432/md"
R2_ENV = {
    "R2_ENDPOINT_URL": "https://acct.r2.cloudflarestorage.com",
    "R2_BUCKET_NAME": "media-env-only",
    "R2_ACCESS_KEY_ID": "AKIAENVONLY",
    "R2_SECRET_ACCESS_KEY": "env-only-r2-secret",
}


@pytest.fixture(autouse=True)
def no_settings_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for env_name in ENV_NAMES.values():
        monkeypatch.delenv(env_name, raising=False)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(params=[0o000, 0o022], ids=["umask0000", "umask0022"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    try:
        yield request.param
    finally:
        os.umask(old)


def _load(folder: Path) -> object:
    return load_settings(config_file=folder / "settings.toml", data_dir=str(folder))


# ---- 1. settings.toml ----------------------------------------------------------------------------
def test_env_only_values_are_never_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, umask: int
) -> None:
    folder = tmp_path / "data"
    monkeypatch.setenv("DATABASE_URL", PG_URL)
    for name, value in R2_ENV.items():
        monkeypatch.setenv(name, value)
    settings = load_settings(config_file=folder / "settings.toml", data_dir=str(folder))
    assert settings.database_url == PG_URL and settings.r2_bucket_name == "media-env-only"

    # what `mediadesk storage migrate --to local` saves
    target = save_settings(settings.replace(storage_backend="local"), settings.config_file)

    text = target.read_text(encoding="utf-8")
    assert 'storage_backend = "local"' in text  # the user's choice is kept
    for leaked in (PASSWORD, "database_url", "media-env-only", "AKIAENVONLY", "acct.r2"):
        assert leaked not in text
    assert not (folder / "secrets" / "r2_secret_access_key").exists()
    assert not (folder / "secrets" / "database_password").exists()
    assert mode(target) == 0o600

    # the environment stays an override: gone, nothing of it is left
    for name in ["DATABASE_URL", *R2_ENV]:
        monkeypatch.delenv(name)
    again = load_settings(config_file=target, data_dir=str(folder))
    assert again.database_url == "" and again.r2_bucket_name == ""
    assert again.storage_backend == "local"


def test_a_value_the_user_changes_under_the_env_is_saved(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "data"
    monkeypatch.setenv("MEDIADESK_PORT", "9100")
    settings = load_settings(config_file=folder / "settings.toml", data_dir=str(folder))
    text = save_settings(settings.replace(server_port=9200)).read_text(encoding="utf-8")
    assert "server_port = 9200" in text
    # the next save, the env's 9100 in hand: the file keeps its own value, not the env's
    text = save_settings(settings.replace(language="es")).read_text(encoding="utf-8")
    assert "9100" not in text and "server_port = 9200" in text


def test_the_database_password_goes_to_the_secret_store(tmp_path: Path) -> None:
    folder = tmp_path / "data"
    settings = load_settings(environ={}, config_file=folder / "settings.toml", data_dir=str(folder))
    target = save_settings(settings.replace(database_url=PG_URL))

    text = target.read_text(encoding="utf-8")
    assert PASSWORD not in text
    assert f'database_url = "{PG_BARE}"' in text
    stored = folder / "secrets" / "database_password"
    assert stored.read_text(encoding="utf-8") == PASSWORD and mode(stored) == 0o600
    loaded = load_settings(environ={}, config_file=target, data_dir=str(folder))
    assert loaded.database_url == PG_URL

    # a URL without a password, saved later: none is put back
    save_settings(loaded.replace(database_url="sqlite:///elsewhere.db"))
    assert not stored.exists()


def test_an_old_settings_file_with_a_password_loads_and_is_cleaned_on_save(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    target = folder / "settings.toml"
    target.write_text(f'database_url = "{PG_URL}"\nserver_port = 9001\n', encoding="utf-8")
    settings = load_settings(environ={}, config_file=target, data_dir=str(folder))
    assert settings.database_url == PG_URL  # keeps working before any save

    with caplog.at_level(logging.WARNING, logger="core.settings"):
        save_settings(settings.replace(language="es"))
    assert "Moved the database password out of" in caplog.text
    assert PASSWORD not in target.read_text(encoding="utf-8")
    again = load_settings(environ={}, config_file=target, data_dir=str(folder))
    assert again.database_url == PG_URL and again.server_port == 9001


def test_settings_toml_is_0600_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    folder = tmp_path / "data"
    folder.mkdir()
    target = folder / "settings.toml"
    target.write_text("server_port = 9001\n", encoding="utf-8")
    target.chmod(0o644)  # an older version's file
    settings = load_settings(environ={}, config_file=target, data_dir=str(folder))
    save_settings(settings)
    assert mode(target) == 0o600
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []


# ---- 2. modes of the data folder -----------------------------------------------------------------
def test_data_folder_modes_do_not_follow_the_umask(tmp_path: Path, umask: int) -> None:
    paths = DataPaths(data_dir=tmp_path / "md", config_dir=tmp_path / "md").ensure()
    assert mode(paths.data_dir) == 0o700
    assert mode(paths.secrets_dir) == 0o700
    for folder in (paths.objects_dir, paths.logs_dir, paths.cache_dir, paths.tmp_dir):
        assert mode(folder) == 0o750, folder

    store = LocalStorage(paths.objects_dir, paths.tmp_dir)
    store.put_stream("athletes/1/2026/01/a.jpg", io.BytesIO(b"x" * 10), "image/jpeg")
    assert mode(paths.objects_dir / "athletes/1/2026/01/a.jpg") == 0o640
    for sub in ("athletes", "athletes/1", "athletes/1/2026", "athletes/1/2026/01"):
        assert mode(paths.objects_dir / sub) == 0o750, sub

    spooled = paths.tmp_dir / "upload.part"
    spooled.write_bytes(b"y" * 10)  # the umask's 0666 / 0644
    store.adopt_file("general/2026/01/b.mp4", spooled)
    assert mode(paths.objects_dir / "general/2026/01/b.mp4") == 0o640

    thumbs = ThumbnailCache(paths.cache_dir / "thumbnails")
    record = cast(
        FileRecord, SimpleNamespace(id=7, sha256="ab" * 32, content_tag="abababababababab-2")
    )
    thumbs.put(record, b"webp")
    assert mode(thumbs.path(record)) == 0o640
    assert mode(paths.cache_dir / "thumbnails") == 0o750

    key = load_or_create_secret(paths.secrets_dir / "url-signing.key")
    assert len(key) >= 32 and mode(paths.secrets_dir / "url-signing.key") == 0o600


def test_folders_left_open_by_an_older_version_are_closed(tmp_path: Path) -> None:
    paths = DataPaths(data_dir=tmp_path / "md", config_dir=tmp_path / "md")
    for folder in (paths.data_dir, paths.objects_dir, paths.secrets_dir):
        folder.mkdir(parents=True, exist_ok=True)
        folder.chmod(0o777)
    paths.secrets_dir.chmod(0o755)  # older versions made it 0700, under umask 0022 0755 first
    paths.ensure()
    assert mode(paths.data_dir) == 0o700
    assert mode(paths.objects_dir) == 0o750
    assert mode(paths.secrets_dir) == 0o700

    # an admin's nginx set-up (the data folder opened to nginx's group) survives a restart
    paths.data_dir.chmod(0o710)
    paths.ensure()
    assert mode(paths.data_dir) == 0o710


# ---- 2. planted secrets --------------------------------------------------------------------------
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")


@needs_root
def test_a_secrets_folder_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    secrets_dir = tmp_path / "md" / "secrets"
    secrets_dir.mkdir(parents=True, mode=0o700)
    key = secrets_dir / "url-signing.key"
    key.write_bytes(b"k" * 32)
    os.chown(secrets_dir, 65534, 65534)  # `nobody` swapped the folder in
    with pytest.raises(SettingsError) as caught:
        load_or_create_secret(key)
    assert caught.value.reason == "unsafe_permissions"
    assert "belongs to user id 65534" in caught.value.message
    with pytest.raises(SettingsError):
        DataPaths(data_dir=tmp_path / "md", config_dir=tmp_path / "md").ensure()


@needs_root
def test_a_key_owned_by_someone_else_is_refused(tmp_path: Path) -> None:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir(mode=0o700)
    key = secrets_dir / "url-signing.key"
    key.write_bytes(b"k" * 32)
    os.chown(key, 65534, 65534)
    with pytest.raises(SettingsError) as caught:
        load_or_create_secret(key)
    assert caught.value.reason == "unsafe_permissions"
    assert key.read_bytes() == b"k" * 32  # refused, not adopted nor replaced


def test_a_secrets_folder_writable_by_others_is_refused(tmp_path: Path) -> None:
    secrets_dir = tmp_path / "secrets"
    secrets_dir.mkdir()
    secrets_dir.chmod(0o777)
    with pytest.raises(SettingsError) as caught:
        load_or_create_secret(secrets_dir / "url-signing.key")
    assert caught.value.reason == "unsafe_permissions"
    assert "writable by other users" in caught.value.message
