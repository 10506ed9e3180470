"""The R2 secret key never lands in settings.toml: system keyring when there is one, else a
0600 file in the data folder; an old settings.toml holding it is cleaned on load."""

from __future__ import annotations

import logging
import stat
from pathlib import Path

import pytest

from core.secrets import SecretStore
from core.settings import load_settings, save_settings
from tests.keyring_helpers import memory_keyring

SECRET = "s3cr3t-R2-key-that-must-not-leak"
R2 = {
    "r2_endpoint_url": "https://acct.r2.cloudflarestorage.com",
    "r2_bucket_name": "media",
    "r2_access_key_id": "AKIA123",
    "r2_secret_access_key": SECRET,
}


def _load(data_dir: Path):  # type: ignore[no-untyped-def]
    return load_settings(environ={}, config_file=data_dir / "settings.toml", data_dir=str(data_dir))


def test_saving_keeps_the_secret_out_of_settings_toml_in_a_0600_file(data_dir: Path) -> None:
    settings = _load(data_dir).replace(**R2)
    path = save_settings(settings, settings.config_file)
    assert SECRET not in path.read_text(encoding="utf-8")
    assert "r2_access_key_id" in path.read_text(encoding="utf-8")
    secret_file = data_dir / "secrets" / "r2_secret_access_key"
    assert secret_file.read_text(encoding="utf-8") == SECRET
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(secret_file.parent.stat().st_mode) == 0o700
    reloaded = _load(data_dir)
    assert reloaded.r2_secret_access_key == SECRET and reloaded.uses_r2
    assert SECRET not in repr(reloaded)  # nor in a log line that prints the settings


def test_a_settings_toml_with_a_secret_is_migrated_out_on_load(
    data_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    toml = data_dir / "settings.toml"
    toml.write_text("".join(f'{k} = "{v}"\n' for k, v in R2.items()), encoding="utf-8")
    with caplog.at_level(logging.INFO):
        settings = _load(data_dir)
    assert settings.r2_secret_access_key == SECRET
    assert SECRET not in toml.read_text(encoding="utf-8")
    assert 'r2_bucket_name = "media"' in toml.read_text(encoding="utf-8")
    assert (data_dir / "secrets" / "r2_secret_access_key").read_text() == SECRET
    assert SECRET not in caplog.text


def test_clearing_the_secret_removes_it(data_dir: Path) -> None:
    settings = _load(data_dir).replace(**R2)
    save_settings(settings, settings.config_file)
    cleared = settings.replace(
        r2_endpoint_url="", r2_bucket_name="", r2_access_key_id="", r2_secret_access_key=""
    )
    save_settings(cleared, cleared.config_file)
    assert not (data_dir / "secrets" / "r2_secret_access_key").exists()
    assert _load(data_dir).r2_secret_access_key == ""


def test_with_a_system_keyring_the_secret_goes_there_and_no_file_is_left(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEDIADESK_SECRETS", raising=False)
    with memory_keyring() as ring:
        store = SecretStore(data_dir / "secrets")
        store._write_private(data_dir / "secrets" / "r2_secret_access_key", "old")
        assert store.set("r2_secret_access_key", SECRET) == "keyring"
        assert list(ring.items.values()) == [SECRET]
        assert not (data_dir / "secrets" / "r2_secret_access_key").exists()
        assert store.get("r2_secret_access_key") == SECRET
        assert "keyring" in store.location
        other = SecretStore(data_dir.parent / "other" / "secrets")
        assert other.get("r2_secret_access_key") == ""  # one entry per data folder
