"""Team mode on real parts: two `mediadesk serve` processes on one catalog, live within a second.

PostgreSQL (a throwaway cluster) with the moto S3 server as the shared bucket, and SQLite with
two processes on one data folder: an upload through A reaches B's /events, a token revoked by
the `mediadesk token revoke` command is refused by B, a trashed file stops streaming on B,
`Last-Event-ID` catches up after a disconnect, and killing the maintenance leader hands the
next maintenance run to the other process.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest

from core.db.engine import Database
from core.db.migrate import upgrade
from core.tokens import TokenStore
from tests.pg_server import postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, multipart_body

pytestmark = pytest.mark.timeout(300)
ROOT = Path(__file__).resolve().parents[1]
LIVE = 1.0  # seconds: the bound for a change to reach another process


@dataclass
class Serve:
    """One `mediadesk serve` subprocess."""

    proc: subprocess.Popen[str]
    url: str
    log: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _command(*args: str, preamble: str = "") -> list[str]:
    """`mediadesk` with `args`; `preamble`: Python run first (a test's monkeypatching of the
    server's module constants, as in-process tests do)."""
    return [
        sys.executable,
        "-c",
        f"{preamble}\nimport sys; from server.entry import main; sys.exit(main(sys.argv[1:]))",
        *args,
    ]


def spawn_serve(data_dir: Path, env: dict[str, str], preamble: str = "") -> subprocess.Popen[str]:
    return subprocess.Popen(
        _command("serve", "--port", "0", "--data-dir", str(data_dir), preamble=preamble),
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )


def ready(proc: subprocess.Popen[str]) -> Serve:
    """Waits for the serve process to print its address; keeps draining its stderr."""
    assert proc.stderr is not None
    lines: list[str] = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        assert line, "serve exited:\n" + "".join(lines)
        lines.append(line)
        if "Press Ctrl+C" in line:
            break
    match = re.search(r"running at (http://\S+)/", "".join(lines))
    assert match, "".join(lines)
    serve = Serve(proc, match.group(1), lines)

    def drain() -> None:  # keep the pipe from filling up
        assert proc.stderr is not None
        for line in proc.stderr:
            serve.log.append(line)

    threading.Thread(target=drain, daemon=True).start()
    return serve


class EventStream:
    """A plain SSE client in a thread: (id, event, data, arrival time) of each event."""

    def __init__(self, url: str, token: str, last_event_id: int | None = None) -> None:
        parts = urlsplit(url)
        self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        headers = bearer(token)
        if last_event_id is not None:
            headers["Last-Event-ID"] = str(last_event_id)
        self.conn.request("GET", "/events", headers=headers)
        self.sock = self.conn.sock
        self.resp = self.conn.getresponse()
        assert self.resp.status == 200
        self.events: list[tuple[int, str, dict[str, Any], float]] = []
        self.last_id: int | None = None
        self.connected = threading.Event()
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()
        assert self.connected.wait(10)

    def _read(self) -> None:
        fields: dict[str, str] = {}
        try:
            while True:
                raw = self.resp.readline()
                if not raw:
                    return
                line = raw.decode().rstrip("\n")
                if line == ": connected":
                    self.connected.set()
                if line == "":
                    if "id" in fields:
                        self.last_id = int(fields["id"])
                    if "data" in fields:
                        self.events.append(
                            (
                                int(fields.get("id", 0)),
                                fields.get("event", "message"),
                                json.loads(fields["data"]),
                                time.monotonic(),
                            )
                        )
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(":")
                    fields[name] = value[1:] if value.startswith(" ") else value
        except (OSError, ValueError, AttributeError, http.client.HTTPException):
            return

    def wait_for(self, kind: str, file_id: int, timeout: float = 10) -> float:
        """Arrival time of the first `kind` event of the file."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for _, event, data, at in list(self.events):
                if event == kind and data.get("file_id") == file_id:
                    return at
            time.sleep(0.01)
        raise AssertionError(f"no {kind} event of file {file_id}: {self.events}")

    def close(self) -> None:
        if self.sock is not None:  # wakes the reader thread blocked in recv
            with contextlib.suppress(OSError):
                self.sock.shutdown(socket.SHUT_RDWR)
        self.conn.close()
        self._thread.join(5)


def upload(url: str, token: str, path: Path) -> dict[str, Any]:
    body, ctype = multipart_body(
        {"file_type": "image", "is_public": "false"},
        {"file": (path.name, path.read_bytes(), "image/jpeg")},
    )
    reply = http_call(
        f"{url}/files/upload/direct",
        "POST",
        body,
        {**bearer(token), "Content-Type": ctype},
    )
    assert reply.status in (200, 201), reply.body
    return dict(reply.json())


def until(predicate: Any, timeout: float, step: float = 0.02) -> float:
    """Seconds until predicate() is true (fails after timeout)."""
    started = time.monotonic()
    while not predicate():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(step)
    return time.monotonic() - started


def health(url: str, token: str) -> dict[str, Any]:
    return dict(http_call(f"{url}/health", headers=bearer(token)).json())


@dataclass
class Team:
    a: Serve
    b: Serve
    env: dict[str, str]
    data_a: Path
    admin: str
    read: str
    read_id: int
    db_url: str


def _base_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("MEDIADESK_", "R2_")) and k != "DATABASE_URL"
    }
    env.update(MEDIADESK_MAINTENANCE_INTERVAL="1", MEDIADESK_UPLOAD_RATE_LIMIT="0", **extra)
    return env


def _team(tmp_path: Path, env: dict[str, str], db_url: str, shared_dir: bool) -> Iterator[Team]:
    data_a = tmp_path / "a"
    data_b = data_a if shared_dir else tmp_path / "b"
    for folder in (data_a, data_b):
        folder.mkdir(exist_ok=True)
    db = Database(db_url)
    upgrade(db.engine)
    store = TokenStore(db)
    _, admin = store.create("team-admin", "admin")
    read_info, read = store.create("team-read", "read")
    db.dispose()
    procs = [spawn_serve(data_a, env), spawn_serve(data_b, env)]  # start-up in parallel
    try:
        a, b = ready(procs[0]), ready(procs[1])
        yield Team(a, b, env, data_a, admin, read, read_info.id, db_url)
    finally:
        for proc in procs:
            Serve(proc, "").stop()


@pytest.fixture
def pg_team(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
    s3_bucket: Any,
) -> Iterator[Team]:
    name = f"team_{uuid.uuid4().hex[:12]}"
    admin_url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    db_url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    env = _base_env(
        DATABASE_URL=db_url,
        R2_ENDPOINT_URL=s3_bucket.endpoint_url,
        R2_BUCKET_NAME=s3_bucket.bucket,
        R2_ACCESS_KEY_ID=s3_bucket.access_key_id,
        R2_SECRET_ACCESS_KEY=s3_bucket.secret_access_key,
        R2_REGION="us-east-1",
    )
    yield from _team(tmp_path, env, db_url, shared_dir=False)


@pytest.fixture
def sqlite_team(tmp_path: Path) -> Iterator[Team]:
    folder = tmp_path / "a"
    folder.mkdir()
    db_url = f"sqlite:///{folder / 'mediadesk.sqlite3'}"
    yield from _team(tmp_path, _base_env(), db_url, shared_dir=True)


@pytest.fixture(params=["postgresql", "sqlite"])
def team(request: pytest.FixtureRequest) -> Team:
    return request.getfixturevalue("pg_team" if request.param == "postgresql" else "sqlite_team")


def test_two_servers_share_one_catalog_live(team: Team, media_dir: Any) -> None:
    """One team per backend (starting processes is the slow part): each step in turn."""
    check_changes_reach_the_other_server(team, media_dir)
    check_revoke_reaches_the_other_server(team)
    check_one_leader_and_a_takeover(team)  # last: it kills a server


def check_changes_reach_the_other_server(team: Team, media_dir: Any) -> None:
    a, b = team.a, team.b
    stream = EventStream(b.url, team.admin)
    try:
        record = upload(a.url, team.admin, media_dir.jpeg)
        answered = time.monotonic()
        file_id = record.get("file_id", record.get("id"))
        arrived = stream.wait_for("created", file_id)
        assert arrived - answered <= LIVE
        created = next(e for e in stream.events if e[1] == "created")
        assert created[2]["file"]["original_filename"] == media_dir.jpeg.name
        assert created[0] > 0 and created[2]["id"] == created[0]  # id: is the change id

        # B streams the file (and caches its record); trashed through A, B stops within 1 s
        stream_url = f"{b.url}/stream/{file_id}/image"
        assert http_call(stream_url, headers=bearer(team.admin)).status == 200
        reply = http_call(f"{a.url}/files/{file_id}", "DELETE", headers=bearer(team.admin))
        assert reply.status == 200, reply.body
        trashed = time.monotonic()
        until(lambda: http_call(stream_url, headers=bearer(team.admin)).status == 404, LIVE)
        stream.wait_for("trashed", file_id)
        assert time.monotonic() - trashed < 5

        # the catch-up after a disconnect, from the other process, in order
        seen = stream.last_id
        assert seen is not None and seen >= created[0]
        stream.close()
        http_call(f"{a.url}/files/{file_id}/restore", "POST", headers=bearer(team.admin))
        patch = http_call(
            f"{a.url}/files/{file_id}",
            "PATCH",
            json.dumps({"description": "missed while away"}).encode(),
            {**bearer(team.admin), "Content-Type": "application/json"},
        )
        assert patch.status == 200, patch.body
        again = EventStream(a.url, team.admin, last_event_id=seen)
        try:
            until(lambda: len(again.events) >= 2, 5)
            kinds = [(e[1], e[2]["file_id"]) for e in again.events]
            assert kinds[:2] == [("restored", file_id), ("updated", file_id)]
            ids = [e[0] for e in again.events]
            assert ids == sorted(ids) and ids[0] > seen
            assert again.events[1][2]["file"]["description"] == "missed while away"
        finally:
            again.close()
    finally:
        stream.close()


def check_revoke_reaches_the_other_server(team: Team) -> None:
    b = team.b
    files = f"{b.url}/files/"
    assert http_call(files, headers=bearer(team.read)).status == 200  # now cached on B
    events = EventStream(b.url, team.read)  # open on B with the token about to be revoked
    result = subprocess.run(
        _command("token", "revoke", str(team.read_id), "--data-dir", str(team.data_a)),
        cwd=ROOT,
        env=team.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    until(lambda: http_call(files, headers=bearer(team.read)).status == 401, LIVE)
    assert http_call(files, headers=bearer(team.admin)).status == 200
    # the open stream is told and ends as soon (it went on sending every record)
    until(lambda: not events._thread.is_alive(), LIVE)
    told = [(e[1], e[2].get("code")) for e in events.events]
    assert told[-1] == ("unauthorized", "invalid_token"), told  # (after A's last changes)
    events.close()

    # The command takes seconds to start, longer than B caches a verified token (5 s): so
    # again with B's cache freshly filled, revoked from this process the moment after.
    db = Database(team.db_url)
    try:
        store = TokenStore(db)
        info, secret = store.create("team-read-2", "read")
        assert http_call(files, headers=bearer(secret)).status == 200  # verified, cached on B
        store.revoke(info.id)
        until(lambda: http_call(files, headers=bearer(secret)).status == 401, LIVE)
    finally:
        db.dispose()


def check_one_leader_and_a_takeover(team: Team) -> None:
    def leaders() -> list[Serve]:
        return [s for s in (team.a, team.b) if health(s.url, team.admin)["maintenance"]["leader"]]

    until(lambda: len(leaders()) == 1, 10, 0.1)
    leader = leaders()[0]
    other = team.b if leader is team.a else team.a
    report = health(other.url, team.admin)["maintenance"]
    until(lambda: health(other.url, team.admin)["maintenance"]["last_run_at"], 10, 0.1)
    state = health(other.url, team.admin)["maintenance"]
    assert {"purged", "expired_pending", "change_log_pruned"} <= set(state["last_report"])
    assert state["reconcile"]["clean"] is True, state  # the store against the catalog, daily
    assert (
        health(other.url, team.admin)["maintenance"]["last_run_by"]
        == (health(leader.url, team.admin)["maintenance"]["this_process"])
    )
    assert report["leader"] is False and report["participating"] is True
    for _ in range(3):  # never two leaders at once
        assert len(leaders()) == 1
        time.sleep(0.2)

    leader.proc.kill()
    leader.proc.wait()
    killed = time.time()
    me = health(other.url, team.admin)["maintenance"]["this_process"]

    def took_over() -> bool:
        state = health(other.url, team.admin)["maintenance"]
        last = state.get("last_run_at")
        return bool(
            state["leader"]
            and state.get("last_run_by") == me
            and last
            and time.mktime(time.strptime(last[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
            >= int(killed)
        )

    until(took_over, 10, 0.1)
    assert health(other.url, team.admin)["feed"]["connected"] is True
