"""The served OpenAPI document is valid OpenAPI 3.1 (checked by openapi-spec-validator), and
its job reason codes are core's."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from core.library import Library
from server.app import create_app
from tests.server_fixtures import server_config


async def test_served_spec_is_valid_openapi_31(api: Any) -> None:
    spec = await (await api.get("/openapi.json")).json()
    validate(spec)  # raises with the JSON path of the first problem


def test_the_validator_catches_a_broken_spec() -> None:
    broken = {"openapi": "3.1.0", "info": {"title": "x"}, "paths": {"/a": {"get": {}}}}
    with pytest.raises(OpenAPIValidationError):
        validate(broken)


async def test_job_reason_codes_are_cores(api: Any) -> None:
    """Job.reason and Processing.reasons list core.jobs' codes, no more and no fewer: the
    document is built from the tuples, so a code added in core reaches generated clients."""
    from core.jobs import FAILURE_REASONS, SKIP_REASONS

    schemas = (await (await api.get("/openapi.json")).json())["components"]["schemas"]
    codes = [*SKIP_REASONS, *FAILURE_REASONS, None]
    assert schemas["Job"]["properties"]["reason"]["enum"] == codes
    assert schemas["Processing"]["properties"]["reasons"]["additionalProperties"]["enum"] == codes


async def test_storage_unavailable_reasons_are_cores(api: Any) -> None:
    """The causes a storage_unavailable names (a missing bucket among them) are listed from
    core's tuple, so a reason added there reaches the document."""
    from core.errors import UNAVAILABLE_REASONS

    schemas = (await (await api.get("/openapi.json")).json())["components"]["schemas"]
    listed = schemas["Error"]["properties"]["error"]["properties"]["reason"]["description"]
    assert "bucket_missing" in UNAVAILABLE_REASONS
    assert listed.endswith("Under storage_unavailable: " + ", ".join(UNAVAILABLE_REASONS))


# The calls that answer an error with its code as a literal argument (server/errors.py,
# server/auth.py, server/streaming.py); classes and handlers also set it as `code = "..."`.
_ANSWERING_CALLS = {"ApiError", "error_response", "_error", "unauthorized"}
_CODE = re.compile(r"^[a-z][a-z0-9_]*$")
# MediaDeskError's own code: only its subclasses are raised
_NEVER_ANSWERED = {"error"}


def _codes_in_the_code() -> dict[str, str]:
    """Every literal error code in core/ and server/ (not the client package): an argument of
    an answering call, or a value assigned to `code` (a class attribute, a local)."""
    root = Path(__file__).resolve().parent.parent
    found: dict[str, str] = {}
    for path in sorted([*(root / "core").rglob("*.py"), *(root / "server").rglob("*.py")]):
        if "client" in path.relative_to(root).parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            values: list[ast.expr] = []
            if isinstance(node, ast.Call):
                func = node.func
                name = getattr(func, "id", None) or getattr(func, "attr", None)
                if name in _ANSWERING_CALLS:
                    values += node.args
                    values += [k.value for k in node.keywords if k.arg == "code"]
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id == "code":
                        values.append(node.value)
                    elif isinstance(target, ast.Tuple) and isinstance(node.value, ast.Tuple):
                        values += [
                            v
                            for t, v in zip(target.elts, node.value.elts, strict=False)
                            if isinstance(t, ast.Name) and t.id == "code"
                        ]
            for value in values:
                if (
                    isinstance(value, ast.Constant)
                    and isinstance(value.value, str)
                    and _CODE.match(value.value)
                ):
                    found.setdefault(value.value, f"{path.relative_to(root)}:{value.lineno}")
    return found


async def test_every_error_code_the_server_can_answer_is_in_the_document(api: Any) -> None:
    """Error.code is an enum of server.error_codes.ERROR_CODES, each code described; a code
    raised anywhere in the server or core (401 invalid_token, 412 tus_version, 460
    checksum_mismatch...) that the list lacks was named in neither the document nor README."""
    from server.error_codes import ERROR_CODES
    from server.errors import HTTP_CODES

    code = (await (await api.get("/openapi.json")).json())["components"]["schemas"]["Error"]
    code = code["properties"]["error"]["properties"]["code"]
    assert code["enum"] == list(ERROR_CODES)
    for name in ERROR_CODES:
        assert f"- `{name}` (" in code["description"], name
    in_code = _codes_in_the_code()
    assert {"invalid_token", "tus_version", "checksum_mismatch", "empty_file"} <= set(in_code)
    in_code.update((c, "server/errors.py HTTP_CODES") for c in HTTP_CODES.values())
    missing = {c: where for c, where in in_code.items() if c not in ERROR_CODES}
    assert set(missing) <= _NEVER_ANSWERED, missing


# Response headers every page may read across origins without being exposed (Fetch standard)
SAFELISTED = {"cache-control", "content-language", "content-length", "content-type"}
SAFELISTED |= {"expires", "last-modified", "pragma"}


async def test_every_documented_answer_header_is_exposed_to_other_origins(
    aiohttp_client: Any, library: Library
) -> None:
    """A header the spec says an answer carries is one a client wants to read; from a page on
    another origin it can only if CORS exposes it by name (server/cors.py)."""
    origin = "https://coach.example"
    config = server_config(library, cors_origins=(origin,))
    api = await aiohttp_client(create_app(library, config=config))
    spec = await (await api.get("/openapi.json")).json()
    answers = [
        answer
        for operations in spec["paths"].values()
        for operation in operations.values()
        if isinstance(operation, dict)
        for answer in operation.get("responses", {}).values()
    ]
    answers += spec.get("components", {}).get("responses", {}).values()
    documented = {name for answer in answers for name in answer.get("headers", {})}
    assert {"X-MediaDesk-Width", "Upload-Offset", "Retry-After"} <= documented
    reply = await api.get("/health", headers={"Origin": origin})
    exposed = {h.strip().lower() for h in reply.headers["Access-Control-Expose-Headers"].split(",")}
    assert sorted(n for n in documented if n.lower() not in exposed | SAFELISTED) == []


def test_no_setting_is_written_as_a_default() -> None:
    """expires_in's default is PRESIGNED_URL_EXPIRY, a setting: a `default` in the document
    (3600 once) is what generated clients send when the caller gives none, so it is told in
    words and the schema has none."""
    from server.openapi import build_spec

    paths = build_spec()["paths"]
    for path in ("/files/{file_id}/presigned-url", "/files/{file_id}/download"):
        params = paths[path]["get"]["parameters"]
        expires_in = next(p for p in params if p["name"] == "expires_in")
        assert "default" not in expires_in["schema"], path
        assert "PRESIGNED_URL_EXPIRY" in expires_in["description"], path


async def test_every_operation_documents_the_400_of_a_nul_in_its_query(
    api: Any, tokens: Any
) -> None:
    """Every request's query is checked before its route: a NUL (%00) is a 400 invalid_input
    on /health, /config or /signed/{key} too, which listed no 400 (schemathesis)."""
    spec = await (await api.get("/openapi.json")).json()
    missing = [
        f"{method.upper()} {path}"
        for path, ops in spec["paths"].items()
        for method, operation in ops.items()
        if method in ("get", "put", "post", "patch", "delete", "head")
        and "400" not in operation["responses"]
    ]
    assert not missing, missing
    for path in ("/health", "/config", "/athletes", "/metrics", "/openapi.json", "/signed/x"):
        resp = await api.get(f"{path}?x=%00", headers={"Authorization": f"Bearer {tokens.admin}"})
        assert resp.status == 400, (path, resp.status)
        assert (await resp.json())["error"]["code"] == "invalid_input"


async def test_no_request_is_answered_406_or_411(api: Any, tokens: Any) -> None:
    """README's list of statuses and the Error.code enum named 406 not_acceptable and 411
    length_required, which nothing answers: an Accept that excludes JSON still gets JSON, and
    a JSON or upload body sent chunked, or with no body at all, is read as sent."""
    auth = {"Authorization": f"Bearer {tokens.admin}"}
    for accept in ("text/html", "image/png", "application/xml, application/json;q=0"):
        for path in ("/files/", "/health", "/openapi.json"):
            reply = await api.get(path, headers={**auth, "Accept": accept})
            assert reply.status == 200, (path, accept)
            assert reply.content_type == "application/json"

    async def chunked() -> Any:
        yield b'{"original_filename": "a.jpg", "file_type": "image"}'

    reply = await api.post(
        "/files/upload/presigned",
        data=chunked(),
        headers={**auth, "Content-Type": "application/json"},
    )
    assert reply.status == 201, await reply.text()
    assert reply.request_info.headers["Transfer-Encoding"] == "chunked"
    reply = await api.post("/files/upload/direct", headers=auth)  # no body, no length
    assert reply.status == 400, await reply.text()
    spec = await (await api.get("/openapi.json")).json()
    codes = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]["code"]
    assert not {"not_acceptable", "length_required"} & set(codes["enum"])
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    listed = readme.index("Errors are\n")
    statuses = readme[listed : readme.index("(tus adds its own", listed)]
    assert "406" not in statuses and "411" not in statuses, statuses
