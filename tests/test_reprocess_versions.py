"""A reprocess gives the images it made again a new version, and leaves trashed files alone.

The outside reports: after POST /files/{id}/reprocess (or `mediadesk reprocess ID`) on a photo
whose images were already of today's rendering, its thumbnail and preview links kept their
`?v=` and the thumbnail its ETag, so browsers (cached for good, immutable) and the desktop's
cache (named by the tag) kept the old, possibly bad, copy: the tag counted renderings only.
Now each remake at the row's rendering is counted too (media_files.thumbnail_remade), and the
tag of a file not made again is unchanged. And a reprocess of a trashed video queued its jobs
(202) while a trashed photo answered 404: both are 404 not_found now, over HTTP and from the
command. Real HTTP over loopback, real SQLite, real JPEG and MP4.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from sqlalchemy import update

from core.db.models import MediaFile
from core.library import Library
from core.thumbnail_remake import ThumbnailRemaker
from server.entry import EmbeddedServer, main
from tests import media
from tests.internals import db_of
from tests.server_fixtures import Reply, bearer, http_call, make_tokens

pytestmark = pytest.mark.timeout(60)


def _photo(path: Path, colour: tuple[int, int, int] = (240, 120, 20)) -> Path:
    Image.new("RGB", (400, 300), colour).save(path, quality=90)
    return path


def _tag(link: str) -> str:
    return link.rsplit("?v=", 1)[1]


def _reprocess(live: EmbeddedServer, token: str, file_id: int) -> Reply:
    return http_call(f"{live.url}/files/{file_id}/reprocess", "POST", headers=bearer(token))


def test_a_reprocess_gives_the_remade_images_a_new_tag_and_etag(
    live: EmbeddedServer, tmp_path: Path
) -> None:
    lib = live.library
    tokens = make_tokens(lib)
    auth = bearer(tokens.read)
    photo = lib.uploads.ingest(_photo(tmp_path / "p.jpg"), "image")
    other = lib.uploads.ingest(_photo(tmp_path / "o.jpg", (20, 120, 240)), "image")
    before = http_call(f"{live.url}/files/{photo.id}", headers=auth).json()["urls"]
    other_before = lib.get_file(other.id).content_tag
    thumb_url = f"{live.url}/files/{photo.id}/thumbnail"
    first = http_call(thumb_url, headers=auth)
    assert first.status == 200
    old_etag = first.headers["ETag"]
    cached = http_call(thumb_url, headers={**auth, "If-None-Match": old_etag})
    assert cached.status == 304  # what a browser's copy was kept by

    reply = _reprocess(live, tokens.admin, photo.id)

    assert reply.status == 200, reply.body
    after = reply.json()["file"]["urls"]
    assert after == http_call(f"{live.url}/files/{photo.id}", headers=auth).json()["urls"]
    for name in ("thumbnail", "stream"):
        assert _tag(after[name]) != _tag(before[name]), name
    again = http_call(thumb_url, headers={**auth, "If-None-Match": old_etag})
    assert again.status == 200, again.status
    assert again.headers["ETag"] == f'"thumb-{_tag(after["thumbnail"])}"' != old_etag
    assert (
        http_call(thumb_url, headers={**auth, "If-None-Match": again.headers["ETag"]}).status == 304
    )
    # each reprocess is a new version, never an earlier one's; a file not made again keeps its
    second = _reprocess(live, tokens.admin, photo.id).json()["file"]["urls"]["thumbnail"]
    assert _tag(second) not in (_tag(before["thumbnail"]), _tag(after["thumbnail"]))
    assert lib.get_file(other.id).content_tag == other_before


def test_a_trashed_file_is_not_reprocessed_over_http(live: EmbeddedServer, tmp_path: Path) -> None:
    lib = live.library
    admin = make_tokens(lib).admin
    video = lib.uploads.ingest(media.make_mp4(tmp_path / "v.mp4", 0.5, (64, 48), 8, False), "video")
    photo = lib.uploads.ingest(_photo(tmp_path / "p.jpg"), "image")
    jobs = lib.jobs.list(file_id=video.id)
    for record in (video, photo):
        lib.trash(record.id)

    for record in (video, photo):
        reply = _reprocess(live, admin, record.id)
        assert reply.status == 404, (record.file_type, reply.status, reply.body)
        assert reply.json()["error"]["code"] == "not_found"
    assert lib.jobs.list(file_id=video.id) == jobs  # nothing queued again
    assert lib.get_file(photo.id).content_tag == photo.content_tag  # nor made again

    lib.restore(video.id)
    assert _reprocess(live, admin, video.id).status == 202  # restored, it is reprocessed


def test_the_command_versions_a_remade_photo_and_refuses_a_trashed_file(
    library: Library, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = library.uploads.ingest(_photo(tmp_path / "p.jpg"), "image")
    video = library.uploads.ingest(
        media.make_mp4(tmp_path / "v.mp4", 0.5, (64, 48), 8, False), "video"
    )
    command = ["reprocess", "--data-dir", str(data_dir)]

    assert main([*command, str(photo.id)]) == 0, capsys.readouterr().err
    assert library.get_file(photo.id).content_tag != photo.content_tag

    jobs = library.jobs.list(file_id=video.id)
    for record in (video, photo):
        library.trash(record.id)
        kept = library.get_file(record.id).content_tag
        capsys.readouterr()
        assert main([*command, str(record.id)]) == 2
        err = capsys.readouterr().err
        assert f"mediadesk: File {record.id} is in the trash" in err, err
        assert library.get_file(record.id).content_tag == kept
    assert library.jobs.list(file_id=video.id) == jobs


def test_a_file_trashed_during_a_whole_librarys_reprocess_is_passed_over(
    library: Library,
    data_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Another user trashes a video and a photo between the command's listing and their
    turn: each is said on stderr and passed over, the others are done and the summary
    written (since 883d6f4 the trashed video's NotFound ended the run: exit 2, no JSON)."""
    videos = [
        library.uploads.ingest(
            # two sizes: the same clip twice can be the same bytes (a duplicate of the first)
            media.make_mp4(tmp_path / f"v{i}.mp4", 0.5, (64 + 16 * i, 48), 8, False),
            "video",
        )
        for i in range(2)
    ]
    photos = [
        library.uploads.ingest(_photo(tmp_path / f"p{i}.jpg", (40 * i, 90, 200)), "image")
        for i in range(2)
    ]
    with db_of(library).write() as s:  # made by an older rendering: --photos lists them
        s.execute(update(MediaFile).values(thumbnail_generation=None))
    listed_videos, listed_photos = Library.ready_video_ids, ThumbnailRemaker.stale_ids

    def videos_then_trash(self: Library) -> list[int]:
        ids = listed_videos(self)
        library.trash(videos[0].id)
        return ids

    def photos_then_trash(self: ThumbnailRemaker, *a: Any, **kw: Any) -> list[int]:
        ids = listed_photos(self, *a, **kw)
        library.trash(photos[0].id)
        return ids

    monkeypatch.setattr(Library, "ready_video_ids", videos_then_trash)
    monkeypatch.setattr(ThumbnailRemaker, "stale_ids", photos_then_trash)
    jobs = library.jobs.list(file_id=videos[0].id)

    assert main(["reprocess", "--all", "--photos", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr()
    summary = json.loads(out.out)
    assert list(summary["queued"]) == [str(videos[1].id)]
    assert summary["remade"] == [photos[1].id]
    assert f"File {videos[0].id} not queued again: File {videos[0].id} is in the trash" in out.err
    assert f"File {photos[0].id} not made again: " in out.err, out.err
    assert library.jobs.list(file_id=videos[0].id) == jobs
    assert library.get_file(photos[0].id).thumbnail_generation is None
