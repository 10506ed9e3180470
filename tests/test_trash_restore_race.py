"""A restore while the trash is being emptied: it waits for that file's deletion and answers
not_found, or it comes first and the file stays whole. It once answered 200 for a file whose
deletion went on (the file then vanished from the library after "restored"), in this process
and, until the catalog claim (migration 0024), from another server sharing the catalog."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.catalog import Catalog
from core.errors import Conflict, NotFound
from core.library import Library
from core.records import FileRecord
from core.settings import Settings
from tests.conftest import make_settings
from tests.faults import CuttableProxy, wait_for
from tests.internals import db_of, storage_of
from tests.pg_server import pg_library, postgres_url  # noqa: F401

pytestmark = pytest.mark.timeout(90)


def test_a_restore_during_the_emptying_of_the_trash_does_not_answer_for_a_deleted_file(
    s3_settings: Settings, media_dir: Any
) -> None:
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url))
    try:
        record = lib.uploads.ingest(media_dir.png, "image")
        lib.trash(record.id)
        proxy.stall()  # the emptying stops at the store, between its check and the row
        emptied: list[list[int]] = []
        emptying = threading.Thread(target=lambda: emptied.append(lib.empty_trash()))
        emptying.start()
        wait_for(lambda: proxy.waiting() >= 1, what="the object's deletion reached the store")
        answers: list[object] = []

        def restore() -> None:
            try:
                answers.append(lib.restore(record.id))
            except NotFound as exc:
                answers.append(exc)

        restoring = threading.Thread(target=restore)
        restoring.start()
        restoring.join(1.0)
        proxy.restore()
        emptying.join(30)
        restoring.join(30)
        assert emptied == [[record.id]]
        assert len(answers) == 1 and isinstance(answers[0], NotFound), answers
        with pytest.raises(NotFound):
            lib.get_file(record.id)
    finally:
        lib.close()


def test_a_file_restored_before_its_turn_is_kept_whole(library: Library, media_dir: Any) -> None:
    kept = library.uploads.ingest(media_dir.png, "image")
    gone = library.uploads.ingest(media_dir.jpeg, "image")
    library.trash(kept.id)
    library.trash(gone.id)
    library.restore(kept.id)
    assert library.empty_trash() == [gone.id]
    assert not library.get_file(kept.id).is_trashed
    assert storage_of(library).exists(kept.storage_key)
    assert not storage_of(library).exists(gone.storage_key)


def other_server(lib: Library, data: Path, **settings: Any) -> Library:
    """A second process's library on `lib`'s catalog: its own data folder and edit locks."""
    data.mkdir()
    return Library.open(make_settings(data, database_url=db_of(lib).url, **settings))


def test_a_restore_on_another_server_during_the_emptying_answers_being_deleted(
    s3_settings: Settings, media_dir: Any, tmp_path: Path
) -> None:
    proxy = CuttableProxy.in_front_of(s3_settings.r2_endpoint_url)
    lib = Library.open(s3_settings.replace(r2_endpoint_url=proxy.url))
    bucket = {k: v for k, v in vars(s3_settings).items() if k.startswith("r2_")}
    other = other_server(lib, tmp_path / "other", **bucket)
    try:
        record = lib.uploads.ingest(media_dir.png, "image")
        lib.trash(record.id)
        proxy.stall()  # this server's emptying stops at the store, its bytes not yet deleted
        emptied: list[list[int]] = []
        emptying = threading.Thread(target=lambda: emptied.append(lib.empty_trash()))
        emptying.start()
        wait_for(lambda: proxy.waiting() >= 1, what="the object's deletion reached the store")
        # the other server's edit locks know nothing of this emptying: the catalog refuses
        try:
            with pytest.raises(Conflict) as refused:
                other.restore(record.id)
        finally:
            proxy.restore()
            emptying.join(30)
        assert refused.value.reason == "being_deleted"
        assert emptied == [[record.id]]
        for server in (lib, other):
            with pytest.raises(NotFound):
                server.get_file(record.id)
    finally:
        other.close()
        lib.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def team_library(request: pytest.FixtureRequest) -> Iterator[Library]:
    yield request.getfixturevalue("library" if request.param == "sqlite" else "pg_library")


def test_a_restore_elsewhere_after_the_emptying_read_the_trash_keeps_the_file_whole(
    team_library: Library, media_dir: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lib = team_library
    other = other_server(lib, tmp_path / "other")
    try:
        kept = lib.uploads.ingest(media_dir.png, "image")
        gone = lib.uploads.ingest(media_dir.jpeg, "image")
        lib.trash(kept.id)
        lib.trash(gone.id)
        read = Catalog.trashed_records
        restored: list[FileRecord] = []

        def read_then_restore_elsewhere(catalog: Catalog, *args: Any) -> list[FileRecord]:
            records = read(catalog, *args)
            if not restored:  # the other server's restore lands between the read and the claim
                restored.append(other.restore(kept.id))
            return records

        monkeypatch.setattr(Catalog, "trashed_records", read_then_restore_elsewhere)
        assert lib.empty_trash() == [gone.id]
        assert [r.id for r in restored] == [kept.id]
        assert not lib.get_file(kept.id).is_trashed
        assert not other.get_file(kept.id).is_trashed
        assert storage_of(lib).exists(kept.storage_key)
        assert not storage_of(lib).exists(gone.storage_key)
    finally:
        other.close()


@pytest.mark.parametrize("way", ["empty_trash", "purge"])
def test_a_restore_elsewhere_once_the_file_is_claimed_answers_being_deleted(
    team_library: Library,
    media_dir: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    way: str,
) -> None:
    lib = team_library
    other = other_server(lib, tmp_path / "other")
    try:
        record = lib.uploads.ingest(media_dir.png, "image")
        lib.trash(record.id)
        # both ways count the object's other references after the claim, before any byte goes
        name = "referenced_by_others" if way == "empty_trash" else "references"
        count = getattr(Catalog, name)
        refusals: list[Exception] = []

        def count_then_restore_elsewhere(catalog: Catalog, *args: Any, **kw: Any) -> Any:
            if not refusals:
                try:
                    other.restore(record.id)
                except Conflict as exc:
                    refusals.append(exc)
                else:
                    refusals.append(AssertionError("the restore answered 200"))
            return count(catalog, *args, **kw)

        monkeypatch.setattr(Catalog, name, count_then_restore_elsewhere)
        if way == "empty_trash":
            assert lib.empty_trash() == [record.id]
        else:
            lib.delete_permanently(record.id, only_trashed=True)
        assert [getattr(e, "reason", e) for e in refusals] == ["being_deleted"]
        assert not storage_of(lib).exists(record.storage_key)
        for server in (lib, other):
            with pytest.raises(NotFound):
                server.get_file(record.id)
    finally:
        other.close()
