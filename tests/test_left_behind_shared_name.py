"""A leftover's deletion (a file that left a backend: a storage move's old copy, or a failed
move's tracked copy at the target) takes its object and derivatives, but not the video folder
another row on that backend still uses: that folder is named by the file name alone
(core.keys.video_prefix), and a file that shared an object and then moved to another
athlete's folder keeps the name. It took that file's renditions, HLS and sprite with it."""

from __future__ import annotations

from core import deferred, keys
from core.library import Library
from tests.media_fixtures import MediaSet


def _drop(library: Library, key: str) -> None:
    db, store = library._db, library._storage
    with db.write() as s:
        entry = deferred.queue_left_behind(s, "local", key, 0)
        s.flush()
        entry_id = entry.id
    assert deferred.drop_left_behind(db, store, entry_id, key, "local")


def test_a_leftovers_deletion_keeps_the_video_folder_of_a_file_with_its_name(
    library: Library, media_dir: MediaSet
) -> None:
    kept = library.uploads.ingest(media_dir.jpeg, "image")
    store = library._storage
    # a copy of the same name left in another folder (the file moved away from it)
    leftover = "athletes/77/2020/01/" + kept.storage_key.rsplit("/", 1)[-1]
    store.put_bytes(leftover, b"old copy", "image/jpeg")
    rendition = keys.video_prefix(kept.storage_key) + "hls-1/360/index.m3u8"
    store.put_bytes(rendition, b"#EXTM3U\n", "application/vnd.apple.mpegurl")
    _drop(library, leftover)
    assert not store.exists(leftover)  # the leftover's own object went
    assert store.exists(rendition)  # the other file's renditions stayed
    assert store.exists(kept.storage_key)


def test_without_another_file_of_that_name_the_video_folder_goes_too(library: Library) -> None:
    store = library._storage
    leftover = "athletes/77/2020/01/0123456789abcdef.mp4"
    store.put_bytes(leftover, b"old copy", "video/mp4")
    rendition = keys.video_prefix(leftover) + "hls-1/360/index.m3u8"
    store.put_bytes(rendition, b"#EXTM3U\n", "application/vnd.apple.mpegurl")
    _drop(library, leftover)
    assert not store.exists(leftover) and not store.exists(rendition)
