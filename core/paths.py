"""Where MediaDesk keeps its files: platformdirs folders, or everything under MEDIADESK_DATA_DIR."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from core.errors import SettingsError
from core.fsmodes import DIR_MODE, PRIVATE_DIR_MODE, make_dirs, tighten_dir
from core.secrets import ensure_secrets_dir

APP_NAME = "MediaDesk"


@dataclass(frozen=True)
class DataPaths:
    """The folders and files MediaDesk writes."""

    data_dir: Path
    config_dir: Path

    @property
    def objects_dir(self) -> Path:
        return self.data_dir / "objects"

    @property
    def database_file(self) -> Path:
        return self.data_dir / "mediadesk.sqlite3"

    @property
    def secrets_dir(self) -> Path:
        return self.data_dir / "secrets"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    @property
    def tmp_dir(self) -> Path:
        return self.data_dir / "tmp"

    @property
    def settings_file(self) -> Path:
        return self.config_dir / "settings.toml"

    def ensure(self) -> DataPaths:
        """Creates the folders with explicit modes (core/fsmodes.py), and closes ones an older
        version left open to other users."""
        check_data_dir(self.data_dir)
        try:
            make_dirs(self.data_dir, PRIVATE_DIR_MODE)
        except OSError as exc:
            # a mistyped --data-dir (under a file, a read-only or missing mount) ended every
            # command with a traceback from mkdir
            raise _unusable(self.data_dir, exc.strerror or str(exc)) from None
        tighten_dir(self.data_dir, PRIVATE_DIR_MODE)
        for folder in (self.objects_dir, self.logs_dir, self.cache_dir, self.tmp_dir):
            try:
                make_dirs(folder, DIR_MODE)
                tighten_dir(folder, DIR_MODE)
            except OSError as exc:
                # a file in the way, a read-only data folder: every command ended in a traceback
                raise _unusable(self.data_dir, _unmade(folder, exc)) from None
        try:
            ensure_secrets_dir(self.secrets_dir)
        except OSError as exc:
            raise _unusable(self.data_dir, _unmade(self.secrets_dir, exc)) from None
        return self

    @property
    def subfolders(self) -> tuple[Path, ...]:
        """The folders ensure() makes in the data folder."""
        return (self.objects_dir, self.logs_dir, self.cache_dir, self.tmp_dir, self.secrets_dir)


def check_data_dir(data_dir: Path) -> None:
    """Refuses a data folder that is a file, or lies under one, before anything reads in it:
    a mistyped --data-dir (a media file's path) ended every command with a traceback."""
    probe = Path(data_dir)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        where = "is" if probe == Path(data_dir) else f"is under {probe}, which is"
        raise _unusable(data_dir, f"it {where} a file, not a folder")
    if probe == Path(data_dir):
        # Before the settings read secrets/ (NotADirectoryError there when it is a file)
        for folder in DataPaths(data_dir=probe, config_dir=probe).subfolders:
            why = _in_the_way(folder)
            if why:
                raise _unusable(data_dir, why)


def _in_the_way(folder: Path) -> str | None:
    """What stands where a subfolder goes (a file, a link to a disk not mounted), if anything."""
    try:
        if folder.is_symlink() and not folder.exists():
            return f"{folder} is a link to {os.readlink(folder)}, which does not exist"
        if folder.exists() and not folder.is_dir():
            return f"{folder} is a file, not a folder"
    except OSError:
        return None  # unreadable: mkdir says why
    return None


def _unmade(folder: Path, exc: OSError) -> str:
    return _in_the_way(folder) or f"{folder} cannot be made: {exc.strerror or exc}"


def _unusable(data_dir: Path, why: str) -> SettingsError:
    return SettingsError(
        f"The data folder {data_dir} cannot be used: {why}. Check --data-dir or MEDIADESK_DATA_DIR",
        reason="data_dir_unusable",
        details={"path": str(data_dir)},
    )


def user_config_dir() -> Path:
    """The user's MediaDesk settings folder (`~/.config/MediaDesk` on Linux, under
    XDG_CONFIG_HOME when set): settings.toml and window-state.ini unless MEDIADESK_DATA_DIR
    holds them, and always the tokens `mediadesk login` saves (the user's, not a data
    folder's). One spelling for all: the client once wrote `mediadesk`, a second folder on
    Linux (the same one on file systems that ignore case)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_paths(data_dir: str | None = None, config_dir: str | None = None) -> DataPaths:
    """Platformdirs folders, or everything (config too) under an explicit data folder."""
    if data_dir:
        base = Path(data_dir).expanduser().resolve()
        return DataPaths(data_dir=base, config_dir=Path(config_dir) if config_dir else base)
    return DataPaths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config_dir=Path(config_dir) if config_dir else user_config_dir(),
    )
