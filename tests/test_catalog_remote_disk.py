"""A SQLite catalog on a network share or FUSE mount: no memory map there, and a file system
that cannot hold WAL's shared memory is refused in one line instead of a SIGBUS."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from core.db.disk import remote_filesystem
from core.db.engine import SQLITE_MMAP_SIZE, Database
from core.doctor import check_catalog
from tests.faults import cli, wait_for

HELPER = Path(__file__).with_name("fuse_passthrough.py")


def _mountinfo(*mounts: tuple[str, str]) -> str:
    """/proc/self/mountinfo lines mounting each (point, type), the first over the second..."""
    return "\n".join(
        f"{i + 20} 1 0:{i} / {point.replace(' ', chr(92) + '040')} rw,relatime - {fstype} src rw"
        for i, (point, fstype) in enumerate(mounts)
    )


def test_remote_filesystem_names_shares_and_fuse_mounts_but_not_disks(tmp_path: Path) -> None:
    root = Path(os.path.realpath(tmp_path))
    for name in ("nas/local", "my share", "usb", "disk"):
        (root / name).mkdir(parents=True)
    info = _mountinfo(
        ("/", "ext4"),
        (str(root / "nas"), "nfs4"),
        (str(root / "nas/local"), "ext4"),  # a disk mounted inside the share
        (str(root / "my share"), "fuse.sshfs"),
        (str(root / "usb"), "fuseblk"),
        (str(root / "disk"), "cifs"),
        (str(root / "disk"), "xfs"),  # mounted over the share: the last one is seen
    )
    assert remote_filesystem(root / "nas/catalog.sqlite3", info) == "nfs4"  # not made yet
    assert remote_filesystem(root / "nas/new/folder", info) == "nfs4"
    assert remote_filesystem(root / "nas/local", info) is None
    assert remote_filesystem(root / "my share", info) == "fuse.sshfs"
    assert remote_filesystem(root / "usb", info) == "fuseblk"
    assert remote_filesystem(root / "disk", info) is None
    assert remote_filesystem(root, info) is None
    assert remote_filesystem(root / "nas", _mountinfo((str(root), "cifs"))) == "cifs"
    assert remote_filesystem(root / "nas", "") is None  # no mountinfo (macOS, Windows)


@contextlib.contextmanager
def fuse_mount(backing: Path, point: Path, *flags: str) -> Iterator[Path]:
    """`point` showing `backing` through a FUSE passthrough (tests/fuse_passthrough.py);
    skips unless root with /dev/fuse, fusepy and libfuse2 (`make test` installs them)."""
    if os.geteuid() != 0 or not Path("/dev/fuse").exists():
        pytest.skip("a FUSE mount needs root and /dev/fuse here")
    try:
        import fuse  # noqa: F401
    except (ImportError, OSError) as exc:  # fusepy raises OSError without libfuse2
        pytest.skip(f"no fusepy/libfuse2: {exc}")
    backing.mkdir()
    point.mkdir()
    daemon = subprocess.Popen(
        [sys.executable, str(HELPER), str(backing), str(point), *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        wait_for(lambda: os.path.ismount(point) or daemon.poll() is not None, what="the mount")
        if not os.path.ismount(point):
            pytest.skip(f"cannot mount FUSE here: {daemon.stderr.read().decode()[-300:]}")  # type: ignore[union-attr]
        yield point
    finally:
        subprocess.run(["umount", "-l", str(point)], capture_output=True, check=False)
        try:
            daemon.wait(timeout=10)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def test_a_catalog_on_a_fuse_mount_is_read_without_a_memory_map(tmp_path: Path) -> None:
    with fuse_mount(tmp_path / "backing", tmp_path / "mnt") as mnt:
        db = Database(f"sqlite:///{mnt / 'data' / 'mediadesk.sqlite3'}")
        try:
            with db.engine.begin() as conn:
                assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
                assert conn.exec_driver_sql("PRAGMA mmap_size").scalar() == 0
                conn.execute(text("CREATE TABLE t (x)"))
                conn.execute(text("INSERT INTO t VALUES (1)"))
            with db.engine.connect() as one, db.engine.connect() as two:
                assert one.execute(text("SELECT count(*) FROM t")).scalar() == 1
                assert two.execute(text("SELECT count(*) FROM t")).scalar() == 1
            # doctor says what a share means (WAL: one computer) as a warning
            disk = {c.name: c for c in check_catalog(db)}["catalog disk"]
            assert disk.ok and disk.warning and str(mnt / "data") in disk.detail, disk
            assert "PostgreSQL" in disk.detail, disk
        finally:
            db.dispose()
        # on a local disk the map stays (tmp_path is not a share)
        local = Database(f"sqlite:///{tmp_path / 'local.sqlite3'}")
        try:
            with local.engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA mmap_size").scalar() == SQLITE_MMAP_SIZE
        finally:
            local.dispose()


def test_a_mount_that_cannot_hold_wal_shared_memory_is_refused_not_a_sigbus(
    tmp_path: Path,
) -> None:
    with fuse_mount(tmp_path / "backing", tmp_path / "mnt", "--write-only-creates") as mnt:
        data = mnt / "data"
        # a process of its own: without the check, the first query of the catalog is a SIGBUS
        done = cli("token", "list", "--data-dir", str(data))
        assert done.returncode == 2, (done.returncode, done.stderr[-2000:])
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and str(data) in lines[0], done.stderr
        assert "DATABASE_URL" in lines[0] and "local disk" in lines[0], done.stderr
        doctor = cli("doctor", "--data-dir", str(data))
        assert doctor.returncode == 1, (doctor.returncode, doctor.stderr[-2000:])
        assert f"FAIL  catalog: The catalog's folder {data}" in doctor.stdout, doctor.stdout
        leftovers = os.listdir(tmp_path / "backing" / "data")
        assert not [name for name in leftovers if "sqlite3" in name], leftovers


def test_doctor_says_a_catalog_on_a_share_once(tmp_path: Path) -> None:
    """It said it twice: its "catalog disk" check, and the catalog's start-up log line."""
    with fuse_mount(tmp_path / "backing", tmp_path / "mnt") as mnt:
        doctor = cli("doctor", "--data-dir", str(mnt / "data"))
    said = doctor.stdout + doctor.stderr
    assert f"warn  catalog disk: The catalog's folder {mnt / 'data'}" in doctor.stdout, said
    assert said.count("network share or FUSE mount") == 1, said
