"""`mediadesk doctor`: checks a set-up (catalog, bucket, change feed, clocks) and says what to fix.

It never changes the catalog's schema (unlike start-up, which migrates): a catalog that is not
migrated is reported, with the command that migrates it.
"""

from __future__ import annotations

import fnmatch
import itertools
import json
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from core import feed
from core.db.disk import check_remote_folder, remote_filesystem, remote_note
from core.db.engine import (
    CATALOG_DAMAGED,
    SHORTER_CATALOG_PATH,
    Database,
    catalog_folder,
    catalog_read_only,
    check_catalog_path,
    sqlite_path_too_long,
    unopenable,
)
from core.errors import (
    CATALOG_BUSY,
    MediaDeskError,
    StorageUnavailable,
    catalog_busy,
    catalog_locked,
    is_no_space,
    no_room,
    passing_outage,
    sqlite_damaged,
    sqlite_read_only,
)
from core.events import ChangeEvent
from core.metadata import mediainfo_version
from core.secrets import shown_database_url
from core.settings import ENV_NAMES, R2_FIELDS, STORAGE_FIX, Settings, origin_key

MAX_SKEW_SECONDS = 60.0  # SigV4 refuses requests more than 15 min off; warn well before
FEED_TIMEOUT = 5.0
# A catalog MediaDesk never started on (no file yet, or one without a single table) is not a
# failed upgrade: "schema at nothing … Upgrade every other MediaDesk" sent a newcomer's first
# `mediadesk doctor` after a problem they did not have, and its exit status 1 with it.
NEW_CATALOG = (
    "none yet: a new catalog, set up at MediaDesk's first start (`mediadesk serve` or the app)"
)
NEW_FEED = "not checked: a new catalog"
MIGRATING = "a migration is running"
# Problems a damaged SQLite catalog's quick_check names (it stops there): the first say enough
DAMAGE_SHOWN = 3
# A new catalog over a storage holding MediaDesk's objects (_stored_without_catalog)
STORAGE_WITHOUT_CATALOG = "storage_without_catalog"
# Objects of each media folder looked at for one in the uploads' layout (a catalog that is new)
STRAY_LOOK = 2000
# The fix of a catalog another program holds locked: not the file's permissions, which were
# given for it though the file was fine.
LOCKED_FIX = (
    "Close the program holding it (a database browser, a backup tool, a script), then run "
    "`mediadesk doctor` again."
)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    warning: bool = False  # ok, but worth a look
    # what was found, as codes a script reads (`mediadesk doctor --json`) rather than matching
    # the detail's English: e.g. catalog_damaged, storage_without_catalog, rows_without_objects
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _head_revision() -> str:
    from alembic.script import ScriptDirectory

    from core.db.migrate import MIGRATIONS, alembic_config

    cfg = alembic_config("sqlite://")
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return str(ScriptDirectory.from_config(cfg).get_current_head())


def check_catalog(db: Database) -> list[Check]:
    from core.db.migrate import VERSION_TABLE

    url = shown_database_url(db.url)
    running = _migration_running(db, url)
    if running:
        return running
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            # The tables first, the version only if its table is there: on PostgreSQL a failed
            # read of it aborted the transaction, and listing the tables in it then called a
            # new database unreachable (InFailedSqlTransaction)
            tables = inspect(conn).get_table_names()
            current = (
                conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
                if VERSION_TABLE in tables
                else None
            )
    except Exception as exc:
        return [_unreachable(db, url, exc)]
    if not tables:
        return _new_catalog(db.url, f"{url} reachable, empty")
    if current is None:
        return _unrecorded_catalog(db, url, tables)
    damaged = _damaged(db)
    if damaged is not None:
        return [damaged]
    refused = _write_refused(db)
    if refused is not None:
        return [refused]
    head = _head_revision()
    checks = [Check("catalog", True, f"{url} reachable")]
    folder = catalog_folder(db.url)
    remote = remote_filesystem(folder) if folder is not None else None
    if folder is not None and remote is not None:
        checks.append(Check("catalog disk", True, remote_note(folder, remote), warning=True))
    from core.db.migrate import newer_revisions

    if current is not None and newer_revisions([current]):
        checks.append(
            Check(
                "migrations",
                False,
                f"schema at {current}, newer than this MediaDesk ({head})",
                "A newer MediaDesk migrated this catalog: install that version (or a newer "
                "one) here. Every MediaDesk on one catalog must run the same version.",
            )
        )
    elif current != head:
        # The start that migrates refuses while other MediaDesk processes run on the catalog
        # (core/db/schema_guard.py): the fix names them, or it sends the user into a refusal.
        from core.db import schema_guard

        try:
            with db.engine.connect() as conn:
                alive = schema_guard.others_alive(conn)
        except Exception:  # noqa: BLE001 - only the advice depends on it
            alive = []
        stop = (
            f"Stop the MediaDesk processes running on this catalog first "
            f"({', '.join(alive)}; a start refuses to migrate under them, unless "
            f"{schema_guard.FORCE_ENV}=1). "
            if alive
            else ""
        )
        checks.append(
            Check(
                "migrations",
                False,
                f"schema at {current or 'nothing'}, this MediaDesk needs {head}",
                f"{stop}Start MediaDesk once (`mediadesk serve` or the app) on this catalog: "
                "it migrates the catalog at start-up. Upgrade every other MediaDesk on this "
                "catalog to the same version.",
            )
        )
    else:
        checks.append(Check("migrations", True, f"schema at {head} (current)"))
    return checks


def _migration_running(db: Database, url: str) -> list[Check]:
    """The checks of a catalog another process is migrating now (empty when none is): the
    doctor waited behind the migration in silence (its test write, for up to 30 s), then read
    the old revision and advised a start that was running. Asked first, as nothing else
    here waits for it; a catalog that cannot be asked is the next checks' to say."""
    from core.db.migrate import migrations_running

    try:
        running = migrations_running(db.engine)
    except Exception:  # noqa: BLE001 - said by the catalog check that follows
        return []
    if not running:
        return []
    return [
        Check("catalog", True, f"{url} (being migrated)"),
        Check(
            "migrations",
            False,
            f"{MIGRATING} (process {', '.join(running)})",
            "Wait for it to finish (a big catalog takes minutes), then run `mediadesk doctor` "
            "again.",
        ),
    ]


def _unrecorded_catalog(db: Database, shown: str, tables: list[str]) -> list[Check]:
    """The checks of a catalog with tables but no recorded revision: an empty or missing
    alembic_version. Holding none of MediaDesk's tables it is new (a start sets it up, beside
    another application's tables); holding some, a start refuses it (core/db/migrate.py
    Unrecorded): "schema at nothing", with the advice to start MediaDesk once, sent the user
    into a start that failed with "table api_tokens already exists"."""
    from core.db.migrate import VERSION_TABLE, unrecorded

    try:
        with db.engine.connect() as conn:
            found = unrecorded(conn, shown)
    except Exception as exc:
        return [_unreachable(db, shown, exc)]
    if found is None:
        others = [t for t in tables if t != VERSION_TABLE]
        found_here = f"{shown} reachable" if others else f"{shown} reachable, empty"
        return _new_catalog(db.url, found_here, _named(others) if others else "")
    return [
        Check("catalog", True, f"{shown} reachable"),
        Check("migrations", False, found.detail, found.fix),
    ]


def _named(tables: list[str], most: int = 5) -> str:
    shown = ", ".join(sorted(tables)[:most])
    return f"{shown}, and {len(tables) - most} more" if len(tables) > most else shown


def _new_catalog(url: str, found: str, others: str = "") -> list[Check]:
    """The checks of a catalog with nothing in it yet (`found` says what is there; `others`
    names another application's tables in it), or the failed one of a SQLite catalog whose
    folder the first start could not write."""
    refused = catalog_read_only(url)
    if refused is not None:
        return [
            Check(
                "catalog",
                False,
                refused.message,
                "Make the data folder writable for this user (remount the disk read-write, "
                "chattr -i), or choose another data folder.",
            )
        ]
    checks = [Check("catalog", True, found)]
    folder = catalog_folder(url)
    remote = remote_filesystem(folder) if folder is not None and folder.is_dir() else None
    if folder is not None and remote is not None:
        checks.append(Check("catalog disk", True, remote_note(folder, remote), warning=True))
    if not others:
        checks.append(Check("migrations", True, NEW_CATALOG))
        return checks
    checks.append(
        Check(
            "migrations",
            True,
            f"{NEW_CATALOG}; it holds other tables, none of them MediaDesk's ({others})",
            "MediaDesk's tables will be set up beside them: if that is not meant, point "
            "DATABASE_URL at a database of MediaDesk's own.",
            warning=True,
        )
    )
    return checks


def _catalog_file(url: str) -> Path | None:
    """A SQLite catalog's file (None for a server database or one in memory)."""
    if catalog_folder(url) is None:
        return None
    return Path(url.split("///", 1)[-1].split("?", 1)[0])


def _write_refused(db: Database) -> Check | None:
    """The failed catalog check of a SQLite catalog that opens and reads but takes no write: a
    full disk, a file SQLite could only open read-only (a disk remounted read-only, chattr +i).
    It was called reachable and migrated, and the change feed's test write then showed
    SQLAlchemy's raw OperationalError. The probe commits a row unchanged, so it meets what any
    write meets (a -wal with no room to grow) and changes nothing."""
    if not db.is_sqlite:
        return None
    try:
        with db.engine.execution_options(mediadesk_write=True).begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = version_num"))
    except SQLAlchemyError as exc:
        return _unwritable(db, exc)
    return None


def _damaged(db: Database) -> Check | None:
    """The failed catalog check of a SQLite catalog whose pages SQLite's quick_check finds
    inconsistent (None for a whole one, and for PostgreSQL, which has no such check). A backup
    copied over the catalog with a killed server's -wal left beside it opens and answers the
    reads above, yet SQLite applies that -wal's pages, from another state, to the restored file:
    the doctor called it reachable and all good. quick_check reads every page once (O(N): 0.01 s
    for a catalog of 10,000 files) and stops at the first DAMAGE_SHOWN problems."""
    if not db.is_sqlite:
        return None
    try:
        with db.engine.connect() as conn:
            rows = conn.exec_driver_sql(f"PRAGMA quick_check({DAMAGE_SHOWN})").scalars()
            # a row may hold several lines, under a "*** in database main ***" heading
            found = [
                line.strip()
                for row in rows
                for line in str(row).splitlines()
                if line.strip() and not line.startswith("***")
            ][:DAMAGE_SHOWN]
    except SQLAlchemyError as exc:
        if not sqlite_damaged(exc):
            return None  # a lock or a disk fault: the write probe that follows says it
        # a page too damaged for the check to go on ("database disk image is malformed")
        found = [str(getattr(exc, "orig", None) or exc).strip()]
    if found in ([], ["ok"]):
        return None
    path = str(db.engine.url.database)
    return Check(
        "catalog",
        False,
        f"The catalog file {path} is damaged (SQLite's quick_check: {'; '.join(found)})",
        _damaged_fix(path),
        reasons=(CATALOG_DAMAGED,),
    )


def _damaged_fix(path: str) -> str:
    """What to do of a damaged SQLite catalog: README's restore steps (*Backups and
    restoring*), its -wal and -shm removed, since a stale -wal is what damages a good copy."""
    return (
        f"The catalog file {path} is damaged: with MediaDesk stopped, put a whole copy of it "
        f"in its place from a backup and remove {path}-wal and {path}-shm beside it (README, "
        "*Backups and restoring*), then run `mediadesk maintenance` to compare the store with "
        f'it. Without a backup, `sqlite3 {path} ".recover" | sqlite3 recovered.sqlite3` saves '
        "what it can read into a new file, to put in its place. Keep the damaged file aside "
        "rather than deleting it."
    )


def _unwritable(db: Database, exc: BaseException) -> Check | None:
    """The catalog check that a write failing with `exc` fails, when the catalog cannot be
    written at all (None for any other failure)."""
    path = db.engine.url.database
    if _locked(exc):
        # A lock that lets readers in (BEGIN EXCLUSIVE in WAL) passed the reads: ignoring the
        # probe's busy error called the catalog reachable, and only the change feed's line
        # said it, as a truncated "StorageUnavailable: …".
        return Check("catalog", False, catalog_locked(path).message, LOCKED_FIX)
    if is_no_space(exc):
        # start-up's own sentence for it (core/db/engine.py), or the domain error's
        if isinstance(exc, MediaDeskError):
            said = exc.message
        elif isinstance(exc, SQLAlchemyError):
            said = unopenable(db.url, exc).message
        else:
            said = "The disk holding the catalog is full"
        return Check(
            "catalog",
            False,
            said,
            "Free some space on that disk (or move the data folder to a disk with room: "
            "--data-dir), then run `mediadesk doctor` again.",
        )
    if sqlite_read_only(exc):
        return Check(
            "catalog",
            False,
            f"the catalog file {path} cannot be written (a read-only disk, a file made "
            "immutable, or no permission to write it or its -wal and -shm files)",
            "Make the catalog file, its -wal and -shm files and its folder writable for this "
            "user (remount the disk read-write, chattr -i), or choose another data folder.",
        )
    return None


def _locked(exc: BaseException) -> bool:
    """Another program held the catalog locked past the busy timeout: SQLite's own error, or
    a session's catalog_locked made of it (core/db/engine.py)."""
    return catalog_busy(exc) or (isinstance(exc, StorageUnavailable) and exc.reason == CATALOG_BUSY)


def _unreachable(db: Database, url: str, exc: Exception) -> Check:
    """The failed catalog check, with advice for the kind of catalog it is: a SQLite file's
    failure was answered with PostgreSQL's (host, port, user…) though no DATABASE_URL was set."""
    if not db.is_sqlite:
        return Check(
            "catalog",
            False,
            f"{url}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
            "Check DATABASE_URL (host, port, user, password, database name) and that "
            "the database server accepts connections from this machine.",
        )
    too_long = sqlite_path_too_long(db.url)
    if too_long is not None:
        return Check("catalog", False, too_long, SHORTER_CATALOG_PATH)
    said = unopenable(db.url, exc).message if isinstance(exc, SQLAlchemyError) else str(exc)
    detail = f"{url}: {said.splitlines()[0][:300] if said else type(exc).__name__}"
    if _locked(exc):
        return Check("catalog", False, detail, LOCKED_FIX)
    if sqlite_damaged(exc):
        # its permissions and free space were the advice, though neither mends a cut file
        return Check(
            "catalog",
            False,
            detail,
            reasons=(CATALOG_DAMAGED,),
            fix=_damaged_fix(str(db.engine.url.database)),
        )
    return Check(
        "catalog",
        False,
        detail,
        f"The catalog is the SQLite file {db.engine.url.database}: this user must be able to "
        "read and write it and its folder, on a disk with free space (--data-dir or "
        "MEDIADESK_DATA_DIR choose the data folder, DATABASE_URL another catalog).",
    )


def check_storage(settings: Settings) -> list[Check]:
    from core.storage.factory import build_storage

    problem = settings.storage_problem
    if problem:
        head, _, fix = problem.partition(". ")
        return [Check("storage settings", False, head, fix)]
    try:
        storage, _ = build_storage(settings)
        storage.check()
    except MediaDeskError as exc:
        if is_no_space(exc) and not settings.uses_r2:
            # it was "is not writable: [Errno 28] No space left on device", with the fix to
            # check the folder's permissions
            return [
                Check(
                    "bucket",
                    False,
                    # not a request's "to save the file": nothing was being saved
                    f"local folder {settings.paths.objects_dir}: its disk is full",
                    LOCAL_FULL_FIX,
                )
            ]
        return [Check("bucket", False, exc.message, _bucket_fix(exc, settings))]
    if not settings.uses_r2:
        return [Check("bucket", True, f"local folder {settings.paths.objects_dir}")]
    checks = [Check("bucket", True, f"{settings.r2_bucket_name} at {settings.r2_endpoint_url}")]
    client = getattr(storage, "client", None)
    if client is None:
        return checks
    checks.append(_check_cors(client, settings))
    checks.append(_check_skew(client, settings))
    return checks


def check_other_storages(settings: Settings, db: Database) -> list[Check]:
    """Every storage the catalog has files on besides the active one (a move stopped part-way,
    or `storage_backend = "local"` after R2): it was "All good." while those files answered
    storage_not_configured to every read, since only the active storage was checked. Each must
    be configured (R2's endpoint, bucket and keys) and answer."""
    from core.storage.factory import build_backend
    from core.storage_migration import files_by_backend

    try:
        counts = files_by_backend(db)
    except Exception:  # noqa: BLE001 - the catalog checks say what is wrong with it
        return []
    checks = []
    for name, count in sorted(counts.items()):
        if name == settings.backend_name:
            continue  # check_storage's
        files = f"{count} file{'' if count == 1 else 's'}"
        if name == "r2" and settings.storage_problem:
            continue  # check_storage failed "storage settings" with its fix already
        if name == "r2" and not settings.r2_configured:
            missing = [ENV_NAMES[n] for n in R2_FIELDS if not getattr(settings, n)]
            checks.append(
                Check(
                    "storage settings",
                    False,
                    f"{files} of the catalog are on R2, but R2 is not configured here "
                    f"(missing: {', '.join(missing)}): they cannot be shown, downloaded or "
                    "moved",
                    f"{STORAGE_FIX}. Or bring them back to the local folder: run 'mediadesk "
                    "storage migrate --to local' with the R2_* variables set.",
                    reasons=("storage_not_configured",),
                )
            )
            continue
        where = (
            f"{settings.r2_bucket_name} at {settings.r2_endpoint_url}"
            if name == "r2"
            else f"local folder {settings.paths.objects_dir}"
        )
        try:
            build_backend(settings, name).check()
        except MediaDeskError as exc:
            fix = _bucket_fix(exc, settings, on_r2=name == "r2")
            checks.append(Check(f"{name} storage", False, f"{files}: {exc.message}", fix))
            continue
        checks.append(Check(f"{name} storage", True, f"{files} in {where}"))
    return checks


STATUS_PAGES = (
    "the storage provider's status page (Cloudflare R2: https://www.cloudflarestatus.com)"
)
# The fix of a bucket check that met the store out of reach, throttling or failing inside
# (core.errors.STORE_OUT_REASONS): an outage that passes by itself. The settings' advice sent
# an administrator to change settings that were right (README: only set-up faults point there).
STORE_OUT_FIXES = {
    "endpoint_unreachable": "The store is out of reach now: try again later; check this "
    f"machine's network and {STATUS_PAGES}. If it never answers, check that R2_ENDPOINT_URL "
    "is your account's endpoint.",
    "storage_throttled": "The store is throttling (it asks for fewer requests): try again "
    f"later; if it lasts, check {STATUS_PAGES} and what else sends this bucket requests. The "
    "storage settings are not the problem.",
    "storage_server_error": "The store is failing on its side: try again later; check "
    f"{STATUS_PAGES}. The storage settings are not the problem.",
}
SETUP_FIX = (
    "Check R2_ENDPOINT_URL, R2_BUCKET_NAME and the R2 token (Object Read & Write on this bucket)."
)
LOCAL_FULL_FIX = (
    "Free some space on the disk holding the data folder (or move it to a disk with room: "
    "--data-dir); uploads are refused until then."
)


def _bucket_fix(exc: MediaDeskError, settings: Settings, on_r2: bool | None = None) -> str:
    """What to do about a failed bucket check, by its reason: a set-up fault (or a failure
    with no known reason) points to the storage settings, an outage says to try again later.
    `on_r2`: the store checked is R2 (default: the active one is)."""
    if not (settings.uses_r2 if on_r2 is None else on_r2):
        # the local folder's check of files left there under R2 (a move back that filled the
        # disk) said to check permissions of a folder whose disk was full
        return LOCAL_FULL_FIX if no_room(exc) else "Check the data folder's permissions."
    if passing_outage(exc):
        return STORE_OUT_FIXES.get(exc.reason or "", SETUP_FIX)
    return SETUP_FIX


def _check_cors(client: Any, settings: Settings) -> Check:
    origins = [o for o in (getattr(settings, "cors_origins", None) or []) if o]
    try:
        rules = client.get_bucket_cors(Bucket=settings.r2_bucket_name).get("CORSRules", [])
    except Exception as exc:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
        if code in ("NoSuchCORSConfiguration", "NoSuchCors"):
            rules = []
        else:
            return Check("bucket CORS", False, f"could not read the CORS rules: {code}", "")
    fix = (
        "Browsers upload straight to the bucket: add a CORS rule allowing PUT and GET from "
        'your web origins, with "AllowedHeaders": ["content-type"] (or "*") and '
        '"ExposeHeaders": ["ETag"] (README, Cloudflare R2).'
    )
    if not rules:
        return Check("bucket CORS", False, "no CORS rule on the bucket", fix)
    puts = [r for r in rules if "PUT" in {m.upper() for m in r.get("AllowedMethods", [])}]
    if not puts:
        return Check("bucket CORS", False, "the CORS rules do not allow PUT", fix)
    # A browser's PUT sends Content-Type (a preflighted header the rule must allow); the page
    # reads each part's ETag for the confirm, which it sees only if the rule exposes it
    uploads = [r for r in puts if _allows_header(r, BROWSER_UPLOAD_HEADER)]
    if not uploads:
        return Check(
            "bucket CORS",
            False,
            f"no CORS rule allowing PUT allows the {BROWSER_UPLOAD_HEADER} header "
            "browser uploads send",
            fix,
        )
    uploads = [r for r in uploads if _exposes_etag(r)]
    if not uploads:
        return Check(
            "bucket CORS",
            False,
            "no CORS rule allowing PUT exposes ETag (multipart uploads from browsers need it)",
            fix,
        )
    allowed = {o for r in uploads for o in r.get("AllowedOrigins", [])}
    # The bucket compares the Origin browsers send with its rules as written, where the server
    # compares both in the browsers' form (origin_key): a configured https://Club.Example:443
    # is allowed by a rule for https://club.example, and a rule for https://club.example:443
    # allows nothing
    sent = {o: origin_key(o) or o for o in origins}
    missing = [o for o in origins if not any(_allows_origin(a, sent[o]) for a in allowed)]
    misspelt = {a: key for a in allowed if (key := origin_key(a)) is not None and key != a}
    note = ""
    if misspelt:
        note = (
            "the bucket's rules must write each origin as browsers send it (lower-case, no :443 "
            "or :80, a host name in its xn-- form, an IPv6 address shortest): "
            + ", ".join(f"{a} as {key}" for a, key in sorted(misspelt.items()))
        )
    if missing:
        named = [o if sent[o] == o else f"{sent[o]} (set as {o})" for o in missing]
        detail = f"origins not allowed to upload by the bucket: {', '.join(named)}"
        return Check("bucket CORS", False, f"{detail}; {note}" if note else detail, fix)
    detail = f"{len(rules)} rule(s); uploads from {sorted(allowed)}"
    if note:  # those rules match no browser, though what is configured is allowed
        return Check("bucket CORS", True, f"{detail}; {note}", warning=True)
    return Check("bucket CORS", True, detail)


BROWSER_UPLOAD_HEADER = "content-type"


def _allows_header(rule: dict[str, Any], header: str) -> bool:
    """S3 matches AllowedHeaders case-insensitively, each entry with at most one `*`."""
    return any(
        fnmatch.fnmatchcase(header, pattern.lower().replace("[", "[[]").replace("?", "[?]"))
        for pattern in rule.get("AllowedHeaders", [])
    )


def _allows_origin(entry: str, origin: str) -> bool:
    """S3 (and R2) match an AllowedOrigins entry as written, case and all, except for its one
    `*`, which stands for any characters (`*` alone: every origin); `?` and `[` are plain
    characters there, so they are escaped for fnmatch."""
    return fnmatch.fnmatchcase(origin, entry.replace("[", "[[]").replace("?", "[?]"))


def _exposes_etag(rule: dict[str, Any]) -> bool:
    exposed = {h.lower() for h in rule.get("ExposeHeaders", [])}
    return "etag" in exposed or "*" in exposed  # R2 accepts "*" here too


def _check_skew(client: Any, settings: Settings) -> Check:
    try:
        started = time.time()
        answer = client.head_bucket(Bucket=settings.r2_bucket_name)
        ended = time.time()
        date = answer["ResponseMetadata"]["HTTPHeaders"].get("date")
        theirs = parsedate_to_datetime(date).timestamp()
    except Exception as exc:
        return Check("clock", False, f"could not read the bucket's clock: {exc}", "")
    skew = theirs - (started + ended) / 2
    detail = f"this machine is {abs(skew):.1f} s {'behind' if skew > 0 else 'ahead of'} the bucket"
    if abs(skew) > MAX_SKEW_SECONDS:
        return Check(
            "clock",
            False,
            detail,
            "Turn on time synchronisation (systemd-timesyncd, chrony or Windows time): signed "
            "URLs and uploads fail when clocks differ by more than 15 minutes.",
        )
    return Check("clock", True, detail)


def check_feed(db: Database) -> Check:
    """Writes one event through the change log and waits to hear it as another process would."""
    origin = feed.origin_of(db)
    postgres = db.engine.dialect.name == "postgresql"
    listener = None
    try:
        if postgres:
            import psycopg

            listener = psycopg.connect(feed.pg_conninfo(db), autocommit=True, connect_timeout=5)
            listener.execute(f"LISTEN {feed.CHANNEL}")
        before = feed.last_change_id(db)
        feed.record_event(db, ChangeEvent("doctor", None, {"at": datetime.now(UTC).isoformat()}))
        started = time.monotonic()
        heard = False
        while time.monotonic() - started < FEED_TIMEOUT:
            if listener is not None:
                for note in listener.notifies(timeout=0.2, stop_after=1):
                    heard = heard or json.loads(note.payload).get("origin") == origin
            logged = any(e.kind == "doctor" and e.origin == origin for e in feed.since(db, before))
            if logged and (listener is None or heard):
                ms = (time.monotonic() - started) * 1000
                how = "LISTEN/NOTIFY" if postgres else "change-log polling"
                return Check("change feed", True, f"{how}: a test change arrived in {ms:.0f} ms")
            if listener is None:
                time.sleep(0.05)
        return Check(
            "change feed",
            False,
            "a test change was written but not heard within 5 s",
            "On PostgreSQL, a connection pooler in transaction mode (PgBouncer) drops LISTEN: "
            "point DATABASE_URL at the database itself or use session pooling.",
        )
    except Exception as exc:
        unwritable = _unwritable(db, exc) if db.is_sqlite else None
        if unwritable is not None:  # the catalog check found it writable a moment ago
            return Check("change feed", False, unwritable.detail, unwritable.fix)
        return Check(
            "change feed",
            False,
            f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}",
            "The catalog must be reachable and migrated (see above).",
        )
    finally:
        if listener is not None:
            listener.close()


def check_reconcile(db: Database) -> Check:
    """The last comparison of the store with the catalog (`mediadesk maintenance`, or the
    server's daily one), as recorded in the catalog: listing the whole bucket again here
    would make the doctor as slow as the bucket is big."""
    from core.leader import last_reconcile

    last = last_reconcile(db)
    if last is None:
        return Check(
            "reconcile",
            True,
            "the store was never compared with this catalog",
            "Run `mediadesk maintenance`: it lists files whose bytes are missing or damaged.",
            warning=True,
        )
    at, summary = last
    when = at.astimezone(UTC).isoformat(timespec="seconds")
    if "error" in summary:
        return Check(
            "reconcile", True, f"the last one ({when}) failed: {summary['error']}", warning=True
        )
    # a configured storage other than the active one that could not be listed was not checked
    unlisted = summary.get("unreachable_backends") or []
    under_way = _claimed(summary) + _foreign(summary)
    rebuild = _missing_derivatives(summary)
    if summary.get("clean", True):
        if unlisted:
            return Check(
                "reconcile",
                True,
                f"the store matched the catalog at {when}, but the {', '.join(unlisted)} "
                f"storage could not be listed{under_way}{rebuild[0]}",
                # not "(`mediadesk doctor`)": this is the doctor, and the storage checks
                # above say what that storage lacks
                "Make that storage usable (the storage checks above say what it lacks: "
                "its settings and keys, or a store that answers), then run "
                "`mediadesk maintenance` again." + rebuild[1],
                warning=True,
            )
        if rebuild[0]:  # the originals are whole: worth a look, nothing lost
            return Check(
                "reconcile",
                True,
                f"the store matched the catalog at {when}{under_way}{rebuild[0]}",
                rebuild[1].strip(),
                warning=True,
            )
        return Check("reconcile", True, f"the store matched the catalog at {when}{under_way}")
    found = [
        f"{label} {_ids(summary.get(name), summary.get(f'{name}_count'))}"
        if label
        else _unknown_objects(summary.get(name))
        for name, label in (
            ("rows_without_objects", "files without their object:"),
            ("size_mismatch", "files whose object is not the recorded size:"),
            ("objects_without_rows", ""),
            ("orphan_partials", "partial files of writers that are gone:"),
        )
        if summary.get(name)
    ]
    where = summary.get("objects_without_rows_by_backend") or {}
    if where:  # which storage to look in
        found.append("in " + ", ".join(f"{name}: {n}" for name, n in sorted(where.items())))
    if unlisted:
        found.append(f"not listed (unreachable): {', '.join(unlisted)}")
    fixes = ["Run `mediadesk maintenance` for the full list."]
    if summary.get("rows_without_objects"):
        fixes.append(
            "Files without their object: after a restore of the catalog, these are files "
            "moved to another athlete or deleted while the backup was taken. Run `mediadesk "
            "maintenance --adopt-strays` first (it puts a moved file's bytes back at its "
            "place), then `mediadesk maintenance --forget-missing` to forget those whose bytes "
            "are gone for good (it refuses when much of the storage seems missing). Without "
            "such a restore, restore those files' bytes from a backup (or delete those files)."
        )
    if summary.get("rows_without_objects") or summary.get("objects_without_rows"):
        # API tokens live only in the catalog: a restored one brings back those revoked
        # since its backup, and nothing else could tell
        fixes.append(RESTORED_TOKENS)
    if summary.get("size_mismatch"):
        fixes.append("Restore the damaged files' bytes from a backup (or delete those files).")
    if summary.get("objects_without_rows"):
        fixes.append(
            "Run `mediadesk maintenance --adopt-strays` to bring the photos and videos among "
            "the unknown objects back into the library (it names those it leaves: duplicates "
            "of a file, unreadable or not media); only then move what is left out of the "
            "storage, once you know nothing needs it."
        )
    return Check(
        "reconcile",
        False,
        f"at {when}: " + "; ".join(found) + under_way + rebuild[0],
        " ".join(fixes)
        + rebuild[1]
        + " `mediadesk maintenance` again then records the store as clean.",
        reasons=tuple(name for name in RECONCILE_FINDINGS if summary.get(name)),
    )


# After a restore of the catalog, its API tokens are the backup's
RESTORED_TOKENS = (
    "After a restore of the catalog, its API tokens are those of the backup: a token revoked "
    "since works again (`mediadesk token list`, then `mediadesk token revoke ID` again), and "
    "one made since is refused (make it again)."
)
# The reconcile summary's findings that make it unclean, named as the summary names them
RECONCILE_FINDINGS = (
    "rows_without_objects",
    "size_mismatch",
    "objects_without_rows",
    "orphan_partials",
)


def _unknown_objects(count: object) -> str:
    """The strays (objects_without_rows, a count in the summary), said as what they usually
    are: "objects no file names" sent people to move the only copies of their photos away."""
    one = count == 1
    return (
        f"{count} stored object{'' if one else 's'} the catalog does not know (e.g. after "
        "restoring an older catalog)"
    )


def _foreign(summary: dict[str, Any]) -> str:
    """The objects outside MediaDesk's folders (another application's in a shared bucket),
    said as left alone; "" without any."""
    count = summary.get("foreign_objects")
    if not isinstance(count, int) or not count:
        return ""
    examples = summary.get("foreign_examples") or []
    shown = f" (e.g. {', '.join(str(k) for k in examples[:3])})" if examples else ""
    them = "it is" if count == 1 else "they are"
    return (
        f"; {count} object{'' if count == 1 else 's'} outside MediaDesk's folders{shown}: "
        f"another application's, {them} left alone"
    )


def _missing_derivatives(summary: dict[str, Any]) -> tuple[str, str]:
    """(what to say, the fix) of the videos whose web copy, HLS or scrub thumbnails are gone
    (core/maintenance.py missing_derivatives); ("", "") without any."""
    ids = summary.get("missing_derivatives")
    if not ids:
        return "", ""
    count = summary.get("missing_derivatives_count")
    first = ids[0] if isinstance(ids, list) else "ID"
    return (
        "; videos missing files their processing made (web copy, HLS, scrub thumbnails): "
        + _ids(ids, count),
        f" Run `mediadesk reprocess ID` for each of those videos (e.g. `mediadesk reprocess "
        f"{first}`): it makes them again from the original.",
    )


def _claimed(summary: dict[str, Any]) -> str:
    """The files reconcile found in the trash under a claim for deletion, their bytes gone
    (core/maintenance.py claimed_deletions): a deletion that finishes by itself, said as such
    lest they be restored from a backup as lost files; "" without any."""
    count = summary.get("claimed_deletions_count")
    if not isinstance(count, int):
        count = len(summary.get("claimed_deletions") or [])
    if not count:
        return ""
    after = summary.get("claimed_deletions_settle_after")
    files = "1 file is" if count == 1 else f"{count} files are"
    it = "it is" if count == 1 else "they are"
    return (
        f"; {files} being deleted (a deletion was interrupted); {it} finished by the next "
        f"maintenance{f' after {after}' if after else ''}"
    )


def _ids(value: object, count: object = None) -> str:
    """A count kept as a number, or the file ids kept as a list (the first ones) with their
    count beside it (a summary before it had none: the list's length is all there is)."""
    if isinstance(value, list):
        total = count if isinstance(count, int) else len(value)
        shown = ", ".join(str(v) for v in value[:10])
        return f"{total} (ids {shown}{', …' if total > 10 else ''})"
    return str(value)


def check_mediainfo() -> Check:
    """libmediainfo answers as every video's validation asks it (its locale set the same way):
    a library that cannot be loaded or does not answer refuses every video as corrupt_file."""
    try:
        version = mediainfo_version()
    except (OSError, RuntimeError) as exc:
        return Check(
            "video reader",
            False,
            f"libmediainfo does not answer: {exc}",
            "Reinstall MediaDesk (pymediainfo brings libmediainfo) or install libmediainfo; "
            "until then every video upload is refused as unreadable.",
        )
    return Check("video reader", True, f"libmediainfo {version}")


def run_checks(settings: Settings) -> list[Check]:
    """Raises SettingsError when the data folder cannot be used, as every command's start does
    (one line and status 2 in the CLI): the catalog's engine met it as a traceback."""
    too_long = sqlite_path_too_long(settings.effective_database_url)
    if too_long is not None:  # said before any folder is made for it, as Library.open does
        return [Check("catalog", False, too_long, SHORTER_CATALOG_PATH)]
    try:
        # a folder named in another encoding: doctor made the folders and said "All good"
        # where every other command is refused
        check_catalog_path(settings.effective_database_url)
    except StorageUnavailable as exc:
        fix = "Give it a UTF-8 name (convmv -f latin1 -t utf8 --notest FOLDER), or use another."
        return [Check("catalog", False, exc.message, fix)]
    settings.paths.ensure()
    url = settings.effective_database_url
    catalog = _catalog_file(url)
    try:
        if catalog is not None and catalog.parent.is_dir() and not catalog.exists():
            # Opening it would make the file: an empty catalog left behind by a check. Its
            # folder is tested as opening it would (a share that cannot hold WAL: refused; one
            # that cannot be made is left to the engine, which says why).
            remote = remote_filesystem(catalog.parent)
            if remote is not None:
                check_remote_folder(catalog.parent, remote, warn=False)
            checks = _new_catalog(url, f"{catalog} not made yet")
            checks += _left_behind(settings)
            checks += check_storage(settings)
            checks += _stored_without_catalog(settings, checks)
            checks.append(check_mediainfo())
            checks.append(_feed_not_checked(checks))
            return checks
        # a catalog on a share is said by the "catalog disk" check, not a log line too
        db = Database(settings.effective_database_url, warn_remote=False)
    except StorageUnavailable as exc:  # a catalog folder it refuses (core/db/disk.py)
        folder = catalog_folder(settings.effective_database_url)
        if folder is not None and not folder.is_dir():  # one it could not make
            fix = "Point DATABASE_URL at a folder this user can create and write."
        else:
            fix = (
                "Keep the data folder on a local disk (--data-dir), or only the catalog: "
                "DATABASE_URL=sqlite:////a/local/folder/mediadesk.sqlite3; PostgreSQL "
                "(postgresql+psycopg://...) when several computers share the catalog."
            )
        return [Check("catalog", False, exc.message, fix)]
    try:
        checks = check_catalog(db)
        catalog_ok = all(c.ok for c in checks)
        copied = _copied_away(settings)  # the catalog itself is fine: checked on
        checks += copied
        new = any(c.detail.startswith(NEW_CATALOG) for c in checks)
        if new:
            checks += _left_behind(settings)
        checks += check_storage(settings)
        if new:
            checks += _stored_without_catalog(settings, checks)
        checks.append(check_mediainfo())
        if catalog_ok and not new:
            checks += check_other_storages(settings, db)
            checks += _kept_apart(settings, db)
            checks.append(check_feed(db))
            if not copied:  # its fix, maintenance, is refused on a copied catalog
                checks.append(check_reconcile(db))
        else:
            checks.append(_feed_not_checked(checks))
        return checks
    finally:
        db.dispose()


def _stored_without_catalog(settings: Settings, checks: list[Check]) -> list[Check]:
    """A new catalog over a storage that holds MediaDesk's photos and videos: a restore that
    brought the objects back and forgot the catalog (or a catalog pointed at the wrong place).
    It was "All good", and the first start made an empty library beside them. Only the first
    object of the media folders is asked for (a bucket of millions costs one listing page);
    a storage the checks above found unusable is theirs to say."""
    from core import keys
    from core.storage.factory import build_storage

    if not all(c.ok for c in checks if c.name in ("storage settings", "bucket")):
        return []
    if any(c.name == "library" and not c.ok for c in checks):
        return []  # the data folder's SQLite catalog holds them (_left_behind says how to copy)
    try:
        storage, _ = build_storage(settings)
        # a key in the uploads' layout, as --adopt-strays takes them: any other object under
        # general/ (another program's readme) called the bucket MediaDesk's, with advice that
        # led nowhere; a few pages at most are read
        found = next(
            (
                obj.key
                for prefix in keys.MEDIA_PREFIXES
                for obj in itertools.islice(storage.list_keys(prefix), STRAY_LOOK)
                if keys.parse_media_key(obj.key) is not None
            ),
            None,
        )
    except (MediaDeskError, OSError):
        return []  # the bucket check above just answered; a passing failure is not this
    if found is None:
        return []
    where = (
        f"the bucket {settings.r2_bucket_name}"
        if settings.uses_r2
        else f"the folder {settings.paths.objects_dir}"
    )
    return [
        Check(
            "library",
            False,
            f"the catalog is new, but {where} already holds MediaDesk's photos and videos "
            f"(e.g. {found}): a restore that brought the files back without their catalog?",
            "Put the catalog back from the same backup (the data folder's mediadesk.sqlite3, "
            "or the database DATABASE_URL names) before starting MediaDesk. Without one, start "
            "MediaDesk once and run `mediadesk maintenance --adopt-strays`: it takes those "
            "files into the new catalog (their athletes, titles and tags are not in them).",
            reasons=(STORAGE_WITHOUT_CATALOG,),
        )
    ]


def _left_behind(settings: Settings) -> list[Check]:
    """A new catalog while the data folder's SQLite catalog holds the library: the start
    refuses it (core/db/left_behind.py), so the doctor must not call it all good."""
    from core.db.left_behind import library_beside

    found = library_beside(settings.effective_database_url, settings.paths.database_file)
    return [] if found is None else [Check("library", False, found.detail, found.fix)]


def _copied_away(settings: Settings) -> list[Check]:
    """The SQLite catalog in use was copied elsewhere (`mediadesk catalog copy`): every start
    on it is refused (core/db/left_behind.CopiedAway), so the doctor must not call it good."""
    from core.db.left_behind import copied_away

    found = copied_away(settings.effective_database_url)
    return [] if found is None else [Check("library", False, found.detail, found.fix)]


def _kept_apart(settings: Settings, db: Database) -> list[Check]:
    """A catalog in use set up apart from the data folder's SQLite library (a server started
    on the new database before the library was copied): it was all good, though MediaDesk
    served another library and maintenance called the library's objects strays."""
    from core.db.left_behind import library_apart

    try:
        found = library_apart(db.engine, settings.paths.database_file)
    except Exception:  # noqa: BLE001 - the catalog checks say what is wrong with it
        return []
    return [] if found is None else [Check("library", False, found.detail, found.fix)]


def _feed_not_checked(checks: list[Check]) -> Check:
    """The change feed's line when the catalog has nothing to carry it yet, or failed."""
    if all(c.ok for c in checks if c.name in ("catalog", "migrations")):
        return Check("change feed", True, NEW_FEED)
    if any(c.name == "migrations" and c.detail.startswith(MIGRATING) for c in checks):
        return Check("change feed", False, "not checked: the catalog is being migrated", "")
    return Check("change feed", False, "not checked: fix the catalog first", "")
