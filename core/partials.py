"""Who owns a partial file: the one home of the rule that decides when a `.part` may go.

An unfinished write (an upload being spooled, an object being written, a download for a
confirm) leaves a partial file behind when its process is killed. Age and name cannot tell a
dead writer's file from a live one's: a 20 GB upload on bad Wi-Fi is old and alive, a file of a
process killed a second ago is young and dead. So ownership is explicit:

- every process that writes partial files holds an exclusive `flock` on its own lock file,
  `.<tmp>-owners/<token>.lock` next to the temp folder, for as long as it lives (the kernel
  drops the lock when the process dies, however it dies), and removes that file at a normal
  exit (a killed process's file goes with the next sweep);
- every partial file carries its owner's token in its name (`…own-<token>…`);
- a sweep removes a partial file when its token's lock file can be locked (its owner is dead),
  is missing, or the name carries no token at all (written before this rule existed).

The sweep never removes the partial files of a live process, this one included.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import secrets
import threading
from collections.abc import Iterable
from pathlib import Path

from core.fsmodes import make_dirs

try:  # POSIX; elsewhere ownership falls back to "owned while this process runs"
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

TOKEN = secrets.token_hex(8)  # this process
_TOKEN_RE = re.compile(r"own-([0-9a-f]{16})")
_guard = threading.Lock()
_held: dict[Path, int] = {}  # registry folder -> fd of our locked owner file
_registered_by: int | None = None  # the pid that took the locks in _held


def tag() -> str:
    """The name fragment that marks a partial file as this process's."""
    return f"own-{TOKEN}"


def owner_of(name: str) -> str | None:
    """The owner token in a partial file's name (the last one: object names come first)."""
    found = _TOKEN_RE.findall(name)
    return found[-1] if found else None


def owners_dir(registry: Path) -> Path:
    """The owner locks of `registry` (a temp folder): beside it, so it holds partials only."""
    registry = Path(registry)
    return registry.with_name(f".{registry.name}-owners")


def register(registry: Path) -> None:
    """Holds this process's owner lock for `registry` (once); call before creating partials."""
    folder = owners_dir(registry)
    with _guard:
        if folder in _held:
            return
        make_dirs(folder)
        path = folder / f"{TOKEN}.lock"
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            if fcntl is not None:
                fcntl.flock(fd, fcntl.LOCK_EX)
            # A sweep may have removed the file between open and flock: lock a linked one.
            try:
                linked = os.fstat(fd).st_ino == os.stat(path).st_ino
            except FileNotFoundError:
                linked = False
            if linked:
                break
            os.close(fd)
        _held[folder] = fd
        global _registered_by
        if _registered_by is None:
            _registered_by = os.getpid()
            atexit.register(release_all)


def release_all() -> None:
    """Removes this process's owner lock files, at its exit.

    A lock file outlived every process that exited normally (the kernel drops the lock, not the
    file): one more per `mediadesk doctor` run, until a later sweep. Unlinking it while still
    holding it is what a sweep does to a dead owner's, so a partial file this process left is
    swept as a dead writer's. A forked child shares the token but not the locks' ownership: it
    must not remove its parent's files.
    """
    global _registered_by
    with _guard:
        if _registered_by != os.getpid():
            return
        for folder, fd in list(_held.items()):
            with contextlib.suppress(OSError):
                os.unlink(folder / f"{TOKEN}.lock")
            with contextlib.suppress(OSError):
                os.close(fd)
        _held.clear()
        _registered_by = None


def _alive(folder: Path, token: str) -> bool:
    """True while the process that owns `token` holds its lock in `folder`."""
    if token == TOKEN:
        return True
    path = folder / f"{token}.lock"
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    try:
        if fcntl is None:  # pragma: no cover - no way to ask; never remove another's file
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        # We hold the dead owner's lock: its file can go (unlinking under the lock is safe,
        # register() re-checks the link after locking).
        with contextlib.suppress(OSError):
            os.unlink(path)
        return False
    finally:
        os.close(fd)


def owner_alive(registry: Path, name: str) -> bool:
    """True while the owner named in `name` lives: for what `sweep` cannot remove (folders)."""
    token = owner_of(name)
    return token is not None and _alive(owners_dir(registry), token)


def sweep(registry: Path, candidates: Iterable[Path], *, dry_run: bool = False) -> list[Path]:
    """Removes every candidate partial file whose owner is dead; returns those files.

    `dry_run` only lists them (the reconcile check).
    """
    folder = owners_dir(registry)
    verdicts: dict[str, bool] = {}
    removed: list[Path] = []
    for path in candidates:
        token = owner_of(path.name)
        if token is not None:
            if token not in verdicts:
                verdicts[token] = _alive(folder, token)
            if verdicts[token]:
                continue
        if dry_run:
            removed.append(path)
            continue
        try:
            path.unlink()
        except FileNotFoundError:
            continue
        except OSError as exc:
            logger.warning("Cannot remove the partial file %s: %s", path, exc)
            continue
        removed.append(path)
    if dry_run:
        return removed
    _sweep_owner_files(folder)
    if removed:
        logger.info("Removed %d partial files of writers that are gone", len(removed))
    return removed


def _sweep_owner_files(folder: Path) -> None:
    """Lock files of dead owners with no partial files left are removed too."""
    if not folder.is_dir():
        return
    for lock in folder.glob("*.lock"):
        _alive(folder, lock.stem)


PART_MARK = ".part"


def tmp_candidates(tmp_dir: Path) -> list[Path]:
    """The partial files directly in the temp folder: `.part` in the name, whatever else.

    (`x.part.1a2b3c4d` is boto3's own temp file of a download into `x.part`.) Other files and
    sub-folders there belong to features that keep state across restarts.
    """
    if not tmp_dir.is_dir():
        return []
    return [
        p for p in tmp_dir.iterdir() if PART_MARK in p.name and p.is_file() and not p.is_symlink()
    ]
