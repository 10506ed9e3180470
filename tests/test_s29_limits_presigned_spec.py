"""PresignedUploadForm's yes/no fields (is_public, multipart) against what the route reads.
Its documented body is JSON, where the server takes a JSON boolean only (server.params.read_json:
"yes" in JSON was taken by one route and refused by another); the same fields sent as a form
(multipart, urlencoded: the body's description) take the words as_bool reads. The document
says both, and declaring the words in the JSON schema would be a lie about the parser."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from core.ascii import FALSE_WORDS, TRUE_WORDS
from server.openapi import build_spec
from server.params import _booleans
from tests.server_fixtures import Tokens, bearer

FIELDS = ("is_public", "multipart")
WORDS = [*TRUE_WORDS, *(w for w in FALSE_WORDS if w)]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return build_spec()


def test_the_json_body_declares_booleans_and_the_forms_words(spec: dict[str, Any]) -> None:
    op = spec["paths"]["/files/upload/presigned"]["post"]["requestBody"]
    assert list(op["content"]) == ["application/json"]  # a form is the description's
    schema = spec["components"]["schemas"]["PresignedUploadForm"]
    for name in FIELDS:
        field = schema["properties"][name]
        jsonschema.validate(True, field)
        for word in ("yes", "1"):
            with pytest.raises(jsonschema.ValidationError):
                jsonschema.validate(word, field)
        # the words a form's field takes, said where a client reads the field
        assert all(word in field["description"] for word in WORDS), (name, field)
        assert "any case" in field["description"], name
    # and the parser checks them as JSON booleans because the document says boolean
    assert set(FIELDS) <= set(_booleans("PresignedUploadForm"))


async def test_the_route_reads_what_the_document_says(api: Any, tokens: Tokens) -> None:
    """JSON: a boolean, not a word (400 naming the field); a form: the words, any case."""
    url = "/files/upload/presigned"
    ask = {"original_filename": "a.jpg", "file_type": "image"}
    for name in FIELDS:
        resp = await api.post(url, json={**ask, name: "yes"}, headers=bearer(tokens.upload))
        assert resp.status == 400, await resp.text()
        assert repr(name) in (await resp.json())["error"]["message"]
    resp = await api.post(url, json={**ask, "is_public": True}, headers=bearer(tokens.upload))
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["file"]["is_public"] is True
    form = {**ask, "is_public": " On ", "multipart": "no"}
    resp = await api.post(url, data=form, headers=bearer(tokens.upload))
    assert resp.status == 201, await resp.text()
    assert (await resp.json())["file"]["is_public"] is True
