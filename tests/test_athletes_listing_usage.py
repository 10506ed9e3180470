"""Over real HTTP: an athlete's rename answers the list's file_count, an anonymous listing's
filters only narrow its public-ready view, and /usage names the objects folder to admins only."""

from __future__ import annotations

from typing import Any

import pytest

from server.entry import EmbeddedServer
from tests.server_fixtures import Tokens, bearer, http_call, multipart_body, upload_file

pytestmark = pytest.mark.timeout(90)


def call(live: EmbeddedServer, method: str, path: str, token: str | None = None, **kw: Any) -> Any:
    headers = {"Content-Type": "application/json", **(bearer(token) if token else {})}
    resp = http_call(f"{live.url}{path}", method, headers=headers, **kw)
    return resp.status, resp.json()


def test_athlete_rename_and_create_answer_the_lists_file_count(
    live: EmbeddedServer, tokens: Tokens, media_dir: Any
) -> None:
    for image in (media_dir.jpeg, media_dir.png, media_dir.webp):
        upload_file(live, tokens.upload, image, athlete_id="7")
    trashed = upload_file(live, tokens.upload, media_dir.gif, athlete_id="7")
    assert call(live, "DELETE", f"/files/{trashed['id']}", tokens.upload)[0] == 200

    status, listed = call(live, "GET", "/athletes", tokens.read)
    assert status == 200
    seven = next(a for a in listed["items"] if a["id"] == 7)
    assert (seven["file_count"], seven["trash_count"]) == (3, 1)  # ready: untrashed, trashed

    status, renamed = call(live, "PATCH", "/athletes/7", tokens.upload, body=b'{"name":"Seven"}')
    assert status == 200
    assert renamed == {"id": 7, "name": "Seven", "file_count": 3, "trash_count": 1, "version": 2}
    status, listed = call(live, "GET", "/athletes", tokens.read)
    assert next(a for a in listed["items"] if a["id"] == 7) == renamed

    status, created = call(live, "POST", "/athletes", tokens.upload, body=b'{"name":"Nueva"}')
    assert status == 201 and (created["file_count"], created["trash_count"]) == (0, 0)


def test_anonymous_listing_filters_narrow_the_public_ready_view(
    live: EmbeddedServer, tokens: Tokens, media_dir: Any
) -> None:
    public = [
        upload_file(live, tokens.upload, image, is_public="true", athlete_id="3")["id"]
        for image in (media_dir.jpeg, media_dir.png)
    ]
    upload_file(live, tokens.upload, media_dir.webp, is_public="false", athlete_id="3")
    gone = upload_file(live, tokens.upload, media_dir.gif, is_public="true")["id"]
    assert call(live, "DELETE", f"/files/{gone}", tokens.upload)[0] == 200
    body, ctype = multipart_body(
        {"original_filename": "later.jpg", "file_type": "image", "is_public": "true"}
    )
    pending = http_call(
        f"{live.url}/files/upload/presigned",
        "POST",
        body,
        {"Content-Type": ctype, **bearer(tokens.upload)},
    )
    assert pending.status == 201

    def anonymous(query: str) -> tuple[int, list[int]]:
        status, page = call(live, "GET", f"/files/?{query}")
        assert status == 200, page
        assert page["total"] == len(page["items"])
        return page["total"], sorted(item["id"] for item in page["items"])

    everything = (2, sorted(public))
    assert anonymous("") == everything
    for narrowing in ("is_public=true", "status=ready", "status=any", "trashed=false"):
        assert anonymous(narrowing) == everything, narrowing
    assert anonymous("athlete_id=3&is_public=true") == everything
    assert anonymous("athlete_id=4") == (0, [])
    for outside in (
        "is_public=false",
        "trashed=true",
        "trash=true",
        "status=pending",
        "status=failed",
        "is_public=false&status=any",
        "trashed=true&is_public=true",
    ):
        status, page = call(live, "GET", f"/files/?{outside}&limit=7")
        assert status == 200, outside
        assert page == {"items": [], "total": 0, "limit": 7, "offset": 0, "next_cursor": None}, (
            outside
        )
    # the filters are still checked; with a token they are what they say
    assert call(live, "GET", "/files/?status=bogus")[0] == 400
    assert call(live, "GET", "/files/?is_public=false&limit=0")[0] == 400
    status, page = call(live, "GET", "/files/?is_public=false", tokens.read)
    assert status == 200 and page["total"] == 1
    status, page = call(live, "GET", "/files/?trashed=true", tokens.read)
    assert status == 200 and [i["id"] for i in page["items"]] == [gone]


def test_usage_names_the_objects_folder_to_admins_only(
    live: EmbeddedServer, tokens: Tokens
) -> None:
    folder = str(live.library.paths.objects_dir)
    for token in (tokens.read, tokens.upload):
        resp = http_call(f"{live.url}/usage?history_days=3", headers=bearer(token))
        assert resp.status == 200
        assert resp.json()["storage"] == "local folder"
        assert folder.encode() not in resp.body and b"/objects" not in resp.body
    resp = http_call(f"{live.url}/usage", headers=bearer(tokens.admin))
    assert resp.status == 200 and resp.json()["storage"] == f"local folder {folder}"
    # a reader's answer does not change what the next admin sees, nor the other way round
    resp = http_call(f"{live.url}/usage", headers=bearer(tokens.read))
    assert resp.json()["storage"] == "local folder"


def test_a_name_another_athlete_has_answers_conflict_athlete_exists(
    live: EmbeddedServer, tokens: Tokens
) -> None:
    status, marco = call(live, "POST", "/athletes", tokens.upload, body=b'{"name":"Marco Ruiz"}')
    assert status == 201
    status, ana = call(live, "POST", "/athletes", tokens.upload, body=b'{"name":"Ana Gil"}')
    assert status == 201
    for method, path in (("POST", "/athletes"), ("PATCH", f"/athletes/{ana['id']}")):
        status, body = call(live, method, path, tokens.upload, body=b'{"name":"Marco Ruiz"}')
        assert status == 409, body
        error = body["error"]
        assert error["code"] == "conflict" and error["reason"] == "athlete_exists"
        assert error["details"] == {"name": "Marco Ruiz", "athlete_id": marco["id"]}
