"""A presigned upload's URL outlives what happens to its pending file: a hard delete, the trash,
its expiry (R2/S3's URL cannot be revoked: what it writes later is swept), an athlete changed
before the confirm (the key follows the athlete on every backend), and the words of a presign
refused for the kind its name says."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.library import Library
from core.maintenance import expire_pending, reconcile
from core.storage.routing import RoutingStorage
from core.storage.s3 import S3Storage
from server.entry import EmbeddedServer
from tests.internals import storage_of
from tests.server_fixtures import bearer, http_call, make_tokens, presign_grant

pytestmark = pytest.mark.timeout(120)


def _swept_late_put(lib: Library, upload: dict[str, Any], data: bytes) -> None:
    """The URL's PUT after the pending file went writes an object no row names: known (a
    pending deletion due 5 minutes after the URL's expiry), never an orphan, then deleted."""
    key = upload["file_key"]
    assert http_call(upload["upload_url"], "PUT", data, upload["headers"]).status == 200
    found = reconcile(lib)
    assert found.objects_without_rows == [] and key in found.pending_deletions, found.as_dict()
    expires = datetime.fromisoformat(upload["expires_at"])
    assert lib.deferred.run(expires + timedelta(seconds=299)) == []
    assert lib.deferred.run(expires + timedelta(seconds=301)) == [key]
    assert reconcile(lib).clean


@pytest.mark.parametrize("how", ["hard_delete", "trash_then_empty", "expiry"])
def test_a_pending_s3_upload_dropped_gets_its_url_swept(
    s3_live: EmbeddedServer, media_dir: Any, how: str
) -> None:
    lib, url = s3_live.library, s3_live.url
    tokens = make_tokens(lib)
    data = media_dir.png.read_bytes()
    upload = presign_grant(url, tokens.upload, original_filename="h.png", file_type="image")
    fid = upload["file_id"]
    if how == "hard_delete":
        gone = http_call(f"{url}/files/{fid}?hard_delete=true", "DELETE", b"", bearer(tokens.admin))
        assert gone.status == 200, gone.body
    elif how == "trash_then_empty":
        lib.trash(fid)
        assert lib.empty_trash() == [fid]
    else:
        expires = datetime.fromisoformat(upload["expires_at"])
        assert expire_pending(lib, now=expires + timedelta(seconds=1)) == [fid]
    _swept_late_put(lib, upload, data)


def test_a_local_pending_upload_dropped_needs_no_sweep(live: EmbeddedServer) -> None:
    """The local signed PUT asks the catalog first: refused, nothing to sweep."""
    lib, url = live.library, live.url
    tokens = make_tokens(lib)
    upload = presign_grant(url, tokens.upload, original_filename="h.png", file_type="image")
    lib.delete(upload["file_id"], hard=True)
    assert http_call(upload["upload_url"], "PUT", b"x", upload["headers"]).status == 409
    assert reconcile(lib).clean and not reconcile(lib).pending_deletions


@pytest.mark.parametrize("backend", ["local", "s3"])
def test_an_athlete_changed_before_the_confirm_moves_the_key(
    request: pytest.FixtureRequest, media_dir: Any, backend: str
) -> None:
    server: EmbeddedServer = request.getfixturevalue("live" if backend == "local" else "s3_live")
    lib, url = server.library, server.url
    tokens = make_tokens(lib)
    data = media_dir.png.read_bytes()
    upload = presign_grant(
        url, tokens.upload, original_filename="k.png", file_type="image", athlete_id=7
    )
    fid = upload["file_id"]
    assert upload["file_key"].startswith("athletes/7/")
    patched = http_call(
        f"{url}/files/{fid}",
        "PATCH",
        json.dumps({"athlete_id": 9}).encode(),
        {**bearer(tokens.upload), "Content-Type": "application/json"},
    )
    assert patched.status == 200, patched.body
    # the URL handed out still names the key it was signed for
    assert http_call(upload["upload_url"], "PUT", data, upload["headers"]).status == 200
    done = http_call(f"{url}/files/{fid}/confirm-upload", "POST", b"", bearer(tokens.upload))
    assert done.status == 200, done.body
    record = done.json()
    assert record["athlete_id"] == 9 and record["file_key"].startswith("athletes/9/"), record
    raw = http_call(f"{url}/stream/{fid}/raw", headers=bearer(tokens.read))
    assert raw.status == 200 and raw.body == data
    assert http_call(f"{url}/files/{fid}/thumbnail", headers=bearer(tokens.read)).status == 200
    lib.deferred.run(datetime.now(UTC) + timedelta(days=1))
    found = reconcile(lib)
    assert found.clean and found.objects_without_rows == [], found.as_dict()


def test_a_presign_of_a_video_name_as_an_image_says_so(live: EmbeddedServer) -> None:
    tokens = make_tokens(live.library)
    for ask, said in (
        ({"original_filename": "jump.mp4"}, "jump.mp4 is a video (video/mp4), not an image"),
        (
            {"original_filename": "jump.jpg", "content_type": "video/mp4"},
            "content_type video/mp4 is a video (video/mp4), not an image",
        ),
    ):
        reply = http_call(
            f"{live.url}/files/upload/presigned",
            "POST",
            json.dumps({**ask, "file_type": "image"}).encode(),
            {**bearer(tokens.upload), "Content-Type": "application/json"},
        )
        assert reply.status == 400, reply.body
        error = reply.json()["error"]
        assert error["code"] == "type_mismatch" and error["message"] == said, error


def test_a_bucket_url_signs_only_a_content_type_the_client_named(
    s3_live: EmbeddedServer, media_dir: Any
) -> None:
    """R2 checks a signed Content-Type byte for byte; a browser PUTs its own spelling (file.type,
    video/avi for .avi on Windows): the name's type is not signed, the client's is."""
    from urllib.parse import parse_qs, urlsplit

    lib, url = s3_live.library, s3_live.url
    tokens = make_tokens(lib)
    data = media_dir.png.read_bytes()

    def signed_headers(upload: dict[str, Any]) -> list[str]:
        query = parse_qs(urlsplit(upload["upload_url"]).query)
        return query["X-Amz-SignedHeaders"][0].split(";")

    by_name = presign_grant(url, tokens.upload, original_filename="clip.png", file_type="image")
    assert "content-type" not in signed_headers(by_name) and by_name["headers"] == {}
    put = http_call(by_name["upload_url"], "PUT", data, {"Content-Type": "image/x-png"})
    assert put.status == 200, put.body
    done = http_call(
        f"{url}/files/{by_name['file_id']}/confirm-upload", "POST", b"", bearer(tokens.upload)
    )
    assert done.status == 200 and done.json()["content_type"] == "image/png", done.body
    named = presign_grant(
        url, tokens.upload, original_filename="n.png", file_type="image", content_type="image/png"
    )
    assert "content-type" in signed_headers(named)
    assert named["headers"] == {"Content-Type": "image/png"}


@pytest.mark.parametrize(
    ("name", "named", "sent", "media", "in_parts"),
    [
        ("clip.avi", None, "video/avi", "avi", False),  # an alias, not signed
        ("clip.avi", None, "application/octet-stream", "avi", True),  # by UploadPartCopy
        ("clip.avi", "video/avi", "video/avi", "avi", False),  # the alias the client signed
        ("photo.jpg", None, "application/octet-stream", "png", False),  # a PNG named .jpg
    ],
)
def test_a_confirmed_bucket_object_has_the_files_content_type(
    s3_live: EmbeddedServer,
    media_dir: Any,
    name: str,
    named: str | None,
    sent: str,
    media: str,
    in_parts: bool,
) -> None:
    """The bucket serves an object with the Content-Type it stores (a public R2 domain's links,
    R2_PUBLIC_DOMAIN): the confirm's copy in the bucket kept what the client's PUT sent."""
    lib, url = s3_live.library, s3_live.url
    tokens = make_tokens(lib)
    storage = storage_of(lib)
    bucket = storage.active if isinstance(storage, RoutingStorage) else storage
    assert isinstance(bucket, S3Storage)
    if in_parts:
        bucket.copy_threshold = 0
    kind = "video" if media == "avi" else "image"
    ask: dict[str, Any] = {"original_filename": name, "file_type": kind}
    if named:
        ask["content_type"] = named
    upload = presign_grant(url, tokens.upload, **ask)
    data = getattr(media_dir, media).read_bytes()
    put = http_call(upload["upload_url"], "PUT", data, {**upload["headers"], "Content-Type": sent})
    assert put.status == 200, put.body
    done = http_call(
        f"{url}/files/{upload['file_id']}/confirm-upload", "POST", b"", bearer(tokens.upload)
    )
    assert done.status == 200, done.body
    record = done.json()
    head = bucket.client.head_object(Bucket=bucket.bucket, Key=record["file_key"])
    assert record["content_type"] == ("image/png" if media == "png" else "video/x-msvideo")
    assert head["ContentType"] == record["content_type"], (head["ContentType"], record)
