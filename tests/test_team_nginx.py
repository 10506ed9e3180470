"""MediaDesk behind a real nginx with MEDIADESK_ACCEL_REDIRECT: our checks, nginx's bytes."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.server_fixtures import Tokens, bearer, http_call, server_config
from tests.test_team import until

pytestmark = pytest.mark.timeout(60)
NGINX = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)

CONF = """
worker_processes 1;
{user}
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {prefix}/body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    server {{
        listen 127.0.0.1:{port};
        location / {{ proxy_pass http://127.0.0.1:{upstream}; proxy_http_version 1.1; }}
        location /_protected/ {{ internal; alias {objects}/; }}
    }}
}}
"""


@pytest.fixture
def behind_nginx(library: Library, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(nginx URL, MediaDesk URL) with X-Accel-Redirect on."""
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    config = server_config(library, accel_redirect="/_protected/")
    server = EmbeddedServer(library, config=config)
    server.start()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    from tests.pg_server import _free_port

    port = _free_port()
    (prefix / "nginx.conf").write_text(
        CONF.format(
            user="user root root;" if os.geteuid() == 0 else "",
            prefix=prefix,
            port=port,
            upstream=server.port,
            objects=library.paths.objects_dir,
        )
    )
    proc = subprocess.Popen(
        [NGINX, "-c", str(prefix / "nginx.conf"), "-p", str(prefix), "-e", "stderr"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        until(lambda: _answers(url), 15, 0.05)
        yield url, server.url
    finally:
        proc.terminate()
        proc.wait(10)
        server.stop()


def _answers(url: str) -> bool:
    try:
        return http_call(f"{url}/health", timeout=2).status == 200
    except OSError:
        return False


def test_nginx_sends_the_bytes_after_our_checks(
    behind_nginx: tuple[str, str], library: Library, tokens: Tokens, media_dir: Any
) -> None:
    front, direct = behind_nginx
    record = library.uploads.ingest(media_dir.mp4, "video", is_public=False)
    data = media_dir.mp4.read_bytes()
    path = f"/stream/{record.id}/video"

    # MediaDesk itself answers with the internal location and no body
    bare = http_call(direct + path, headers=bearer(tokens.read))
    assert bare.status == 200 and bare.body == b""
    assert bare.headers["X-Accel-Redirect"] == "/_protected/" + quote(record.storage_key)
    assert bare.headers["Content-Type"] == "video/mp4"

    # through nginx: the range, from the file, with our headers; the redirect never leaks
    reply = http_call(front + path, headers={**bearer(tokens.read), "Range": "bytes=100-1123"})
    assert reply.status == 206, reply.body[:200]
    assert reply.body == data[100:1124]
    assert reply.headers["Content-Range"] == f"bytes 100-1123/{len(data)}"
    assert "X-Accel-Redirect" not in reply.headers
    assert reply.headers["Content-Type"] == "video/mp4"
    assert "private" in reply.headers["Cache-Control"]
    whole = http_call(front + path, headers=bearer(tokens.read))
    assert whole.status == 200 and whole.body == data

    # our checks still decide: no token, no bytes; the internal location is not reachable
    assert http_call(front + path).status == 401
    assert http_call(f"{front}/_protected/{record.storage_key}").status == 404
    library.trash(record.id)
    assert http_call(front + path, headers=bearer(tokens.read)).status == 404

    # every access through nginx was audited by MediaDesk (the sink writes every 0.5 s)
    until(lambda: library.audit.query(file_id=record.id)[1] >= 3, 10, 0.1)
