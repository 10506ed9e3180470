"""tus uploads on R2/S3 whose requests reach several servers of a team (one PostgreSQL catalog,
one bucket, a data folder each), as behind one proxy.

The bytes past an upload's complete parts wait in the receiving server's data folder
(`uploads/<id>.buffer`); the catalog names that folder (`buffer_at`, migration 0020):
- the maintenance leader, running in another folder, leaves the upload alone (it removed every
  upload in progress whose buffer it did not hold, as if its bytes were gone);
- a server that buffered bytes of an earlier part never takes them for the current one when a
  PATCH comes back to it (the stored file had the wrong bytes in the middle).
"""

from __future__ import annotations

import hashlib
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from core.library import Library
from core.maintenance import run_maintenance
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.faults import CuttableProxy
from tests.pg_server import postgres_url  # noqa: F401
from tests.resumable_client import MiB, create, head, padded_mp4, patch
from tests.server_fixtures import bearer, http_call, make_tokens, server_config
from tests.test_team_catalog_races import in_thread

pytestmark = pytest.mark.timeout(180)
PART = 5 * MiB


@dataclass
class Team:
    a: EmbeddedServer
    b: EmbeddedServer
    lib_a: Library
    lib_b: Library
    token: str


@contextmanager
def _team(
    tmp_path: Path, postgres_url: str, s3_bucket: Any, a_endpoint: str | None = None
) -> Iterator[Team]:
    """Two servers on a fresh database and the bucket; A may reach the bucket another way."""
    name = f"tus_{uuid.uuid4().hex[:12]}"
    admin = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = postgres_url.rsplit("/", 1)[0] + f"/{name}"
    libs = []
    for folder, endpoint in (("a", a_endpoint), ("b", None)):
        data = tmp_path / folder
        data.mkdir()
        libs.append(
            Library.open(
                make_settings(
                    data,
                    database_url=url,
                    r2_endpoint_url=endpoint or s3_bucket.endpoint_url,
                    r2_bucket_name=s3_bucket.bucket,
                    r2_access_key_id=s3_bucket.access_key_id,
                    r2_secret_access_key=s3_bucket.secret_access_key,
                    r2_region="us-east-1",
                    upload_part_size=PART,
                )
            )
        )
    servers = [EmbeddedServer(lib, config=server_config(lib)) for lib in libs]
    try:
        for server in servers:
            server.start()
        yield Team(servers[0], servers[1], libs[0], libs[1], make_tokens(libs[0]).upload)
    finally:
        for server in servers:
            server.stop()
        for lib in libs:
            lib.close()


@pytest.fixture
def team(tmp_path: Path, postgres_url: str, s3_bucket: Any) -> Iterator[Team]:  # noqa: F811
    with _team(tmp_path, postgres_url, s3_bucket) as made:
        yield made


def video(tmp_path: Path, size: int) -> bytes:
    return padded_mp4(tmp_path / f"v{size}.mp4", size).read_bytes()


def start(team: Team, data: bytes) -> str:
    created = create(f"{team.a.url}", team.token, len(data), filename="v.mp4", filetype="video/mp4")
    assert created.status == 201, created.body
    return str(created.headers["Location"])


def stored_whole(team: Team, done: Any, data: bytes) -> None:
    assert done.status == 204, done.body
    file_id = done.headers["MediaDesk-File-Id"]
    record = http_call(f"{team.b.url}/files/{file_id}", headers=bearer(team.token)).json()
    assert record["sha256"] == hashlib.sha256(data).hexdigest()


def test_the_leader_elsewhere_keeps_an_upload_whose_buffer_it_does_not_hold(
    team: Team, tmp_path: Path
) -> None:
    data = video(tmp_path, 2 * PART + MiB)
    where = start(team, data)
    assert patch(team.a.url + where, team.token, 0, data[: 2 * MiB]).status == 204
    report = run_maintenance(team.lib_b, only=frozenset({"sweep_uploads"}))
    assert report.cleaned_uploads == []
    reply = head(team.a.url + where, team.token)
    assert reply.status == 200 and reply.headers["Upload-Offset"] == str(2 * MiB)
    stored_whole(team, patch(team.a.url + where, team.token, 2 * MiB, data[2 * MiB :]), data)


def test_a_stale_buffer_of_an_earlier_part_is_never_taken_for_the_current_one(
    team: Team, tmp_path: Path
) -> None:
    """A buffers half a part; the next PATCH reaches B, which has none of it: 409 with the
    offset B can take (the parts in the bucket: 0). The client goes on through B past the first
    part, then reaches A again, whose buffer still holds the first part's head."""
    data = video(tmp_path, 2 * PART + MiB)
    where = start(team, data)
    a, b = team.a.url + where, team.b.url + where
    half = PART // 2
    assert patch(a, team.token, 0, data[:half]).status == 204
    refused = patch(b, team.token, half, data[half:PART])
    assert refused.status == 409, refused.body
    offset = int(head(b, team.token).headers["Upload-Offset"])
    assert offset == 0
    quarter = PART // 4
    assert patch(b, team.token, 0, data[: PART + quarter]).status == 204
    # A holds none of the bytes B buffered: its HEAD and its 409 answer the offset it can take,
    # the end of the part B sent (taking its own buffer for them stored the file with wrong
    # bytes)
    assert int(head(a, team.token).headers["Upload-Offset"]) == PART
    refused = patch(a, team.token, PART + quarter, data[PART + quarter :])
    assert refused.status == 409, refused.body
    assert refused.json()["error"]["details"]["offset"] == PART
    assert refused.headers["Upload-Offset"] == str(PART)
    stored_whole(team, patch(a, team.token, PART, data[PART:]), data)


def test_a_finish_that_failed_on_one_server_is_not_done_by_another_without_the_bytes(
    tmp_path: Path,
    postgres_url: str,
    s3_bucket: Any,  # noqa: F811
) -> None:
    """A's last PATCH arrives while A cannot reach the bucket: the last part stays in A's
    buffer. The client's HEAD (what tus clients ask after an error) reaches B, which holds none
    of it: B takes the upload back to the parts in the bucket instead of completing it from its
    own folder (an empty or stale buffer: a 500, or a file with wrong bytes), and the client
    sends the rest through B."""
    proxy = CuttableProxy.in_front_of(s3_bucket.endpoint_url)
    try:
        with _team(tmp_path, postgres_url, s3_bucket, a_endpoint=proxy.url) as team:
            data = video(tmp_path, PART + 2 * MiB)
            where = start(team, data)
            a, b = team.a.url + where, team.b.url + where
            assert patch(a, team.token, 0, data[: PART + MiB]).status == 204
            proxy.cut()
            down = patch(a, team.token, PART + MiB, data[PART + MiB :])
            assert down.status == 500 and "storage_unavailable" in down.body.decode()
            proxy.restore()
            state = head(b, team.token)
            assert state.status == 200, state.body
            assert "MediaDesk-File-Id" not in state.headers
            assert state.headers["Upload-Offset"] == str(PART)
            stored_whole(team, patch(b, team.token, PART, data[PART:]), data)
    finally:
        proxy.close()


def test_a_node_that_is_not_the_leader_cleans_its_own_data_folder(
    team: Team, tmp_path: Path
) -> None:
    """B buffered the head of an upload that A then received whole and finished: B's buffer
    is left over in B's data folder, which the leader (A) never sees. B, not the leader,
    sweeps its own folder once per interval (before, only the leader's folder was swept: every
    other node kept such files, up to a part per upload, for good)."""
    data = video(tmp_path, 2 * MiB)
    created = create(team.b.url, team.token, len(data), filename="v.mp4", filetype="video/mp4")
    where = str(created.headers["Location"])
    assert patch(team.b.url + where, team.token, 0, data[:MiB]).status == 204
    assert patch(team.a.url + where, team.token, MiB, data[MiB:]).status == 409
    stored_whole(team, patch(team.a.url + where, team.token, 0, data), data)
    left = team.lib_b.paths.data_dir / "uploads" / f"{where.rsplit('/', 1)[1]}.buffer"
    assert left.exists()
    leaders = [team.lib_a.maintenance_leader(1.0), team.lib_b.maintenance_leader(1.0)]
    try:
        leaders[0].start()
        deadline = time.monotonic() + 30
        while not leaders[0].is_leader and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leaders[0].is_leader
        leaders[1].start()
        while left.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not left.exists(), "B's leftover buffer was not swept"
        assert not leaders[1].is_leader
    finally:
        for leader in leaders:
            leader.stop()


def test_a_sweep_never_refuses_a_patch_to_an_upload_with_nothing_to_cut(
    team: Team, tmp_path: Path
) -> None:
    """The upload sweep (every node, each maintenance pass) held every idle upload in progress
    to look for bytes past its recorded offset, and a PATCH arriving meanwhile was refused 423
    "another request is writing" though none was (two servers, 30 clients: a first PATCH of a
    fresh upload refused). The sweep now holds an upload only when its file has such a tail.
    The test holds the upload's catalog row, so a sweep that took the upload is still holding
    it when the PATCH arrives."""
    data = video(tmp_path, 2 * PART + MiB)
    where = start(team, data)
    assert patch(team.a.url + where, team.token, 0, data[: 2 * MiB]).status == 204
    upload_id = where.rsplit("/", 1)[1]
    dsn = team.lib_a.settings.database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(dsn) as holder, psycopg.connect(dsn, autocommit=True) as watcher:
        holder.execute("SELECT id FROM resumable_uploads WHERE id = %s FOR UPDATE", (upload_id,))
        pid = holder.info.backend_pid

        def blocked() -> int:
            row = watcher.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> %s",
                (pid,),
            ).fetchone()
            return int(row[0]) if row else 0

        sweep = threading.Thread(target=team.lib_a.resumable.sweep, daemon=True)
        sweep.start()
        while sweep.is_alive() and not blocked():
            time.sleep(0.01)
        waiting = blocked()
        reply = in_thread(lambda: patch(team.a.url + where, team.token, 2 * MiB, data[2 * MiB :]))
        # the PATCH either answered or waits for the row like the sweep
        while not reply.done() and blocked() <= waiting:
            time.sleep(0.01)
    sweep.join(60)
    stored_whole(team, reply(), data)
