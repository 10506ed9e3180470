"""Unsaved edits are never dropped silently; the window remembers its layout; empty states."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views import main_window  # noqa: E402
from desktop_app.views.main_window import MainWindow, window_state_file  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, wait_for

Button = QMessageBox.StandardButton


class Asker:
    """Stands in for the Save/Discard/Cancel question; records which files it was asked about."""

    def __init__(self, answer: QMessageBox.StandardButton) -> None:
        self.answer = answer
        self.asked: list[str] = []

    def __call__(self, record: FileRecord) -> QMessageBox.StandardButton:
        self.asked.append(record.original_filename)
        return self.answer


@pytest.fixture
def two_files(library: Library, media_dir: MediaSet) -> tuple[FileRecord, FileRecord]:
    first = library.uploads.ingest(media_dir.jpeg, "image")
    second = library.uploads.ingest(media_dir.png, "image")
    return first, second


@pytest.fixture
def window(qtbot, library: Library, two_files) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(library, page_size=50)
    qtbot.addWidget(win)
    win.show()
    wait_for(qtbot, lambda: win.controller.grid.rowCount() == 2)
    yield win
    win.shutdown()


def edit_description(window: MainWindow, file_id: int, text: str) -> None:
    window.browser.select_row(window.controller.grid.row_of(file_id))
    assert window.details.record is not None and window.details.record.id == file_id
    window.details.description.setPlainText(text)
    assert window.details.dirty and window.details.editor.title() == "Metadata (unsaved changes)"


def test_switching_files_with_unsaved_edits_asks_and_cancel_keeps_them(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    two_files: tuple[FileRecord, FileRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = two_files
    asker = Asker(Button.Cancel)
    monkeypatch.setattr(window, "ask_unsaved", asker)
    edit_description(window, first.id, "Podium, second place")
    window.browser.select_row(window.controller.grid.row_of(second.id))
    wait_for(qtbot, lambda: asker.asked == [first.original_filename])
    wait_for(
        qtbot,
        lambda: window.browser.grid.currentIndex().row() == window.controller.grid.row_of(first.id),
    )
    assert window.details.record is not None and window.details.record.id == first.id
    assert window.details.description.toPlainText() == "Podium, second place"
    assert window.details.dirty
    assert library.get_file(first.id).description == ""


def test_discard_drops_the_edits_and_moves_on(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    two_files: tuple[FileRecord, FileRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = two_files
    asker = Asker(Button.Discard)
    monkeypatch.setattr(window, "ask_unsaved", asker)
    edit_description(window, first.id, "never mind")
    window.browser.select_row(window.controller.grid.row_of(second.id))
    wait_for(
        qtbot, lambda: window.details.record is not None and window.details.record.id == second.id
    )
    assert asker.asked == [first.original_filename] and not window.details.dirty
    assert library.get_file(first.id).description == ""


def test_save_stores_the_edits_then_moves_on(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    two_files: tuple[FileRecord, FileRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = two_files
    monkeypatch.setattr(window, "ask_unsaved", Asker(Button.Save))
    edit_description(window, first.id, "Relay, final leg")
    window.browser.select_row(window.controller.grid.row_of(second.id))
    wait_for(
        qtbot, lambda: window.details.record is not None and window.details.record.id == second.id
    )
    assert library.get_file(first.id).description == "Relay, final leg"
    assert not window.details.dirty
    assert window.browser.grid.currentIndex().row() == window.controller.grid.row_of(second.id)


def test_leaving_while_a_save_runs_waits_for_it_instead_of_asking(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    two_files: tuple[FileRecord, FileRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ctrl+S, then another file at once (the save still on its worker thread): no question
    about edits already being saved; the move happens once they are stored. Edits typed after
    the save was sent are still asked about."""
    first, second = two_files
    asker = Asker(Button.Cancel)
    monkeypatch.setattr(window, "ask_unsaved", asker)
    edit_description(window, first.id, "Long jump, 7.12 m")
    assert window.details.request_save()  # what Ctrl+S does; the answer comes back later
    window.browser.select_row(window.controller.grid.row_of(second.id))
    wait_for(
        qtbot, lambda: window.details.record is not None and window.details.record.id == second.id
    )
    assert asker.asked == []
    assert library.get_file(first.id).description == "Long jump, 7.12 m"

    edit_description(window, second.id, "Triple jump")
    assert window.details.request_save()
    window.details.description.setPlainText("Triple jump, 14.02 m")  # typed after the save
    window.browser.select_row(window.controller.grid.row_of(first.id))
    wait_for(qtbot, lambda: asker.asked == [second.original_filename])
    assert window.details.record is not None and window.details.record.id == second.id


def test_edits_typed_while_a_save_runs_survive_its_answer(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    two_files: tuple[FileRecord, FileRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The order a busy machine gives the test above: the save comes back before the click on
    another file is handled. The edits typed after it was sent stay, are asked about, and save
    on top of it without a conflict with our own save."""
    first, second = two_files
    asker = Asker(Button.Cancel)
    monkeypatch.setattr(window, "ask_unsaved", asker)
    edit_description(window, second.id, "Triple jump")
    with qtbot.waitSignal(window.controller.saved, timeout=TIMEOUT):
        assert window.details.request_save()
        window.details.description.setPlainText("Triple jump, 14.02 m")  # typed after the save
    assert library.get_file(second.id).description == "Triple jump"
    assert window.details.dirty
    assert window.details.description.toPlainText() == "Triple jump, 14.02 m"
    window.browser.select_row(window.controller.grid.row_of(first.id))
    wait_for(qtbot, lambda: asker.asked == [second.original_filename])
    assert window.details.record is not None and window.details.record.id == second.id
    with qtbot.waitSignal(window.controller.saved, timeout=TIMEOUT):
        assert window.details.request_save()
    assert library.get_file(second.id).description == "Triple jump, 14.02 m"
    assert not window.details.dirty


def test_a_failed_save_keeps_the_edits_and_the_selection(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    two_files: tuple[FileRecord, FileRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = two_files
    monkeypatch.setattr(window, "ask_unsaved", Asker(Button.Save))
    monkeypatch.setattr(QMessageBox, "open", lambda self: None)
    window.browser.select_row(window.controller.grid.row_of(first.id))
    window.details.filename.setText("   ")  # refused by the library: a name cannot be empty
    window.details.filename.textEdited.emit("   ")
    assert window.details.dirty
    with qtbot.waitSignal(window.controller.saveFailed, timeout=TIMEOUT):
        window.browser.select_row(window.controller.grid.row_of(second.id))
    wait_for(
        qtbot,
        lambda: window.browser.grid.currentIndex().row() == window.controller.grid.row_of(first.id),
    )
    assert window.details.record is not None and window.details.record.id == first.id
    assert window.details.dirty and window.last_error == "The file name cannot be empty."


def test_sidebar_search_and_sort_ask_too(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    two_files: tuple[FileRecord, FileRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, _ = two_files
    asker = Asker(Button.Cancel)
    monkeypatch.setattr(window, "ask_unsaved", asker)
    c = window.controller
    edit_description(window, first.id, "keep me")
    window.sidebar.setCurrentIndex(c.sidebar.index_of("video"))
    wait_for(qtbot, lambda: len(asker.asked) == 1)
    wait_for(qtbot, lambda: window.sidebar.currentIndex() == c.sidebar.index_of("all"))
    assert c.filter.section == "all"
    window.browser.search.setText("photo")
    window.browser.search.returnPressed.emit()
    wait_for(qtbot, lambda: len(asker.asked) == 2)
    wait_for(qtbot, lambda: window.browser.search.text() == "")
    window.browser.sort.setCurrentIndex(window.browser.sort.findData("size"))
    wait_for(qtbot, lambda: len(asker.asked) == 3)
    assert c.sort == "-created_at" and window.browser.sort.currentData() == "-created_at"
    assert window.details.description.toPlainText() == "keep me"
    asker.answer = Button.Discard
    window.sidebar.setCurrentIndex(c.sidebar.index_of("video"))
    wait_for(qtbot, lambda: c.filter.section == "video")
    assert window.details.record is None and not window.details.dirty


def test_closing_with_unsaved_edits_asks_first(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    two_files: tuple[FileRecord, FileRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, _ = two_files
    asker = Asker(Button.Cancel)
    monkeypatch.setattr(window, "ask_unsaved", asker)
    edit_description(window, first.id, "Before closing")
    window.close()
    wait_for(qtbot, lambda: len(asker.asked) == 1)
    assert window.isVisible() and window.details.dirty  # cancelled: nothing lost
    asker.answer = Button.Save
    window.close()
    wait_for(qtbot, lambda: not window.isVisible())
    assert library.get_file(first.id).description == "Before closing"


def test_ctrl_s_saves_with_the_details_panel_hidden(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    two_files: tuple[FileRecord, FileRecord],
) -> None:
    """Ctrl+S was the panel's own shortcut, off while View ▸ Details panel (F8) hides it: the
    edits stayed unsaved without a word. It saves them; with nothing to save it does nothing."""
    from PySide6.QtWidgets import QApplication

    first, _ = two_files
    window.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is window)
    edit_description(window, first.id, "Saved with the panel hidden")
    grid = window.browser.grid
    grid.setFocus()
    wait_for(qtbot, grid.hasFocus)
    qtbot.keyClick(grid, Qt.Key.Key_F8)
    assert not window.details.isVisible() and window.details.dirty
    version = library.get_file(first.id).version
    qtbot.keyClick(grid, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_for(qtbot, lambda: library.get_file(first.id).version > version)
    assert library.get_file(first.id).description == "Saved with the panel hidden"
    wait_for(qtbot, lambda: not window.details.dirty and not window.isWindowModified())
    version = library.get_file(first.id).version
    qtbot.keyClick(grid, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # nothing to save
    assert window.details.changes() == {} and window.last_error == ""
    qtbot.keyClick(grid, Qt.Key.Key_F8)  # shown again: Ctrl+S still saves, once
    assert window.details.isVisible()
    window.details.description.setPlainText("And with it shown")
    window.details.filename.setFocus()
    qtbot.keyClick(window.details.filename, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    wait_for(qtbot, lambda: library.get_file(first.id).description == "And with it shown")
    assert library.get_file(first.id).version == version + 1


def test_an_unchanged_file_switches_without_a_question(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    two_files: tuple[FileRecord, FileRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first, second = two_files
    asker = Asker(Button.Cancel)
    monkeypatch.setattr(window, "ask_unsaved", asker)
    window.browser.select_row(window.controller.grid.row_of(first.id))
    window.details.description.setPlainText("x")
    assert window.details.dirty  # the question would be asked now
    window.details.description.setPlainText("")  # back to the stored value: nothing to save
    assert not window.details.dirty
    window.browser.select_row(window.controller.grid.row_of(second.id))
    assert window.details.record is not None and window.details.record.id == second.id
    assert asker.asked == []


def test_window_layout_is_remembered(
    qtbot,  # type: ignore[no-untyped-def]
    library: Library,
    tmp_path: Path,
) -> None:
    state = tmp_path / "state" / "window.ini"
    first = MainWindow(library, state_file=state)
    qtbot.addWidget(first)
    first.show()
    first.resize(800, 560)  # within the offscreen screen (800×800): restoreGeometry clamps
    first.splitter.setSizes([300, 500, 311])
    # as the window's next resize does: at 800 px the side panes give way to the grid (with
    # the search row able to wrap, the grid could be left 200 px here; 5256588)
    first.splitter.fit_grid()
    first.server_dock.hide()
    wanted = first.splitter.sizes()
    first.close()
    assert state.is_file()
    second = MainWindow(library, state_file=state)
    qtbot.addWidget(second)
    second.show()
    assert second.height() == 560 and abs(second.width() - 800) <= 4  # frame kept on screen
    # Offscreen the window is 2 px narrower than saved (the screen is 800 px wide): close enough.
    assert all(abs(a - b) <= 12 for a, b in zip(second.splitter.sizes(), wanted, strict=True))
    assert abs(second.splitter.sizes()[0] - 220) > 30  # not the default width of the sidebar
    assert not second.server_dock.isVisible() and second.upload_dock.isVisible()
    second.shutdown()


def test_the_layout_file_lives_next_to_the_settings(library: Library) -> None:
    path = window_state_file(library.settings)
    assert path.parent == Path(library.settings.config_file).parent
    assert path.name == "window-state.ini"


def test_empty_athletes_and_trash_say_what_to_do(
    qtbot,  # type: ignore[no-untyped-def]
    library: Library,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install_translations("en")  # the plural forms of the English texts
    window = MainWindow(library)
    qtbot.addWidget(window)
    window.show()
    sidebar = window.controller.sidebar
    wait_for(qtbot, lambda: sidebar.hint_index().isValid())
    hint = sidebar.hint_index()
    assert hint.data() == "Add an athlete…" and sidebar.filter_at(hint) is None
    assert not hint.flags() & Qt.ItemFlag.ItemIsSelectable
    monkeypatch.setattr(main_window, "ask_text", lambda *a, **k: ("Ana Torres", True))
    window.sidebar.clicked.emit(hint)
    wait_for(qtbot, lambda: sidebar.index_of("athlete:1").isValid())
    assert not sidebar.hint_index().isValid()
    # the first athlete's row shows its count: the hint's span across the count's column
    # stayed on the row that took its place, until a restart
    ana = sidebar.index_of("athlete:1")
    assert not window.sidebar.isFirstColumnSpanned(ana.row(), ana.parent())
    count = ana.siblingAtColumn(1)
    wait_for(qtbot, lambda: count.data() == "0")
    wait_for(qtbot, lambda: window.sidebar.visualRect(count).width() > 0)
    browser = window.browser
    assert "Ana Torres" not in browser.empty.text()  # the library's own empty state so far
    window.sidebar.setCurrentIndex(sidebar.index_of("athlete:1"))
    wait_for(
        qtbot,
        lambda: (
            browser.stack.currentWidget() is browser.empty
            and "No photos or videos of Ana Torres yet." in browser.empty.text()
        ),
    )
    window.sidebar.setCurrentIndex(sidebar.index_of("trash"))
    wait_for(
        qtbot,
        lambda: (
            browser.stack.currentWidget() is browser.empty
            and "trash is empty" in browser.empty.text()
        ),
    )
    assert "stay here for 30 days" in browser.empty.text()
    window.shutdown()


def test_empty_states_in_spanish(qtbot, library: Library) -> None:  # type: ignore[no-untyped-def]
    install_translations("es")
    try:
        window = MainWindow(library)
        qtbot.addWidget(window)
        sidebar = window.controller.sidebar
        wait_for(qtbot, lambda: sidebar.hint_index().isValid())
        assert sidebar.hint_index().data() == "Añadir un deportista…"
        window.sidebar.setCurrentIndex(sidebar.index_of("trash"))
        wait_for(qtbot, lambda: "papelera está vacía" in window.browser.empty.text())
        assert "30 días" in window.browser.empty.text()
        window.shutdown()
    finally:
        install_translations("en")


def test_a_library_whose_files_are_all_trashed_points_to_the_trash_and_undo(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """All files trashed, "All files" said "No files here yet … drop" as for a new library:
    the files seemed lost. It says where they are and offers the trash and Undo, and never
    says "No files here yet" first (for the quarter second the counts took to come)."""
    install_translations("en")
    browser, c = window.browser, window.controller
    notice = browser.empty
    shown: set[str] = set()  # every text the notice showed, sampled every few milliseconds
    watch = QTimer(interval=2)
    watch.timeout.connect(
        lambda: shown.add(notice.text()) if browser.stack.currentWidget() is notice else None
    )
    watch.start()
    # the question asked when some selected tiles are off the (800 px offscreen) screen
    monkeypatch.setattr(window, "confirm_unseen_trash", lambda *_: True)
    window.browser.select_row(0)
    window.browser.select_all()
    window.commands.trash.trigger()
    wait_for(
        qtbot,
        lambda: (
            browser.stack.currentWidget() is notice
            and notice.text().startswith("All 2 files of the library are in the trash.")
        ),
    )
    watch.stop()
    assert not [text for text in shown if "No files here yet" in text]
    assert notice.show_trash.isVisibleTo(notice) and notice.undo.isVisibleTo(notice)
    assert not notice.clear_search.isVisibleTo(notice)
    notice.undo.click()  # the window's Ctrl+Z: both back, and no notice
    wait_for(
        qtbot, lambda: c.grid.rowCount() == 2 and browser.stack.currentWidget() is browser.grid
    )
    window.browser.select_row(0)
    window.browser.select_all()
    window.commands.trash.trigger()
    wait_for(qtbot, lambda: notice.show_trash.isVisibleTo(notice))
    notice.show_trash.click()
    wait_for(qtbot, lambda: c.filter.section == "trash" and c.grid.rowCount() == 2)
    assert window.sidebar.currentIndex() == c.sidebar.index_of("trash")
    install_translations("es")
    try:
        window.sidebar.setCurrentIndex(c.sidebar.index_of("all"))
        wait_for(qtbot, lambda: "2 archivos de la biblioteca están en la papelera" in notice.text())
        browser.search.setText("relay")
        browser.search.returnPressed.emit()
        wait_for(qtbot, lambda: notice.clear_search.isVisibleTo(notice))
        assert not notice.show_trash.isVisibleTo(notice)  # a search's own notice
    finally:
        install_translations("en")


def test_photos_all_trashed_while_videos_remain_point_to_the_trash_and_undo(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every photo trashed, a video left: Images said "No photos yet" as for a new library
    (the catalog's counts gave the trash as one number, and the library was not empty). It
    says the photos are in the trash and offers the trash and Undo; Videos shows its video."""
    install_translations("en")
    browser, c = window.browser, window.controller
    notice = browser.empty
    library.uploads.ingest(media_dir.mp4, "video")
    wait_for(qtbot, lambda: c.counts.get("video") == 1)
    monkeypatch.setattr(window, "confirm_unseen_trash", lambda *_: True)
    window.sidebar.setCurrentIndex(c.sidebar.index_of("image"))
    wait_for(qtbot, lambda: c.filter.section == "image" and c.grid.rowCount() == 2)
    browser.select_row(0)
    browser.select_all()
    window.commands.trash.trigger()
    wait_for(
        qtbot,
        lambda: (
            browser.stack.currentWidget() is notice
            and notice.text().startswith("All 2 photos of the library are in the trash.")
        ),
    )
    assert notice.show_trash.isVisibleTo(notice) and notice.undo.isVisibleTo(notice)
    window.sidebar.setCurrentIndex(c.sidebar.index_of("video"))
    wait_for(
        qtbot, lambda: c.grid.rowCount() == 1 and browser.stack.currentWidget() is browser.grid
    )
    install_translations("es")
    try:
        window.sidebar.setCurrentIndex(c.sidebar.index_of("image"))
        wait_for(qtbot, lambda: "2 fotos de la biblioteca están en la papelera" in notice.text())
    finally:
        install_translations("en")
    notice.undo.click()  # the window's Ctrl+Z: both photos back, and no notice
    wait_for(
        qtbot, lambda: c.grid.rowCount() == 2 and browser.stack.currentWidget() is browser.grid
    )


def test_an_athlete_whose_files_are_all_trashed_points_to_the_trash(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ana's only file trashed while the library keeps others: her view said "No photos or
    videos of Ana yet" (the trash was counted for the library, not per athlete). It says her
    file is in the trash, offers the trash and Undo, and /athletes-style records count it."""
    install_translations("en")
    browser, c = window.browser, window.controller
    notice = browser.empty
    ana = library.create_athlete("Ana Torres")
    library.uploads.ingest(media_dir.mp4, "video", athlete_id=ana.id)
    c.refresh_sidebar()
    key = f"athlete:{ana.id}"
    wait_for(qtbot, lambda: c.sidebar.index_of(key).isValid() and c.counts.get("all") == 3)
    monkeypatch.setattr(window, "confirm_unseen_trash", lambda *_: True)
    window.sidebar.setCurrentIndex(c.sidebar.index_of(key))
    wait_for(qtbot, lambda: c.filter.key == key and c.grid.rowCount() == 1)
    browser.select_row(0)
    window.commands.trash.trigger()
    wait_for(
        qtbot,
        lambda: (
            browser.stack.currentWidget() is notice
            and notice.text().startswith("The only file of Ana Torres is in the trash.")
        ),
    )
    assert notice.show_trash.isVisibleTo(notice) and notice.undo.isVisibleTo(notice)
    assert [(a.file_count, a.trash_count) for a in library.athletes()] == [(0, 1)]
    install_translations("es")
    try:
        browser._update_empty()
        assert notice.text().startswith("El único archivo de Ana Torres está en la papelera.")
    finally:
        install_translations("en")
    notice.undo.click()
    wait_for(
        qtbot, lambda: c.grid.rowCount() == 1 and browser.stack.currentWidget() is browser.grid
    )


def test_changes_announced_while_a_page_loads_are_not_lost(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    two_files: tuple[FileRecord, FileRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A page read before a deletion, delivered after its event, must not bring the file back."""
    first, _ = two_files
    grid = window.controller.grid
    read, release = threading.Event(), threading.Event()
    list_files = library.list_files

    def stale_page(*args: object, **kwargs: object) -> object:
        page = list_files(*args, **kwargs)  # type: ignore[arg-type]
        read.set()
        release.wait(10)
        return page

    monkeypatch.setattr(library, "list_files", stale_page)
    grid.reload()
    assert read.wait(10)
    library.delete_permanently(first.id)
    wait_for(qtbot, lambda: len(grid._held_events) == 1)
    release.set()
    wait_for(qtbot, lambda: not grid.loading)
    assert grid.row_of(first.id) < 0 and grid.rowCount() == 1 and grid.total == 1


def test_our_own_trash_and_undo_under_an_edit_are_no_conflict(
    qtbot,  # type: ignore[no-untyped-def]
    library: Library,
    two_files: tuple[FileRecord, FileRecord],
) -> None:
    """On a slow disk a rename is typed while the app's own trash and undo are still being
    written: their new versions change no field of the form, so the edit moves onto them and
    its save is not reported as a change by someone else. A newer version that changes a field
    of the form (a colleague's is_public) still makes the save a conflict."""
    from desktop_app.views.details_panel import DetailsPanel

    first, _ = two_files
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.show_record(first)
    panel.filename.setFocus()
    panel.filename.selectAll()
    qtbot.keyClicks(panel.filename, "long-jump.jpg")  # typed: textEdited
    assert panel.dirty
    saved: list[tuple[int, dict[str, object], int]] = []
    panel.saveRequested.connect(lambda *args: saved.append(args))

    library.trash(first.id)
    panel.show_record(library.get_file(first.id), keep_edits=True)
    restored = library.restore(first.id)
    panel.show_record(restored, keep_edits=True)
    assert panel.dirty and panel.filename.text() == "long-jump.jpg"
    assert panel.request_save()
    assert saved[-1] == (first.id, {"original_filename": "long-jump.jpg"}, restored.version)

    theirs = library.update_file(first.id, {"is_public": True})
    panel.show_record(theirs, keep_edits=True)
    assert panel.request_save()
    assert saved[-1][2] == restored.version  # stale: the save will be a conflict, as it is


def test_a_rename_keeps_the_extension_and_shows_the_name_saved(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    two_files: tuple[FileRecord, FileRecord],
) -> None:
    """Tabbed into, the name field selected all of "photo.jpg", so typing dropped the extension
    (F2 already selected the base name). A name typed without one (select all, "final", Enter)
    is saved with it, and the panel then showed "final" as an unsaved rename: it shows the name
    saved, clean."""
    first, _ = two_files
    window.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is window)
    window.browser.select_row(window.controller.grid.row_of(first.id))
    details = window.details
    name = details.filename
    name.setFocus(Qt.FocusReason.TabFocusReason)
    wait_for(qtbot, name.hasFocus)
    assert name.selectedText() == first.original_filename.rsplit(".", 1)[0]
    name.selectAll()
    qtbot.keyClicks(name, "final")
    with qtbot.waitSignal(window.controller.saved, timeout=TIMEOUT):
        qtbot.keyClick(name, Qt.Key.Key_Return)
    assert library.get_file(first.id).original_filename == "final.jpg"
    assert name.text() == "final.jpg" and not details.dirty
