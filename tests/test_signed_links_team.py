"""Signed stream/watch links across the servers of a team (one PostgreSQL catalog).

Two `mediadesk serve` processes with their own data folders (so their own key files) on a
throwaway PostgreSQL cluster and the moto S3 bucket: a watch link and a stream link issued by A
open on B; tampered or expired ones are 403 on both; the key lives once in the catalog, was
taken from a data folder's 0600 key file, and appears in no log.
"""

from __future__ import annotations

import re
import stat
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import psycopg
import pytest

from core.storage.factory import SIGNING_KEY_FILE
from tests import media
from tests.pg_server import postgres_url  # noqa: F401
from tests.server_fixtures import bearer, http_call, multipart_body
from tests.test_team import Team, pg_team  # noqa: F401

pytestmark = pytest.mark.timeout(300)


def _upload_video(url: str, token: str, path: Path) -> int:
    body, ctype = multipart_body(
        {"file_type": "video", "is_public": "false"},
        {"file": (path.name, path.read_bytes(), "video/mp4")},
    )
    reply = http_call(
        f"{url}/files/upload/direct", "POST", body, {**bearer(token), "Content-Type": ctype}
    )
    assert reply.status in (200, 201), reply.body
    data = reply.json()
    return int(data.get("file_id", data.get("id")))


def _watch_link(url: str, token: str, file_id: int, expires_in: int | None = None) -> str:
    query = "kind=watch" + (f"&expires_in={expires_in}" if expires_in else "")
    reply = http_call(f"{url}/files/{file_id}/presigned-url?{query}", headers=bearer(token))
    assert reply.status == 200, reply.body
    parts = urlsplit(reply.json()["url"])
    return f"{parts.path}?{parts.query}"  # the path and grant, to open on any server


def _tampered(link: str) -> str:
    path, _, query = link.partition("?")
    fields = dict(parse_qsl(query))
    fields["sig"] = ("0" if fields["sig"][0] != "0" else "1") + fields["sig"][1:]
    return f"{path}?{urlencode(fields)}"


def _code(reply: object) -> str:
    return str(reply.json()["error"]["code"])  # type: ignore[attr-defined]


def test_a_link_issued_by_one_server_opens_on_the_other(
    pg_team: Team,  # noqa: F811
    tmp_path: Path,
) -> None:
    team = pg_team
    a, b = team.a, team.b
    file_id = _upload_video(a.url, team.admin, media.make_mp4(tmp_path / "match.mp4", seconds=1))

    watch = _watch_link(a.url, team.read, file_id)
    assert watch.startswith(f"/watch/{file_id}?") and "sig=" in watch
    grant = watch.split("?", 1)[1]
    stream = f"/stream/{file_id}/video?{grant}"
    for server in (a, b):
        page = http_call(server.url + watch)
        assert page.status == 200, (server.url, page.body[:300])
        assert page.headers["Content-Type"].startswith("text/html")
        video = http_call(server.url + stream, headers={"Range": "bytes=0-99"})
        assert video.status == 206 and len(video.body) == 100
        # the same paths without the grant, or with a tampered one
        assert http_call(f"{server.url}/watch/{file_id}").status == 401
        for link in (_tampered(watch), _tampered(stream)):
            reply = http_call(server.url + link)
            assert reply.status == 403 and _code(reply) == "invalid_signature"

    # B's links open on A too (whichever server the player's request lands on)
    assert http_call(a.url + _watch_link(b.url, team.read, file_id)).status == 200

    expiring = _watch_link(a.url, team.read, file_id, expires_in=1)
    # polled rather than slept past: the link ends within about 2 s of its making (whole
    # seconds), so a link that never ends still fails here, at the deadline
    deadline = time.monotonic() + 10
    while http_call(a.url + expiring).status == 200:
        assert time.monotonic() < deadline, "the one-second link never ran out"
        time.sleep(0.05)
    for server in (a, b):
        reply = http_call(server.url + expiring)
        assert reply.status == 403 and _code(reply) == "signature_expired"

    # One key in the catalog, taken from a data folder's key file (0600), never logged
    with psycopg.connect(team.db_url.replace("postgresql+psycopg://", "postgresql://")) as conn:
        rows = conn.execute("SELECT name, secret FROM url_signing_keys").fetchall()
    assert len(rows) == 1 and len(rows[0][1]) >= 32
    key = bytes(rows[0][1])
    files = [d / "secrets" / SIGNING_KEY_FILE for d in (team.data_a, team.data_a.parent / "b")]
    sources = [f for f in files if f.exists() and f.read_bytes() == key]
    assert sources, "the catalog key comes from a data folder's key file"
    assert all(stat.S_IMODE(f.stat().st_mode) == 0o600 for f in sources)
    logs = "".join(a.log + b.log)
    assert key.hex() not in logs and not re.search(re.escape(repr(key)[2:-1]), logs)
