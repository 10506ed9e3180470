"""Issue 8, items 5-8 over real HTTP: the uploads metric under repeated confirms, oversized
headers, bidi characters in names, and error messages without internals."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
import logging
import re
import socket
import threading
import time
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.library import Library
from core.maintenance import reconcile
from core.settings import Settings
from server.config import ServerConfig
from server.entry import SHUTDOWN_TIMEOUT, EmbeddedServer
from tests.faults import CuttableProxy, assert_healthy, put_stalled, wait_bodies_held
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body, server_config

pytestmark = pytest.mark.timeout(90)


@pytest.fixture
def served(library: Library) -> Any:
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    yield library, server, make_tokens(library)
    server.stop()


def _metric(url: str, token: str, **labels: str) -> float:
    text = http_call(f"{url}/metrics", headers=bearer(token)).body.decode()
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith(f"mediadesk_uploads_total{{{wanted}}} "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def _presign(url: str, token: str, name: str, kind: str, ctype: str) -> dict[str, Any]:
    form, form_type = multipart_body(
        {"original_filename": name, "file_type": kind, "content_type": ctype}
    )
    reply = http_call(
        f"{url}/files/upload/presigned", "POST", form, {**bearer(token), "Content-Type": form_type}
    )
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]


def test_twenty_concurrent_confirms_count_one_upload(served: Any, media_dir: Any) -> None:
    lib, server, tokens = served
    data = media_dir.jpeg.read_bytes()
    upload = _presign(server.url, tokens.upload, "sprint.jpg", "image", "image/jpeg")
    put = http_call(upload["upload_url"], "PUT", data, {"Content-Type": "image/jpeg"})
    assert put.status == 200, put.body
    labels = {"flow": "presigned", "outcome": "created", "file_type": "image"}
    assert _metric(server.url, tokens.read, **labels) == 0
    start = threading.Barrier(20)
    replies: list[Any] = []

    def confirm() -> None:
        start.wait()
        replies.append(_confirm(server.url, tokens.upload, upload["file_id"]))

    threads = [threading.Thread(target=confirm) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert [r.status for r in replies] == [200] * 20
    assert {r.json()["id"] for r in replies} == {upload["file_id"]}
    assert _metric(server.url, tokens.read, **labels) == 1
    # and a retry much later is still the same file, not a new upload
    again = _confirm(server.url, tokens.upload, upload["file_id"])
    assert again.status == 200 and _metric(server.url, tokens.read, **labels) == 1
    assert_healthy(lib, {upload["file_id"]: data}, server.url, tokens.read)


def _confirm(url: str, token: str, file_id: int) -> Any:
    return http_call(f"{url}/files/{file_id}/confirm-upload", "POST", b"", bearer(token))


def test_slow_signed_puts_hold_no_worker_and_past_the_limit_are_told_to_retry(
    library: Library, media_dir: Any
) -> None:
    """Phones sending the seed's presigned PUTs on bad Wi-Fi: more stalled bodies than the
    pool has workers. The others keep being answered (a new presigned URL, the file list);
    past MEDIADESK_UPLOAD_BODIES a PUT gets 503 server_busy with Retry-After; every stalled
    PUT completes once its client sends the rest, and the refused one succeeds when sent again."""
    limited = dataclasses.replace(library.settings, upload_bodies=2)
    config = ServerConfig.from_settings(
        limited,
        host="127.0.0.1",
        port=0,
        executor_workers=2,
        maintenance_interval=0,
        upload_rate_limit=0,
    )
    tokens = make_tokens(library)
    data = media_dir.jpeg.read_bytes()
    with EmbeddedServer(library, config=config) as server:
        uploads = [
            _presign(server.url, tokens.upload, f"p{i}.jpg", "image", "image/jpeg")
            for i in range(3)
        ]
        stalled = []
        for upload in uploads[:2]:
            stalled.append(put_stalled(upload["upload_url"], data))
        wait_bodies_held(2)
        busy = http_call(uploads[2]["upload_url"], "PUT", data, {"Content-Type": "image/jpeg"})
        assert busy.status == 503, busy.body
        assert busy.json()["error"]["code"] == "server_busy" and busy.headers["Retry-After"]
        another = _presign(server.url, tokens.upload, "p3.jpg", "image", "image/jpeg")
        assert another["upload_url"]
        assert http_call(f"{server.url}/files/", headers=bearer(tokens.read)).status == 200
        for conn in stalled:
            conn.sendall(data[100:])
            assert conn.recv(65536).startswith(b"HTTP/1.1 200"), "the stalled PUT completes"
            conn.close()
        again = http_call(uploads[2]["upload_url"], "PUT", data, {"Content-Type": "image/jpeg"})
        assert again.status == 200, again.body
        ready = {}
        for upload in uploads:
            done = _confirm(server.url, tokens.upload, upload["file_id"])
            assert done.status == 200, done.body
            ready[upload["file_id"]] = data
        assert_healthy(library, ready, server.url, tokens.read)


def test_puts_to_one_signed_url_hold_one_body_thread_and_the_newest_is_kept(
    library: Library, media_dir: Any
) -> None:
    """One signed URL sent on several connections at once (a leaked link replayed, each
    connection sending a byte now and then) held a body thread each: past
    MEDIADESK_UPLOAD_BODIES every other user's signed PUT answered 503 server_busy for as long
    as they went on. A newer PUT to the same URL now stops the older one (409 conflict), so one
    URL holds one thread; another URL's PUT is taken, and the newest is the file kept."""
    limited = dataclasses.replace(library.settings, upload_bodies=2)
    config = ServerConfig.from_settings(
        limited, host="127.0.0.1", port=0, maintenance_interval=0, upload_rate_limit=0
    )
    tokens = make_tokens(library)
    data = media_dir.jpeg.read_bytes()
    with EmbeddedServer(library, config=config) as server:
        replayed, other = (
            _presign(server.url, tokens.upload, f"r{i}.jpg", "image", "image/jpeg")
            for i in range(2)
        )
        older = put_stalled(replayed["upload_url"], data)
        wait_bodies_held(1)
        for _ in range(2):
            newer = put_stalled(replayed["upload_url"], data)
            answer = older.recv(65536)
            assert answer.startswith(b"HTTP/1.1 409"), answer
            assert b"newer upload to this URL" in answer, answer
            older.close()
            older = newer
        wait_bodies_held(1)
        taken = http_call(other["upload_url"], "PUT", data, {"Content-Type": "image/jpeg"})
        assert taken.status == 200, taken.body
        older.sendall(data[100:])
        assert older.recv(65536).startswith(b"HTTP/1.1 200"), "the newest PUT completes"
        older.close()
        ready = {}
        for upload in (replayed, other):
            done = _confirm(server.url, tokens.upload, upload["file_id"])
            assert done.status == 200, done.body
            ready[upload["file_id"]] = data
        assert_healthy(library, ready, server.url, tokens.read)


def test_stopping_the_server_under_a_stalled_signed_put_is_quiet_and_the_put_works_after(
    library: Library, media_dir: Any, caplog: Any
) -> None:
    """A server stop while a signed PUT's body is half sent: the thread pulling the body ends,
    the stop takes no more than the grace period, nothing is logged as an error, and the same
    URL stores the file once the server is back."""
    data = media_dir.jpeg.read_bytes()
    tokens = make_tokens(library)
    config = server_config(library)
    with EmbeddedServer(library, config=config) as server:
        upload = _presign(server.url, tokens.upload, "p.jpg", "image", "image/jpeg")
        target = urlsplit(upload["upload_url"])
        conn = put_stalled(upload["upload_url"], data)
        wait_bodies_held(1)
        caplog.set_level(logging.INFO)
        started = time.monotonic()
    assert time.monotonic() - started < SHUTDOWN_TIMEOUT + 3
    conn.close()
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    with EmbeddedServer(library, config=config) as server:
        url = upload["upload_url"].replace(f"{target.hostname}:{target.port}", server.url[7:])
        again = http_call(url, "PUT", data, {"Content-Type": "image/jpeg"})
        assert again.status == 200, again.body
        done = _confirm(server.url, tokens.upload, upload["file_id"])
        assert done.status == 200, done.body


def _raw(url: str, request: bytes) -> tuple[int, dict[str, str], bytes]:
    host, port = url.split("//", 1)[1].split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body


def test_headers_over_8_kb_get_our_json_error_and_one_warning(
    served: Any, media_dir: Any, caplog: pytest.LogCaptureFixture
) -> None:
    lib, server, tokens = served
    record = lib.uploads.ingest(media_dir.mp4, "video")
    secret = "mdk_" + "a" * 9 * 1024
    ranges = ",".join(f"{n * 10}-{n * 10 + 1}" for n in range(5000))
    caplog.set_level(logging.INFO)
    for name, value in (("Authorization", f"Bearer {secret}"), ("Range", f"bytes={ranges}")):
        caplog.clear()
        status, headers, body = _raw(
            server.url,
            (
                f"GET /stream/{record.id}/video HTTP/1.1\r\nHost: x\r\n"
                f"{name}: {value}\r\nConnection: close\r\n\r\n"
            ).encode(),
        )
        assert status == 431, body
        assert headers["Content-Type"].startswith("application/json")
        error = json.loads(body)["error"]
        assert error["code"] == "header_too_large"
        assert error["request_id"] == headers["X-Request-ID"]
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert len(warnings) == 1, [r.getMessage() for r in warnings]
        assert warnings[0].exc_info is None and error["request_id"] in warnings[0].getMessage()
        assert "aaaa" not in caplog.text  # the header itself (a token) is never logged
    # the server kept serving
    data = media_dir.mp4.read_bytes()
    assert_healthy(lib, {record.id: data}, server.url, tokens.read)


def test_a_description_of_any_allowed_length_travels_in_tus_metadata(
    served: Any, media_dir: Any
) -> None:
    """tus carries the description in Upload-Metadata, base64: 10,000 characters of UTF-8 are
    far past the 8 KB other headers get, and past 6,100 it was refused 431 header_too_large."""
    lib, server, tokens = served
    data = media_dir.png.read_bytes()

    def tus(metadata: str, **extra: str) -> Any:
        return http_call(
            f"{server.url}/files/upload/tus",
            "POST",
            data,
            {
                **bearer(tokens.upload),
                **extra,
                "Tus-Resumable": "1.0.0",
                "Upload-Length": str(len(data)),
                "Upload-Metadata": metadata,
                "Content-Type": "application/offset+octet-stream",
            },
        )

    def meta(description: str) -> str:
        return "filename cC5wbmc=,file_type aW1hZ2U=,description " + base64.b64encode(
            description.encode()
        ).decode("ascii")

    longest = ("é" * 4999 + "🏊") * 2  # 10,000 characters, 30,004 bytes of UTF-8
    created = tus(meta(longest))
    assert created.status == 201, created.body
    stored = http_call(
        f"{server.url}/files/{created.json()['file_id']}", headers=bearer(tokens.read)
    )
    assert stored.json()["description"] == longest

    form, ctype = multipart_body(
        {"file_type": "image", "description": "é" * 10001},
        {"file": ("q.png", data, "image/png")},
    )
    direct = http_call(
        f"{server.url}/files/upload/direct",
        "POST",
        form,
        {**bearer(tokens.upload), "Content-Type": ctype},
    )
    over = tus(meta("é" * 10001))
    assert direct.status == over.status == 400, (direct.body, over.body)
    assert over.json()["error"]["code"] == direct.json()["error"]["code"], over.body

    # every other header keeps its 8 KB, beside a long Upload-Metadata too
    nine_kb = tus(meta(longest), Authorization="Bearer mdk_" + "a" * 9 * 1024)
    assert nine_kb.status == 431 and nine_kb.json()["error"]["code"] == "header_too_large"
    junk = ",".join(f"k{n} !!!!" for n in range(5600))  # 60 KB of keys that are not base64
    assert tus(junk).status == 400
    past = tus("junk " + "QUFB" * 16 * 1024)  # 64 KiB: past the longest description's
    assert past.status == 431 and past.json()["error"]["code"] == "header_too_large"
    # many headers of 8 KB, none too long, are cut before the head grows without end
    many = "".join(f"X-Pad-{n}: {'a' * 8000}\r\n" for n in range(40))
    status, _, body = _raw(
        server.url,
        f"GET /files/ HTTP/1.1\r\nHost: x\r\n{many}Connection: close\r\n\r\n".encode(),
    )
    assert status == 431 and json.loads(body)["error"]["code"] == "header_too_large"
    assert_healthy(lib, {created.json()["file_id"]: data}, server.url, tokens.read)


def _closed_by_server(sock: socket.socket, send: bytes, patience: float = 20.0) -> bool:
    """Sends `send`, then reads what comes; True once the server closed the connection. The
    patience is a safety net only: an open event stream keeps sending heartbeats."""
    try:
        sock.sendall(send)
    except (BrokenPipeError, ConnectionResetError):
        return True
    deadline = time.monotonic() + patience
    sock.settimeout(patience)
    while time.monotonic() < deadline:
        try:
            if not sock.recv(65536):
                return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
    return False


def test_a_head_pipelined_behind_an_event_stream_is_held_to_the_head_cap(served: Any) -> None:
    """The 128 KiB head cap counted only between requests: an unfinished head sent behind a
    GET /events (which never ends) was buffered whole, 120 headers of 60 KB (7 MB) per
    connection. Past the cap the connection is now closed (a 431 could only follow the
    stream's end); a pipelined head under the cap is still served."""
    lib, server, tokens = served
    port = int(server.url.rsplit(":", 1)[1])
    events = f"GET /events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {tokens.read}\r\n\r\n"
    pad = "".join(f"X-Pad-{n}: {'a' * 60_000}\r\n" for n in range(120))
    unfinished = f"GET /files/ HTTP/1.1\r\nHost: x\r\n{pad}".encode()
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        assert _closed_by_server(sock, events.encode() + unfinished)

    # under the cap, behind a request already answered, on the same connection: served
    many = "".join(f"X-Pad-{n}: {'a' * 2000}\r\n" for n in range(40))  # 80 KB
    auth = f"Authorization: Bearer {tokens.read}\r\n"
    status, _, body = _raw(
        server.url,
        (
            f"GET /health HTTP/1.1\r\nHost: x\r\n{auth}\r\n"
            f"GET /files/ HTTP/1.1\r\nHost: x\r\n{auth}{many}Connection: close\r\n\r\n"
        ).encode(),
    )
    assert status == 200 and b'"items"' in body.split(b"HTTP/1.1 ")[-1], body[-300:]
    assert_healthy(lib, {}, server.url, tokens.read)


def test_the_trailers_of_a_chunked_body_are_held_to_one_header_line(
    served: Any, media_dir: Any
) -> None:
    """A chunked body's trailer section was accepted up to 61.5 KB (the parser's limit for
    Upload-Metadata) per trailer; it is now held to one header line's 8,190 bytes in all,
    answered 431 header_too_large like an oversized header."""
    lib, server, tokens = served
    record = lib.uploads.ingest(media_dir.png, "image")
    small = b'{"description": "trailed"}'

    def patch(trailers: str, body: bytes = small) -> tuple[int, dict[str, str], bytes]:
        chunks = (body[n : n + 65536] for n in range(0, len(body), 65536))
        return _raw(
            server.url,
            (
                f"PATCH /files/{record.id} HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {tokens.upload}\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            ).encode()
            + b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks)
            + f"0\r\n{trailers}\r\n".encode(),
        )

    status, _, reply = patch("X-Checksum: abc\r\n")
    assert status == 200 and json.loads(reply)["description"] == "trailed", reply
    # a body of many chunks (JSON's white space) with small trailers, in whatever reads
    status, _, reply = patch("X-Checksum: abc\r\nX-Other: d\r\n", small + b" \n" * 300_000)
    assert status == 200 and json.loads(reply)["description"] == "trailed", reply
    for trailers in (
        f"X-Long: {'a' * 9000}\r\n",  # one trailer past a header line
        "".join(f"X-Part-{n}: {'b' * 3000}\r\n" for n in range(4)),  # 12 KB in four
        f"X-Huge: {'c' * 60_000}\r\n",
    ):
        status, headers, reply = patch(trailers)
        assert status == 431, reply
        error = json.loads(reply)["error"]
        assert error["code"] == "header_too_large", error
        assert error["request_id"] == headers["X-Request-ID"]
    assert_healthy(lib, {record.id: media_dir.png.read_bytes()}, server.url, tokens.read)


@pytest.mark.parametrize("size", [64, 128])
def test_a_chunked_upload_of_small_chunks_is_received_whole(
    served: Any, media_dir: Any, size: int
) -> None:
    """The trailer cap counted every chunk line of a socket read as trailers: an upload in
    small chunks (a client sending a generator sends one chunk per item) was refused 431
    header_too_large, 128-byte chunks by 1 MiB, 64-byte ones by 100 KB, in one write or
    parsed again after the body's reader paused. Received whole (tus counts and hashes it,
    and writes it to disk a batch at a time, so the reader pauses), and trailers past the
    cap behind such a body are still refused."""
    lib, server, tokens = served
    # a photo's first bytes (an upload's type is checked once they are in), then noise
    data = media_dir.png.read_bytes() + hashlib.shake_256(b"small chunks").digest((1 << 20) + 4099)

    def create(trailers: str, data: bytes = data) -> tuple[int, dict[str, str], bytes]:
        chunks = (data[n : n + size] for n in range(0, len(data), size))
        body = b"".join(f"{len(c):x}\r\n".encode() + c + b"\r\n" for c in chunks)
        digest = base64.b64encode(hashlib.sha1(data).digest()).decode()
        return _raw(
            server.url,
            (
                f"POST /files/upload/tus HTTP/1.1\r\nHost: x\r\n"
                f"Authorization: Bearer {tokens.upload}\r\nTus-Resumable: 1.0.0\r\n"
                f"Upload-Length: {len(data) + 1}\r\nUpload-Checksum: sha1 {digest}\r\n"
                "Upload-Metadata: filename cC5iaW4=,file_type aW1hZ2U=\r\n"
                "Content-Type: application/offset+octet-stream\r\n"
                "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            ).encode()
            + body
            + f"0\r\n{trailers}\r\n".encode(),
        )

    status, _, reply = create("X-Checksum: abc\r\n")
    assert status == 201, reply
    assert json.loads(reply)["offset"] == len(data)  # and the sha1 of all of it matched
    # behind such a body, long or short
    for length in (len(data), 200_000):
        status, _, reply = create(f"X-Huge: {'c' * 60_000}\r\n", data[:length])
        assert status == 431, reply
        assert json.loads(reply)["error"]["code"] == "header_too_large"
    assert_healthy(lib, {}, server.url, tokens.read)


def test_bidi_and_invisible_characters_never_reach_a_stored_name(
    served: Any, media_dir: Any
) -> None:
    lib, server, tokens = served
    data = media_dir.png.read_bytes()
    spoof = "cat\u202egnp.exe"  # shows as "catexe.png"
    body, ctype = multipart_body({"file_type": "image"}, {"file": ("photo.png", data, "image/png")})
    body = body.replace(b'filename="photo.png"', f'filename="{spoof}"'.encode())
    reply = http_call(
        f"{server.url}/files/upload/direct",
        "POST",
        body,
        {**bearer(tokens.upload), "Content-Type": ctype},
    )
    assert reply.status == 201, reply.body
    stored = reply.json()
    # the bidi override is gone, and a PNG named .exe ends in .png (0907999)
    assert stored["original_filename"] == "catgnp.exe.png"
    shown = http_call(f"{server.url}/stream/{stored['id']}/image", headers=bearer(tokens.read))
    disposition = shown.headers["Content-Disposition"]
    assert "%E2%80%AE" not in disposition and "\u202e" not in disposition

    renamed = http_call(
        f"{server.url}/files/{stored['id']}",
        "PATCH",
        json.dumps({"original_filename": "\u2066Ñandú\u200b 🏃\u2069\x07.png"}).encode(),
        {**bearer(tokens.upload), "Content-Type": "application/json"},
    )
    assert renamed.status == 200, renamed.body
    assert renamed.json()["original_filename"] == "Ñandú 🏃.png"  # other Unicode stays

    upload = _presign(server.url, tokens.upload, "clip\u202d\u061c.jpg", "image", "image/jpeg")
    assert upload["file"]["original_filename"] == "clip.jpg"
    gone = http_call(
        f"{server.url}/files/{upload['file_id']}?hard_delete=true",
        "DELETE",
        headers=bearer(tokens.admin),
    )
    assert gone.status == 200
    assert_healthy(lib, {stored["id"]: data}, server.url, tokens.read)


_INTERNAL = re.compile(r"athletes/|general/|_derived/|/tmp/|/root/|/home/|http://|[0-9a-f]{32}")


def _assert_clean_error(reply: Any, status: int, code: str) -> str:
    assert reply.status == status, reply.body
    error = reply.json()["error"]
    assert error["code"] == code
    assert not _INTERNAL.search(error["message"]), error["message"]
    assert error["request_id"] == reply.headers["X-Request-ID"]
    return str(error["request_id"])


def test_error_messages_hide_keys_paths_and_endpoints(
    served: Any, media_dir: Any, caplog: pytest.LogCaptureFixture
) -> None:
    lib, server, tokens = served
    record = lib.uploads.ingest(media_dir.mp4, "video")
    data = media_dir.mp4.read_bytes()
    caplog.set_level(logging.INFO)

    # The object vanished behind the catalog's back (a local path would be the detail).
    path = lib.local_path(record)
    hidden = path.with_name("moved-away")
    path.rename(hidden)
    try:
        reply = http_call(f"{server.url}/stream/{record.id}/raw", headers=bearer(tokens.read))
        rid = _assert_clean_error(reply, 404, "not_found")
        logged = [r.getMessage() for r in caplog.records if rid in r.getMessage()]
        assert logged and path.name in logged[0]  # the detail is in the log, with the id
        exported = http_call(
            f"{server.url}/files/{record.id}/download", headers=bearer(tokens.read)
        )
        assert exported.status in (302, 404)
    finally:
        hidden.rename(path)

    # A client-supplied X-Request-ID is kept and quoted back.
    reply = http_call(
        f"{server.url}/files/999999", headers={**bearer(tokens.read), "X-Request-ID": "abc-123"}
    )
    assert _assert_clean_error(reply, 404, "not_found") == "abc-123"
    assert_healthy(lib, {record.id: data}, server.url, tokens.read)


def test_storage_errors_hide_the_endpoint(
    s3_settings: Settings, media_dir: Any, caplog: pytest.LogCaptureFixture
) -> None:
    # The library reaches the bucket through a proxy the test can cut: the store goes away.
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url))
    tokens = make_tokens(lib)
    record = lib.uploads.ingest(media_dir.jpeg, "image")
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    dead = proxy.url
    try:
        upload = _presign(server.url, tokens.upload, "a.jpg", "image", "image/jpeg")
        proxy.cut()
        caplog.set_level(logging.INFO)
        reply = _confirm(server.url, tokens.upload, upload["file_id"])
        rid = _assert_clean_error(reply, 500, "storage_unavailable")
        assert dead not in reply.body.decode() and "127.0.0.1" not in reply.body.decode()
        assert any(rid in r.getMessage() and dead in r.getMessage() for r in caplog.records)
        health = http_call(f"{server.url}/health", headers=bearer(tokens.read))
        assert health.status == 503 and dead not in health.body.decode()
        proxy.restore()
        lib.delete_permanently(upload["file_id"])
        assert_healthy(lib, {record.id: media_dir.jpeg.read_bytes()})
    finally:
        server.stop()
        lib.close()
        proxy.close()


def test_health_whose_checks_hang_answers_in_the_shape_of_one_that_did_not(
    s3_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/health answers a store that hangs without its checks: in the parts and fields of an
    answer whose checks ran (its fallback had a shape of its own: no `participating`)."""
    from server.routes import meta

    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url))
    tokens = make_tokens(lib)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()

    def fields(reply: Any) -> dict[str, Any]:
        body = reply.json()
        return {
            k: sorted(set(v) - {"error"}) if isinstance(v, dict) else k for k, v in body.items()
        }

    try:
        url, admin = f"{server.url}/health", bearer(tokens.admin)
        checked = http_call(url, headers=admin)
        assert checked.status == 200, checked.body
        proxy.stall()
        monkeypatch.setattr(meta, "HEALTH_WAIT", 0.5)  # not the store probe's 7 s
        late = http_call(url, headers=admin)
        assert late.status == 503 and late.json()["storage"]["error"] == "timeout", late.body
        assert fields(late) == fields(checked), (late.body, checked.body)
        told = http_call(url, headers=bearer(tokens.read)).json()["storage"]
        assert told["error"].endswith("try again later") and "reason" not in told, told
    finally:
        proxy.restore()
        server.stop()
        lib.close()
        proxy.close()


@pytest.fixture(params=["local", "s3"])
def any_live(request: pytest.FixtureRequest) -> EmbeddedServer:
    return request.getfixturevalue("live" if request.param == "local" else "s3_live")


def test_a_put_to_the_upload_url_during_or_after_the_confirm_never_changes_the_file(
    any_live: EmbeddedServer, media_dir: Any
) -> None:
    """Other bytes of the same length PUT to the upload URL while the confirm checks the
    upload, and again after it. Local: the PUT waits for the confirm and is refused as one
    after it (it replaced the bytes being checked: a file made ready as image/jpeg with the
    image's hash served the other bytes). R2/S3, whose URL cannot be refused: the bucket takes
    both, the confirm keeps a copy no URL reaches (the file served them, as image/jpeg)."""
    from tests.faults import wait_for
    from tests.internals import confirm_locks_of, lock_users, sha_locks_of, storage_of

    lib, url = any_live.library, any_live.url
    local = storage_of(lib).name == "local"
    tokens = make_tokens(lib)
    data = media_dir.jpeg.read_bytes()
    other = (b"<html><script>alert(1)</script></html>" + b" " * len(data))[: len(data)]
    upload = _presign(url, tokens.upload, "sprint.jpg", "image", "image/jpeg")
    fid = upload["file_id"]
    assert http_call(upload["upload_url"], "PUT", data, upload["headers"]).status == 200
    replies: dict[str, Any] = {}

    def confirm() -> None:
        replies["confirm"] = _confirm(url, tokens.upload, fid)

    def put() -> None:
        replies["put"] = http_call(upload["upload_url"], "PUT", other, upload["headers"])

    sha_locks, sha = sha_locks_of(lib), hashlib.sha256(data).hexdigest()
    with sha_locks.hold(sha):  # the confirm, past its checks and hash, waits here
        confirming = threading.Thread(target=confirm)
        confirming.start()
        wait_for(lambda: lock_users(sha_locks, sha) == 2, what="the confirm at the hash's lock")
        putting = threading.Thread(target=put)
        putting.start()
        # the PUT done (the bucket), or waiting for the confirm's lock on the file (local)
        wait_for(
            lambda: "put" in replies or lock_users(confirm_locks_of(lib), fid) == 2,
            what="the PUT's end or its wait for the confirm",
        )
    confirming.join(30)
    putting.join(30)
    assert replies["confirm"].status == 200, replies["confirm"].body
    assert replies["put"].status == (409 if local else 200), replies["put"].body
    after = http_call(upload["upload_url"], "PUT", other, upload["headers"])
    assert after.status == (409 if local else 200)
    record = http_call(f"{url}/files/{fid}", headers=bearer(tokens.read)).json()
    assert record["status"] == "ready" and record["content_type"] == "image/jpeg"
    assert record["sha256"] == sha
    raw = http_call(f"{url}/stream/{fid}/raw", headers=bearer(tokens.read))
    assert raw.status == 200 and raw.body == data
    link = http_call(f"{url}/files/{fid}/download", headers=bearer(tokens.read))
    assert link.status == 302 and http_call(link.headers["Location"]).body == data
    if not local:  # what the URL wrote after the confirm's copy: an object no row names
        assert record["file_key"] != upload["file_key"]
        # an object no row names, known (its deletion is due once the URL cannot write there
        # again), not an orphan left for someone to notice
        found = reconcile(lib)
        assert found.objects_without_rows == [] and upload["file_key"] in found.pending_deletions
        expires = datetime.fromisoformat(upload["expires_at"])
        assert lib.deferred.run(expires + timedelta(seconds=299)) == []
        assert lib.deferred.run(expires + timedelta(seconds=301)) == [upload["file_key"]]
        assert reconcile(lib).objects_without_rows == []
        assert http_call(f"{url}/stream/{fid}/raw", headers=bearer(tokens.read)).body == data
