"""Where `mediadesk login` keeps tokens: a 0600 JSON file in the user's config folder."""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

import platformdirs

from core.fsmodes import PRIVATE_DIR_MODE, make_dirs
from core.paths import user_config_dir

FILE_NAME = "credentials.json"
DEFAULT_SERVER = "http://127.0.0.1:8765"
# The folder name tokens were saved under before they joined the desktop's settings (on Linux
# ~/.config/mediadesk next to ~/.config/MediaDesk): still read, moved at the next save.
OLD_FOLDER_NAME = "mediadesk"


def credentials_path() -> Path:
    return user_config_dir() / FILE_NAME


def _old_path() -> Path:
    return Path(platformdirs.user_config_dir(OLD_FOLDER_NAME, appauthor=False)) / FILE_NAME


def _load() -> dict[str, Any]:
    path = credentials_path()
    if not path.exists():
        path = _old_path()  # saved by an older version, not yet moved
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save_token(server: str, token: str) -> Path:
    """Saves the token for `server` (and makes it the default server), atomically, 0600."""
    path = credentials_path()
    # Every missing folder, not only the last, is 0700 whatever the umask: mkdir(parents=True)
    # gave ~/.config 0777 under umask 000, and whoever can rename our folder away can plant a
    # credentials file pointing at their own server.
    make_dirs(path.parent, PRIVATE_DIR_MODE)
    data = _load()
    known = data.get("servers")
    servers: dict[str, str] = dict(known) if isinstance(known, dict) else {}
    servers[server.rstrip("/")] = token
    data.update(servers=servers, default_server=server.rstrip("/"))
    # created 0600 before a byte is written, so the secret is never readable by others
    fd, tmp = tempfile.mkstemp(prefix=".credentials-", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(data, fh, indent=2)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _forget_old_file(path)
    return path


def _forget_old_file(saved: Path) -> None:
    """Removes the file an older version saved (its tokens are in `saved` now), and its folder
    if that is left empty. Where case is ignored (macOS, Windows) it is `saved` itself."""
    old = _old_path()
    with contextlib.suppress(FileNotFoundError):
        if os.path.samefile(old, saved):
            return
        old.unlink()
        with contextlib.suppress(OSError):
            old.parent.rmdir()  # only when empty


def saved_token(server: str) -> str | None:
    servers = _load().get("servers")
    token = servers.get(server.rstrip("/")) if isinstance(servers, dict) else None
    return token if isinstance(token, str) else None


def default_server() -> str:
    server = os.environ.get("MEDIADESK_SERVER") or _load().get("default_server")
    return str(server) if server else DEFAULT_SERVER
