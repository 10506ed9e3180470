"""A file's record carries its version as a strong ETag, which If-Match takes back.

PATCH /files/{id} took If-Match with the JSON `version`, but GET sent no ETag to put in it; a
weak W/"4" matched, though If-Match compares strongly (RFC 9110 13.1.1); a version never handed
out was told the file "has changed since" it; DELETE and restore ignored If-Match, so a client
guarding a trash with it trashed a file someone had just edited. Now GET, PATCH and restore
answer `ETag: "<version>"`, and every route of a file answers 412 precondition_failed (reason
stale_version, details.version) when If-Match does not hold. Real HTTP over loopback.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from server.entry import EmbeddedServer
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, upload_file

pytestmark = pytest.mark.timeout(60)


def _send(
    server: EmbeddedServer, method: str, path: str, token: str, body: Any = None, **headers: str
) -> Reply:
    sent = {**bearer(token), **{k.replace("_", "-"): v for k, v in headers.items()}}
    raw = None
    if body is not None:
        raw, sent["Content-Type"] = json.dumps(body).encode(), "application/json"
    return http_call(server.url + path, method, raw, sent)


def _refused(reply: Reply, version: int) -> str:
    """The 412 of an If-Match that does not hold (PATCH's body): its message."""
    assert reply.status == 412, (reply.status, reply.body)
    error = reply.json()["error"]
    assert (error["code"], error["reason"]) == ("precondition_failed", "stale_version"), error
    assert error["details"] == {"version": version}, error
    return str(error["message"])


def test_get_then_if_match_edits_only_that_version(live: EmbeddedServer, media_dir: Any) -> None:
    tokens = make_tokens(live.library)
    fid = upload_file(live, tokens.upload, media_dir.jpeg)["id"]
    got = _send(live, "GET", f"/files/{fid}", tokens.read)
    version = got.json()["version"]
    assert got.headers["ETag"] == f'"{version}"'

    edited = _send(
        live,
        "PATCH",
        f"/files/{fid}",
        tokens.upload,
        {"description": "a"},
        If_Match=got.headers["ETag"],
    )
    assert edited.status == 200, edited.body
    now = edited.json()["version"]
    assert now == version + 1 and edited.headers["ETag"] == f'"{now}"'
    assert _send(live, "GET", f"/files/{fid}", tokens.read).headers["ETag"] == f'"{now}"'

    stale = _send(
        live, "PATCH", f"/files/{fid}", tokens.upload, {"description": "b"}, If_Match=f'"{version}"'
    )
    assert str(now) in _refused(stale, now)
    future = _send(
        live,
        "PATCH",
        f"/files/{fid}",
        tokens.upload,
        {"description": "c"},
        If_Match=f'"{now + 100}"',
    )
    assert "has changed since" not in _refused(future, now)  # never handed out
    weak = _send(
        live, "PATCH", f"/files/{fid}", tokens.upload, {"description": "d"}, If_Match=f'W/"{now}"'
    )
    assert "weak" in _refused(weak, now)
    assert _send(live, "GET", f"/files/{fid}", tokens.read).json()["description"] == "a"

    # the record shows the athlete's name, which changes without the file's version: the
    # ETag validates no cached copy (If-None-Match gets the record, never a 304)
    cached = _send(live, "GET", f"/files/{fid}", tokens.read, If_None_Match=f'"{now}"')
    assert cached.status == 200 and cached.json()["version"] == now
    assert _refused(_send(live, "GET", f"/files/{fid}", tokens.read, If_Match='"1"'), now)


def test_trash_restore_and_delete_honour_if_match(live: EmbeddedServer, media_dir: Any) -> None:
    tokens = make_tokens(live.library)
    fid = upload_file(live, tokens.upload, media_dir.png)["id"]
    version = _send(live, "GET", f"/files/{fid}", tokens.read).json()["version"]
    path = f"/files/{fid}"

    _refused(_send(live, "DELETE", path, tokens.upload, If_Match=f'"{version + 1}"'), version)
    _refused(_send(live, "DELETE", path, tokens.upload, If_Match=f'W/"{version}"'), version)
    assert _send(live, "GET", path, tokens.read).json()["is_trashed"] is False
    trashed = _send(live, "DELETE", path, tokens.upload, If_Match=f'"{version}"')
    assert trashed.status == 200 and trashed.json()["file"]["is_trashed"] is True
    now = trashed.json()["file"]["version"]

    _refused(_send(live, "POST", f"{path}/restore", tokens.upload, If_Match=f'"{version}"'), now)
    restored = _send(live, "POST", f"{path}/restore", tokens.upload, If_Match=f'"{now}"')
    assert restored.status == 200 and restored.json()["is_trashed"] is False
    assert restored.headers["ETag"] == f'"{restored.json()["version"]}"'

    last = restored.json()["version"]
    hard = f"{path}?hard_delete=true"
    _refused(_send(live, "DELETE", hard, tokens.admin, If_Match=f'"{now}"'), last)
    assert _send(live, "DELETE", hard, tokens.admin, If_Match="*").status == 200
    assert _send(live, "GET", path, tokens.read).status == 404


def test_the_document_says_so(live: EmbeddedServer) -> None:
    spec = http_call(f"{live.url}/openapi.json").json()
    ops = spec["paths"]["/files/{file_id}"]
    ops = {**ops, "restore": spec["paths"]["/files/{file_id}/restore"]["post"]}
    for name in ("get", "patch", "restore"):
        assert "ETag" in ops[name]["responses"]["200"]["headers"], name
    for name in ("get", "patch", "delete", "restore"):
        params = {p["name"]: p for p in ops[name]["parameters"]}
        assert "weak" in params["If-Match"]["description"], name
        assert "stale_version" in ops[name]["responses"]["412"]["description"], name


def test_if_match_takes_a_list_and_compares_strongly(live: EmbeddedServer, media_dir: Any) -> None:
    """RFC 9110 13.1.1: a list of entity-tags matches when one of them does, strongly; a tag
    that is no version's ETag is a 412, not a 400 (an outside regression hunt: '"999", "1"'
    was 400 'version must be a whole number', '"nope"' 400, '"01"' matched version 1)."""
    tokens = make_tokens(live.library)
    fid = upload_file(live, tokens.upload, media_dir.jpeg)["id"]
    tag = _send(live, "GET", f"/files/{fid}", tokens.read).headers["ETag"]
    version = int(tag.strip('"'))
    for other in ('"nope"', f'"0{version}"', f"W/{tag}"):
        got = _send(live, "GET", f"/files/{fid}", tokens.read, If_Match=other)
        _refused(got, version)
        edit = _send(
            live, "PATCH", f"/files/{fid}", tokens.upload, {"description": "x"}, If_Match=other
        )
        _refused(edit, version)
    listed = _send(
        live,
        "PATCH",
        f"/files/{fid}",
        tokens.upload,
        {"description": "y"},
        If_Match=f'"999", {tag}',
    )
    assert listed.status == 200, listed.body
    assert listed.json()["description"] == "y"
    bad = _send(live, "GET", f"/files/{fid}", tokens.read, If_Match='"1" junk')
    assert bad.status == 400, bad.body
