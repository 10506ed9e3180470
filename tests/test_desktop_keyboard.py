"""Driving the main window by keyboard: what Delete trashes is what is seen selected, editors
keep their keys (Space, Delete, Tab), the grid selects on the first arrow, and the sidebar
always highlights the view shown."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QAction, QKeySequence  # noqa: E402
from PySide6.QtWidgets import QAbstractItemView, QApplication, QMessageBox, QWidget  # noqa: E402

from core.library import Library  # noqa: E402
from core.records import FileQuery  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.models.upload_queue_model import UploadState  # noqa: E402
from desktop_app.views.conflict_dialog import ConflictDialog  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402
from tests.test_desktop_confirm import BoxSpy  # noqa: E402
from tests.test_desktop_models import add_rows  # noqa: E402

Key = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def window(qtbot, library: Library) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    install_translations("en")  # as the app does: the plural forms of the English texts
    win = MainWindow(library, page_size=50)
    qtbot.addWidget(win)
    win.show()
    wait_for(qtbot, lambda: not win.controller.grid.loading)
    win.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is win)
    yield win
    win.shutdown()


def _rows(qtbot, window: MainWindow, count: int, **values: object) -> None:  # type: ignore[no-untyped-def]
    add_rows(window.library, count, **values)
    window.controller.refresh()
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.total == count and grid.rowCount() > 0 and not grid.loading)


def _focus_grid(qtbot, window: MainWindow) -> QWidget:  # type: ignore[no-untyped-def]
    view = window.browser.grid
    view.setFocus(Qt.FocusReason.TabFocusReason)  # as Tab from the search box does
    wait_for(qtbot, view.hasFocus)
    return view


def _key(qtbot, key: Key, modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier) -> None:  # type: ignore[no-untyped-def]
    """A key press where the keyboard focus is, as the user types it."""
    focused = QApplication.focusWidget()
    assert focused is not None
    qtbot.keyClick(focused, key, modifiers)


def _selected_names(window: MainWindow) -> list[str]:
    return [r.original_filename for r in window.browser.selected_records()]


def cancel(box: QMessageBox) -> None:
    box.escapeButton().click()


def accept(box: QMessageBox) -> None:
    for button in box.buttons():
        if box.buttonRole(button) == QMessageBox.ButtonRole.AcceptRole:
            button.click()
            return
    raise AssertionError("no accept button")


def _trashed(library: Library) -> list[str]:
    return sorted(r.original_filename for r in library.list_files(FileQuery(trashed=True)).items)


# ---- 1. Delete trashes what is seen selected ------------------------------------------------
def test_ctrl_end_selects_the_last_file_alone_and_delete_trashes_only_it(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    _rows(qtbot, window, 30)  # newest first: file-00029 … file-00000
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    wait_for(qtbot, lambda: _selected_names(window) == ["file-00029.jpg"])
    _key(qtbot, Key.Key_End, CTRL)
    wait_for(qtbot, lambda: window.details.record is not None)
    wait_for(qtbot, lambda: window.details.record.original_filename == "file-00000.jpg")
    assert _selected_names(window) == ["file-00000.jpg"]  # the first one is not kept
    assert window.details.selection_note.isHidden()
    _key(qtbot, Key.Key_Home, CTRL)
    wait_for(qtbot, lambda: _selected_names(window) == ["file-00029.jpg"])
    _key(qtbot, Key.Key_End, CTRL)
    wait_for(qtbot, lambda: _selected_names(window) == ["file-00000.jpg"])
    _key(qtbot, Key.Key_Left, SHIFT)  # extends from the file End went to
    assert _selected_names(window) == ["file-00001.jpg", "file-00000.jpg"]
    _key(qtbot, Key.Key_Right, SHIFT)
    assert _selected_names(window) == ["file-00000.jpg"]
    _key(qtbot, Key.Key_Delete)
    wait_for(qtbot, lambda: window.controller.grid.rowCount() == 29)
    assert _trashed(library) == ["file-00000.jpg"]


def test_ctrl_arrows_move_the_focus_and_ctrl_space_adds_to_the_selection(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    _rows(qtbot, window, 6)
    view = _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    wait_for(qtbot, lambda: _selected_names(window) == ["file-00005.jpg"])
    _key(qtbot, Key.Key_Right, CTRL)  # the focus moves, the selection stays
    assert view.currentIndex().row() == 1
    assert _selected_names(window) == ["file-00005.jpg"]
    assert window.details.selection_note.isHidden()
    _key(qtbot, Key.Key_Space, CTRL)  # toggles the focused file into the selection
    wait_for(qtbot, lambda: len(_selected_names(window)) == 2)
    note = window.details.selection_note
    wait_for(qtbot, lambda: note.isVisible())
    assert "2 files selected" in note.text()
    assert window.details.record is not None
    assert window.details.record.original_filename in note.text()  # which one the details show
    _key(qtbot, Key.Key_Space, CTRL)  # and out again
    wait_for(qtbot, lambda: note.isHidden())


def test_delete_asks_first_when_selected_files_are_off_screen(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    _rows(qtbot, window, 30)
    view = _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    wait_for(qtbot, lambda: len(_selected_names(window)) == 1)
    _key(qtbot, Key.Key_End, SHIFT)  # all 30: most of them off screen
    wait_for(qtbot, lambda: len(_selected_names(window)) == 30)
    note = window.details.selection_note
    wait_for(qtbot, lambda: note.isVisible() and "30 files selected" in note.text())
    spy = BoxSpy(cancel)
    _key(qtbot, Key.Key_Delete)
    wait_for(qtbot, lambda: bool(spy.seen))
    asked = spy.seen[0]
    assert "30 selected files" in str(asked["text"])
    informative = str(asked["informative"])
    assert "not on screen" in informative and "file-00029.jpg" in informative
    assert asked["default_role"] == QMessageBox.ButtonRole.RejectRole  # Enter keeps them
    qtbot.wait(200)
    assert _trashed(library) == []
    window.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is window)
    view.setFocus()
    spy = BoxSpy(accept)
    _key(qtbot, Key.Key_Delete)
    wait_for(qtbot, lambda: bool(spy.seen))
    wait_for(qtbot, lambda: len(_trashed(library)) == 30)


def test_shift_end_extends_the_selection_over_pages_still_to_load(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    _rows(qtbot, window, 120)
    grid = window.controller.grid
    assert not grid.complete  # pages of 50: End loads the rest first
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    _key(qtbot, Key.Key_Right)
    wait_for(qtbot, lambda: _selected_names(window) == ["file-00118.jpg"])
    _key(qtbot, Key.Key_End, SHIFT)
    wait_for(qtbot, lambda: grid.rowCount() == 120 and len(_selected_names(window)) == 119)
    assert "file-00119.jpg" not in _selected_names(window)  # from the anchor on
    assert window.browser.grid.currentIndex().row() == 119


def test_delete_of_files_all_on_screen_does_not_ask(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    _rows(qtbot, window, 3)
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    _key(qtbot, Key.Key_Right, SHIFT)
    wait_for(qtbot, lambda: len(_selected_names(window)) == 2)
    wait_for(qtbot, window.commands.trash.isEnabled)
    _key(qtbot, Key.Key_Delete)
    wait_for(qtbot, lambda: len(_trashed(library)) == 2)
    assert QApplication.activeModalWidget() is None


def test_after_delete_the_file_in_its_place_is_selected_for_the_next_delete(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    """Delete, Delete: the second trashes the file that took the first one's place (it is
    selected and shown, not just focused), as in a file manager."""
    _rows(qtbot, window, 4)
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    wait_for(qtbot, lambda: len(_selected_names(window)) == 1)
    first = _selected_names(window)[0]
    wait_for(qtbot, window.commands.trash.isEnabled)
    _key(qtbot, Key.Key_Delete)
    wait_for(qtbot, lambda: len(_trashed(library)) == 1)
    # the catalog has it in the trash a moment before the grid drops its row
    wait_for(qtbot, lambda: _selected_names(window) not in ([], [first]))
    assert len(_selected_names(window)) == 1
    second = _selected_names(window)[0]
    wait_for(
        qtbot,
        lambda: (
            window.controller.current is not None
            and window.controller.current.original_filename == second
        ),
    )
    wait_for(qtbot, window.commands.trash.isEnabled)
    _key(qtbot, Key.Key_Delete)
    wait_for(qtbot, lambda: len(_trashed(library)) == 2)


def test_delete_in_the_middle_or_at_the_end_selects_the_file_in_its_place(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    """Delete on a file in the middle selected the file before it (Qt moves the focus up), so
    Delete, Delete walked backwards; the file that took its place is the next one to go. On
    the last file, the new last file is selected."""
    _rows(qtbot, window, 5)
    _focus_grid(qtbot, window)
    grid = window.controller.grid
    names = [grid.record_at(row).original_filename for row in range(5)]
    _key(qtbot, Key.Key_Home)
    _key(qtbot, Key.Key_Right)
    _key(qtbot, Key.Key_Right)
    wait_for(qtbot, lambda: _selected_names(window) == [names[2]])
    wait_for(qtbot, window.commands.trash.isEnabled)
    _key(qtbot, Key.Key_Delete)
    wait_for(qtbot, lambda: len(_trashed(library)) == 1 and grid.rowCount() == 4)
    wait_for(qtbot, lambda: _selected_names(window) == [names[3]])
    assert window.browser.grid.currentIndex().row() == 2
    wait_for(
        qtbot,
        lambda: (
            window.controller.current is not None
            and window.controller.current.original_filename == names[3]
        ),
    )
    _key(qtbot, Key.Key_End)
    wait_for(qtbot, lambda: _selected_names(window) == [names[4]])
    wait_for(qtbot, window.commands.trash.isEnabled)
    _key(qtbot, Key.Key_Delete)
    wait_for(qtbot, lambda: len(_trashed(library)) == 2 and grid.rowCount() == 3)
    wait_for(qtbot, lambda: _selected_names(window) == [names[3]])


def test_rename_is_offered_only_when_there_is_something_to_rename(
    qtbot,
    window: MainWindow,
    library: Library,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    """Edit ▸ Rename (F2) was enabled with no file shown and outside an athlete's view, where it
    did nothing; in an athlete's view with no file shown it did nothing either unless the
    sidebar had the focus."""
    from desktop_app.views import main_window

    rename = window.commands.rename
    _rows(qtbot, window, 3)
    assert window.controller.current is None and not rename.isEnabled()
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    wait_for(qtbot, lambda: window.controller.current is not None)
    wait_for(qtbot, rename.isEnabled)  # the commands follow the current file in a later slot
    _key(qtbot, Key.Key_F2)
    wait_for(qtbot, window.details.filename.hasFocus)  # the file's name, ready to type

    athlete = library.create_athlete("Ana Torres")
    sidebar = window.controller.sidebar
    wait_for(qtbot, lambda: sidebar.index_of(f"athlete:{athlete.id}").isValid())
    window.sidebar.setCurrentIndex(sidebar.index_of(f"athlete:{athlete.id}"))
    wait_for(qtbot, lambda: window.controller.current is None)  # no files of hers
    wait_for(qtbot, rename.isEnabled)
    asked: list[str] = []

    def ask(_parent: object, title: str, *_args: object) -> tuple[str, bool]:
        asked.append(title)
        return "", False

    monkeypatch.setattr(main_window, "ask_text", ask)
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_F2)
    assert asked == ["Rename athlete"]


def test_f2_brings_the_name_field_into_view_when_the_panel_is_scrolled_down(
    qtbot,
    window: MainWindow,  # type: ignore[no-untyped-def]
) -> None:
    """On a small screen the details panel scrolls; scrolled down to the technical details,
    F2 gave the focus to the name field out of sight, and what the user typed went there
    unseen. The field scrolls into view."""
    from PySide6.QtCore import QPoint, QRect

    window.resize(1024, 600)
    _rows(qtbot, window, 3)
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    wait_for(qtbot, lambda: window.controller.current is not None)
    scroll = window.details.details_scroll
    bar = scroll.verticalScrollBar()
    wait_for(qtbot, lambda: bar.maximum() > 0)  # the panel is taller than the window
    bar.setValue(bar.maximum())
    field = window.details.filename
    viewport = scroll.viewport()

    def in_view() -> bool:
        shown = QRect(field.mapTo(viewport, QPoint(0, 0)), field.size())
        return viewport.rect().contains(shown)

    assert not in_view()
    _key(qtbot, Key.Key_F2)
    wait_for(qtbot, field.hasFocus)
    assert in_view()


def test_tab_goes_through_what_is_shown_in_reading_order(
    qtbot,
    window: MainWindow,  # type: ignore[no-untyped-def]
) -> None:
    """Tab from the upload queue went on into the Server panel behind the Uploads tab (Qt keeps
    such docks "visible", off screen): the focus vanished and typing edited the server's
    address unseen. The queue's filter, above the table, came after its buttons, and the
    details panel's scroll area was a stop that showed nothing."""
    _rows(qtbot, window, 3)
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    wait_for(qtbot, lambda: window.details.record is not None)
    dock = window.upload_dock
    behind = (window.server_dock, window.storage_view, window.jobs_dock)
    assert all(d.visibleRegion().isEmpty() for d in behind)  # the Uploads tab is in front
    stops: list[QWidget] = []
    for _ in range(60):
        _key(qtbot, Key.Key_Tab)
        focused = QApplication.focusWidget()
        assert focused is not None
        if focused is window.browser.grid:
            break
        stops.append(focused)
    else:
        raise AssertionError("Tab never came back to the grid")
    hidden = [w for w in stops if any(d.isAncestorOf(w) for d in behind)]
    assert hidden == []
    assert stops[0] is window.details.filename  # the grid's file: its name first
    order = [stops.index(w) for w in (dock.filter_box, dock.table, dock.import_button)]
    assert order == sorted(order)
    _key(qtbot, Key.Key_Backtab)  # and back the same way
    assert QApplication.focusWidget() is stops[-1]


@pytest.mark.parametrize("key", [Key.Key_Space, Key.Key_Return, Key.Key_Enter])
def test_space_or_enter_in_the_grid_opens_the_preview(
    qtbot,
    window: MainWindow,
    key: Key,  # type: ignore[no-untyped-def]
) -> None:
    """Enter on a file in the grid did nothing (only Space and a double-click opened it); a
    file manager opens the file on Enter. Enter in the name field still saves, not opens."""
    previews: list[object] = []
    window.controller.previewReady.connect(lambda *args: previews.append(args))
    _rows(qtbot, window, 2)
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    wait_for(qtbot, lambda: window.details.record is not None)
    _key(qtbot, key)
    wait_for(qtbot, lambda: len(previews) == 1)
    assert window.commands.preview.shortcut() == QKeySequence("Space")  # what the menu shows
    wait_for(qtbot, lambda: getattr(window, "preview_dialog", None) is not None)
    window.preview_dialog.close()
    window.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is window)
    name = window.details.filename
    name.setFocus()
    wait_for(qtbot, name.hasFocus)
    _key(qtbot, key)
    qtbot.wait(300)
    assert len(previews) == 1


def test_esc_cancels_a_rename_and_goes_back_to_the_grid(
    qtbot,
    window: MainWindow,  # type: ignore[no-untyped-def]
) -> None:
    """F2, a new name typed, then Esc: Esc did nothing (the typed name stayed, unsaved). It
    puts the name back and the focus on the grid; the panel's other edits are kept."""
    _rows(qtbot, window, 2)
    grid = _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    wait_for(qtbot, lambda: window.details.record is not None)
    details = window.details
    stored = details.filename.text()
    details.description.setPlainText("Kept")
    _key(qtbot, Key.Key_F2)
    wait_for(qtbot, details.filename.hasFocus)
    qtbot.keyClicks(details.filename, "renamed")
    assert details.filename.text() != stored
    _key(qtbot, Key.Key_Escape)
    assert details.filename.text() == stored
    assert details.changes() == {"description": "Kept"}
    wait_for(qtbot, grid.hasFocus)
    details.revert()  # no unsaved edits left for the window's closing


def test_ctrl_a_selects_every_file_of_the_view_not_only_the_loaded_pages(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    """Ctrl+A selected the pages loaded so far ("50 files selected" of 120), and Shift+Delete
    offered to delete those: it selects all 120, loading the rest first."""
    _rows(qtbot, window, 120)
    grid = window.controller.grid
    assert grid.rowCount() < 120  # pages still to load (the window's page size is 50)
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_A, CTRL)
    wait_for(qtbot, lambda: len(_selected_names(window)) == 120)
    assert grid.rowCount() == 120


def test_edit_menu_lists_select_all_with_its_shortcut(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    """Ctrl+A worked but the Edit menu did not list it: Select all is there, with Ctrl+A,
    enabled while the view has files, and selects all of them (the rest loaded first)."""
    edit = next(m.menu() for m in window.menuBar().actions() if m.menu() and m.text() == "&Edit")
    select_all = window.commands.select_all
    assert select_all in edit.actions()  # type: ignore[union-attr]
    assert select_all.shortcut() == QKeySequence(QKeySequence.StandardKey.SelectAll)
    assert not select_all.isEnabled()  # an empty library: nothing to select
    _rows(qtbot, window, 120)
    wait_for(qtbot, select_all.isEnabled)
    select_all.trigger()  # as the menu does
    wait_for(qtbot, lambda: len(_selected_names(window)) == 120)
    window.browser.grid.clearSelection()
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_A, CTRL)  # the shortcut, from the grid
    wait_for(qtbot, lambda: len(_selected_names(window)) == 120)
    search = window.browser.search
    search.setText("relay")
    search.setFocus()
    wait_for(qtbot, search.hasFocus)
    _key(qtbot, Key.Key_A, CTRL)  # in a text field Ctrl+A stays the field's
    assert search.selectedText() == "relay"


# ---- 2. and 3. the details editor keeps its keys ------------------------------------------------
def test_space_and_delete_in_the_details_editor_stay_there(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    _rows(qtbot, window, 2)
    previews: list[object] = []
    window.controller.previewReady.connect(lambda *args: previews.append(args))
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    wait_for(qtbot, lambda: window.details.record is not None)
    _key(qtbot, Key.Key_F2)
    assert window.details.filename.hasFocus()
    _key(qtbot, Key.Key_Tab)
    _key(qtbot, Key.Key_Tab)
    public = window.details.public
    assert public.hasFocus()
    assert not public.isChecked()
    _key(qtbot, Key.Key_Space)
    assert public.isChecked() and window.details.dirty
    _key(qtbot, Key.Key_Delete)
    qtbot.wait(300)
    assert previews == [] and _trashed(library) == []
    # typed in the name: a space and Delete edit the text
    name = window.details.filename
    name.setFocus()
    name.setText("heat.jpg")
    name.setCursorPosition(0)
    _key(qtbot, Key.Key_Delete)
    _key(qtbot, Key.Key_Space)
    assert name.text() == " eat.jpg"
    qtbot.wait(300)
    assert previews == [] and _trashed(library) == []
    window.details.revert()  # no unsaved edits left for the window's closing


def test_tab_leaves_the_description(qtbot, window: MainWindow, library: Library) -> None:  # type: ignore[no-untyped-def]
    _rows(qtbot, window, 1)
    window.browser.select_row(0)
    wait_for(qtbot, lambda: window.details.record is not None)
    text = window.details.description
    text.setFocus(Qt.FocusReason.TabFocusReason)
    wait_for(qtbot, text.hasFocus)
    qtbot.keyClicks(text, "Heat 2")
    _key(qtbot, Key.Key_Tab)
    assert not text.hasFocus()
    assert "\t" not in text.toPlainText()
    _key(qtbot, Key.Key_Backtab, SHIFT)
    assert text.hasFocus()
    window.details.revert()  # no unsaved edits left for the window's closing


def test_tab_leaves_every_table_and_list(qtbot, window: MainWindow, library: Library) -> None:  # type: ignore[no-untyped-def]
    """Tables default to Tab moving cell by cell: in the upload queue Tab went Size, Speed,
    ETA, State, next row..., five Tabs a row before the buttons below. Every item view of the
    window and of its dialogs that have one lets Tab go on."""
    _rows(qtbot, window, 1)
    record = window.library.list_files(FileQuery()).items[0]
    conflict = ConflictDialog(record, {"original_filename": "x.jpg"}, lambda _id: "", parent=window)
    views = window.findChildren(QAbstractItemView) + conflict.findChildren(QAbstractItemView)
    assert window.upload_dock.table in views and window.server_panel.table in views
    trapping = [type(v).__name__ for v in views if v.tabKeyNavigation()]
    assert trapping == []
    conflict.deleteLater()


def test_tab_from_a_row_of_the_upload_queue_goes_on_to_its_buttons(
    qtbot,
    window: MainWindow,
    media_dir: MediaSet,
    tmp_path: Path,  # type: ignore[no-untyped-def]
) -> None:
    photos = [
        shutil.copy(media_dir.jpeg, tmp_path / "a.jpg"),
        shutil.copy(media_dir.png, tmp_path / "b.png"),
    ]
    window.add_uploads([Path(p) for p in photos])
    model = window.uploads.model
    wait_for(qtbot, lambda: len(model.items()) == 2)
    wait_for(qtbot, lambda: all(i.state == UploadState.DONE for i in model.items()))
    table = window.upload_dock.table
    table.setFocus(Qt.FocusReason.MouseFocusReason)
    wait_for(qtbot, table.hasFocus)
    table.setCurrentIndex(table.model().index(0, 0))  # as a click on the first row
    _key(qtbot, Key.Key_Tab)
    assert not table.hasFocus()
    assert QApplication.focusWidget() in window.upload_dock.buttons
    _key(qtbot, Key.Key_Backtab, SHIFT)
    assert table.hasFocus()


def _view_item(window: MainWindow, text: str) -> QAction:
    return next(a for a in window.view_menu.actions() if a.text() == text)  # type: ignore[attr-defined]


def _in_front(dock: QWidget) -> bool:
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def test_view_menu_brings_a_panel_behind_another_tab_to_the_front(
    qtbot,
    window: MainWindow,  # type: ignore[no-untyped-def]
) -> None:
    """View > Server with the Server dock tabbed behind Uploads hid it (the first time) and
    showed it again still behind (the second): the menu never showed the Server panel."""
    server, uploads = window.server_dock, window.upload_dock
    item = _view_item(window, "&Server")
    wait_for(qtbot, lambda: _in_front(uploads) and not _in_front(server))
    assert item.isChecked()  # open, behind the Uploads tab
    item.trigger()
    wait_for(qtbot, lambda: _in_front(server) and not _in_front(uploads))
    assert item.isChecked()
    focused = QApplication.focusWidget()
    assert focused is not None and server.isAncestorOf(focused)  # the keyboard goes with it
    item.trigger()  # in front: the menu closes it
    wait_for(qtbot, server.isHidden)
    assert not item.isChecked()
    item.trigger()  # closed: it opens in front
    wait_for(qtbot, lambda: _in_front(server))
    assert item.isChecked()
    server.close()  # its own close button: the menu follows
    assert not item.isChecked()
    _view_item(window, "&Uploads").trigger()  # in front of the rest again: stays, is raised
    wait_for(qtbot, lambda: _in_front(uploads))


def test_spanish_search_box_and_upload_buttons_read_as_the_rest(qtbot, library: Library) -> None:  # type: ignore[no-untyped-def]
    """The search box said "(Ctrl+F)" while the menus, in Qt's Spanish, say
    "Control+Mayúsculas+I"; the queue's buttons mixed "Pausar todo" with "Cancelar todas" for
    the same rows (las subidas)."""
    install_translations("es")
    try:
        win = MainWindow(library, page_size=50)
        qtbot.addWidget(win)
        keys = win.commands.find.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
        assert keys == win.commands.import_folder.shortcut().toString(
            QKeySequence.SequenceFormat.NativeText
        ).replace("Mayúsculas+I", "F")  # as the menus write them
        placeholder = win.browser.search.placeholderText()
        assert placeholder == f"Buscar en nombres de archivo y descripciones ({keys})"
        dock = win.upload_dock
        texts = [dock.tr("Pause all"), dock.cancel_button.text(), dock.retry_button.text()]
        texts += [dock.clear_button.text(), dock.tr("Resume all")]  # the pause button's two
        assert texts == [
            "Pausar todas",
            "Cancelar todas",
            "Reintentar fallidas",
            "Quitar terminadas",
            "Reanudar todas",
        ]
        win.shutdown()
    finally:
        install_translations("en")


# ---- 4. the first arrow selects -------------------------------------------------------------
@pytest.mark.parametrize("key", [Key.Key_Down, Key.Key_Home, Key.Key_Right])
def test_one_file_in_the_trash_is_selected_by_the_first_arrow_or_home(
    qtbot,
    window: MainWindow,
    library: Library,
    key: Key,  # type: ignore[no-untyped-def]
) -> None:
    add_rows(library, 1, deleted_at=datetime.now(UTC))
    c = window.controller
    window.sidebar.setCurrentIndex(c.sidebar.index_of("trash"))
    wait_for(qtbot, lambda: c.filter.section == "trash")
    wait_for(qtbot, lambda: c.grid.rowCount() == 1 and not c.grid.loading)
    _focus_grid(qtbot, window)
    _key(qtbot, key)
    wait_for(qtbot, lambda: _selected_names(window) == ["file-00000.jpg"])
    wait_for(qtbot, lambda: window.details.record is not None)
    assert window.commands.restore.isEnabled()


def test_show_the_trash_puts_the_keyboard_in_its_grid(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    """Alt+T (Show the trash, the empty library's button) hid the focused button and left the
    keyboard on the sort box: Home, Shift+arrows and Ctrl+R did nothing for a keyboard user."""
    add_rows(library, 2, deleted_at=datetime.now(UTC))
    c, notice = window.controller, window.browser.empty
    c.refresh()
    wait_for(qtbot, lambda: notice.show_trash.isVisibleTo(notice) and notice.isVisible())
    notice.show_trash.setFocus(Qt.FocusReason.TabFocusReason)
    wait_for(qtbot, notice.show_trash.hasFocus)
    _key(qtbot, Key.Key_T, Qt.KeyboardModifier.AltModifier)
    wait_for(qtbot, lambda: c.filter.section == "trash")
    wait_for(qtbot, lambda: c.grid.rowCount() == 2 and not c.grid.loading)
    assert window.browser.grid.hasFocus()
    _key(qtbot, Key.Key_Home)
    _key(qtbot, Key.Key_Right, SHIFT)
    wait_for(qtbot, lambda: len(_selected_names(window)) == 2)
    wait_for(qtbot, window.commands.restore.isEnabled)  # once the details have the file
    _key(qtbot, Key.Key_R, CTRL)  # restore: both files back in the library
    wait_for(qtbot, lambda: _trashed(library) == [])


def test_leaving_the_trash_from_its_empty_trash_button_puts_the_keyboard_in_the_grid(
    qtbot,
    window: MainWindow,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    """The trash's Empty trash… button hides with the trash: the keyboard on it goes to the
    grid of the view shown, not to whatever control follows the hidden button."""
    add_rows(library, 1, deleted_at=datetime.now(UTC))
    add_rows(library, 1)
    c, browser = window.controller, window.browser
    window.sidebar.setCurrentIndex(c.sidebar.index_of("trash"))
    wait_for(qtbot, lambda: c.filter.section == "trash" and c.grid.rowCount() == 1)
    button = browser.empty_trash
    assert button is not None
    wait_for(qtbot, lambda: button.isVisible() and button.isEnabled())
    button.setFocus(Qt.FocusReason.TabFocusReason)
    wait_for(qtbot, button.hasFocus)
    window.sidebar.setCurrentIndex(c.sidebar.index_of("all"))
    wait_for(qtbot, lambda: c.filter.section != "trash" and c.grid.rowCount() == 1)
    assert button.isHidden()
    assert browser.grid.hasFocus()


def test_current_file_shows_a_focus_ring(qtbot, window: MainWindow, library: Library) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QColor, QImage, QPainter, QPalette
    from PySide6.QtWidgets import QStyle, QStyleOptionViewItem

    _rows(qtbot, window, 1)
    view = window.browser.grid
    delegate = view.itemDelegate()
    index = window.controller.grid.index(0)

    def paint(state: QStyle.StateFlag) -> QImage:
        option = QStyleOptionViewItem()
        option.initFrom(view)
        option.rect = view.visualRect(index).translated(-view.visualRect(index).topLeft())
        option.state = state
        image = QImage(option.rect.size(), QImage.Format.Format_ARGB32)
        image.fill(QColor(255, 255, 255))
        painter = QPainter(image)
        delegate.paint(painter, option, index)
        painter.end()
        return image

    enabled = QStyle.StateFlag.State_Enabled
    plain = paint(enabled)
    focused = paint(enabled | QStyle.StateFlag.State_HasFocus)
    assert plain != focused
    highlight = view.palette().color(QPalette.ColorRole.Highlight)
    edge = focused.pixelColor(focused.width() // 2, 3)
    assert abs(edge.red() - highlight.red()) + abs(edge.blue() - highlight.blue()) < 60


# ---- 5. the sidebar always highlights the view shown ----------------------------------------
def _sidebar_key(window: MainWindow) -> str:
    rows = window.sidebar.selectionModel().selectedRows()
    return str(rows[0].data(window.controller.sidebar.KeyRole)) if rows else ""


def test_sidebar_keys_never_land_on_a_heading(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    c = window.controller
    sidebar = window.sidebar
    wait_for(qtbot, lambda: c.sidebar.hint_index().isValid())  # "Add an athlete…", last
    sidebar.setCurrentIndex(c.sidebar.index_of("trash"))
    wait_for(qtbot, lambda: c.filter.section == "trash")
    sidebar.setFocus(Qt.FocusReason.BacktabFocusReason)
    wait_for(qtbot, sidebar.hasFocus)
    _key(qtbot, Key.Key_Home)  # the first row is the "Library" heading: the first entry instead
    wait_for(qtbot, lambda: c.filter.section == "all")
    assert sidebar.currentIndex().siblingAtColumn(0) == c.sidebar.index_of("all")
    assert _sidebar_key(window) == "all"
    _key(qtbot, Key.Key_Up)  # nothing above but the heading: stays
    assert sidebar.currentIndex().siblingAtColumn(0) == c.sidebar.index_of("all")
    assert _sidebar_key(window) == "all"
    _key(qtbot, Key.Key_Space, CTRL)  # no toggling the shown view off
    _key(qtbot, Key.Key_Space)
    assert _sidebar_key(window) == "all"
    sidebar.setCurrentIndex(c.sidebar.index_of("trash"))
    wait_for(qtbot, lambda: c.filter.section == "trash")
    _key(qtbot, Key.Key_Down)  # over the "Athletes" heading, onto "Add an athlete…"
    current = sidebar.currentIndex()
    assert current.parent().isValid()  # not a heading
    assert c.sidebar.is_hint(current)
    assert _sidebar_key(window) == "trash" and c.filter.section == "trash"
    _key(qtbot, Key.Key_Up)
    wait_for(qtbot, lambda: _sidebar_key(window) == "trash")
    assert sidebar.currentIndex().siblingAtColumn(0) == c.sidebar.index_of("trash")
    # the last entry with End (the hint row: current, never selected)
    _key(qtbot, Key.Key_End)
    assert c.sidebar.is_hint(sidebar.currentIndex())
    assert _sidebar_key(window) == "trash"


def test_clicking_a_heading_keeps_the_highlight(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    c = window.controller
    sidebar = window.sidebar
    sidebar.setCurrentIndex(c.sidebar.index_of("video"))
    wait_for(qtbot, lambda: c.filter.section == "video")
    heading = c.sidebar.index_of("all").parent()
    assert heading.isValid()
    qtbot.mouseClick(
        sidebar.viewport(), Qt.MouseButton.LeftButton, pos=sidebar.visualRect(heading).center()
    )
    qtbot.wait(100)
    assert _sidebar_key(window) == "video" and c.filter.section == "video"
    assert sidebar.currentIndex().siblingAtColumn(0) == c.sidebar.index_of("video")
    # Ctrl+click on the shown view leaves it highlighted too
    rect = sidebar.visualRect(c.sidebar.index_of("video"))
    qtbot.mouseClick(sidebar.viewport(), Qt.MouseButton.LeftButton, CTRL, rect.center())
    qtbot.wait(100)
    assert _sidebar_key(window) == "video"
    sidebar.selectionModel().clearSelection()  # whatever else empties it: the view's row again
    wait_for(qtbot, lambda: _sidebar_key(window) == "video")


def test_esc_in_the_search_keeps_a_file_that_sorts_past_the_first_page(
    qtbot,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    """A file picked in the search results and Esc: the whole view came back with its first
    page only, and a file further down (row 180 of 300, pages of 100) was selected nowhere, the
    details saying "Select a file". The grid loads its pages up to the file, selects it and
    shows it."""
    install_translations("en")
    add_rows(library, 30)  # newest first: file-00003 is row 26, pages of 10
    win = MainWindow(library, page_size=10)
    qtbot.addWidget(win)
    win.show()
    try:
        grid, browser = win.controller.grid, win.browser
        wait_for(qtbot, lambda: grid.rowCount() == 10 and not grid.loading)
        search = browser.search
        search.setFocus()
        qtbot.keyClicks(search, "file-00003")
        qtbot.keyClick(search, Key.Key_Return)
        wait_for(qtbot, lambda: grid.rowCount() == 1 and not grid.loading)
        browser.select_row(0)
        wait_for(qtbot, lambda: win.details.record is not None)
        search.setFocus()
        qtbot.keyClick(search, Key.Key_Escape)
        wait_for(qtbot, lambda: _selected_names(win) == ["file-00003.jpg"])
        wait_for(qtbot, lambda: win.details.record is not None)
        assert win.details.record.original_filename == "file-00003.jpg"
        assert search.text() == ""
        row = grid.row_of(win.details.record.id)
        assert row > 10  # past the first page
        area = browser.grid.viewport().rect()
        wait_for(qtbot, lambda: area.intersects(browser.grid.visualRect(grid.index(row))))
    finally:
        win.shutdown()
