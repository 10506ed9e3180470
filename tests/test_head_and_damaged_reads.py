"""A file's stored object gone or not the recorded size, asked for by every way in (an outside
tester's HTTP contract check, on local storage and on moto's S3):

1. HEAD /stream/{id}/raw|image|video (and ?rendition=original) answered 200 with the full
   headers where GET answered 404 object_missing or 500 object_damaged: HEAD answered before
   the object was looked at. RFC 9110 §9.3.2: HEAD's status is GET's.
2. /stream/{id}/image?w=N of a cut original answered 400 corrupt_file "The image is damaged or
   cut short" where /raw answered 500 object_damaged; POST /files/{id}/reprocess of it
   answered 200 (the cut original decoded as it was); maintenance and `mediadesk reprocess
   --photos` marked it of today's rendering, so a restored original was never made again.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import update

from core import keys
from core.db.models import MediaFile
from core.library import Library
from core.maintenance import run_maintenance
from core.records import FileRecord
from server.entry import EmbeddedServer, main
from tests.internals import db_of, storage_of
from tests.server_fixtures import bearer, http_call, make_tokens, server_config

pytestmark = pytest.mark.timeout(120)


def _cut(lib: Library, record: FileRecord) -> int:
    """Replaces the file's object by its first half (a bad restore): the half's size."""
    whole = lib.read_object(record.storage_key)
    storage_of(lib).put_bytes(record.storage_key, whole[: len(whole) // 2], "image/jpeg")
    return len(whole) // 2


def _photo(path: Path, colour: tuple[int, int, int]) -> Path:
    Image.new("RGB", (400, 300), colour).save(path, "JPEG", quality=90)
    return path


@pytest.mark.parametrize("fault", ["missing", "cut"])
def test_head_answers_what_get_answers_and_a_resized_image_says_damaged(
    any_library: Library, media_dir: Any, fault: str
) -> None:
    lib = any_library
    photo = lib.uploads.ingest(media_dir.jpeg, "image")
    video = lib.uploads.ingest(media_dir.mp4, "video")
    token = make_tokens(lib).read
    photo_paths = [f"/stream/{photo.id}/raw", f"/stream/{photo.id}/image"]
    paths = [
        (photo, photo_paths),
        (
            video,
            [
                f"/stream/{video.id}/raw",
                f"/stream/{video.id}/video",  # the original stands in: no worker has made one
                f"/stream/{video.id}/video?rendition=original",
            ],
        ),
    ]
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        for _, each in paths:
            for path in each:  # and on local storage the server keeps the file's path now
                assert http_call(server.url + path, "HEAD", headers=bearer(token)).status == 200
        for record, _ in paths:
            if fault == "missing":
                storage_of(lib).delete(record.storage_key)  # behind the catalog's back
            else:
                _cut(lib, record)
        # a width no read has made yet: made from the original
        photo_paths.append(f"/stream/{photo.id}/image?w=160")
        want = (404, "not_found", "object_missing") if fault == "missing" else None
        for record, each in paths:
            if fault == "cut":
                want = (500, "storage_unavailable", "object_damaged")
            for path in each:
                got = http_call(server.url + path, headers=bearer(token))
                error = got.json()["error"]
                assert (got.status, error["code"], error.get("reason")) == want, (path, error)
                if fault == "cut":
                    assert error["details"] == {
                        "stored_size": (record.size or 0) // 2,
                        "recorded_size": record.size,
                    }, path
                head = http_call(server.url + path, "HEAD", headers=bearer(token))
                assert head.status == got.status, (path, head.status, got.status)
                assert head.headers["Content-Type"] == got.headers["Content-Type"], path
                assert "ETag" not in head.headers and head.body == b"", path
    finally:
        server.stop()


def test_a_cut_photo_is_not_reprocessed_and_its_lost_thumbnail_not_marked(
    any_library: Library, media_dir: Any
) -> None:
    """POST /files/{id}/reprocess answered 200 for a cut photo (the half decoded, the row
    marked); the read of its lost thumbnail marked it of today's rendering too."""
    lib = any_library
    photo = lib.uploads.ingest(media_dir.jpeg, "image")
    with db_of(lib).write() as s:  # made by an older rendering
        s.execute(update(MediaFile).values(thumbnail_generation=None))
    before = lib.get_file(photo.id)
    _cut(lib, before)
    storage_of(lib).delete(keys.thumbnail_key(before.storage_key))  # lost as well
    token = make_tokens(lib).admin
    server = EmbeddedServer(lib, config=server_config(lib))
    server.start()
    try:
        done = http_call(
            f"{server.url}/files/{photo.id}/reprocess", "POST", b"", bearer(token), timeout=60
        )
        error = done.json()["error"]
        assert (done.status, error["code"], error["reason"]) == (
            500,
            "storage_unavailable",
            "object_damaged",
        ), error
        assert error["details"]["recorded_size"] == photo.size
        thumb = http_call(f"{server.url}/files/{photo.id}/thumbnail", headers=bearer(token))
        assert thumb.status == 404, thumb.body
    finally:
        server.stop()
    after = lib.get_file(photo.id)
    assert after.thumbnail_generation is None  # made again once the original is restored
    assert after.version == before.version


def test_maintenance_and_reprocess_photos_pass_a_cut_photo_over(
    library: Library, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Both marked the cut photo of today's rendering (its half decoded as a damaged image):
    restored, it was never made again. Now it is said and passed over, the others done."""
    photos = [
        library.uploads.ingest(_photo(tmp_path / f"p{i}.jpg", (40 * i, 90, 200)), "image")
        for i in range(3)
    ]
    with db_of(library).write() as s:
        s.execute(update(MediaFile).values(thumbnail_generation=None))
    _cut(library, photos[0])
    report = run_maintenance(library, only=frozenset({"remake_thumbnails"}))
    assert report.remade_thumbnails == [photos[1].id, photos[2].id], report
    assert not report.errors
    assert library.get_file(photos[0].id).thumbnail_generation is None
    with db_of(library).write() as s:
        s.execute(update(MediaFile).values(thumbnail_generation=None))
    assert main(["reprocess", "--photos", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr()
    assert json.loads(out.out)["remade"] == [photos[1].id, photos[2].id]
    assert f"File {photos[0].id} not made again: The stored object" in out.err, out.err
    assert library.get_file(photos[0].id).thumbnail_generation is None
    # named, it is refused as the route refuses it
    assert main(["reprocess", str(photos[0].id), "--data-dir", str(data_dir)]) != 0
    assert "it is damaged" in capsys.readouterr().err


def test_head_through_nginx_answers_what_get_answers(
    library: Library, media_dir: Any, tmp_path: Path
) -> None:
    """The README's nginx site (X-Accel-Redirect): nginx's check of a HEAD is answered "in
    full", and MediaDesk's own answer to it asked nothing of the disk: 200 for a file whose
    object is gone (GET: nginx finds no file, MediaDesk's JSON 404) or cut (500)."""
    from tests.test_team_nginx import nginx_in_front

    gone = library.uploads.ingest(media_dir.jpeg, "image")
    cut = library.uploads.ingest(_photo(tmp_path / "cut.jpg", (200, 90, 40)), "image")
    storage_of(library).delete(gone.storage_key)
    _cut(library, cut)
    token = make_tokens(library).read
    with nginx_in_front(library, tmp_path) as (front, server):
        for record, status in ((gone, 404), (cut, 500)):
            path = f"/stream/{record.id}/raw"
            got = http_call(front + path, headers=bearer(token))
            assert got.status == status, (path, got.body)
            # through nginx, and to a HEAD sent to MediaDesk itself (its GET would be the
            # X-Accel-Redirect: nginx's to find the file)
            for url in (front, server.url):
                head = http_call(url + path, "HEAD", headers=bearer(token))
                assert head.status == status, (url, path, head.status)
