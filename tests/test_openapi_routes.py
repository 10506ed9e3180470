"""The OpenAPI document and the router agree: every route documented, every documented path
served, each operation's security what its handler's scope enforces (checked over HTTP)."""

from __future__ import annotations

import dataclasses
import re
from typing import Any

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
