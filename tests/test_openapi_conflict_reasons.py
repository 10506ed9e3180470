"""The served OpenAPI document names the 409 reasons the API answers.

A PATCH of athlete_id or is_public that would make a file the duplicate of another answers 409
conflict with reason duplicate and details.duplicate_of (942818f), but Error.code's list of
conflict reasons (built from server/error_codes.py) did not name it, so a client reading the
document had no word of it. Real HTTP over loopback, real SQLite catalog.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.library import Library
from server.entry import EmbeddedServer
from tests.conftest import make_settings
from tests.server_fixtures import Tokens, bearer, http_call, make_tokens, server_config


@pytest.fixture
def served(data_dir: Path) -> Iterator[tuple[Library, EmbeddedServer, Tokens]]:
    lib = Library.open(make_settings(data_dir))
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        yield lib, server, make_tokens(lib)
    finally:
        server.stop()
        lib.close()


def _described(url: str, code: str) -> str:
    """What the served document's Error.code says of `code`: its line in the description."""
    spec = http_call(f"{url}/openapi.json").json()
    described = spec["components"]["schemas"]["Error"]["properties"]["error"]["properties"]
    lines = described["code"]["description"].splitlines()
    [line] = [line for line in lines if line.startswith(f"- `{code}` ")]
    return line


def test_the_duplicate_a_patch_answers_is_a_conflict_reason_the_document_names(
    served: tuple[Library, EmbeddedServer, Tokens], media_dir: Any
) -> None:
    lib, server, tokens = served
    first = lib.uploads.ingest(media_dir.png, "image", athlete_id=1)
    second = lib.uploads.ingest(media_dir.png, "image", athlete_id=2)
    answer = http_call(
        f"{server.url}/files/{second.id}",
        "PATCH",
        json.dumps({"athlete_id": 1}).encode(),
        {**bearer(tokens.upload), "Content-Type": "application/json"},
    )
    assert answer.status == 409, answer.body
    error = answer.json()["error"]
    assert (error["code"], error["reason"]) == ("conflict", "duplicate"), error
    assert error["details"] == {"duplicate_of": first.id, "athlete_id": 1}
    line = _described(server.url, error["code"])
    assert line.startswith("- `conflict` (409:"), line
    assert re.search(rf"\b{error['reason']}: ", line), line
    spec = json.loads(http_call(f"{server.url}/openapi.json", "GET").body)
    schemas = spec["components"]["schemas"]
    details = schemas["Error"]["properties"]["error"]["properties"]["details"]
    details = schemas[details["$ref"].rsplit("/", 1)[1]] if "$ref" in details else details
    for detail in error["details"]:
        assert f"details.{detail}" in line, line
        assert detail in details["properties"], detail  # typed, not only an open object's key
