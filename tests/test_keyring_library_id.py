"""With a system keyring, the R2 secret key goes with the library, not with the path of its data
folder. Its entry was named after the folder's absolute path, so a copy of the folder at another
path (a backup put back elsewhere, README's `--data-dir COPY`, another computer's home) could not
find it: 'R2 storage is partly configured; missing: R2_SECRET_ACCESS_KEY'. The entry is now
named by the id in secrets/library_id, which the copy carries; an entry an older version saved
under the path is found and named by the id too.

Real settings files loaded as a start loads them, real folders copied; the keyring is an
in-memory backend behind the keyring package (tests/keyring_helpers.py)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from core.secrets import SERVICE, SecretStore
from core.settings import Settings, load_settings, save_settings
from tests.keyring_helpers import MemoryKeyring, memory_keyring

SECRET = "r2-secret-that-moves-with-the-library"
R2 = {
    "r2_endpoint_url": "https://acct.r2.cloudflarestorage.com",
    "r2_bucket_name": "club",
    "r2_access_key_id": "AKIA123",
}
NAME = "r2_secret_access_key"


@pytest.fixture
def ring(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    monkeypatch.delenv("MEDIADESK_SECRETS", raising=False)  # conftest keeps tests off keyrings
    with memory_keyring() as backend:
        yield backend


def _folder(root: Path, with_secret: bool) -> Path:
    """A data folder whose settings.toml names an R2 bucket (and the key, as a user who wrote
    it by hand: the first start moves it into the keyring)."""
    folder = root / "A"
    folder.mkdir(mode=0o700)
    values = {**R2, NAME: SECRET} if with_secret else R2
    toml = folder / "settings.toml"
    toml.write_text("".join(f'{k} = "{v}"\n' for k, v in values.items()), encoding="utf-8")
    toml.chmod(0o600)
    return folder


def _start(folder: Path) -> Settings:
    return load_settings(environ={}, config_file=folder / "settings.toml", data_dir=str(folder))


def _copy(folder: Path, to: Path) -> Path:
    shutil.copytree(folder, to, symlinks=True)  # `cp -a`: a backup, a restore, a new laptop
    return to


def test_a_copy_of_the_data_folder_at_another_path_finds_the_r2_key(
    tmp_path: Path, ring: MemoryKeyring
) -> None:
    original = _folder(tmp_path, with_secret=True)
    first = _start(original)
    assert first.r2_secret_access_key == SECRET and first.uses_r2
    assert SECRET not in (original / "settings.toml").read_text(encoding="utf-8")
    assert list(ring.items.values()) == [SECRET]  # in the keyring, once
    assert not (original / "secrets" / NAME).exists()

    for copy in (_copy(original, tmp_path / "restored"), _copy(original, tmp_path / "laptop")):
        started = _start(copy)
        assert started.r2_secret_access_key == SECRET and started.uses_r2, copy
    assert list(ring.items.values()) == [SECRET]


def test_an_entry_saved_under_the_folders_path_is_found_and_then_moves_with_it(
    tmp_path: Path, ring: MemoryKeyring
) -> None:
    original = _folder(tmp_path, with_secret=False)
    by_path = (SERVICE, f"{NAME}@{original.resolve()}")
    ring.items[by_path] = SECRET  # as a version before library ids saved it

    assert _start(original).r2_secret_access_key == SECRET
    assert _start(_copy(original, tmp_path / "restored")).r2_secret_access_key == SECRET
    # kept: a backup of the folder from before ids, put back at this path, has no id
    assert ring.items[by_path] == SECRET

    # a key saved since replaces both: no older copy of it is left to disagree
    settings = _start(original).replace(r2_secret_access_key="a-new-key")
    save_settings(settings, settings.config_file)
    assert by_path not in ring.items and list(ring.items.values()) == ["a-new-key"]
    assert _start(original).r2_secret_access_key == "a-new-key"


def test_two_libraries_keep_their_own_keys(tmp_path: Path, ring: MemoryKeyring) -> None:
    one = SecretStore(tmp_path / "one" / "secrets")
    two = SecretStore(tmp_path / "two" / "secrets")
    assert one.set(NAME, "first") == two.set(NAME, "second") == "keyring"
    assert (one.get(NAME), two.get(NAME)) == ("first", "second")
    two.delete(NAME)
    assert (one.get(NAME), two.get(NAME)) == ("first", "")
