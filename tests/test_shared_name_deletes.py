"""Two files with one video folder (the same bytes, one of them moved to another athlete: two
keys with one file name, keys.video_prefix) deleted at the same moment: each saw the other's
row before either row went, so each kept the folder, and it stayed in the store for good
(reconcile's objects_without_rows at every run). The last deletion to drop its row deletes it.
Hooks hold one deletion between its check and its row's deletion while the other runs whole."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest

from core import keys
from core.catalog import Catalog
from core.library import Library
from core.maintenance import reconcile
from core.settings import Settings
from core.video import service as video_service
from tests.internals import db_of, storage_of
from tests.s3_server import S3Target, public_domain

pytestmark = pytest.mark.timeout(60)


def _two_names_alike(lib: Library, media_dir: Any) -> tuple[int, int, str]:
    """Files a and b with one video folder holding a rendition: (a, b, the rendition's key)."""
    a = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=1)
    b = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=2)
    moved = lib.update_file(b.id, {"athlete_id": 3})
    assert moved.storage_key != a.storage_key
    rendition = keys.video_prefix(a.storage_key) + "hls-3/master.m3u8"
    assert keys.video_prefix(moved.storage_key) == keys.video_prefix(a.storage_key)
    storage_of(lib).put_bytes(rendition, b"#EXTM3U\n", "application/vnd.apple.mpegurl")
    return a.id, b.id, rendition


def _held_after(
    monkeypatch: pytest.MonkeyPatch, owner: Any, name: str, thread_name: str
) -> tuple[threading.Event, threading.Event]:
    """Holds the thread named `thread_name` right after `owner.name` answers: (reached, go)."""
    reached, go = threading.Event(), threading.Event()
    original: Callable[..., Any] = getattr(owner, name)

    def held(*args: Any, **kwargs: Any) -> Any:
        answer = original(*args, **kwargs)
        if threading.current_thread().name == thread_name:
            reached.set()
            assert go.wait(10)
        return answer

    monkeypatch.setattr(owner, name, held)
    return reached, go


def _in_thread(name: str, work: Callable[[], Any]) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            work()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread, errors


def _left(lib: Library, rendition: str) -> None:
    stored = {o.key for o in lib.list_objects()}
    assert rendition not in stored
    assert not [k for k in stored if k.startswith(keys.VIDEO_PREFIX)]
    assert reconcile(lib).objects_without_rows == []


def test_two_hard_deletes_at_once_leave_no_video_folder(
    any_library: Library, media_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = any_library
    a, b, rendition = _two_names_alike(lib, media_dir)
    # a's deletion has decided on the video folder (b's row still there), then waits
    reached, go = _held_after(monkeypatch, video_service, "forget", "delete-a")
    thread, errors = _in_thread("delete-a", lambda: lib.delete_permanently(a))
    assert reached.wait(10)
    lib.delete_permanently(b)  # sees a's row: keeps the folder
    go.set()
    thread.join(10)
    assert not thread.is_alive() and errors == []
    _left(lib, rendition)


def test_an_emptying_and_a_hard_delete_at_once_leave_no_video_folder(
    library: Library, media_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = library
    a, b, rendition = _two_names_alike(lib, media_dir)
    lib.trash(a)
    reached, go = _held_after(monkeypatch, Catalog, "names_used_by_others", "empty")
    thread, errors = _in_thread("empty", lib.empty_trash)
    assert reached.wait(10)
    lib.delete_permanently(b)
    go.set()
    thread.join(10)
    assert not thread.is_alive() and errors == []
    _left(lib, rendition)


def test_objects_under_a_pending_prefix_deletion_are_no_strays(library: Library) -> None:
    """A replaced job's folder queued for deletion (reprocess) whose file has gone since: its
    objects are pending, as README says, not objects without rows as well."""
    lib = library
    folder = "_derived/video/0123456789abcdef/hls-11/"
    storage_of(lib).put_bytes(folder + "master.m3u8", b"#EXTM3U\n", "application/vnd.apple.mpegurl")
    storage_of(lib).put_bytes(folder + "120/seg_00000.ts", b"\0" * 188, "video/mp2t")
    with db_of(lib).write() as s:
        lib.deferred.queue_prefix(s, folder, "reprocess")
    report = reconcile(lib)
    assert report.objects_without_rows == []
    assert report.pending_deletions == [folder]
    # a name that merely starts like the folder's is no object under it
    storage_of(lib).put_bytes(folder[:-1] + "x/master.m3u8", b"#EXTM3U\n", "text/plain")
    assert reconcile(lib).objects_without_rows == [folder[:-1] + "x/master.m3u8"]


def test_a_hard_delete_of_a_public_file_another_public_file_shares_ends(
    s3_settings: Settings, s3_bucket: S3Target, media_dir: Any
) -> None:
    """With R2_PUBLIC_DOMAIN a hard delete holds the object's key and object locks from its
    decision on the public link to its claim; the object another public file keeps is then
    released under those very locks (Library._release_object_locked), not taken again: the
    key lock is not reentrant, and a second take hung the request for good."""
    lib = Library.open(s3_settings.replace(r2_public_domain=public_domain(s3_bucket)))
    try:
        first = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=1, is_public=True)
        second = lib.uploads.ingest(media_dir.jpeg, "image", athlete_id=2, is_public=True)
        assert first.storage_key == second.storage_key
        thread, errors = _in_thread("hard", lambda: lib.delete_permanently(first.id))
        thread.join(10)
        assert not thread.is_alive() and errors == []
        kept = lib.get_file(second.id)
        assert kept.storage_key == second.storage_key  # still shown publicly: not moved
        assert lib.public_url(kept) is not None
        assert b"".join(lib.open_range(kept, 0, None)) == media_dir.jpeg.read_bytes()
    finally:
        lib.close()
