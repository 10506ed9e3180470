"""Desktop: the upload queue across a close, a crash and a restart.

A row that finished is never sent again nor shown as a duplicate at the next start; a failure
reads in the language of the next start; closing the app says the uploads will resume.
"""

from __future__ import annotations

import json
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

import shiboken6  # noqa: E402
from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from core.ingest import Ingestor  # noqa: E402
from core.library import Library  # noqa: E402
from desktop_app.controllers import upload_controller  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.upload_queue_model import UploadQueueModel, UploadState  # noqa: E402
from desktop_app.upload_persistence import (  # noqa: E402
    QueueJournal,
    SavedRow,
    journal_file,
    load_queue,
    queue_file,
    save_queue,
)
from desktop_app.views import main_window  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402


@pytest.fixture
def english(qapp: Any) -> Iterator[None]:
    install_translations("en")
    yield
    install_translations("en")


@pytest.fixture
def held_ingest(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """(stored, release): the real ingest runs, sets `stored`, then waits for `release` before
    its result goes back to the window: a file the library has but the window not yet."""
    stored, release = threading.Event(), threading.Event()
    original = Ingestor.ingest

    def ingest(self: Ingestor, *args: Any, **kwargs: Any) -> Any:
        record = original(self, *args, **kwargs)
        stored.set()
        release.wait(10)
        return record

    monkeypatch.setattr(Ingestor, "ingest", ingest)
    return stored, release


def _copy(source: Path, target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(source, target)
    return target


def _saved_rows(saved: Path) -> list[dict[str, Any]]:
    """The rows of the queue file itself (without its journal)."""
    try:
        return list(json.loads(saved.read_text())["rows"])
    except (FileNotFoundError, ValueError):
        return []


def _started(qtbot: Any, library: Library, **kwargs: Any) -> UploadController:
    controller = UploadController(library, **kwargs)
    wait_for(qtbot, lambda: not controller.busy)  # the saved queue was read back
    return controller


def test_a_file_stored_while_the_app_closes_is_not_restored(
    qtbot: Any,
    library: Library,
    media_dir: MediaSet,
    tmp_path: Path,
    held_ingest: tuple[threading.Event, threading.Event],
    english: None,
) -> None:
    stored, release = held_ingest
    photo = _copy(media_dir.jpeg, tmp_path / "finish.jpg")
    first = _started(qtbot, library)
    first.add_paths([photo])
    wait_for(qtbot, stored.is_set)  # in the library; the window still shows it running
    assert first.model.items()[0].state.running
    threading.Timer(0.3, release.set).start()  # it returns while the app closes
    first.shutdown()
    assert load_queue(queue_file(library.paths.data_dir)) == []
    second = _started(qtbot, library)
    try:
        qtbot.wait(300)
        assert second.model.rowCount() == 0  # not restored, so neither sent nor "duplicate"
        assert library.counts()["all"] == 1
    finally:
        second.shutdown()


def test_a_finished_row_is_on_disk_before_the_next_save_of_the_queue(
    qtbot: Any,
    library: Library,
    media_dir: MediaSet,
    tmp_path: Path,
    held_ingest: tuple[threading.Event, threading.Event],
    english: None,
) -> None:
    """What a kill -9 right after the uploads finished would find: the queue file saved while
    they ran, and the journal that says they finished."""
    stored, release = held_ingest
    saved = queue_file(library.paths.data_dir)
    controller = _started(qtbot, library)
    controller._save_timer.setInterval(60_000)  # the next save of the whole queue is far off
    try:
        controller.add_paths([_copy(media_dir.jpeg, tmp_path / "a.jpg")])
        controller.add_paths([_copy(media_dir.png, tmp_path / "b.png")])
        wait_for(qtbot, lambda: controller.model.rowCount() == 2 and stored.is_set())
        controller._save()  # a save while both run: they are in it as queued
        wait_for(qtbot, lambda: len(_saved_rows(saved)) == 2)
        release.set()
        wait_for(qtbot, lambda: all(i.state == UploadState.DONE for i in controller.model.items()))
        # The queue file still lists them; the journal, flushed within JOURNAL_DELAY, wins
        assert len(_saved_rows(saved)) == 2
        wait_for(qtbot, lambda: load_queue(saved) == [], timeout=2000)
        assert journal_file(saved).exists()
    finally:
        controller.shutdown()
    assert not journal_file(saved).exists()  # the last save holds everything: journal emptied


def test_dropped_files_are_on_disk_at_once_even_in_a_busy_import(
    qtbot: Any,
    library: Library,
    media_dir: MediaSet,
    tmp_path: Path,
    held_ingest: tuple[threading.Event, threading.Event],
    english: None,
) -> None:
    """A kill -9 seconds after a drop, while earlier uploads keep the queue busy (its saves
    wait for a quiet moment, SAVE_MAX_DELAY at most), found the dropped rows lost: now the
    rows of a drop are saved as soon as they are queued."""
    stored, release = held_ingest
    saved = queue_file(library.paths.data_dir)
    controller = _started(qtbot, library)
    controller._save_timer.setInterval(60_000)  # the debounced save never comes in this test
    try:
        controller.add_paths([_copy(media_dir.jpeg, tmp_path / "a.jpg")])
        wait_for(qtbot, stored.is_set)  # one upload running, held
        folder = tmp_path / "drop"
        for n in range(5):
            _copy(media_dir.png, folder / f"p{n}.png")
        controller.add_paths([folder])
        wait_for(qtbot, lambda: len(_saved_rows(saved)) == 6, timeout=3000)
        assert {Path(r["path"]).name for r in _saved_rows(saved)} >= {f"p{n}.png" for n in range(5)}
    finally:
        release.set()
        controller.shutdown()


def test_after_a_crash_rows_already_in_the_library_read_done_not_duplicate(
    qtbot: Any,
    library: Library,
    media_dir: MediaSet,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    english: None,
) -> None:
    monkeypatch.setattr(upload_controller, "CLOCK_SLACK", 0.2)  # a short test
    mine = {
        "a": _copy(media_dir.jpeg, tmp_path / "a.jpg"),
        "b": _copy(media_dir.png, tmp_path / "b.png"),
        "old": _copy(media_dir.gif, tmp_path / "old.gif"),  # a version 1 row: no key, no time
    }
    before = _copy(media_dir.webp, tmp_path / "before.webp")
    renamed = _copy(media_dir.jpeg, tmp_path / "a-copy.jpg")  # a's bytes under another name
    twin = _copy(media_dir.png, tmp_path / "other" / "b.png")  # b's bytes and name
    # The user queued `before` when the library already had it: a real duplicate.
    library.uploads.ingest(before, "image")
    time.sleep(0.5)
    queued_at = time.time()
    # The killed run stored these three, then died before noting it.
    ids = {name: library.uploads.ingest(path, "image").id for name, path in mine.items()}
    rows = [
        SavedRow(str(p), p.stat().st_size, key=f"k{n}", queued_at=queued_at)
        for n, p in enumerate((mine["a"], mine["b"], before, renamed, twin))
    ]
    data = [asdict(r) for r in rows]
    data.append({"path": str(mine["old"]), "size": mine["old"].stat().st_size, "state": "queued"})
    saved = queue_file(library.paths.data_dir)
    saved.write_text(json.dumps({"version": 1, "rows": data}))
    controller = UploadController(library, max_parallel=1)
    try:
        model = controller.model
        wait_for(
            qtbot,
            lambda: model.rowCount() == 6 and all(i.state.finished for i in model.items()),
            timeout=30000,
        )
        state = {i.path: i for i in model.items()}
        for name, path in mine.items():
            assert state[path].state == UploadState.DONE, name
            assert state[path].file_id == ids[name]
        assert state[before].state == UploadState.DUPLICATE  # in the library before it was queued
        assert state[renamed].state == UploadState.DUPLICATE  # a's file is not this name's
        assert state[twin].state == UploadState.DUPLICATE  # b's file was claimed by b's row
        assert library.counts()["all"] == 4  # nothing was stored again
        row = model.row_of(state[mine["a"]].id)
        assert model.index(row, model.STATE).data() == "Done"
    finally:
        controller.shutdown()


def test_a_failure_reads_in_the_language_of_the_next_start(
    qtbot: Any, library: Library, tmp_path: Path, english: None
) -> None:
    notanimage = tmp_path / "notanimage.jpg"
    notanimage.write_bytes(b"just some text, not a photo at all")
    first = _started(qtbot, library)
    first.add_paths([notanimage])
    wait_for(qtbot, lambda: first.model.rowCount() == 1 and not first.busy)
    failed = first.model.items()[0]
    assert failed.state == UploadState.FAILED
    assert failed.reason.startswith("This file is not an image or video")
    first.shutdown()
    (row,) = load_queue(queue_file(library.paths.data_dir))
    assert row.state == "failed" and row.error and row.error["code"] == "unsupported_type"
    assert row.reason == ""  # no sentence of one language on disk: the code says it again
    install_translations("es")
    second = _started(qtbot, library)
    try:
        model = second.model
        wait_for(qtbot, lambda: model.rowCount() == 1)
        item = model.items()[0]
        assert item.state == UploadState.FAILED
        assert item.reason.startswith("Este archivo no es una imagen ni un vídeo de un tipo que")
        tip = str(model.index(0, UploadQueueModel.STATE).data(Qt.ItemDataRole.ToolTipRole))
        lines = tip.split("\n")
        assert lines[1].startswith("Falló: Este archivo no es una imagen")
        # core's English message only as a labelled technical detail
        assert lines[2].startswith("Detalle técnico (en inglés): Unsupported file type")
        assert len(lines) == 3
    finally:
        second.shutdown()


def test_the_journal_survives_a_torn_line_and_keeps_what_a_save_does_not_hold(
    tmp_path: Path,
) -> None:
    saved = tmp_path / "upload-queue.json"
    a, b, c = (SavedRow(f"/m/{n}.jpg", 10, key=n) for n in "abc")
    save_queue(saved, [a, b, c])
    journal = QueueJournal(journal_file(saved))
    journal.record("a", state="done", file_id=1)
    journal.record("b", upload_id="u-1")
    journal.flush()
    with open(journal_file(saved), "a") as fh:
        fh.write('{"key": "c", "sta')  # the write a crash cut
    rows = load_queue(saved)
    assert [r.key for r in rows] == ["b", "c"] and rows[0].upload_id == "u-1"
    journal.record("b", upload_id="u-2")  # appended after the cut line, not glued to it
    journal.flush()
    rows = load_queue(saved)
    assert [r.key for r in rows] == ["b", "c"] and rows[0].upload_id == "u-2"
    upto = journal.seq
    # After the snapshot below was taken: c finished, and d, a row the snapshot does not have
    # yet (added since), finished too
    journal.record("c", state="done", file_id=3)
    journal.record("d", state="done", file_id=4)
    save_queue(saved, rows)
    journal.compact(rows, upto)
    lines = [json.loads(line) for line in journal_file(saved).read_text().splitlines()]
    assert [(e["key"], e.get("state")) for e in lines] == [("c", "done"), ("d", "done")]
    assert [r.key for r in load_queue(saved)] == ["b"]
    # The next snapshot, taken before the window heard that d finished, lists d as queued:
    # a crash before its journal is compacted again must still not bring d back
    save_queue(saved, [*rows, SavedRow("/m/d.jpg", 10, key="d")])
    assert [r.key for r in load_queue(saved)] == ["b"]


def test_after_a_crash_a_removed_rows_upload_is_still_to_drop(tmp_path: Path) -> None:
    """Killed right after Remove on a sending row, before any save of the queue: the journal
    alone says the row's upload is to drop (its worker noted the id, the window the removal),
    in either order; a row the worker finished anyway, or whose upload was dropped, is gone."""
    saved = tmp_path / "upload-queue.json"
    a, b = (SavedRow(f"/m/{n}.mp4", 10, key=n) for n in "ab")
    save_queue(saved, [a, b])
    journal = QueueJournal(journal_file(saved))
    journal.record("a", upload_id="u-a")
    journal.record("a", state="discard")
    journal.record("b", state="discard")  # removed before its worker made the upload
    journal.record("b", upload_id="u-b")
    journal.record("c", upload_id="u-c")  # queued, sent and removed between two saves
    journal.record("c", state="discard")
    journal.record("d", state="discard")
    journal.record("d", state="done", file_id=4)  # stored before it saw the cancel: kept
    journal.flush()
    rows = load_queue(saved)
    assert [(r.key, r.state, r.upload_id) for r in rows] == [
        ("a", "discard", "u-a"),
        ("b", "discard", "u-b"),
        ("c", "discard", "u-c"),
    ]
    upto = journal.seq
    save_queue(saved, rows)
    journal.compact(rows, upto)
    assert load_queue(saved) == rows  # a save holds them
    journal.record("a", state="removed")  # dropped
    journal.flush()
    assert [r.key for r in load_queue(saved)] == ["b", "c"]


def _when_asked(then: Callable[[QMessageBox], None]) -> QTimer:
    """Runs `then` on the quit question once it shows (window.close() waits inside it)."""

    def look() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and box.isVisible():
            timer.stop()
            then(box)

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(look)
    timer.start()
    return timer


@pytest.mark.parametrize("answer", ["no", "escape"])
def test_quitting_during_an_import_says_the_uploads_resume(
    qtbot: Any, library: Library, english: None, answer: str
) -> None:
    window = main_window.MainWindow(library)
    qtbot.addWidget(window)
    window.show()
    wait_for(qtbot, lambda: not window.uploads.busy)
    window.uploads.model.add(Path("/tmp/still-queued.jpg"), 100)  # an upload not ended
    asked: list[str] = []

    def reply(box: QMessageBox) -> None:
        asked.append(box.text())
        asked.append(box.informativeText())
        if answer == "no":
            box.button(QMessageBox.StandardButton.No).click()
        else:
            QTest.keyClick(box, Qt.Key.Key_Escape)

    timer = _when_asked(reply)
    try:
        window.close()
        assert window.isVisible() and len(asked) == 2  # the app stays open
        assert asked[1] == "1 file left to upload."
        assert "continue where they left off the next time you open MediaDesk" in asked[0]
        assert "Cancel" not in asked[0]
    finally:
        timer.stop()
        window.shutdown()


def test_the_quit_question_goes_once_the_uploads_end_and_the_app_quits(
    qtbot: Any,
    library: Library,
    media_dir: MediaSet,
    tmp_path: Path,
    held_ingest: tuple[threading.Event, threading.Event],
    english: None,
) -> None:
    """Quit while a folder uploaded: the question stayed up for good, over a queue long
    finished, and the app never quit until the user said Yes. Once nothing is running or
    queued, the question no longer applies: it closes and the quit goes on."""
    stored, release = held_ingest
    window = main_window.MainWindow(library)
    qtbot.addWidget(window)
    window.show()
    wait_for(qtbot, lambda: not window.uploads.busy)
    window.uploads.add_paths([_copy(media_dir.jpeg, tmp_path / "last.jpg")])
    wait_for(qtbot, stored.is_set)  # uploading, held until the question is up
    shown: list[str] = []

    def uploads_end(box: QMessageBox) -> None:
        shown.append(box.informativeText())
        release.set()

        def give_up() -> None:  # without the fix the box stays: answer No, so the test ends
            if shiboken6.isValid(box) and box.isVisible():
                box.button(QMessageBox.StandardButton.No).click()

        QTimer.singleShot(10_000, give_up)

    timer = _when_asked(uploads_end)
    try:
        window.close()
        assert shown == ["1 file left to upload."]
        assert not window.isVisible()  # quit, with no answer needed
        assert library.counts()["all"] == 1
        assert load_queue(queue_file(library.paths.data_dir)) == []
    finally:
        timer.stop()
        release.set()
        window.shutdown()


def test_a_retried_row_stored_before_the_next_save_is_not_restored_failed(
    qtbot: Any, library: Library, media_dir: MediaSet, tmp_path: Path, english: None
) -> None:
    """kill -9 within the few seconds between *Retry failed* and the next save of the queue
    (a bulk import after a full disk freed): the queue file still held the failed rows, and
    the journal said the retries finished under the new keys a retry gives its row, which
    that file did not know. At the next start every file the retry had stored came back as
    *Failed: There is not enough free space…*, though it was in the library."""
    saved = queue_file(library.paths.data_dir)
    photo = tmp_path / "retried.jpg"
    photo.write_bytes(b"just some text, not a photo at all")
    controller = _started(qtbot, library)
    try:
        controller.add_paths([photo])
        wait_for(qtbot, lambda: controller.model.rowCount() == 1 and not controller.busy)
        assert controller.model.items()[0].state == UploadState.FAILED
        controller._save()
        wait_for(qtbot, lambda: [r["state"] for r in _saved_rows(saved)] == ["failed"])
        controller._save_timer.setInterval(60_000)  # the next save of the whole queue is far off
        shutil.copy(media_dir.jpeg, photo)  # the cause is gone: the user retries
        assert controller.retry_failed() == 1
        wait_for(qtbot, lambda: controller.model.items()[0].state == UploadState.DONE)
        assert library.counts()["all"] == 1
        # What the next start would read after a kill -9 now: the retried row left the queue
        assert [r["state"] for r in _saved_rows(saved)] == ["failed"]
        wait_for(qtbot, lambda: load_queue(saved) == [], timeout=2000)
    finally:
        controller.shutdown()
    assert load_queue(saved) == []


def test_a_retried_row_not_yet_sent_at_a_crash_comes_back_queued(tmp_path: Path) -> None:
    """A retry noted only in the journal: the row comes back to be sent (not failed, not
    lost), under its new key, so that the journal's later words about it apply."""
    saved = queue_file(tmp_path)
    failed = SavedRow("/x/a.jpg", 3, state="failed", key="old", queued_at=1.0, reason="Full")
    save_queue(saved, [failed, SavedRow("/x/b.jpg", 4, state="failed", key="b")])
    journal = QueueJournal(journal_file(saved))
    journal.record("old", retried_as="new", queued_at=2.0)
    journal.record("b", retried_as="b2", queued_at=3.0)
    journal.record("b2", state="done", file_id=7)
    journal.flush()
    (row,) = load_queue(saved)
    assert (row.path, row.key, row.state, row.reason, row.queued_at) == (
        "/x/a.jpg",
        "new",
        "queued",
        "",
        2.0,
    )
