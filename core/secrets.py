"""Secrets (the R2 secret key) live outside settings.toml.

With a working system keyring (the `keyring` package: Secret Service, macOS Keychain, Windows
Credential Locker) a secret is kept there; otherwise in a file readable only by its owner
(0600) in the data folder's `secrets/` directory (0700), written atomically; a secret file or
folder owned by another user or writable by others is refused (check_private), never adopted.
The secrets are the R2 secret key and the secret parts of a saved DATABASE_URL (its password,
and query parameters such as ?password= and ?sslpassword=). settings.toml never
holds a secret: one found there (written by an older version or by hand) is moved out on load.
The environment variable (R2_SECRET_ACCESS_KEY) still wins, for servers configured that way.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from core.errors import SettingsError
from core.fsmodes import PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, make_dirs, tighten_dir

logger = logging.getLogger(__name__)

SECRET_FIELDS = ("r2_secret_access_key",)
DATABASE_PASSWORD = "database_password"
"""The password of a DATABASE_URL the user saved: settings.toml keeps the URL without it."""
SERVICE = "MediaDesk"
UNSAFE = "unsafe_permissions"


def check_private(path: Path) -> None:
    """Refuses a secret, or the folder holding secrets, that someone else could have put there.

    Owned by another user, or writable by group or others, it may be a key planted to forge
    signed links or to read the catalog elsewhere: SettingsError (reason "unsafe_permissions")
    saying what to fix, rather than a chmod that would adopt it. Missing is fine (created 0600/
    0700 by us). Read bits for others on a file of ours are closed by check_secret_files.
    The details name the file, never its local path: they reach HTTP answers when a key is
    first read by a request (the message, with the path, goes to the log).
    """
    if os.name == "nt":
        return
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return
    kind = "folder" if stat.S_ISDIR(st.st_mode) else "file"
    if st.st_uid != os.geteuid():
        raise SettingsError(
            f"Secret {kind} {path} belongs to user id {st.st_uid}, not to the user MediaDesk "
            f"runs as ({os.geteuid()}): it may have been planted. Remove it (a new key is made; "
            "links signed with the old one stop working) or give it back to this user "
            "(chown) and restrict it (chmod 700 for the folder, 600 for files)",
            reason=UNSAFE,
            details={"name": path.name, "owner": st.st_uid},
        )
    if st.st_mode & 0o022:
        raise SettingsError(
            f"Secret {kind} {path} is writable by other users (mode "
            f"{stat.S_IMODE(st.st_mode):04o}): it may have been replaced. Check it, then "
            "restrict it (chmod 700 for the folder, 600 for files), or remove it",
            reason=UNSAFE,
            details={"name": path.name, "mode": f"{stat.S_IMODE(st.st_mode):04o}"},
        )


def ensure_secrets_dir(folder: Path) -> Path:
    """secrets/: created 0700, refused when someone else owns it or may write to it, and so is
    each file in it (check_secret_files). Every start opens the data folder through here
    (DataPaths.ensure), whatever the storage backend: a key read only later (R2's link-signing
    key, at the first watch link) is refused before the server starts, not at that link."""
    folder = Path(folder)
    check_private(folder)
    make_dirs(folder, PRIVATE_DIR_MODE)
    tighten_dir(folder, PRIVATE_DIR_MODE, keep_group=False)
    check_secret_files(folder)
    return folder


def check_secret_files(folder: Path) -> None:
    """Every entry of secrets/ under check_private, whatever it keeps; a file of ours only
    readable by others (an older version's, a copy made by hand) is closed to 0600."""
    if os.name == "nt":
        return
    for path in sorted(Path(folder).iterdir()):
        check_private(path)
        try:
            # lstat: a chmod through a link would close whatever it names (this process may be
            # root: /etc/passwd made 0600 stops every other user's programs); a link is left
            st = os.lstat(path)
        except FileNotFoundError:
            continue  # a writer's temporary file, renamed or removed meanwhile
        if stat.S_ISLNK(st.st_mode):
            _check_linked(path)
            continue
        if stat.S_ISREG(st.st_mode) and st.st_mode & 0o077:
            with contextlib.suppress(FileNotFoundError):
                os.chmod(path, PRIVATE_FILE_MODE)
            logger.info("Secret file %s was readable by other users; now 0600", path.name)


def _check_linked(path: Path) -> None:
    """A secret kept elsewhere through a link (an admin's choice) is not chmod-ed through it,
    so one readable by others is refused rather than closed: it may be a key others can copy
    to forge signed links."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return  # a dangling link: whatever reads that secret says it is missing
    if stat.S_ISREG(st.st_mode) and st.st_mode & 0o077:
        raise SettingsError(
            f"Secret file {path} is a link to {os.path.realpath(path)}, which other users can "
            f"read (mode {stat.S_IMODE(st.st_mode):04o}); MediaDesk does not change a file "
            "through a link: restrict it (chmod 600) or put the file itself in secrets/",
            reason=UNSAFE,
            details={"name": path.name, "mode": f"{stat.S_IMODE(st.st_mode):04o}"},
        )


SECRETS_ENV = "MEDIADESK_SECRETS"
FILE_MODE = "file"


def check_secrets_mode(environ: Mapping[str, str]) -> None:
    """MEDIADESK_SECRETS is unset (or empty) or "file": "files" or "FILE" kept the secrets in
    the keyring without a word, the opposite of what was asked."""
    value = environ.get(SECRETS_ENV, "")
    if value not in ("", FILE_MODE):
        raise SettingsError(
            f"Setting {SECRETS_ENV}: {value!r} is not a choice; set it to 'file' to keep "
            "secrets in the data folder's secrets/, or leave it unset for the system keyring"
        )


def _keyring() -> object | None:
    """The system keyring, or None when there is none (headless Linux, the test suite)."""
    if os.environ.get(SECRETS_ENV) == FILE_MODE:
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


LIBRARY_ID_FILE = "library_id"
"""secrets/library_id: the name of this library's entries in the system keyring. It is in the
data folder, so a copy of the folder (a backup put back, `--data-dir COPY`, another computer)
finds the same entries wherever it now lives."""
_LIBRARY_ID = re.compile(r"[0-9a-f]{32}")


class SecretStore:
    """Secrets of one data folder."""

    def __init__(self, secrets_dir: Path) -> None:
        self.dir = Path(secrets_dir)
        # Before library ids, an entry was named after the data folder's absolute path: the
        # folder at a new path (a restore elsewhere, another computer) lost its secrets
        self._path_user = str(self.dir.parent.resolve())

    @property
    def location(self) -> str:
        """Where secrets are kept, for the README and the settings dialog."""
        backend = _keyring()
        if backend is not None:
            return f"system keyring ({type(backend).__name__})"
        return str(self.dir)

    def _file(self, name: str) -> Path:
        return self.dir / name

    def library_id(self, create: bool = False) -> str:
        """This library's id from secrets/library_id ("" when it has none), made with
        `create`: 32 random hex digits, written under a temporary name and linked in, so two
        processes making it at once keep the same one. A file that holds no id (emptied,
        edited by hand) is replaced when `create`."""
        path = self._file(LIBRARY_ID_FILE)
        check_private(self.dir)
        check_private(path)
        with contextlib.suppress(FileNotFoundError):
            found = path.read_text(encoding="ascii", errors="replace").strip()
            if _LIBRARY_ID.fullmatch(found):
                return found
            if not create:
                return ""
            logger.warning("%s holds no library id; a new one is made", path)
            path.unlink()
        if not create:
            return ""
        ensure_secrets_dir(self.dir)
        tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        try:
            with os.fdopen(fd, "w", encoding="ascii") as out:
                out.write(secrets.token_hex(16) + "\n")
                out.flush()
                os.fsync(out.fileno())
            try:
                os.link(tmp, path)
            except FileExistsError:
                pass  # another process made it first: its id is this library's
            except OSError:  # a file system without hard links
                os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        _sync_dir(self.dir)
        return self.library_id()

    def _entry(self, name: str, library_id: str) -> str:
        return f"{name}@library-{library_id}"

    def get(self, name: str) -> str:
        backend = _keyring()
        if backend is not None:
            try:
                value = self._from_keyring(backend, name)
                if value:
                    return value
            except SettingsError:
                raise
            except Exception as exc:  # noqa: BLE001 - fall back to the file
                logger.warning("The system keyring could not be read (%s)", type(exc).__name__)
        path = self._file(name)
        check_private(self.dir)
        check_private(path)
        try:
            return path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return ""

    def _from_keyring(self, backend: Any, name: str) -> str:
        """The entry under this library's id; else one an older version saved under the data
        folder's path, which is then saved under the id too (the path's entry is kept, for a
        backup of the folder from before ids put back at that path: it has no id)."""
        library_id = self.library_id()
        if library_id:
            value = backend.get_password(SERVICE, self._entry(name, library_id))
            if value:
                return str(value)
        value = backend.get_password(SERVICE, f"{name}@{self._path_user}")
        if not value:
            return ""
        try:
            entry = self._entry(name, library_id or self.library_id(create=True))
            backend.set_password(SERVICE, entry, str(value))
        except OSError as exc:  # a read-only data folder: the path's entry goes on serving
            logger.warning("Could not give this library an id (%s)", exc)
        return str(value)

    def set(self, name: str, value: str) -> str:
        """Stores `value` ("" deletes it); returns where it went ("keyring" or "file")."""
        if not value:
            self.delete(name)
            return ""
        backend = _keyring()
        if backend is not None:
            try:
                entry = self._entry(name, self.library_id(create=True))
                backend.set_password(SERVICE, entry, value)  # type: ignore[attr-defined]
                # never two copies that could disagree: not the file, nor the path's entry
                self._remove_file(name)
                with contextlib.suppress(Exception):  # nothing stored there
                    backend.delete_password(SERVICE, f"{name}@{self._path_user}")  # type: ignore[attr-defined]
                return "keyring"
            except SettingsError:
                raise
            except Exception as exc:  # noqa: BLE001 - fall back to the file
                logger.warning("The system keyring refused a secret (%s)", type(exc).__name__)
        self._write_private(self._file(name), value)
        return "file"

    def delete(self, name: str) -> None:
        backend = _keyring()
        if backend is not None:
            library_id = self.library_id()
            entries = [f"{name}@{self._path_user}"]
            if library_id:
                entries.append(self._entry(name, library_id))
            for entry in entries:
                with contextlib.suppress(Exception):  # nothing stored there
                    backend.delete_password(SERVICE, entry)  # type: ignore[attr-defined]
        self._remove_file(name)

    def _remove_file(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._file(name).unlink()

    def _write_private(self, path: Path, value: str) -> None:
        ensure_secrets_dir(path.parent)
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
        _sync_dir(path.parent)


def _sync_dir(folder: Path) -> None:
    """A file made or renamed in `folder` survives a crash once the folder is synced."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


# SQLAlchemy's reading of a database URL (sqlalchemy.engine.url._parse_url, 2.x), copied: the
# secrets are cut out where SQLAlchemy, which hands the pieces to the driver, finds them, and
# the URL kept as written around them (tests/test_database_url_secrets.py checks both agree).
_URL = re.compile(
    r"""
        (?P<name>[\w\+]+)://
        (?:
            (?P<username>[^:/]*)
            (?::(?P<password>[^@]*))?
        @)?
        (?:
            (?:
                \[(?P<ipv6host>[^/\?]+)\] |
                (?P<ipv4host>[^/:\?]+)
            )?
            (?::(?P<port>[^/\?]*))?
        )?
        (?:/(?P<database>[^\?]*))?
        (?:\?(?P<query>.*))?
        """,
    re.X | re.S,
)
DATABASE_QUERY_SECRETS = "database_query_secrets"
"""The secret query parameters of a saved DATABASE_URL (`password=…&sslpassword=…`, as written):
SQLAlchemy's psycopg dialect hands every query parameter to libpq, which takes `password`,
`sslpassword` (the client key's passphrase) and `oauth_client_secret` there too."""
HIDDEN = "***"  # what a shown URL has in a secret's place (SQLAlchemy's hide_password's mark)
UNREADABLE_URL = (
    "Setting DATABASE_URL: the URL cannot be read one way only: an '@' or '?' inside the user "
    "name or password must be percent-encoded ('@' as %40, '?' as %3F: p@ss is written "
    "p%40ss), and a query needs the database name before it (postgresql+psycopg://host/db?...)"
)
"""Said without the URL, which holds the password."""


def _secret_param(pair: str) -> bool:
    """A query parameter that holds a secret, named as SQLAlchemy decodes it (`pass%77ord=` is
    `password=`), in any case: password, sslpassword, oauth_client_secret, and any newer libpq
    parameter named so."""
    name = unquote_plus(pair.split("=", 1)[0]).lower()
    return "password" in name or "secret" in name


def _read_url(url: str) -> re.Match[str] | None:
    """SQLAlchemy's reading of `url` (None when it is none: no `scheme://`). SettingsError
    (UNREADABLE_URL) when a raw '@' or '?' makes it read a password as a host, a port or a
    user name: `md:p@ss@host` is user md, password p, host ss@host to SQLAlchemy, and
    `host?password=p@ss` a user named "host?password=p" (browsers and urllib take the last
    '@' instead), so the password would go to the settings file or the screen in pieces."""
    match = _URL.match(url)
    if match is None:
        return None
    after_user = "".join(match[g] or "" for g in ("ipv6host", "ipv4host", "port"))
    if "@" in after_user or "?" in (match["username"] or ""):
        raise SettingsError(UNREADABLE_URL)
    return match


def check_database_url(url: str) -> None:
    """SettingsError (UNREADABLE_URL) for a URL whose secrets cannot be told apart."""
    _read_url(url)


def split_database_secrets(url: str) -> tuple[str, str, str]:
    """(the URL without its secrets, its password, its secret query parameters), the secrets
    exactly as written (percent-encoded or not); "" for each it does not hold:
    `postgresql+psycopg://md:pw@h/db?sslmode=require&password=pw2` gives
    (`postgresql+psycopg://md@h/db?sslmode=require`, `pw`, `password=pw2`)."""
    match = _read_url(url)
    if match is None:
        return url, "", ""
    bare, password = url, ""
    if match["query"] is not None:
        start = match.start("query")
        pairs = match["query"].split("&")
        kept = "&".join(p for p in pairs if not _secret_param(p))
        secret = "&".join(p for p in pairs if _secret_param(p))
        if secret:
            # "?" goes with the last parameter: a URL with none left keeps none
            bare = url[:start] + kept if kept else url[: start - 1]
    else:
        secret = ""
    if match["password"]:
        password = match["password"]
        bare = bare[: match.start("password") - 1] + bare[match.end("password") :]
    return bare, password, secret


def join_database_secrets(url: str, password: str, query: str) -> str:
    """`url` with stored secrets put back: the password after its user name when it names a
    user without one, the query parameters when it holds none of them. A URL that cannot be
    read is left as it is (validate() says why)."""
    try:
        match = _read_url(url)
    except SettingsError:
        return url
    if match is None:
        return url
    if query and not any(_secret_param(p) for p in (match["query"] or "").split("&")):
        if match["query"] is None:
            url += f"?{query}"
        else:
            url += f"&{query}" if match["query"] else query
    if password and match["username"] is not None and match["password"] is None:
        end = match.end("username")
        url = f"{url[:end]}:{password}{url[end:]}"
    return url


def shown_database_url(url: str) -> str:
    """`url` fit to show (`mediadesk doctor`, a tooltip, a log line): its password and secret
    query parameters replaced by ***, everything else as written; one that cannot be read
    shows its scheme alone, since where its password ends is not known."""
    try:
        match = _read_url(url)
    except SettingsError:
        return url.split("://", 1)[0] + f"://{HIDDEN}"
    if match is None:
        return url
    shown = url
    if match["query"] is not None:
        pairs = [
            f"{p.split('=', 1)[0]}={HIDDEN}" if _secret_param(p) else p
            for p in match["query"].split("&")
        ]
        shown = shown[: match.start("query")] + "&".join(pairs)
    if match["password"]:
        shown = shown[: match.start("password")] + HIDDEN + shown[match.end("password") :]
    return shown
