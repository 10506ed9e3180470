"""Secrets (the R2 secret key) live outside settings.toml.

With a working system keyring (the `keyring` package: Secret Service, macOS Keychain, Windows
Credential Locker) a secret is kept there; otherwise in a file readable only by its owner
(0600) in the data folder's `secrets/` directory (0700), written atomically. settings.toml never
holds a secret: one found there (written by an older version or by hand) is moved out on load.
The environment variable (R2_SECRET_ACCESS_KEY) still wins, for servers configured that way.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

logger = logging.getLogger(__name__)

SECRET_FIELDS = ("r2_secret_access_key",)
SERVICE = "MediaDesk"


def _keyring() -> object | None:
    """The system keyring, or None when there is none (headless Linux, the test suite)."""
    if os.environ.get("MEDIADESK_SECRETS") == "file":
        return None
    try:
        import keyring
        from keyring.backends import fail, null
    except ImportError:
        return None
    try:
        backend = keyring.get_keyring()
    except Exception:  # noqa: BLE001 - a broken keyring setup means: use the file
        return None
    if isinstance(backend, fail.Keyring | null.Keyring) or getattr(backend, "priority", 0) <= 0:
        return None
    return backend


class SecretStore:
    """Secrets of one data folder."""

    def __init__(self, secrets_dir: Path) -> None:
        self.dir = Path(secrets_dir)
        # One keyring entry per data folder: two libraries on one machine never share keys.
        self._user = str(self.dir.parent.resolve())

    @property
    def location(self) -> str:
        """Where secrets are kept, for the README and the settings dialog."""
        backend = _keyring()
        if backend is not None:
            return f"system keyring ({type(backend).__name__})"
        return str(self.dir)

    def _file(self, name: str) -> Path:
        return self.dir / name

    def get(self, name: str) -> str:
        backend = _keyring()
        if backend is not None:
            try:
                value = backend.get_password(SERVICE, f"{name}@{self._user}")  # type: ignore[attr-defined]
                if value:
                    return str(value)
            except Exception as exc:  # noqa: BLE001 - fall back to the file
                logger.warning("The system keyring could not be read (%s)", type(exc).__name__)
        try:
            return self._file(name).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return ""

    def set(self, name: str, value: str) -> str:
        """Stores `value` ("" deletes it); returns where it went ("keyring" or "file")."""
        if not value:
            self.delete(name)
            return ""
        backend = _keyring()
        if backend is not None:
            try:
                backend.set_password(SERVICE, f"{name}@{self._user}", value)  # type: ignore[attr-defined]
                self._remove_file(name)  # never two copies that could disagree
                return "keyring"
            except Exception as exc:  # noqa: BLE001 - fall back to the file
                logger.warning("The system keyring refused a secret (%s)", type(exc).__name__)
        self._write_private(self._file(name), value)
        return "file"

    def delete(self, name: str) -> None:
        backend = _keyring()
        if backend is not None:
            with contextlib.suppress(Exception):  # nothing stored there
                backend.delete_password(SERVICE, f"{name}@{self._user}")  # type: ignore[attr-defined]
        self._remove_file(name)

    def _remove_file(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._file(name).unlink()

    def _write_private(self, path: Path, value: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(path.parent, 0o700)
        tmp = path.with_name(f".{path.name}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        # Created 0600 from the start: there is no moment where others could read it.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, value.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
