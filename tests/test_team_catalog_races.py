"""Writes of two processes on one PostgreSQL catalog that meet on a shared row never answer 500.

Found by driving two `mediadesk serve` processes with many clients at once: rows that are not
the file's own — a placeholder athlete made by a first upload, the per-filter counts kept by
triggers (file_counts) — were written by both. Each test makes the meeting happen in a fixed
order: a transaction of "the other process" (a second Library, or a plain connection) is held
open at the point that matters while a request to a real server waits on it.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from core.catalog import Catalog
from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.internals import db_of
from tests.pg_server import postgres_url  # noqa: F401
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(120)


@dataclass
class Catalogue:
    """A server on a fresh PostgreSQL database, and what reaches that database directly."""

    lib: Library
    server: EmbeddedServer
    token: str
    dsn: str  # plain libpq form, for psycopg
    data: Path

    def call(self, method: str, path: str, body: bytes | None = None, **headers: str) -> Reply:
        return http_call(
            f"{self.server.url}{path}", method, body, {**bearer(self.token), **headers}
        )


@pytest.fixture
def catalogue(tmp_path: Path, postgres_url: str) -> Iterator[Catalogue]:  # noqa: F811
    name = f"races_{uuid.uuid4().hex[:12]}"
    admin = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    data = tmp_path / "a"
    data.mkdir()
    lib = Library.open(make_settings(data, database_url=url))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        dsn = url.replace("postgresql+psycopg://", "postgresql://")
        yield Catalogue(lib, server, make_tokens(lib).admin, dsn, tmp_path)
    finally:
        server.stop()
        lib.close()


def in_thread(work: Callable[[], Reply]) -> Callable[[], Reply]:
    """Starts `work` in a thread; the returned call waits for its reply."""
    out: list[Reply] = []
    thread = threading.Thread(target=lambda: out.append(work()), daemon=True)
    thread.start()

    def reply() -> Reply:
        thread.join(60)
        assert out, "the request did not finish"
        return out[0]

    return reply


def wait_until_blocked(dsn: str, besides: int, count: int = 1) -> None:
    """Until `count` other sessions of the database wait on a lock (a request that reached the
    point the test holds); fails after 30 s."""
    deadline = time.monotonic() + 30
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> %s",
                (besides,),
            ).fetchone()
            if row is not None and row[0] >= count:
                return
            time.sleep(0.01)
    raise AssertionError("no request waited on the held transaction")


def direct_upload(cat: Catalogue, path: Path, **fields: str) -> Reply:
    from tests.server_fixtures import multipart_body

    body, ctype = multipart_body(
        {"file_type": "image", **fields}, {"file": (path.name, path.read_bytes(), "image/jpeg")}
    )
    return cat.call("POST", "/files/upload/direct", body, **{"Content-Type": ctype})


def test_first_uploads_naming_one_new_athlete_in_two_processes(
    catalogue: Catalogue, media_dir: Any
) -> None:
    """Another process makes the placeholder athlete 77 and has not committed yet; an upload
    through this server naming 77 waits for it and files under that athlete (it used to insert
    77 too and fail on the key: 500)."""
    url = catalogue.lib.settings.database_url
    other = Library.open(make_settings(catalogue.data / "b", database_url=url))
    try:
        with db_of(other).write() as s:
            Catalog.ensure_athlete(s, 77)
            pid = s.connection().exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            reply = in_thread(lambda: direct_upload(catalogue, media_dir.jpeg, athlete_id="77"))
            wait_until_blocked(catalogue.dsn, besides=pid)
        answer = reply()
        assert answer.status == 201, answer.body
        assert answer.json()["athlete_id"] == 77
        athletes = catalogue.call("GET", "/athletes").json()["items"]
        assert [(a["id"], a["file_count"]) for a in athletes] == [(77, 1)]
    finally:
        other.close()


def test_a_restore_and_a_trash_elsewhere_take_the_counts_in_one_order(
    catalogue: Catalogue, media_dir: Any
) -> None:
    """X is trashed, Y is not (same athlete and kind: the two share their two file_counts
    rows). Another process trashing Y has read Y's counts row (not trashed) when a restore of X
    arrives here: the restore must not take the trashed row first and then wait for the other
    one, or the trash, which takes them the other way, deadlocks with it (500 deadlock_detected)."""
    x = direct_upload(catalogue, media_dir.jpeg, athlete_id="5").json()["id"]
    y = direct_upload(catalogue, media_dir.jpeg_rotated, athlete_id="5").json()["id"]
    assert catalogue.call("DELETE", f"/files/{x}").status == 200
    with psycopg.connect(catalogue.dsn) as other:
        pid = other.execute("SELECT pg_backend_pid()").fetchone()
        assert pid is not None
        other.execute(
            "SELECT n FROM file_counts WHERE athlete_id = 5 AND trashed = false "
            "AND status = 'ready' AND alias = false FOR UPDATE"
        )
        restore = in_thread(lambda: catalogue.call("POST", f"/files/{x}/restore"))
        wait_until_blocked(catalogue.dsn, besides=pid[0])
        other.execute("UPDATE media_files SET deleted_at = now() WHERE id = %s", (y,))
        other.commit()
    answer = restore()
    assert answer.status == 200, answer.body
    assert answer.json()["deleted_at"] is None
    listed = catalogue.call("GET", "/files/?athlete_id=5").json()
    assert [f["id"] for f in listed["items"]] == [x] and listed["total"] == 1
    trashed = catalogue.call("GET", "/files/?athlete_id=5&trashed=true").json()
    assert [f["id"] for f in trashed["items"]] == [y] and trashed["total"] == 1
