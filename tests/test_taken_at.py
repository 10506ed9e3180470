"""A file's capture date, `extra.taken_at`, is ISO 8601 like created_at.

A photo's EXIF DateTimeOriginal came back as EXIF's own "2026:03:29 01:30:00" without its
OffsetTimeOriginal, and a video's creation_time was not kept. Real JPEGs and MP4s, the real
validation, a real catalog and server; a row catalogued before answers in ISO form too.
"""

from __future__ import annotations

from pathlib import Path

import av
from PIL import ExifTags, Image
from sqlalchemy import update

from core.db.models import MediaFile
from core.library import Library
from core.validation import validate_file
from server.entry import EmbeddedServer
from tests.internals import db_of
from tests.media_fixtures import MediaSet
from tests.server_fixtures import Tokens, bearer, http_call

BIG = 1 << 30


def _jpeg(path: Path, taken: str, offset: str | None = None) -> Path:
    exif = Image.Exif()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = taken
    if offset:
        sub[ExifTags.Base.OffsetTimeOriginal] = offset
    Image.new("RGB", (64, 48), (20, 90, 160)).save(path, "JPEG", exif=exif)
    return path


def _mp4(path: Path, creation_time: str | None) -> Path:
    with av.open(str(path), "w", format="mp4") as out:
        if creation_time:
            out.metadata["creation_time"] = creation_time
        video = out.add_stream("libx264", rate=10)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = 64, 48, "yuv420p"
        for i in range(5):
            frame = av.VideoFrame.from_image(Image.new("RGB", (64, 48), (i * 40, 0, 0)))
            frame.pts = i
            out.mux(video.encode(frame))
        out.mux(video.encode(None))
    return path


def test_photo_taken_at_is_iso_with_the_exif_offset(tmp_path: Path) -> None:
    with_offset = validate_file(
        _jpeg(tmp_path / "a.jpg", "2026:03:29 01:30:00", "-03:00"), "image", BIG
    )
    assert with_offset.extra["taken_at"] == "2026-03-29T01:30:00-03:00"
    # no offset in the photo: the camera's local time, zone unknown, so no offset is made up
    local = validate_file(_jpeg(tmp_path / "b.jpg", "2026:03:29 01:30:00"), "image", BIG)
    assert local.extra["taken_at"] == "2026-03-29T01:30:00"
    # a camera whose clock was never set writes zeros: no date at all, not a wrong one
    unset = validate_file(_jpeg(tmp_path / "c.jpg", "0000:00:00 00:00:00"), "image", BIG)
    assert "taken_at" not in unset.extra


def test_video_keeps_its_creation_time_as_taken_at(tmp_path: Path) -> None:
    dated = validate_file(_mp4(tmp_path / "a.mp4", "2026-03-29T04:30:00.000000Z"), "video", BIG)
    assert dated.extra["taken_at"] == "2026-03-29T04:30:00Z"
    undated = validate_file(_mp4(tmp_path / "b.mp4", None), "video", BIG)
    assert "taken_at" not in undated.extra


def test_a_clock_never_set_gives_no_date_for_photos_and_videos(
    library: Library, live: EmbeddedServer, tokens: Tokens, tmp_path: Path
) -> None:
    """A photo dated 1970 (an unset clock's zero) kept it as its capture date: only videos
    dropped it. One rule now: that year, or the day before it once a zone is applied."""
    files = {
        "photo 1970": library.uploads.ingest(
            _jpeg(tmp_path / "a.jpg", "1970:01:01 00:00:00"), "image"
        ),
        "photo 1970 +00:00": library.uploads.ingest(
            _jpeg(tmp_path / "b.jpg", "1970:01:01 00:00:00", "+00:00"), "image"
        ),
        "photo later in 1970": library.uploads.ingest(
            _jpeg(tmp_path / "c.jpg", "1970:02:11 08:15:00", "+09:00"), "image"
        ),
        "video 1970": library.uploads.ingest(
            _mp4(tmp_path / "a.mp4", "1970-01-01T00:00:00Z"), "video"
        ),
        # a zero kept as local time at +09:00, written in UTC
        "video 1969-12-31": library.uploads.ingest(
            _mp4(tmp_path / "b.mp4", "1969-12-31T15:00:00Z"), "video"
        ),
    }
    kept = {  # dates before the clock's zero are real ones (a scanned print)
        "photo 1969": library.uploads.ingest(
            _jpeg(tmp_path / "d.jpg", "1969:07:20 20:17:40"), "image"
        ),
        "photo 1900": library.uploads.ingest(
            _jpeg(tmp_path / "e.jpg", "1900:05:01 12:00:00"), "image"
        ),
    }
    h = bearer(tokens.read)
    for name, rec in files.items():
        answer = http_call(f"{live.url}/files/{rec.id}", headers=h).json()
        assert "taken_at" not in answer["extra"], name
    for name, rec in kept.items():
        answer = http_call(f"{live.url}/files/{rec.id}", headers=h).json()
        assert answer["extra"]["taken_at"][:4] in ("1969", "1900"), name


def test_rows_catalogued_before_answer_iso(
    library: Library, live: EmbeddedServer, tokens: Tokens, media_dir: MediaSet
) -> None:
    rec = library.uploads.ingest(media_dir.jpeg, "image")
    # what this version stored before: EXIF's own form, which is left in the row as it is
    with db_of(library).write() as s:
        s.execute(
            update(MediaFile)
            .where(MediaFile.id == rec.id)
            .values(extra={**rec.extra, "taken_at": "2024:05:01 10:30:00"})
        )
    answer = http_call(f"{live.url}/files/{rec.id}", headers=bearer(tokens.read)).json()
    assert answer["extra"]["taken_at"] == "2024-05-01T10:30:00"
    listed = http_call(f"{live.url}/files/", headers=bearer(tokens.read)).json()
    assert [f["extra"]["taken_at"] for f in listed["items"]] == ["2024-05-01T10:30:00"]


def test_rows_catalogued_before_with_no_real_date_answer_none(
    library: Library, live: EmbeddedServer, tokens: Tokens, tmp_path: Path
) -> None:
    """Before b3c3eac a photo's DateTimeOriginal was stored as the camera wrote it, an unset
    clock's placeholders included; those rows answered the placeholder as taken_at. Anything
    that is no date answers none, like a photo without one."""
    stored = ["0000:00:00 00:00:00", ":  :     :  :", "    :  :     :  :  ", "1970:01:01 00:00:00"]
    stored += ["2024:02:30 10:00:00", "junk", 20240501]
    ids = []
    for i, value in enumerate(stored):
        image = tmp_path / f"{i}.jpg"
        Image.new("RGB", (32, 24), (i * 20, 90, 160)).save(image, "JPEG")
        rec = library.uploads.ingest(image, "image")
        with db_of(library).write() as s:
            s.execute(
                update(MediaFile)
                .where(MediaFile.id == rec.id)
                .values(extra={**rec.extra, "taken_at": value})
            )
        ids.append(rec.id)
    h = bearer(tokens.read)
    for rid, value in zip(ids, stored, strict=True):
        answer = http_call(f"{live.url}/files/{rid}", headers=h).json()
        assert "taken_at" not in answer["extra"], value
    listed = http_call(f"{live.url}/files/?limit=50", headers=h).json()
    assert [f for f in listed["items"] if "taken_at" in f["extra"]] == []
