"""MediaDesk behind a real nginx with MEDIADESK_ACCEL_REDIRECT: our checks, nginx's bytes."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from core.library import Library
from server.cli import run as cli_run
from server.entry import EmbeddedServer
from server.nginx_conf import CHECK_HEADER, REUSE_SECONDS, NginxSite
from tests.server_fixtures import (
    Tokens,
    bearer,
    http_call,
    make_tokens,
    multipart_body,
    server_config,
)
from tests.test_team import until

pytestmark = pytest.mark.timeout(60)
PAGE = "https://club.example"  # a web page allowed by CORS
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
{http_part}
    server {{
        listen 127.0.0.1:{port};
{locations}
    }}
}}
"""


@pytest.fixture
def behind_nginx(library: Library, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(nginx URL, MediaDesk URL) with X-Accel-Redirect on."""
    with nginx_in_front(library, tmp_path) as (front, server):
        yield front, server.url


@contextlib.contextmanager
def nginx_in_front(
    library: Library, tmp_path: Path, **config_overrides: Any
) -> Iterator[tuple[str, EmbeddedServer]]:
    """MediaDesk with X-Accel-Redirect on, behind the README's site on loopback: (nginx URL,
    the MediaDesk server); `config_overrides` of its ServerConfig."""
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    config = server_config(
        library, accel_redirect="/_protected/", cors_origins=(PAGE,), **config_overrides
    )
    server = EmbeddedServer(library, config=config)
    server.start()
    prefix = tmp_path / "nginx"
    prefix.mkdir()
    from tests.pg_server import _free_port

    port = _free_port()
    site = NginxSite(  # the README's site (`mediadesk nginx-config`), on loopback
        upstream=f"127.0.0.1:{server.port}",
        objects_dir=str(library.paths.objects_dir),
        cache_dir=str(prefix / "checks"),
    )
    (prefix / "nginx.conf").write_text(
        CONF.format(
            user="user root root;" if os.geteuid() == 0 else "",
            prefix=prefix,
            port=port,
            http_part=site.http_part(),
            locations=site.locations(),
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
        yield url, server
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
    assert reply.headers["Content-Disposition"] == bare.headers["Content-Disposition"]
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    assert reply.headers["X-MediaDesk-Rendition"] == bare.headers["X-MediaDesk-Rendition"]
    whole = http_call(front + path, headers=bearer(tokens.read))
    assert whole.status == 200 and whole.body == data
    # bytes sent by nginx carry a request id like every MediaDesk answer: the caller's, or a
    # fresh one per request (never one a kept check answer would repeat)
    assert re.fullmatch(r"[0-9a-f]{32}", whole.headers["X-Request-ID"])
    assert whole.headers["X-Request-ID"] != reply.headers["X-Request-ID"]
    mine = http_call(front + path, headers={**bearer(tokens.read), "X-Request-ID": "match-42"})
    assert mine.headers["X-Request-ID"] == "match-42"

    # a client's own check header never reaches MediaDesk (it would answer as to nginx: an
    # empty 403 for the list, the bytes' check answer for a multi-range read)
    forged = {**bearer(tokens.read), CHECK_HEADER: "GET"}
    listed = http_call(front + "/files/", headers=forged)
    assert listed.status == 200 and b'"items"' in listed.body, listed.body[:200]
    two = http_call(front + path, headers={**forged, "Range": "bytes=0-9,20-29"})
    assert two.status == 206 and b"--" in two.body[:200], (two.status, two.headers)

    # our checks still decide: no token, no bytes; the internal location is not reachable
    assert http_call(front + path).status == 401
    assert http_call(f"{front}/_protected/{record.storage_key}").status == 404
    # a trash is refused through nginx within a second (its check cache keeps an answer for
    # the rest of the current half-second at most)
    library.trash(record.id)
    until(lambda: http_call(front + path, headers=bearer(tokens.read)).status == 404, 1.0)

    # every answer MediaDesk gave was audited (the sink writes every 0.5 s)
    until(lambda: library.audit.query(file_id=record.id)[1] >= 3, 10, 0.1)


def test_the_check_cache_spares_mediadesk_yet_a_revoked_token_is_refused_within_a_second(
    behind_nginx: tuple[str, str], library: Library, media_dir: Any
) -> None:
    front, direct = behind_nginx
    record = library.uploads.ingest(media_dir.mp4, "video", is_public=False)
    data = media_dir.mp4.read_bytes()
    path = f"{front}/stream/{record.id}/video"
    info, secret = library.tokens.create("pitch-side tablet", "read")
    viewer = bearer(secret)

    def audited() -> int:
        return int(library.audit.query(file_id=record.id)[1])

    # a player's run of range requests: nginx asks MediaDesk about once per half-second
    started = time.monotonic()
    for start in range(0, 20 * 1000, 1000):
        reply = http_call(path, headers={**viewer, "Range": f"bytes={start}-{start + 999}"})
        assert reply.status == 206 and reply.body == data[start : start + 1000]
    answers_at_most = 1 + int((time.monotonic() - started) / REUSE_SECONDS) + 1
    time.sleep(1.0)  # the audit sink writes every 0.5 s
    assert 1 <= audited() <= answers_at_most, (audited(), answers_at_most)

    # what the cached answer does not cover is still MediaDesk's: another caller, several
    # ranges, a precondition, a range past the end (its JSON, not nginx's page)
    assert http_call(path).status == 401
    assert http_call(path, headers={**bearer("mdk_not-a-token")}).status == 401
    many = http_call(path, headers={**viewer, "Range": "bytes=0-9,20-29"})
    assert many.status == 206
    assert many.headers["Content-Type"].startswith("multipart/byteranges")
    etag = http_call(direct + urlsplit(path).path, "HEAD", headers=viewer).headers["ETag"]
    assert http_call(path, headers={**viewer, "If-None-Match": etag}).status == 304
    for _ in range(3):  # right after a kept answer for one range: nginx finds it past the end
        assert http_call(path, headers={**viewer, "Range": "bytes=0-9"}).status == 206
        past = http_call(path, headers={**viewer, "Range": f"bytes={len(data) + 10}-"})
        assert past.status == 416, past.body[:300]
        assert past.json()["error"]["code"] == "range_not_satisfiable", past.body[:300]

    # revoked: refused through nginx within a second of revoke() returning
    http_call(path, headers={**viewer, "Range": "bytes=0-9"})  # an answer is kept now
    library.tokens.revoke(info.id)
    until(lambda: http_call(path, headers={**viewer, "Range": "bytes=0-9"}).status == 401, 1.0)


def test_uploads_preflights_and_cross_origin_reads_under_the_byte_paths_reach_mediadesk(
    behind_nginx: tuple[str, str], library: Library, tokens: Tokens, media_dir: Any
) -> None:
    """nginx's check is for GET and HEAD without CORS; the rest is MediaDesk's, in full."""
    front, _ = behind_nginx
    data = media_dir.mp4.read_bytes()
    form, ctype = multipart_body(
        {"original_filename": "match.mp4", "file_type": "video", "content_type": "video/mp4"}
    )
    presigned = http_call(
        f"{front}/files/upload/presigned",
        "POST",
        form,
        {**bearer(tokens.upload), "Content-Type": ctype},
    )
    assert presigned.status == 201, presigned.body
    upload_path = urlsplit(presigned.json()["upload_url"])
    put = http_call(
        f"{front}{upload_path.path}?{upload_path.query}", "PUT", data, {"Content-Type": "video/mp4"}
    )
    assert put.status == 200, put.body
    file_id = presigned.json()["file_id"]
    done = http_call(f"{front}/files/{file_id}/confirm-upload", "POST", b"", bearer(tokens.upload))
    assert done.status == 200, done.body
    path = f"{front}/stream/{file_id}/video"

    preflight = http_call(
        path,
        "OPTIONS",
        headers={
            "Origin": PAGE,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, range",
        },
    )
    assert preflight.status in (200, 204), preflight.body
    assert preflight.headers["Access-Control-Allow-Origin"] == PAGE
    cross = http_call(path, headers={**bearer(tokens.read), "Origin": PAGE, "Range": "bytes=5-14"})
    assert cross.status == 206 and cross.body == data[5:15]
    assert cross.headers["Access-Control-Allow-Origin"] == PAGE
    assert "Content-Range" in cross.headers["Access-Control-Expose-Headers"]
    assert cross.headers["Content-Type"] == "video/mp4"
    assert cross.headers["X-Content-Type-Options"] == "nosniff"
    assert "private" in cross.headers["Cache-Control"]
    head = http_call(path, "HEAD", headers=bearer(tokens.read))
    assert head.status == 200 and head.headers["Content-Length"] == str(len(data))
    assert head.headers["Content-Type"] == "video/mp4"
    # a tus creation whose description is as long as allowed: 53 KB of Upload-Metadata, past
    # nginx's default header buffers (8k: its own 400 before the site sets them)
    described = base64.b64encode(("ñandú " * 1667)[:10_000].encode()).decode()
    named = base64.b64encode(b"long.mp4").decode()
    created = http_call(
        f"{front}/files/upload/tus",
        "POST",
        b"",
        {
            **bearer(tokens.upload),
            "Tus-Resumable": "1.0.0",
            "Upload-Length": str(len(data)),
            "Upload-Metadata": f"filename {named},description {described}",
        },
    )
    assert created.status == 201, created.body[:300]


def test_big_tus_patches_through_nginx_and_its_kept_upstream_connections(
    behind_nginx: tuple[str, str], library: Library, tokens: Tokens, tmp_path: Path
) -> None:
    """PATCH bodies MediaDesk reads from the socket (server/rawbody.py), as nginx forwards them
    (unbuffered, on connections it keeps open for reuse), and close that connection after the
    answer: every byte arrives, the requests behind them are answered, nginx logs no upstream
    error."""
    from tests.resumable_client import MiB, create, head, padded_mp4, patch

    front, _ = behind_nginx
    data = padded_mp4(tmp_path / "m.mp4", 14 * MiB + 3).read_bytes()
    url = front + create(front, tokens.upload, len(data)).headers["Location"]
    cut = 6 * MiB + 1
    first = patch(url, tokens.upload, 0, data[:cut])
    assert first.status == 204, first.body
    for _ in range(3):  # requests right behind it, on whatever connection nginx picks
        assert int(head(url, tokens.upload).headers["Upload-Offset"]) == cut
        assert http_call(f"{front}/files/", headers=bearer(tokens.read)).status == 200
    done = patch(url, tokens.upload, cut, data[cut:])
    assert done.status == 204, done.body
    record = library.get_file(int(done.headers["MediaDesk-File-Id"]))
    assert record.sha256 == hashlib.sha256(data).hexdigest()
    # nginx never found a kept connection closed under a request (it would retry, and log it)
    log = (tmp_path / "nginx" / "error.log").read_text()
    assert "upstream" not in log, log


def test_nginx_config_prints_a_site_nginx_accepts(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    tmp_data: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MEDIADESK_HOST", "0.0.0.0")  # listening everywhere: nginx uses loopback
    if NGINX is None:
        pytest.skip("nginx is not installed (apt-get install nginx-light)")
    subprocess.run(  # a throwaway certificate for the TLS server block
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=media.club.example",
            "-keyout",
            str(tmp_path / "key.pem"),
            "-out",
            str(tmp_path / "cert.pem"),
        ],
        check=True,
        capture_output=True,
    )
    argv = ["nginx-config", "--server-name", "media.club.example", "--cache-dir",
            str(tmp_path / "checks"), "--certificate", str(tmp_path / "cert.pem"),
            "--certificate-key", str(tmp_path / "key.pem")]  # fmt: skip
    assert cli_run(argv) == 0
    site = capsys.readouterr().out
    assert f"alias {tmp_data / 'objects'}/;" in site  # this data folder's objects
    assert "server 127.0.0.1:8765;" in site and "server_name media.club.example;" in site
    (tmp_path / "site.conf").write_text(site)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nevents {{}}\n"
        f"http {{ client_body_temp_path {tmp_path}/body; proxy_temp_path {tmp_path}/proxy;\n"
        f"       include {tmp_path}/site.conf; }}\n"
    )
    checked = subprocess.run(
        [NGINX, "-t", "-c", str(tmp_path / "nginx.conf"), "-p", str(tmp_path), "-e", "stderr"],
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stderr


def test_the_readme_shows_the_site_nginx_config_prints() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    live = "/etc/letsencrypt/live/media.club.example"
    site = NginxSite().site("media.club.example", f"{live}/fullchain.pem", f"{live}/privkey.pem")
    assert f"```nginx\n{site}```" in readme


def test_bucket_objects_behind_nginx_are_sent_by_mediadesk(
    tmp_path: Path, s3_library: Library, media_dir: Any
) -> None:
    """With R2 there is no file for nginx: the check says so and MediaDesk sends the bytes."""
    tokens = make_tokens(s3_library)
    record = s3_library.uploads.ingest(media_dir.mp4, "video", is_public=False)
    data = media_dir.mp4.read_bytes()
    with nginx_in_front(s3_library, tmp_path) as (front, _):
        path = f"{front}/stream/{record.id}/video"
        for _ in range(2):  # the second within the half-second: nothing was kept
            part = http_call(path, headers={**bearer(tokens.read), "Range": "bytes=7-1030"})
            assert part.status == 206 and part.body == data[7:1031], part.body[:200]
            assert part.headers["Content-Type"] == "video/mp4"
        assert http_call(path).status == 401


def test_mediadesk_down_behind_nginx_is_a_bad_gateway(
    tmp_path: Path, library: Library, tokens: Tokens, media_dir: Any
) -> None:
    """The check subrequest fails as the request would have: a 502, not nginx's 500."""
    record = library.uploads.ingest(media_dir.mp4, "video", is_public=True)
    with nginx_in_front(library, tmp_path) as (front, server):
        path = f"{front}/stream/{record.id}/video"
        assert http_call(path, headers=bearer(tokens.read)).status == 200
        server.stop()  # MediaDesk goes away; nginx stays (and may use its answer a moment)
        until(lambda: http_call(path, headers=bearer(tokens.read)).status == 502, 1.0)
        assert http_call(f"{front}/files/{record.id}", headers=bearer(tokens.read)).status == 502


def test_small_answers_under_stream_are_asked_once(
    behind_nginx: tuple[str, str], library: Library, tokens: Tokens, media_dir: Any
) -> None:
    """/info (and playlists, cues) are not bytes: nginx passes them on without a check first."""
    front, direct = behind_nginx
    record = library.uploads.ingest(media_dir.mp4, "video", is_public=False)

    def answered(route: str, method: str | None = None) -> float:
        text = http_call(f"{direct}/metrics", headers=bearer(tokens.admin)).body.decode()
        return sum(
            float(line.rsplit(" ", 1)[1])
            for line in text.splitlines()
            if line.startswith("mediadesk_http_requests_total{")
            and f'route="{route}"' in line
            and (method is None or f'method="{method}"' in line)
        )

    before = answered("/stream/{file_id}/info")
    info = http_call(f"{front}/stream/{record.id}/info", headers=bearer(tokens.read))
    assert info.status == 200 and info.json()["file_id"] == record.id
    assert answered("/stream/{file_id}/info") == before + 1
    before = answered("/stream/{file_id}/video")
    video = http_call(f"{front}/stream/{record.id}/video", headers=bearer(tokens.read))
    assert video.status == 200 and video.body == media_dir.mp4.read_bytes()
    assert answered("/stream/{file_id}/video") == before + 1  # the check, kept by nginx
    # nginx's checks are counted apart from clients' requests: a refused one (MediaDesk then
    # answers the request itself, here one with If-Match, which nginx would judge otherwise)
    # is not a client's 403
    checks = answered("/stream/{file_id}/video", "CHECK")
    gets = answered("/stream/{file_id}/video", "GET")
    etag = video.headers["ETag"]
    matched = http_call(
        f"{front}/stream/{record.id}/video", headers={**bearer(tokens.read), "If-Match": etag}
    )
    assert matched.status == 200 and matched.body == media_dir.mp4.read_bytes()
    assert answered("/stream/{file_id}/video", "CHECK") == checks + 1
    assert answered("/stream/{file_id}/video", "GET") == gets + 1
    # a cross-origin read is nginx's to send after one check (its CORS headers are copied)
    cors = http_call(
        f"{front}/stream/{record.id}/video",
        headers={**bearer(tokens.read), "Origin": "http://elsewhere.test"},
    )
    assert cors.status == 200 and cors.body == media_dir.mp4.read_bytes()
    assert answered("/stream/{file_id}/video", "CHECK") == checks + 2
    assert answered("/stream/{file_id}/video", "GET") == gets + 1
    text = http_call(f"{direct}/metrics", headers=bearer(tokens.admin)).body.decode()
    assert not any(
        line.startswith("mediadesk_http_requests_total{")
        and 'status="403"' in line
        and 'method="GET"' in line
        for line in text.splitlines()
    )


def test_nginx_sends_mediadesks_validators_and_headers(
    behind_nginx: tuple[str, str], library: Library, tokens: Tokens, media_dir: Any
) -> None:
    """What nginx sends is what MediaDesk would have sent: its ETag and Last-Modified (one
    resource, one ETag: nginx's 200 and MediaDesk's 416 agree), a resized image's width
    headers, CORS's, and MediaDesk's verdict on every precondition."""
    front, direct = behind_nginx
    viewer = bearer(tokens.read)

    def same_headers(sent: Any, want: Any, names: tuple[str, ...]) -> None:
        for name in names:
            assert sent.headers.get(name) == want.headers.get(name), (name, dict(sent.headers))

    # a resized image: MediaDesk's own answer (HEAD: its headers), and what nginx sends
    image = library.uploads.ingest(media_dir.jpeg, "image", is_public=False)
    shown = f"/stream/{image.id}/image?w=320"
    bare = http_call(direct + shown, "HEAD", headers=viewer)
    assert bare.status == 200 and bare.headers["X-MediaDesk-Width"], dict(bare.headers)
    through = http_call(front + shown, headers=viewer)
    assert through.status == 200 and through.body[:4] == b"RIFF", through.body[:200]
    names = ("ETag", "Last-Modified", "X-MediaDesk-Width", "Content-Location", "Cache-Control")
    same_headers(through, bare, names)
    assert through.headers["Content-Type"] == "image/webp"

    # the video: nginx's 200/206 and MediaDesk's 416 and 304 carry one ETag
    video = library.uploads.ingest(media_dir.mp4, "video", is_public=False)
    data = media_dir.mp4.read_bytes()
    path = f"{front}/stream/{video.id}/video"
    own = http_call(direct + f"/stream/{video.id}/video", "HEAD", headers=viewer)
    etag, modified = own.headers["ETag"], own.headers["Last-Modified"]
    whole = http_call(path, headers=viewer)
    assert whole.status == 200 and whole.body == data
    same_headers(whole, own, ("ETag", "Last-Modified", "X-MediaDesk-Rendition"))
    past = http_call(path, headers={**viewer, "Range": f"bytes={len(data)}-"})
    assert past.status == 416 and past.headers["ETag"] == etag, past.body[:200]
    # a cross-origin read: the same, with MediaDesk's CORS headers (every answer varies on
    # Origin, the bytes nginx sends too)
    same_headers(whole, own, ("Vary",))
    mine = http_call(direct + urlsplit(path).path, "HEAD", headers={**viewer, "Origin": PAGE})
    cross = http_call(path, headers={**viewer, "Origin": PAGE, "Range": "bytes=0-9"})
    assert cross.status == 206 and cross.body == data[:10]
    names = ("ETag", "Last-Modified", "X-MediaDesk-Rendition", "Cache-Control", "Vary")
    same_headers(
        cross, mine, (*names, "Access-Control-Allow-Origin", "Access-Control-Expose-Headers")
    )
    assert cross.headers["X-Content-Type-Options"] == "nosniff"

    # preconditions through nginx, judged against MediaDesk's validators, not the file's mtime
    # (here older than MediaDesk's: a copy that kept the camera's time, one a client asks by)
    os.utime(library.paths.objects_dir / video.storage_key, (978307200, 978307200))
    old = "Mon, 01 Jan 2001 00:00:00 GMT"
    one = {**viewer, "Range": "bytes=10-19"}
    cases: list[tuple[dict[str, str], int]] = [
        ({"If-None-Match": etag}, 304),
        ({"If-None-Match": '"other"'}, 200),
        ({"If-None-Match": f'"{978307200:x}-{len(data):x}"'}, 200),  # nginx's own tag for it
        ({"If-Modified-Since": modified}, 304),
        ({"If-Modified-Since": old}, 200),
        ({**one, "If-Match": etag}, 206),
        ({**one, "If-Match": '"other"'}, 412),
        ({**one, "If-Unmodified-Since": modified}, 206),
        ({**one, "If-Unmodified-Since": old}, 412),
        ({**one, "If-Range": etag}, 206),
        ({**one, "If-Range": '"other"'}, 200),
        ({**one, "If-Range": f"W/{etag}"}, 200),
        ({**one, "If-Range": modified}, 206),
        ({**one, "If-Range": old}, 200),
    ]
    for extra, status in cases:
        reply = http_call(path, headers={**viewer, **extra})
        assert reply.status == status, (extra, reply.status, reply.body[:200])
        if status != 412:
            assert reply.headers.get("ETag") == etag, (extra, dict(reply.headers))
        if status in (200, 206):
            want = data if status == 200 else data[10:20]
            assert reply.body == want, (extra, len(reply.body))


def test_an_object_gone_behind_nginx_is_mediadesks_json_404_without_the_files_caching(
    behind_nginx: tuple[str, str], library: Library, tokens: Tokens, media_dir: Any
) -> None:
    """The object vanishes from the disk while nginx and MediaDesk still know it (a kept check
    answer, the cached path): MediaDesk's JSON 404 without the file's caching headers, not
    nginx's page, and not the same X-Accel-Redirect again."""
    front, _ = behind_nginx
    viewer = bearer(tokens.read)
    video = library.uploads.ingest(media_dir.mp4, "video", is_public=False)
    path = f"{front}/stream/{video.id}/video"
    public = library.uploads.ingest(media_dir.png, "image", is_public=True)
    pinned = f"{front}/stream/{public.id}/image?v={public.content_tag}"
    kept = http_call(pinned)
    assert kept.status == 200 and "immutable" in kept.headers["Cache-Control"], kept.headers
    assert http_call(path, headers=viewer).status == 200
    for record in (public, video):
        (library.paths.objects_dir / record.storage_key).unlink()
    for url, headers in ((pinned, {}), (path, viewer), (path, {**viewer, "Origin": PAGE})):
        gone = http_call(url, headers=headers)
        assert gone.status == 404, (url, headers, gone.status, gone.body[:300])
        assert gone.json()["error"]["code"] == "not_found", gone.body[:300]
        cache = gone.headers.get("Cache-Control", "")
        assert "max-age" not in cache and "immutable" not in cache, (
            url,
            headers,
            list(gone.headers.items()),
        )
        assert "Content-Disposition" not in gone.headers and "ETag" not in gone.headers


def test_an_answer_with_a_header_nginx_would_not_send_stays_mediadesks() -> None:
    """nginx sends the headers the site copies (COPIED_HEADERS) and its own: an answer holding
    any other (a route's new header) is MediaDesk's to send, never nginx's without it."""
    from multidict import CIMultiDict, CIMultiDictProxy

    from server.streaming import _alike

    plain = CIMultiDictProxy(CIMultiDict[str]())
    ours = {"Accept-Ranges": "bytes", "ETag": '"a1"', "Last-Modified": "x", "Content-Type": "a/b"}
    assert _alike(plain, ours)
    assert not _alike(plain, {**ours, "X-MediaDesk-Something-New": "1"})
    assert not _alike(CIMultiDictProxy(CIMultiDict({"If-Match": '"a1"'})), ours)
