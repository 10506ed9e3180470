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


JSON = {"Content-Type": "application/json"}


async def test_huge_numbers_and_nan_are_a_400_not_a_500(
    api: Any, tokens: Tokens, media_dir: Any
) -> None:
    """int() refuses more than 4300 digits with a ValueError (answered 500); NaN and Infinity
    are no JSON (RFC 8259) though Python reads them: {"description": NaN} was told the
    description was too long."""
    auth = {**bearer(tokens.upload), **JSON}
    record = await uploaded(api, media_dir.jpeg, tokens.upload)
    big = "1" + "0" * 5000
    for method, path, body in (
        ("PATCH", f"/files/{record['id']}", '{"athlete_id": ' + big + "}"),
        ("POST", "/athletes", '{"name": "Big", "id": ' + big + "}"),
        (
            "POST",
            PRESIGN,
            '{"original_filename": "a.jpg", "file_type": "image", "size": -' + big + "}",
        ),
    ):
        error = await _error(await api.request(method, path, data=body, headers=auth))
        assert "too large" in error["message"], (path, error)
    for constant in ("NaN", "Infinity", "-Infinity"):
        for method, path, body in (
            ("PATCH", f"/files/{record['id']}", '{"description": ' + constant + "}"),
            (
                "POST",
                PRESIGN,
                '{"original_filename": "a.jpg", "file_type": "image", "x": ' + constant + "}",
            ),
        ):
            error = await _error(await api.request(method, path, data=body, headers=auth))
            assert error["message"] == "The body is not valid JSON", (constant, path, error)


async def test_json_integers_must_be_json_numbers(api: Any, tokens: Tokens) -> None:
    auth = bearer(tokens.upload)
    base = {"original_filename": "a.jpg", "file_type": "image"}
    for field in ("size", "athlete_id"):
        for value in ("100", "7", " 7 ", True, 2.5, [7], {}):
            error = await _error(await api.post(PRESIGN, json={**base, field: value}, headers=auth))
            assert field in error["message"], (field, value, error)
    for value in (" 44 ", "44", False):
        resp = await api.post("/athletes", json={"name": "Coerce", "id": value}, headers=auth)
        assert "'id'" in (await _error(resp))["message"], value
    # a JSON number, also with a zero fraction (README), is taken
    ok = await api.post(PRESIGN, json={**base, "size": 100.0, "athlete_id": 7}, headers=auth)
    assert ok.status == 201, await ok.text()
    assert (await ok.json())["file"]["athlete_id"] == 7
    made = await api.post("/athletes", json={"name": "Numbered", "id": 44}, headers=auth)
    assert made.status == 201, await made.text()
    # forms keep their text
    form = await api.post(PRESIGN, data={**base, "size": "100", "athlete_id": "7"}, headers=auth)
    assert form.status == 201, await form.text()


async def test_action_routes_read_their_optional_json_body(
    api: Any, tokens: Tokens, media_dir: Any
) -> None:
    """restore, cancel, retry and reprocess declare an optional JSON object body: one that is
    not JSON or not an object is a 400, as on confirm-upload, not ignored."""
    admin = bearer(tokens.admin)
    record = await uploaded(api, media_dir.jpeg, tokens.upload)
    trashed = await api.delete(f"/files/{record['id']}", headers=admin)
    assert trashed.status == 200, await trashed.text()
    paths = (
        f"/files/{record['id']}/restore",
        "/jobs/999999/cancel",
        "/jobs/999999/retry",
        "/files/999999/reprocess",
        "/files/999999/confirm-upload",
    )
    for path in paths:
        for body in ("{not json", "null", "[null, null]", "7", "NaN"):
            resp = await api.post(path, data=body, headers={**admin, **JSON})
            error = await _error(resp)
            assert "JSON" in error["message"], (path, body, error)
    # an object, an empty body or another type's body goes on to the action
    for body, headers in (("{}", JSON), ("", JSON), ("{not json", {"Content-Type": "text/plain"})):
        for path in paths[1:]:
            resp = await api.post(path, data=body, headers={**admin, **headers})
            assert resp.status == 404, (path, body, await resp.text())
    restored = await api.post(paths[0], data='{"x": 1}', headers={**admin, **JSON})
    assert restored.status == 200, await restored.text()


async def test_renew_refuses_part_numbers_below_one_for_any_upload(
    api: Any, tokens: Tokens
) -> None:
    auth = bearer(tokens.upload)
    resp = await api.post(
        PRESIGN,
        json={"original_filename": "r.jpg", "file_type": "image", "size": 1000},
        headers=auth,
    )
    assert resp.status == 201, await resp.text()
    fid = (await resp.json())["file_id"]
    renew = f"/files/{fid}/upload/renew"
    for numbers in ([-183], [0], [1, 0], "x", [True], ["1"]):
        error = await _error(await api.post(renew, json={"part_numbers": numbers}, headers=auth))
        assert "part_numbers" in error["message"], (numbers, error)
    ok = await api.post(renew, json={"part_numbers": [1]}, headers=auth)
    assert ok.status == 200, await ok.text()
