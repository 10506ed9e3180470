"""A JSON body's fields have the types the OpenAPI document declares, on every route alike:
a boolean is a JSON boolean (the presign took "yes" and 1 while PATCH refused "true"), and a
too-long description answers the same reason wherever it is sent. Form bodies keep their
text spellings (true/false, 1/0, yes/no, on/off)."""

from __future__ import annotations

from typing import Any

import pytest

from core.records import MAX_DESCRIPTION
from tests.server_fixtures import Tokens, bearer
from tests.test_server_api import uploaded

pytestmark = pytest.mark.timeout(60)

PRESIGN = "/files/upload/presigned"


async def _error(resp: Any) -> dict[str, Any]:
    assert resp.status == 400, await resp.text()
    error: dict[str, Any] = (await resp.json())["error"]
    assert error["code"] == "invalid_input"
    return error


async def test_json_booleans_must_be_json_booleans(api: Any, tokens: Tokens) -> None:
    auth = bearer(tokens.upload)
    base = {"original_filename": "a.jpg", "file_type": "image", "size": 10}
    for field in ("is_public", "multipart"):
        for value in ("yes", "true", 1, 0, "", [], {}):
            resp = await api.post(PRESIGN, json={**base, field: value}, headers=auth)
            error = await _error(resp)
            assert field in error["message"], (field, value, error)
    ok = await api.post(PRESIGN, json={**base, "is_public": True}, headers=auth)
    assert ok.status == 201 and (await ok.json())["file"]["is_public"] is True
    # forms keep their spellings
    for spelling, public in (("yes", True), ("1", True), ("on", True), ("false", False)):
        form = {"original_filename": "a.jpg", "file_type": "image", "is_public": spelling}
        resp = await api.post(PRESIGN, data=form, headers=auth)
        assert resp.status == 201, await resp.text()
        assert (await resp.json())["file"]["is_public"] is public


async def test_patch_and_presign_refuse_a_long_description_alike(
    api: Any, tokens: Tokens, media_dir: Any
) -> None:
    auth = bearer(tokens.upload)
    long = "x" * (MAX_DESCRIPTION + 1)
    record = await uploaded(api, media_dir.jpeg, tokens.upload)
    presign = await _error(
        await api.post(
            PRESIGN,
            json={"original_filename": "a.jpg", "file_type": "image", "description": long},
            headers=auth,
        )
    )
    patch = await _error(
        await api.patch(f"/files/{record['id']}", json={"description": long}, headers=auth)
    )
    assert presign.get("reason") == patch.get("reason") == "description_too_long"
    # a PATCH's boolean is a JSON boolean too, with the field named
    patched = await _error(
        await api.patch(f"/files/{record['id']}", json={"is_public": "true"}, headers=auth)
    )
    assert "is_public" in patched["message"]
