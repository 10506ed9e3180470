"""A data folder's SQLite library, and DATABASE_URL naming a PostgreSQL catalog that someone
already started a server on: a new, separate library, none of the SQLite one's rows in it.

The start refuses a NEW catalog beside the SQLite library (core/db/left_behind.py), but not
one set up already: a server started on the new database first (from another data folder, by
an older MediaDesk that did not refuse it, the SQLite file moved aside for a moment) left this
state behind. `mediadesk doctor` then said all good while MediaDesk served the other library,
and `mediadesk catalog copy --to URL` refused the database as "not empty: it holds MediaDesk's
tables (…)" with "drop its MediaDesk tables first": not that a server had been started on it,
what it held, or which command makes it new. Now doctor fails a "library" line saying so, its
fix the commands to run, and the copy's refusal says the same; following them carries the
library over. Real `.venv/bin/mediadesk` processes, the tests' throwaway PostgreSQL.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from core.db.migrate import script_heads
from core.library import Library
from tests import media
from tests.conftest import make_settings
from tests.pg_server import PG_BIN, fresh_database, postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[1]
MEDIADESK = str(ROOT / ".venv" / "bin" / "mediadesk")
(HEAD,) = script_heads()  # this version's schema
WAIT = 60.0


def _env(**more: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MEDIADESK_", "R2_"))}
    return {k: v for k, v in env.items() if k != "DATABASE_URL"} | more


def _mediadesk(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [MEDIADESK, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=WAIT
    )


def _club(data: Path) -> int:
    """A SQLite library in `data`: an athlete, a photo, a token. Returns the photo's id."""
    lib = Library.open(make_settings(data))
    try:
        ana = lib.create_athlete("Ana")
        photo = media.make_jpeg(data.parent / "p.jpg", size=(64, 48))
        kept = lib.uploads.ingest(photo, "image", athlete_id=ana.id).id
        lib.tokens.create("club admin", "admin")
    finally:
        lib.close()
    return kept


def _club_folder(tmp_path: Path) -> tuple[Path, int]:
    """tmp_path/data holding a SQLite library (_club): the folder, and its photo's id."""
    data = tmp_path / "data"
    data.mkdir()
    return data, _club(data)


def _started(data: Path, env: dict[str, str]) -> list[str]:
    """What `mediadesk serve` on `data` logs until it serves; then stopped with Ctrl+C."""
    serve = subprocess.Popen(
        [MEDIADESK, "serve", "--port", "0", "--data-dir", str(data)],
        cwd=ROOT,
        env={**env, "PYTHONFAULTHANDLER": "1"},
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert serve.stderr is not None
        said: list[str] = []
        while "Press Ctrl+C to stop." not in (line := serve.stderr.readline()):
            assert line, "".join(said)  # it ended before serving
            said.append(line.rstrip("\n"))
        serve.send_signal(signal.SIGINT)
        # what it says while it stops is read too: left unread, a full pipe would hold it
        try:
            _, after = serve.communicate(timeout=WAIT)
        except subprocess.TimeoutExpired:
            serve.send_signal(signal.SIGABRT)  # faulthandler's stacks of every thread
            _, after = serve.communicate()
            raise AssertionError(
                f"serve did not stop within {WAIT} s after Ctrl+C:\n{after}"
            ) from None
        assert serve.returncode == 0, after
    finally:
        if serve.poll() is None:
            serve.kill()
            serve.wait()
    return said


def _serve_once(data: Path, env: dict[str, str]) -> None:
    """`mediadesk serve` on `data` until it serves (its first start: an admin token), then
    Ctrl+C."""
    said = _started(data, env)
    assert any("First start: an admin API token was created" in s for s in said)


def _failed(said: str) -> list[str]:
    return [line for line in said.splitlines() if line.startswith("FAIL")]


def test_a_catalog_a_server_was_started_on_first_is_named_and_made_new(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    data, kept = _club_folder(tmp_path)
    target = fresh_database(postgres_url, "apart")
    name = target.rsplit("/", 1)[1]
    port = make_url(target).port
    env = _env(DATABASE_URL=target)
    # someone started a server on the new database before the library was copied
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    _serve_once(elsewhere, env)

    doctor = _mediadesk("doctor", "--data-dir", str(data), env=env)
    assert doctor.returncode == 1, doctor.stdout + doctor.stderr
    catalog = data / "mediadesk.sqlite3"
    assert _failed(doctor.stdout) == [
        f"FAIL  library: {target} was set up as a new, separate library (0 files, 0 athletes "
        f"and 1 API token), while this data folder's SQLite catalog {catalog} holds the "
        f"library (1 file, 1 athlete and 1 API token), none of which is in {target}: "
        "MediaDesk serves the other one"
    ], doctor.stdout
    drop = f"dropdb -h 127.0.0.1 -p {port} -U mediadesk {name}"
    create = f"createdb -h 127.0.0.1 -p {port} -U mediadesk -O mediadesk {name}"
    fix = (
        f"      fix: Nothing in {target} is to be kept: stop every MediaDesk on it, recreate the "
        f"database empty, as its owner or a superuser: {drop}, then {create}, then copy the "
        f"library into it: mediadesk catalog copy --to URL (URL: {target}, its password "
        f"included). Or, to keep {target} as this data folder's library, move "
        f"mediadesk.sqlite3 (with its -wal file, if any) out of {data}."
    )
    assert fix in doctor.stdout.splitlines(), doctor.stdout

    copy = _mediadesk("catalog", "copy", "--data-dir", str(data), "--to", target, env=env)
    assert copy.returncode == 2, copy.stderr
    said = copy.stderr.splitlines()[-1]
    assert said == (
        f"mediadesk: The target {target} is not new: a MediaDesk was started on it and set it "
        f"up (schema {HEAD}); it holds 0 files, 0 athletes and 1 API token. A copy goes only into "
        "a new, empty database, so that the rows and ids of two libraries never mix. Nothing "
        "in it is to be kept (a first start's token at most): stop every MediaDesk on it, "
        f"recreate the database empty, as its owner or a superuser: {drop}, then {create}, "
        "then run this copy again. Nothing was copied."
    ), said

    # the fix, as a person runs it
    for command in drop, create:
        program, *args = command.split()
        subprocess.run([str(PG_BIN[-1] / program), *args], check=True, timeout=WAIT)
    copy = _mediadesk("catalog", "copy", "--data-dir", str(data), "--to", target, env=env)
    assert copy.returncode == 0, copy.stderr
    assert json.loads(copy.stdout)["tables"]["media_files"] == 1
    doctor = _mediadesk("doctor", "--data-dir", str(data), env=env)
    assert _failed(doctor.stdout) == [], doctor.stdout  # a copy shares the library's rows
    lib = Library.open(make_settings(data, database_url=target))
    try:
        assert [f.id for f in lib.list_files(limit=10).items] == [kept]
    finally:
        lib.close()


def test_another_library_in_use_is_told_apart_from_a_copy(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
) -> None:
    from core.doctor import run_checks

    data, _ = _club_folder(tmp_path)
    target = fresh_database(postgres_url, "another")
    other = tmp_path / "other"
    other.mkdir()
    there = Library.open(make_settings(other, database_url=target))
    try:
        there.create_athlete("Bruno")
    finally:
        there.close()
    checks = run_checks(make_settings(data, database_url=target))
    library = [c for c in checks if c.name == "library"]
    assert len(library) == 1 and not library[0].ok, checks
    assert library[0].detail.startswith(
        f"{target} holds another library (0 files, 1 athlete and 0 API tokens), while"
    ), library[0]
    assert library[0].fix.startswith("MediaDesk cannot merge two libraries."), library[0]
    assert "move mediadesk.sqlite3" in library[0].fix
    create = r"createdb -h 127\.0\.0\.1 -p \d+ -U mediadesk -O mediadesk NAME"
    assert re.search(create, library[0].fix), library[0]
    code = _mediadesk("catalog", "copy", "--data-dir", str(data), "--to", target, env=_env())
    assert code.returncode == 2
    assert "It is a library of its own: to keep it, do not copy into it" in code.stderr
    assert re.search(create, code.stderr), code.stderr
