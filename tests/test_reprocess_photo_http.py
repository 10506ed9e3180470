"""POST /files/{id}/reprocess makes a photo's images again, as `mediadesk reprocess ID` does.

The outside report: the endpoint answered 400 "only videos are processed" for a photo, while
the command made its thumbnail and stored ?w= variants again and read its metadata again. An
integrator who fixed a bad thumbnail, or upgraded the server, had no way to do it over HTTP.
Now a photo's images are made now by the command's own call (ThumbnailRemaker.remake, as
quick as an upload's thumbnailing) and the answer is 200, the video's JobList shape with no
job and the file as it is after. A file not ready is still a 400, one unknown or in the
trash a 404. Real HTTP over loopback, on the local folder and on moto's S3.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from PIL import Image

from core import keys
from core.library import Library
from core.storage.base import Storage
from core.thumbnails import is_whole_webp
from server.entry import EmbeddedServer
from tests.internals import storage_of
from tests.server_fixtures import Tokens, bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(120)

_ORANGE = (240, 120, 20)


@pytest.fixture
def served(any_library: Library) -> Iterator[tuple[Library, EmbeddedServer, Tokens]]:
    """A live server on the library's backend (the local folder or moto's S3)."""
    server = EmbeddedServer(any_library, config=server_config(any_library))
    server.start()
    yield any_library, server, make_tokens(any_library)
    server.stop()


def _photo(path: Path) -> Path:
    Image.new("RGB", (1000, 750), _ORANGE).save(path, quality=95)
    return path


def _magenta(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (230, 0, 200)).save(buf, "WEBP")
    return buf.getvalue()


def _stored(store: Storage, key: str) -> bytes:
    return b"".join(store.open_range(key, 0, None))


def _orange(webp: bytes) -> bool:
    with Image.open(io.BytesIO(webp)) as im:
        centre = im.convert("RGB").getpixel((im.width // 2, im.height // 2))
    return all(abs(a - b) <= 12 for a, b in zip(centre, _ORANGE, strict=True))  # type: ignore[arg-type]


def _reprocess(server: EmbeddedServer, token: str, file_id: int) -> Any:
    return http_call(f"{server.url}/files/{file_id}/reprocess", "POST", headers=bearer(token))


def _documented(spec: dict[str, Any], status: str) -> Draft202012Validator:
    responses = spec["paths"]["/files/{file_id}/reprocess"]["post"]["responses"]
    schema = responses[status]["content"]["application/json"]["schema"]
    return Draft202012Validator({**schema, "components": spec["components"]})


@pytest.mark.parametrize("damage", ["deleted", "wrong"])
def test_a_photos_lost_or_broken_images_are_made_again_over_http(
    served: tuple[Library, EmbeddedServer, Tokens], tmp_path: Path, damage: str
) -> None:
    lib, server, tokens = served
    photo = lib.uploads.ingest(_photo(tmp_path / "p.jpg"), "image")
    store = storage_of(lib)
    thumb_key = keys.thumbnail_key(photo.storage_key)
    # a stored ?w= variant, made by a read as a browser's srcset asks it
    variant = http_call(f"{server.url}/stream/{photo.id}/image?w=640", headers=bearer(tokens.read))
    assert variant.status == 200, variant.body
    variant_keys = [o.key for o in store.list_keys(keys.variant_prefix(photo.storage_key))]
    assert variant_keys, "the read stored no variant"
    # a bad rendering stored as a whole WebP (a damaged one reads as none: core/storage)
    if damage == "deleted":
        store.delete(thumb_key)
    else:
        store.put_bytes(thumb_key, _magenta(320, 240), "image/webp")
    for key in variant_keys:
        store.put_bytes(key, _magenta(640, 480), "image/webp")

    assert _reprocess(server, tokens.read, photo.id).status == 403  # admin, as for a video
    reply = _reprocess(server, tokens.admin, photo.id)

    assert reply.status == 200, reply.body
    body = reply.json()
    assert (body["items"], body["total"]) == ([], 0)  # nothing queued: made already
    assert body["file"]["id"] == photo.id and body["file"]["status"] == "ready"
    spec = http_call(f"{server.url}/openapi.json").json()
    assert [e.message for e in _documented(spec, "200").iter_errors(body)] == []
    thumb = _stored(store, thumb_key)
    assert is_whole_webp(thumb) and _orange(thumb)
    for key in variant_keys:
        remade = _stored(store, key)
        assert is_whole_webp(remade) and _orange(remade), key
    served_thumb = http_call(
        f"{server.url}/files/{photo.id}/thumbnail", headers=bearer(tokens.read)
    )
    assert served_thumb.status == 200 and _orange(served_thumb.body)


def test_a_pending_or_trashed_photo_is_refused_as_documented(
    served: tuple[Library, EmbeddedServer, Tokens], tmp_path: Path
) -> None:
    lib, server, tokens = served
    upload = lib.uploads.create_presigned_upload("q.jpg", "image", content_type="image/jpeg")
    pending = _reprocess(server, tokens.admin, upload.file.id)
    assert pending.status == 400, pending.body
    error = pending.json()["error"]
    assert error["code"] == "invalid_input" and "not ready" in error["message"]

    photo = lib.uploads.ingest(_photo(tmp_path / "t.jpg"), "image")
    lib.trash(photo.id)
    trashed = _reprocess(server, tokens.admin, photo.id)
    assert trashed.status == 404, trashed.body
    assert trashed.json()["error"]["code"] == "not_found"
    unknown = _reprocess(server, tokens.admin, 999_999)
    assert unknown.status == 404 and unknown.json()["error"]["code"] == "not_found"
    spec = http_call(f"{server.url}/openapi.json").json()
    documented = spec["paths"]["/files/{file_id}/reprocess"]["post"]["responses"]
    assert {"200", "202", "400", "404"} <= set(documented)
