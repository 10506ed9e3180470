"""The one home of the modes MediaDesk gives its folders and files, whatever the umask.

A umask of 0000 made every folder 0777 and every file 0666: another local user could swap the
data folder's contents (secrets/ included). Modes are therefore set explicitly, never left to
the umask:

- the data folder and secrets/: 0700, secret files 0600 (owner only);
- content folders (objects/, cache/, tmp/, logs/ and everything below): 0750, files 0640.
  The group bits give nothing by default — the data folder (0700) stops everyone but the owner
  before any of them is reached. They exist for nginx in front (server/nginx_conf.py), which
  sends objects/ files itself as its own user: the admin adds nginx's user to MediaDesk's
  group and opens the data folder to that group (0710); every file and folder MediaDesk
  writes is then readable by that group and nobody else, without a chmod after each upload.
  A team worker on the same machine runs as the same user and needs no group at all.

A folder that already exists and is open to others (made under an older version) is closed to
them on the next start (tighten_dir); one an admin already closed to others keeps its group bits.
"""

from __future__ import annotations

import errno
import logging
import os
import stat
from pathlib import Path

logger = logging.getLogger(__name__)

PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
DIR_MODE = 0o750
FILE_MODE = 0o640
_LOOSE = 0o027  # group write, everything for others
# A chmod the file system refuses (read-only disk, chattr +i, rights) rather than a fault.
_REFUSED = frozenset({errno.EROFS, errno.EPERM, errno.EACCES})


def _chmod_dir(path: Path, mode: int) -> None:
    # Keep a setgid bit (an admin's `chmod g+s objects/` so new files get nginx's group).
    current = path.stat().st_mode
    wanted = mode | (current & stat.S_ISGID)
    if stat.S_IMODE(current) != wanted:
        os.chmod(path, wanted)


def make_dirs(path: Path, mode: int = DIR_MODE) -> Path:
    """`mkdir -p` where every folder it creates gets `mode` (not the umask's idea of it)."""
    path = Path(path)
    missing: list[Path] = []
    probe = path
    while not probe.exists():
        missing.append(probe)
        if probe.parent == probe:
            break
        probe = probe.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder, mode)
        except FileExistsError:
            continue  # another process made it: it gave it the same mode
        _chmod_dir(folder, mode)
    if not missing:
        path.mkdir(parents=True, exist_ok=True)  # raises the usual error if a file is there
    return path


def tighten_dir(path: Path, mode: int = DIR_MODE, keep_group: bool = True) -> None:
    """An existing folder gets `mode` when others have any bit on it (the umask decided it,
    nobody restricted it on purpose); a folder already closed to others keeps the group bits an
    admin gave it (nginx's set-up: 0710 on the data folder), minus group write. Without
    `keep_group` (secrets/) it gets exactly `mode`."""
    if os.name == "nt":
        return
    path = Path(path)
    st = path.stat()
    if st.st_uid != os.geteuid():
        # Not ours to chmod (a shared mount, a folder made by root): say so, keep going.
        logger.warning("%s belongs to another user; its mode is left as it is", path)
        return
    current = stat.S_IMODE(st.st_mode) & 0o777
    open_to_others = bool(current & 0o007)
    wanted = mode if not keep_group or open_to_others else (current & ~0o020) | 0o700
    if current != wanted:
        try:
            _chmod_dir(path, wanted)
        except OSError as exc:
            if exc.errno not in _REFUSED:
                raise
            # A read-only disk, an immutable folder: whether it can be used at all is for the
            # checks after this one to say, in one line (exit 2), not a traceback from here. A
            # folder still writable (a share that refuses modes) goes on open: say that.
            writable = os.access(path, os.W_OK)
            logger.log(
                logging.WARNING if writable else logging.DEBUG,
                "%s cannot be given mode %o (%s); its mode is left as it is",
                path,
                wanted,
                exc.strerror or exc,
            )


def set_file_mode(target: int | Path, mode: int = FILE_MODE) -> None:
    """Gives a file (an open descriptor, or a path) its mode."""
    if os.name == "nt":
        return
    if isinstance(target, int):
        os.fchmod(target, mode)
    else:
        os.chmod(target, mode)
