"""A video's poster made by an older version is made again by a reprocess.

Posters follow the renditions' picture fixes since dd469d8 (deinterlaced, BT.2020 converted,
the right matrix), but one is stored once and served for good, so a video uploaded before kept
its old poster for ever: `mediadesk reprocess` and POST /files/{id}/reprocess only queued the
jobs again, and the remaker turned videos away. Posters have a rendering of their own
(POSTER_GENERATION): a new video records it, and a reprocess queues the jobs again, whose
thumbnails job (it has the original at hand) makes an older poster again and marks the rows,
so the content tag (`?v=`, the thumbnail's ETag, the local cache's name) changes and every
cache fetches the new poster. The reprocess itself answers at once: it never reads the
original (a 5 GB recording blocked the request for minutes). Maintenance never does (a whole
video to fetch). The old poster is planted as a library upgraded from before has it: a solid
picture and the generation a video was given then (the photos', 2).
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, ImageChops

from core import keys
from core.db.models import MediaFile
from core.errors import InsufficientStorage
from core.library import Library
from core.maintenance import run_maintenance
from core.mediatypes import BY_MIME
from core.records import FileRecord
from core.thumbnails import POSTER_GENERATION, THUMBNAIL_GENERATION, make_thumbnail
from core.video import service
from server.entry import EmbeddedServer
from tests import media
from tests.internals import db_of, original_reads, storage_of
from tests.server_fixtures import bearer, http_call, make_tokens
from tests.video_helpers import process_all

pytestmark = pytest.mark.timeout(180)

OLD = 2  # the generation a video's row was given before posters had one of their own
_MAGENTA = (230, 0, 200)


def _planted_poster() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (320, 240), _MAGENTA).save(buf, "WEBP")
    return buf.getvalue()


def _made_by_an_old_version(lib: Library, record: FileRecord) -> bytes:
    """The video as a library upgraded from before dd469d8 has it: a wrong poster in the store
    (a solid picture stands for the combed or washed-out frame), the row of the old rendering."""
    poster = _planted_poster()
    storage_of(lib).put_bytes(keys.thumbnail_key(record.storage_key), poster, "image/webp")
    with db_of(lib).write() as s:  # through the ORM: the version and the change feed follow
        for row in s.query(MediaFile).filter(MediaFile.storage_key == record.storage_key):
            row.thumbnail_generation = OLD
    return poster


def _difference(a: bytes, b: bytes) -> int:
    """The largest channel difference between two pictures of the same size."""
    with Image.open(io.BytesIO(a)) as one, Image.open(io.BytesIO(b)) as two:
        assert one.size == two.size, (one.size, two.size)
        extrema = ImageChops.difference(one.convert("RGB"), two.convert("RGB")).getextrema()
        return max(high for _, high in extrema)  # type: ignore[misc]


def _stored_poster(lib: Library, record: FileRecord) -> bytes:
    return b"".join(storage_of(lib).open_range(keys.thumbnail_key(record.storage_key), 0, None))


def _thumbnails_job(lib: Library, file_id: int) -> Any:
    return next(j for j in lib.jobs.list(file_id=file_id)[0] if j.kind == "thumbnails")


def test_reprocess_makes_an_old_poster_again_and_its_tag_changes(
    live: EmbeddedServer, tmp_path: Path
) -> None:
    lib = live.library
    clip = media.make_mp4(tmp_path / "run.mp4", seconds=1, audio=False)
    video = lib.uploads.ingest(clip, "video")
    assert video.has_thumbnail and video.thumbnail_generation == POSTER_GENERATION  # today's
    planted = _made_by_an_old_version(lib, video)
    tokens = make_tokens(lib)
    auth = bearer(tokens.read)
    thumb_url = f"{live.url}/files/{video.id}/thumbnail"
    old = http_call(thumb_url, headers=auth)
    assert old.status == 200 and old.body == planted  # the old poster, as it was served
    old_link = http_call(f"{live.url}/files/{video.id}", headers=auth).json()["urls"]["thumbnail"]
    assert lib.thumbnail_bytes(video.id) == planted  # and in the desktop's local cache

    again = http_call(
        f"{live.url}/files/{video.id}/reprocess", "POST", headers=bearer(tokens.admin)
    )

    assert again.status == 202, again.body
    assert again.json()["total"] >= 1  # the jobs are queued again, as before
    process_all(lib)  # the thumbnails job makes the poster again
    record = lib.get_file(video.id)
    assert record.thumbnail_generation == POSTER_GENERATION
    fresh = make_thumbnail(clip, BY_MIME["video/mp4"])
    stored = _stored_poster(lib, record)
    assert _difference(stored, planted) > 100 and _difference(stored, fresh) <= 2
    new = http_call(thumb_url, headers={**auth, "If-None-Match": old.headers["ETag"]})
    assert new.status == 200, new.status  # the browser's old copy is not confirmed
    assert new.headers["ETag"] != old.headers["ETag"]
    assert new.headers["ETag"] == f'"thumb-{record.content_tag}"'
    assert new.body == stored
    assert lib.thumbnail_bytes(video.id) == stored  # the desktop's grid too
    link = http_call(f"{live.url}/files/{video.id}", headers=auth).json()["urls"]["thumbnail"]
    assert link != old_link and link.endswith(f"?v={record.content_tag}")


def test_a_video_sharing_anothers_object_answers_its_poster_and_both_are_remade(
    library: Library, tmp_path: Path
) -> None:
    """The same recording for another athlete shows the poster stored with the object, so its
    row answers that poster's generation (0907999); a reprocess of it marks both rows."""
    clip = media.make_mp4(tmp_path / "run.mp4", seconds=1, audio=False)
    ana, luis = library.create_athlete("Ana"), library.create_athlete("Luis")
    first = library.uploads.ingest(clip, "video", athlete_id=ana.id)
    planted = _made_by_an_old_version(library, first)
    second = library.uploads.ingest(clip, "video", athlete_id=luis.id)
    assert second.storage_key == first.storage_key
    assert second.thumbnail_generation == OLD  # the poster it shows is the old one
    third = library.uploads.ingest(
        media.make_mp4(tmp_path / "other.mp4", seconds=1, audio=False, size=(160, 120)), "video"
    )
    assert third.thumbnail_generation == POSTER_GENERATION  # not shared: made now

    service.reprocess(library, second.id)
    process_all(library)  # the first file's jobs make the object's derivatives

    for file_id in (first.id, second.id):
        assert library.get_file(file_id).thumbnail_generation == POSTER_GENERATION
    assert _difference(_stored_poster(library, first), planted) > 100


def test_maintenance_leaves_videos_posters_alone(library: Library, tmp_path: Path) -> None:
    """Maintenance makes photos again, a batch a run; a video would be a whole download."""
    video = library.uploads.ingest(media.make_mp4(tmp_path / "v.mp4", seconds=1), "video")
    planted = _made_by_an_old_version(library, video)
    photo = library.uploads.ingest(media.make_jpeg(tmp_path / "p.jpg"), "image")
    with db_of(library).write() as s:
        row = s.get(MediaFile, photo.id)
        assert row is not None
        row.thumbnail_generation = None

    report = run_maintenance(library, only=frozenset({"remake_thumbnails"}))

    assert report.remade_thumbnails == [photo.id] and not report.errors
    assert library.get_file(photo.id).thumbnail_generation == THUMBNAIL_GENERATION
    assert library.thumbnail_remaker.stale_ids() == []
    assert library.get_file(video.id).thumbnail_generation == OLD
    assert _stored_poster(library, video) == planted


def test_a_video_deleted_as_its_new_poster_is_stored_leaves_nothing(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """A hard delete (any server) just before the thumbnails job's poster is written: the job
    ends without an error, and the poster written after the deletion is not left behind."""
    video = library.uploads.ingest(media.make_mp4(tmp_path / "v.mp4", seconds=1), "video")
    _made_by_an_old_version(library, video)
    store = storage_of(library)
    put = store.put_bytes
    thumb_key = keys.thumbnail_key(video.storage_key)
    deleted: list[int] = []

    def written_after_the_deletion(key: str, *args: Any, **kw: Any) -> Any:
        if key == thumb_key and not deleted:
            library.delete_permanently(video.id)
            deleted.append(video.id)
        return put(key, *args, **kw)

    jobs = service.reprocess(library, video.id)
    monkeypatch.setattr(store, "put_bytes", written_after_the_deletion)
    with caplog.at_level(logging.INFO, logger="core"):
        process_all(library)

    assert deleted == [video.id] and jobs  # the poster was being stored when the file went
    assert not store.exists(thumb_key)
    assert not store.exists(video.storage_key)
    assert list(store.list_keys(keys.video_prefix(video.storage_key))) == []
    assert library.jobs.list(file_id=video.id)[1] == 0
    assert [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info] == []


def test_a_poster_the_store_cannot_keep_leaves_the_sprite_and_is_tried_again(
    library: Library, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    """A full store (or one out of reach) as the thumbnails job writes the poster: the job's
    scrub sprite is kept and the job done, the poster and its rendering stay as they were, the
    log says why, and the next reprocess tries again."""
    video = library.uploads.ingest(media.make_mp4(tmp_path / "v.mp4", seconds=1), "video")
    planted = _made_by_an_old_version(library, video)
    store = storage_of(library)
    put = store.put_bytes
    thumb_key = keys.thumbnail_key(video.storage_key)

    def full(key: str, *args: Any, **kw: Any) -> Any:
        if key == thumb_key:
            raise InsufficientStorage("There is not enough free storage space to save the file")
        return put(key, *args, **kw)

    jobs = service.reprocess(library, video.id)
    assert jobs and {j.state for j in jobs} == {"queued"}
    monkeypatch.setattr(store, "put_bytes", full)
    with caplog.at_level(logging.WARNING, logger="core.video"):
        process_all(library)

    assert _thumbnails_job(library, video.id).state == "done"
    assert service.scrub_thumbnails(library, library.get_file(video.id)) is not None
    assert library.get_file(video.id).thumbnail_generation == OLD
    monkeypatch.setattr(store, "put_bytes", put)
    assert _stored_poster(library, video) == planted
    assert any(
        r.levelno == logging.WARNING and f"file {video.id}" in r.getMessage()
        for r in caplog.records
    ), caplog.text

    service.reprocess(library, video.id)  # room again: the next reprocess makes it
    process_all(library)

    assert library.get_file(video.id).thumbnail_generation == POSTER_GENERATION
    assert _difference(_stored_poster(library, video), planted) > 100


def test_reprocess_answers_at_once_without_reading_the_original(
    live: EmbeddedServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """POST /files/{id}/reprocess (and `mediadesk reprocess --all`) only queues the jobs: the
    original (a 5 GB match recording) is read by the job that needs it, never by the request.
    A new video's first jobs keep the poster its upload made (it is of today's rendering)."""
    lib = live.library
    video = lib.uploads.ingest(media.make_mp4(tmp_path / "v.mp4", seconds=1), "video")
    tag = video.content_tag
    process_all(lib)  # the upload's own jobs
    assert _thumbnails_job(lib, video.id).state == "done"
    assert lib.get_file(video.id).content_tag == tag  # its poster was not made twice
    planted = _made_by_an_old_version(lib, video)
    reads = original_reads(monkeypatch, lib, video.storage_key)
    tokens = make_tokens(lib)

    again = http_call(
        f"{live.url}/files/{video.id}/reprocess", "POST", headers=bearer(tokens.admin)
    )

    assert again.status == 202, again.body
    assert reads == []  # not a byte of the original read to answer
    assert _thumbnails_job(lib, video.id).state == "queued"
    assert lib.get_file(video.id).thumbnail_generation == OLD  # the job makes it, later
    assert _stored_poster(lib, video) == planted
