"""Where MediaDesk keeps its files: platformdirs folders, or everything under MEDIADESK_DATA_DIR."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass, field
from pathlib import Path

import platformdirs

from core.errors import SettingsError
from core.fsmodes import DIR_MODE, PRIVATE_DIR_MODE, make_dirs, tighten_dir
from core.secrets import ensure_secrets_dir

APP_NAME = "MediaDesk"


@dataclass(frozen=True)
class DataDirSource:
    """Where the data folder's value came from, so that a refusal names the place to fix it:
    `kind` is "flag" (--data-dir), "env" (MEDIADESK_DATA_DIR), "file" (data_dir in
    `settings_file`) or "" (the default folder of the user's account)."""

    kind: str = ""
    settings_file: str = ""

    @property
    def hint(self) -> str:
        if self.kind == "file":
            return f"Check data_dir in {self.settings_file}"
        return "Check --data-dir or MEDIADESK_DATA_DIR"


@dataclass(frozen=True)
class DataPaths:
    """The folders and files MediaDesk writes."""

    data_dir: Path
    config_dir: Path
    source: DataDirSource = field(default=DataDirSource(), compare=False)

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
        check_data_dir(self.data_dir, self.source)
        try:
            make_dirs(self.data_dir, PRIVATE_DIR_MODE)
        except OSError as exc:
            # a mistyped --data-dir (under a file, a read-only or missing mount) ended every
            # command with a traceback from mkdir
            raise _unusable(
                self.data_dir, _unmade(self.data_dir, exc, self.data_dir), self.source
            ) from None
        tighten_dir(self.data_dir, PRIVATE_DIR_MODE)
        for folder in (self.objects_dir, self.logs_dir, self.cache_dir, self.tmp_dir):
            try:
                make_dirs(folder, DIR_MODE)
                tighten_dir(folder, DIR_MODE)
            except OSError as exc:
                # a file in the way, a read-only data folder: every command ended in a traceback
                raise _unusable(self.data_dir, _unmade(folder, exc), self.source) from None
        try:
            ensure_secrets_dir(self.secrets_dir)
        except OSError as exc:
            raise _unusable(self.data_dir, _unmade(self.secrets_dir, exc), self.source) from None
        return self

    @property
    def subfolders(self) -> tuple[Path, ...]:
        """The folders ensure() makes in the data folder."""
        return (self.objects_dir, self.logs_dir, self.cache_dir, self.tmp_dir, self.secrets_dir)


# SettingsError's reason for a data folder that cannot be used; `details` say which ("path"),
# why ("cause", below, with the "folder" it concerns, a broken link's "target", a failed
# mkdir's "errno" name and "error" text) and where it was set ("source", "settings_file"):
# the desktop app words each in the user's language.
DATA_DIR_UNUSABLE = "data_dir_unusable"
IS_FILE = "is_file"  # the data folder is a file
UNDER_FILE = "under_file"  # a file stands on its path ("folder" names it)
SUBFOLDER_FILE = "subfolder_file"  # a file where a subfolder goes
BROKEN_LINK = "broken_link"  # a subfolder is a link to something that does not exist
CANNOT_MAKE = "cannot_make"  # mkdir failed ("errno" names the system's code, e.g. EACCES)
# an existing data folder this user may not enter or list ("owner" is its owner's name, "user"
# the one MediaDesk runs as; core.settings.cannot_read)
CANNOT_READ = "cannot_read"


@dataclass(frozen=True)
class _Why:
    """One cause: the English text of the message, and the details that name it."""

    text: str
    cause: str
    folder: Path
    target: str = ""
    errno_name: str = ""
    error: str = ""  # the system's words for a failed mkdir

    def details(self) -> dict[str, str]:
        found = {"cause": self.cause, "folder": str(self.folder)}
        for key, value in (
            ("target", self.target),
            ("errno", self.errno_name),
            ("error", self.error),
        ):
            if value:
                found[key] = value
        return found


def check_data_dir(data_dir: Path, source: DataDirSource | None = None) -> None:
    """Refuses a data folder that is a file, or lies under one, before anything reads in it:
    a mistyped --data-dir (a media file's path) ended every command with a traceback."""
    probe = Path(data_dir)
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if probe.exists() and not probe.is_dir():
        if probe == Path(data_dir):
            why = _Why("it is a file, not a folder", IS_FILE, probe)
        else:
            why = _Why(f"it is under {probe}, which is a file", UNDER_FILE, probe)
        raise _unusable(data_dir, why, source)
    if probe == Path(data_dir):
        # Before the settings read secrets/ (NotADirectoryError there when it is a file)
        for folder in DataPaths(data_dir=probe, config_dir=probe).subfolders:
            in_the_way = _in_the_way(folder)
            if in_the_way:
                raise _unusable(data_dir, in_the_way, source)


def _in_the_way(folder: Path) -> _Why | None:
    """What stands where a subfolder goes (a file, a link to a disk not mounted), if anything."""
    try:
        if folder.is_symlink() and not folder.exists():
            target = os.readlink(folder)
            return _Why(
                f"{folder} is a link to {target}, which does not exist",
                BROKEN_LINK,
                folder,
                target=str(target),
            )
        if folder.exists() and not folder.is_dir():
            return _Why(f"{folder} is a file, not a folder", SUBFOLDER_FILE, folder)
    except OSError:
        return None  # unreadable: mkdir says why
    return None


def _unmade(folder: Path, exc: OSError, data_dir: Path | None = None) -> _Why:
    found = _in_the_way(folder)
    if found:
        return found
    cause = exc.strerror or str(exc)
    text = cause if folder == data_dir else f"{folder} cannot be made: {cause}"
    name = errno.errorcode.get(exc.errno or 0, "")
    return _Why(text, CANNOT_MAKE, folder, errno_name=name, error=cause)


def _unusable(data_dir: Path, why: _Why, source: DataDirSource | None = None) -> SettingsError:
    source = source or DataDirSource()
    return SettingsError(
        f"The data folder {data_dir} cannot be used: {why.text}. {source.hint}",
        reason=DATA_DIR_UNUSABLE,
        details={
            "path": str(data_dir),
            **why.details(),
            "source": source.kind,
            "settings_file": source.settings_file,
        },
    )


def user_config_dir() -> Path:
    """The user's MediaDesk settings folder (`~/.config/MediaDesk` on Linux, under
    XDG_CONFIG_HOME when set): settings.toml and window-state.ini unless MEDIADESK_DATA_DIR
    holds them, and always the tokens `mediadesk login` saves (the user's, not a data
    folder's). One spelling for all: the client once wrote `mediadesk`, a second folder on
    Linux (the same one on file systems that ignore case)."""
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def default_paths(
    data_dir: str | None = None,
    config_dir: str | None = None,
    source: DataDirSource | None = None,
) -> DataPaths:
    """Platformdirs folders, or everything (config too) under an explicit data folder."""
    source = source or DataDirSource()
    if data_dir:
        base = Path(data_dir).expanduser().resolve()
        return DataPaths(
            data_dir=base, config_dir=Path(config_dir) if config_dir else base, source=source
        )
    return DataPaths(
        data_dir=Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)),
        config_dir=Path(config_dir) if config_dir else user_config_dir(),
        source=source,
    )
