"""A new catalog named by DATABASE_URL while the data folder's own SQLite catalog holds a library.

README's team set-up says to set DATABASE_URL to grow from one desktop to PostgreSQL. A club
that did so with its data folder (SQLite catalog `mediadesk.sqlite3`, its stored files under
`objects/`) got a new, empty library at the first start: a new first-start admin token, every
old token refused, and `mediadesk maintenance` then called the club's whole library stray
objects. Setting up a new catalog there is refused instead (`refuse_left_behind`, at start-up
before any table is made), and `mediadesk doctor` fails with the same words: copy the library
(`mediadesk catalog copy`) or, for a new library on purpose, move the SQLite catalog aside.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError

from core.errors import SettingsError
from core.secrets import shown_database_url

logger = logging.getLogger(__name__)

# The refusal's reason (invalid_setting): DATABASE_URL names a catalog without the library
LIBRARY_LEFT_BEHIND = "library_left_behind"
COPY_COMMAND = "mediadesk catalog copy --to"
# Seconds the count waits for a writer of the SQLite catalog (none should be running)
COUNT_TIMEOUT = 5.0


@dataclass(frozen=True)
class LeftBehind:
    """The data folder's SQLite catalog holds a library the catalog in use (`used`, shown
    without its password) does not have."""

    catalog: Path
    files: int
    athletes: int
    tokens: int
    used: str

    @property
    def holds(self) -> str:
        def some(n: int, what: str) -> str:
            return f"{n} {what}{'' if n == 1 else 's'}"

        return (
            f"{some(self.files, 'file')}, {some(self.athletes, 'athlete')} and "
            f"{some(self.tokens, 'API token')}"
        )

    @property
    def detail(self) -> str:
        return (
            f"{self.used} is a new catalog, but this data folder's SQLite catalog "
            f"{self.catalog} holds a library ({self.holds}): started on it, MediaDesk would "
            "serve an empty library with a new admin token"
        )

    @property
    def fix(self) -> str:
        return (
            "Stop MediaDesk on this data folder and copy the library into it: "
            f"{COPY_COMMAND} URL (URL: {self.used}, its password included); or, to start a "
            f"new, empty library on purpose, move {self.catalog.name} (with its -wal file, if "
            f"any) out of {self.catalog.parent}."
        )

    def error(self) -> SettingsError:
        return SettingsError(
            f"{self.detail}. {self.fix} Nothing was changed.",
            reason=LIBRARY_LEFT_BEHIND,
            details={
                "catalog": str(self.catalog),
                "files": self.files,
                "athletes": self.athletes,
                "tokens": self.tokens,
            },
        )


def refuse_left_behind(engine: Engine, data_catalog: Path) -> None:
    """Refuses to set up a new catalog on `engine` while `data_catalog` (the data folder's
    SQLite file) holds a library and is another catalog. Before the set-up: refused, the new
    catalog stays empty, so `mediadesk catalog copy` can still fill it."""
    if same_catalog(engine.url.render_as_string(hide_password=False), f"sqlite:///{data_catalog}"):
        return
    if not _has_content(data_catalog):  # a stat: most starts end here, without a query
        return
    from core.db.migrate import is_new

    with engine.connect() as connection:
        if not is_new(connection):  # tables without a record are refused as such (migrate)
            return
    found = library_beside(engine.url.render_as_string(hide_password=False), data_catalog)
    if found is not None:
        raise found.error()


def library_beside(url: str, data_catalog: Path) -> LeftBehind | None:
    """What `data_catalog` holds when it is not the catalog `url` names and holds a library
    (files or athletes), else None. The caller knows `url`'s catalog is new."""
    if same_catalog(url, f"sqlite:///{data_catalog}") or not _has_content(data_catalog):
        return None
    counts = _library_counts(data_catalog)
    if counts is None:
        return None
    files, athletes, tokens = counts
    if not (files or athletes):  # a first start's token alone is no library to lose
        return None
    return LeftBehind(data_catalog, files, athletes, tokens, shown_database_url(url))


def make_new(url: str, sqlite_file: str | Path | None = None) -> str:
    """How a person makes the catalog at `url` new again, as a clause ("recreate …"): a
    PostgreSQL database dropped and created empty by its owner (with the URL's host, port,
    user and name), a SQLite file moved aside. A command refusing a catalog that is not new
    names this, not "drop its tables", which leaves a person to find which ones and how."""
    if sqlite_file:
        path = Path(sqlite_file)
        return f"move {path.name} (with its -wal and -shm files, if any) out of {path.parent}"
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "drop that database and create it again, empty"
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return "drop that database and create it again, empty"
    where = "".join(
        f" {flag} {value}"
        for flag, value in (("-h", parsed.host), ("-p", parsed.port), ("-U", parsed.username))
        if value
    )
    owner = f" -O {parsed.username}" if parsed.username else ""
    return (
        f"recreate the database empty, as its owner or a superuser: dropdb{where} "
        f"{parsed.database}, then createdb{where}{owner} {parsed.database}"
    )


def same_catalog(a: str, b: str) -> bool:
    """Whether two catalog URLs name one catalog: one SQLite file however it is spelled, or
    one database of one server whoever connects to it."""
    try:
        first, second = make_url(a), make_url(b)
    except ArgumentError:
        return a == b
    if first.get_backend_name() != second.get_backend_name():
        return False
    if first.get_backend_name() == "sqlite":
        one, other = first.database or "", second.database or ""
        if not one or not other or ":memory:" in (one, other):
            return False
        try:
            return os.path.samefile(one, other)
        except OSError:  # one is not made yet
            return os.path.abspath(one) == os.path.abspath(other)
    port = first.port or 5432, second.port or 5432
    return (
        (first.host or "").lower() == (second.host or "").lower()
        and port[0] == port[1]
        and first.database == second.database
    )


def _has_content(path: Path) -> bool:
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def _library_counts(path: Path) -> tuple[int, int, int] | None:
    """(files, athletes, active tokens) of a SQLite catalog, only read; None when it is not
    one that can be read. Files as the library counts them: ready ones, trashed ones included,
    not a duplicate upload's other name."""
    try:
        # Not mode=ro: a read-only connection to a WAL catalog makes its -wal and -shm files
        # and cannot remove them; the last connection to close removes them
        with closing(sqlite3.connect(path, timeout=COUNT_TIMEOUT)) as conn:
            files = _count(
                conn,
                "SELECT count(*) FROM media_files WHERE status = 'ready' AND alias_of IS NULL",
                "SELECT count(*) FROM media_files",  # a catalog from before aliases (0007)
            )
            if files is None:
                return None  # not a MediaDesk catalog
            athletes = _count(conn, "SELECT count(*) FROM athletes") or 0
            tokens = _count(conn, "SELECT count(*) FROM api_tokens WHERE revoked_at IS NULL") or 0
            return files, athletes, tokens
    except sqlite3.Error as exc:
        logger.debug("The data folder's SQLite catalog %s was not read: %s", path, exc)
        return None


def _count(conn: sqlite3.Connection, *queries: str) -> int | None:
    for query in queries:
        try:
            return int(conn.execute(query).fetchone()[0])
        except sqlite3.OperationalError:
            continue
    return None
