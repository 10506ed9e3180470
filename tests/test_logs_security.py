"""What the logs must not become: a place to read credentials from (tokens and signatures in
URLs are redacted, log files are owner-only), and something an attacker can flood (running out
of file descriptors is logged at a bounded rate). Also the request-head deadline that keeps idle
half-requests from holding every file descriptor. All against a real `mediadesk serve`."""

from __future__ import annotations

import http.client
import json
import logging
import resource
import socket
import time
from pathlib import Path
from typing import Any

import pytest

from core.logsetup import LogFile
from tests.modes import mode, umask
from tests.served import serve
from tests.server_fixtures import bearer, http_call, multipart_body

pytestmark = pytest.mark.timeout(120)
ZERO = "00000000-0000-0000-0000-000000000000"


def test_tokens_and_signatures_are_not_logged(tmp_path: Path, media_dir: Any) -> None:
    with umask(0o022), serve(tmp_path, {}) as srv:
        token = srv.token
        # a player's stream URL with the admin token (404: the path is what gets logged)
        missing = http_call(
            f"{srv.url}/stream/00000000-0000-0000-0000-000000000000?access_token={token}"
        )
        assert missing.status in (401, 404)
        # a real signed URL: the local backend's presigned upload
        body, ctype = multipart_body({"original_filename": "photo.jpg", "file_type": "image"})
        resp = http_call(
            f"{srv.url}/files/upload/presigned",
            "POST",
            body,
            {"Content-Type": ctype, **bearer(token)},
        )
        assert resp.status == 201, resp.body
        upload_url = resp.json()["upload_url"]
        query = dict(p.split("=", 1) for p in upload_url.split("?", 1)[1].split("&"))
        secrets = [v for k, v in query.items() if k.lower() in ("sig", "signature", "token")]
        assert secrets, upload_url
        put = http_call(
            upload_url, "PUT", media_dir.jpeg.read_bytes(), {"Content-Type": "image/jpeg"}
        )
        assert put.status == 200, put.body
        time.sleep(0.3)  # the access log line is written after the response
        text = srv.log.read_text()
        assert mode(srv.log) == 0o600
    assert token not in text
    for value in secrets:
        assert value not in text
    assert f"/stream/{ZERO}?access_token=\u2026" in text
    signed_path = upload_url.split("://", 1)[1].split("/", 1)[1].split("?", 1)[0]
    line = next(line for line in text.splitlines() if "PUT /" + signed_path in line)
    for name in query:
        assert f"{name}=" in line  # the parameter names stay


def _access_line(log: Path, request_start: str) -> str:
    """The access log line of the request that starts `request_start`, once it is written
    (after the response)."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for line in log.read_text().splitlines():
            if request_start in line:
                return line
        time.sleep(0.05)
    raise AssertionError(f"no access log line for {request_start!r}")


def test_a_signed_links_file_name_is_not_in_its_access_log_line(
    tmp_path: Path, media_dir: Any
) -> None:
    """A signed download link carries the file's name (`name=`), often an athlete's name: the
    access log keeps the parameter, not its value. An unsigned URL's `name=` stays."""
    person = "Jane Doe"
    with serve(tmp_path, {}) as srv:
        body, ctype = multipart_body(
            {"file_type": "image"},
            {"file": (f"{person} 100m.jpg", media_dir.jpeg.read_bytes(), "image/jpeg")},
        )
        headers = {"Content-Type": ctype, **bearer(srv.token)}
        made = http_call(f"{srv.url}/files/upload/direct", "POST", body, headers)
        assert made.status == 201, made.body
        file_id = made.json()["id"]
        link = http_call(f"{srv.url}/files/{file_id}/presigned-url", headers=bearer(srv.token))
        assert link.status == 200, link.body
        url = link.json()["url"]
        assert "name=Jane" in url, url
        got = http_call(url)
        assert got.status == 200 and got.body == media_dir.jpeg.read_bytes()
        unsigned = http_call(f"{srv.url}/health?name=Jane")
        assert unsigned.status in (200, 400), unsigned.body
        signed_line = _access_line(srv.log, "GET /signed/")
        unsigned_line = _access_line(srv.log, "GET /health?")
    assert "Jane" not in signed_line and "name=\u2026" in signed_line, signed_line
    assert "sig=\u2026" in signed_line
    assert "name=Jane" in unsigned_line


def test_credentials_under_percent_encoded_names_are_not_logged(
    tmp_path: Path, media_dir: Any
) -> None:
    """The server decodes a query parameter's name (`access%5Ftoken` is `access_token`, `%73ig`
    is `sig`), so the log's redaction must too: such a token and signature once opened a
    private file and a signed link (200) and stayed whole in the access log line, with the
    signed link's file name."""
    person = "Jane Doe"
    with serve(tmp_path, {}) as srv:
        jpeg = media_dir.jpeg.read_bytes()
        body, ctype = multipart_body(
            {"file_type": "image", "is_public": "false"},
            {"file": (f"{person} 100m.jpg", jpeg, "image/jpeg")},
        )
        headers = {"Content-Type": ctype, **bearer(srv.token)}
        made = http_call(f"{srv.url}/files/upload/direct", "POST", body, headers)
        assert made.status == 201, made.body
        file_id = made.json()["id"]
        assert http_call(f"{srv.url}/stream/{file_id}/raw?m=bare").status == 401
        tokened = http_call(f"{srv.url}/stream/{file_id}/raw?m=one&access%5Ftoken={srv.token}")
        assert tokened.status == 200 and tokened.body == jpeg  # the server read the token
        upper = http_call(f"{srv.url}/stream/{file_id}/raw?m=two&%61ccess_token={srv.token}")
        assert upper.status == 200
        link = http_call(f"{srv.url}/files/{file_id}/presigned-url", headers=bearer(srv.token))
        assert link.status == 200, link.body
        url = link.json()["url"]
        sig = dict(p.split("=", 1) for p in url.split("?", 1)[1].split("&"))["sig"]
        disguised = url.replace("&sig=", "&%73ig=").replace("name=", "n%61me=")
        assert disguised != url and "&%73ig=" in disguised and "n%61me=" in disguised, url
        got = http_call(disguised)
        assert got.status == 200 and got.body == jpeg  # the server read the signature
        lines = [
            _access_line(srv.log, "/raw?m=one&"),
            _access_line(srv.log, "/raw?m=two&"),
            _access_line(srv.log, "&%73ig="),
        ]
        text = srv.log.read_text()
    assert srv.token not in text
    assert sig not in text
    assert "Jane" not in lines[2], lines[2]
    assert "access%5Ftoken=\u2026" in lines[0], lines[0]  # the name as sent stays
    assert "%61ccess_token=\u2026" in lines[1], lines[1]
    assert "%73ig=\u2026" in lines[2] and "n%61me=\u2026" in lines[2], lines[2]


def test_a_quote_in_a_header_cannot_fake_access_log_fields(tmp_path: Path) -> None:
    """The access log quotes the request line, Referer and User-Agent: a `"` (or a backslash)
    inside one is escaped as nginx does (\\x22, \\x5C), so a client cannot end the field and
    write a status or an address of its choosing into the line."""
    agent = 'curl/8" 500 999 "-" "forged\\'
    referer = 'https://example.com/"x'
    with serve(tmp_path, {}) as srv:
        reply = http_call(
            f"{srv.url}/health?m=ua", headers={"User-Agent": agent, "Referer": referer}
        )
        assert reply.status == 200
        line = _access_line(srv.log, "GET /health?m=ua")
    message = json.loads(line)["message"]
    # the request line, the Referer and the User-Agent: three quoted fields, no more
    assert message.count('"') == 6, message
    assert '"GET /health?m=ua HTTP/1.1" 200 ' in message, message
    assert message.endswith(
        ' "https://example.com/\\x22x" "curl/8\\x22 500 999 \\x22-\\x22 \\x22forged\\x5C"'
    ), message


def test_log_file_and_its_rotations_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "x.log"
    with umask(0o022):
        handler = LogFile(path, max_bytes=300, backups=2)
    log = logging.getLogger("test_logs_security.rotation")
    log.propagate = False
    log.addHandler(handler)
    try:
        with umask(0o022):
            for i in range(40):
                log.warning("line %d GET /stream/x?access_token=secret%d&sig=s%d", i, i, i)
    finally:
        log.removeHandler(handler)
        handler.close()
    rotated = tmp_path / "x.log.1"
    assert rotated.exists()
    assert mode(path) == 0o600 and mode(rotated) == 0o600
    text = path.read_text() + rotated.read_text()
    assert "secret" not in text and "sig=s" not in text and "access_token=\u2026&sig=\u2026" in text


def _closed_within(sock: socket.socket, limit: float) -> float | None:
    """Seconds until the server closed `sock`, or None if it was still open after `limit`."""
    start = time.monotonic()
    sock.settimeout(limit)
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic() - start


def test_a_request_head_has_a_deadline_a_body_does_not(tmp_path: Path, media_dir: Any) -> None:
    with serve(tmp_path, {"MEDIADESK_HEADER_TIMEOUT": "1"}) as srv:
        partial = socket.create_connection(("127.0.0.1", srv.port))
        partial.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # never the blank line
        silent = socket.create_connection(("127.0.0.1", srv.port))
        took = _closed_within(partial, 8)
        assert took is not None and took < 4, took
        assert _closed_within(silent, 3) is not None

        # a slow body after a complete head is not cut (1.8 s, sent in pieces, past the head's
        # 1 s: a deadline left running after the head cuts it at 1 s)
        body, ctype = multipart_body(
            {"file_type": "image"},
            {"file": ("photo.jpg", media_dir.jpeg.read_bytes(), "application/octet-stream")},
        )
        upload = socket.create_connection(("127.0.0.1", srv.port), timeout=30)
        head = (
            f"POST /files/upload/direct HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {srv.token}"
            f"\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            "Connection: close\r\n\r\n"
        )
        upload.sendall(head.encode())
        pieces = 6
        step = len(body) // pieces + 1
        for i in range(pieces):
            time.sleep(0.3)
            upload.sendall(body[i * step : (i + 1) * step])
        reply = b""
        while chunk := upload.recv(65536):
            reply += chunk
        upload.close()
        assert reply.startswith(b"HTTP/1.1 201"), reply[:300]

        # keep-alive idle longer than the head deadline is not cut either
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
        conn.request("GET", "/health")
        first = conn.getresponse()
        first.read()
        assert first.status == 200
        time.sleep(1.5)
        conn.request("GET", "/health")
        again = conn.getresponse()
        again.read()
        assert again.status == 200
        conn.close()
        partial.close()
        silent.close()
    # closing the idle connections logged no error (it once did: a transport closed twice)
    assert not [r for r in srv.stderr if '"level": "ERROR"' in r], srv.stderr


FILE_LIMIT = 200


def _low_file_limit() -> None:
    # soft and hard: the server's raise to the hard limit must not undo it
    resource.setrlimit(resource.RLIMIT_NOFILE, (FILE_LIMIT, FILE_LIMIT))


def _open_requests(port: int, count: int) -> list[socket.socket]:
    """Up to `count` connections, each holding a request head never finished (until the client
    side runs out of descriptors too)."""
    socks: list[socket.socket] = []
    for _ in range(count):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=2)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            break
        socks.append(s)
    return socks


def test_running_out_of_file_descriptors_is_logged_at_a_bounded_rate(tmp_path: Path) -> None:
    with serve(tmp_path, {"MEDIADESK_HEADER_TIMEOUT": "60"}, _low_file_limit) as srv:
        socks = _open_requests(srv.port, FILE_LIMIT + 150)
        time.sleep(3)
        for s in socks:
            s.close()
        time.sleep(1)
        assert http_call(f"{srv.url}/health", timeout=10).status == 200
    console = "".join(srv.stderr)
    reports = console.count("out of system resource")
    assert 1 <= reports <= 3, console[-6000:]
    assert "Traceback" not in console, console[-6000:]
    text = srv.log.read_text()
    assert text.count("out of system resource") <= reports
    assert "Traceback" not in text, text[-6000:]


def test_stopping_while_out_of_file_descriptors_logs_no_traceback(tmp_path: Path) -> None:
    # asyncio retries accept() a second after EMFILE with timers that outlive the listening
    # socket; a stop that lasts longer than that (here: waiting for an upload in progress)
    # once logged 128 "Invalid file descriptor: -1" tracebacks
    socks: list[socket.socket] = []
    try:
        with serve(tmp_path, {"MEDIADESK_HEADER_TIMEOUT": "60"}, _low_file_limit) as srv:
            upload = socket.create_connection(("127.0.0.1", srv.port), timeout=2)
            socks.append(upload)
            upload.sendall(
                b"POST /files/upload HTTP/1.1\r\nHost: x\r\n"
                + f"Authorization: Bearer {srv.token}\r\n".encode()
                + b"Content-Type: multipart/form-data; boundary=b\r\n"
                b"Content-Length: 100000\r\n\r\n--b\r\n"
            )
            socks += _open_requests(srv.port, FILE_LIMIT + 50)
            deadline = time.monotonic() + 10
            while "out of system resource" not in "".join(srv.stderr):
                assert time.monotonic() < deadline, "".join(srv.stderr[-20:])
                time.sleep(0.05)
            # leaving the block stops the server at once, inside the retry's second
    finally:
        for s in socks:
            s.close()
    console = "".join(srv.stderr)
    assert "Traceback" not in console, console[-6000:]
    assert "Traceback" not in srv.log.read_text()


def test_debug_logs_keep_no_bucket_signatures(
    tmp_path: Path, media_dir: Any, s3_bucket: Any
) -> None:
    """`serve --log-level DEBUG` on R2: botocore logged every bucket request's Authorization
    header (access key id and signature) and the signature it computed, to the console and
    logs/server.log; with them a reader of the log could replay the request for 15 minutes."""
    env = {
        "R2_ENDPOINT_URL": s3_bucket.endpoint_url,
        "R2_BUCKET_NAME": s3_bucket.bucket,
        "R2_ACCESS_KEY_ID": s3_bucket.access_key_id,
        "R2_SECRET_ACCESS_KEY": s3_bucket.secret_access_key,
        "R2_REGION": s3_bucket.region,
        "MEDIADESK_WORKERS": "0",
    }
    with serve(tmp_path, env, args=("--log-level", "DEBUG")) as srv:
        body, ctype = multipart_body(
            {"file_type": "image"},
            {"file": ("photo.jpg", media_dir.jpeg.read_bytes(), "image/jpeg")},
        )
        resp = http_call(
            f"{srv.url}/files/upload/direct",
            "POST",
            body,
            {"Content-Type": ctype, **bearer(srv.token)},
        )
        assert resp.status == 201, resp.body  # stored in the bucket: signed requests were sent
        _access_line(srv.log, "POST /files/upload/direct")
        text = srv.log.read_text()
    console = "".join(srv.stderr)
    assert " DEBUG " in text or '"DEBUG"' in text  # the level asked for is in force
    for where in (text, console):
        assert "Signature=" not in where
        assert f"Credential={s3_bucket.access_key_id}" not in where
        assert "botocore.auth" not in where


def test_a_link_in_the_logs_folder_is_neither_written_through_nor_closed(tmp_path: Path) -> None:
    """The log file was opened with O_CREAT|O_APPEND and fchmod-ed 0600, its rotations chmod-ed
    by name: a link left in logs/ (server.log or server.log.1 naming a file elsewhere) had a
    process, perhaps root, append its lines to that file and close it to its owner."""
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("someone else's file\n")
    outside.chmod(0o644)
    logs = tmp_path / "logs"
    logs.mkdir()
    (logs / "x.log").symlink_to(outside)
    (logs / "x.log.1").symlink_to(outside)
    handler: LogFile | None = None
    with pytest.raises(OSError) as refused:
        handler = LogFile(logs / "x.log", max_bytes=300, backups=2)
    # said as what it is and what to do (both "No log file: %s" warnings print it), not as
    # ELOOP's "[Errno 40] Too many levels of symbolic links" for a single link
    assert str(refused.value) == (
        f"{logs / 'x.log'} is a symbolic link, which MediaDesk does not follow (it may run as "
        "root): remove it, or make the logs folder itself the link"
    )
    if handler is not None:
        log = logging.getLogger("test_logs_security.link")
        log.propagate = False
        log.addHandler(handler)
        try:
            log.warning("a line that must not land elsewhere")
        finally:
            log.removeHandler(handler)
            handler.close()
    assert outside.read_text() == "someone else's file\n"
    assert mode(outside) == 0o644


def test_a_log_file_that_is_a_link_is_said_so_at_start_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The server's start-up line for a logs/server.log that is a link names the link and what
    to do, through server/cli.py's own "No log file" warning; a logs folder that is itself a
    link is followed (the way to keep logs on another disk)."""
    from server.cli import _log_to_file

    elsewhere = tmp_path / "otherdisk"
    elsewhere.mkdir()
    (elsewhere / "server.log").write_text("")
    logs = tmp_path / "data" / "logs"
    logs.mkdir(parents=True)
    (logs / "server.log").symlink_to(elsewhere / "server.log")
    with caplog.at_level(logging.WARNING, logger="server.cli"):
        _log_to_file(logs / "server.log")
    said = [r.getMessage() for r in caplog.records if "log file" in r.getMessage()]
    assert said == [
        f"No log file: {logs / 'server.log'} is a symbolic link, which MediaDesk does not "
        "follow (it may run as root): remove it, or make the logs folder itself the link"
    ], said
    assert (elsewhere / "server.log").read_text() == ""
    linked = tmp_path / "linked_logs"
    linked.symlink_to(elsewhere, target_is_directory=True)
    handler = LogFile(linked / "server.log")  # the folder as the link: followed
    handler.close()
