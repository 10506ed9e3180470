"""What the OpenAPI document says a request may hold, against what the server's parsers take:
a value the document allows is never a 400 of the parser, nor the reverse."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from core.ascii import FALSE_WORDS, TRUE_WORDS, yes_no
from core.errors import InvalidInput
from server.openapi import build_spec
from server.params import INT64_MAX, INT64_MIN, as_bool, as_int


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return build_spec()


def _integers(node: Any, schemas: dict[str, Any], where: str) -> Iterator[tuple[str, Any]]:
    """Every integer schema under `node` (refs followed, each once per path)."""
    if isinstance(node, list):
        for i, item in enumerate(node):
            yield from _integers(item, schemas, f"{where}[{i}]")
        return
    if not isinstance(node, dict):
        return
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[1]
        yield from _integers(schemas[name], schemas, f"{where}->{name}")
        return
    kinds = node.get("type")
    if kinds == "integer" or (isinstance(kinds, list) and "integer" in kinds):
        yield where, node
    for key, value in node.items():
        if key in ("properties", "items", "oneOf", "anyOf", "allOf") or isinstance(value, dict):
            yield from _integers(value, schemas, f"{where}.{key}")


# Integers no parser bounds (none since a confirm's part_number is checked against the plan:
# 1..MAX_PARTS in the document, dab5158).
UNBOUNDED: set[str] = set()


def test_every_integer_a_request_holds_has_the_parsers_bounds(spec: dict[str, Any]) -> None:
    """server.params.as_int refuses whole numbers past 64 bits whatever the field; the document
    must say so, or a schema-valid body is a 400 (FileUpdate.version, PresignedUploadForm.size
    had no maximum). Headers are read by their own rules (tus: Upload-Length)."""
    schemas = spec["components"]["schemas"]
    found, unbounded = 0, []
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if not isinstance(op, dict):
                continue
            for item in op.get("parameters", ()):
                if item["in"] == "query":
                    for where, node in _integers(item["schema"], schemas, item["name"]):
                        found += 1
                        if not INT64_MIN <= node.get("minimum", INT64_MIN - 1) <= INT64_MAX:
                            unbounded.append(f"{method} {path} {where}: minimum")
                        if not INT64_MIN <= node.get("maximum", INT64_MAX + 1) <= INT64_MAX:
                            unbounded.append(f"{method} {path} {where}: maximum")
            for media in op.get("requestBody", {}).get("content", {}).values():
                for where, node in _integers(media["schema"], schemas, "body"):
                    found += 1
                    if where in UNBOUNDED:
                        continue
                    if not INT64_MIN <= node.get("maximum", INT64_MAX + 1) <= INT64_MAX:
                        unbounded.append(f"{method} {path} {where}: maximum")
    assert found > 10 and not unbounded, unbounded
    # and the parser's own bound is the one written
    assert as_int("version", str(INT64_MAX), minimum=1) == INT64_MAX
    with pytest.raises(InvalidInput, match=str(INT64_MAX)):
        as_int("version", str(INT64_MAX + 1), minimum=1)


def test_a_forms_yes_no_words_are_valid_in_the_document(spec: dict[str, Any]) -> None:
    """DirectUploadForm.is_public was boolean alone: generated clients refused the 0/1/yes/on
    the server (and README) takes. Every word it reads is valid, and nothing else."""
    field = spec["components"]["schemas"]["DirectUploadForm"]["properties"]["is_public"]
    for value in (True, False, *TRUE_WORDS, *(w for w in FALSE_WORDS if w)):
        jsonschema.validate(value, field)
        assert as_bool("is_public", value) is (value if isinstance(value, bool) else yes_no(value))
    for value in ("maybe", 2, None):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(value, field)
