"""What the disk under a SQLite catalog allows: a memory map, and WAL's shared memory.

SQLite reads a catalog through a memory map (PRAGMA mmap_size) and, in WAL mode, keeps its
index of the -wal file in the -shm file, which every connection maps too. A page of a map that
the file system cannot deliver (a network share that dropped, a USB disk pulled out, a FUSE
file system whose reads fail) is a SIGBUS, which ends the whole process: SQLite cannot turn it
into an error (https://sqlite.org/mmap.html). Read through read() it is a "disk I/O error"
that a request answers. And WAL's shared memory is only shared by processes of one computer:
"WAL does not work over a network filesystem" (https://sqlite.org/wal.html).

Run as `python -m core.db.disk FOLDER`: the probe of WAL's shared memory (check_remote_folder).
"""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import sys
import uuid
from contextlib import suppress
from functools import cache
from pathlib import Path

from core.errors import StorageUnavailable

MOUNTINFO = Path("/proc/self/mountinfo")
# File systems whose pages come from another computer or a user-space program, not a disk of
# this one (with each FUSE type: fuse, fuseblk, fuse.sshfs, fuse.rclone, ...)
REMOTE_TYPES = frozenset(
    (
        "nfs", "nfs4", "cifs", "smb3", "smbfs", "9p", "afs", "ceph", "glusterfs", "lustre",
        "gpfs", "ocfs2", "gfs2", "davfs", "ncpfs", "virtiofs", "vboxsf", "vmhgfs", "prl_fs",
    )
)  # fmt: skip
# Seconds the probe may take: a few file creations and fsyncs on a slow share
PROBE_TIMEOUT = 60.0

logger = logging.getLogger(__name__)


def remote_filesystem(path: Path, mountinfo: str | None = None) -> str | None:
    """The type of the file system holding `path` when it is not a disk of this computer (a
    network share or a FUSE mount: 'nfs4', 'cifs', 'fuse.sshfs'), else None.

    Such a file system gets no memory map of the catalog (see the module's note). Read from
    /proc/self/mountinfo (or `mountinfo`, its text): None where there is none (macOS,
    Windows), which keeps the map as before there.
    """
    if mountinfo is None:
        try:
            mountinfo = MOUNTINFO.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return None
    where = _existing(path)
    best, fstype = "", ""
    for line in mountinfo.splitlines():
        left, sep, right = line.partition(" - ")
        fields, after = left.split(), right.split()
        if not sep or len(fields) < 5 or not after:
            continue
        point = _unescape(fields[4])
        inside = where == point or where.startswith(point.rstrip("/") + "/")
        if inside and len(point) >= len(best):  # the last of two mounts on one point is on top
            best, fstype = point, after[0]
    if fstype.split(".", 1)[0] in ("fuse", "fuseblk") or fstype in REMOTE_TYPES:
        return fstype
    return None


def _existing(path: Path) -> str:
    """The real path of `path`, or of its nearest folder that exists (a catalog not made yet)."""
    path = Path(os.path.abspath(path))
    while not path.exists() and path.parent != path:
        path = path.parent
    return os.path.realpath(path)


def _unescape(point: str) -> str:
    """mountinfo writes a space, tab, newline or backslash in a path as an octal escape."""
    for code, char in (("\\040", " "), ("\\011", "\t"), ("\\012", "\n"), ("\\134", "\\")):
        point = point.replace(code, char)
    return point


def remote_note(folder: Path, fstype: str) -> str:
    """What a catalog on a remote file system means for its user, in one line."""
    return (
        f"The catalog's folder {folder} is on a network share or FUSE mount ({fstype}): "
        "SQLite reads it without a memory map there, and every MediaDesk using this catalog "
        "must run on this computer (WAL's shared memory is not shared between computers). "
        "For several computers use PostgreSQL (DATABASE_URL); a local disk is faster"
    )


@cache
def check_remote_folder(folder: Path, fstype: str, warn: bool = True) -> None:
    """Refuses a catalog folder whose file system cannot back WAL's shared memory, and
    warns once about any other remote one (remote_note) unless `warn` is False: the doctor
    reports it as a check of its own, and the log line printed it a second time.

    A FUSE file system that opens the files it creates write-only (fusepy's loopback example,
    and the file systems built from it) fails every read of the -shm file's pages: the first
    query of each process died of SIGBUS. A child process tries a small WAL database in the
    folder first, so that a crash is its own and becomes one line here. Once per folder and
    process, on remote file systems only (a local disk's start-up is unchanged).
    """
    name = folder / f".mediadesk-probe-{uuid.uuid4().hex}.sqlite3"
    try:
        done = subprocess.run(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "core.db.disk", str(name)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            timeout=PROBE_TIMEOUT,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        done = None  # no verdict: opening the catalog reports what is wrong with the folder
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            with suppress(OSError):
                os.unlink(f"{name}{suffix}")
    if done is not None and done.returncode < 0:  # a signal (SIGBUS), not an error it reported
        raise StorageUnavailable(
            f"The catalog's folder {folder} is on a file system ({fstype}) that cannot hold "
            "SQLite's shared memory (a test database crashed there): keep the data folder "
            "on a local disk, or the catalog elsewhere with DATABASE_URL (PostgreSQL for "
            "several computers)"
        )
    if warn:
        logger.warning("%s", remote_note(folder, fstype))


def _probe(name: str) -> None:
    """In the child: a WAL database written by one connection and read by another."""
    first = sqlite3.connect(name, isolation_level=None)
    first.execute("PRAGMA journal_mode=WAL")
    first.execute("CREATE TABLE probe (x)")
    first.execute("INSERT INTO probe VALUES (1)")
    second = sqlite3.connect(name, isolation_level=None)
    second.execute("SELECT count(*) FROM probe").fetchone()
    second.close()
    first.close()


if __name__ == "__main__":
    _probe(sys.argv[1])
