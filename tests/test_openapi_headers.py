"""The headers real answers carry are declared in the served OpenAPI document for their
operation and status: Content-Range on 206 and 416 (streams, signed GETs), Retry-After on a
503 server_busy, WWW-Authenticate on 401, Allow on 405; and HEAD, which the GET routes answer,
is an operation with the GET's parameters and headers. Real HTTP over loopback."""

from __future__ import annotations

import dataclasses
from typing import Any
from urllib.parse import urlsplit

import pytest

from core.library import Library
from server.config import ServerConfig
from server.entry import EmbeddedServer
from tests.faults import put_stalled, wait_bodies_held
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, multipart_body

pytestmark = pytest.mark.timeout(90)

S = dict[str, Any]
# The headers whose presence the answer's status promises (server.auth, server.streaming,
# server.errors, server/routes/signed.py)
PROMISED = {
    "206": ("Content-Range", "Accept-Ranges"),
    "416": ("Content-Range",),
    "401": ("WWW-Authenticate",),
    "405": ("Allow",),
    "503": ("Retry-After",),
}


def _presign(url: str, token: str, name: str) -> S:
    form, form_type = multipart_body(
        {"original_filename": name, "file_type": "image", "content_type": "image/jpeg"}
    )
    reply = http_call(
        f"{url}/files/upload/presigned", "POST", form, {**bearer(token), "Content-Type": form_type}
    )
    assert reply.status == 201, reply.body
    return reply.json()  # type: ignore[no-any-return]


@pytest.fixture
def served(library: Library, media_dir: Any) -> Any:
    """A live server that reads one upload body at a time, so a second signed PUT is 503."""
    one_body = dataclasses.replace(library.settings, upload_bodies=1)
    config = ServerConfig.from_settings(
        one_body, host="127.0.0.1", port=0, maintenance_interval=0, upload_rate_limit=0
    )
    files = {
        "video": library.uploads.ingest(media_dir.mp4, "video").id,
        "image": library.uploads.ingest(media_dir.jpeg, "image").id,
    }
    with EmbeddedServer(library, config=config) as server:
        spec = http_call(f"{server.url}/openapi.json").json()
        yield server, spec, make_tokens(library), files


def _undeclared(spec: S, path: str, method: str, reply: Reply) -> list[str]:
    """The promised headers `reply` carries that the document does not declare for it."""
    status = str(reply.status)
    operation = spec["paths"].get(path, {}).get(method)
    sent = [h for h in PROMISED[status] if h in reply.headers]
    assert sent, (method, path, status, "the answer carries none of", PROMISED[status])
    if status == "405":  # a method the path lacks: no operation, the shared answer
        answer = spec["components"].get("responses", {}).get("MethodNotAllowed", {})
    elif operation is None:
        return [f"{method.upper()} {path}: no such operation"]
    else:
        answer = operation["responses"].get(status, {})
    declared = {name.lower() for name in answer.get("headers", {})}
    return [f"{method.upper()} {path} {status} {h}" for h in sent if h.lower() not in declared]


def test_every_promised_header_of_a_real_answer_is_declared(served: Any, media_dir: Any) -> None:
    server, spec, tokens, files = served
    read = bearer(tokens.read)
    video, image = files["video"], files["image"]
    signed = http_call(f"{server.url}/files/{image}/presigned-url", headers=read).json()["url"]
    signed_path = urlsplit(signed)
    signed_local = f"{signed_path.path}?{signed_path.query}"
    ranged = {
        "/stream/{file_id}/video": f"/stream/{video}/video",
        "/stream/{file_id}/image": f"/stream/{image}/image",
        "/stream/{file_id}/raw": f"/stream/{image}/raw",
        "/signed/{key}": signed_local,
    }
    calls: list[tuple[str, str, str, dict[str, str]]] = []
    for path, url in ranged.items():
        for method in ("get", "head"):
            calls.append((path, method, url, {**read, "Range": "bytes=0-9"}))  # 206
            calls.append((path, method, url, {**read, "Range": "bytes=900000000-"}))  # 416
    for method in ("get", "head"):
        calls.append(("/usage", method, "/usage", {}))  # 401 unauthorized
        calls.append(("/files/{file_id}", method, f"/files/{image}", bearer("md_nope")))
        calls.append(("/stream/{file_id}/video", method, f"/stream/{video}/video", {}))
    calls.append(("/files/{file_id}", "put", f"/files/{image}", read))  # 405
    calls.append(("/events", "head", "/events", read))  # 405: no HEAD on the event stream

    missing: list[str] = []
    statuses: list[tuple[str, str, int]] = []
    for path, method, url, headers in calls:
        reply = http_call(server.url + url, method.upper(), headers=headers)
        statuses.append((method, path, reply.status))
        missing += _undeclared(spec, path, method, reply)

    # 503 server_busy: the one body thread holds a stalled PUT
    data = media_dir.jpeg.read_bytes()
    first, second = (_presign(server.url, tokens.upload, f"b{i}.jpg") for i in range(2))
    stalled = put_stalled(first["upload_url"], data)
    try:
        wait_bodies_held(1)
        busy = http_call(second["upload_url"], "PUT", data, {"Content-Type": "image/jpeg"})
        assert busy.status == 503 and busy.json()["error"]["code"] == "server_busy", busy.body
        missing += _undeclared(spec, "/signed/{key}", "put", busy)
    finally:
        stalled.close()

    assert sorted({s for _, _, s in statuses}) == [206, 401, 405, 416], statuses
    assert missing == [], "\n".join(missing)


def test_head_is_documented_where_get_answers_it(served: Any) -> None:
    """HEAD of a GET route has the GET's parameters and answer headers, and no bodies; the
    event stream, which refuses HEAD, has none."""
    server, spec, tokens, files = served
    heads = 0
    for path, ops in spec["paths"].items():
        get = ops.get("get")
        if get is None:
            continue
        if path == "/events":
            assert "head" not in ops
            continue
        head = ops.get("head")
        assert head is not None, f"HEAD {path} is answered but not documented"
        heads += 1
        assert head.get("parameters") == get.get("parameters"), path
        assert head["operationId"] == f"head_{get['operationId']}", path
        assert set(head["responses"]) == set(get["responses"]), path
        for status, answer in head["responses"].items():
            assert "content" not in answer, (path, status)
            assert answer.get("headers") == get["responses"][status].get("headers"), path
    assert heads > 20
    reply = http_call(
        f"{server.url}/stream/{files['image']}/raw", "HEAD", headers=bearer(tokens.read)
    )
    assert reply.status == 200 and reply.body == b""
    assert int(reply.headers["Content-Length"]) > 0 and reply.headers["Accept-Ranges"] == "bytes"
