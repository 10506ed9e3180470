"""Where MediaDesk keeps its files: platformdirs folders, or everything under MEDIADESK_DATA_DIR."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

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
        make_dirs(self.data_dir, PRIVATE_DIR_MODE)
        tighten_dir(self.data_dir, PRIVATE_DIR_MODE)
        for folder in (self.objects_dir, self.logs_dir, self.cache_dir, self.tmp_dir):
            make_dirs(folder, DIR_MODE)
            tighten_dir(folder, DIR_MODE)
        ensure_secrets_dir(self.secrets_dir)
        return self


def default_paths(data_dir: str | None = None, config_dir: str | None = None) -> DataPaths:
    """Platformdirs folders, or everything (config too) under an explicit data folder."""
    if data_dir:
        base = Path(data_dir).expanduser().resolve()
        return DataPaths(data_dir=base, config_dir=Path(config_dir) if config_dir else base)
    return DataPaths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config_dir=Path(config_dir or platformdirs.user_config_dir(APP_NAME, appauthor=False)),
    )
