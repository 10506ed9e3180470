"""`mediadesk catalog copy --to DATABASE_URL [--save]`: the catalog copied into a new database;
`mediadesk catalog record-schema`: the schema record of a catalog that lost it."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from core.catalog_copy import CopyFailed, Progress, copy_catalog, open_existing, source_of
from core.db.engine import unopenable
from core.db.left_behind import same_catalog
from core.db.migrate import record_schema
from core.secrets import shown_database_url
from core.settings import ENV_NAMES, Settings, save_settings
from core.storage.factory import SIGNING_KEY_FILE
from server.cli_status import StatusLine

COMMANDS = ("catalog",)
# exit status of a copy stopped with Ctrl+C: the shell's for SIGINT, as `storage migrate`
INTERRUPTED = 130


def add_parsers(sub: Any, common: argparse.ArgumentParser) -> None:
    catalog = sub.add_parser(
        "catalog", help="copy the catalog into a new database, or record its lost schema"
    )
    csub = catalog.add_subparsers(dest="catalog_command", required=True, metavar="ACTION")
    copy = csub.add_parser(
        "copy",
        parents=[common],
        help="copy the whole catalog (normally the data folder's SQLite one) into a new, empty "
        "database, e.g. PostgreSQL for a team; stop every MediaDesk on it first",
        description="Copies every table of the catalog the settings name (the data folder's "
        "SQLite catalog when they already name the target) into the database at --to, which "
        "must hold none of MediaDesk's tables: its schema is made by the same migrations and "
        "the rows copied in one transaction, so a copy stopped or killed leaves it empty. "
        "Refused while a MediaDesk process has the catalog open. Prints JSON; exit status 0 "
        "when copied and verified, 1 when the copy failed (nothing kept), 2 when refused.",
    )
    copy.add_argument(
        "--to",
        required=True,
        metavar="DATABASE_URL",
        help="the new catalog, e.g. postgresql+psycopg://USER:PASSWORD@HOST/DATABASE",
    )
    csub.add_parser(
        "record-schema",
        parents=[common],
        help="record the schema of a catalog whose migration record (alembic_version) was "
        "emptied, once its tables are checked to be this version's",
        description="For a catalog that holds MediaDesk's tables but no record of their schema "
        "(its alembic_version table emptied or dropped), which every start refuses and "
        "`mediadesk doctor` names: checks that its tables and columns are exactly this "
        "version's and records this version's schema revision, changing nothing else. Refused "
        "(exit status 2) when they are not, and for a catalog that needs no record. Stop every "
        "MediaDesk on the catalog first. Prints JSON.",
    )
    copy.add_argument(
        "--save",
        action="store_true",
        help="then make it this data folder's catalog: DATABASE_URL saved in settings.toml "
        "(its password in the secret store, never in the file)",
    )


def run(args: argparse.Namespace, settings_of: Callable[[argparse.Namespace], Settings]) -> int:
    settings = settings_of(args)
    if args.catalog_command == "record-schema":
        return _record_schema(settings)
    target = args.to
    source = source_of(settings, target)
    if source != settings.effective_database_url:
        sys.stderr.write(
            f"mediadesk: the settings already name {shown_database_url(target)}: copying this "
            f"data folder's SQLite catalog {settings.paths.database_file} into it\n"
        )
    own_sqlite = same_catalog(source, f"sqlite:///{settings.paths.database_file}")
    key_file = settings.paths.secrets_dir / SIGNING_KEY_FILE if own_sqlite else None
    status = StatusLine()

    def progress(step: Progress) -> None:
        status.show(f"copying {step.table}: {step.done} of {step.total} rows")

    try:
        report = copy_catalog(source, target, key_file, progress)
    except CopyFailed as exc:
        status.end()
        sys.stderr.write(f"mediadesk: {exc.message}\n")
        return 1
    except KeyboardInterrupt:
        status.end()
        sys.stderr.write("mediadesk: interrupted: nothing was copied (the target is left empty)\n")
        return INTERRUPTED
    status.end()
    if report.migrated_from and report.source.startswith("sqlite"):
        sys.stderr.write(
            f"mediadesk: the source catalog (schema {report.migrated_from}) was copied through "
            f"a copy of it brought to {report.revision}; the file itself is left at schema "
            f"{report.migrated_from}, so the older version still opens it\n"
        )
    elif report.migrated_from:
        sys.stderr.write(
            f"mediadesk: the source catalog was brought from schema {report.migrated_from} to "
            f"{report.revision} first\n"
        )
    if report.other_tables:
        left = ", ".join(report.other_tables)
        sys.stderr.write(f"mediadesk: tables that are not MediaDesk's were not copied: {left}\n")
    saved = False
    if args.save:
        _save(settings, target)
        saved = True
    elif not same_catalog(settings.effective_database_url, target):
        sys.stderr.write(
            "mediadesk: the settings still name the old catalog: set DATABASE_URL (or "
            "database_url in settings.toml) to the new one on every machine\n"
        )
    sys.stdout.write(json.dumps({**report.as_dict(), "saved": saved}) + "\n")
    return 0


def _record_schema(settings: Settings) -> int:
    url = settings.effective_database_url
    shown = shown_database_url(url)
    db = open_existing(url)
    try:
        revision = record_schema(db.engine)
    except SQLAlchemyError as exc:
        raise unopenable(url, exc) from exc
    finally:
        db.dispose()
    sys.stderr.write(f"mediadesk: recorded schema {revision} in {shown}: MediaDesk starts on it\n")
    sys.stdout.write(json.dumps({"catalog": shown, "revision": revision}) + "\n")
    return 0


def _save(settings: Settings, target: str) -> None:
    """DATABASE_URL in settings.toml, its password in the secret store (save_settings), even
    when the environment gives it: the environment's value is what the save is asked for."""
    name = ENV_NAMES["database_url"]
    environ = {k: v for k, v in os.environ.items() if k != name}
    path = save_settings(settings.replace(database_url=target), settings.config_file, environ)
    sys.stderr.write(f"mediadesk: saved the new catalog in {path}\n")
    given = os.environ.get(name, "")
    if given and not same_catalog(given, target):
        sys.stderr.write(
            f"mediadesk: {name} in the environment ({shown_database_url(given)}) still wins "
            "over the saved catalog: unset it\n"
        )
