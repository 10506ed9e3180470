"""Moving many selected files to the trash updates the grid once per burst of events, not once
per file: each removal cost the view a pass over the whole selection, and 600-973 files froze
the window for 2-8 s."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from core.library import Library  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402
from tests.test_desktop_confirm import BoxSpy  # noqa: E402
from tests.test_desktop_models import add_rows  # noqa: E402

COUNT = 300


def plural(message: str) -> str:
    """A status message as the English catalogue words it, whether or not an earlier test of
    this worker installed it (the source texts say "file(s)")."""
    return message.replace("file(s)", "files")


def press_accept(box: QMessageBox) -> None:
    """'Move to trash' in the question about selected files not on screen."""
    (move,) = [b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole]
    move.click()


def test_moving_hundreds_of_selected_files_to_the_trash_removes_their_rows_at_once(
    qtbot, library: Library
) -> None:  # type: ignore[no-untyped-def]
    add_rows(library, COUNT)
    with shown_window(qtbot, library, page_size=COUNT) as win:
        model, grid = win.controller.grid, win.browser.grid
        wait_for(qtbot, lambda: model.rowCount() == COUNT)
        win.browser.select_row(0)
        grid.selectAll()
        removals: list[tuple[int, int]] = []
        messages: list[str] = []
        win.controller.message.connect(lambda m: messages.append(plural(m)))
        model.rowsRemoved.connect(lambda _parent, first, last: removals.append((first, last)))
        spy = BoxSpy(press_accept)
        win.commands.trash.trigger()  # the question (offscreen files) is answered meanwhile
        assert spy.seen, "the unseen-files question was not asked"
        # The worker trashes every file while the GUI thread is busy (as it is when a slow
        # repaint or the removals themselves keep it): their events arrive together.
        ids = [model.record_at(r).id for r in range(model.rowCount())]  # type: ignore[union-attr]
        deadline = time.monotonic() + 30
        while not all(library.get_file(i).is_trashed for i in ids[-1:]):
            assert time.monotonic() < deadline, "the files were not trashed"
            time.sleep(0.05)
        wait_for(qtbot, lambda: model.rowCount() == 0)
        assert all(library.get_file(i).is_trashed for i in ids)
        # one removal per burst of events (a few), not one per file
        assert len(removals) <= 3, f"{len(removals)} removals for {COUNT} files"
        assert sum(last - first + 1 for first, last in removals) == COUNT
        assert model.total == 0 and win.controller.current is None
        # the status bar followed the batches, then said how many went
        assert "Moving to the trash: 200 of 300 files…" in messages, messages
        assert messages[-1] == "Moved 300 files to the trash", messages


def test_files_already_where_they_were_asked_to_go_are_no_error(qtbot, library: Library) -> None:  # type: ignore[no-untyped-def]
    """Another window or the server trashed some of the selection meanwhile: the trash of the
    selection says it is done, with no error box; one that vanished meanwhile is an error."""
    add_rows(library, 5)
    ids = [r.id for r in library.list_files(limit=10).items]
    library.trash(ids[0])
    with shown_window(qtbot, library, page_size=10) as win:
        controller = win.controller
        messages: list[str] = []
        errors: list[object] = []
        controller.message.connect(lambda m: messages.append(plural(m)))
        controller.errorOccurred.connect(errors.append)
        controller.trash(ids)
        wait_for(qtbot, lambda: "Moved 5 files to the trash" in messages)
        assert errors == [] and all(library.get_file(i).is_trashed for i in ids)
        library.restore(ids[1])
        controller.restore(ids[:3])
        # the one restored meanwhile is said as such (desktop_app LibraryController._bulk)
        wait_for(qtbot, lambda: "Restored 2 files (1 already restored elsewhere)" in messages)
        assert errors == []
        library.delete_permanently(ids[4])
        controller.restore([ids[3], ids[4]])
        wait_for(qtbot, lambda: len(errors) == 1)
        assert not library.get_file(ids[3]).is_trashed
