"""Where MediaDesk keeps its files: platformdirs folders, or everything under MEDIADESK_DATA_DIR."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import platformdirs

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
        for folder in (
            self.data_dir,
            self.objects_dir,
            self.secrets_dir,
            self.logs_dir,
            self.cache_dir,
            self.tmp_dir,
        ):
            folder.mkdir(parents=True, exist_ok=True)
        self.secrets_dir.chmod(0o700)
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
