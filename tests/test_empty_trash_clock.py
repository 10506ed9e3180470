"""Empty trash deletes every file in the trash, whatever its trash date says against this
computer's clock: a file trashed by a machine whose clock ran ahead (or before the clock was
corrected) has a date in the future, and the emptying, which took the files trashed before
its own start on this clock, left it in the trash after "emptied". A file restored meanwhile,
or trashed again or for the first time after the emptying read the trash, is still kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from core.catalog import Catalog
from core.db.models import MediaFile, utcnow
from core.errors import NotFound
from core.library import Library
from core.maintenance import purge_trash
from core.records import FileRecord
from tests.internals import db_of, storage_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401
from tests.test_trash_restore_race import other_server, team_library  # noqa: F401

pytestmark = pytest.mark.timeout(90)


def date_trash(lib: Library, file_id: int, ahead: timedelta) -> None:
    """As if the file had been trashed on a machine whose clock runs `ahead` of this one's."""
    with db_of(lib).write() as s:
        s.execute(
            update(MediaFile)
            .where(MediaFile.id == file_id)
            .values(deleted_at=utcnow() + ahead, version=MediaFile.version + 1)
        )


@pytest.mark.parametrize("ahead", [timedelta(minutes=5), timedelta(days=1), timedelta(days=3650)])
def test_the_emptying_deletes_a_file_whose_trash_date_is_ahead_of_this_clock(
    library: Library, media_dir: Any, ahead: timedelta
) -> None:
    now = library.uploads.ingest(media_dir.png, "image")
    ahead_file = library.uploads.ingest(media_dir.jpeg, "image")
    library.trash(now.id)
    library.trash(ahead_file.id)
    date_trash(library, ahead_file.id, ahead)
    assert sorted(library.empty_trash()) == sorted([now.id, ahead_file.id])
    for record in (now, ahead_file):
        with pytest.raises(NotFound):
            library.get_file(record.id)
        assert not storage_of(library).exists(record.storage_key)


def test_a_file_trashed_again_after_the_emptying_read_the_trash_is_kept(
    team_library: Library,
    media_dir: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Restored and trashed again elsewhere between the emptying's read and its claim: the
    user confirmed the trash before that, so it waits for the next emptying. Its first trash
    date was ahead of this clock, so a bound on this clock cannot tell the two apart."""
    lib = team_library
    other = other_server(lib, tmp_path / "other")
    try:
        again = lib.uploads.ingest(media_dir.png, "image")
        gone = lib.uploads.ingest(media_dir.jpeg, "image")
        lib.trash(again.id)
        lib.trash(gone.id)
        date_trash(lib, again.id, timedelta(days=-1))  # trashed yesterday
        date_trash(lib, gone.id, timedelta(days=1))
        read = Catalog.trashed_records
        done: list[FileRecord] = []

        def read_then_trash_again_elsewhere(catalog: Catalog, *args: Any) -> list[FileRecord]:
            records = read(catalog, *args)
            if not done:
                done.append(other.restore(again.id))
                done.append(other.trash(again.id))
            return records

        monkeypatch.setattr(Catalog, "trashed_records", read_then_trash_again_elsewhere)
        assert lib.empty_trash() == [gone.id]
        assert lib.get_file(again.id).is_trashed
        assert storage_of(lib).exists(again.storage_key)
        assert not storage_of(lib).exists(gone.storage_key)
        monkeypatch.undo()
        assert lib.empty_trash() == [again.id]  # the next emptying takes it
    finally:
        other.close()


def test_a_file_trashed_after_the_emptying_read_the_trash_waits_for_the_next(
    library: Library, media_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    later = library.uploads.ingest(media_dir.png, "image")
    gone = library.uploads.ingest(media_dir.jpeg, "image")
    library.trash(gone.id)
    read = Catalog.trash_dates

    def read_then_trash(catalog: Catalog) -> Any:
        dates = read(catalog)
        library.trash(later.id)
        return dates

    monkeypatch.setattr(Catalog, "trash_dates", read_then_trash)
    assert library.empty_trash() == [gone.id]
    assert library.get_file(later.id).is_trashed
    assert storage_of(library).exists(later.storage_key)


def test_the_purge_dates_a_file_trashed_far_ahead_now_and_purges_it_after_the_retention(
    library: Library, media_dir: Any
) -> None:
    """A trash date years ahead kept its file from the retention purge for those years. It is
    dated when the purge first sees it, and gets the whole retention from then; one a little
    ahead (a team's clocks drift) keeps its date."""
    far = library.uploads.ingest(media_dir.png, "image")
    near = library.uploads.ingest(media_dir.jpeg, "image")
    library.trash(far.id)
    library.trash(near.id)
    date_trash(library, far.id, timedelta(days=3650))
    date_trash(library, near.id, timedelta(minutes=5))
    near_date = library.get_file(near.id).deleted_at
    now = utcnow()
    assert purge_trash(library, retention_days=30, now=now) == []
    assert library.get_file(far.id).deleted_at == now
    assert library.get_file(near.id).deleted_at == near_date
    assert purge_trash(library, retention_days=30, now=now + timedelta(days=29)) == []
    assert purge_trash(library, retention_days=30, now=now + timedelta(days=31)) == [
        far.id,
        near.id,
    ]
    with pytest.raises(NotFound):
        library.get_file(far.id)
