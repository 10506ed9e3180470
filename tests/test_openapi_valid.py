"""The served OpenAPI document is valid OpenAPI 3.1 (checked by openapi-spec-validator), and
its job reason codes are core's."""

from __future__ import annotations

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
