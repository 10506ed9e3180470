"""Real answers against the served OpenAPI document (jsonschema, JSON Schema 2020-12 as OpenAPI
3.1 uses it): both kinds of presigned-url answer match exactly one schema of its oneOf; every
206 lists multipart/byteranges, which several ranges get; a method a path does not list is a
405 whose Allow names the documented methods. Real HTTP over loopback."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import pytest
from jsonschema import Draft202012Validator

from core.library import Library
from core.resumable import MAX_PARTS
from server.entry import EmbeddedServer
from server.params import MAX_FORM
from tests.conftest import make_settings
from tests.resumable_client import confirm, presign
from tests.server_fixtures import bearer, http_call, make_tokens, server_config, upload_file

pytestmark = pytest.mark.timeout(90)

S = dict[str, Any]


@pytest.fixture
def served(data_dir: Path, media_dir: Any) -> Any:
    """A live server (no video workers: nothing here needs renditions), its document, a read
    token and a private video, a public video and a private image."""
    lib = Library.open(make_settings(data_dir, workers=0))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    files = {
        "private_video": lib.uploads.ingest(media_dir.mp4, "video").id,
        "public_video": lib.uploads.ingest(media_dir.mp4, "video", is_public=True).id,
        "image": lib.uploads.ingest(media_dir.png, "image").id,
    }
    spec = http_call(f"{server.url}/openapi.json").json()
    yield server, spec, make_tokens(lib).read, files
    server.stop()
    lib.close()


def _validator(spec: S, schema: S) -> Draft202012Validator:
    """`schema` of the document, its #/components references resolved in the document."""
    return Draft202012Validator({**schema, "components": spec["components"]})


def _answer_schema(spec: S, path: str, method: str = "get", status: str = "200") -> S:
    content = spec["paths"][path][method]["responses"][status]["content"]
    schema: S = content["application/json"]["schema"]
    return schema


def test_both_kinds_of_presigned_url_answer_match_exactly_one_schema(served: Any) -> None:
    server, spec, token, files = served
    answers = {}
    for name, file_id in files.items():
        for kind in ("download", "watch"):
            if name == "image" and kind == "watch":
                continue  # watch links are for videos
            reply = http_call(
                f"{server.url}/files/{file_id}/presigned-url?kind={kind}", headers=bearer(token)
            )
            assert reply.status == 200, reply.body
            answers[name, kind] = reply.json()
    assert answers["private_video", "watch"]["expires_in"]  # what made it match both
    documented = _validator(spec, _answer_schema(spec, "/files/{file_id}/presigned-url"))
    by_name = {
        name: _validator(spec, {"$ref": f"#/components/schemas/{name}"})
        for name in ("SignedUrl", "WatchUrl")
    }
    for (name, kind), answer in answers.items():
        errors = [e.message for e in documented.iter_errors(answer)]
        assert errors == [], (name, kind, answer, errors)
        matching = [schema for schema, v in by_name.items() if v.is_valid(answer)]
        assert matching == (["WatchUrl"] if kind == "watch" else ["SignedUrl"]), (name, kind)
        assert answer["kind"] == kind  # the discriminator's property, in both


def test_every_206_lists_multipart_byteranges_and_several_ranges_get_it(served: Any) -> None:
    server, spec, token, files = served
    partial = {
        (path, method): op["responses"]["206"]
        for path, ops in spec["paths"].items()
        for method, op in ops.items()
        # a HEAD's 206 has the GET's headers and no body
        if isinstance(op, dict) and method != "head" and "206" in op.get("responses", {})
    }
    assert ("/signed/{key}", "get") in partial
    for where, response in partial.items():
        assert "multipart/byteranges" in response["content"], where
    signed = http_call(
        f"{server.url}/files/{files['image']}/presigned-url", headers=bearer(token)
    ).json()["url"]
    image = files["image"]
    urls = {
        "/signed/{key}": signed,
        "/stream/{file_id}/raw": f"{server.url}/stream/{image}/raw",
        "/stream/{file_id}/image": f"{server.url}/stream/{image}/image",
        "/stream/{file_id}/video": f"{server.url}/stream/{files['private_video']}/video",
    }
    for path, url in urls.items():
        reply = http_call(url, headers={"Range": "bytes=0-9,100-109", **bearer(token)})
        assert reply.status == 206, (path, reply.body[:200])
        media_type = reply.headers["Content-Type"].split(";", 1)[0]
        assert media_type == "multipart/byteranges", path
        assert media_type in partial[path, "get"]["content"], path
        # the preconditions' 412 (RFC 9110 §13.1.1), answered and documented alike
        refused = http_call(url, headers={"If-Match": '"not-this"', **bearer(token)})
        assert refused.status == 412, (path, refused.status)
        assert refused.json()["error"]["code"] == "precondition_failed"
        operation = spec["paths"][path]["get"]
        assert "412" in operation["responses"], path
        names = {p["name"] for p in operation["parameters"]}
        assert {"If-Match", "If-Unmodified-Since"} <= names, path


# Path parameters that reach the router's method check (any value of the right shape does)
SAMPLE = {"file_id": "1", "athlete_id": "1", "job_id": "1", "key": "objects/x.jpg"}
SAMPLE_BY_PATTERN = {"rung": "720", "segment": "seg_00001.ts", "upload_id": "0" * 32}


def test_undocumented_methods_are_405_with_the_documented_methods_allowed(served: Any) -> None:
    server, spec, _, _ = served
    description = spec["info"]["description"]
    assert "405 method_not_allowed" in description and "Allow" in description
    for path, ops in spec["paths"].items():
        documented = {m.upper() for m in ops if m in ("get", "put", "post", "patch", "delete")}
        probe = next(m for m in ("PUT", "PATCH", "DELETE", "POST") if m not in documented)
        url = re.sub(r"\{(\w+)\}", lambda m: {**SAMPLE, **SAMPLE_BY_PATTERN}[m.group(1)], path)
        reply = http_call(f"{server.url}{url}", probe)
        assert reply.status == 405, (path, probe, reply.status, reply.body[:200])
        assert reply.json()["error"]["code"] == "method_not_allowed", path
        allowed = {m.strip() for m in reply.headers["Allow"].split(",")} - {"HEAD", "OPTIONS"}
        assert allowed == documented, (path, allowed, documented)


def test_the_documented_upload_checksum_is_what_the_server_takes(
    live: EmbeddedServer, tokens: Any
) -> None:
    """Upload-Checksum was documented as any string, and the server answered 400 to most
    (schemathesis sent ""): its pattern now admits exactly the values the server reads (a
    mismatching digest is then a 460, not a 400)."""
    spec = http_call(f"{live.url}/openapi.json").json()
    params = spec["paths"]["/files/upload/tus/{upload_id}"]["patch"]["parameters"]
    schema = next(p["schema"] for p in params if p["name"] == "Upload-Checksum")
    assert "pattern" in schema, schema
    chunk = b"0123456789"
    digests = {
        name: base64.b64encode(hashlib.new(name, chunk).digest()).decode()
        for name in ("sha1", "sha256", "md5")
    }
    values = [
        f"sha1 {digests['sha1']}",
        f"SHA256 {digests['sha256']}",
        f"Md5  {digests['md5']}",
        f"sha1 {base64.b64encode(b'x' * 20).decode()}",  # another chunk's: 460
        f"md5 {digests['sha1']}",  # a digest of the wrong length
        f"sha1 {digests['sha1'].rstrip('=')}",
        "crc32 AAAAAA==",
        "sha1",
        "sha1 !!!!",
        "",
    ]
    auth = bearer(tokens.upload)
    for value in values:
        created = http_call(
            f"{live.url}/files/upload/tus",
            "POST",
            headers={**auth, "Tus-Resumable": "1.0.0", "Upload-Length": "100"},
        )
        reply = http_call(
            live.url + created.headers["Location"],
            "PATCH",
            chunk,
            {
                **auth,
                "Tus-Resumable": "1.0.0",
                "Upload-Offset": "0",
                "Content-Type": "application/offset+octet-stream",
                "Upload-Checksum": value,
            },
        )
        documented = re.search(schema["pattern"], value) is not None
        assert reply.status in ((204, 460) if documented else (400,)), (value, reply.body)


def test_every_integer_query_parameter_documents_the_servers_bounds(
    live: EmbeddedServer, tokens: Any
) -> None:
    """Each integer query parameter of the operations without path parameters has a documented
    maximum, which the server takes, and one past it is a 400. GET /jobs?offset had none while
    the server refused past 2**63-1 (found by schemathesis' positive_data_acceptance)."""
    spec = http_call(f"{live.url}/openapi.json").json()
    auth = bearer(tokens.admin)
    checked = []
    for path, ops in spec["paths"].items():
        operation = ops.get("get")
        if operation is None or "{" in path or path == "/events":  # /events never ends
            continue
        for p in operation.get("parameters", []):
            schema = p["schema"]
            if p["in"] != "query" or schema.get("type") != "integer":
                continue
            assert "maximum" in schema, (path, p["name"])
            top = schema["maximum"]
            at = http_call(f"{live.url}{path}?{p['name']}={top}", headers=auth)
            past = http_call(f"{live.url}{path}?{p['name']}={top + 1}", headers=auth)
            assert at.status == 200, (path, p["name"], at.body)
            assert past.status == 400, (path, p["name"], past.body)
            checked.append(f"{path}?{p['name']}")
    assert "/jobs?offset" in checked and "/files?offset" in checked, checked


def test_a_failing_store_answers_a_documented_500_on_thumbnails_and_playlists(
    s3_settings: Any, tmp_path: Path
) -> None:
    """A thumbnail, the HLS playlists and the scrub thumbnails of a library whose store went
    away answer 500 storage_unavailable, as the byte routes do: each such answer is one the
    document lists (status, content type, Error schema, Retry-After when sent). The thumbnail
    and the video routes listed no 500. A real worker, moto S3 behind a proxy that is cut."""
    from tests import media
    from tests.faults import CuttableProxy
    from tests.video_helpers import process_all

    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    # one small rung: the encode stays quick
    settings = s3_settings.replace(r2_endpoint_url=proxy.url, hls_ladder=("120",))
    lib = Library.open(settings)
    server = EmbeddedServer(lib, config=server_config(lib))
    try:
        clip = lib.uploads.ingest(media.make_avi(tmp_path / "clip.avi", seconds=1), "video").id
        process_all(lib)
        server.start()
        auth = bearer(make_tokens(lib).read)
        spec = http_call(f"{server.url}/openapi.json").json()
        paths = (
            "/files/{file_id}/thumbnail",
            "/stream/{file_id}/hls/master.m3u8",
            "/stream/{file_id}/hls/{rung}/index.m3u8",
            "/stream/{file_id}/thumbnails/thumbnails.vtt",
            "/stream/{file_id}/thumbnails/sprite.jpg",
        )
        urls = {p: p.replace("{file_id}", str(clip)).replace("{rung}", "120") for p in paths}
        for path, url in urls.items():
            assert http_call(server.url + url, headers=auth).status == 200, path
        for cached in (lib.paths.cache_dir / "thumbnails").rglob("*"):
            if cached.is_file():
                cached.unlink()  # the thumbnail must come from the store
        proxy.cut()
        for path, url in urls.items():
            reply = http_call(server.url + url, headers=auth)
            assert reply.status == 500, (path, reply.status, reply.body[:200])
            assert reply.json()["error"]["code"] == "storage_unavailable", path
            documented = spec["paths"][path]["get"]["responses"].get("500")
            assert documented is not None, f"{path} answers 500 but does not document it"
            media_type = reply.headers["Content-Type"].split(";", 1)[0]
            assert media_type in documented["content"], (path, media_type)
            schema = documented["content"][media_type]["schema"]
            errors = [e.message for e in _validator(spec, schema).iter_errors(reply.json())]
            assert errors == [], (path, errors)
            for header in ("Retry-After",):
                if header in reply.headers:
                    assert header in documented.get("headers", {}), (path, header)
    finally:
        server.stop()
        lib.close()
        proxy.close()


def test_every_operation_taking_a_json_body_documents_the_413_of_one_past_1_mib(
    served: Any,
) -> None:
    """server.params.read_json answers 413 too_large to a JSON body past MAX_FORM (and 408 to a
    quiet one) on every route that reads one, the action routes' optional bodies too: restore,
    reprocess, a job's cancel and retry and renew answered an undocumented 413."""
    server, spec, _, files = served
    admin = make_tokens(server.library).admin
    body = b'{"a": "' + b"x" * MAX_FORM + b'"}'
    ids = {"file_id": str(files["image"]), "athlete_id": "1", "job_id": "1"}
    undocumented, asked = [], 0
    for path, ops in spec["paths"].items():
        for method, operation in ops.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            url = re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)
            headers = {**bearer(admin), "Content-Type": "application/json"}
            reply = http_call(server.url + url, method.upper(), body, headers)
            asked += 1
            assert reply.status == 413, (method, url, reply.status, reply.body[:200])
            assert reply.json()["error"]["code"] == "too_large"
            responses = operation["responses"]
            undocumented += [f"{method} {path}: {s}" for s in ("408", "413") if s not in responses]
    assert asked >= 10, asked
    assert undocumented == [], undocumented


def test_a_confirm_naming_a_part_past_the_documented_maximum_is_refused(
    served: Any, media_dir: Any
) -> None:
    """ConfirmParts' part_number is 1..MAX_PARTS in the document; a confirm of a single PUT
    naming part 10001 was taken (200, the parts unread), a schema-invalid body accepted
    (schemathesis' negative check). Refused as the document says, before anything is stored."""
    server, spec, _, _ = served
    token = make_tokens(server.library).upload
    item = spec["components"]["schemas"]["ConfirmParts"]["properties"]["parts"]["items"]
    assert item["properties"]["part_number"]["maximum"] == MAX_PARTS
    data = Path(media_dir.jpeg).read_bytes()
    made = presign(server.url, token, len(data), original_filename="far.jpg")
    assert made.status == 201, made.body
    answer = made.json()
    put = http_call(answer["upload_url"], "PUT", data, answer["headers"])
    assert put.status == 200, put.body
    far = [{"part_number": MAX_PARTS + 1, "etag": "x"}]
    refused = confirm(server.url, token, answer["file_id"], far)
    assert refused.status == 400, refused.body
    assert refused.json()["error"]["code"] == "invalid_input"
    assert str(MAX_PARTS) in refused.json()["error"]["message"]
    assert confirm(server.url, token, answer["file_id"]).status == 200


def test_the_documented_if_match_is_what_the_server_takes(
    live: EmbeddedServer, tokens: Any, media_dir: Any
) -> None:
    """If-Match's pattern on a file's and an athlete's writes admitted one tag alone, though
    the server (and README) take a list ("3", "4"), and admitted an unbalanced `"3` it answers
    400; an empty header, read as none, was outside the athlete's. Now a value is documented
    exactly when the server reads it (an answer, 412 when no tag holds) rather than a 400."""
    spec = http_call(f"{live.url}/openapi.json").json()
    auth = {**bearer(tokens.admin), "Content-Type": "application/json"}
    athlete = http_call(f"{live.url}/athletes", "POST", b'{"name": "Tagged"}', auth).json()["id"]
    photo = upload_file(live, tokens.admin, media_dir.jpeg, "image")["id"]
    common = ["", " ", "*", ' "1" ', '"1", "2"', '"x",W/"1"', '"1",', 'W/"1"', '""']
    refused = ['"1', "1,", '"1" "2"', '"1",,"2"', "W/1", "**", ",", "abc"]
    values = {
        ("/files/{file_id}", f"/files/{photo}"): [*common, "1", "7", *refused, "0", "-1"],
        ("/athletes/{athlete_id}", f"/athletes/{athlete}"): [
            *common,
            '"athlete-1"',
            '"athlete-1", "2"',
            *refused,
            "1",
        ],
    }
    wrong = []
    for (path, url), tried in values.items():
        params = spec["paths"][path]["patch"]["parameters"]
        pattern = next(p["schema"]["pattern"] for p in params if p["name"] == "If-Match")
        for value in tried:
            body = b'{"description": "d"}' if "files" in path else b'{"name": "Tagged"}'
            reply = http_call(live.url + url, "PATCH", body, {**auth, "If-Match": value})
            documented = re.search(pattern, value) is not None
            if (reply.status != 400) != documented:
                wrong.append(f"{path} If-Match {value!r}: {reply.status}, documented {documented}")
    assert wrong == [], "\n".join(wrong)


def test_a_tus_options_on_any_upload_url_is_documented(live: EmbeddedServer) -> None:
    """OPTIONS answers the server's tus capabilities on any upload URL, as tus asks (the id is
    not read); its upload_id was documented with the 32-hex pattern of the other methods, so a
    204 for another id was a schema-invalid request accepted (schemathesis)."""
    spec = http_call(f"{live.url}/openapi.json").json()
    params = spec["paths"]["/files/upload/tus/{upload_id}"]["options"]["parameters"]
    schema = next(p["schema"] for p in params if p["name"] == "upload_id")
    for upload_id in ("0" * 32, "not-an-upload", "%C2%84"):
        reply = http_call(f"{live.url}/files/upload/tus/{upload_id}", "OPTIONS")
        assert reply.status == 204, (upload_id, reply.status)
        assert reply.headers["Tus-Version"] == "1.0.0"
        value = unquote(upload_id)
        assert re.search(schema.get("pattern", ""), value), (value, schema)
