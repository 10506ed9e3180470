"""Regressions from fuzzing the HTTP contract (schemathesis against /openapi.json).

Every case here was a 500, an undocumented status or a silently lost audit entry; each must be
the seed's 4xx with the JSON error body `{"error": {"code", "message"}}`.
"""

from __future__ import annotations

import http.client
import json
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.records import MAX_ID, SORTS
from server.entry import EmbeddedServer
from tests.server_fixtures import Reply, Tokens, bearer, http_call, multipart_body

pytestmark = pytest.mark.timeout(60)

HUGE = 2**70  # past every integer column and SQLite's 64-bit binding


async def error_of(resp: aiohttp.ClientResponse, status: int, code: str = "invalid_input") -> str:
    """Asserts the status and error code of a JSON error; returns the message."""
    text = await resp.text()
    assert resp.status == status, text
    assert resp.content_type == "application/json", text
    body = json.loads(text)
    assert body["error"]["code"] == code, text
    assert body["error"]["message"], text
    return str(body["error"]["message"])


async def upload(api: Any, path: Path, token: str, **fields: str) -> dict[str, Any]:
    form = aiohttp.FormData()
    form.add_field("file", path.read_bytes(), filename=path.name)
    form.add_field("file_type", fields.pop("file_type", "image"))
    for name, value in fields.items():
        form.add_field(name, value)
    resp = await api.post("/files/upload/direct", data=form, headers=bearer(token))
    assert resp.status == 201, await resp.text()
    return dict(await resp.json())


# ---- malformed request bodies ------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/files/upload/presigned"),
        ("POST", "/files/upload/direct"),
        ("POST", "/athletes"),
        ("PATCH", "/athletes/1"),
    ],
)
async def test_multipart_without_boundary_is_400(
    api: Any, tokens: Tokens, method: str, path: str
) -> None:
    """Was 500: aiohttp's ValueError("boundary missed") escaped the handlers."""
    resp = await api.request(
        method,
        path,
        data=b"--x\r\n",
        headers={**bearer(tokens.upload), "Content-Type": "multipart/form-data"},
    )
    assert "malformed" in await error_of(resp, 400)


@pytest.mark.parametrize("path", ["/files/upload/presigned", "/files/upload/direct", "/athletes"])
async def test_multipart_part_with_control_characters_in_its_header_is_400(
    api: Any, tokens: Tokens, path: str
) -> None:
    """Was 500: aiohttp's InvalidHeader (a control character in a part's name) escaped."""
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="a\x14b"\r\n\r\nv\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="name"\r\n\r\nAna\r\n--XX--\r\n'
    )
    resp = await api.post(
        path,
        data=body,
        headers={**bearer(tokens.upload), "Content-Type": "multipart/form-data; boundary=XX"},
    )
    assert "invalid header" in await error_of(resp, 400)


async def test_form_fields_not_in_their_charset_are_400(api: Any, tokens: Tokens) -> None:
    """Was 500: UnicodeDecodeError from aiohttp's urlencoded parser."""
    resp = await api.post(
        "/athletes",
        data=b"name=J\xed\xa0\x80",
        headers={**bearer(tokens.upload), "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "charset" in await error_of(resp, 400)


async def test_deeply_nested_json_is_400(api: Any, tokens: Tokens) -> None:
    """Was 500: RecursionError from json.loads."""
    deep = b"[" * 200_000 + b"]" * 200_000
    for method, path in (("PATCH", "/files/1"), ("POST", "/athletes")):
        resp = await api.request(
            method,
            path,
            data=deep,
            headers={**bearer(tokens.upload), "Content-Type": "application/json"},
        )
        assert "nested" in await error_of(resp, 400)


async def test_json_body_over_one_mebibyte_is_413_like_a_chunked_one(
    api: Any, tokens: Tokens
) -> None:
    """Was 400 with a Content-Length and 413 without; both are 413 too_large now."""
    big = json.dumps({"description": "x" * (1024 * 1024 + 10)}).encode()
    resp = await api.patch(
        "/files/1", data=big, headers={**bearer(tokens.upload), "Content-Type": "application/json"}
    )
    await error_of(resp, 413, "too_large")


# ---- out-of-range and empty ids ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", f"/files/{HUGE}/restore"),
        ("GET", f"/files/{MAX_ID + 1}"),
        ("GET", f"/stream/{HUGE}/video"),
        ("GET", f"/audit?file_id={HUGE}"),
        ("GET", f"/files/?offset={HUGE}"),
        ("GET", f"/files/?athlete_id={MAX_ID + 1}"),
        ("GET", "/stream/%1C/video"),  # a control character that str.strip() removes
        ("GET", "/files/%20"),
    ],
)
async def test_ids_out_of_range_or_blank_are_400(
    api: Any, tokens: Tokens, method: str, path: str
) -> None:
    """Were 500: OverflowError binding to SQLite, and an assert on a blank path id."""
    resp = await api.request(method, path, headers=bearer(tokens.admin))
    await error_of(resp, 400)


async def test_athlete_ids_out_of_range_are_400(api: Any, tokens: Tokens) -> None:
    """Were 500: OverflowError creating or renaming athlete 2**70."""
    auth = bearer(tokens.upload)
    await error_of(await api.post("/athletes", json={"name": "A", "id": HUGE}, headers=auth), 400)
    await error_of(await api.patch(f"/athletes/{HUGE}", json={"name": "B"}, headers=auth), 400)
    created = await api.post("/athletes", json={"name": "C", "id": MAX_ID}, headers=auth)
    assert created.status == 201 and (await created.json())["id"] == MAX_ID


# ---- JSON values of the wrong type ------------------------------------------------------------
@pytest.mark.parametrize(
    "change",
    [
        {"original_filename": ["a.jpg"]},
        {"original_filename": 5},
        {"athlete_id": True},
        {"athlete_id": 2.5},
        {"athlete_id": HUGE},
        {"athlete_id": [1]},
        {"athlete_id": 0},
        # JSON text is no integer: int() read "1_1" as 11 and took "+10", " 8 ", Arabic-Indic
        # digits; "" meant no athlete
        {"athlete_id": "1_1"},
        {"athlete_id": "\u0669"},
        {"athlete_id": "+10"},
        {"athlete_id": " 8 "},
        {"athlete_id": "7"},
        {"athlete_id": ""},
    ],
)
async def test_patch_with_wrong_json_types_is_400(
    api: Any, tokens: Tokens, media_dir: Any, change: dict[str, Any]
) -> None:
    """Was 500 (TypeError in clean_filename, OverflowError); true and 2.5 were taken as 1 and 2."""
    fid = (await upload(api, media_dir.png, tokens.upload))["id"]
    resp = await api.patch(f"/files/{fid}", json=change, headers=bearer(tokens.upload))
    assert next(iter(change)) in await error_of(resp, 400)  # the message names the field
    after = await (await api.get(f"/files/{fid}", headers=bearer(tokens.read))).json()
    assert after["version"] == 1 and after["athlete_id"] is None


@pytest.mark.parametrize(
    "fields",
    [
        {"original_filename": "a.jpg", "file_type": "image", "content_type": [None, None]},
        {"original_filename": ["a.jpg"], "file_type": "image"},
        {"original_filename": "a.jpg", "file_type": {"kind": "image"}},
    ],
)
async def test_presigned_json_fields_that_are_not_text_are_400(
    api: Any, tokens: Tokens, fields: dict[str, Any]
) -> None:
    """Was 500: AttributeError on a list content_type (others were str()-ed into names)."""
    resp = await api.post("/files/upload/presigned", json=fields, headers=bearer(tokens.upload))
    await error_of(resp, 400)


def test_json_integers_written_as_1_0_or_1e3_are_integers(
    live: EmbeddedServer, tokens: Tokens
) -> None:
    """The document declares `integer`, which in JSON Schema admits 7.0 and 8e3 (a client's
    float serialiser writes them); they were 400 "must be a whole number, not 7.0" (found by
    schemathesis). A fraction is still a 400."""
    admin, upload = bearer(tokens.admin), bearer(tokens.upload)
    athlete = http_call(
        f"{live.url}/athletes",
        "POST",
        b'{"name": "Eva", "id": 7.0}',
        {**admin, "Content-Type": "application/json"},
    )
    assert athlete.status == 201, athlete.body
    assert athlete.json()["id"] == 7
    body = b'{"original_filename": "a.jpg", "file_type": "image", "size": 8e3, "athlete_id": 7.0}'
    presigned = http_call(
        f"{live.url}/files/upload/presigned",
        "POST",
        body,
        {**upload, "Content-Type": "application/json"},
    )
    assert presigned.status == 201, presigned.body
    assert presigned.json()["file"]["athlete_id"] == 7
    assert "len=8000&" in presigned.json()["upload_url"] + "&"  # the PUT must send 8000 bytes
    fraction = b'{"original_filename": "a.jpg", "file_type": "image", "size": 80.5}'
    refused = http_call(
        f"{live.url}/files/upload/presigned",
        "POST",
        fraction,
        {**upload, "Content-Type": "application/json"},
    )
    assert refused.status == 400 and refused.json()["error"]["code"] == "invalid_input"


# ---- null where the document declares none --------------------------------------------------
def send_json(live: EmbeddedServer, token: str, method: str, path: str, body: object) -> Reply:
    headers = {**bearer(token), "Content-Type": "application/json"}
    return http_call(f"{live.url}{path}", method, json.dumps(body).encode(), headers)


def refused_null(reply: Reply, field: str) -> None:
    """A 400 invalid_input whose message names the field."""
    assert reply.status == 400, (field, reply.body)
    error = reply.json()["error"]
    assert error["code"] == "invalid_input" and repr(field) in error["message"], (field, error)


def upload_png(live: EmbeddedServer, token: str, png: Path) -> int:
    body, ctype = multipart_body({"file_type": "image"}, {"file": (png.name, png.read_bytes(), "")})
    reply = http_call(
        f"{live.url}/files/upload/direct", "POST", body, {**bearer(token), "Content-Type": ctype}
    )
    assert reply.status == 201, reply.body
    return int(reply.json()["id"])


def test_a_null_the_document_does_not_declare_is_400_naming_the_field(
    live: EmbeddedServer, tokens: Tokens, media_dir: Any
) -> None:
    """schemathesis sent null where /openapi.json says integer (or string, boolean, array), and
    the server read it as the field left out: a 201 or 200 the document does not allow. Every
    field of the JSON request bodies is tried with null: where the schema has no "null" it is
    a 400 that names the field; where it has (FileUpdate's athlete_id: no athlete, description:
    none) the edit is made."""
    spec = http_call(f"{live.url}/openapi.json").json()
    schemas = spec["components"]["schemas"]
    fid = upload_png(live, tokens.upload, media_dir.png)
    athlete = send_json(live, tokens.upload, "POST", "/athletes", {"name": "Ana", "id": 3})
    assert athlete.status == 201, athlete.body
    presign = {"original_filename": "a.jpg", "file_type": "image"}
    bodies = [  # a valid body of each operation, the field set to null beside it
        ("POST", "/files/upload/presigned", presign),
        ("PATCH", "/files/{file_id}", {"description": "x"}),
        ("POST", "/athletes", {"name": "Eva"}),
        ("PATCH", "/athletes/{athlete_id}", {"name": "Eva"}),
        ("POST", "/files/{file_id}/confirm-upload", {}),
        ("POST", "/files/{file_id}/upload/renew", {}),
    ]
    tried = set()
    for method, template, base in bodies:
        path = template.format(file_id=fid, athlete_id=3)
        content = spec["paths"][template][method.lower()]["requestBody"]["content"]
        name = content["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for field, schema in schemas[name]["properties"].items():
            if "null" in schema.get("type", []):
                continue
            tried.add((name, field))
            refused_null(send_json(live, tokens.upload, method, path, {**base, field: None}), field)
    assert {("FileUpdate", "version"), ("AthleteForm", "id"), ("ConfirmParts", "parts")} <= tried
    assert ("RenewRequest", "part_numbers") in tried and ("PresignedUploadForm", "size") in tried
    after = http_call(f"{live.url}/files/{fid}", headers=bearer(tokens.read)).json()
    assert (after["version"], after["description"]) == (1, ""), after  # no edit went through
    listed = http_call(f"{live.url}/athletes", headers=bearer(tokens.read)).json()
    assert [(a["id"], a["name"]) for a in listed["items"]] == [(3, "Ana")], listed
    pending = http_call(f"{live.url}/files/?status=pending", headers=bearer(tokens.read)).json()
    assert pending["total"] == 0, pending  # no presign went through either
    update = schemas["FileUpdate"]["properties"]
    assert "null" in update["athlete_id"]["type"] and "null" in update["description"]["type"]
    moved = send_json(
        live, tokens.upload, "PATCH", f"/files/{fid}", {"athlete_id": None, "description": None}
    )
    assert moved.status == 200, moved.body
    assert (moved.json()["athlete_id"], moved.json()["description"]) == (None, "")


def test_a_null_version_is_no_edit_without_its_check(
    live: EmbeddedServer, tokens: Tokens, media_dir: Any
) -> None:
    """{"version": null} with If-Match: the null was dropped and the header's stale version
    answered 412, as if the body had named none; without If-Match the edit went through
    unchecked. Now both are the same 400 as any other version that is not a whole number."""
    fid = upload_png(live, tokens.upload, media_dir.png)
    path = f"/files/{fid}"
    refused_null(
        send_json(live, tokens.upload, "PATCH", path, {"is_public": True, "version": None}),
        "version",
    )
    headers = {**bearer(tokens.upload), "Content-Type": "application/json", "If-Match": '"1"'}
    body = json.dumps({"is_public": True, "version": None}).encode()
    refused_null(http_call(f"{live.url}{path}", "PATCH", body, headers), "version")
    after = http_call(f"{live.url}{path}", headers=bearer(tokens.read)).json()
    assert (after["version"], after["is_public"]) == (1, False), after


def test_confirm_with_null_parts_keeps_the_upload_to_confirm(
    live: EmbeddedServer, tokens: Tokens, media_dir: Any
) -> None:
    """{"parts": null} confirmed as if no parts were named; null inside a part was already a
    400. None of them consumes the upload: a confirm without a body then stores the file."""
    data = media_dir.png.read_bytes()
    fields = {"original_filename": "a.png", "file_type": "image", "size": len(data)}
    grant = send_json(live, tokens.upload, "POST", "/files/upload/presigned", fields)
    assert grant.status == 201, grant.body
    plan = grant.json()
    put = http_call(plan["upload_url"], "PUT", data, dict(plan["headers"]))
    assert put.status == 200, put.body
    confirm = f"/files/{plan['file_id']}/confirm-upload"
    refused_null(send_json(live, tokens.upload, "POST", confirm, {"parts": None}), "parts")
    for part in ({"part_number": None, "etag": '"e"'}, {"part_number": 1, "etag": None}):
        reply = send_json(live, tokens.upload, "POST", confirm, {"parts": [part]})
        assert reply.status == 400 and reply.json()["error"]["code"] == "invalid_input", part
    renew = f"/files/{plan['file_id']}/upload/renew"
    refused_null(
        send_json(live, tokens.upload, "POST", renew, {"part_numbers": None}), "part_numbers"
    )
    stored = http_call(f"{live.url}{confirm}", "POST", b"", bearer(tokens.upload))
    assert stored.status == 200 and stored.json()["status"] == "ready", stored.body


# ---- text the catalog cannot store ------------------------------------------------------------
async def test_nul_and_unpaired_surrogates_are_400(api: Any, tokens: Tokens) -> None:
    """Were 500: NUL on PostgreSQL (DataError), a JSON "\\ud800" on every backend."""
    auth = bearer(tokens.upload)
    for raw in (
        b'{"name": "a\\u0000b"}',
        b'{"name": "a\\ud800b"}',
        b'{"a\\u0000": 1, "name": "x"}',
    ):
        resp = await api.post(
            "/athletes", data=raw, headers={**auth, "Content-Type": "application/json"}
        )
        await error_of(resp, 400)
    form = await api.post(
        "/athletes",
        data=b"name=a%00b",
        headers={**auth, "Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "NUL" in await error_of(form, 400)
    body, ctype = multipart_body({"name": "a\x00b"})
    multipart = await api.post("/athletes", data=body, headers={**auth, "Content-Type": ctype})
    assert "NUL" in await error_of(multipart, 400)
    for query in ("/files/?q=a%00b", "/audit?actor=%00"):
        assert "NUL" in await error_of(await api.get(query, headers=bearer(tokens.admin)), 400)
    athletes = await (await api.get("/athletes", headers=auth)).json()
    assert athletes["total"] == 0


async def test_upload_filename_that_is_not_utf8_is_stored_readably(
    api: Any, tokens: Tokens, media_dir: Any
) -> None:
    """Was 500: the part header's bytes arrive as surrogate escapes, which SQLite cannot bind.
    Then stored as U+FFFD; now read as the cp1252/Latin-1 an old client wrote (saltoñÿ)."""
    body = (
        b'--XX\r\nContent-Disposition: form-data; name="file_type"\r\n\r\nimage\r\n'
        b'--XX\r\nContent-Disposition: form-data; name="file"; filename="salto\xf1\xff.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + media_dir.png.read_bytes() + b"\r\n--XX--\r\n"
    )
    resp = await api.post(
        "/files/upload/direct",
        data=body,
        headers={**bearer(tokens.upload), "Content-Type": "multipart/form-data; boundary=XX"},
    )
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["original_filename"] == "salto\u00f1\u00ff.png"


def test_undecodable_range_header_loses_no_audit_entries(
    live: EmbeddedServer, tokens: Tokens, media_dir: Any
) -> None:
    """Was: one entry whose Range detail held surrogate escapes failed the whole batch, so a
    read token could erase the audit of its own (and others') accesses to private files."""
    record = live.library.uploads.ingest(media_dir.png, "image", is_public=False)
    port = live.port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest("GET", f"/stream/{record.id}/image")
        conn.putheader("Authorization", f"Bearer {tokens.read}")
        conn.putheader("Range", b"bytes=0-9\xff\xfe")  # raw bytes: not UTF-8, not a valid range
        conn.endheaders()
        assert conn.getresponse().status in (200, 206)
    finally:
        conn.close()
    meta = http_call(f"{live.url}/files/{record.id}", headers=bearer(tokens.read))
    assert meta.status == 200
    audit = http_call(f"{live.url}/audit?file_id={record.id}", headers=bearer(tokens.admin))
    items = audit.json()["items"]
    assert {i["action"] for i in items} == {"stream_image", "metadata"}, items
    detail = next(i["detail"] for i in items if i["action"] == "stream_image")
    assert detail.startswith("bytes=0-9") and "\ufffd" in detail


# ---- conditional edits -----------------------------------------------------------------------
async def test_if_match_star_weak_validators_and_a_failed_precondition(
    api: Any, tokens: Tokens, media_dir: Any
) -> None:
    """`If-Match: *` was a 400 ("version must be a whole number"); RFC 9110 allows it. A weak
    tag never matches: If-Match compares strongly (RFC 9110 13.1.1)."""
    fid = (await upload(api, media_dir.png, tokens.upload))["id"]
    auth = bearer(tokens.upload)
    star = await api.patch(
        f"/files/{fid}", json={"description": "a"}, headers={**auth, "If-Match": "*"}
    )
    assert star.status == 200 and (await star.json())["version"] == 2
    weak = await api.patch(
        f"/files/{fid}", json={"description": "b"}, headers={**auth, "If-Match": 'W/"2"'}
    )
    await error_of(weak, 412, "precondition_failed")
    strong = await api.patch(
        f"/files/{fid}", json={"description": "b"}, headers={**auth, "If-Match": '"2"'}
    )
    assert strong.status == 200 and (await strong.json())["version"] == 3
    stale = await api.patch(
        f"/files/{fid}", json={"description": "c"}, headers={**auth, "If-Match": '"2"'}
    )
    # RFC 9110 13.1.1: an If-Match that does not hold is 412, with what a 409 carried
    await error_of(stale, 412, "precondition_failed")
    error = (await stale.json())["error"]
    assert (error["reason"], error["details"]) == ("stale_version", {"version": 3}), error
    in_body = await api.patch(
        f"/files/{fid}", json={"description": "c", "version": 2}, headers=auth
    )
    await error_of(in_body, 409, "conflict")  # a version in the body is no precondition
    assert (await api.get(f"/files/{fid}", headers=auth)).status == 200
    bad = await api.patch(
        f"/files/{fid}", json={"description": "d"}, headers={**auth, "If-Match": "("}
    )
    await error_of(bad, 400)


# ---- metrics -------------------------------------------------------------------------------
async def test_client_chosen_values_do_not_become_metric_labels(api: Any, tokens: Tokens) -> None:
    """A made-up file_type or method was a new Prometheus series per request."""
    made_up = f"kind-{uuid.uuid4().hex}"
    resp = await api.post(
        "/files/upload/presigned",
        json={"original_filename": "a.jpg", "file_type": made_up},
        headers=bearer(tokens.upload),
    )
    await error_of(resp, 400)
    propfind = await api.request("PROPFIND", "/files/", headers=bearer(tokens.read))
    assert propfind.status == 405
    text = await (await api.get("/metrics", headers=bearer(tokens.read))).text()
    assert made_up not in text and "PROPFIND" not in text
    assert 'file_type="unknown",flow="presigned",outcome="rejected"' in text
    assert 'method="other"' in text


# ---- the document matches the server --------------------------------------------------------
async def test_spec_states_the_bounds_the_server_enforces(api: Any) -> None:
    spec = await (await api.get("/openapi.json")).json()
    paths = spec["paths"]

    def params(path: str, method: str = "get") -> dict[str, Any]:
        return {p["name"]: p["schema"] for p in paths[path][method].get("parameters", [])}

    assert params("/files/{file_id}")["file_id"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": MAX_ID,
    }
    assert params("/athletes/{athlete_id}", "patch")["athlete_id"]["maximum"] == MAX_ID
    assert set(params("/files/")["sort"]["enum"]) == SORTS
    assert params("/files/{file_id}/download")["expires_in"]["maximum"] == 7 * 24 * 3600
    update = spec["components"]["schemas"]["FileUpdate"]
    # minProperties, not anyOf-of-required: generators make anyOf bodies untyped
    assert update["additionalProperties"] is False and update["minProperties"] == 1
    for path, method, status in [
        ("/signed/{key}", "put", "404"),  # the S3 backend has no server-side signed URLs
        ("/files/{file_id}", "patch", "413"),
        ("/athletes", "post", "413"),
        ("/health", "get", "401"),  # PUBLIC routes still refuse a bad token
        ("/events", "get", "400"),  # a bad Last-Event-ID
    ]:
        assert status in paths[path][method]["responses"], (path, method, status)


def test_signed_put_on_the_s3_backend_is_a_documented_404(s3_live: EmbeddedServer) -> None:
    reply = http_call(f"{s3_live.url}/signed/general/x.jpg?expires=1&signature=x", "PUT", body=b"x")
    assert reply.status == 404 and reply.json()["error"]["code"] == "not_found"
