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

from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError

from core.errors import SettingsError
from core.secrets import shown_database_url

logger = logging.getLogger(__name__)

# The refusal's reason (invalid_setting): DATABASE_URL names a catalog without the library
LIBRARY_LEFT_BEHIND = "library_left_behind"
COPY_COMMAND = "mediadesk catalog copy --to"
# Seconds the count waits for a writer of the SQLite catalog (none should be running); a
# start's warning (warn_kept_apart) waits for none
COUNT_TIMEOUT = 5.0
# The refusal's reason (invalid_setting): the SQLite catalog in use was copied elsewhere
CATALOG_COPIED = "catalog_copied"
# Beside a SQLite catalog `mediadesk catalog copy` copied: where to and when (JSON)
COPIED_SUFFIX = "-copied"


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
        return holding(self.files, self.athletes, self.tokens)

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


@dataclass(frozen=True)
class KeptApart:
    """The data folder's SQLite catalog holds a library, and the catalog in use is another
    one, set up and used apart from it: it has none of the library's API tokens, files or
    athletes (`library_apart`). A server started on the new database before the library was
    copied (from another data folder, an older MediaDesk that did not refuse it, the SQLite
    file moved aside for a moment) left this: the start does not refuse a catalog set up
    already, doctor said all good, MediaDesk served the other library, and `catalog copy`
    refused the database as not empty without saying why or what to do."""

    library: LeftBehind  # the SQLite catalog's library, and the catalog in use (`used`)
    files: int  # the catalog in use's own
    athletes: int
    tokens: int

    @property
    def fresh(self) -> bool:
        """The catalog in use holds no library of its own (a first start's token at most)."""
        return not (self.files or self.athletes)

    @property
    def detail(self) -> str:
        left = self.library
        theirs = holding(self.files, self.athletes, self.tokens)
        if self.fresh:
            kind = f"was set up as a new, separate library ({theirs})"
        else:
            kind = f"holds another library ({theirs})"
        return (
            f"{left.used} {kind}, while this data folder's SQLite catalog {left.catalog} "
            f"holds the library ({left.holds}), none of which is in {left.used}: MediaDesk "
            "serves the other one"
        )

    @property
    def fix(self) -> str:
        left = self.library
        aside = (
            f"move {left.catalog.name} (with its -wal file, if any) out of {left.catalog.parent}"
        )
        if self.fresh:
            return (
                f"Nothing in {left.used} is to be kept: stop every MediaDesk on it, "
                f"{make_new(left.used)}, then copy the library into it: {COPY_COMMAND} URL "
                f"(URL: {left.used}, its password included). Or, to keep {left.used} as this "
                f"data folder's library, {aside}."
            )
        return (
            "MediaDesk cannot merge two libraries. To keep the one in "
            f"{left.used}: {aside}. To use this data folder's instead: copy it into a new, "
            f"empty database ({create_another(left.used)}; {COPY_COMMAND} URL) and point "
            "DATABASE_URL at that one."
        )


def holding(files: int, athletes: int, tokens: int) -> str:
    def some(n: int, what: str) -> str:
        return f"{n} {what}{'' if n == 1 else 's'}"

    return f"{some(files, 'file')}, {some(athletes, 'athlete')} and {some(tokens, 'API token')}"


def create_another(url: str) -> str:
    """The command that makes another, new database on the server of `url` (NAME: the one to
    choose), as its user: the way a copy that must not go into `url` goes elsewhere."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "createdb NAME"
    if parsed.get_backend_name() != "postgresql":
        return "createdb NAME"
    owner = f" -O {parsed.username}" if parsed.username else ""
    return f"createdb{_pg_flags(url)}{owner} NAME"


# Rows of the SQLite library looked for in the catalog in use: a copy carries every one, and
# API tokens are never deleted, so a few tell a copy from another library
SAMPLE = 100


def library_apart(
    engine: Engine, data_catalog: Path, wait: float = COUNT_TIMEOUT
) -> KeptApart | None:
    """The data folder's SQLite library when the catalog `engine` names is set up, another
    one, and holds none of the library's API tokens, first files or first athletes (see
    KeptApart); None otherwise, also for a copy of it, however it was used since. `wait`:
    seconds the SQLite catalog is waited for when another program holds it (_reading)."""
    from core.db.migrate import is_new

    url = engine.url.render_as_string(hide_password=False)
    if same_catalog(url, f"sqlite:///{data_catalog}") or not _has_content(data_catalog):
        return None  # (a stat: most set-ups end here)
    left = library_beside(url, data_catalog, wait)
    if left is None:
        return None
    rows = _sample(data_catalog, wait)
    if rows is None:
        return None
    with engine.connect() as conn:
        if is_new(conn):
            return None  # library_beside's to say: the start refuses it
        if _shares(conn, *rows):
            return None
        files, athletes, tokens = library_counts(conn)
    return KeptApart(left, files, athletes, tokens)


def warn_kept_apart(engine: Engine, data_catalog: Path) -> None:
    """One WARNING line at a start on a catalog kept apart from the data folder's SQLite
    library (KeptApart), naming both and pointing at `mediadesk doctor`. Only doctor said so,
    and a server (`mediadesk serve`, the desktop's) started silently, serving the other
    library. Not refused: a team's server must not stop over an old file in a data folder.
    Nor delayed: the SQLite catalog held by another program is not waited for (skipped)."""
    try:
        found = library_apart(engine, data_catalog, wait=0.0)
    except Exception as exc:  # noqa: BLE001 - a check of what is served, never the start's end
        logger.debug("The data folder's SQLite library was not compared: %s", exc)
        return
    if found is not None:
        logger.warning("%s. Run `mediadesk doctor` for what to do.", found.detail)


def _sample(
    path: Path, wait: float
) -> tuple[list[str], list[tuple[int, str]], list[tuple[int, str]]] | None:
    """A SQLite library's token hashes, and its first files' (id, storage key) and first
    athletes' (id, name)."""
    try:
        with closing(_reading(path, wait)) as conn:
            hashes = [r[0] for r in conn.execute("SELECT token_hash FROM api_tokens")]
            files = conn.execute(
                "SELECT id, storage_key FROM media_files ORDER BY id LIMIT ?", (SAMPLE,)
            ).fetchall()
            athletes = conn.execute(
                "SELECT id, name FROM athletes ORDER BY id LIMIT ?", (SAMPLE,)
            ).fetchall()
    except sqlite3.Error as exc:
        logger.debug("The data folder's SQLite catalog %s was not read: %s", path, exc)
        return None
    return hashes, files, athletes


def _shares(
    conn: Connection,
    hashes: list[str],
    files: list[tuple[int, str]],
    athletes: list[tuple[int, str]],
) -> bool:
    from sqlalchemy import select

    from core.db.models import ApiToken, Athlete, MediaFile

    for start in range(0, len(hashes), SAMPLE):
        some = hashes[start : start + SAMPLE]
        if conn.scalar(select(ApiToken.id).where(ApiToken.token_hash.in_(some)).limit(1)):
            return True
    for model, column, rows in (
        (MediaFile, MediaFile.storage_key, files),
        (Athlete, Athlete.name, athletes),
    ):
        wanted = dict(rows)
        found = conn.execute(select(model.id, column).where(model.id.in_(list(wanted))))
        if any(wanted.get(row_id) == value for row_id, value in found):
            return True
    return False


def library_counts(conn: Connection) -> tuple[int, int, int]:
    """(files, athletes, active tokens) of a set-up catalog, counted as `_library_counts`
    counts a SQLite one."""
    from sqlalchemy import func, select

    from core.db.models import ApiToken, Athlete, MediaFile

    files = conn.scalar(
        select(func.count())
        .select_from(MediaFile)
        .where(MediaFile.status == "ready", MediaFile.alias_of.is_(None))
    )
    athletes = conn.scalar(select(func.count()).select_from(Athlete))
    tokens = conn.scalar(
        select(func.count()).select_from(ApiToken).where(ApiToken.revoked_at.is_(None))
    )
    return int(files or 0), int(athletes or 0), int(tokens or 0)


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


def library_beside(url: str, data_catalog: Path, wait: float = COUNT_TIMEOUT) -> LeftBehind | None:
    """What `data_catalog` holds when it is not the catalog `url` names and holds a library
    (files or athletes), else None. The caller knows `url`'s catalog is new."""
    if same_catalog(url, f"sqlite:///{data_catalog}") or not _has_content(data_catalog):
        return None
    counts = _library_counts(data_catalog, wait)
    if counts is None:
        return None
    files, athletes, tokens = counts
    if not (files or athletes):  # a first start's token alone is no library to lose
        return None
    return LeftBehind(data_catalog, files, athletes, tokens, shown_database_url(url))


def make_new(url: str) -> str:
    """How a person makes the catalog at `url` (shown or not) new again, as a clause: a
    PostgreSQL database dropped and created empty by its owner (the URL's host, port, user and
    name written in), a SQLite file moved aside. Refusals of a catalog that is not new name
    this, not "drop its tables", which left a person to find which ones and how."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "drop that database and create it again, empty"
    if parsed.get_backend_name() == "sqlite" and parsed.database:
        path = Path(parsed.database)
        return f"move {path.name} (with its -wal and -shm files, if any) out of {path.parent}"
    if parsed.get_backend_name() != "postgresql" or not parsed.database:
        return "drop that database and create it again, empty"
    flags = _pg_flags(url)
    owner = f" -O {parsed.username}" if parsed.username else ""
    return (
        f"recreate the database empty, as its owner or a superuser: dropdb{flags} "
        f"{parsed.database}, then createdb{flags}{owner} {parsed.database}"
    )


def _pg_flags(url: str) -> str:
    """The host, port and user of a PostgreSQL URL as the client programs take them."""
    parsed = make_url(url)
    return "".join(
        f" {flag} {value}"
        for flag, value in (("-h", parsed.host), ("-p", parsed.port), ("-U", parsed.username))
        if value
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


def _reading(path: Path, wait: float) -> sqlite3.Connection:
    """A connection that only reads the SQLite catalog at `path`, someone else's: it makes no
    file beside it and writes nothing into it, and waits at most `wait` seconds for another
    program holding it.

    A read-write connection made its -wal and -shm files (and, as their last user, checkpointed
    into the catalog and removed them). A read-only one (mode=ro) makes them as well, and
    leaves them. So: with both there (a MediaDesk using the catalog, or one that crashed),
    mode=ro reads the catalog and its -wal through them, creating nothing; without (a catalog
    closed cleanly: all of it in the file), immutable=1 reads the file alone, without SQLite's
    locks; a -wal with content but no -shm is read through (see below). Should the catalog's
    last user close it between the look and the open, mode=ro makes the two files again, with
    the catalog's own mode and owner, as its next open would."""
    shared = all(os.path.exists(f"{path}{suffix}") for suffix in ("-wal", "-shm"))
    uri = f"{Path(os.path.abspath(path)).as_uri()}?mode=ro"
    if shared:
        return sqlite3.connect(uri, uri=True, timeout=wait)
    try:
        unread = os.path.getsize(f"{path}-wal") > 0
    except OSError:
        unread = False
    if unread:
        # A -wal without its -shm (a MediaDesk killed, then its -shm deleted by a backup that
        # skips it or a clean-up of "temporary files"): the library may be all in it, and
        # immutable=1 read an empty catalog, so a start set up a new, empty library beside it.
        # mode=ro reads it (making the -shm, with the catalog's mode, as its next open would);
        # only a program holding the catalog in SQLite's exclusive locking mode keeps it out,
        # and then the file alone is read.
        conn = sqlite3.connect(uri, uri=True, timeout=wait)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
    return sqlite3.connect(f"{uri}&immutable=1", uri=True, timeout=wait)


def _library_counts(path: Path, wait: float = COUNT_TIMEOUT) -> tuple[int, int, int] | None:
    """(files, athletes, active tokens) of a SQLite catalog, only read; None when it is not
    one that can be read. Files as the library counts them: ready ones, trashed ones included,
    not a duplicate upload's other name."""
    try:
        with closing(_reading(path, wait)) as conn:
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


@dataclass(frozen=True)
class CopiedAway:
    """The SQLite catalog in use was copied by `mediadesk catalog copy` to `target` (shown
    without its password): the library lives there now. A start on the old file (the desktop
    opened without DATABASE_URL, a shell without it) served the old library silently beside
    the same stored files, and its maintenance deleted bytes the new catalog still listed (a
    file restored from the trash there, purged from the old trash here)."""

    catalog: Path
    target: str
    at: str

    @property
    def marker(self) -> Path:
        return copied_marker(self.catalog)

    @property
    def detail(self) -> str:
        return (
            f"this catalog, {self.catalog}, was copied to {self.target} by `mediadesk catalog "
            f"copy` at {self.at}: the library lives there now, and this copy shares its stored "
            "files (its maintenance and deletions would remove files the other still lists)"
        )

    @property
    def fix(self) -> str:
        return (
            f"Set DATABASE_URL (or database_url in settings.toml) to {self.target} on this "
            "machine (`mediadesk catalog copy --save` writes it). Only to give that catalog up "
            f"and use this one again, delete {self.marker}."
        )

    def error(self) -> SettingsError:
        return SettingsError(
            f"The start was refused: {self.detail}. {self.fix} Nothing was changed.",
            reason=CATALOG_COPIED,
            details={"catalog": str(self.catalog), "copied_to": self.target, "at": self.at},
        )


def copied_marker(catalog: Path) -> Path:
    return catalog.with_name(catalog.name + COPIED_SUFFIX)


def mark_copied(catalog: Path, target: str, at: str) -> None:
    """Records beside the SQLite `catalog` that it was copied to `target` (shown): every later
    start on it is refused (`copied_away`). Another copy from it stays allowed."""
    import json

    from core.settings import _write_atomic

    _write_atomic(copied_marker(catalog), json.dumps({"copied_to": target, "at": at}) + "\n")


def copied_away(url: str) -> CopiedAway | None:
    """The record `mark_copied` left beside the SQLite catalog `url` names, if any (a stat for
    every other start)."""
    import json

    try:
        parsed = make_url(url)
    except ArgumentError:
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database:
        return None
    catalog = Path(parsed.database)
    marker = copied_marker(catalog)
    try:
        told = json.loads(marker.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:  # unreadable or cut: still a copied catalog
        logger.debug("The record %s was not read: %s", marker, exc)
        told = {}
    if not isinstance(told, dict):
        told = {}
    return CopiedAway(
        catalog, str(told.get("copied_to") or "another catalog"), str(told.get("at") or "?")
    )


def refuse_copied(url: str) -> None:
    found = copied_away(url)
    if found is not None:
        raise found.error()
