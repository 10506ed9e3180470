"""tus on a team (one PostgreSQL catalog, one bucket, two servers with a data folder each), over
real HTTP: the offset a server answers is the one its PATCH takes.

The bytes of an upload past its stored parts wait on the disk of the server that received them.
Another server's HEAD answered the catalog's count of bytes received, and its PATCH at that
offset was refused 409 "does not match the 0 bytes received" without an `Upload-Offset` header:
a round trip carrying the whole rest for nothing (found by an outside team test). That refused
PATCH also took the upload over, so a client going on with the first server lost the bytes
buffered there. Now HEAD answers the parts' offset there, a refused PATCH changes nothing, and
every 409 offset_mismatch names the offset taken in `Upload-Offset` as tusd does.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import server.routes.tus as tus_routes
from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.faults import CuttableProxy, wait_for
from tests.internals import lock_users, sha_locks_of
from tests.pg_server import postgres_url  # noqa: F401
from tests.resumable_client import MiB, create, head, patch
from tests.server_fixtures import bearer, http_call, make_tokens, server_config
from tests.test_team_tus import PART, Team, _team, start, stored_whole, video

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def team(tmp_path: Path, postgres_url: str, s3_bucket: Any) -> Iterator[Team]:  # noqa: F811
    with _team(tmp_path, postgres_url, s3_bucket) as made:
        yield made


def _offset_refused(reply: Any, accepted: int) -> None:
    """A 409 offset_mismatch naming `accepted` in its header, as in its details."""
    assert reply.status == 409, reply.body
    error = reply.json()["error"]
    assert error["code"] == "offset_mismatch"
    assert error["details"]["offset"] == accepted
    assert reply.headers.get("Upload-Offset") == str(accepted), reply.headers


def test_head_on_the_other_server_answers_the_offset_its_patch_takes(
    team: Team, tmp_path: Path
) -> None:
    """A stored one part and buffers a MiB past it; B holds none of that MiB."""
    data = video(tmp_path, 2 * PART + MiB)
    where = start(team, data)
    a, b = team.a.url + where, team.b.url + where
    assert patch(a, team.token, 0, data[: PART + MiB]).status == 204
    assert head(a, team.token).headers["Upload-Offset"] == str(PART + MiB)
    answer = head(b, team.token)
    assert answer.status == 200 and answer.headers["Upload-Offset"] == str(PART)
    # a client that kept A's offset is told B's in the header tus clients read
    _offset_refused(patch(b, team.token, PART + MiB, data[PART + MiB :]), PART)
    stored_whole(team, patch(b, team.token, PART, data[PART:]), data)


def test_a_client_refused_by_the_other_server_goes_on_with_the_bytes_it_left(
    team: Team, tmp_path: Path
) -> None:
    """No part in the bucket yet (the outside test's case): B's HEAD says 0, its 409 too; the
    client goes back to A (a proxy's next choice), which still has its bytes."""
    data = video(tmp_path, 2 * PART + MiB)
    where = start(team, data)
    a, b = team.a.url + where, team.b.url + where
    assert patch(a, team.token, 0, data[: 2 * MiB]).status == 204
    assert head(b, team.token).headers["Upload-Offset"] == "0"
    _offset_refused(patch(b, team.token, 2 * MiB, data[2 * MiB :]), 0)
    answer = head(a, team.token)
    assert answer.status == 200 and answer.headers["Upload-Offset"] == str(2 * MiB)
    stored_whole(team, patch(a, team.token, 2 * MiB, data[2 * MiB :]), data)


def test_a_head_elsewhere_leaves_a_failed_finish_to_the_server_holding_its_bytes(
    tmp_path: Path,
    postgres_url: str,  # noqa: F811
    s3_bucket: Any,
) -> None:
    """A's last PATCH met the bucket out of reach: its last part waits in A's buffer. B's HEAD
    answers the parts' offset, as its PATCH would take; it took the upload over to answer it,
    so the client's next HEAD on A (the bucket back) had A's bytes thrown away and the last
    part sent again. Now A finishes the upload from its buffer, no byte sent again."""
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
            elsewhere = head(b, team.token)
            assert elsewhere.status == 200 and elsewhere.headers["Upload-Offset"] == str(PART)
            done = head(a, team.token)
            assert done.status == 200, done.body
            assert done.headers["Upload-Offset"] == str(len(data))
            file_id = done.headers["MediaDesk-File-Id"]
            record = http_call(f"{team.b.url}/files/{file_id}", headers=bearer(team.token))
            assert record.json()["sha256"] == hashlib.sha256(data).hexdigest()
    finally:
        proxy.close()


def test_head_elsewhere_waits_for_the_completion_on_the_server_holding_the_bytes(
    team: Team, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A's last PATCH is completing the upload (held at the hash's lock): B's HEAD does not
    answer the parts' offset (the client would PATCH an upload about to be done) but waits for
    the file id, 423 past its wait, as for a completion of its own."""
    data = video(tmp_path, PART + 2 * MiB)
    where = start(team, data)
    a, b = team.a.url + where, team.b.url + where
    assert patch(a, team.token, 0, data[: PART + MiB]).status == 204
    locks, sha = sha_locks_of(team.lib_a), hashlib.sha256(data).hexdigest()
    replies: dict[str, Any] = {}
    with locks.hold(sha):
        rest = data[PART + MiB :]
        last = threading.Thread(
            target=lambda: replies.setdefault("patch", patch(a, team.token, PART + MiB, rest))
        )
        last.start()
        wait_for(lambda: lock_users(locks, sha) == 2, what="A's completion at the hash's lock")
        monkeypatch.setattr(tus_routes, "HEAD_WAIT", 0.2)
        early = head(b, team.token)
        assert early.status == 423, (early.status, early.headers, early.body)
    last.join(60)
    stored_whole(team, replies["patch"], data)
    monkeypatch.setattr(tus_routes, "HEAD_WAIT", 50.0)
    done = head(b, team.token)
    assert done.status == 200
    assert done.headers["MediaDesk-File-Id"] == replies["patch"].headers["MediaDesk-File-Id"]
    assert done.headers["Upload-Offset"] == str(len(data))


@pytest.fixture
def live(data_dir: Path) -> Iterator[tuple[EmbeddedServer, str]]:
    library = Library.open(make_settings(data_dir))
    try:
        with EmbeddedServer(library, config=server_config(library)) as server:
            yield server, make_tokens(library).upload
    finally:
        library.close()


def test_every_offset_refusal_carries_upload_offset(live: tuple[EmbeddedServer, str]) -> None:
    """One server, local storage: a PATCH at a wrong offset, sent whole or held back for the
    100 Continue (refused before it, by the same checks), names the offset in the header."""
    server, token = live
    url = server.url + create(server.url, token, 3000).headers["Location"]
    assert patch(url, token, 0, b"x" * 1000).status == 204
    _offset_refused(patch(url, token, 500, b"x" * 100), 1000)
    path = url.split(str(server.port), 1)[1]
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as conn:
        conn.sendall(
            (
                f"PATCH {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                "Tus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\n"
                "Upload-Offset: 7\r\nContent-Length: 10\r\nExpect: 100-continue\r\n\r\n"
            ).encode()
        )
        head_text = b""
        while b"\r\n\r\n" not in head_text:
            chunk = conn.recv(65536)
            assert chunk, head_text
            head_text += chunk
    status_line, *lines = head_text.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    assert status_line.split(" ", 2)[1] == "409", status_line
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    assert headers.get("upload-offset") == "1000", headers
    # and the spec says so, where generated tus clients and CORS read it
    spec = http_call(f"{server.url}/openapi.json").json()
    refused = spec["paths"]["/files/upload/tus/{upload_id}"]["patch"]["responses"]["409"]
    assert "Upload-Offset" in refused.get("headers", {}), refused
