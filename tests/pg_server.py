"""A throwaway PostgreSQL cluster on a loopback port for the catalog tests (Debian's server)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from core.library import Library

PG_BIN = sorted(Path("/usr/lib/postgresql").glob("*/bin"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _as_postgres(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:  # initdb and postgres refuse to run as root
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


# Stops a cluster and deletes its folder once the test process that made it is gone: a worker
# killed by a native crash never runs its fixtures' teardown, and its PostgreSQL went on
# running (holding a port, memory and a folder in /tmp) until the machine stopped. The watchdog
# holds the read end of a pipe whose write end only the test process has; end of file means
# that process ended, however it ended. After a normal teardown it finds nothing left to do.
_WATCHDOG = """
import shutil, subprocess, sys
sys.stdin.buffer.read()
ctl, data, root = sys.argv[1:4]
cmd = [ctl, "-D", data, "stop", "-m", "immediate"]
if sys.argv[4] == "root":
    cmd = ["runuser", "-u", "postgres", "--", *cmd]
subprocess.run(cmd, capture_output=True, timeout=60)
shutil.rmtree(root, ignore_errors=True)
"""


def _watchdog(bindir: Path, data: Path, root: Path) -> subprocess.Popen[bytes]:
    """A process that stops the cluster in `data` and deletes `root` when this one ends."""
    return subprocess.Popen(
        [sys.executable, "-c", _WATCHDOG, str(bindir / "pg_ctl"), str(data), str(root)]
        + ["root" if os.geteuid() == 0 else "user"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        # its own session: a Ctrl+C to the run's process group stops the tests, not it
        start_new_session=True,
    )


def _release(watchdog: subprocess.Popen[bytes], wait: bool = True) -> None:
    """Lets the watchdog go after a normal teardown (it then finds nothing to stop); with
    `wait` False it deletes what is left of the cluster's folder after this process moved on
    (kept in _DELETING: not a running subprocess garbage-collected in some test)."""
    assert watchdog.stdin is not None
    watchdog.stdin.close()
    if wait:
        watchdog.wait(timeout=60)
    else:
        _DELETING.append(watchdog)


_DELETING: list[subprocess.Popen[bytes]] = []


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """postgresql+psycopg URL of a fresh cluster; skipped where no server is installed."""
    if not PG_BIN:
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql)")
    bindir = PG_BIN[-1]
    root = Path(tempfile.mkdtemp(prefix="mediadesk-pg-"))
    data = root / "data"
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    port = _free_port()
    subprocess.run(
        _as_postgres(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "mediadesk",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",  # a cluster of this run only: nothing of it outlives the machine
            ]
        ),
        check=True,
        capture_output=True,
    )
    server = subprocess.Popen(
        _as_postgres(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-h",
                "127.0.0.1",
                "-k",
                str(root),
                # no fsync: the cluster is thrown away at the end of the run and no test stops
                # the machine under it (tests that crash PostgreSQL use pg_cluster); each test's
                # CREATE DATABASE and the checkpoints of hundreds of them were disk flushes
                "-c",
                "fsync=off",
            ]
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    watchdog = _watchdog(bindir, data, root)
    try:
        for _ in range(100):
            ready = subprocess.run(
                [str(bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(port)],
                capture_output=True,
            )
            if ready.returncode == 0 or server.poll() is not None:
                break
            time.sleep(0.1)
        if server.poll() is not None:
            pytest.fail("PostgreSQL did not start")
        yield f"postgresql+psycopg://mediadesk@127.0.0.1:{port}/postgres"
    finally:
        # immediate, not the smart shutdown of SIGTERM (it waits for every client to leave: a
        # test's leftover pool kept the end of the run waiting) nor the fast one, whose final
        # checkpoint of the run's hundreds of databases took each worker's last test 8-11 s:
        # the cluster is deleted next
        subprocess.run(
            _as_postgres([str(bindir / "pg_ctl"), "-D", str(data), "stop", "-m", "immediate"]),
            capture_output=True,
            timeout=30,
        )
        server.wait(timeout=10)
        # the folder of the run's hundreds of databases is the watchdog's to delete, after this
        # worker moved on: deleting it here (slow unlinks on a root mounted with online discard,
        # as this machine's) held each worker's last test seconds in its teardown (60 databases
        # written back: 1.8 s; a worker's share of the run is hundreds)
        _release(watchdog, wait=False)


def fresh_database(postgres_url: str, prefix: str) -> str:
    """The URL of a new, empty database on the session's server, for a test's own catalog."""
    import uuid

    import psycopg

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin_url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return postgres_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def pg_library(postgres_url: str, tmp_path: Path) -> Iterator[Library]:
    """A library on the session's PostgreSQL, its catalog emptied (the tests share the database)."""
    from sqlalchemy import text

    from core.library import Library
    from tests.conftest import make_settings
    from tests.internals import db_of

    data = tmp_path / "pg"
    data.mkdir()
    lib = Library.open(make_settings(data, database_url=postgres_url))
    with db_of(lib).write() as s:
        s.execute(text("TRUNCATE media_files, athletes RESTART IDENTITY CASCADE"))
    yield lib
    lib.close()


class Cluster:
    """A PostgreSQL cluster of one test, which the test may stop, crash, or start again."""

    def __init__(self, root: Path) -> None:
        self.bindir = PG_BIN[-1]
        self.root = root
        self.data = root / "data"
        self.port = _free_port()
        self.url = f"postgresql+psycopg://mediadesk@127.0.0.1:{self.port}/postgres"

    def _ctl(self, *args: str) -> None:
        subprocess.run(
            _as_postgres([str(self.bindir / "pg_ctl"), "-D", str(self.data), *args]),
            check=True,
            capture_output=True,
            timeout=60,
        )

    def start(self) -> None:
        # no fsync, as the session's server: a test stops, crashes or hangs the server, never
        # the machine, so nothing is lost without it; each start's recovery and each stop's
        # checkpoint were disk flushes
        opts = f"-p {self.port} -h 127.0.0.1 -k {self.root} -c fsync=off"
        self._ctl("-l", str(self.root / "log"), "-w", "-o", opts, "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "-w", "stop")

    def processes(self) -> list[int]:
        """The postmaster and its children (backends, checkpointer, walwriter…)."""
        main = int((self.data / "postmaster.pid").read_text().split()[0])
        found = [main]
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            if int(fields[1]) == main:
                found.append(int(stat.parent.name))
        return found

    def signal(self, signum: int) -> None:
        """SIGSTOP hangs the whole server (it accepts connections and never answers)."""
        for pid in self.processes():
            # a backend that ended since it was listed (a client closed its connection)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)


_template_cluster: Path | None = None


def _cluster_template() -> Path:
    """A data folder this worker made with initdb once: each test's cluster is a copy of it
    (an initdb, with its syncs, took 1-2 s of every test that has a cluster of its own). The
    folder goes with the worker, however it ends (the watchdog below is never released)."""
    global _template_cluster
    if _template_cluster is None:
        bindir = PG_BIN[-1]
        root = Path(tempfile.mkdtemp(prefix="mediadesk-pg-template-"))
        if os.geteuid() == 0:
            shutil.chown(root, "postgres")
        data = root / "data"
        subprocess.run(
            _as_postgres(
                [str(bindir / "initdb"), "-D", str(data), "-U", "mediadesk"]
                + ["--auth=trust", "-E", "UTF8", "--no-sync"]
            ),
            check=True,
            capture_output=True,
        )
        _KEPT.append(_watchdog(bindir, data, root))
        _template_cluster = data
    return _template_cluster


_KEPT: list[subprocess.Popen[bytes]] = []


@pytest.fixture
def pg_cluster() -> Iterator[Cluster]:
    """A cluster of this test alone (the session's `postgres_url` is shared, so never stopped)."""
    if not PG_BIN:
        pytest.skip("PostgreSQL server not installed (apt-get install postgresql)")
    template = _cluster_template()
    root = Path(tempfile.mkdtemp(prefix="mediadesk-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    cluster = Cluster(root)
    # cp -a: the copy keeps the owner (postgres, when we are root) and the folder's 0700
    subprocess.run(["cp", "-a", str(template), str(cluster.data)], check=True)
    watchdog = _watchdog(cluster.bindir, cluster.data, root)
    cluster.start()
    try:
        yield cluster
    finally:
        if (cluster.data / "postmaster.pid").exists():
            cluster.signal(signal.SIGCONT)
            # immediate, as the session's server: the cluster is deleted next, so the fast
            # stop's checkpoint was time for nothing
            cluster._ctl("-m", "immediate", "-w", "stop")
        # the folder is the watchdog's to delete, after this test (as the session's server's)
        _release(watchdog, wait=False)
