"""Saving the details (Ctrl+S, Ctrl+Enter) leaves the text cursor and the scroll where they were:
the stored version showed again put the cursor at the start of the description, so what was
typed next went in front of the text."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtGui import QTextCursor  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, wait_for  # noqa: E402

CTRL = Qt.KeyboardModifier.ControlModifier
LINES = "\n".join(f"Heat {n}" for n in range(1, 31))  # taller than the box: it scrolls


@pytest.fixture
def photo(library: Library, media_dir: MediaSet) -> FileRecord:
    return library.uploads.ingest(media_dir.jpeg, "image")


@pytest.fixture
def window(qtbot, library: Library, photo: FileRecord) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(library, page_size=50)
    # the tests end with typing unsaved: dropped before the close, which would ask about them
    qtbot.addWidget(win, before_close_func=lambda w: w.details.revert())
    win.show()
    wait_for(qtbot, lambda: win.controller.grid.rowCount() == 1)
    win.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is win)
    win.browser.select_row(win.controller.grid.row_of(photo.id))
    assert win.details.record is not None and win.details.record.id == photo.id
    yield win
    win.shutdown()


def save_with(qtbot, window: MainWindow, widget, key: Qt.Key) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.controller.saved, timeout=TIMEOUT):
        qtbot.keyClick(widget, key, CTRL)
    wait_for(qtbot, lambda: not window.details.dirty)


@pytest.mark.parametrize("key", [Qt.Key.Key_S, Qt.Key.Key_Return], ids=["ctrl+s", "ctrl+enter"])
def test_typing_after_a_save_goes_on_where_the_cursor_was(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    photo: FileRecord,
    key: Qt.Key,
) -> None:
    box = window.details.description
    box.setFocus()
    wait_for(qtbot, box.hasFocus)
    qtbot.keyClicks(box, "Final autonomica")
    save_with(qtbot, window, box, key)
    assert library.get_file(photo.id).description == "Final autonomica"
    qtbot.keyClicks(box, ", pista 3")
    assert box.toPlainText() == "Final autonomica, pista 3"
    # in the middle of the text, scrolled to its end: both stay through the save
    box.setPlainText(LINES)
    box.moveCursor(QTextCursor.MoveOperation.End)
    qtbot.keyClick(box, Qt.Key.Key_Up)
    position = box.textCursor().position()
    scrolled = box.verticalScrollBar().value()
    assert scrolled > 0
    save_with(qtbot, window, box, key)
    assert library.get_file(photo.id).description == LINES
    assert box.textCursor().position() == position
    assert box.verticalScrollBar().value() == scrolled
    qtbot.keyClicks(box, "!")
    assert box.toPlainText() == LINES.replace("Heat 29", "Heat 29!")


def test_the_name_keeps_its_cursor_through_ctrl_s(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    photo: FileRecord,
) -> None:
    name = window.details.filename
    name.setFocus()
    wait_for(qtbot, name.hasFocus)
    qtbot.keyClick(name, Qt.Key.Key_Home)
    qtbot.keyClicks(name, "final-")
    save_with(qtbot, window, name, Qt.Key.Key_S)
    assert library.get_file(photo.id).original_filename == f"final-{photo.original_filename}"
    assert name.cursorPosition() == len("final-")
    qtbot.keyClicks(name, "b")
    assert name.text() == f"final-b{photo.original_filename}"


def test_edits_typed_while_the_save_runs_keep_the_cursor(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    library: Library,
    photo: FileRecord,
) -> None:
    """The save's answer comes after more was typed: the stored text is not the one shown, and
    the form, showing the stored version with the typing on top, put the cursor at the start."""
    box = window.details.description
    box.setFocus()
    wait_for(qtbot, box.hasFocus)
    qtbot.keyClicks(box, "Triple jump")
    with qtbot.waitSignal(window.controller.saved, timeout=TIMEOUT):
        qtbot.keyClick(box, Qt.Key.Key_S, CTRL)
        qtbot.keyClicks(box, ", 14 m")  # before the answer is handled: no event loop ran
    assert library.get_file(photo.id).description == "Triple jump"
    assert window.details.dirty
    qtbot.keyClicks(box, " PB")
    assert box.toPlainText() == "Triple jump, 14 m PB"


@pytest.mark.parametrize("button", ["save_button", "revert_button"])
def test_save_or_revert_pressed_with_space_leaves_the_focus_in_the_field_edited(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    button: str,
) -> None:
    """Save (or Revert) greys out once done, and Qt gave its focus to the next button: Space
    pressed again on Save opened the preview. The focus goes back to the field edited last."""
    box = window.details.description
    box.setFocus()
    wait_for(qtbot, box.hasFocus)
    qtbot.keyClicks(box, "Final autonomica")
    pressed = getattr(window.details, button)
    pressed.setFocus(Qt.FocusReason.TabFocusReason)
    wait_for(qtbot, pressed.hasFocus)
    qtbot.keyClick(pressed, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: not window.details.dirty)
    assert box.hasFocus(), QApplication.focusWidget()
