"""What an integrator's outside hunt of the HTTP API found, over real HTTP on loopback.

- A stale If-Match was ignored when PATCH's body also named a `version` (the edit went in);
  an If-Match that is no tag at all was told "version must be a whole number".
- `?sort=` and `?status=` with an empty value were 400s, where the README says an empty value
  is the parameter left out (a website's filter <select> sends `status=` for "any").
- `?w=0` was told "w must be at least 1", `?w=99999` "at most 4096": README says the message
  names the limit, 1–4096.
- `{"description": 123}` was told it was too long (reason description_too_long); "é" typed
  decomposed (macOS) counted two characters though it is stored composed.
"""

from __future__ import annotations

import json
import unicodedata
from typing import Any

import pytest

from core.records import MAX_DESCRIPTION
from server.entry import EmbeddedServer
from tests.server_fixtures import Reply, bearer, http_call, make_tokens, upload_file

pytestmark = pytest.mark.timeout(60)


def _patch(server: EmbeddedServer, fid: int, token: str, body: Any, **headers: str) -> Reply:
    sent = {**bearer(token), "Content-Type": "application/json", **headers}
    return http_call(f"{server.url}/files/{fid}", "PATCH", json.dumps(body).encode(), sent)


def test_a_stale_if_match_holds_with_a_version_in_the_body(
    live: EmbeddedServer, media_dir: Any
) -> None:
    tokens = make_tokens(live.library)
    fid = upload_file(live, tokens.upload, media_dir.jpeg)["id"]
    v = _patch(live, fid, tokens.upload, {"description": "one"}).json()["version"]

    stale = _patch(
        live, fid, tokens.upload, {"description": "two", "version": v}, **{"If-Match": f'"{v - 1}"'}
    )
    assert stale.status == 412, stale.body
    assert stale.json()["error"]["reason"] == "stale_version"
    assert stale.json()["error"]["details"] == {"version": v}
    # the header holds, the body's version does not: the body's usual 409
    older = _patch(
        live, fid, tokens.upload, {"description": "two", "version": v - 1}, **{"If-Match": f'"{v}"'}
    )
    assert older.status == 409, older.body
    assert older.json()["error"]["reason"] == "stale_version"
    # both stale and alike: the precondition's 412
    both = _patch(
        live,
        fid,
        tokens.upload,
        {"description": "two", "version": v - 1},
        **{"If-Match": f'"{v - 1}"'},
    )
    assert both.status == 412, both.body
    got = http_call(f"{live.url}/files/{fid}", headers=bearer(tokens.read)).json()
    assert (got["description"], got["version"]) == ("one", v)
    garbage = _patch(live, fid, tokens.upload, {"description": "x"}, **{"If-Match": "garbage"})
    assert garbage.status == 400 and "If-Match" in garbage.json()["error"]["message"], garbage.body
    # both naming the file's version: the edit
    ok = _patch(
        live, fid, tokens.upload, {"description": "two", "version": v}, **{"If-Match": f'"{v}"'}
    )
    assert ok.status == 200 and ok.json()["description"] == "two", ok.body


def test_empty_sort_and_status_are_the_defaults(live: EmbeddedServer, media_dir: Any) -> None:
    tokens = make_tokens(live.library)
    for path in (media_dir.jpeg, media_dir.png):
        upload_file(live, tokens.upload, path)
    plain = http_call(f"{live.url}/files/", headers=bearer(tokens.read)).json()
    for query in ("sort=", "status=", "sort=&status=", "status=&q="):
        got = http_call(f"{live.url}/files/?{query}", headers=bearer(tokens.read))
        assert got.status == 200, (query, got.body)
        assert got.json()["items"] == plain["items"], query
    assert http_call(f"{live.url}/files/?sort=+", headers=bearer(tokens.read)).status == 400


def test_a_description_is_text_and_counted_as_stored(live: EmbeddedServer, media_dir: Any) -> None:
    tokens = make_tokens(live.library)
    fid = upload_file(live, tokens.upload, media_dir.jpeg)["id"]
    for wrong in (123, ["a"], {"a": 1}, True):
        got = _patch(live, fid, tokens.upload, {"description": wrong})
        assert got.status == 400, got.body
        error = got.json()["error"]
        assert error.get("reason") != "description_too_long", (wrong, error)
        assert "description must be text" in error["message"], error

    decomposed = unicodedata.normalize("NFD", "é") * (MAX_DESCRIPTION - 1)
    assert len(decomposed) > MAX_DESCRIPTION
    got = _patch(live, fid, tokens.upload, {"description": decomposed})
    assert got.status == 200, got.body
    assert got.json()["description"] == "é" * (MAX_DESCRIPTION - 1)
    too_long = _patch(live, fid, tokens.upload, {"description": "é" + "x" * MAX_DESCRIPTION})
    assert too_long.json()["error"]["reason"] == "description_too_long", too_long.body


def test_a_bounded_number_names_its_whole_range(live: EmbeddedServer, media_dir: Any) -> None:
    """README: `?w=` out of 1–4096 is a 400 naming that limit (the message named one end)."""
    tokens = make_tokens(live.library)
    fid = upload_file(live, tokens.upload, media_dir.jpeg)["id"]
    for query in ("w=0", "w=99999", "w=999999999999999999999"):
        got = http_call(f"{live.url}/stream/{fid}/image?{query}", headers=bearer(tokens.read))
        assert got.status == 400, (query, got.body)
        assert "from 1 to 4096" in got.json()["error"]["message"], (query, got.body)
    got = http_call(f"{live.url}/files/?limit=0", headers=bearer(tokens.read))
    assert "from 1 to 1000" in got.json()["error"]["message"], got.body


def test_a_name_of_only_dots_or_slashes_says_so(live: EmbeddedServer, media_dir: Any) -> None:
    """A desktop hunt: renaming to ".." was told "cannot be empty"; it is, once cleaned."""
    tokens = make_tokens(live.library)
    fid = upload_file(live, tokens.upload, media_dir.jpeg)["id"]
    for name in ("..", "", "/", " . ", "../.."):
        got = _patch(live, fid, tokens.upload, {"original_filename": name})
        assert got.status == 400, (name, got.body)
        error = got.json()["error"]
        assert error["reason"] == "empty_filename", (name, error)
        assert "only dots, spaces or slashes" in error["message"], (name, error)
