"""Handlers through aiohttp's test client: files, streaming, errors, auth, audit, metrics."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from PIL import Image

from core.library import Library
from server.state import LIBRARY
from tests.server_fixtures import Tokens, bearer

pytestmark = pytest.mark.timeout(60)


async def direct(
    api: Any, path: Path, token: str, file_type: str = "image", **fields: str
) -> aiohttp.ClientResponse:
    form = aiohttp.FormData()
    form.add_field(
        "file",
        path.read_bytes(),
        filename=fields.pop("filename", path.name),
        content_type="application/octet-stream",
    )
    form.add_field("file_type", file_type)
    for name, value in fields.items():
        form.add_field(name, value)
    return await api.post("/files/upload/direct", data=form, headers=bearer(token))


async def uploaded(
    api: Any, path: Path, token: str, file_type: str = "image", **fields: str
) -> dict[str, Any]:
    resp = await direct(api, path, token, file_type, **fields)
    assert resp.status == 201, await resp.text()
    return await resp.json()


async def test_direct_upload_then_duplicate(api: Any, tokens: Tokens, media_dir: Any) -> None:
    first = await uploaded(api, media_dir.jpeg, tokens.upload, is_public="true", athlete_id="7")
    assert first["file_type"] == "image" and first["is_public"] is True
    assert first["athlete_id"] == 7 and first["file_key"].startswith("athletes/7/")
    again = await direct(api, media_dir.jpeg, tokens.upload, is_public="true", athlete_id="7")
    assert again.status == 200
    body = await again.json()
    assert body["id"] == first["id"] and body["duplicate"] is True
    assert body["duplicate_of"] == first["id"]
    # the same bytes with other flags (no athlete, private) are a file of their own
    other = await direct(api, media_dir.jpeg, tokens.upload)
    assert other.status == 201 and (await other.json())["id"] != first["id"]


async def test_direct_upload_is_stored_by_renaming_its_spool_file(
    api: Any, tokens: Tokens, media_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The body is written (and fsynced) once: the spool file becomes the object."""
    from core.storage.local import LocalStorage

    def no_second_copy(*_: Any, **__: Any) -> Any:
        raise AssertionError("the spooled upload was copied into the store")

    monkeypatch.setattr(LocalStorage, "put_file", no_second_copy)
    body = await uploaded(api, media_dir.mp4, tokens.upload, "video")
    lib: Library = api.server.app[LIBRARY]
    record = lib.get_file(body["id"])
    assert record.size == media_dir.mp4.stat().st_size and record.status == "ready"
    assert list(lib.paths.tmp_dir.glob("upload-*")) == []


async def test_validation_errors_are_400_json(api: Any, tokens: Tokens, media_dir: Any) -> None:
    cases = [
        (media_dir.fake_exe_jpg, "image", "unsupported_type"),
        (media_dir.truncated_jpeg, "image", "corrupt_file"),
        (media_dir.jpeg, "video", "type_mismatch"),
        (media_dir.empty, "image", "empty_file"),
    ]
    for path, kind, code in cases:
        resp = await direct(api, path, tokens.upload, kind)
        assert resp.status == 400, await resp.text()
        error = (await resp.json())["error"]
        assert error["code"] == code and error["message"] and resp.headers["X-Request-ID"]
    metrics = await (await api.get("/metrics", headers=bearer(tokens.read))).text()
    assert 'mediadesk_validation_errors_total{code="' in metrics
    assert 'outcome="rejected"' in metrics


async def test_list_get_patch_trash_restore_delete(
    api: Any, tokens: Tokens, media_dir: Any
) -> None:
    image = await uploaded(api, media_dir.png, tokens.upload)
    video = await uploaded(api, media_dir.mp4, tokens.upload, "video", athlete_id="3")
    h = bearer(tokens.read)
    for path in ("/files", "/files/"):
        page = await (await api.get(path, headers=h)).json()
        assert page["total"] == 2 and page["limit"] == 50 and page["offset"] == 0
    page = await (await api.get("/files/?athlete_id=3&file_type=video&limit=5", headers=h)).json()
    assert [i["id"] for i in page["items"]] == [video["id"]] and page["limit"] == 5
    assert (await api.get("/files/?limit=0", headers=h)).status == 400

    resp = await api.patch(
        f"/files/{image['id']}",
        headers=bearer(tokens.upload),
        json={"description": "warm-up", "is_public": True},
    )
    assert resp.status == 200
    edited = await resp.json()
    assert edited["description"] == "warm-up" and edited["is_public"] is True
    stale = await api.patch(
        f"/files/{image['id']}",
        headers=bearer(tokens.upload),
        json={"description": "x", "version": image["version"]},
    )
    assert stale.status == 409
    error = (await stale.json())["error"]
    assert (error["code"], error["reason"]) == ("conflict", "stale_version")
    bad = await api.patch(
        f"/files/{image['id']}", headers=bearer(tokens.upload), json={"storage_key": "x"}
    )
    assert bad.status == 400
    # a rename without the type's extension keeps the old one, and says so: a download named
    # "final" opened in no player
    for typed, saved in (
        ("final", "final.mp4"),
        ("final.v2", "final.v2.mp4"),
        ("cut.MP4", "cut.MP4"),
    ):
        renamed = await api.patch(
            f"/files/{video['id']}",
            headers=bearer(tokens.upload),
            json={"original_filename": typed},
        )
        assert renamed.status == 200 and (await renamed.json())["original_filename"] == saved
    down = await api.get(f"/files/{video['id']}/download", headers=h, allow_redirects=False)
    assert 'filename="cut.MP4"' in down.headers["Content-Disposition"]

    ready_urls = (await (await api.get(f"/files/{image['id']}", headers=h)).json())["urls"]
    assert {"stream", "raw", "download"} <= set(ready_urls)
    gone = await api.delete(f"/files/{image['id']}", headers=bearer(tokens.upload))
    assert gone.status == 200
    assert (await api.get(f"/stream/{image['id']}/image", headers=h)).status == 404
    trash = await (await api.get("/files/?trashed=true", headers=h)).json()
    assert [i["id"] for i in trash["items"]] == [image["id"]]
    # a trashed file's JSON lists only links that answer (the outside report: stream, raw and
    # download were listed and each answered 404); its thumbnail still shows in the trash view
    alone = await (await api.get(f"/files/{image['id']}", headers=h)).json()
    for said in ((await gone.json())["file"], trash["items"][0], alone):
        urls = said["urls"]
        assert not {"stream", "raw", "download"} & set(urls), urls
        assert urls["public"] is None and urls["thumbnail"] == ready_urls["thumbnail"]
        for link in (urls["self"], urls["thumbnail"]):
            assert (await api.get(link, headers=h)).status == 200, link
    again = await api.delete(f"/files/{image['id']}", headers=bearer(tokens.upload))
    assert again.status == 409 and (await again.json())["error"]["reason"] == "already_trashed"
    restored = await api.post(f"/files/{image['id']}/restore", headers=bearer(tokens.upload))
    assert restored.status == 200 and (await restored.json())["is_trashed"] is False
    assert (await api.get(f"/files/{image['id']}", headers=h)).status == 200
    back = (await restored.json())["urls"]
    assert {k: v for k, v in back.items() if k != "public"} == {
        k: v for k, v in ready_urls.items() if k != "public"
    }

    hard = f"/files/{video['id']}?hard_delete=true"
    assert (await api.delete(hard, headers=bearer(tokens.upload))).status == 403
    assert (await api.delete(hard, headers=bearer(tokens.admin))).status == 200
    assert (await api.get(f"/files/{video['id']}", headers=h)).status == 404


async def test_stream_kinds_ranges_and_caching(api: Any, tokens: Tokens, media_dir: Any) -> None:
    image = await uploaded(api, media_dir.jpeg, tokens.upload, is_public="true")
    video = await uploaded(api, media_dir.mp4, tokens.upload, "video")
    h = bearer(tokens.read)
    wrong = await api.get(f"/stream/{image['id']}/video", headers=h)
    assert wrong.status == 400 and (await wrong.json())["error"]["code"] == "wrong_kind"
    assert (await api.get(f"/stream/{video['id']}/image", headers=h)).status == 400
    assert (await api.get("/stream/999/raw", headers=h)).status == 404

    resp = await api.get(f"/stream/{image['id']}/image")
    assert resp.status == 200
    assert resp.headers["Cache-Control"] == "public, max-age=300"  # unversioned: briefly
    assert resp.headers["Content-Type"] == "image/jpeg"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert await resp.read() == media_dir.jpeg.read_bytes()
    etag = resp.headers["ETag"]
    cached = await api.get(f"/stream/{image['id']}/image", headers={"If-None-Match": etag})
    assert cached.status == 304

    data = media_dir.mp4.read_bytes()
    part = await api.get(f"/stream/{video['id']}/video", headers={**h, "Range": "bytes=-500"})
    assert part.status == 206 and await part.read() == data[-500:]
    assert part.headers["Content-Range"] == f"bytes {len(data) - 500}-{len(data) - 1}/{len(data)}"
    assert part.headers["Cache-Control"].startswith("private")
    too_far = await api.get(
        f"/stream/{video['id']}/raw", headers={**h, "Range": f"bytes={len(data) + 10}-"}
    )
    assert too_far.status == 416 and too_far.headers["Content-Range"] == f"bytes */{len(data)}"
    head = await api.head(f"/stream/{video['id']}/video", headers=h)
    assert head.status == 200 and head.headers["Content-Length"] == str(len(data))

    # past 64 bits too, the 400 names w's own limit, not the integer's
    for width in ("4097", "99999999999999999999"):
        for path in (f"/stream/{image['id']}/image", f"/files/{image['id']}/thumbnail"):
            wide = await api.get(f"{path}?w={width}", headers=h)
            assert wide.status == 400, path
            said = (await wide.json())["error"]["message"]
            assert "4096" in said and "9223372036854775807" not in said, (path, said)
    for path in (
        f"/files/{video['id']}/presigned-url?kind=watch&expires_in=",
        f"/files/{video['id']}/presigned-url?expires_in=",
        f"/files/{video['id']}/download?expires_in=",
    ):
        for seconds in ("604801", "99999999999999999999"):
            late = await api.get(path + seconds, headers=h, allow_redirects=False)
            assert late.status == 400, path
            said = (await late.json())["error"]["message"]
            assert "604800" in said and "9223372036854775807" not in said, (path, said)
    small = await api.get(f"/stream/{image['id']}/image?w=64")  # the ladder's first rung
    assert small.status == 200 and small.headers["Content-Type"] == "image/webp"
    assert small.headers["X-MediaDesk-Width"] == "160"
    with Image.open(io.BytesIO(await small.read())) as resized:
        assert resized.format == "WEBP" and resized.size == (160, 120)
    info = await (await api.get(f"/stream/{video['id']}/info", headers=h)).json()
    assert info["file_type"] == "video" and info["duration"] and info["supports_range"] is True
    metrics = await (await api.get("/metrics", headers=h)).text()
    assert 'mediadesk_bytes_served_total{file_type="video"}' in metrics


async def test_thumbnail_download_and_presigned_url(
    api: Any, tokens: Tokens, media_dir: Any
) -> None:
    image = await uploaded(
        api, media_dir.jpeg, tokens.upload, original_filename='Año nuevo "best".jpg'
    )
    h = bearer(tokens.read)
    thumb = await api.get(f"/files/{image['id']}/thumbnail", headers=h)
    assert thumb.status == 200 and thumb.headers["Content-Type"] == "image/webp"
    again = await api.get(
        f"/files/{image['id']}/thumbnail", headers={**h, "If-None-Match": thumb.headers["ETag"]}
    )
    assert again.status == 304
    # RFC 9110 13.1.2: If-None-Match compares weakly, takes a list and `*`; a browser that
    # cached the thumbnail through a proxy sends it back weak, among others.
    for header in (f'"other", W/{thumb.headers["ETag"]}', "*"):
        cached = await api.get(
            f"/files/{image['id']}/thumbnail", headers={**h, "If-None-Match": header}
        )
        assert cached.status == 304, header
    fresh = await api.get(f"/files/{image['id']}/thumbnail", headers={**h, "If-None-Match": '"x"'})
    assert fresh.status == 200

    resp = await api.get(f"/files/{image['id']}/download", headers=h, allow_redirects=False)
    assert resp.status == 302
    disposition = resp.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''A%C3%B1o" in disposition
    location = resp.headers["Location"]
    assert "/signed/" in location and "sig=" in location

    for bad in ("0", "604801", "abc"):
        r = await api.get(f"/files/{image['id']}/presigned-url?expires_in={bad}", headers=h)
        assert r.status == 400
    signed = await (
        await api.get(f"/files/{image['id']}/presigned-url?expires_in=60", headers=h)
    ).json()
    assert signed["expires_in"] == 60 and signed["url"] == signed["download_url"]
    path = signed["url"].split("://", 1)[1].split("/", 1)[1]
    got = await api.get("/" + path)
    assert got.status == 200 and await got.read() == media_dir.jpeg.read_bytes()
    assert "filename*=UTF-8''A%C3%B1o" in got.headers["Content-Disposition"]


async def test_auth_scopes_and_public_files(api: Any, tokens: Tokens, media_dir: Any) -> None:
    private = await uploaded(api, media_dir.jpeg, tokens.upload)
    public = await uploaded(api, media_dir.png, tokens.upload, is_public="true")
    assert (await api.get(f"/stream/{public['id']}/image")).status == 200
    assert (await api.get(f"/files/{public['id']}")).status == 200
    anon = await api.get(f"/stream/{private['id']}/image")
    assert anon.status == 401 and anon.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await anon.json())["error"]["code"] == "unauthorized"
    assert (await api.get(f"/files/{private['id']}")).status == 401
    listing = await (await api.get("/files/")).json()
    assert [i["id"] for i in listing["items"]] == [public["id"]]

    bad = await api.get("/files/", headers=bearer("mdk_not-a-real-token"))
    assert bad.status == 401 and (await bad.json())["error"]["code"] == "invalid_token"
    assert (await api.get("/files/", headers={"Authorization": "Basic abc"})).status == 401
    assert (await api.get("/athletes")).status == 401
    assert (await api.get("/athletes", headers=bearer(tokens.read))).status == 200

    form = {"original_filename": "a.jpg", "file_type": "image"}
    denied = await api.post("/files/upload/presigned", data=form, headers=bearer(tokens.read))
    assert denied.status == 403 and (await denied.json())["error"]["code"] == "insufficient_scope"
    assert (await api.get("/audit", headers=bearer(tokens.upload))).status == 403
    assert (await api.get("/audit", headers=bearer(tokens.admin))).status == 200

    store = api.server.app[LIBRARY].tokens
    victim = next(t for t in store.list() if t.scope == "read")
    store.revoke(victim.id)
    assert (await api.get("/athletes", headers=bearer(tokens.read))).status == 401


async def test_audit_records_private_access(api: Any, tokens: Tokens, media_dir: Any) -> None:
    private = await uploaded(api, media_dir.jpeg, tokens.upload)
    public = await uploaded(api, media_dir.png, tokens.upload, is_public="true")
    h = bearer(tokens.read)
    await api.get(f"/stream/{private['id']}/image", headers={**h, "X-Request-ID": "abc-1"})
    await api.get(f"/files/{private['id']}", headers=h)
    await api.get(f"/stream/{public['id']}/image", headers=h)
    signed = await (await api.get(f"/files/{private['id']}/presigned-url", headers=h)).json()
    await api.get("/" + signed["url"].split("://", 1)[1].split("/", 1)[1])
    resp = await api.get("/audit", headers=bearer(tokens.admin))
    entries = (await resp.json())["items"]
    actions = {(e["action"], e["file_id"]) for e in entries}
    assert ("stream_image", private["id"]) in actions and ("metadata", private["id"]) in actions
    assert ("signed_get", private["id"]) in actions
    assert all(e["file_id"] != public["id"] for e in entries)
    entry = next(e for e in entries if e["action"] == "stream_image")
    assert entry["actor"].startswith("token:test-read") and entry["remote"] == "127.0.0.1"
    assert entry["at"]
    only = await (
        await api.get(
            f"/audit?file_id={private['id']}&action=signed_get", headers=bearer(tokens.admin)
        )
    ).json()
    assert only["total"] == 1 and only["items"][0]["actor"] == "signed-url"


async def test_audit_since_past_the_ends_of_the_calendar_is_400(
    api: Any, tokens: Tokens, media_dir: Any
) -> None:
    """Valid ISO 8601 moments that no datetime holds in UTC were a 500 (OverflowError when the
    query bound them); they are 400 invalid_input, and the ends themselves still list."""
    private = await uploaded(api, media_dir.jpeg, tokens.upload)
    await api.get(f"/files/{private['id']}", headers=bearer(tokens.read))
    admin = bearer(tokens.admin)
    for since in ("9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+01:00"):
        resp = await api.get("/audit", params={"since": since}, headers=admin)
        assert resp.status == 400, since
        error = (await resp.json())["error"]
        assert error["code"] == "invalid_input" and "since" in error["message"]
        assert error["request_id"]
    everything = await api.get("/audit", params={"since": "0001-01-01T00:00:00Z"}, headers=admin)
    assert (await everything.json())["total"] >= 1
    nothing = await api.get("/audit", params={"since": "9999-12-31T23:59:59Z"}, headers=admin)
    assert (await nothing.json())["total"] == 0


async def test_errors_are_json_and_never_leak(
    api: Any, tokens: Tokens, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = await api.get("/no/such/route")
    assert missing.status == 404 and (await missing.json())["error"]["code"] == "not_found"
    wrong = await api.put("/files/", headers=bearer(tokens.read))
    assert wrong.status == 405 and (await wrong.json())["error"]["code"] == "method_not_allowed"
    assert (await api.get("/files/abc", headers=bearer(tokens.read))).status == 400

    lib: Library = api.server.app[LIBRARY]

    def boom(*_: object, **__: object) -> None:
        raise RuntimeError("secret database password in the message")

    monkeypatch.setattr(lib, "athletes", boom)
    resp = await api.get("/athletes", headers={**bearer(tokens.read), "X-Request-ID": "rid-42"})
    assert resp.status == 500
    body = await resp.json()
    assert body["error"]["code"] == "internal_error" and "secret" not in json.dumps(body)
    assert resp.headers["X-Request-ID"] == "rid-42" and body["error"]["request_id"] == "rid-42"


async def test_athletes(api: Any, tokens: Tokens) -> None:
    h = bearer(tokens.upload)
    created = await api.post("/athletes", json={"name": "Ana Pérez"}, headers=h)
    assert created.status == 201
    athlete = await created.json()
    dup = await api.post("/athletes", data={"name": "Ana Pérez"}, headers=h)
    assert dup.status == 409
    renamed = await api.patch(f"/athletes/{athlete['id']}", json={"name": "Ana P."}, headers=h)
    assert renamed.status == 200 and (await renamed.json())["name"] == "Ana P."
    assert (await api.patch("/athletes/999", json={"name": "X"}, headers=h)).status == 404
    listing = await (await api.get("/athletes", headers=h)).json()
    assert [a["name"] for a in listing["items"]] == ["Ana P."]
    # a free name with a taken id: the 409 names the id and its athlete, not the name
    taken = await api.post("/athletes", json={"name": "Brand new", "id": athlete["id"]}, headers=h)
    assert taken.status == 409
    error = (await taken.json())["error"]
    assert (error["code"], error["reason"]) == ("conflict", "athlete_id_taken")
    assert error["details"] == {"athlete_id": athlete["id"], "name": "Ana P."}
    assert str(athlete["id"]) in error["message"] and "Ana P." in error["message"]
    assert "Brand new" not in error["message"]
    # name and id both taken: the name's conflict, as before
    both = await api.post("/athletes", json={"name": "Ana P.", "id": athlete["id"]}, headers=h)
    assert (await both.json())["error"]["reason"] == "athlete_exists"


async def test_cors_preflight_and_headers(
    aiohttp_client: Any, library: Library, tokens: Tokens
) -> None:
    from server.app import create_app
    from tests.server_fixtures import server_config

    config = server_config(library, cors_origins=("https://coach.example",))
    client = await aiohttp_client(create_app(library, config=config))
    pre = await client.options(
        "/files/upload/presigned",
        headers={
            "Origin": "https://coach.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization, content-type",
        },
    )
    assert pre.status == 204
    assert pre.headers["Access-Control-Allow-Origin"] == "https://coach.example"
    assert "authorization" in pre.headers["Access-Control-Allow-Headers"].lower()
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    put = await client.options(
        "/signed/general/x.jpg",
        headers={
            "Origin": "https://coach.example",
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    assert put.status == 204
    other = await client.options(
        "/files/",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    assert other.status == 403 and "Access-Control-Allow-Origin" not in other.headers
    resp = await client.get(
        "/files/", headers={"Origin": "https://coach.example", **bearer(tokens.read)}
    )
    assert resp.headers["Access-Control-Allow-Origin"] == "https://coach.example"
    exposed = resp.headers["Access-Control-Expose-Headers"]
    for name in ("Content-Range", "Accept-Ranges", "ETag", "Content-Length"):
        assert name in exposed
    denied = await client.get("/files/", headers={"Origin": "https://coach.example"})
    assert denied.status == 200 and denied.headers["Access-Control-Allow-Origin"]


async def test_cors_answers_vary_on_origin_with_or_without_one(
    aiohttp_client: Any, library: Library, tokens: Tokens, media_dir: Any
) -> None:
    """A shared cache (a CDN before the public files) must not hand the copy fetched without
    an Origin, which has no Access-Control-Allow-Origin, to an allowed page for a year."""
    from server.app import create_app
    from tests.server_fixtures import server_config

    config = server_config(library, cors_origins=("https://coach.example",))
    client = await aiohttp_client(create_app(library, config=config))
    made = await uploaded(client, media_dir.jpeg, tokens.upload, is_public="true")
    stream = made["urls"]["stream"]
    assert "?v=" in stream

    def vary(resp: aiohttp.ClientResponse) -> list[str]:
        return [v.strip().lower() for v in ",".join(resp.headers.getall("Vary", [])).split(",")]

    plain = await client.get(stream)
    assert plain.status == 200 and "immutable" in plain.headers["Cache-Control"]
    assert "Access-Control-Allow-Origin" not in plain.headers
    assert vary(plain).count("origin") == 1
    good = await client.get(stream, headers={"Origin": "https://coach.example"})
    assert good.headers["Access-Control-Allow-Origin"] == "https://coach.example"
    assert vary(good).count("origin") == 1
    other = await client.get(stream, headers={"Origin": "https://evil.example"})
    assert other.status == 200 and "Access-Control-Allow-Origin" not in other.headers
    assert vary(other).count("origin") == 1
    # a revalidation and an error answer too
    same = await client.get(stream, headers={"If-None-Match": plain.headers["ETag"]})
    assert same.status == 304 and vary(same).count("origin") == 1
    missing = await client.get("/stream/999999/image")
    assert missing.status == 404 and vary(missing).count("origin") == 1
    listing = await client.get("/files/", headers=bearer(tokens.read))
    assert vary(listing).count("origin") == 1

    # no CORS configured: no answer ever names an origin, so none varies on it
    bare = await aiohttp_client(create_app(library, config=server_config(library)))
    assert "origin" not in vary(await bare.get(stream, headers={"Origin": "https://x.example"}))


async def test_upload_rate_limit(library: Library, aiohttp_client: Any, tokens: Tokens) -> None:
    from server.app import create_app
    from tests.server_fixtures import server_config

    client = await aiohttp_client(
        create_app(library, config=server_config(library, upload_rate_limit=3))
    )
    form = {"original_filename": "a.jpg", "file_type": "image"}
    statuses = []
    for _ in range(4):
        resp = await client.post(
            "/files/upload/presigned", data=form, headers=bearer(tokens.upload)
        )
        statuses.append(resp.status)
    assert statuses == [201, 201, 201, 429]
    assert int(resp.headers["Retry-After"]) >= 1
    assert (await resp.json())["error"]["code"] == "rate_limited"
    other = await client.post("/files/upload/presigned", data=form, headers=bearer(tokens.admin))
    assert other.status == 201  # buckets are per token


async def test_upload_rate_limit_follows_the_setting_live(
    library: Library, aiohttp_client: Any, tokens: Tokens
) -> None:
    """A desktop hunt: Settings ▸ Limits ▸ API upload limit 60 → 5, saved: uploads went on at
    60 a minute and /config said 60 until the server was restarted; then 5 → 100 held at 5."""
    from server.app import create_app
    from tests.server_fixtures import server_config

    client = await aiohttp_client(create_app(library, config=server_config(library)))
    form = {"original_filename": "a.jpg", "file_type": "image"}

    async def statuses(n: int) -> list[int]:
        got = []
        for _ in range(n):
            resp = await client.post(
                "/files/upload/presigned", data=form, headers=bearer(tokens.upload)
            )
            got.append(resp.status)
        return got

    assert library.settings.upload_rate_limit == 60
    assert await statuses(3) == [201] * 3
    library.apply_settings(upload_rate_limit=5)  # as the desktop's Settings save does
    assert (await (await client.get("/config")).json())["upload_rate_limit"] == 5
    assert await statuses(6) == [201] * 5 + [429]  # the new burst, then the new rate
    library.apply_settings(upload_rate_limit=0)
    assert (await (await client.get("/config")).json())["upload_rate_limit"] == 0
    assert await statuses(4) == [201] * 4


async def test_sse_receives_created_event(api: Any, tokens: Tokens, media_dir: Any) -> None:
    resp = await api.get("/events", headers=bearer(tokens.read))
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/event-stream")
    assert (await api.get("/events")).status == 401
    first = await resp.content.readuntil(b"\n\n")
    assert b"retry:" in first
    task = asyncio.create_task(uploaded(api, media_dir.gif, tokens.upload))
    seen = b""
    while b"event: created" not in seen:
        seen += await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 20)
    record = await task
    data = next(line for line in seen.decode().splitlines() if line.startswith("data: "))
    event = json.loads(data[6:])
    assert event["kind"] == "created" and event["file_id"] == record["id"]
    beat = await asyncio.wait_for(resp.content.readuntil(b"\n\n"), 5)
    assert beat.startswith(b": heartbeat")
    resp.close()


async def test_openapi_documents_every_route(api: Any) -> None:
    spec = await (await api.get("/openapi.json")).json()
    assert spec["openapi"].startswith("3.1")
    app = api.server.app
    missing = []
    for route in app.router.routes():
        if route.method in ("HEAD", "OPTIONS"):
            continue
        path = route.resource.canonical
        op = spec["paths"].get(path, {}).get(route.method.lower())
        if op is None:
            missing.append(f"{route.method} {path}")
            continue
        assert op["responses"], path
        for status, response in op["responses"].items():
            if status not in ("204", "302", "304"):
                assert response.get("content"), f"{route.method} {path} {status}"
        if (
            route.method in ("POST", "PUT", "PATCH")
            and "restore" not in path
            and "confirm" not in path
        ):
            assert op.get("requestBody"), f"{route.method} {path} has no request body"
    assert not missing, f"undocumented routes: {missing}"
    refs = json.dumps(spec).count("#/components/schemas/")
    assert refs > 20
    for name in json.dumps(spec).split('"#/components/schemas/')[1:]:
        assert name.split('"')[0] in spec["components"]["schemas"]
    docs = await api.get("/docs")
    page = await docs.text()
    assert docs.status == 200 and "/openapi.json" in page
    assert "<script src" not in page and "https://" not in page  # works offline


async def test_health(api: Any) -> None:
    resp = await api.get("/health")
    body = await resp.json()
    assert resp.status == 200 and body["status"] == "ok" and body["storage"]["backend"] == "local"


async def test_stream_416_and_412_bodies_carry_the_request_id(
    api: Any, tokens: Tokens, media_dir: Any
) -> None:
    """Every error body names the request id the X-Request-ID header carries (README, HTTP
    API), also the 416 and 412 the streaming code answers itself."""
    video = await uploaded(api, media_dir.mp4, tokens.upload, "video")
    size = media_dir.mp4.stat().st_size
    h = bearer(tokens.read)
    for extra in ({"Range": f"bytes={size + 10}-"}, {"If-Match": '"not-this-one"'}):
        signed = await (await api.get(f"/files/{video['id']}/presigned-url", headers=h)).json()
        download = signed["url"].split("://", 1)[1].split("/", 1)[1]  # its attachment link
        paths = (f"/stream/{video['id']}/raw", f"/stream/{video['id']}/video")
        for path in (*paths, f"/{download}"):
            resp = await api.get(path, headers={**h, **extra, "X-Request-ID": "rq-416-412"})
            assert resp.status in (412, 416), await resp.text()
            assert resp.headers["X-Request-ID"] == "rq-416-412"
            # the JSON error as every other route answers it, never saved as the file
            assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
            assert "Content-Disposition" not in resp.headers, path
            error = (await resp.json())["error"]
            assert error["request_id"] == "rq-416-412", error
