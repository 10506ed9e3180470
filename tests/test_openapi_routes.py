"""The OpenAPI document and the router agree: every route documented, every documented path
served, each operation's security what its handler's scope enforces (checked over HTTP)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from core.records import FileRecord
from server.openapi import SECURITY_BY_SCOPE, build_spec, routes
from server.presenters import file_json
from tests.server_fixtures import Tokens, bearer

SPEC = build_spec()
OPERATIONS = [
    (path, method, operation)
    for path, ops in SPEC["paths"].items()
    for method, operation in ops.items()
    if method in ("get", "put", "post", "patch", "delete", "head", "options")
]
# Values for path parameters: requests only need to reach the authentication check
SAMPLE = {"file_id": "1", "athlete_id": "1", "key": "objects/x.jpg"}


def test_every_route_is_documented_and_every_documented_path_is_served() -> None:
    served = {(r.path, r.method) for r in routes()}
    documented = {(path, method) for path, method, _ in OPERATIONS}
    assert served - documented == set(), "routes missing from server/openapi_paths.py"
    assert documented - served == set(), "documented operations without a route"


def test_operation_ids_are_unique_and_tags_set() -> None:
    ids = [op["operationId"] for _, _, op in OPERATIONS]
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", i) for i in ids), ids
    for name in ("create_presigned_upload", "confirm_upload", "upload_direct", "list_files"):
        assert name in ids
    assert all(op.get("tags") for _, _, op in OPERATIONS)
    declared = {tag["name"] for tag in SPEC["tags"]}
    assert {t for _, _, op in OPERATIONS for t in op["tags"]} <= declared


def test_security_comes_from_the_handler_scope() -> None:
    for route in routes():
        operation = SPEC["paths"][route.path][route.method]
        assert operation["x-scope"] == route.scope
        assert operation["security"] == SECURITY_BY_SCOPE[route.scope]


def test_every_write_documents_the_refusal_after_an_upgrade_under_it() -> None:
    """A write to a server whose catalog a newer version migrated answers 503 catalog_upgraded
    (core/db/schema_guard.py): each operation that changes something says so."""
    spec = build_spec()
    writes = [r for r in routes() if r.method in ("post", "put", "patch", "delete")]
    assert len(writes) > 10
    for route in writes:
        responses = spec["paths"][route.path][route.method]["responses"]
        assert "catalog_upgraded" in responses["503"]["description"], (route.method, route.path)
    reads = spec["paths"]["/files/{file_id}"]["get"]["responses"]
    assert "catalog_upgraded" not in reads.get("503", {}).get("description", "")


def test_file_schema_is_what_the_api_serialises(library: Any, media_dir: Any) -> None:
    """Every key of a served file is in the schema (additionalProperties: false) and required."""
    schema = SPEC["components"]["schemas"]["File"]
    assert schema["additionalProperties"] is False
    assert {f.name for f in dataclasses.fields(FileRecord)} <= set(schema["properties"])
    record = library.uploads.ingest(media_dir.jpeg, "image")
    assert set(file_json(record)) == set(schema["properties"]) == set(schema["required"])


def _url(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE.get(m.group(1), "1"), path)


@pytest.mark.parametrize(("path", "method", "operation"), OPERATIONS, ids=lambda v: str(v)[:40])
async def test_documented_security_is_enforced(
    api: Any, tokens: Tokens, path: str, method: str, operation: dict[str, Any]
) -> None:
    anonymous = await api.request(method.upper(), _url(path))
    scope = operation["x-scope"]
    if operation["security"] == [{"bearerAuth": []}]:
        assert anonymous.status == 401, (path, method)
        if scope in ("upload", "admin"):
            weak = await api.request(method.upper(), _url(path), headers=bearer(tokens.read))
            assert weak.status == 403, (path, method)
            if method != "head":
                assert (await weak.json())["error"]["code"] == "insufficient_scope"
    else:
        assert anonymous.status != 401, (path, method, await anonymous.text())
    anonymous.close()


def _query(path: str, method: str) -> dict[str, Any]:
    operation = SPEC["paths"][path][method]
    return {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}


def test_signed_urls_document_the_query_the_signer_writes() -> None:
    """A client generated from the document can send a /signed/… URL's query: every name the
    signer writes is a parameter, described, required when every such URL carries it."""
    from core.storage.signing import LocalPresigner

    signer = LocalPresigner(b"s" * 32, "http://x")
    urls = {
        "put": signer.presign_put("a/b.jpg", "image/jpeg", 60, 10, 20).url,
        "get": signer.presign_get("a/b.jpg", 60, "b.jpg", "image/jpeg", 7, by_publicity=True).url,
    }
    required = {"put": {"method", "expires", "ct", "sig"}, "get": {"method", "expires", "sig"}}
    for method, url in urls.items():
        written = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
        documented = _query("/signed/{key}", method)
        assert set(documented) == set(written), method
        assert {n for n, p in documented.items() if p["required"]} == required[method]
        assert all("Copy it from the URL" in p["description"] for p in documented.values())


def test_every_route_a_file_grant_opens_documents_it() -> None:
    """The /stream/{id}/… routes and /watch/{id} take a file grant (exp and sig, from
    /stream/{id}/info or a watch link); the /stream/ ones a token as ?access_token= too."""
    served = [r.path for r in routes() if r.path.startswith(("/stream/", "/watch/"))]
    assert len(served) >= 10
    for path in served:
        query = _query(path, "get")
        assert {"exp", "sig"} <= set(query), path
        assert all(query[name]["description"] for name in ("exp", "sig")), path
        if path.startswith("/stream/"):
            assert "access_token" in query, path
