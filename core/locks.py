"""One lock per key, for flows that must not overlap on the same file, hash or storage key:
within a process (KeyedLocks), or across every process sharing a catalog (CatalogLocks)."""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from core.errors import catalog_unreachable

try:  # POSIX; elsewhere a SQLite catalog's CatalogLocks hold within their process only
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

if TYPE_CHECKING:
    from core.db.engine import Database

# A blocked record lock can be refused with EDEADLK: the kernel sees a cycle between processes
# where there is only one between threads (lock owners are processes). Tried again after this.
DEADLOCK_RETRY = 0.05


class KeyedLocks:
    """One lock per key (a sha256, a file id, a storage key).

    Entries are reference-counted and dropped when no thread holds or waits for them, so a
    long-running server does not keep a lock for every file it has ever seen.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[object, list[Any]] = {}  # key -> [lock, holders and waiters]

    @contextmanager
    def hold(self, key: object) -> Iterator[None]:
        with self._guard:
            entry = self._locks.setdefault(key, [threading.Lock(), 0])
            entry[1] += 1
        try:
            with entry[0]:
                yield
        finally:
            with self._guard:
                entry[1] -= 1
                if entry[1] == 0:
                    del self._locks[key]

    def __len__(self) -> int:
        return len(self._locks)


class CatalogLocks:
    """One lock per key (a file id) across every process that shares a catalog: the servers
    and desktops of a team on one PostgreSQL, or the processes of one machine on one SQLite
    file. For work that must be done once, however many processes are asked at the same moment
    (a presigned upload's confirm: download, validation and the ready hook).

    A waiter waits for the holder. A holder that dies, however it dies (SIGKILL, power), lets
    go without an expiry to wait out:

    - PostgreSQL: a session-level advisory lock (class `pg_class`, the key folded into 32 bits:
      keys 2**32 apart only take turns) on a connection of its own, which the server drops with
      the connection. Its own connection, not the pool's: a holder also writes through the pool
      while it holds, and waiters must not use up the pool's connections.
    - SQLite: a POSIX record lock on byte `key` of one lock file beside the catalog
      (`<catalog>-<name>.lock`), which the kernel drops with the process. Record locks belong
      to the process, and closing any descriptor of the file drops them all: so each lock file
      has one descriptor per process, never closed, and the threads of a process (of every
      CatalogLocks on that file) take turns in one KeyedLocks first.
    - An in-memory SQLite catalog, or no fcntl (Windows): this process only.
    """

    def __init__(self, db: Database, name: str, pg_class: int) -> None:
        self._db = db
        self._pg_class = pg_class
        self._postgres = db.engine.dialect.name == "postgresql"
        database = db.engine.url.database
        self._file: Path | None = None
        if not self._postgres and fcntl is not None and database and database != ":memory:":
            self._file = lock_file(Path(database), name)
        self._turns = _turns_for(self._file) if self._file is not None else KeyedLocks()

    @contextmanager
    def hold(self, key: int) -> Iterator[None]:
        with self._turns.hold(key):
            if self._postgres:
                with self._pg_lock(key):
                    yield
            elif self._file is not None:
                with _record_lock(_descriptor(self._file), key):
                    yield
            else:
                yield

    @contextmanager
    def hold_many(self, keys: Iterable[int]) -> Iterator[None]:
        """`hold` of several keys at once (a batch of the trash), taken in one order so that
        two holders never wait crosswise, on one connection of its own (PostgreSQL): a
        connection per key would use up the server's."""
        ordered = sorted(set(keys))
        with contextlib.ExitStack() as held:
            for key in ordered:
                held.enter_context(self._turns.hold(key))
            if self._postgres:
                held.enter_context(self._pg_lock(*ordered))
            elif self._file is not None:
                for key in ordered:
                    held.enter_context(_record_lock(_descriptor(self._file), key))
            yield

    def __len__(self) -> int:
        """Keys held or waited for in this process (none are kept once let go)."""
        return len(self._turns)

    @contextmanager
    def _pg_lock(self, *keys: int) -> Iterator[None]:
        import psycopg

        from core.feed import pg_conninfo

        # a catalog out of reach leaves as the sessions say it (storage_unavailable, the
        # episode's first failure claimed: Database.unreachable), not as psycopg's error
        try:
            conn = psycopg.connect(pg_conninfo(self._db), autocommit=True, connect_timeout=5)
        except psycopg.Error as exc:
            if catalog_unreachable(exc):
                raise self._db.unreachable(exc) from exc
            raise
        try:
            try:
                for key in keys:
                    conn.execute("SELECT pg_advisory_lock(%s, %s)", (self._pg_class, pg_key(key)))
            except psycopg.Error as exc:
                if catalog_unreachable(exc):
                    raise self._db.unreachable(exc) from exc
                raise
            yield
        finally:
            conn.close()  # ends the session, and the lock with it


def pg_key(key: int) -> int:
    """A key as the int4 second half of a two-key advisory lock (core/catalog.py's SHA locks
    use the same space with another class)."""
    folded = key & 0xFFFFFFFF
    return folded - (1 << 32) if folded >= 1 << 31 else folded


def lock_file(catalog: Path, name: str) -> Path:
    """The record-lock file of `name` locks beside a SQLite catalog file."""
    catalog = catalog.resolve()  # one file, whichever way a process names the catalog
    return catalog.with_name(f"{catalog.name}-{name}.lock")


_files_guard = threading.Lock()
_descriptors: dict[Path, int] = {}  # lock file -> this process's one descriptor of it
_turns: dict[Path, KeyedLocks] = {}  # lock file -> its keys' turns among this process's threads


def _turns_for(path: Path) -> KeyedLocks:
    with _files_guard:
        return _turns.setdefault(path, KeyedLocks())


def _descriptor(path: Path) -> int:
    with _files_guard:
        fd = _descriptors.get(path)
        if fd is None:
            fd = _descriptors[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        return fd


@contextmanager
def _record_lock(fd: int, key: int) -> Iterator[None]:
    assert fcntl is not None
    while True:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX, 1, key)
            break
        except OSError as exc:
            if exc.errno != errno.EDEADLK:
                raise
            time.sleep(DEADLOCK_RETRY)
    try:
        yield
    finally:
        fcntl.lockf(fd, fcntl.LOCK_UN, 1, key)


# pg_advisory_lock(class, key) of a stored object (ObjectLocks), beside the confirm locks' class
OBJECT_LOCK_CLASS = 0x4D444B4F


class ObjectLocks:
    """One lock per stored object (its key) across the processes sharing a catalog.

    Files with the same bytes share one object (migration 0010), and it is deleted once no file
    references it. The deleter checks the references and deletes the object under this lock; a
    file that has just started to reference the object looks for it under the same lock (and
    stores its bytes there again if it is gone), and a move copies to its new key and commits
    it under that key's lock. Without it a reference committed between the deleter's check and
    its delete was left without bytes (a hard delete of one file and an upload of the same bytes
    for another athlete, on two servers at once; a file moved back to its old key by one server
    while another ran that key's deferred deletion).
    """

    def __init__(self, db: Database) -> None:
        self._locks = CatalogLocks(db, "objects", OBJECT_LOCK_CLASS)

    def hold(self, key: str) -> contextlib.AbstractContextManager[None]:
        return self._locks.hold(_object_number(key))

    def hold_many(self, keys: Iterable[str]) -> contextlib.AbstractContextManager[None]:
        return self._locks.hold_many(_object_number(key) for key in keys)


def _object_number(key: str) -> int:
    digest = hashlib.sha256(key.encode()).digest()
    return int.from_bytes(digest[:4], "big") >> 1


# ---- presence: a shared lock on byte 0 of a lock file, held while a process runs ------------
_shared_counts: dict[Path, int] = {}  # lock file -> holders in this process


def hold_shared(path: Path) -> None:
    """A shared record lock on byte 0 of `path`, for as long as this process runs or until
    as many `release_shared` calls (counted: two catalogs objects of one file in a process)."""
    if fcntl is None:
        return
    try:
        fd = _descriptor(path)
    except OSError as exc:
        if exc.errno not in (errno.EACCES, errno.EPERM, errno.EROFS):
            raise
        # a data folder made read-only under a running server (its lock file is there, and
        # cannot be opened for writing): every command says so in one line, exit status 2
        from core.db.engine import unwritable_catalog

        folder = path.parent
        raise unwritable_catalog(path if os.access(folder, os.W_OK) else folder) from exc
    with _files_guard:
        count = _shared_counts.get(path, 0)
        if count == 0:
            fcntl.lockf(fd, fcntl.LOCK_SH, 1, 0)
        _shared_counts[path] = count + 1


def release_shared(path: Path) -> None:
    if fcntl is None:
        return
    with _files_guard:
        count = _shared_counts.get(path, 0)
        if count == 0:
            return
        if count == 1:
            del _shared_counts[path]
            # closed, not kept: a process that opens and closes many catalogs (a test run, a
            # script) kept one descriptor per catalog and ran out of select()'s 1,024; only
            # this presence lock is taken on this file, so closing it releases nothing else
            fd = _descriptors.pop(path, None)
            if fd is not None:
                fcntl.lockf(fd, fcntl.LOCK_UN, 1, 0)
                os.close(fd)
        else:
            _shared_counts[path] = count - 1


def other_holders(path: Path) -> list[int]:
    """The pids of other processes holding a lock on byte 0 of `path` (0: one whose pid the
    system does not tell); empty when none. This process's own lock never counts: a process's
    record locks do not conflict with each other."""
    if fcntl is None or not path.exists():
        return []
    fd = _descriptor(path)
    with _files_guard:
        mine = _shared_counts.get(path, 0) > 0
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
        except OSError as exc:
            if exc.errno not in (errno.EACCES, errno.EAGAIN):
                raise
        else:  # nobody else: back to what this process held
            fcntl.lockf(fd, fcntl.LOCK_SH if mine else fcntl.LOCK_UN, 1, 0)
            return []
    return proc_lock_pids(path) or [0]


def proc_lock_pids(path: os.PathLike[str] | str, kind: str = "POSIX") -> list[int]:
    """Every other process's lock of `kind` (POSIX for fcntl locks, FLOCK for flock) on
    `path`, from Linux's /proc/locks (else [])."""
    try:
        st = os.stat(path)
        lines = Path("/proc/locks").read_text(encoding="ascii", errors="replace").splitlines()
    except OSError:
        return []
    inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    pids: set[int] = set()
    for line in lines:
        fields = line.replace("->", "").split()
        # "1: POSIX  ADVISORY  READ 1234 08:01:5678 0 0"
        if len(fields) >= 6 and fields[1] == kind and fields[5] == inode:
            with contextlib.suppress(ValueError):
                if int(fields[4]) != os.getpid():
                    pids.add(int(fields[4]))
    return sorted(pids)
