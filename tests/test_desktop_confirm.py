"""Nothing irreversible happens without a question whose default answer is the safe one;
Ctrl+Z puts the last move to the trash back."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt, QTimer  # noqa: E402
from PySide6.QtGui import QKeySequence  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from core.errors import NotFound  # noqa: E402
from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from core.settings import Settings  # noqa: E402
from desktop_app.views.confirm import names_text  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, wait_for


@pytest.fixture
def files(library: Library, media_dir: MediaSet) -> list[FileRecord]:
    return [
        library.uploads.ingest(media_dir.jpeg, "image"),
        library.uploads.ingest(media_dir.png, "image"),
    ]


@pytest.fixture
def window(qtbot, library: Library, files) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(library, page_size=50)
    qtbot.addWidget(win)
    win.show()
    wait_for(qtbot, lambda: win.controller.grid.rowCount() == 2)
    yield win
    win.shutdown()


class BoxSpy:
    """Answers the next modal question box with `answer(box)` and keeps what it showed."""

    def __init__(self, answer: Callable[[QMessageBox], None]) -> None:
        self.answer = answer
        self.seen: list[dict[str, object]] = []
        QTimer.singleShot(50, self._poll)

    def _poll(self) -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, self._poll)
            return
        default = box.defaultButton()
        self.seen.append(
            {
                "text": box.text(),
                "informative": box.informativeText(),
                "default_role": box.buttonRole(default) if default is not None else None,
                "escape_is_default": box.escapeButton() is default,
            }
        )
        self.answer(box)


def press_enter(box: QMessageBox) -> None:
    """A reflexive Enter: whatever the default button does."""
    box.defaultButton().click()


def press_destructive(box: QMessageBox) -> None:
    for button in box.buttons():
        if box.buttonRole(button) == QMessageBox.ButtonRole.DestructiveRole:
            button.click()
            return
    raise AssertionError("no destructive button")


def _exists(library: Library, file_id: int) -> bool:
    try:
        library.get_file(file_id)
    except NotFound:
        return False
    return True


def test_shift_delete_asks_and_enter_keeps_the_file(
    qtbot, window: MainWindow, library: Library, files: list[FileRecord]
) -> None:  # type: ignore[no-untyped-def]
    target = files[0]
    window.browser.select_row(window.controller.grid.row_of(target.id))
    assert window.commands.delete.shortcut() == QKeySequence("Shift+Delete")
    spy = BoxSpy(press_enter)
    window.commands.delete.trigger()  # triggered(checked=False) once made this skip the question
    wait_for(qtbot, lambda: bool(spy.seen))
    shown = spy.seen[0]
    assert target.original_filename in str(shown["informative"])
    assert "cannot be undone" in str(shown["informative"])
    assert shown["default_role"] == QMessageBox.ButtonRole.RejectRole and shown["escape_is_default"]
    qtbot.wait(300)
    assert _exists(library, target.id)  # Enter took the safe answer

    spy = BoxSpy(press_destructive)
    window.commands.delete.trigger()
    wait_for(qtbot, lambda: not _exists(library, target.id))
    assert _exists(library, files[1].id)


def test_menu_and_details_delete_ask_too(
    qtbot, window: MainWindow, library: Library, files: list[FileRecord]
) -> None:  # type: ignore[no-untyped-def]
    window.browser.select_row(window.controller.grid.row_of(files[1].id))
    for trigger in (
        lambda: window.delete_permanently(False),  # what triggered(checked) passes along
        lambda: window.delete_permanently(True),
        window.details.deleteRequested.emit,
    ):
        spy = BoxSpy(lambda box: box.reject())
        trigger()
        wait_for(qtbot, lambda spy=spy: bool(spy.seen))
    qtbot.wait(300)
    assert _exists(library, files[1].id)


def test_the_question_names_the_first_files_and_counts_the_rest() -> None:
    names = [f"clip-{n}.mp4" for n in range(8)]
    text = names_text(names)
    assert "clip-0.mp4" in text and "clip-4.mp4" in text and "clip-5.mp4" not in text
    assert text.splitlines()[-1] == "…and 3 more"
    assert names_text(names[:2]).splitlines() == ["• clip-0.mp4", "• clip-1.mp4"]


def test_file_names_in_questions_and_warnings_are_text_not_markup(qapp) -> None:  # type: ignore[no-untyped-def]
    """Anyone with an upload token names files; a name such as `<font color=#ffffff size=1>`
    was rendered as markup in the Delete permanently question, hiding "This cannot be
    undone.", and in error boxes."""
    from PySide6.QtWidgets import QLabel

    from desktop_app.errors import ErrorMessage
    from desktop_app.views.confirm import irreversible_box
    from desktop_app.views.message_box import open_warning

    name = "<font color=#ffffff size=1>a.jpg"
    box, _ = irreversible_box(None, "Delete", "Delete 1 file?", [name], "Delete")
    warning = open_warning(None, "Upload failed", ErrorMessage(f"Could not read {name}"))
    try:
        for shown in (box, warning):
            labels = [lb for lb in shown.findChildren(QLabel) if name in lb.text()]
            assert labels, [lb.text() for lb in shown.findChildren(QLabel)]
            assert all(lb.textFormat() == Qt.TextFormat.PlainText for lb in labels)
    finally:
        warning.close()
        box.deleteLater()


def test_a_file_name_in_the_grid_tooltip_is_text(
    qtbot, window: MainWindow, library: Library, files: list[FileRecord]
) -> None:  # type: ignore[no-untyped-def]
    name = "<font color=#ffffff size=1>a.jpg"
    library.update_file(files[0].id, {"original_filename": name})
    grid = window.controller.grid
    wait_for(qtbot, lambda: any(grid.index(r).data() == name for r in range(grid.rowCount())))
    (row,) = [r for r in range(grid.rowCount()) if grid.index(r).data() == name]
    tip = str(grid.index(row).data(Qt.ItemDataRole.ToolTipRole))
    assert "&lt;font color=#ffffff size=1&gt;a.jpg" in tip and "<font" not in tip, tip


def test_ctrl_z_undoes_the_last_move_to_trash(
    qtbot, window: MainWindow, library: Library, files: list[FileRecord]
) -> None:  # type: ignore[no-untyped-def]
    undo = window.commands.undo_trash
    assert undo.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert not undo.isEnabled()
    window.browser.select_row(window.controller.grid.row_of(files[0].id))
    window.browser.grid.selectAll()
    assert window.commands.trash.isEnabled()
    window.commands.trash.trigger()
    wait_for(qtbot, lambda: all(library.get_file(f.id).is_trashed for f in files))
    assert undo.isEnabled()
    window.activateWindow()
    wait_for(qtbot, window.isActiveWindow)
    window.browser.grid.setFocus()
    qtbot.keyClick(window.browser.grid, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_for(qtbot, lambda: not any(library.get_file(f.id).is_trashed for f in files))
    assert not undo.isEnabled()  # one step: the next Ctrl+Z does nothing


def test_ctrl_z_leaves_in_the_trash_a_selected_file_someone_else_trashed_first(
    qtbot, window: MainWindow, library: Library, settings: Settings, files: list[FileRecord]
) -> None:  # type: ignore[no-untyped-def]
    """Found by an outside tester on a library of thousands: Ctrl+A, Delete, and while the
    question was open another client trashed one of the selected files. The move found it in
    the trash already, yet Ctrl+Z restored it with the others, undoing the other user's trash."""
    window.browser.select_row(window.controller.grid.row_of(files[0].id))
    window.browser.grid.selectAll()
    other = Library.open(settings)  # another desktop on the same catalog
    try:
        other.trash(files[1].id)  # its change has not reached this window's grid yet
    finally:
        other.close()
    assert len(window.browser.selected_records()) == 2
    window.commands.trash.trigger()
    wait_for(qtbot, lambda: library.get_file(files[0].id).is_trashed)
    wait_for(qtbot, lambda: "Moved" in window.status.currentMessage())
    assert window.commands.undo_trash.isEnabled()
    window.commands.undo_trash.trigger()
    wait_for(qtbot, lambda: not library.get_file(files[0].id).is_trashed)
    wait_for(qtbot, lambda: "Restored" in window.status.currentMessage())
    assert library.get_file(files[1].id).is_trashed


def test_ctrl_z_where_the_emptied_view_put_the_focus_undoes_the_trash_not_the_search(
    qtbot, window: MainWindow, library: Library, files: list[FileRecord]
) -> None:  # type: ignore[no-untyped-def]
    """Found by an outside user run: Ctrl+F, a search, Ctrl+A, Delete, Ctrl+Z. The view empties,
    the app gives the search box the focus, and the box took Ctrl+Z: it undid the typing (the
    view changed), the files stayed in the trash, while Edit offered Undo move to trash."""
    search = window.browser.search
    window.activateWindow()
    wait_for(qtbot, window.isActiveWindow)
    search.setFocus()
    qtbot.keyClicks(search, "photo")
    wait_for(qtbot, lambda: window.controller.grid.rowCount() == 1)
    assert search.isUndoAvailable()
    grid = window.browser.grid
    grid.setFocus()
    qtbot.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    wait_for(qtbot, window.commands.trash.isEnabled)
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    wait_for(qtbot, lambda: library.get_file(files[0].id).is_trashed)
    wait_for(qtbot, search.hasFocus)  # the emptied view's one field
    qtbot.keyClick(search, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    wait_for(qtbot, lambda: not library.get_file(files[0].id).is_trashed)
    assert search.text() == "photo"
    # typed in again, the box's Ctrl+Z is its own (Qt undoes a run of typing at once)
    qtbot.keyClicks(search, "s")
    qtbot.keyClick(search, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert search.text() != "photos"


def test_revoking_a_token_asks_with_cancel_as_default(
    qtbot, window: MainWindow, library: Library
) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.server.tokenCreated, timeout=TIMEOUT):
        window.server.create_token("laptop", "read")
    panel = window.server_panel
    wait_for(qtbot, lambda: panel.table.rowCount() == 1)
    panel.table.setCurrentCell(0, 0)
    spy = BoxSpy(press_enter)
    panel.revoke_button.click()
    wait_for(qtbot, lambda: bool(spy.seen))
    assert "laptop" in str(spy.seen[0]["text"])
    assert spy.seen[0]["default_role"] == QMessageBox.ButtonRole.RejectRole
    qtbot.wait(300)
    assert not any(t.revoked_at for t in window.server.tokens.list())
