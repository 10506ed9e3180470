"""A FUSE file system passing everything through to a folder: `python fuse_passthrough.py
BACKING MOUNTPOINT [--write-only-creates]`. Runs until the mount point is unmounted.

A real FUSE mount stands in for a network share or a user-space disk (the catalog's page cache
is the FUSE daemon's). --write-only-creates opens each file it creates write-only, as fusepy's
loopback example and the file systems copied from it do: a read of such a file's pages through
a memory map then fails, which is how MediaDesk's catalog died of SIGBUS on one.
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Any

from fuse import FUSE, FuseOSError, Operations

STAT_KEYS = ("st_atime", "st_ctime", "st_gid", "st_mode", "st_mtime", "st_nlink", "st_size")
STATVFS_KEYS = ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files")


class Passthrough(Operations):  # type: ignore[misc]
    def __init__(self, root: str, write_only_creates: bool) -> None:
        self.root = os.path.realpath(root)
        self.create_flags = os.O_WRONLY if write_only_creates else os.O_RDWR

    def __call__(self, op: str, *args: Any) -> Any:
        try:
            return super().__call__(op, *args)
        except OSError as exc:
            raise FuseOSError(exc.errno or errno.EIO) from None

    def _p(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    def access(self, path: str, mode: int) -> None:
        if not os.access(self._p(path), mode):
            raise FuseOSError(errno.EACCES)

    def chmod(self, path: str, mode: int) -> None:
        os.chmod(self._p(path), mode)

    def chown(self, path: str, uid: int, gid: int) -> None:
        os.chown(self._p(path), uid, gid)

    def getattr(self, path: str, fh: Any = None) -> dict[str, Any]:
        st = os.lstat(self._p(path))
        return {key: getattr(st, key) for key in (*STAT_KEYS, "st_uid")}

    def readdir(self, path: str, fh: Any) -> list[str]:
        return [".", "..", *os.listdir(self._p(path))]

    def mkdir(self, path: str, mode: int) -> None:
        os.mkdir(self._p(path), mode)

    def rmdir(self, path: str) -> None:
        os.rmdir(self._p(path))

    def unlink(self, path: str) -> None:
        os.unlink(self._p(path))

    def rename(self, old: str, new: str) -> None:
        os.rename(self._p(old), self._p(new))

    def utimens(self, path: str, times: Any = None) -> None:
        os.utime(self._p(path), times)

    def statfs(self, path: str) -> dict[str, Any]:
        st = os.statvfs(self._p(path))
        return {key: getattr(st, key) for key in (*STATVFS_KEYS, "f_flag", "f_frsize")}

    def open(self, path: str, flags: int) -> int:
        return os.open(self._p(path), flags)

    def create(self, path: str, mode: int) -> int:
        return os.open(self._p(path), self.create_flags | os.O_CREAT, mode)

    def read(self, path: str, length: int, offset: int, fh: int) -> bytes:
        return os.pread(fh, length, offset)

    def write(self, path: str, data: bytes, offset: int, fh: int) -> int:
        return os.pwrite(fh, data, offset)

    def truncate(self, path: str, length: int, fh: Any = None) -> None:
        os.truncate(self._p(path), length)

    def flush(self, path: str, fh: int) -> int:
        return 0

    def release(self, path: str, fh: int) -> None:
        os.close(fh)

    def fsync(self, path: str, _datasync: int, fh: int) -> None:
        os.fsync(fh)


if __name__ == "__main__":
    FUSE(
        Passthrough(sys.argv[1], "--write-only-creates" in sys.argv[3:]),
        sys.argv[2],
        foreground=True,
        default_permissions=True,
    )
