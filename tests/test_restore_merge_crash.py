"""A crash right after a restore's merge commit strands nothing under the id it made an alias.

A file restored from the trash whose bytes were uploaded again meanwhile becomes the new file's
alias (bce3b4e). Its jobs went to the file keeping its object, or away with its own object and
video folder, only after that commit (`Library._merged_away`), recorded nowhere: a process
killed in between left the jobs under the alias for good (the file keeping the object showed
no processing, its renditions and HLS no job), and the object's noted deletion took the object
but never the video folder. Now the merge's own commit hands the jobs over (or forgets them)
and notes the folder's deletion, which a restart or maintenance runs once due.

A real SQLite catalog and local folder, real media; the kill is a BaseException raised where
the after-step begins, so nothing after the commit runs, and another Library opened on the data
folder is the restart.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from core import keys
from core.db.models import MediaFile
from core.library import Library
from core.maintenance import run_maintenance
from core.settings import Settings
from tests import media
from tests.conftest import make_settings
from tests.internals import db_of, storage_of

pytestmark = pytest.mark.timeout(90)

# Past every grace a noted deletion waits (a replaced video folder's is the longest, 6 h)
LATER = timedelta(hours=7)


class Killed(BaseException):
    """The process dies here: nothing after this point of the restore runs."""


@pytest.fixture
def settings(data_dir: Path) -> Settings:
    return make_settings(data_dir)


@pytest.fixture
def clip(tmp_path: Path) -> Path:
    return media.make_avi(tmp_path / "clip.avi", seconds=1)


@pytest.fixture
def crash_after_merge(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def killed(self: Library, merged: object) -> None:
        raise Killed

    with monkeypatch.context() as patch:
        patch.setattr(Library, "_merged_away", killed)
        yield


def _kinds(lib: Library, file_id: int) -> list[str]:
    return sorted(j.kind for j in lib.jobs.list(file_id=file_id)[0])


def _restart_and_maintain(lib: Library, settings: Settings) -> Library:
    lib.close()
    again = Library.open(settings)
    report = run_maintenance(again, now=datetime.now(UTC) + LATER)
    assert not report.errors, report.errors
    return again


@pytest.mark.usefixtures("crash_after_merge")
def test_jobs_a_merge_hands_over_reach_the_file_keeping_the_object_despite_a_crash(
    settings: Settings, clip: Path
) -> None:
    lib = Library.open(settings)
    a = lib.uploads.ingest(clip, "video", athlete_id=9)
    kinds = _kinds(lib, a.id)
    assert kinds
    lib.trash(a.id)
    b = lib.uploads.ingest(clip, "video", athlete_id=9)
    assert b.storage_key == a.storage_key and _kinds(lib, b.id) == []  # a's jobs make them
    with pytest.raises(Killed):
        lib.restore(a.id)
    lib = _restart_and_maintain(lib, settings)
    try:
        assert lib.get_file(a.id).duplicate_of == b.id  # the merge was committed
        assert _kinds(lib, a.id) == []
        assert _kinds(lib, b.id) == kinds
        assert lib.read_object(b.storage_key) == clip.read_bytes()
    finally:
        lib.close()


@pytest.mark.usefixtures("crash_after_merge")
def test_a_merged_file_with_an_object_of_its_own_leaves_no_job_and_no_folder_after_a_crash(
    settings: Settings, clip: Path
) -> None:
    """Its object and its video folder are no other file's (a catalog from before shared
    objects, migration 0010, keeps the same bytes of two files as two objects): the jobs go,
    and the folder goes with the object, the other file's folder staying."""
    lib = Library.open(settings)
    a = lib.uploads.ingest(clip, "video", athlete_id=9)
    lib.trash(a.id)
    b = lib.uploads.ingest(clip, "video", athlete_id=9)
    store = storage_of(lib)
    own = keys.renamed_key(a.storage_key)  # a's bytes stored a second time, for a alone
    store.copy(a.storage_key, own)
    with db_of(lib).write() as s:
        s.execute(update(MediaFile).where(MediaFile.id == a.id).values(storage_key=own))
    folders = {key: f"{keys.video_prefix(key)}web/1.mp4" for key in (own, b.storage_key)}
    for made in folders.values():
        store.put_bytes(made, b"rendition", "video/mp4")
    assert _kinds(lib, a.id) and _kinds(lib, b.id) == []
    with pytest.raises(Killed):
        lib.restore(a.id)
    lib = _restart_and_maintain(lib, settings)
    try:
        assert lib.get_file(a.id).duplicate_of == b.id
        assert _kinds(lib, a.id) == []
        assert not store.exists(own) and not store.exists(folders[own])
        assert store.exists(b.storage_key) and store.exists(folders[b.storage_key])
        assert keys.video_prefix(own) not in lib.deferred.pending_keys()  # done, not pending
    finally:
        lib.close()


def test_without_a_crash_the_folder_goes_at_once_and_no_deletion_stays_noted(
    settings: Settings, clip: Path
) -> None:
    lib = Library.open(settings)
    try:
        a = lib.uploads.ingest(clip, "video", athlete_id=9)
        lib.trash(a.id)
        b = lib.uploads.ingest(clip, "video", athlete_id=9)
        store = storage_of(lib)
        own = keys.renamed_key(a.storage_key)
        store.copy(a.storage_key, own)
        with db_of(lib).write() as s:
            s.execute(update(MediaFile).where(MediaFile.id == a.id).values(storage_key=own))
        rendition = f"{keys.video_prefix(own)}web/1.mp4"
        store.put_bytes(rendition, b"rendition", "video/mp4")
        assert lib.restore(a.id).duplicate_of == b.id
        assert not store.exists(own) and not store.exists(rendition)
        assert keys.video_prefix(own) not in lib.deferred.pending_keys()
        assert _kinds(lib, a.id) == []
    finally:
        lib.close()
