"""`mediadesk catalog copy --to URL`: a data folder's SQLite library carried into PostgreSQL
whole; and a start on a new catalog while the data folder's SQLite catalog holds the library
is refused (core/db/left_behind.py).

An outside upgrade run followed README's team set-up (DATABASE_URL to PostgreSQL, same data
folder): nothing carried the library over and nothing warned. `doctor` said all good, `serve`
started an empty library with a new admin token (old tokens 401), and maintenance then called
the club's whole library stray objects. Real SQLite files filled through the Library and a real
server, the tests' throwaway PostgreSQL, real `mediadesk` processes for the kill and the
refusals."""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from core.db.left_behind import CATALOG_COPIED, LIBRARY_LEFT_BEHIND
from core.db.migrate import script_heads
from core.errors import SettingsError
from core.library import Library
from core.secrets import shown_database_url
from core.settings import load_settings
from server import cli
from server.entry import EmbeddedServer
from tests import media
from tests.conftest import make_settings
from tests.pg_server import fresh_database, postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, server_config

(HEAD,) = script_heads()  # this version's schema

pytestmark = pytest.mark.timeout(120)
ROOT = Path(__file__).resolve().parents[1]
ENTRY = "import sys; from server.entry import main; sys.exit(main(sys.argv[1:]))"
WAIT = 60.0  # seconds a poll for another process's state may take before the test fails


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _tables(url: str) -> list[str]:
    with psycopg.connect(_libpq(url), autocommit=True) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    return sorted(r[0] for r in rows)


def _copy(data: Path, target: str, *more: str) -> tuple[int, str, str]:
    """`mediadesk catalog copy` in this process: (status, stdout, stderr)."""
    import contextlib
    import io

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.run(["catalog", "copy", "--data-dir", str(data), "--to", target, *more])
    return code, out.getvalue(), err.getvalue()


def _mediadesk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY, *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=WAIT,
    )


def _snapshot(lib: Library) -> dict[str, Any]:
    """What a user sees of the library: every file (trash and pending ones too), athletes,
    tokens, jobs."""
    files = lib.list_files(status=None, limit=100).items
    trashed = lib.list_files(status=None, trashed=True, limit=100).items
    return {
        "files": sorted((f.as_dict() for f in files), key=lambda f: f["id"]),
        "trashed": sorted(f.id for f in trashed),
        "athletes": [(a.id, a.name) for a in lib.athletes()],
        "tokens": [t.as_dict() for t in lib.tokens.list()],
        "jobs": sorted((j.id, j.kind, j.file_id, j.state) for j in lib.jobs.list()[0]),
        "counts": lib.counts(),
    }


def _tus_half(url: str, token: str, data: bytes) -> str:
    """A tus upload created with the first half of `data`: its address."""
    told = ",".join(
        f"{k} {base64.b64encode(v.encode()).decode()}"
        for k, v in {"filename": "long.jpg", "file_type": "image"}.items()
    )
    headers = {
        **bearer(token),
        "Tus-Resumable": "1.0.0",
        "Upload-Length": str(len(data)),
        "Upload-Metadata": told,
        "Content-Type": "application/offset+octet-stream",
    }
    reply = http_call(f"{url}/files/upload/tus", "POST", data[: len(data) // 2], headers)
    assert reply.status == 201, reply.body
    assert int(reply.headers["Upload-Offset"]) == len(data) // 2
    return reply.headers["Location"].rsplit("/files/upload/tus/", 1)[1]


@pytest.fixture
def club(tmp_path: Path) -> Iterator[tuple[Path, dict[str, Any]]]:
    """A data folder whose SQLite catalog holds a club's library, made through the Library
    and the server: athletes, files (a video with its jobs queued), one in the trash, one
    deleted for good (the newest id), tokens (one revoked), a tus upload half-way."""
    data = tmp_path / "data"
    data.mkdir()
    lib = Library.open(make_settings(data))
    made: dict[str, Any] = {}
    try:
        ana = lib.create_athlete("Ana Peñarol")
        bruno = lib.create_athlete("Bruno")
        photos = [
            lib.uploads.ingest(
                media.make_jpeg(tmp_path / f"p{i}.jpg", size=(96, 64), color=(40 * i, 90, 140)),
                "image",
                athlete_id=ana.id if i % 2 else None,
                description=f"foto número {i}",
            )
            for i in range(4)
        ]
        lib.uploads.ingest(
            media.make_mp4(tmp_path / "c.mp4", seconds=0.5, size=(160, 120)),
            "video",
            athlete_id=bruno.id,
        )
        lib.trash(photos[1].id)
        last = lib.uploads.ingest(media.make_png(tmp_path / "gone.png"), "image")
        lib.delete_permanently(last.id)
        _, made["admin"] = lib.tokens.create("club admin", "admin")
        old, made["revoked"] = lib.tokens.create("old phone", "upload")
        lib.tokens.revoke(old.id)
        assert lib.jobs.list()[0], "the video queued its jobs"
        server = EmbeddedServer(lib, config=server_config(lib))
        server.start()
        try:
            made["long"] = media.make_jpeg(tmp_path / "long.jpg", size=(800, 600)).read_bytes()
            made["tus"] = _tus_half(server.url, made["admin"], made["long"])
        finally:
            server.stop()
        made["before"] = _snapshot(lib)
        made["deleted_id"] = last.id
    finally:
        lib.close()
    yield data, made


def test_the_club_library_is_carried_into_postgresql_whole(
    club: tuple[Path, dict[str, Any]], postgres_url: str
) -> None:
    data, made = club
    target = fresh_database(postgres_url, "copy")
    code, out, err = _copy(data, target, "--save")
    assert code == 0, err
    # stderr not a terminal: the progress in lines, not \r-redrawn into one (server/cli_status.py)
    assert "\r" not in err and err.splitlines()[0].startswith("copying "), err
    summary = json.loads(out)
    assert summary["saved"] is True and summary["revision"] == HEAD
    assert summary["tables"]["media_files"] == len(made["before"]["files"]) + 1  # a pending tus
    assert summary["tables"]["api_tokens"] == 2
    # the deleted file's id is never handed out again (signed links name files by id)
    assert summary["next_ids"]["media_files"] == made["deleted_id"] + 1
    assert load_settings(environ={}, data_dir=str(data)).database_url == target

    # the saved settings now name PostgreSQL: the library opened there is the same one
    lib = Library.open(load_settings(environ={}, data_dir=str(data)))
    try:
        assert not lib.settings.effective_database_url.startswith("sqlite")
        assert _snapshot(lib) == made["before"]
        assert [f.id for f in lib.list_files(q="peñarol").items] == [
            f["id"] for f in made["before"]["files"] if f["athlete_id"] == 1 and not f["deleted_at"]
        ][::-1]
        assert lib.tokens.verify(made["admin"]) is not None
        assert lib.tokens.verify(made["revoked"]) is None
        server = EmbeddedServer(lib, config=server_config(lib))
        server.start()
        try:
            listed = http_call(f"{server.url}/files/?limit=100", headers=bearer(made["admin"]))
            assert listed.status == 200
            assert listed.json()["total"] == made["before"]["counts"]["all"]
            assert http_call(f"{server.url}/files/", headers=bearer(made["revoked"])).status == 401
            # the tus upload goes on from where it was
            tus = f"{server.url}/files/upload/tus/{made['tus']}"
            head = {**bearer(made["admin"]), "Tus-Resumable": "1.0.0"}
            half = len(made["long"]) // 2
            assert http_call(tus, "HEAD", headers=head).headers["Upload-Offset"] == str(half)
            rest = {
                **head,
                "Upload-Offset": str(half),
                "Content-Type": "application/offset+octet-stream",
            }
            assert http_call(tus, "PATCH", made["long"][half:], rest).status == 204
        finally:
            server.stop()
        fresh = lib.uploads.ingest(media.make_gif(data.parent / "new.gif"), "image")
        assert fresh.id > made["deleted_id"]
        assert lib.create_athlete("Carla").id == 3
        assert lib.jobs.enqueue(fresh.id, ("thumbnails",))[0].id > max(
            j[0] for j in made["before"]["jobs"]
        )
    finally:
        lib.close()


def test_a_target_that_holds_a_catalog_is_refused(
    club: tuple[Path, dict[str, Any]], postgres_url: str, tmp_path: Path
) -> None:
    data, _ = club
    target = fresh_database(postgres_url, "filled")
    other = tmp_path / "other"
    other.mkdir()
    there = Library.open(make_settings(other, database_url=target))
    try:
        there.tokens.create("theirs", "admin")
    finally:
        there.close()
    code, out, err = _copy(data, target)
    assert code == 2 and out == ""
    assert f"is not new: a MediaDesk was started on it and set it up (schema {HEAD})" in err
    assert "it holds 0 files, 0 athletes and 1 API token" in err
    assert "dropdb -h 127.0.0.1" in err and "Nothing was copied" in err
    there = Library.open(make_settings(other, database_url=target))
    try:
        assert [t.name for t in there.tokens.list()] == ["theirs"]
        assert there.counts()["all"] == 0
    finally:
        there.close()


def test_a_copy_killed_mid_way_leaves_the_target_empty(
    club: tuple[Path, dict[str, Any]], postgres_url: str
) -> None:
    data, made = club
    target = fresh_database(postgres_url, "killed")
    name = target.rsplit("/", 1)[1]
    # The copy's stderr is a pipe already full: its first progress line, written once the
    # schema is made and the first table's rows are in (uncommitted), blocks it there.
    read_end, write_end = os.pipe()
    os.set_blocking(write_end, False)
    for size in (65536, 1):
        try:
            while True:
                os.write(write_end, b"x" * size)
        except BlockingIOError:
            pass
    os.set_blocking(write_end, True)
    child = subprocess.Popen(
        [sys.executable, "-c", ENTRY, "catalog", "copy", "--data-dir", str(data), "--to", target],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=write_end,
    )
    os.close(write_end)
    try:
        with psycopg.connect(_libpq(postgres_url), autocommit=True) as admin:

            def copying() -> list[tuple[Any, ...]]:
                # Its transaction is open; the last statement's text is no guide (psycopg may
                # have sent DEALLOCATE ALL after the first INSERT: seen in a CI-like run).
                return admin.execute(
                    "SELECT pid, query FROM pg_stat_activity WHERE datname = %s "
                    "AND state = 'idle in transaction' AND xact_start IS NOT NULL",
                    (name,),
                ).fetchall()

            def blocked() -> bool:
                try:
                    return "pipe_write" in Path(f"/proc/{child.pid}/wchan").read_text()
                except OSError:
                    return False

            # twice the usual wait: the schema's migrations run first, on a loaded machine
            deadline = time.monotonic() + 2 * WAIT
            while (
                not (blocked() and copying())
                and child.poll() is None
                and time.monotonic() < deadline
            ):
                time.sleep(0.02)
            rows = copying()
            seen = admin.execute(
                "SELECT state, left(query, 80) FROM pg_stat_activity WHERE datname = %s", (name,)
            ).fetchall()
            assert blocked() and rows, (
                f"the copy never stopped inside its transaction: {child.poll()}, {seen}"
            )
            assert _tables(target) == []  # nothing is seen before the commit
            child.send_signal(signal.SIGKILL)
            child.wait(WAIT)
            # the server ends the transaction of a client that is gone
            while copying() and time.monotonic() < deadline:
                time.sleep(0.02)
            assert not copying()
        assert child.stdout is not None and child.stdout.read() == b""
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        os.close(read_end)
    assert _tables(target) == []
    code, out, err = _copy(data, target)
    assert code == 0, err
    assert json.loads(out)["tables"]["api_tokens"] == len(made["before"]["tokens"])


def test_a_copy_is_refused_while_a_mediadesk_runs_on_the_catalog(
    club: tuple[Path, dict[str, Any]], postgres_url: str
) -> None:
    data, _ = club
    target = fresh_database(postgres_url, "in_use")
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from core.library import Library; from core.settings import "
            "load_settings; lib = Library.open(load_settings(environ={}, data_dir=sys.argv[1])); "
            "print('open', flush=True); sys.stdin.read(); lib.close()",
            str(data),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "open\n"
        code, out, err = _copy(data, target)
        assert code == 2 and out == ""
        assert f"Other MediaDesk processes are running on the catalog sqlite:///{data}" in err
        assert f":{holder.pid})" in err
        assert _tables(target) == []
    finally:
        assert holder.stdin is not None
        holder.stdin.close()
        holder.wait(WAIT)
    code, _, err = _copy(data, target)
    assert code == 0, err


def test_a_start_on_a_new_catalog_beside_the_sqlite_library_is_refused(
    club: tuple[Path, dict[str, Any]], postgres_url: str
) -> None:
    data, made = club
    target = fresh_database(postgres_url, "beside")
    catalog = data / "mediadesk.sqlite3"
    files = made["before"]["counts"]["all"] + made["before"]["counts"]["trash"]
    with pytest.raises(SettingsError) as refused:
        Library.open(make_settings(data, database_url=target))
    said = refused.value.message
    assert refused.value.reason == LIBRARY_LEFT_BEHIND
    assert (
        f"SQLite catalog {catalog} holds a library ({files} files, 2 athletes and 1 API token)"
        in said
    )
    assert "mediadesk catalog copy --to URL" in said and "move mediadesk.sqlite3" in said
    assert _tables(target) == []  # refused before any table is made

    env = {"DATABASE_URL": target}
    for command in (["maintenance"], ["token", "list"]):
        run = _mediadesk(*command, "--data-dir", str(data), env=env)
        assert run.returncode == 2, run.stderr
        assert run.stderr.count("\n") == 1 and run.stderr.startswith("mediadesk: ")
        assert f"SQLite catalog {catalog} holds a library ({files} files" in run.stderr
    doctor = _mediadesk("doctor", "--data-dir", str(data), env=env)
    assert doctor.returncode == 1
    failed = [line for line in doctor.stdout.splitlines() if line.startswith("FAIL")]
    assert failed == [f"FAIL  library: {said.split('. Stop MediaDesk')[0]}"]
    assert "fix: Stop MediaDesk on this data folder and copy the library into it" in doctor.stdout
    assert _tables(target) == []

    # a new library on purpose: the SQLite catalog moved aside, the start sets one up
    catalog.rename(data / "old.sqlite3")
    lib = Library.open(make_settings(data, database_url=target))
    try:
        assert lib.counts()["all"] == 0
    finally:
        lib.close()


def test_a_start_on_the_sqlite_catalog_copied_away_is_refused(
    club: tuple[Path, dict[str, Any]], postgres_url: str
) -> None:
    """Copied without --save (or the desktop opened without DATABASE_URL), the old SQLite
    catalog started silently beside the same stored files: its maintenance purged a file
    the team had restored from the trash in PostgreSQL, whose stream then answered 404."""
    data, made = club
    target = fresh_database(postgres_url, "away")
    code, _, err = _copy(data, target)
    assert code == 0, err
    shown = shown_database_url(target)
    with pytest.raises(SettingsError) as refused:
        Library.open(make_settings(data))
    assert refused.value.reason == CATALOG_COPIED
    said = refused.value.message
    assert f"{data / 'mediadesk.sqlite3'}, was copied to {shown}" in said
    assert f"Set DATABASE_URL (or database_url in settings.toml) to {shown}" in said
    doctor = _mediadesk("doctor", "--data-dir", str(data))
    assert doctor.returncode == 1
    assert f"FAIL  library: this catalog, {data / 'mediadesk.sqlite3'}, was copied" in doctor.stdout
    assert "new catalog" not in doctor.stdout and "ok    change feed" in doctor.stdout
    assert "mediadesk maintenance" not in doctor.stdout  # refused there
    # the copied library opens where it went, and copying the old file again still works
    lib = Library.open(make_settings(data, database_url=target))
    try:
        assert lib.tokens.verify(made["admin"]) is not None
    finally:
        lib.close()
    code, _, err = _copy(data, fresh_database(postgres_url, "again"))
    assert code == 0, err
    # given up on purpose: the record deleted, the old catalog opens
    (data / "mediadesk.sqlite3-copied").unlink()
    Library.open(make_settings(data)).close()


def test_an_older_sqlite_catalog_is_copied_and_left_unchanged_as_the_backup(
    club: tuple[Path, dict[str, Any]], postgres_url: str
) -> None:
    """The copy upgraded the old version's SQLite file in place before reading it: the file
    README keeps as the backup could no longer be opened by the version that wrote it."""
    import hashlib
    import sqlite3

    from sqlalchemy import create_engine

    from core.db.migrate import downgrade

    data, made = club
    catalog = data / "mediadesk.sqlite3"
    engine = create_engine(f"sqlite:///{catalog}")
    try:
        downgrade(engine, "0032")
    finally:
        engine.dispose()
    before = hashlib.sha256(catalog.read_bytes()).hexdigest()
    target = fresh_database(postgres_url, "older")
    code, out, err = _copy(data, target)
    assert code == 0, err
    assert json.loads(out)["migrated_from"] == "0032"
    with sqlite3.connect(catalog) as conn:
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("0032",)]
    assert hashlib.sha256(catalog.read_bytes()).hexdigest() == before
    assert "the file itself is left at schema 0032" in err
    lib = Library.open(make_settings(data, database_url=target))
    try:
        copied = _snapshot(lib)
    finally:
        lib.close()
    assert copied["files"] == made["before"]["files"]
    assert copied["counts"] == made["before"]["counts"]


def test_a_target_whose_driver_is_missing_is_named_as_the_to_url(
    club: tuple[Path, dict[str, Any]],
) -> None:
    """`--to mysql://…` said "DATABASE_URL needs the database driver 'MySQLdb'": a variable
    the admin never set."""
    data, _ = club
    code, out, err = _copy(data, "mysql://club:secret@db.example/mediadesk")
    assert code == 2 and not out
    assert "The --to URL needs the database driver 'MySQLdb', which is not installed" in err
    assert "DATABASE_URL" not in err
