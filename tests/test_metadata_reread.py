"""A reprocess reads a file's metadata again with today's readers.

Files catalogued by an older version kept that version's reading for good: a photo's EXIF
date without its offset (so it sorted by "Date taken" in the machine's zone), a placeholder
date a camera wrote, sizes, durations or fields an older reader did not give. `reprocess`
remade a photo's thumbnails and a video's jobs from the original but never its metadata.
Now the remake (photos) and the thumbnails job (videos), which have the original at hand,
read it again and write what changed, keeping what a person edited; a file whose metadata
did not change gets no new version. The older row is planted through the ORM, as a catalog
upgraded from before has it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image

from core.db.models import MediaFile
from core.library import Library
from core.records import FileRecord
from core.video import service
from tests import media
from tests.internals import db_of
from tests.test_jobs_workers import worker_env
from tests.video_helpers import process_all

pytestmark = pytest.mark.timeout(180)


def _photo_with_offset(path: Path) -> Path:
    """A phone's photo: its EXIF date with the offset (OffsetTimeOriginal) and a quarter turn."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make], exif[ExifTags.Base.Model] = "Apple", "iPhone 15"
    exif[ExifTags.Base.Orientation] = 6
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = "2026:03:29 01:30:00"
    sub[ExifTags.Base.OffsetTimeOriginal] = "-03:00"
    sub[ExifTags.Base.SubsecTimeOriginal] = "12"
    Image.new("RGB", (400, 300), (40, 160, 60)).save(path, "JPEG", exif=exif)
    return path


def _as_an_older_version_left_it(lib: Library, file_id: int, **columns: Any) -> None:
    """The row as an older reader wrote it: `columns` set, `extra`'s keys given replaced (None:
    the key left out), through the ORM as an upgraded catalog has it."""
    extra = columns.pop("extra", {})
    with db_of(lib).write() as s:
        row = s.get(MediaFile, file_id)
        assert row is not None
        for name, value in columns.items():
            setattr(row, name, value)
        kept = {k: v for k, v in (row.extra or {}).items() if k not in extra}
        row.extra = kept | {k: v for k, v in extra.items() if v is not None}


def _edited_by_a_person(lib: Library, record: FileRecord) -> FileRecord:
    athlete = lib.create_athlete("Ana Souza")
    return lib.update_file(
        record.id,
        {
            "original_filename": "final, segundo tiempo.jpg",
            "description": "El gol del empate",
            "athlete_id": athlete.id,
            "is_public": True,
        },
    )


def _thumbnails_job_only(lib: Library, file_id: int) -> None:
    """The file's queued jobs but its thumbnails job cancelled: that job reads the metadata
    again (and makes the poster); the web and HLS encodes read none of it and were ~2.5 s of
    each of this test's three rounds."""
    for job in lib.jobs.list(file_id=file_id)[0]:
        if job.state == "queued" and job.kind not in ("thumbnails", "faststart"):
            lib.jobs.cancel(job.id)


def _edits(record: FileRecord) -> tuple[Any, ...]:
    return (record.original_filename, record.description, record.athlete_id, record.is_public)


def test_a_photo_reprocess_reads_its_metadata_again_and_keeps_the_edits(
    any_library: Library, tmp_path: Path
) -> None:
    lib = any_library
    today = lib.uploads.ingest(_photo_with_offset(tmp_path / "IMG_0001.jpg"), "image")
    assert today.extra["taken_at"] == "2026-03-29T01:30:00.120-03:00"
    photo = _edited_by_a_person(lib, today)
    # An older version: the EXIF date without its offset, no camera, the turn not read
    _as_an_older_version_left_it(
        lib,
        photo.id,
        rotation=0,
        extra={
            "taken_at": "2026:03:29 01:30:00",
            "camera_make": None,
            "camera_model": None,
            "exif_orientation": None,
            "mirrored": None,
            "imported_from": "old catalog",  # a key no reader writes: not ours to drop
        },
    )
    old = lib.get_file(photo.id)
    assert old.captured_at != datetime(2026, 3, 29, 4, 30, 0, 120000, tzinfo=UTC)

    lib.thumbnail_remaker.remake(photo.id)

    fresh = lib.get_file(photo.id)
    assert fresh.extra["taken_at"] == "2026-03-29T01:30:00.120-03:00"
    assert fresh.captured_at == datetime(2026, 3, 29, 4, 30, 0, 120000, tzinfo=UTC)
    assert fresh.extra["camera_make"] == "Apple" and fresh.extra["camera_model"] == "iPhone 15"
    assert fresh.extra["exif_orientation"] == 6 and fresh.rotation == 90
    assert fresh.extra["imported_from"] == "old catalog"
    assert _edits(fresh) == _edits(photo)
    assert fresh.version > old.version

    # Read again with nothing changed: the metadata is not written again; only the images
    # made again are counted (a new content tag, tests/test_reprocess_versions.py)
    lib.thumbnail_remaker.remake(photo.id)
    again = lib.get_file(photo.id)
    assert again.thumbnail_remade == (fresh.thumbnail_remade or 0) + 1
    assert again.version == fresh.version + 1
    kept = {"version", "updated_at", "thumbnail_remade"}
    assert {k: v for k, v in again.as_dict().items() if k not in kept} == {
        k: v for k, v in fresh.as_dict().items() if k not in kept
    }


def test_a_date_and_size_the_original_does_not_say_are_read_again_by_the_command(
    library: Library, data_dir: Path, tmp_path: Path
) -> None:
    clean = media.make_jpeg(tmp_path / "scan.jpg", camera=None, taken_at=None)
    photo = library.uploads.ingest(clean, "image")
    _as_an_older_version_left_it(
        library, photo.id, width=1, height=1, extra={"taken_at": "2024:05:01 10:30:00"}
    )
    assert library.get_file(photo.id).captured_at != photo.created_at

    cmd = [sys.executable, "-m", "desktop_app", "reprocess", str(photo.id)]
    done = subprocess.run(cmd, env=worker_env(data_dir), capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"queued": {}, "remade": [photo.id]}
    fresh = library.get_file(photo.id)
    assert "taken_at" not in fresh.extra
    assert fresh.captured_at == photo.created_at
    assert (fresh.width, fresh.height) == (640, 480)


def test_a_video_reprocess_reads_its_metadata_again_and_keeps_the_edits(
    any_library: Library, tmp_path: Path
) -> None:
    lib = any_library
    clip = media.make_mp4(tmp_path / "run.mp4", seconds=1)
    today = lib.uploads.ingest(clip, "video")
    _thumbnails_job_only(lib, today.id)
    process_all(lib)
    video = _edited_by_a_person(lib, lib.get_file(today.id))
    assert video.duration and video.extra.get("frame_count") == 24
    _as_an_older_version_left_it(
        lib,
        video.id,
        duration=None,
        width=None,
        audio_codec=None,
        extra={"frame_count": None, "audio_channels": None, "taken_at": "0000:00:00 00:00:00"},
    )
    old = lib.get_file(video.id)

    service.reprocess(lib, video.id)  # what POST /files/{id}/reprocess does
    _thumbnails_job_only(lib, video.id)
    process_all(lib)  # its thumbnails job has the original at hand

    fresh = lib.get_file(video.id)
    assert fresh.duration == video.duration and fresh.width == 320
    assert fresh.audio_codec == "aac"
    assert fresh.extra.get("frame_count") == 24 and fresh.extra.get("audio_channels") == 1
    assert "taken_at" not in fresh.extra
    assert _edits(fresh) == _edits(video)
    assert fresh.version > old.version

    # A reprocess that reads the same metadata (and makes no new poster) writes nothing
    service.reprocess(lib, video.id)
    _thumbnails_job_only(lib, video.id)
    process_all(lib)
    assert lib.get_file(video.id).version == fresh.version


def test_all_photos_reads_every_photos_metadata_and_leaves_todays_images(
    library: Library, data_dir: Path, tmp_path: Path
) -> None:
    photo = library.uploads.ingest(_photo_with_offset(tmp_path / "IMG_0002.jpg"), "image")
    same = library.uploads.ingest(media.make_jpeg(tmp_path / "b.jpg"), "image")
    _as_an_older_version_left_it(library, photo.id, extra={"taken_at": "2026:03:29 01:30:00"})
    old, unchanged = library.get_file(photo.id), library.get_file(same.id)
    env = worker_env(data_dir)
    cmd = [sys.executable, "-m", "desktop_app", "reprocess"]

    stale = subprocess.run([*cmd, "--photos"], env=env, capture_output=True, text=True)
    assert stale.returncode == 0, stale.stderr
    assert json.loads(stale.stdout) == {"queued": {}, "remade": []}  # images are today's
    done = subprocess.run([*cmd, "--all-photos"], env=env, capture_output=True, text=True)

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"queued": {}, "remade": [], "reread": [photo.id, same.id]}
    fresh = library.get_file(photo.id)
    assert fresh.extra["taken_at"] == "2026-03-29T01:30:00.120-03:00"
    assert fresh.thumbnail_generation == old.thumbnail_generation
    assert fresh.version == old.version + 1
    assert library.get_file(same.id).version == unchanged.version  # nothing changed in it
