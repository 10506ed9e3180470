"""Two MediaDesk versions on one catalog (core/db/schema_guard.py): a process that sees the
schema move past its own stops writing (503 catalog_upgraded), checking afresh before deleting
stored bytes; and an upgrade refuses while another live process runs on the catalog.

A "newer version" is the alembic version table stamped with a revision this code does not know;
a "second live process" is a real one with the Library open."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import create_engine, text

from core.db import schema_guard
from core.db.engine import Database
from core.db.migrate import downgrade, upgrade
from core.doctor import _head_revision, check_catalog
from core.errors import StorageUnavailable
from core.library import Library
from core.settings import Settings
from desktop_app.errors import describe_error
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.pg_server import postgres_url  # noqa: F401
from tests.server_fixtures import Tokens, bearer, http_call, multipart_body

ROOT = Path(__file__).resolve().parents[1]
NEWER = "9999_from_a_newer_version"


def _catalog(settings: Settings) -> str:
    return settings.effective_database_url.split("///", 1)[1]


def _stamp(settings: Settings, revision: str) -> None:
    with closing(sqlite3.connect(_catalog(settings))) as conn, conn:
        conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.effect_noise((64, 48), 50).convert("RGB").save(out, "JPEG")
    return out.getvalue()


def _upload(live: EmbeddedServer, token: str, data: bytes, athlete_id: int) -> dict:  # type: ignore[type-arg]
    body, ctype = multipart_body(
        {"file_type": "image", "athlete_id": str(athlete_id)},
        {"file": ("z.jpg", data, "image/jpeg")},
    )
    resp = http_call(
        f"{live.url}/files/upload/direct", "POST", body, {"Content-Type": ctype, **bearer(token)}
    )
    assert resp.status == 201, resp.body
    return resp.json()  # type: ignore[no-any-return]


def test_a_hard_delete_after_an_upgrade_under_the_server_keeps_the_shared_bytes(
    live: EmbeddedServer, tokens: Tokens, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The tester's loss: a newer version lets two files share one object; an older server's
    hard delete of one removed the bytes of the other (404). Checked afresh before deleting,
    not from the feed's periodic look (made too slow to help here)."""
    monkeypatch.setattr(schema_guard, "LOOK_SECONDS", 3600.0)
    a_id = library.create_athlete("Ana").id
    b_id = library.create_athlete("Bob").id
    data = _jpeg()
    a = _upload(live, tokens.admin, data, a_id)
    b = _upload(live, tokens.admin, data, b_id)
    assert a["storage_key"] == b["storage_key"]  # one stored object (migration 0010)
    _stamp(library.settings, NEWER)

    resp = http_call(
        f"{live.url}/files/{a['id']}?hard_delete=true", "DELETE", headers=bearer(tokens.admin)
    )
    assert resp.status == 503, resp.body
    assert resp.json()["error"]["code"] == "catalog_upgraded"
    raw = http_call(f"{live.url}/stream/{b['id']}/raw", headers=bearer(tokens.admin))
    assert raw.status == 200 and raw.body == data
    assert http_call(f"{live.url}/files/{a['id']}", headers=bearer(tokens.admin)).status == 200


def test_a_running_server_stops_writing_once_the_feed_sees_a_newer_schema(
    live: EmbeddedServer,
    tokens: Tokens,
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(schema_guard, "LOOK_SECONDS", 0.05)
    headers = {"Content-Type": "application/json", **bearer(tokens.admin)}
    ok = http_call(f"{live.url}/athletes", "POST", json.dumps({"name": "Ana"}).encode(), headers)
    assert ok.status == 201, ok.body
    _stamp(library.settings, NEWER)
    deadline = time.monotonic() + 30
    while library._db.schema.moved is None and time.monotonic() < deadline:
        time.sleep(0.05)  # the feed's poll looks at the revision

    resp = http_call(f"{live.url}/athletes", "POST", json.dumps({"name": "Bob"}).encode(), headers)
    assert resp.status == 503, resp.body
    error = resp.json()["error"]
    assert error["code"] == "catalog_upgraded" and "restarted" in error["message"]
    listed = http_call(f"{live.url}/athletes", headers=bearer(tokens.admin))
    assert listed.status == 200  # reads go on
    assert "Ana" in listed.body.decode() and "Bob" not in listed.body.decode()
    # also with a token this server never saw (whose use it would note: a write, refused,
    # which refused every read once a token's last use was a minute old)
    fresh = http_call(f"{live.url}/athletes", headers=bearer(tokens.read))
    assert fresh.status == 200, fresh.body
    for _ in range(3):  # refused writes: the cause is logged once as an error, not per write
        http_call(f"{live.url}/athletes", "POST", json.dumps({"name": "Cy"}).encode(), headers)
    upgraded = [
        r for r in caplog.records if r.levelname == "ERROR" and "upgraded by a newer" in r.message
    ]
    assert len(upgraded) == 1, [r.message for r in upgraded]
    # and monitors hear that it needs a restart: it answered ok meanwhile
    for headers in ({}, bearer(tokens.admin)):
        health = http_call(f"{live.url}/health", headers=headers)
        assert health.status == 503, health.body
        body = health.json()
        assert body["status"] == "degraded"
        assert body["database"]["reason"] == "catalog_upgraded", body


def test_the_client_says_catalog_upgraded_at_once_without_retrying(
    live: EmbeddedServer, tokens: Tokens, library: Library, media_dir: object
) -> None:
    """A retry never helps until the server is restarted: the client (and `mediadesk`) sent
    each refused write five times more, 15 s of silence, before saying catalog_upgraded."""
    from server.client.api import Client, ClientError

    record = library.uploads.ingest(media_dir.jpeg, "image")  # type: ignore[attr-defined]
    _stamp(library.settings, NEWER)
    library._db.schema.look(every=0.0)
    retries: list[str] = []
    with (
        Client(live.url, tokens.admin, on_retry=retries.append) as client,
        pytest.raises(ClientError) as refused,
    ):
        client.trash(record.id)
    assert (refused.value.status, refused.value.code) == (503, "catalog_upgraded")
    assert retries == []


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_settings(request: pytest.FixtureRequest, data_dir: Path) -> Iterator[Settings]:
    """Settings of a new catalog: a SQLite file, or a PostgreSQL database of its own."""
    if request.param == "sqlite":
        yield make_settings(data_dir)
        return
    server = request.getfixturevalue("postgres_url")
    name = f"guard_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name}"))
    try:
        yield make_settings(data_dir, database_url=server.rsplit("/", 1)[0] + "/" + name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        admin.dispose()


@contextmanager
def _running(catalog_settings: Settings, feed: bool) -> Iterator[subprocess.Popen[str]]:
    """Another MediaDesk process with the same catalog open: its feed running, or (`feed`
    False) stopped, as in a short command line run that writes before its feed connects."""
    config = str(catalog_settings.paths.data_dir / "settings.toml")
    wait = (
        "while not lib.feed.connected:\n    time.sleep(0.05)\n"
        if feed
        else "lib.feed.stop(force=True)\n"
    )
    code = (
        "import sys, time\n"
        "from core.library import Library\n"
        "from core.settings import load_settings\n"
        f"s = load_settings(environ={{}}, config_file={config!r},"
        f" data_dir={str(catalog_settings.paths.data_dir)!r},"
        f" database_url={catalog_settings.effective_database_url!r})\n"
        "lib = Library.open(s)\n"
        f"{wait}"
        "print('ready', flush=True)\n"
        "sys.stdin.read()\n"
        "lib.close()\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)


@pytest.fixture
def other_process(catalog_settings: Settings) -> Iterator[subprocess.Popen[str]]:
    """Another MediaDesk process with the same catalog open (its feed running)."""
    with _running(catalog_settings, feed=True) as proc:
        yield proc


def test_an_upgrade_refuses_while_another_process_runs_on_the_catalog(
    catalog_settings: Settings,
    other_process: subprocess.Popen[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = Database(catalog_settings.effective_database_url)

    head = _head_revision()

    def stamp(revision: str) -> None:  # behind head: 0021 and 0022 are safe to run again
        with db.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})

    def revision() -> str:
        with db.engine.connect() as conn:
            return str(conn.execute(text("SELECT version_num FROM alembic_version")).scalar())

    try:
        stamp("0020")
        with pytest.raises(StorageUnavailable) as refused:
            upgrade(db.engine)
        assert f":{other_process.pid}" in refused.value.message
        assert schema_guard.FORCE_ENV in refused.value.message
        assert revision() == "0020"  # nothing changed
        # the desktop's start-up dialog said "the storage cannot be reached… check the
        # connection": it names what to close
        said = describe_error(refused.value).text
        assert said.startswith("This version of MediaDesk must upgrade the library first"), said
        assert f":{other_process.pid}" in said, said
        with pytest.raises(StorageUnavailable) as refused:
            downgrade(db.engine, "0019")  # nor back under a running process
        assert f":{other_process.pid}" in refused.value.message and "downgrade" in str(
            refused.value.message
        )
        assert revision() == "0020"
        # doctor's advice for the pending migration names them too (it only said "start
        # MediaDesk once", which that refusal then answered)
        (migrations,) = [c for c in check_catalog(db) if c.name == "migrations"]
        assert not migrations.ok and f":{other_process.pid}" in migrations.fix

        monkeypatch.setenv(schema_guard.FORCE_ENV, "1")
        upgrade(db.engine)
        assert revision() == head

        monkeypatch.delenv(schema_guard.FORCE_ENV)
        stamp("0020")
        assert other_process.stdin is not None
        other_process.stdin.close()  # it closes its library and ends
        other_process.wait(30)
        upgrade(db.engine)
        assert revision() == head
    finally:
        db.dispose()


def _alive(db: Database) -> list[str]:
    with db.engine.connect() as conn:
        return schema_guard.others_alive(conn)


def test_a_command_line_run_without_its_feed_makes_an_upgrade_refuse(
    catalog_settings: Settings,
) -> None:
    """A short run (`mediadesk import`, `maintenance`) writes through a Library whose change
    feed never connected: on PostgreSQL only the feed's connection held the presence, so an
    upgrade ran under it."""
    db = Database(catalog_settings.effective_database_url)
    try:
        with _running(catalog_settings, feed=False) as other:
            with db.engine.begin() as conn:
                conn.execute(text("UPDATE alembic_version SET version_num = '0020'"))
            with pytest.raises(StorageUnavailable) as refused:
                upgrade(db.engine)
            assert f":{other.pid}" in refused.value.message
    finally:
        db.dispose()


def _holders(db: Database, pid: int) -> set[int]:
    """The backends holding the presence for the process `pid`."""
    with db.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = :c "
                "AND l.objid::bigint = :k AND a.application_name LIKE :n"
            ),
            {
                "c": schema_guard.PRESENCE_CLASS,
                "k": schema_guard.PRESENCE_KEY,
                "n": f"{schema_guard.APP_PREFIX}%:{pid}",
            },
        )
        return {int(r[0]) for r in rows}


def _until(what: str, done: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 30
    while not done():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


@pytest.mark.parametrize("catalog_settings", ["postgresql"], indirect=True)
def test_the_presence_comes_back_after_its_connection_is_killed(
    catalog_settings: Settings,
) -> None:
    """PostgreSQL restarted, a network blip: the connection holding the presence ends, and
    the process holds it again on a new one (without a feed running to do it), not on one
    more connection per try."""
    db = Database(catalog_settings.effective_database_url)
    try:
        with _running(catalog_settings, feed=False) as other:
            killed = _holders(db, other.pid)
            assert killed and any(f":{other.pid}" in a for a in _alive(db))
            with db.engine.connect() as conn:
                for backend in killed:
                    conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": backend})
            _until("the presence did not come back", lambda: bool(_holders(db, other.pid) - killed))
            assert len(_holders(db, other.pid) - killed) == 1
            assert any(f":{other.pid}" in a for a in _alive(db))
            assert other.stdin is not None
            other.stdin.close()  # it closes its library and ends
            other.wait(30)
            _until("the presence outlived its process", lambda: _alive(db) == [])
    finally:
        db.dispose()
