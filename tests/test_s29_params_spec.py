"""The OpenAPI document against the parsers of a query's yes/no words and of tus's size
headers: a value the document allows is never refused, and the words the server reads are the
document's (one list, core.ascii)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import jsonschema
import pytest

from core.ascii import FALSE_WORDS, TRUE_WORDS, yes_no
from server.openapi import build_spec
from server.params import INT64_MAX, as_bool, opt_bool


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return build_spec()


def _parameters(spec: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            for item in op.get("parameters", ()) if isinstance(op, dict) else ():
                if item["in"] == where:
                    yield f"{method} {path} {item['name']}", item


def _takes_booleans(schema: dict[str, Any]) -> bool:
    kinds = [schema.get("type"), *(s.get("type") for s in schema.get("oneOf", ()))]
    return "boolean" in kinds


def test_every_yes_no_query_parameter_takes_the_words_the_server_reads(
    spec: dict[str, Any],
) -> None:
    """is_public, trashed, trash and hard_delete were declared boolean alone, while as_bool
    reads 1/0/yes/no/on/off too: a validating client refused `?trashed=1`."""
    found = {}
    for where, item in _parameters(spec, "query"):
        if _takes_booleans(item["schema"]):
            found[where] = item["schema"]
    names = {where.rsplit(" ", 1)[1] for where in found}
    assert names == {"is_public", "trashed", "trash", "hard_delete"}, names
    words = [*TRUE_WORDS, *(w for w in FALSE_WORDS if w)]
    for where, schema in found.items():
        strings = [s for s in schema.get("oneOf", ()) if s.get("type") == "string"]
        assert strings and strings[0]["enum"] == words, where
        for value in (True, False, *words):
            jsonschema.validate(value, schema)
            text = str(value).lower() if isinstance(value, bool) else value
            assert as_bool(where, text) is yes_no(text)
            assert opt_bool(where, text) is yes_no(text)
        for value in ("maybe", "2", 2, None):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(value, schema)
        assert "any case" in schema["description"], where


def test_the_alias_trash_is_documented_as_one_not_to_send_with_trashed(
    spec: dict[str, Any],
) -> None:
    params = {item["name"]: item for item in spec["paths"]["/files"]["get"]["parameters"]}
    assert params["trash"]["deprecated"] is True
    assert "alias" in params["trash"]["description"]
    assert "not both" in params["trashed"]["description"]


def test_tus_size_headers_have_the_maximum_the_server_reads(spec: dict[str, Any]) -> None:
    """Upload-Length and Upload-Offset had no maximum; past a signed 64-bit integer the
    server refuses them (413, 409), and an Upload-Length past it once answered 500."""
    headers = {
        where: item
        for where, item in _parameters(spec, "header")
        if item["schema"].get("type") == "integer"
    }
    names = {where.rsplit(" ", 1)[1] for where in headers}
    assert {"Upload-Length", "Upload-Offset", "Last-Event-ID"} <= names, names
    for where, item in headers.items():
        assert item["schema"].get("maximum") == INT64_MAX, where
    tus = spec["paths"]["/files/upload/tus/{upload_id}"]["head"]["responses"]["200"]["headers"]
    for name in ("Upload-Length", "Upload-Offset"):
        assert tus[name]["schema"]["maximum"] == INT64_MAX
