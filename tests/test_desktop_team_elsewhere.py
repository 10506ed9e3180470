"""The window while another process on the same catalog trashes or deletes files.

- A preview opened and closed earlier (Qt deleted it) does not turn each file trashed elsewhere
  into an "unexpected error"; one change that cannot be said does not stop the others.
- The file being edited (unsaved) trashed elsewhere: the typed text stays, on that file, with a
  notice offering Restore and save / Discard; the selection and the focus do not move to
  another file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtMultimedia import QMediaPlayer
from PySide6.QtWidgets import QApplication, QLabel

from core.events import ChangeEvent, EventKind
from core.library import Library
from core.records import FileRecord
from desktop_app import team as team_module
from desktop_app.i18n import install_translations
from desktop_app.models.sidebar_model import SidebarFilter
from desktop_app.preview.video_player import VideoPlayer
from desktop_app.views import main_window as main_window_module
from desktop_app.views.main_window import MainWindow
from tests.media_fixtures import MediaSet
from tests.qt_helpers import shown_window, wait_for

pytestmark = pytest.mark.timeout(120)


def _photos(library: Library, folder: Path, count: int) -> list[FileRecord]:
    records = []
    for i in range(count):
        path = folder / f"photo{i}.jpg"
        Image.new("RGB", (64, 48), (i * 30 % 256, 90, 160)).save(path)
        records.append(library.uploads.ingest(path, "image"))
    return records


def _select(qtbot: Any, window: MainWindow, file_id: int) -> None:
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.row_of(file_id) >= 0)
    window.browser.select_row(grid.row_of(file_id))
    details = window.details
    wait_for(qtbot, lambda: details.record is not None and details.record.id == file_id)


def _type_description(qtbot: Any, window: MainWindow, file_id: int, text: str) -> None:
    """The file selected and `text` typed into its description, not saved: an edit under way."""
    _select(qtbot, window, file_id)
    window.details.description.setFocus()
    qtbot.keyClicks(window.details.description, text)


def test_files_trashed_elsewhere_after_a_closed_preview(
    qtbot: Any, library: Library, settings: Any, tmp_path: Path
) -> None:
    records = _photos(library, tmp_path, 6)
    other = Library.open(settings)  # another desktop on the catalog: its own feed origin
    try:
        with shown_window(qtbot, library) as window:
            grid = window.controller.grid
            _select(qtbot, window, records[0].id)
            with qtbot.waitSignal(window.controller.previewReady, timeout=15000):
                window.commands.preview.trigger()
            dialog = window.preview_dialog
            assert dialog is not None
            with qtbot.waitSignal(dialog.destroyed, timeout=5000):
                dialog.close()

            # the details show the file trashed first; five are trashed elsewhere at once
            _select(qtbot, window, records[1].id)
            for record in records[1:]:
                other.trash(record.id)
            wait_for(qtbot, lambda: grid.rowCount() == 1)
            wait_for(qtbot, lambda: "moved to the trash on" in window.status.currentMessage())
            assert records[1].original_filename in window.status.currentMessage()
            wait_for(qtbot, lambda: window.controller.counts.get("all") == 1)
    finally:
        other.close()


def test_the_trash_emptied_elsewhere_is_said_for_every_file(
    qtbot: Any, library: Library, settings: Any, tmp_path: Path
) -> None:
    """Another desktop emptied the trash while this one showed one of its files: the status
    bar named that file alone ("“a.jpg” was deleted on vm.") and left the other out."""
    install_translations("en")  # the plural of "file(s)"
    records = _photos(library, tmp_path, 3)
    for record in records[:2]:
        library.trash(record.id)
    other = Library.open(settings)
    try:
        with shown_window(qtbot, library) as window:
            window.controller.set_filter(SidebarFilter("trash"))
            wait_for(qtbot, lambda: window.controller.grid.rowCount() == 2)
            _select(qtbot, window, records[0].id)
            assert other.empty_trash() is not None
            status = window.status
            wait_for(qtbot, lambda: "deleted permanently on" in status.currentMessage())
            said = status.toolTip() or status.currentMessage()
            assert said.startswith("2 files were deleted permanently on"), said
            assert all(r.original_filename in said for r in records[:2]), said
    finally:
        other.close()


def test_one_change_that_cannot_be_said_does_not_stop_the_others(
    qtbot: Any,
    library: Library,
    settings: Any,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    records = _photos(library, tmp_path, 3)
    other = Library.open(settings)
    real_host_of = team_module.host_of
    calls: list[str | None] = []

    def host_of(origin: str | None) -> str:
        calls.append(origin)
        if len(calls) == 1:
            raise RuntimeError("the first change fails")
        return real_host_of(origin)

    try:
        with shown_window(qtbot, library) as window:
            _select(qtbot, window, records[2].id)
            monkeypatch.setattr(team_module, "host_of", host_of)
            with caplog.at_level(logging.ERROR, logger="desktop_app.team"):
                other.trash(records[1].id)  # its notice fails
                other.trash(records[2].id)  # the one shown: said all the same
                wait_for(
                    qtbot, lambda: "was moved to the trash on" in window.status.currentMessage()
                )
            failed = [r for r in caplog.records if r.name == "desktop_app.team"]
            assert failed and failed[0].exc_info is not None  # with its traceback
            assert QApplication.activeModalWidget() is None
    finally:
        other.close()


def _descriptions(library: Library, ids: list[int]) -> dict[int, str]:
    return {i: library.get_file(i).description for i in ids}


def test_the_file_being_edited_trashed_elsewhere_keeps_the_edit_on_that_file(
    qtbot: Any, library: Library, settings: Any, tmp_path: Path
) -> None:
    records = _photos(library, tmp_path, 3)
    ids = [r.id for r in records]
    target = records[1]
    other = Library.open(settings)
    try:
        with shown_window(qtbot, library) as window:
            window.activateWindow()
            grid, details = window.controller.grid, window.details
            _type_description(qtbot, window, target.id, "unsaved note")
            assert details.dirty
            before = _descriptions(library, ids)

            other.trash(target.id)
            wait_for(qtbot, lambda: grid.row_of(target.id) < 0)
            qtbot.wait(500)  # what the grid's selection does after the row went
            assert QApplication.activeModalWidget() is None  # nobody asked mid-typing
            assert details.record is not None and details.record.id == target.id
            assert window.controller.current is not None
            assert window.controller.current.id == target.id
            assert details.description.toPlainText() == "unsaved note"
            assert details.dirty
            assert window.browser.selected_ids() == []  # no neighbour took its place
            assert QApplication.focusWidget() is details.description
            assert details.gone_note.isVisible()
            note = details.gone_text.text()
            assert "was moved to the trash on" in note and target.original_filename in note
            assert details.restore_save_button.isVisible()

            # the typing goes on into the same file, never a neighbour
            qtbot.keyClicks(details.description, ", and more")
            assert details.record.id == target.id
            assert _descriptions(library, ids) == before

            # Restore and save: the file is back, with the text typed
            details.restore_save_button.click()
            wait_for(qtbot, lambda: not details.dirty)
            saved = library.get_file(target.id)
            assert not saved.is_trashed
            assert saved.description == "unsaved note, and more"
            assert not details.gone_note.isVisible()
            wait_for(qtbot, lambda: grid.row_of(target.id) >= 0)
            # its tile selected again: the details show the selected file, never another one
            wait_for(qtbot, lambda: window.browser.selected_ids() == [target.id])
            assert details.record is not None and details.record.id == target.id
            others = [i for i in ids if i != target.id]
            assert _descriptions(library, others) == {i: before[i] for i in others}
    finally:
        other.close()


def test_the_file_being_edited_deleted_elsewhere_offers_discard_only(
    qtbot: Any, library: Library, settings: Any, tmp_path: Path
) -> None:
    records = _photos(library, tmp_path, 3)
    target = records[0]
    other = Library.open(settings)
    try:
        with shown_window(qtbot, library) as window:
            details = window.details
            _select(qtbot, window, target.id)
            qtbot.keyClicks(details.description, "typed")
            assert details.dirty
            other.trash(target.id)
            other.delete_permanently(target.id)
            wait_for(qtbot, lambda: "was deleted on" in details.gone_text.text())
            assert details.gone_note.isVisible()
            assert details.description.toPlainText() == "typed"
            assert not details.restore_save_button.isVisible()
            details.discard_button.click()
            wait_for(qtbot, lambda: details.record is None)
            assert not details.dirty and not details.gone_note.isVisible()
            assert QApplication.activeModalWidget() is None
    finally:
        other.close()


@pytest.mark.parametrize("selection_moves", [False, True], ids=["none-shown", "next-shown"])
def test_a_batch_gone_elsewhere_in_two_deliveries_is_said_as_one(
    qtbot: Any, library: Library, settings: Any, tmp_path: Path, selection_moves: bool
) -> None:
    """Under load the feed handed Empty trash's deletions to the window in two deliveries (a
    CI-like run): the first took the file shown, so the second, with no file shown any more,
    went unsaid and the line named one file (none-shown). Or the selection moved on to the
    next row, which the next delivery took too: its own line ("“photo1.jpg” was deleted on
    vm.") replaced the first (next-shown). A later delivery of the same change joins it."""
    install_translations("en")
    records = _photos(library, tmp_path, 3)
    for record in records[:2]:
        library.trash(record.id)
    other = Library.open(settings)
    try:
        with shown_window(qtbot, library) as window:
            window.controller.set_filter(SidebarFilter("trash"))
            wait_for(qtbot, lambda: window.controller.grid.rowCount() == 2)
            _select(qtbot, window, records[0].id)
            live = window.controller.live
            events = [
                ChangeEvent(
                    EventKind.DELETED,
                    r.id,
                    data={"original_filename": r.original_filename},
                    origin=other.feed.origin,
                )
                for r in records[:2]
            ]
            live.changed.emit(events[0])
            live.changedTogether.emit(events[:1])
            if selection_moves:  # where the selection goes as the row leaves
                _select(qtbot, window, records[1].id)
            live.changed.emit(events[1])
            live.changedTogether.emit(events[1:])
            said = window.status.currentMessage()
            assert said.startswith("2 files were deleted permanently on"), said
            assert all(r.original_filename in said for r in records[:2]), said
    finally:
        other.close()


def test_restore_and_save_that_fails_is_said_in_words(
    qtbot: Any, library: Library, settings: Any, tmp_path: Path
) -> None:
    """A team hunt: "Restore and save" whose restore failed (the catalog out, the trash being
    emptied) handed the bare exception to the window's error message: an "unexpected" error
    dialog, "'Conflict' object has no attribute 'display'". Here the restore fails as it does
    when another desktop deleted the file for good a moment before; the edit stays."""
    target = _photos(library, tmp_path, 2)[1]
    other = Library.open(settings)
    try:
        with shown_window(qtbot, library) as window:
            details = window.details
            _type_description(qtbot, window, target.id, "kept")
            other.trash(target.id)
            wait_for(qtbot, lambda: details.restore_save_button.isVisible())
            other.delete_permanently(target.id)  # before this window hears of it
            details.restore_save_button.click()
            wait_for(qtbot, lambda: bool(window.last_error))
            assert "display" not in window.last_error
            assert "unexpected" not in window.last_error.lower()
            assert details.description.toPlainText() == "kept"
            for box in QApplication.topLevelWidgets():
                if box.isVisible() and box is not window and hasattr(box, "done"):
                    box.done(0)
    finally:
        other.close()


def test_the_file_being_edited_restored_elsewhere_is_saved_with_the_edit(
    qtbot: Any, library: Library, settings: Any, tmp_path: Path
) -> None:
    """A team hunt: a file being edited, trashed on one desktop and restored on another (or
    through the HTTP API), kept its "moved to the trash" note here, and Save, Ctrl+S and
    "Restore and save" all said "The file is not in the trash": the edit could only be
    discarded. Heard, the restore takes the note away; clicked before it was heard, "Restore
    and save" saves the edit to the file restored meanwhile."""
    records = _photos(library, tmp_path, 3)
    heard, unheard = records[1], records[2]
    other = Library.open(settings)
    try:
        with shown_window(qtbot, library) as window:
            details = window.details
            _type_description(qtbot, window, heard.id, "kept")
            other.trash(heard.id)
            wait_for(qtbot, lambda: details.gone_note.isVisible())
            other.restore(heard.id)
            wait_for(qtbot, lambda: not details.gone_note.isVisible())
            assert details.record is not None and details.record.id == heard.id
            assert details.description.toPlainText() == "kept" and details.dirty
            wait_for(qtbot, lambda: window.browser.selected_ids() == [heard.id])
            assert details.request_save()  # Ctrl+S
            wait_for(qtbot, lambda: not details.dirty)
            saved = library.get_file(heard.id)
            assert saved.description == "kept" and not saved.is_trashed
            assert not window.last_error

            _select(qtbot, window, unheard.id)
            qtbot.keyClicks(details.description, "also kept")
            other.trash(unheard.id)
            wait_for(qtbot, lambda: details.restore_save_button.isVisible())
            other.restore(unheard.id)  # before this window hears of it
            details.restore_save_button.click()
            wait_for(qtbot, lambda: library.get_file(unheard.id).description == "also kept")
            wait_for(qtbot, lambda: not details.dirty and not details.gone_note.isVisible())
            assert not window.last_error
    finally:
        other.close()


def test_the_preview_stops_saying_trashed_once_restored_elsewhere(
    qtbot: Any, library: Library, settings: Any, tmp_path: Path
) -> None:
    """A team hunt: the preview's "moved to the trash on …" line stayed after another desktop
    restored the file, its tile back in the grid behind it; its title kept the file's old
    name after a rename elsewhere."""
    target = _photos(library, tmp_path, 2)[0]
    other = Library.open(settings)
    try:
        with shown_window(qtbot, library) as window:
            _select(qtbot, window, target.id)
            with qtbot.waitSignal(window.controller.previewReady, timeout=15000):
                window.commands.preview.trigger()
            preview = window.preview_dialog
            assert preview is not None

            def banner() -> str:
                label = preview.findChild(QLabel, "elsewhereBanner")
                return label.text() if label is not None and label.isVisible() else ""

            other.trash(target.id)
            wait_for(qtbot, lambda: "was moved to the trash on" in banner())
            other.restore(target.id)
            wait_for(qtbot, lambda: window.controller.grid.row_of(target.id) >= 0)
            wait_for(qtbot, lambda: banner() == "")
            # renamed elsewhere: the title follows, as the tile does (it kept the old name)
            other.update_file(target.id, {"original_filename": "renamed.jpg"})
            wait_for(qtbot, lambda: preview.windowTitle() == "renamed.jpg")
            preview.close()
    finally:
        other.close()


def test_fields_changed_elsewhere_show_beside_an_unsaved_edit(
    qtbot: Any, library: Library, settings: Any, tmp_path: Path
) -> None:
    """A team hunt: with a description being typed, another desktop renamed the file and made
    it public; the grid showed the new name while the panel went on showing the old name and
    sharing beside the edit. Now the fields left alone show theirs; the typed one stays, is the
    only change, and its save still meets theirs vs yours (the version it started from)."""
    target = _photos(library, tmp_path, 2)[0]
    other = Library.open(settings)
    try:
        with shown_window(qtbot, library) as window:
            details = window.details
            _type_description(qtbot, window, target.id, "mine")
            other.update_file(target.id, {"original_filename": "theirs.jpg", "is_public": True})
            grid = window.controller.grid
            wait_for(qtbot, lambda: grid.record_at(grid.row_of(target.id)).is_public)
            wait_for(qtbot, lambda: details.filename.text() == "theirs.jpg")
            assert details.public.isChecked()
            assert details.description.toPlainText() == "mine" and details.dirty
            assert details.changes() == {"description": "mine"}
            with qtbot.waitSignal(window.controller.saveConflict, timeout=10000) as conflict:
                assert details.request_save()
            assert conflict.args is not None and conflict.args[1] == {"description": "mine"}
    finally:
        other.close()


def test_the_trash_line_goes_once_the_file_is_restored_elsewhere(
    qtbot: Any, library: Library, settings: Any, tmp_path: Path
) -> None:
    """A team hunt: "“a.jpg” was moved to the trash on vm." stayed its 15 s in the status bar
    after another desktop had restored the file, its tile back in the grid."""
    target = _photos(library, tmp_path, 2)[0]
    other = Library.open(settings)
    try:
        with shown_window(qtbot, library) as window:
            _select(qtbot, window, target.id)
            status = window.status
            other.trash(target.id)
            wait_for(qtbot, lambda: "moved to the trash on" in status.currentMessage())
            other.restore(target.id)
            wait_for(qtbot, lambda: window.controller.grid.row_of(target.id) >= 0)
            # well before its 15 s are out
            wait_for(qtbot, lambda: "moved to the trash on" not in status.currentMessage(), 5000)
    finally:
        other.close()


def test_a_video_deleted_elsewhere_while_it_plays_shows_the_banner_alone(
    qtbot: Any, library: Library, settings: Any, media_dir: MediaSet
) -> None:
    """A team hunt: under the preview's "“a.mp4” was deleted on vm." the player added "The
    video could not be opened. (Demuxing failed)", Qt failing to read the vanished file."""
    target = library.uploads.ingest(media_dir.mp4, "video")
    other = Library.open(settings)
    try:
        with shown_window(qtbot, library) as window:
            _select(qtbot, window, target.id)
            with qtbot.waitSignal(window.controller.previewReady, timeout=15000):
                window.commands.preview.trigger()
            preview = window.preview_dialog
            assert preview is not None and isinstance(preview.viewer, VideoPlayer)
            player = preview.viewer
            other.delete_permanently(target.id)

            def banner() -> str:
                label = preview.findChild(QLabel, "elsewhereBanner")
                return label.text() if label is not None and label.isVisible() else ""

            wait_for(qtbot, lambda: "was deleted on" in banner())
            # what Qt's backend reports once the file under it is gone
            player.player.errorOccurred.emit(QMediaPlayer.Error.ResourceError, "Demuxing failed")
            qtbot.wait(50)
            assert player.error_text() == ""
            assert "was deleted on" in banner()
            preview.close()
    finally:
        other.close()


def test_empty_trash_says_a_file_restored_elsewhere_meanwhile(
    qtbot: Any, library: Library, settings: Any, tmp_path: Path, monkeypatch: Any
) -> None:
    """A team hunt: Empty trash… confirmed "2 files", another desktop restored one while the
    question was open, and the status bar said "1 file deleted" without a word why."""
    install_translations("en")  # the plurals
    records = _photos(library, tmp_path, 2)
    for record in records:
        library.trash(record.id)
    other = Library.open(settings)

    def confirm(*_args: object, **_kwargs: object) -> bool:
        other.restore(records[1].id)  # while the question was open
        return True

    monkeypatch.setattr(main_window_module, "confirm_irreversible", confirm)
    try:
        with shown_window(qtbot, library) as window:
            wait_for(qtbot, lambda: window.controller.counts.get("trash") == 2)
            window.commands.empty_trash.trigger()
            status = window.status
            wait_for(qtbot, lambda: "Emptied the trash" in status.currentMessage())
            said = status.currentMessage()
            assert said == (
                "Emptied the trash: 1 file deleted (1 restored or deleted elsewhere meanwhile)"
            ), said
            assert library.get_file(records[1].id).deleted_at is None
    finally:
        other.close()
