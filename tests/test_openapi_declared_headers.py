"""Real answers against the served document: the headers and the URL forms it declares.

Every GET operation (and its HEAD) is asked for real, the byte routes also for a range, a
revalidation, a failed precondition and an unsatisfiable range: every header an answer carries
(but the framing and security headers every answer has) is declared for its operation and
status. ETag, Last-Modified, Cache-Control and Content-Disposition were sent on the streams,
thumbnails, HLS segments, the sprite and /download without being declared, so a generated
client could not read them and the README's "CORS exposes every header the spec documents" left
them out. And every URL in an answer is of the form the document says: `uri` absolute,
`uri-reference` origin-relative (File.urls and /stream/{id}/info's links, which clients must
resolve against the server's URL; Node's fetch() refuses them as they are).

A real worker encodes one short clip (one 120p rung) before the server starts; real HTTP over
loopback.
"""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from core.library import Library
from server.entry import EmbeddedServer
from tests import media
from tests.conftest import make_settings
from tests.server_fixtures import Reply, Tokens, bearer, http_call, make_tokens, server_config
from tests.video_helpers import process_all

pytestmark = pytest.mark.timeout(180)

S = dict[str, Any]
# What every answer carries whatever its route (aiohttp, server/app.py's middlewares, CORS)
EVERY_ANSWER = {
    "content-type",
    "content-length",
    "date",
    "server",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "x-request-id",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "content-security-policy",
    "cross-origin-resource-policy",
    "vary",
}


@dataclass
class Site:
    server: EmbeddedServer
    tokens: Tokens
    spec: S
    clip: int  # a private video, processed
    photo: int  # a public photo

    def get(self, url: str, method: str = "GET", token: str | None = None, **headers: str) -> Reply:
        sent = {k.replace("_", "-"): v for k, v in headers.items()}
        if token is not None:
            sent.update(bearer(token))
        return http_call(self.server.url + url, method, headers=sent)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, media_dir: Any) -> Iterator[Site]:
    data = tmp_path_factory.mktemp("declared")
    lib = Library.open(make_settings(data, hls_ladder="120", workers=0))
    clip = lib.uploads.ingest(media.make_avi(data / "clip.avi", seconds=1), "video").id
    photo = lib.uploads.ingest(media_dir.jpeg, "image", is_public=True).id
    process_all(lib)
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        spec = http_call(f"{server.url}/openapi.json").json()
        yield Site(server, make_tokens(lib), spec, clip, photo)
    finally:
        server.stop()
        lib.close()


def _declared(spec: S, path: str, method: str, status: int) -> set[str] | None:
    """The headers the document declares for that answer; None: the status is not documented."""
    if status == 405:
        answer = spec["components"]["responses"]["MethodNotAllowed"]
    else:
        answer = spec["paths"][path][method]["responses"].get(str(status))
        if answer is None:
            return None
    return {name.lower() for name in answer.get("headers", {})}


def _undeclared(spec: S, path: str, method: str, asked: str, reply: Reply) -> list[str]:
    """What `reply` to `method` `asked` of the documented `path` has that the document does not
    say: its status, else each header beyond those of every answer."""
    declared = _declared(spec, path, method.lower(), reply.status)
    said = f"{method} {asked} -> {reply.status}"
    if declared is None:
        return [f"{said}: status not documented"]
    sent = {h.lower() for h in reply.headers} - EVERY_ANSWER
    return [f"{said}: {h}" for h in sorted(sent - declared)]


def _urls(site: Site) -> list[tuple[str, str]]:
    """(documented path, URL) of every GET operation, with real ids and keys."""
    admin = site.tokens.admin
    video, photo = site.clip, site.photo
    playlist = site.get(f"/stream/{video}/hls/120/index.m3u8", token=admin).body.decode()
    segment = next(line for line in playlist.splitlines() if line and not line.startswith("#"))
    signed = urlsplit(site.get(f"/files/{photo}/presigned-url", token=admin).json()["url"])
    job = site.get(f"/jobs?file_id={video}", token=admin).json()["items"][0]["id"]
    out: list[tuple[str, str]] = []
    for path, ops in site.spec["paths"].items():
        if "get" not in ops or path == "/events":  # an endless stream
            continue
        ids = [photo] if "/image" in path else [video, photo]
        if re.search(r"/(video|hls|thumbnails)/|^/watch/", path):
            ids = [video]
        for fid in ids:
            url = path.replace("{file_id}", str(fid)).replace("{job_id}", str(job))
            url = url.replace("{rung}", "120").replace("{segment}", segment.split("?")[0])
            if path == "/signed/{key}":
                url = f"{signed.path}?{signed.query}"
            out.append((path, url))
    out.append(("/files/{file_id}/thumbnail", f"/files/{video}/thumbnail?w=1280"))
    out.append(("/stream/{file_id}/image", f"/stream/{photo}/image?w=200"))
    out.append(("/stream/{file_id}/video", f"/stream/{video}/video?rendition=original"))
    return out


def test_every_header_of_a_real_answer_is_declared(site: Site) -> None:
    admin = site.tokens.admin
    missing: list[str] = []
    ranged_seen: set[int] = set()
    for path, url in _urls(site):
        operation = site.spec["paths"][path]["get"]
        asks: list[dict[str, str]] = [{}]
        if "206" in operation["responses"]:  # served by server.streaming.stream_object
            etag = site.get(url, token=admin).headers.get("ETag", "")
            asks += [
                {"Range": "bytes=0-9"},
                {"If-None-Match": etag},
                {"If-Match": '"not-this"'},
                {"Range": "bytes=900000000-"},
            ]
        for method in ("GET", "HEAD"):
            for token in (admin, None):
                for headers in asks:
                    reply = site.get(url, method, token, **headers)
                    if "206" in operation["responses"]:
                        ranged_seen.add(reply.status)
                    missing += _undeclared(site.spec, path, method, f"{url} {headers}", reply)
    assert {200, 206, 304, 412, 416} <= ranged_seen, ranged_seen
    assert missing == [], "\n".join(missing)


def _absolute(value: object) -> bool:
    if not isinstance(value, str):
        return True  # a format says nothing of other types (null)
    parts = urlsplit(value)
    return bool(parts.scheme in ("http", "https") and parts.netloc)


def _origin_relative(value: object) -> bool:
    if not isinstance(value, str):
        return True
    return value.startswith("/") and not value.startswith("//")


def _form_checker() -> FormatChecker:
    """`uri`: absolute (scheme and host); `uri-reference`: origin-relative (the document's
    word for this server's own links)."""
    checker = FormatChecker(formats=())
    checker.checks("uri")(_absolute)
    checker.checks("uri-reference")(_origin_relative)
    return checker


def _url_fields(node: Any, where: str = "#") -> list[str]:
    """Every string property of a component schema that holds a URL (by its name) without a
    `format` saying which form."""
    out: list[str] = []
    if isinstance(node, dict):
        for name, prop in node.get("properties", {}).items():
            kinds = prop.get("type") if isinstance(prop, dict) else None
            kinds = kinds if isinstance(kinds, list) else [kinds]
            is_url = name.endswith("url") or name in ("location", "self", "stream", "raw")
            if is_url and "string" in kinds and "format" not in prop:
                out.append(f"{where}/{name}")
        for key, value in node.items():
            out += _url_fields(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _url_fields(value, f"{where}/{i}")
    return out


def test_every_url_says_whether_it_is_relative_and_is_so(site: Site) -> None:
    spec = site.spec
    assert _url_fields(spec["components"]["schemas"]) == []
    urls = spec["components"]["schemas"]["File"]["properties"]["urls"]
    assert urls["additionalProperties"]["format"] == "uri-reference"
    assert "relative to the server's origin" in urls["description"]

    admin, checker = site.tokens.admin, _form_checker()
    body = json.dumps(
        {"original_filename": "next.jpg", "file_type": "image", "content_type": "image/jpeg"}
    ).encode()
    presigned = http_call(
        f"{site.server.url}/files/upload/presigned",
        "POST",
        body,
        {**bearer(admin), "Content-Type": "application/json"},
    )
    answers = [
        ("/files/upload/presigned", "post", "201", presigned),
        ("/files/{file_id}", "get", "200", site.get(f"/files/{site.clip}", token=admin)),
        ("/files/{file_id}", "get", "200", site.get(f"/files/{site.photo}", token=admin)),
        (
            "/stream/{file_id}/info",
            "get",
            "200",
            site.get(f"/stream/{site.clip}/info", token=admin),
        ),
        ("/stream/{file_id}/info", "get", "200", site.get(f"/stream/{site.photo}/info")),
    ]
    for kind in ("download", "watch"):
        reply = site.get(f"/files/{site.clip}/presigned-url?kind={kind}", token=admin)
        answers.append(("/files/{file_id}/presigned-url", "get", "200", reply))
    info = answers[3][3].json()
    assert info["hls_url"] and info["watch_url"] and info["renditions"], info
    for path, method, status, reply in answers:
        assert str(reply.status) == status, (path, reply.status, reply.body)
        content = spec["paths"][path][method]["responses"][status]["content"]
        schema = {**content["application/json"]["schema"], "components": spec["components"]}
        validator = Draft202012Validator(schema, format_checker=checker)
        errors = [f"{e.json_path}: {e.message}" for e in validator.iter_errors(reply.json())]
        assert errors == [], (path, errors)


def test_every_header_of_a_tus_answer_is_declared(site: Site) -> None:
    """The tus routes' answers, their errors too: every error carries Tus-Resumable and
    Cache-Control (server/routes/tus.py with_error_headers), a 412 also Tus-Version, a
    termination's 204 Tus-Resumable; none was declared, so a generated client could not read
    them (schemathesis' header check reported them)."""
    url = site.server.url
    tus, upload, read = "/files/upload/tus", site.tokens.upload, site.tokens.read
    body = b"\xff\xd8 not a whole JPEG"
    meta = "filename YS5qcGc=,file_type aW1hZ2U="

    def ask(method: str, target: str, token: str | None, **headers: str) -> Reply:
        sent = {k.replace("_", "-"): v for k, v in headers.items()}
        if token is not None:
            sent.update(bearer(token))
        data = sent.pop("body", None)
        return http_call(url + target, method, data.encode("latin-1") if data else None, sent)

    v = {"Tus_Resumable": "1.0.0"}
    made = ask("POST", tus, upload, **v, Upload_Length=str(len(body)), Upload_Metadata=meta)
    assert made.status == 201, made.body
    one = made.headers["Location"]
    octets = {**v, "Content_Type": "application/offset+octet-stream"}
    wrong = "sha1 " + "A" * 27 + "="  # a SHA-1 of no chunk
    asks: list[tuple[str, str, str | None, dict[str, str]]] = [
        ("POST", tus, upload, {"Upload_Length": "5"}),  # no Tus-Resumable: 412
        ("POST", tus, upload, {**v, "Upload_Length": "-5"}),
        ("POST", tus, "mdk_not-a-token", {**v, "Upload_Length": "5"}),
        ("POST", tus, read, {**v, "Upload_Length": "5"}),
        ("HEAD", one, upload, v),
        ("HEAD", one, upload, {}),
        ("HEAD", f"{tus}/{'0' * 32}", upload, v),
        ("PATCH", one, upload, {**octets, "Upload_Offset": "3", "body": "x"}),
        ("PATCH", one, upload, {**v, "Upload_Offset": "0", "Content_Type": "text/plain"}),
        (
            "PATCH",
            one,
            upload,
            {**octets, "Upload_Offset": "0", "Upload_Checksum": wrong, "body": "x"},
        ),
        ("PATCH", one, read, {**octets, "Upload_Offset": "0", "body": "x"}),
        ("DELETE", one, upload, {}),
        ("DELETE", one, upload, v),
        ("DELETE", one, upload, v),
    ]
    missing: list[str] = []
    seen: set[int] = set()
    for method, target, token, headers in asks:
        reply = ask(method, target, token, **headers)
        seen.add(reply.status)
        path = tus if target == tus else f"{tus}/{{upload_id}}"
        missing += _undeclared(site.spec, path, method, f"{target} {headers}", reply)
    assert {204, 400, 401, 403, 404, 409, 412, 415, 460} <= seen, seen
    assert missing == [], "\n".join(missing)


def test_every_header_of_the_event_stream_is_declared(site: Site) -> None:
    """/events, left out above as an endless stream: its headers are read and the stream
    closed. X-Accel-Buffering (no: nginx passes each event at once) was sent undeclared."""
    parts = urlsplit(site.server.url)
    conn = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        conn.request("GET", "/events", headers=bearer(site.tokens.read))
        reply = conn.getresponse()  # the headers only: the body never ends
        status, sent = reply.status, {h.lower() for h, _ in reply.getheaders()}
    finally:
        conn.close()
    assert status == 200
    declared = _declared(site.spec, "/events", "get", 200)
    assert declared is not None and sent - EVERY_ANSWER - declared == set()
