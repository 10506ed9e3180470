"""The served OpenAPI document is valid OpenAPI 3.1 (checked by openapi-spec-validator), and
its job reason codes are core's."""

from __future__ import annotations

from typing import Any

import pytest
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError


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
