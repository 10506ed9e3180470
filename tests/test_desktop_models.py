"""Desktop Qt models without widgets: grid paging and live updates, upload queue, sidebar."""

from __future__ import annotations

import dataclasses
import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QItemSelectionModel  # noqa: E402

from core.db.models import MediaFile  # noqa: E402
from core.events import ChangeEvent  # noqa: E402
from core.library import Library  # noqa: E402
from core.query import insert_position, matches  # noqa: E402
from core.records import AthleteRecord, FileQuery, FileRecord  # noqa: E402
from desktop_app.controllers import upload_controller  # noqa: E402
from desktop_app.models.file_grid_model import FileGridListModel  # noqa: E402
from desktop_app.models.sidebar_model import SidebarFilter, SidebarModel  # noqa: E402
from desktop_app.models.upload_queue_model import UploadQueueModel, UploadState  # noqa: E402
from desktop_app.upload_persistence import load_queue, queue_file  # noqa: E402
from desktop_app.workers import TaskRunner  # noqa: E402
from tests.internals import db_of
from tests.qt_helpers import wait_for


def add_rows(library: Library, count: int | range, **values: object) -> None:
    """Catalog rows without objects: enough for the grid, fast for hundreds of rows. `count`:
    how many (numbered from 0), or the numbers (name, size, hash and minute follow each), all
    in one write: one delivery of their events."""
    start = datetime(2024, 1, 1, tzinfo=UTC)
    with db_of(library).write() as s:
        for i in range(count) if isinstance(count, int) else count:
            s.add(
                MediaFile(
                    storage_key=f"test/{i:05d}.jpg",
                    original_filename=f"file-{i:05d}.jpg",
                    content_type="image/jpeg",
                    file_type="image",
                    size=1000 + i,
                    sha256=f"{i:064x}",
                    status="ready",
                    created_at=start + timedelta(minutes=i),
                    **values,
                )
            )


@pytest.fixture
def runner(qapp):  # type: ignore[no-untyped-def]
    runner = TaskRunner(max_threads=2)
    yield runner
    runner.shutdown()


def test_grid_model_pages_with_fetch_more(qtbot, library: Library, runner: TaskRunner) -> None:
    add_rows(library, 250)
    model = FileGridListModel(library, runner, page_size=100)
    model.set_query(FileQuery())
    wait_for(qtbot, lambda: model.rowCount() == 100)
    assert model.total == 250
    assert model.canFetchMore()
    first = model.data(model.index(0), FileGridListModel.NameRole)
    assert first == "file-00249.jpg"  # newest first
    model.fetchMore()
    assert not model.canFetchMore()  # one page at a time
    wait_for(qtbot, lambda: model.rowCount() == 200)
    model.fetchMore()
    wait_for(qtbot, lambda: model.rowCount() == 250)
    assert not model.canFetchMore()
    ids = [model.data(model.index(r), FileGridListModel.IdRole) for r in range(250)]
    assert len(set(ids)) == 250


def test_grid_model_roles_and_sort(qtbot, library: Library, runner: TaskRunner) -> None:
    add_rows(library, 3)
    with db_of(library).write() as s:
        s.add(
            MediaFile(
                storage_key="test/v.mp4",
                original_filename="clip.mp4",
                file_type="video",
                size=5_000_000,
                duration=83.4,
                sha256="f" * 64,
                status="ready",
                created_at=datetime(2020, 1, 1, tzinfo=UTC),  # the oldest: last by date
            )
        )
    model = FileGridListModel(library, runner, page_size=10)
    model.set_query(FileQuery(sort="-size"))
    wait_for(qtbot, lambda: model.rowCount() == 4)
    names = [model.data(model.index(r), FileGridListModel.NameRole) for r in range(4)]
    assert names == ["clip.mp4", "file-00002.jpg", "file-00001.jpg", "file-00000.jpg"]
    top = model.index(0)
    assert model.data(top, FileGridListModel.NameRole) == "clip.mp4"
    assert model.data(top, FileGridListModel.DurationRole) == "1:23"
    assert model.data(model.index(1), FileGridListModel.DurationRole) == ""
    assert "MiB" in model.data(top, FileGridListModel.SizeRole)


def test_grid_model_applies_live_events(qtbot, library: Library, runner: TaskRunner) -> None:
    add_rows(library, 5)
    model = FileGridListModel(library, runner, page_size=50)
    model.set_query(FileQuery())
    wait_for(qtbot, lambda: model.rowCount() == 5)
    newest = model.record_at(0)
    assert newest is not None
    created = dataclasses.replace(
        newest,
        id=999,
        original_filename="new.jpg",
        created_at=newest.created_at + timedelta(hours=1),
    )
    model.apply_event(ChangeEvent("created", 999, created.as_dict()))
    assert model.rowCount() == 6 and model.record_at(0).original_filename == "new.jpg"
    renamed = dataclasses.replace(created, original_filename="renamed.jpg")
    model.apply_event(ChangeEvent("updated", 999, renamed.as_dict()))
    assert model.record_at(0).original_filename == "renamed.jpg"
    trashed = dataclasses.replace(renamed, deleted_at=datetime.now(UTC))
    model.apply_event(ChangeEvent("trashed", 999, trashed.as_dict()))
    assert model.rowCount() == 5 and model.row_of(999) == -1
    model.apply_event(ChangeEvent("deleted", newest.id, newest.as_dict()))
    assert model.rowCount() == 4 and model.total == 4


def test_grid_model_says_loaded_once_the_pages_rows_are_in(
    qtbot, library: Library, runner: TaskRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A page's end of loading came before its rows: a listener to it (the empty notice, the
    keyboard's place) saw no rows, and the notice flashed over a full grid. Every way a page
    comes in (the first, the next, the end jumped to, the rows before it) says so after its
    rows, and its count with them."""
    from desktop_app.models import file_grid_model

    monkeypatch.setattr(file_grid_model, "END_JUMP", 100)
    monkeypatch.setattr(file_grid_model, "TAIL_PAGE", 9)
    add_rows(library, 250)
    model = FileGridListModel(library, runner, page_size=100)
    seen: list[tuple[str, int, int]] = []  # (signal, rows, total) as the signal is emitted
    model.loadingChanged.connect(
        lambda loading: loading or seen.append(("loaded", model.rowCount(), model.total))
    )
    model.totalChanged.connect(lambda total: seen.append(("total", model.rowCount(), total)))
    model.set_query(FileQuery())
    wait_for(qtbot, lambda: not model.loading and model.loaded)
    assert seen == [("total", 0, 0), ("total", 100, 250), ("loaded", 100, 250)]
    seen.clear()
    model.fetchMore()
    wait_for(qtbot, lambda: not model.loading)
    assert seen == [("loaded", 200, 250)]
    seen.clear()
    with qtbot.waitSignal(model.reachedEnd):
        model.fetch_all()  # 50 rows to go: the next ones, in one big page
    assert seen == [("loaded", 250, 250)]
    model.set_query(FileQuery())
    wait_for(qtbot, lambda: not model.loading and model.loaded)
    seen.clear()
    with qtbot.waitSignal(model.reachedEnd):
        model.fetch_all()  # 150 to go: a jump to the last 9 rows
    assert seen == [("total", 9, 250), ("loaded", 9, 250)]
    seen.clear()
    model.fetch_previous()
    wait_for(qtbot, lambda: not model.loading)
    assert seen == [("loaded", 109, 250)]
    # an empty result says so with no rows, as before
    model.set_query(FileQuery(trashed=True))  # none in the trash
    wait_for(qtbot, lambda: not model.loading and model.loaded)
    assert seen[-1] == ("loaded", 0, 0)


def _shown(model: FileGridListModel) -> list[int]:
    return [
        model.data(model.index(row), FileGridListModel.IdRole) for row in range(model.rowCount())
    ]


def _names(model: FileGridListModel) -> list[str]:
    return [model.data(model.index(r), FileGridListModel.NameRole) for r in range(model.rowCount())]


def test_grid_model_moves_an_updated_row_to_its_new_place(
    qtbot, library: Library, runner: TaskRunner
) -> None:
    """Sorted by name, a renamed file kept its old row; it moves, and the selection with it."""
    add_rows(library, 5)
    model = FileGridListModel(library, runner, page_size=50)
    model.set_query(FileQuery(sort="original_filename"))
    wait_for(qtbot, lambda: model.rowCount() == 5)
    selection = QItemSelectionModel(model)
    first = model.record_at(0)
    assert first is not None
    selection.setCurrentIndex(model.index(0), QItemSelectionModel.SelectionFlag.ClearAndSelect)

    def rename(record: FileRecord, name: str) -> FileRecord:
        renamed = library.update_file(record.id, {"original_filename": name})
        model.apply_event(ChangeEvent("updated", record.id, renamed.as_dict()))
        return renamed

    moved = rename(first, "file-00003b.jpg")
    assert _names(model) == [
        "file-00001.jpg", "file-00002.jpg", "file-00003.jpg", "file-00003b.jpg", "file-00004.jpg"
    ]  # fmt: skip
    assert selection.currentIndex().row() == 3 == model.row_of(first.id)
    assert [i.row() for i in selection.selectedIndexes()] == [3]
    rename(moved, "a.jpg")  # and up again
    assert _names(model)[0] == "a.jpg" and selection.currentIndex().row() == 0
    assert model.total == 5
    # any field of the current sort: here the size
    model.set_query(FileQuery(sort="size"))
    wait_for(qtbot, lambda: model.rowCount() == 5)
    smallest = model.record_at(0)
    assert smallest is not None
    grown = dataclasses.replace(smallest, size=1003)  # a tie with file-00003: the id goes first
    model.apply_event(ChangeEvent("updated", smallest.id, grown.as_dict()))
    assert _names(model) == [
        "file-00001.jpg", "file-00002.jpg", "a.jpg", "file-00003.jpg", "file-00004.jpg"
    ]  # fmt: skip


def test_grid_model_updated_row_sorting_past_the_loaded_rows_leaves_them(
    qtbot, library: Library, runner: TaskRunner
) -> None:
    """Past the last loaded row with more to load, its place is unknown: the next page brings it
    (like an inserted row); the total still counts it."""
    add_rows(library, 8)
    model = FileGridListModel(library, runner, page_size=5)
    model.set_query(FileQuery(sort="original_filename"))
    wait_for(qtbot, lambda: model.rowCount() == 5)
    first = model.record_at(0)
    assert first is not None
    renamed = library.update_file(first.id, {"original_filename": "zz.jpg"})
    model.apply_event(ChangeEvent("updated", first.id, renamed.as_dict()))
    assert model.row_of(first.id) == -1 and model.rowCount() == 4 and model.total == 8
    model.fetchMore()
    wait_for(qtbot, lambda: model.rowCount() == 8)
    assert _names(model)[-1] == "zz.jpg" and len(set(_names(model))) == 8


def test_grid_model_counts_an_edited_file_from_outside_the_loaded_rows_once(
    qtbot, library: Library, runner: TaskRunner
) -> None:
    """A file past the loaded rows renamed into them was inserted as a new file: the total went
    up by one. The event says what the file was before (core.feed): the total stays, and a file
    trashed unseen leaves the total."""
    add_rows(library, 8)
    events: list[ChangeEvent] = []
    library.events.subscribe(events.append)
    model = FileGridListModel(library, runner, page_size=5)
    model.set_query(FileQuery(sort="original_filename"))
    wait_for(qtbot, lambda: model.rowCount() == 5)
    last = library.list_files(FileQuery(sort="original_filename", limit=100)).items[-1]
    library.update_file(last.id, {"original_filename": "file-00002b.jpg"})
    wait_for(qtbot, lambda: bool(events))
    event = events.pop()
    assert event.as_dict()["previous"]["original_filename"] == "file-00007.jpg"
    model.apply_event(event)
    assert model.total == 8 and model.rowCount() == 6
    assert _names(model)[3] == "file-00002b.jpg"
    unseen = library.list_files(FileQuery(sort="original_filename", limit=100)).items[-1]
    library.trash(unseen.id)
    wait_for(qtbot, lambda: bool(events))
    model.apply_events(events)
    assert model.total == 7 and model.rowCount() == 6
    model.fetchMore()
    wait_for(qtbot, lambda: model.rowCount() == 7)
    assert len(set(_names(model))) == 7 and model.total == 7


def test_grid_model_counts_a_file_deleted_for_good_from_outside_the_loaded_rows(
    qtbot, library: Library, runner: TaskRunner
) -> None:
    """A file not loaded deleted for good (Delete permanently, Empty trash, from here or from
    another process: the same events) left the grid's total one too high. The event's record
    tells whether the view counted it: once, and a trashed file not twice."""
    add_rows(library, 10)
    events: list[ChangeEvent] = []
    library.events.subscribe(events.append)
    in_library = FileGridListModel(library, runner, page_size=5)
    in_library.set_query(FileQuery(sort="original_filename"))
    wait_for(qtbot, lambda: in_library.rowCount() == 5)
    ids = [r.id for r in library.list_files(FileQuery(sort="original_filename", limit=10)).items]

    def heard(count: int) -> list[ChangeEvent]:
        wait_for(qtbot, lambda: len(events) == count)
        taken = events[:]
        events.clear()
        return taken

    library.delete_permanently(ids[-1])
    in_library.apply_events(heard(1))
    assert in_library.total == 9 and in_library.rowCount() == 5
    for file_id in ids[6:9]:
        library.trash(file_id)
    in_library.apply_events(heard(3))
    assert in_library.total == 6
    in_trash = FileGridListModel(library, runner, page_size=1)
    in_trash.set_query(FileQuery(trashed=True, sort="original_filename"))
    wait_for(qtbot, lambda: in_trash.rowCount() == 1)
    assert in_trash.total == 3
    library.empty_trash()
    deleted = heard(3)
    in_library.apply_events(deleted)
    in_trash.apply_events(deleted)
    assert in_trash.total == 0 and in_trash.rowCount() == 0
    assert in_library.total == 6 and in_library.rowCount() == 5
    in_library.fetchMore()
    wait_for(qtbot, lambda: in_library.rowCount() == 6)
    assert in_library.total == 6 and not in_library.canFetchMore()


def test_grid_model_keeps_a_file_trashed_again_in_the_batch_that_restored_it(
    qtbot, library: Library, runner: TaskRunner
) -> None:
    """A loaded file restored and trashed again elsewhere, both heard in one delivery of the
    live feed (fast switching between views held them for the page): its row went with the
    restore and the trash was taken for a file not in the view. The trash showed one file
    fewer until it was loaded again, "The trash is empty" beside a count of 1; All files, a
    file trashed and restored in one delivery, likewise."""
    add_rows(library, 3)
    ids = [r.id for r in library.list_files(FileQuery(limit=10)).items]
    library.trash(ids[0])
    events: list[ChangeEvent] = []
    library.events.subscribe(events.append)
    in_trash = FileGridListModel(library, runner, page_size=5)
    in_trash.set_query(FileQuery(trashed=True))
    in_library = FileGridListModel(library, runner, page_size=5)
    in_library.set_query(FileQuery())
    wait_for(qtbot, lambda: in_trash.rowCount() == 1 and in_library.rowCount() == 2)
    library.restore(ids[0])
    library.trash(ids[0])
    wait_for(qtbot, lambda: len(events) == 2)
    in_trash.apply_events(events)
    assert _shown(in_trash) == [ids[0]] and in_trash.total == 1
    events.clear()
    library.trash(ids[1])
    library.restore(ids[1])
    wait_for(qtbot, lambda: len(events) == 2)
    in_library.apply_events(events)
    assert ids[1] in _shown(in_library) and in_library.total == 2


def test_grid_model_recounts_once_for_many_deletions_it_cannot_read(
    qtbot, library: Library, runner: TaskRunner
) -> None:
    """Events of files deleted for good without their record (a writer that predates it): the
    grid cannot tell whether it counted them, and reads its total again in a worker, once for
    the lot and once more after any change heard meanwhile, not once a file."""
    add_rows(library, 40)
    events: list[ChangeEvent] = []
    library.events.subscribe(events.append)
    model = FileGridListModel(library, runner, page_size=5)
    model.set_query(FileQuery(sort="original_filename"))
    wait_for(qtbot, lambda: model.rowCount() == 5)
    counts: list[FileQuery] = []
    list_files = library.list_files

    def counted(query: FileQuery) -> object:
        counts.append(query)
        return list_files(query)

    library.list_files = counted  # type: ignore[method-assign]
    unseen = library.list_files(FileQuery(sort="original_filename", limit=40)).items[10:]
    counts.clear()
    with db_of(library).write() as s:
        for record in unseen:
            s.delete(s.get(MediaFile, record.id))
    wait_for(qtbot, lambda: len(events) == 30)
    for event in events:
        model.apply_event(dataclasses.replace(event, data={}))
    wait_for(qtbot, lambda: model.total == 10)
    assert 1 <= len(counts) <= 2 and model.rowCount() == 5
    model.fetchMore()
    wait_for(qtbot, lambda: model.rowCount() == 10)
    assert model.total == 10 and not model.canFetchMore()


def test_query_matching_and_positions(library: Library) -> None:
    add_rows(library, 3)
    rows = library.list_files(FileQuery(sort="original_filename")).items
    record = dataclasses.replace(rows[0], id=50, original_filename="file-00001b.jpg")
    assert insert_position(rows, record, "original_filename") == 2
    assert insert_position(rows, record, "-original_filename") == 0
    assert matches(record, FileQuery(q="00001B"))
    assert not matches(record, FileQuery(q="00002"))
    assert not matches(record, FileQuery(file_type="video"))
    assert not matches(record, FileQuery(trashed=True))


def test_a_queued_name_is_shown_without_its_invisible_characters(qapp) -> None:  # type: ignore[no-untyped-def]
    """A right-to-left override in a name on disk showed "photo\u202egpj.exe" as
    "photoexe.jpg" in the queue's row; shown as the library will keep it."""
    model = UploadQueueModel()
    model.add(Path("/tmp/photo\u202egpj.exe"), 1000)
    assert model.data(model.index(0, model.NAME)) == "photogpj.exe"


def test_upload_queue_states_progress_cancel_retry(qapp) -> None:  # type: ignore[no-untyped-def]
    model = UploadQueueModel()
    a = model.add(Path("/tmp/a.jpg"), 1000)
    b = model.add(Path("/tmp/b.mp4"), 3000)
    assert model.rowCount() == 2 and model.columnCount() == 6
    assert model.data(model.index(0, model.STATE)) == "Queued"
    model.set_progress(a.id, "reading", 500, 1000, now=10.0)
    assert model.item(a.id).state == UploadState.VALIDATING
    model.set_progress(a.id, "uploading", 0, 1000, now=10.5)
    model.set_progress(a.id, "uploading", 500, 1000, now=11.5)
    item = model.item(a.id)
    assert item.state == UploadState.UPLOADING and item.speed == pytest.approx(500)
    assert 0.5 < item.fraction < 1.0
    assert model.data(model.index(0, model.SPEED)).endswith("/s")
    model.set_state(a.id, UploadState.DONE, file_id=7)
    assert model.data(model.index(0, model.PROGRESS), model.ProgressRole) == 100
    model.set_state(a.id, UploadState.FAILED, "late report")  # ignored: already finished
    assert model.item(a.id).state == UploadState.DONE
    fraction, running = model.total_progress()
    assert running == 0 and fraction == pytest.approx(0.25)  # b is queued, not running
    assert model.cancel(b.id) and model.item(b.id).state == UploadState.CANCELLED
    assert model.item(b.id).cancel.is_set()
    retried = model.retry(b.id)
    assert retried is not None and retried.state == UploadState.QUEUED
    assert not retried.cancel.is_set()
    model.set_state(b.id, UploadState.FAILED, "Unsupported file type")
    assert model.data(model.index(1, model.STATE)) == "Failed: Unsupported file type"
    model.clear_finished()
    assert [i.id for i in model.items()] == [b.id]  # the failure stays


def test_upload_queue_total_counts_ended_rows_and_a_failure_is_not_progress(qapp) -> None:  # type: ignore[no-untyped-def]
    """A file that failed after it was hashed (truncated.jpg) had half its bar filled behind
    "Failed", and the total read 99 % with nothing left to do."""
    model = UploadQueueModel()
    done, broken, dropped, waiting = (model.add(Path(f"/tmp/{n}.jpg"), 1000) for n in "abcd")
    totals: list[tuple[int, int]] = []
    model.totalProgressChanged.connect(
        lambda per_mille, running: totals.append((per_mille, running))
    )
    model.set_state(done.id, UploadState.DONE)
    model.set_progress(broken.id, "reading", 1000, 1000, now=1.0)
    model.set_progress(broken.id, "validating", 0, 1000, now=1.1)
    model.set_state(broken.id, UploadState.FAILED, "damaged")
    model.cancel(dropped.id)
    assert model.total_progress() == (0.75, 0) and totals[-1] == (750, 0)  # d is still to do
    row = model.row_of(broken.id)
    assert model.index(row, model.PROGRESS).data(model.ProgressRole) == 0
    assert model.index(row, model.PROGRESS).data(model.ProgressTextRole) == "Failed"
    row = model.row_of(dropped.id)
    assert model.index(row, model.PROGRESS).data(model.ProgressRole) == 0
    assert model.index(row, model.PROGRESS).data(model.ProgressTextRole) == "Cancelled"
    model.set_state(waiting.id, UploadState.FAILED, "gone")
    assert model.total_progress() == (1.0, 0) and totals[-1] == (1000, 0)  # nothing left


def test_upload_queue_running_totals_match_a_full_walk(qapp) -> None:  # type: ignore[no-untyped-def]
    """The queue keeps its counts, totals and row lookups per change (a bulk import would be
    quadratic otherwise); after any mix of changes they must equal walking every row."""
    rng = random.Random(7)
    model = UploadQueueModel()
    removed: set[int] = set()
    stages = ("reading", "validating", "thumbnail", "uploading", "sending", "finishing")
    for step in range(3000):
        ids = [i.id for i in model.items()]
        action = rng.random()
        if action < 0.15 or not ids:
            model.add(Path(f"/tmp/f{step}.jpg"), rng.choice([0, 1, 999, 10**6]))
        elif action < 0.55:
            total = rng.choice([0, 1000])
            model.set_progress(
                rng.choice(ids), rng.choice(stages), rng.randint(0, 1000), total, now=step / 10
            )
        elif action < 0.8:
            model.set_state(rng.choice(ids), rng.choice(list(UploadState)), "why")
        elif action < 0.86:
            model.retry(rng.choice(ids))
        elif action < 0.9:
            model.resume(rng.choice(ids))
        elif action < 0.95:
            victim = rng.choice(ids)
            removed.add(victim)
            assert model.remove(victim)
        elif action < 0.97:
            model.clear_finished()
        items = model.items()
        expect: dict[str, int] = {}
        for item in items:
            expect[item.state.value] = expect.get(item.state.value, 0) + 1
        assert model.states() == expect
        # Ended rows (done, duplicate, failed, cancelled) count whole: nothing is left of them
        weight = sum(max(i.size, 1) for i in items)
        done = sum(max(i.size, 1) * (1.0 if i.state.ended else i.fraction) for i in items)
        fraction, running = model.total_progress()
        assert running == sum(1 for i in items if i.state.running)
        assert fraction == pytest.approx(done / weight if weight else 0.0, abs=1e-12)
        probe = rng.choice(items) if items and rng.random() < 0.9 else None
        if probe is not None:
            assert model.item(probe.id) is probe and items[model.row_of(probe.id)] is probe
        gone = rng.choice(sorted(removed)) if removed else -1
        assert model.item(gone) is None and model.row_of(gone) == -1
    # Everything done reads exactly 100 %, however the sums were reached.
    for item in model.items():
        model.set_state(item.id, UploadState.QUEUED)
        model.set_state(item.id, UploadState.DONE)
    if model.items():
        assert model.total_progress()[0] == 1.0


def test_upload_queue_is_saved_during_a_long_busy_import(
    qtbot, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Changes that never pause still get the queue onto disk within the maximum delay."""
    monkeypatch.setattr(upload_controller, "SAVE_MAX_DELAY", 0.4)
    controller = upload_controller.UploadController(library)
    try:
        controller._save_timer.setInterval(200)
        saved = queue_file(library.paths.data_dir)
        wait_for(qtbot, lambda: not controller.busy)  # the empty saved queue was read
        item = controller.model.add(Path("/tmp/busy.jpg"), 100)
        started = time.monotonic()
        while not saved.exists() and time.monotonic() - started < 3:
            controller.model.set_state(item.id, UploadState.PAUSED)  # a change every 50 ms
            controller.model.set_state(item.id, UploadState.QUEUED)
            qtbot.wait(50)
        assert saved.exists() and time.monotonic() - started < 2
        wait_for(qtbot, lambda: [r.path for r in load_queue(saved)] == ["/tmp/busy.jpg"])
    finally:
        controller.shutdown()


def test_sidebar_model_counts_and_filters(qapp) -> None:  # type: ignore[no-untyped-def]
    model = SidebarModel()
    model.set_counts({"all": 5, "image": 3, "video": 2, "public": 1, "trash": 4})
    assert model.count_text("video") == "2"
    model.set_athletes([AthleteRecord(1, "Ana", 2), AthleteRecord(2, "Luis", 0)])
    index = model.index_of("athlete:1")
    assert index.data() == "Ana" and model.count_text("athlete:1") == "2"
    flt = model.filter_at(index)
    assert flt == SidebarFilter("athlete", 1)
    query = flt.apply(FileQuery(q="x"))
    assert query.athlete_id == 1 and query.q == "x"
    assert SidebarFilter("trash").apply(FileQuery()).trashed
    model.set_athletes([AthleteRecord(1, "Ana", 3), AthleteRecord(2, "Luis", 0)])
    assert model.count_text("athlete:1") == "3"


def test_sidebar_counts_are_written_like_the_header_and_status_bar(qapp) -> None:  # type: ignore[no-untyped-def]
    """The header said "1,005 files" and the status bar "1,005 files" while the sidebar, beside
    them, said "1005": the same count is grouped the same way everywhere (the locale's way)."""
    from PySide6.QtCore import QLocale

    before = QLocale()
    QLocale.setDefault(QLocale("en_US"))
    try:
        model = SidebarModel()
        model.set_counts({"all": 1005, "image": 1001, "video": 4, "public": 0, "trash": 12345})
        model.set_athletes([AthleteRecord(1, "Ana", 2500)])
        assert model.count_text("all") == "1,005" and model.count_text("video") == "4"
        assert model.count_text("trash") == "12,345"
        assert model.count_text("athlete:1") == "2,500"
    finally:
        QLocale.setDefault(before)


@pytest.mark.parametrize(("ratio", "width"), [(1.0, 192), (1.5, 288), (2.0, 320)])
def test_a_thumbnail_is_loaded_sharp_for_the_screens_pixel_ratio(
    qapp, library: Library, tmp_path: Path, ratio: float, width: int
) -> None:  # type: ignore[no-untyped-def]
    """At 150 % and 200 % the grid's thumbnails were decoded at 192 × 144 pixels and painted
    into a 192 × 144 point box, upscaled and blurry. They load at the box's size in the
    screen's pixels (at most the stored thumbnail's 320), and say so in their pixel ratio:
    on screen they are the box's size."""
    from desktop_app.models.thumbnails import THUMB_SIZE, load_thumbnail
    from tests.media import make_jpeg

    record = library.uploads.ingest(make_jpeg(tmp_path / "wide.jpg", size=(1600, 900)), "image")
    image = load_thumbnail(library, record.id, ratio)
    assert image is not None
    assert image.width() == width
    assert image.devicePixelRatio() == pytest.approx(width / THUMB_SIZE.width())
    assert round(image.deviceIndependentSize().width()) == THUMB_SIZE.width()
