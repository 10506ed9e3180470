"""A catalog holding MediaDesk's tables whose migration record (alembic_version) is empty.

Reproduced from outside: a catalog made by a start, `DELETE FROM alembic_version` (a tool or
a person truncated it; a migration interrupted before its record cannot leave it so, as each
runs in one transaction with it). `mediadesk doctor` said "schema at nothing, this MediaDesk
needs 0027" and advised starting MediaDesk once, "it migrates the catalog at start-up"; that
start ran the first migration over the tables and stopped with "The catalog could not be
opened: table api_tokens already exists". Nothing said what was the case or what would work.

Now doctor and every start name the state (core/db/migrate.py Unrecorded) with the fix that
fits the tables: this version's own take their record back with `mediadesk catalog
record-schema` (checked again, nothing else written); a set-up with nothing in it is made new
(the SQLite file moved aside, a PostgreSQL database recreated by the command shown); tables
at another schema are restored from a backup, and record-schema refuses them. Real
`.venv/bin/mediadesk` processes on real SQLite files, the tests' throwaway PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from core.db.engine import Database
from core.db.migrate import SCHEMA_UNRECORDED, script_heads, upgrade
from core.doctor import run_checks
from core.errors import StorageUnavailable
from core.library import Library
from tests import media
from tests.conftest import make_settings
from tests.pg_server import PG_BIN, fresh_database, postgres_url  # noqa: F401

(HEAD,) = script_heads()  # this version's schema

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[1]
MEDIADESK = str(ROOT / ".venv" / "bin" / "mediadesk")


def _mediadesk(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "R2_"))}
    return subprocess.run(
        [MEDIADESK, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def _forget_schema(catalog: Path) -> None:
    with sqlite3.connect(catalog) as conn:
        conn.execute("DELETE FROM alembic_version")
    conn.close()


def _recorded(catalog: Path) -> list[str]:
    with sqlite3.connect(catalog) as conn:
        rows = [r[0] for r in conn.execute("SELECT version_num FROM alembic_version")]
    conn.close()
    return rows


def _migrations(said: str) -> list[str]:
    """doctor's migrations line and its fix line."""
    lines = said.splitlines()
    at = next(i for i, line in enumerate(lines) if "  migrations: " in line)
    return lines[at : at + 2]


def test_an_emptied_record_is_named_and_recorded_again(data_dir: Path) -> None:
    lib = Library.open(make_settings(data_dir))
    try:
        ana = lib.create_athlete("Ana")
        photo = media.make_jpeg(data_dir.parent / "p.jpg", size=(64, 48))
        kept = lib.uploads.ingest(photo, "image", athlete_id=ana.id).id
        lib.tokens.create("club admin", "admin")
    finally:
        lib.close()
    catalog = data_dir / "mediadesk.sqlite3"
    _forget_schema(catalog)

    doctor = _mediadesk("doctor", "--data-dir", str(data_dir))
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    line, fix = _migrations(doctor.stdout)
    assert line == (
        f"FAIL  migrations: sqlite:///{catalog} holds MediaDesk's tables (1 file, 1 athlete "
        "and 1 API token), but its migration record (alembic_version) is empty: which schema "
        "they are at is not known, so a start can neither set it up nor migrate it; its "
        f"tables are this version's (schema {HEAD})"
    )
    assert fix.startswith(
        "      fix: Stop every MediaDesk on this catalog, then run `mediadesk catalog "
        "record-schema`"
    ), fix
    assert "Start MediaDesk once" not in doctor.stdout and "schema at nothing" not in doctor.stdout

    serve = _mediadesk("serve", "--port", "0", "--data-dir", str(data_dir))
    assert serve.returncode == 2, serve.stderr
    said = serve.stderr.splitlines()[-1]
    assert said.startswith(f"mediadesk: sqlite:///{catalog} holds MediaDesk's tables"), said
    assert "`mediadesk catalog record-schema`" in said and said.endswith("Nothing was changed.")
    assert "already exists" not in serve.stderr and "Traceback" not in serve.stderr
    assert _recorded(catalog) == []

    record = _mediadesk("catalog", "record-schema", "--data-dir", str(data_dir))
    assert record.returncode == 0, record.stderr
    assert json.loads(record.stdout) == {"catalog": f"sqlite:///{catalog}", "revision": HEAD}
    assert _recorded(catalog) == [HEAD]
    again = _mediadesk("catalog", "record-schema", "--data-dir", str(data_dir))
    assert again.returncode == 2 and f"already records its schema ({HEAD})" in again.stderr

    doctor = _mediadesk("doctor", "--data-dir", str(data_dir))
    assert _migrations(doctor.stdout)[0] == f"ok    migrations: schema at {HEAD} (current)"
    assert doctor.returncode == 0, doctor.stdout
    lib = Library.open(make_settings(data_dir))
    try:
        assert [f.id for f in lib.list_files(limit=10).items] == [kept]
    finally:
        lib.close()


def test_older_tables_without_a_record_are_not_recorded(data_dir: Path) -> None:
    catalog = data_dir / "mediadesk.sqlite3"
    db = Database(f"sqlite:///{catalog}")
    try:
        upgrade(db.engine, "0026")  # versions back: no media_files.thumbnail_remade, ...
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO athletes (id, name, created_at) VALUES (1, 'Ana', 0)"))
    finally:
        db.dispose()
    _forget_schema(catalog)
    checks = {c.name: c for c in run_checks(make_settings(data_dir))}
    migrations = checks["migrations"]
    assert not migrations.ok
    said, _, missing = migrations.detail.partition("its tables are not this version's (no ")
    assert said and missing.endswith(")"), migrations
    # (each later migration's columns join the list)
    assert {"athletes.version", "media_files.thumbnail_remade"} <= set(missing[:-1].split(", ")), (
        migrations
    )
    assert migrations.fix.startswith("Restore the catalog from a backup"), migrations
    assert "record-schema" not in migrations.fix
    record = _mediadesk("catalog", "record-schema", "--data-dir", str(data_dir))
    assert record.returncode == 2, record.stderr
    assert "its tables are not this version's" in record.stderr
    assert _recorded(catalog) == []


def test_a_set_up_with_nothing_in_it_is_made_new(data_dir: Path) -> None:
    catalog = data_dir / "mediadesk.sqlite3"
    db = Database(f"sqlite:///{catalog}")
    try:
        upgrade(db.engine, "0001")
    finally:
        db.dispose()
    _forget_schema(catalog)
    checks = {c.name: c for c in run_checks(make_settings(data_dir))}
    assert checks["migrations"].fix == (
        "It holds nothing to keep (a set-up cut short): stop every MediaDesk on it and move "
        f"mediadesk.sqlite3 (with its -wal and -shm files, if any) out of {data_dir}; the next "
        "start sets it up."
    )
    catalog.rename(data_dir.parent / "aside.sqlite3")
    Library.open(make_settings(data_dir)).close()


def test_postgresql_is_made_new_by_the_commands_doctor_names(
    data_dir: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    url = fresh_database(postgres_url, "unrecorded")
    name = url.rsplit("/", 1)[1]
    db = Database(url)
    try:
        upgrade(db.engine, "0001")  # a set-up cut short, its record gone with it
        with db.engine.begin() as conn:
            conn.execute(text("DELETE FROM alembic_version"))
    finally:
        db.dispose()
    settings = make_settings(data_dir, database_url=url)
    with pytest.raises(StorageUnavailable) as refused:
        Library.open(settings)
    assert refused.value.reason == SCHEMA_UNRECORDED
    assert "its migration record (alembic_version) is empty" in refused.value.message
    assert "already exists" not in refused.value.message
    fix = {c.name: c for c in run_checks(settings)}["migrations"].fix
    commands = re.search(r"superuser: (dropdb .+), then (createdb .+); the next start", fix)
    assert commands is not None, fix
    port = make_url(url).port
    assert commands[1] == f"dropdb -h 127.0.0.1 -p {port} -U mediadesk {name}"
    assert commands[2] == f"createdb -h 127.0.0.1 -p {port} -U mediadesk -O mediadesk {name}"
    for command in commands[1], commands[2]:  # as a person runs them
        program, *args = command.split()
        subprocess.run([str(PG_BIN[-1] / program), *args], check=True, timeout=60)
    Library.open(settings).close()
