"""The real server on a loopback port: both upload flows on both backends, plain HTTP clients."""

from __future__ import annotations

import contextlib
import io
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.client import cli
from server.entry import EmbeddedServer
from tests.internals import storage_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.s3_server import S3Target, delete_bucket
from tests.server_fixtures import bearer, http_call, make_tokens, multipart_body, server_config

pytestmark = pytest.mark.timeout(90)


@pytest.fixture(params=["local", "s3"])
def server(request: pytest.FixtureRequest) -> EmbeddedServer:
    return request.getfixturevalue("live" if request.param == "local" else "s3_live")


def js_presigned_flow(
    url: str, token: str, path: Path, file_type: str, mime: str, name: str | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The seed's JavaScript example, request by request, plus the Authorization header."""
    body, ctype = multipart_body(
        {"original_filename": name or path.name, "file_type": file_type, "is_public": "true"}
    )
    resp = http_call(
        f"{url}/files/upload/presigned", "POST", body, {"Content-Type": ctype, **bearer(token)}
    )
    assert resp.status == 201, resp.body
    upload = resp.json()
    assert {
        "file_id",
        "upload_url",
        "method",
        "headers",
        "file_key",
        "expires_in",
        "expires_at",
    } <= set(upload)
    put = http_call(upload["upload_url"], "PUT", path.read_bytes(), {"Content-Type": mime})
    assert put.status == 200, put.body
    done = http_call(f"{url}/files/{upload['file_id']}/confirm-upload", "POST", b"", bearer(token))
    assert done.status == 200, done.body
    return upload, done.json()


def test_seed_javascript_flow(server: EmbeddedServer, media_dir: Any) -> None:
    tokens = make_tokens(server.library)
    upload, record = js_presigned_flow(
        server.url, tokens.upload, media_dir.jpeg, "image", "image/jpeg"
    )
    assert record["id"] == upload["file_id"] and record["status"] == "ready"
    assert record["is_public"] is True and record["width"] == 640
    if storage_of(server.library).name == "local":
        assert upload["upload_url"].startswith(server.url + "/signed/")
    else:
        assert not upload["upload_url"].startswith(server.url)  # straight to the bucket
    data = media_dir.jpeg.read_bytes()
    whole = http_call(f"{server.url}/stream/{record['id']}/image")
    assert whole.status == 200 and whole.body == data
    part = http_call(f"{server.url}/stream/{record['id']}/raw", headers={"Range": "bytes=100-"})
    assert part.status == 206 and part.body == data[100:]
    again = http_call(
        f"{server.url}/files/{record['id']}/confirm-upload", "POST", b"", bearer(tokens.upload)
    )
    assert again.status == 200 and again.json()["id"] == record["id"]


def test_direct_upload_video_and_range_stream(server: EmbeddedServer, media_dir: Any) -> None:
    tokens = make_tokens(server.library)
    data = media_dir.mp4.read_bytes()
    body, ctype = multipart_body(
        {"file_type": "video", "athlete_id": "12"}, {"file": ("clip.mp4", data, "video/mp4")}
    )
    resp = http_call(
        f"{server.url}/files/upload/direct",
        "POST",
        body,
        {"Content-Type": ctype, **bearer(tokens.upload)},
    )
    assert resp.status == 201, resp.body
    record = resp.json()
    assert record["file_type"] == "video" and record["duration"] > 1
    assert record["file_key"].startswith("athletes/12/")
    dup = http_call(
        f"{server.url}/files/upload/direct",
        "POST",
        body,
        {"Content-Type": ctype, **bearer(tokens.upload)},
    )
    assert dup.status == 200 and dup.json()["id"] == record["id"]
    h = bearer(tokens.read)
    ranged = http_call(
        f"{server.url}/stream/{record['id']}/video", headers={**h, "Range": "bytes=1000-1999"}
    )
    assert ranged.status == 206 and ranged.body == data[1000:2000]
    redirect = http_call(f"{server.url}/files/{record['id']}/download", headers=h)
    assert redirect.status == 302
    fetched = http_call(redirect.headers["Location"])
    assert fetched.status == 200 and fetched.body == data


def test_tokens_and_scopes_over_http(live: EmbeddedServer) -> None:
    tokens = make_tokens(live.library)
    form = b"original_filename=a.jpg&file_type=image"
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    url = f"{live.url}/files/upload/presigned"
    assert http_call(url, "POST", form, form_type).status == 401
    assert http_call(url, "POST", form, {**form_type, **bearer("mdk_forged")}).status == 401
    assert http_call(url, "POST", form, {**form_type, **bearer(tokens.read)}).status == 403
    assert http_call(url, "POST", form, {**form_type, **bearer(tokens.upload)}).status == 201
    assert http_call(f"{live.url}/audit", headers=bearer(tokens.upload)).status == 403
    assert http_call(f"{live.url}/health").status == 200


def test_filenames_with_crlf_and_traversal(live: EmbeddedServer, media_dir: Any) -> None:
    tokens = make_tokens(live.library)
    evil = "../../etc/evil\r\nX-Injected: yes\r\n.jpg"
    _, record = js_presigned_flow(
        live.url, tokens.upload, media_dir.jpeg, "image", "image/jpeg", name=evil
    )
    assert "\r" not in record["original_filename"] and "\n" not in record["original_filename"]
    assert "/" not in record["original_filename"] and ".." not in record["original_filename"]
    assert ".." not in record["file_key"] and record["file_key"].startswith("general/")
    resp = http_call(f"{live.url}/files/{record['id']}/download", headers=bearer(tokens.read))
    assert "X-Injected" not in resp.headers
    assert "\r" not in resp.headers["Content-Disposition"]

    body, ctype = multipart_body(
        {"file_type": "image"},
        {"file": ("../../../outside.png", media_dir.png.read_bytes(), "image/png")},
    )
    made = http_call(
        f"{live.url}/files/upload/direct",
        "POST",
        body,
        {"Content-Type": ctype, **bearer(tokens.upload)},
    )
    assert made.status == 201 and made.json()["original_filename"] == "outside.png"
    objects = live.library.paths.objects_dir.resolve()
    assert not (objects.parent / "outside.png").exists()


def test_two_concurrent_confirms_make_one_ready_record(
    live: EmbeddedServer, media_dir: Any
) -> None:
    tokens = make_tokens(live.library)
    resp = http_call(
        f"{live.url}/files/upload/presigned",
        "POST",
        b"original_filename=clip.webm&file_type=video",
        {"Content-Type": "application/x-www-form-urlencoded", **bearer(tokens.upload)},
    )
    upload = resp.json()
    put = http_call(upload["upload_url"], "PUT", media_dir.webm.read_bytes(), upload["headers"])
    assert put.status == 200
    results: list[Any] = []
    barrier = threading.Barrier(2)

    def confirm() -> None:
        barrier.wait()
        results.append(
            http_call(
                f"{live.url}/files/{upload['file_id']}/confirm-upload",
                "POST",
                b"",
                bearer(tokens.upload),
            )
        )

    threads = [threading.Thread(target=confirm) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status for r in results] == [200, 200]
    assert {r.json()["id"] for r in results} == {upload["file_id"]}
    page = http_call(f"{live.url}/files/?status=any", headers=bearer(tokens.read)).json()
    assert page["total"] == 1 and page["items"][0]["status"] == "ready"
    reuse = http_call(upload["upload_url"], "PUT", media_dir.webm.read_bytes(), upload["headers"])
    assert reuse.status == 409  # a used upload URL cannot replace the validated file


def test_metrics_count_uploads(live: EmbeddedServer, media_dir: Any) -> None:
    tokens = make_tokens(live.library)
    js_presigned_flow(live.url, tokens.upload, media_dir.png, "image", "image/png")
    text = http_call(f"{live.url}/metrics", headers=bearer(tokens.read)).body.decode()
    assert 'mediadesk_uploads_total{file_type="image",flow="presigned",outcome="created"} 1' in text
    assert 'mediadesk_presigned_url_seconds_count{operation="upload"} 1' in text
    assert (
        'mediadesk_http_request_duration_seconds_bucket{method="POST",'
        'route="/files/upload/presigned",le="+Inf"} 1' in text
    )
    assert 'route="/files/{file_id}/confirm-upload",status="200"' in text


def test_sse_over_http(live: EmbeddedServer, media_dir: Any) -> None:
    import http.client

    tokens = make_tokens(live.library)
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=20)
    conn.request("GET", f"/events?access_token={tokens.read}")
    resp = conn.getresponse()
    assert resp.status == 200
    js_presigned_flow(live.url, tokens.upload, media_dir.gif, "image", "image/gif")
    seen = ""
    while "event: created" not in seen:
        seen += resp.readline().decode()
    data = json.loads(resp.readline().decode().removeprefix("data: "))
    assert data["kind"] == "created" and data["file"]["original_filename"] == "anim.gif"
    conn.close()


def test_an_open_event_stream_ends_when_its_token_is_revoked(
    live: EmbeddedServer, media_dir: Any
) -> None:
    """Revoked by another process sharing the catalog: the open stream is told and ends, and
    carries none of the records written after (it went on sending them with full records)."""
    import http.client
    import time

    from core.db.engine import Database
    from core.tokens import TokenStore
    from tests.internals import db_of
    from tests.server_fixtures import upload_file

    admin = make_tokens(live.library).admin
    info, read = live.library.tokens.create("sse-reader", "read")
    conn = http.client.HTTPConnection("127.0.0.1", live.port, timeout=10)
    conn.request("GET", "/events", headers=bearer(read))
    resp = conn.getresponse()
    assert resp.status == 200
    lines: list[str] = []

    def read_until(done: Any) -> None:
        deadline = time.monotonic() + 10
        while not done() and time.monotonic() < deadline:
            raw = resp.readline()
            if not raw:
                return
            lines.append(raw.decode().rstrip("\n"))

    before = upload_file(live, admin, media_dir.jpeg)
    read_until(lambda: f'"file_id": {before["id"]}' in "".join(lines))
    assert "event: created" in lines  # the stream works for the token until then
    other = Database(db_of(live.library).url)  # another process's view of the catalog
    try:
        TokenStore(other).revoke(info.id)
    finally:
        other.dispose()
    # told at once, without waiting for an event to send (a 10 s deadline if never)
    read_until(lambda: "event: unauthorized" in lines)
    assert "event: unauthorized" in lines, lines
    after = upload_file(live, admin, media_dir.png, description="private note")
    read_until(lambda: False)  # to the end of the stream
    conn.close()
    assert not any(f'"file_id": {after["id"]}' in line for line in lines), lines
    told = lines.index("event: unauthorized")
    data = json.loads(lines[told + 1].removeprefix("data: "))
    assert (data["kind"], data["code"]) == ("unauthorized", "invalid_token")
    assert lines[told + 2 :] == [""]  # ended just after saying why
    # EventSource reconnects, is refused, and gives up
    again = http_call(f"{live.url}/events", headers={**bearer(read), "Last-Event-ID": "0"})
    assert again.status == 401


def test_stream_cache_follows_changes(live, library, media_dir, tokens) -> None:  # noqa: ANN001
    """Stream lookups are cached, but a trash or an edit is seen by the very next request."""
    from tests.server_fixtures import bearer, http_call

    record = library.uploads.ingest(media_dir.mp4, "video")
    url = f"{live.url}/stream/{record.id}/video"
    assert http_call(url, headers=bearer(tokens.read)).status == 200
    assert http_call(url).status == 401  # private
    library.update_file(record.id, {"is_public": True})
    assert http_call(url).status == 200  # now public, no token needed
    library.trash(record.id)
    assert http_call(url, headers=bearer(tokens.read)).status == 404


def test_players_may_send_the_token_as_a_query_parameter(live, library, media_dir, tokens):  # noqa: ANN001, ANN201
    """<video> and QMediaPlayer cannot send headers: /stream accepts ?access_token=."""
    from tests.server_fixtures import http_call

    record = library.uploads.ingest(media_dir.mp4, "video")
    url = f"{live.url}/stream/{record.id}/video"
    reply = http_call(f"{url}?access_token={tokens.read}", headers={"Range": "bytes=0-9"})
    assert reply.status == 206 and len(reply.body) == 10
    assert http_call(f"{url}?access_token=mdk_wrong").status == 401
    # only streams: other endpoints still need the header
    assert http_call(f"{live.url}/files/{record.id}?access_token={tokens.read}").status == 401


def test_a_missing_bucket_is_storage_unavailable_not_a_missing_file(
    s3_live: EmbeddedServer, s3_bucket: S3Target, media_dir: Any
) -> None:
    """A bucket deleted, or misnamed in the settings, is a fault of the set-up: streams said
    404 not_found, as if each file were gone."""
    tokens = make_tokens(s3_live.library)
    record = s3_live.library.uploads.ingest(media_dir.mp4, "video")
    delete_bucket(s3_bucket)
    h = bearer(tokens.admin)
    for headers in (h, {**h, "Range": "bytes=1000-1999"}):
        reply = http_call(f"{s3_live.url}/stream/{record.id}/video", headers=headers)
        assert reply.status == 500, reply.body
        error = reply.json()["error"]
        assert (error["code"], error["reason"]) == ("storage_unavailable", "bucket_missing")
    health = http_call(f"{s3_live.url}/health", headers=h)
    assert health.status == 503 and "does not exist" in health.json()["storage"]["error"]
    # `mediadesk upload` said "The storage is not available right now; try again later"
    out, err = io.StringIO(), io.StringIO()
    argv = ["upload", str(media_dir.jpeg), "--server", s3_live.url, "--token", tokens.upload]
    assert cli.run(argv, out, err) == 1, out.getvalue() + err.getvalue()
    failed = out.getvalue().split("failed " + str(media_dir.jpeg) + ": ")[1]
    assert failed.startswith("The storage bucket does not exist") and "later" not in failed


def test_health_tells_every_caller_a_set_up_fault_without_its_endpoint(
    s3_live: EmbeddedServer, s3_bucket: S3Target, media_dir: Any
) -> None:
    """Without the admin token /health said "not available right now; try again later" (or
    nothing) for a deleted bucket: a monitor waited for an outage to pass that never would."""
    from server.errors import UNAVAILABLE_MESSAGES

    tokens = make_tokens(s3_live.library)
    record = s3_live.library.uploads.ingest(media_dir.jpeg, "image")
    s3_live.library.update_file(record.id, {"is_public": True})
    delete_bucket(s3_bucket)
    admin = http_call(f"{s3_live.url}/health", headers=bearer(tokens.admin))
    storage = admin.json()["storage"]
    assert admin.status == 503 and storage["reason"] == "bucket_missing", storage
    assert s3_bucket.bucket in storage["error"] and s3_bucket.endpoint_url in storage["error"]
    for who, headers in (("read", bearer(tokens.read)), ("anonymous", {})):
        reply = http_call(f"{s3_live.url}/health", headers=headers)
        storage = reply.json()["storage"]
        assert reply.status == 503 and storage["ok"] is False, (who, reply.body)
        assert storage["error"] == UNAVAILABLE_MESSAGES["bucket_missing"], (who, storage)
        assert storage["reason"] == "bucket_missing", (who, storage)
        text = reply.body.decode()
        assert s3_bucket.endpoint_url not in text and "127.0.0.1" not in text, (who, text)
        assert s3_bucket.bucket not in text, (who, text)
    # no news to an anonymous caller: a public file's stream tells it the same reason
    stream = http_call(f"{s3_live.url}/stream/{record.id}/image")
    assert stream.status == 500 and stream.json()["error"]["reason"] == "bucket_missing"


def test_a_client_is_told_to_try_again_later_only_for_an_outage() -> None:
    """An unreachable store passes; a missing bucket (like wrong keys) waits for its
    administrator, and each reason core names has its own sentence, no internals in it."""
    from botocore.exceptions import EndpointConnectionError

    from core.errors import UNAVAILABLE_REASONS
    from core.storage.s3 import bucket_missing, explain
    from server.errors import UNAVAILABLE_MESSAGES, client_message

    endpoint = "http://127.0.0.1:9"
    bucket = "club-bucket-7f3"  # a name no sentence has (a message may say `mediadesk …`)
    down = explain(EndpointConnectionError(endpoint_url=endpoint), "Reading k", bucket, endpoint)
    assert down.reason == "endpoint_unreachable"
    assert client_message(down).endswith("; try again later")
    missing = client_message(bucket_missing(bucket, endpoint))
    assert missing.startswith("The storage bucket does not exist") and "later" not in missing
    assert set(UNAVAILABLE_REASONS) <= set(UNAVAILABLE_MESSAGES)
    assert not any(endpoint in text or bucket in text for text in UNAVAILABLE_MESSAGES.values())


@contextlib.contextmanager
def _write_lock_held(library: Library) -> Iterator[None]:
    """Another process's write transaction on the catalog (SQLite's write lock) meanwhile."""
    holder = sqlite3.connect(library.settings.paths.database_file, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        yield
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def _under_the_write_lock(
    library: Library, url: str, headers: dict[str, str], first: Callable[[], None] = lambda: None
) -> Any:
    """The answer to a GET sent while another connection holds the catalog's write lock (a
    slow write elsewhere: an edit on a slow disk), or None when it did not come while held;
    `first` runs under the lock before it."""
    replies: list[Any] = []
    with _write_lock_held(library):
        first()
        reader = threading.Thread(
            target=lambda: replies.append(http_call(url, headers=headers, timeout=60))
        )
        reader.start()
        reader.join(20)  # generous: the lock stays held until the read answers or this ends
        answered = not reader.is_alive()
    reader.join(60)
    return replies[0] if answered else None


def test_an_authenticated_read_answers_while_another_process_holds_the_write_lock(
    library: Library, live: EmbeddedServer
) -> None:
    """A token's last use was written on the request's path: behind a slow write a listing
    with a token not used yet waited for it, tens of seconds."""
    info, secret = library.tokens.create("fresh", "read")
    reply = _under_the_write_lock(library, f"{live.url}/files/?limit=5", bearer(secret))
    assert reply is not None and reply.status == 200
    deadline = time.monotonic() + 30  # the use is written once the lock is free
    while library.tokens.get(info.id).last_used_at is None:
        assert time.monotonic() < deadline, "the token's last use was never written"
        time.sleep(0.1)


def test_the_audit_answers_while_another_process_holds_the_write_lock(
    library: Library, live: EmbeddedServer, media_dir: Any
) -> None:
    """GET /audit wrote the entries just added before listing: behind a slow write it waited
    for that write; now it waits a moment at most, and the entries follow."""
    record = library.uploads.ingest(media_dir.png, "image")
    library.update_file(record.id, {"is_public": False})
    tokens = make_tokens(library)

    def open_the_file() -> None:  # audited: its entry waits for the lock to be written
        assert http_call(f"{live.url}/files/{record.id}", headers=bearer(tokens.read)).status == 200

    listing = f"{live.url}/audit?file_id={record.id}"
    reply = _under_the_write_lock(library, listing, bearer(tokens.admin), open_the_file)
    assert reply is not None and reply.status == 200
    deadline = time.monotonic() + 30
    while not http_call(listing, headers=bearer(tokens.admin)).json()["items"]:
        assert time.monotonic() < deadline, "the access was never audited"
        time.sleep(0.1)


def test_the_servers_stop_does_not_wait_for_another_process_s_write_lock(
    library: Library, media_dir: Any
) -> None:
    """The last token uses and audit entries were written at the stop with SQLite's 30 s busy
    timeout: behind another process's long write, stopping (a desktop quitting) took as long.
    They wait a moment now and are dropped; the stop ends well before the lock is let go."""
    record = library.uploads.ingest(media_dir.png, "image")
    library.update_file(record.id, {"is_public": False})  # an open of it is audited
    tokens = make_tokens(library)  # never used: the first use is noted
    server = EmbeddedServer(library, config=server_config(library))
    server.start()
    stopper = threading.Thread(target=server.stop)
    try:
        with _write_lock_held(library):
            reply = http_call(f"{server.url}/files/{record.id}", headers=bearer(tokens.read))
            assert reply.status == 200
            time.sleep(1)  # the audit's writer has started its write
            stopper.start()
            stopper.join(10)  # generous: the lock stays held until the stop ends or this does
            stopped = not stopper.is_alive()
    finally:
        if stopper.is_alive():
            stopper.join(60)
        elif stopper.ident is None:
            server.stop()
    assert stopped, "the stop waited for another process's write lock"


@pytest.mark.parametrize("catalog", ["library", "pg_library"])
def test_a_tokens_last_use_reaches_the_catalog_by_the_servers_stop(
    catalog: str, request: pytest.FixtureRequest
) -> None:
    """Uses are written in the background: the ones not written yet are written at shutdown,
    on both catalogs (`mediadesk token list` reads them from there)."""
    lib: Library = request.getfixturevalue(catalog)
    info, secret = lib.tokens.create("fresh", "read")
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        assert http_call(f"{server.url}/files/?limit=5", headers=bearer(secret)).status == 200
    finally:
        server.stop()
    used = lib.tokens.get(info.id).last_used_at
    assert used is not None and info.created_at <= used
