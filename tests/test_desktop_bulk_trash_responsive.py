"""Moving thousands of selected files to the trash keeps the GUI thread's work per batch
independent of how many files are selected: after each batch's rows went, the browser listed
every selected file (selectedIndexes(), which asks the model for each one's flags) two or three
times, to count the selection and to decide which file the details panel shows, and the window
stopped repainting for seconds (5,336 files: up to 7 s). The counts of the sidebar, asked on
each change, are read one at a time: a burst queued one read (and one update of the sidebar)
per ask."""

from __future__ import annotations

import contextlib
import cProfile
import pstats
import sys
import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import event

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QMessageBox  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from tests.internals import db_of  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402
from tests.test_desktop_confirm import BoxSpy  # noqa: E402
from tests.test_desktop_models import add_rows  # noqa: E402

COUNT = 3000  # 15 batches of core's BULK_BATCH


def press_accept(box: QMessageBox) -> None:
    """'Move to trash' in the question about selected files not on screen."""
    (move,) = [b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole]
    move.click()


def calls_to(stats: pstats.Stats, name: str) -> int:
    """How many times the profiled thread called the C++ method `name` (Qt's, through PySide)."""
    table = stats.stats  # type: ignore[attr-defined]
    return sum(entry[1] for (_file, _line, func), entry in table.items() if f"'{name}'" in func)


def test_a_bulk_trash_never_lists_the_whole_selection_per_batch(qtbot, library: Library) -> None:  # type: ignore[no-untyped-def]
    add_rows(library, COUNT)
    with shown_window(qtbot, library, page_size=1000) as win:
        browser, model = win.browser, win.controller.grid
        counts: list[int] = []
        browser.selectionCountChanged.connect(counts.append)
        browser.select_row(0)
        browser.select_all()  # Ctrl+A: the rest of the view is loaded, then all selected
        wait_for(qtbot, lambda: model.rowCount() == COUNT and counts[-1:] == [COUNT])
        removals: list[int] = []
        model.rowsRemoved.connect(lambda _parent, first, last: removals.append(last - first + 1))
        spy = BoxSpy(press_accept)
        win.commands.trash.trigger()  # lists the selection once, asks about the unseen files
        assert spy.seen, "the unseen-files question was not asked"
        # Only the GUI thread (this one) is profiled: an observer, counting calls, not timing.
        profile = cProfile.Profile()
        profile.enable()
        try:
            wait_for(qtbot, lambda: model.rowCount() == 0 and counts[-1] == 0, timeout=60_000)
        finally:
            profile.disable()
        assert sum(removals) == COUNT and len(removals) > 1, removals
        stats = pstats.Stats(profile)
        # Before: 2-3 listings of the selection per removal (38 for 3,000 files)
        assert calls_to(stats, "selectedIndexes") == 0
        assert library.counts()["trash"] == COUNT and library.counts()["all"] == 0
        assert win.controller.current is None  # the details panel shows no trashed file


def test_a_slow_one_batch_trash_says_it_is_under_way_until_it_ends(  # type: ignore[no-untyped-def]
    qtbot, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalog on a slow network share: the batch's commit held until released. Before,
    the status bar said nothing until the move ended."""
    from PySide6.QtCore import Qt

    from desktop_app.controllers import library_controller

    monkeypatch.setattr(library_controller, "BUSY_NOTICE_DELAY", 50)
    add_rows(library, 3)
    slow_disk = threading.Event()

    def held(_conn: object) -> None:
        if threading.current_thread() is not threading.main_thread():
            slow_disk.wait(20)

    with contextlib.ExitStack() as later:
        install_translations("es")
        later.callback(install_translations, "en")
        win = later.enter_context(shown_window(qtbot, library))
        win.activateWindow()
        wait_for(qtbot, win.isActiveWindow)
        grid = win.browser.grid
        grid.setFocus()
        qtbot.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        wait_for(qtbot, lambda: len(win.browser.selected_records()) == 3)
        wait_for(qtbot, win.commands.trash.isEnabled)
        engine = db_of(library)._write_engine
        event.listen(engine, "commit", held)
        try:
            qtbot.keyClick(grid, Qt.Key.Key_Delete)
            wait_for(
                qtbot, lambda: win.status.currentMessage() == "Moviendo 3 archivos a la papelera…"
            )
            assert library.counts()["trash"] == 0  # still under way
            slow_disk.set()
            wait_for(
                qtbot, lambda: win.status.currentMessage() == "Se movieron 3 archivos a la papelera"
            )
        finally:
            slow_disk.set()
            wait_for(qtbot, lambda: library.counts()["trash"] == 3)
            event.remove(engine, "commit", held)


class SlowDisk:
    """The catalog on a slow network share, for the core calls named: each commit made inside
    one of them waits until that call is let go (`release`); any other commit goes through."""

    def __init__(self, *calls: str) -> None:
        self.gates = {call: threading.Event() for call in calls}

    def __call__(self, _conn: object) -> None:
        frame = sys._getframe(1)
        while frame is not None:
            gate = self.gates.get(frame.f_code.co_name)
            if gate is not None and frame.f_code.co_filename.endswith("library.py"):
                gate.wait(20)
                return
            frame = frame.f_back

    def release(self, *calls: str) -> None:
        for call in calls or tuple(self.gates):
            self.gates[call].set()


@contextlib.contextmanager
def slow_disk(library: Library, *calls: str) -> Iterator[SlowDisk]:
    disk = SlowDisk(*calls)
    engine = db_of(library)._write_engine
    event.listen(engine, "commit", disk)
    try:
        yield disk
    finally:
        # let go, and left listening: a worker's commit may still be going through the
        # listeners, which must not change meanwhile (the library is this test's alone)
        disk.release()


def _select_all(qtbot, win, count: int) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import Qt

    grid = win.browser.grid
    grid.setFocus()
    wait_for(qtbot, lambda: win.controller.grid.rowCount() == count)
    qtbot.keyClick(grid, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    wait_for(qtbot, lambda: len(win.browser.selected_records()) == count)


def _show_trash(qtbot, win) -> None:  # type: ignore[no-untyped-def]
    c = win.controller
    win.sidebar.setCurrentIndex(c.sidebar.index_of("trash"))
    wait_for(qtbot, lambda: c.filter.section == "trash" and not c.grid.loading)


def test_a_slow_restore_says_it_is_under_way_until_it_ends(  # type: ignore[no-untyped-def]
    qtbot, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Before, restoring a selection from the trash on a slow disk said nothing until its end,
    where a move to the trash said it was under way."""
    from desktop_app.controllers import library_controller

    monkeypatch.setattr(library_controller, "BUSY_NOTICE_DELAY", 50)
    add_rows(library, 4)
    library.trash_many([r.id for r in library.list_files().items])
    with contextlib.ExitStack() as later:
        install_translations("es")
        later.callback(install_translations, "en")
        win = later.enter_context(shown_window(qtbot, library))
        _show_trash(qtbot, win)
        _select_all(qtbot, win, 4)
        wait_for(qtbot, win.commands.restore.isEnabled)
        disk = later.enter_context(slow_disk(library, "restore_many"))
        win.commands.restore.trigger()
        wait_for(qtbot, lambda: win.status.currentMessage() == "Restaurando 4 archivos…")
        assert library.counts()["trash"] == 4  # still under way
        disk.release()
        wait_for(qtbot, lambda: win.status.currentMessage() == "Se restauraron 4 archivos")
        assert library.counts()["trash"] == 0


def test_two_slow_moves_at_once_keep_the_notice_of_the_one_still_running(  # type: ignore[no-untyped-def]
    qtbot, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A selection trashed, then another restored before the first move ends, on a slow
    disk. Before, the first of them to end took the status bar's notice away while the other
    went on; now the one still running is named again once the first's result has passed."""
    from desktop_app.controllers import library_controller

    monkeypatch.setattr(library_controller, "BUSY_NOTICE_DELAY", 50)
    add_rows(library, 5)
    library.trash_many([r.id for r in library.list_files().items][:2])
    install_translations("en")  # the plural forms
    with (
        shown_window(qtbot, library) as win,
        slow_disk(library, "trash_many", "restore_many") as disk,
    ):
        status = win.status
        _select_all(qtbot, win, 3)
        wait_for(qtbot, win.commands.trash.isEnabled)
        win.commands.trash.trigger()
        wait_for(qtbot, lambda: status.currentMessage() == "Moving 3 files to the trash…")
        _show_trash(qtbot, win)
        _select_all(qtbot, win, 2)
        wait_for(qtbot, win.commands.restore.isEnabled)
        win.commands.restore.trigger()  # it waits for the catalog's write lock meanwhile
        wait_for(qtbot, lambda: status.currentMessage() == "Restoring 2 files…")
        disk.release("trash_many")
        wait_for(qtbot, lambda: status.currentMessage() == "Moved 3 files to the trash")
        status.clearMessage()  # what the end's notice's timer does after 6 s
        assert status.currentMessage() == "Restoring 2 files…"
        assert library.counts()["trash"] == 5  # the restore still under way
        disk.release("restore_many")
        wait_for(qtbot, lambda: status.currentMessage() == "Restored 2 files")
        status.clearMessage()
        assert status.currentMessage() == ""  # none running: nothing comes back


def test_the_focused_file_or_the_first_selected_one_is_shown(qtbot, library: Library) -> None:  # type: ignore[no-untyped-def]
    """Which selected file the details panel shows, read from the selection's ranges."""
    from PySide6.QtCore import QItemSelection, QItemSelectionModel

    add_rows(library, 30)
    with shown_window(qtbot, library, page_size=50) as win:
        browser, model = win.browser, win.controller.grid
        selection = browser.grid.selectionModel()
        flags = QItemSelectionModel.SelectionFlag
        counts: list[int] = []
        browser.selectionCountChanged.connect(counts.append)
        items = QItemSelection()
        for first, last in ((20, 24), (5, 7), (12, 12)):
            items.select(model.index(first), model.index(last))
        selection.setCurrentIndex(model.index(6), flags.NoUpdate)
        selection.select(items, flags.ClearAndSelect)
        wait_for(qtbot, lambda: counts[-1:] == [9])
        shown = model.record_at(6)
        wait_for(qtbot, lambda: win.controller.current == shown)  # the focused one
        # the focus on a file not selected: the first selected one (row 5), not the focused one
        selection.setCurrentIndex(model.index(0), flags.NoUpdate)
        selection.select(model.index(6), flags.Deselect)
        wait_for(qtbot, lambda: counts[-1:] == [8])
        first = model.record_at(5)
        wait_for(qtbot, lambda: win.controller.current == first)
        selection.clearSelection()
        wait_for(qtbot, lambda: counts[-1:] == [0] and win.controller.current is None)


def test_counts_asked_during_a_burst_are_read_one_at_a_time(qtbot, library: Library) -> None:  # type: ignore[no-untyped-def]
    add_rows(library, 20)
    library.trash(library.list_files(limit=1).items[0].id)
    with shown_window(qtbot, library) as win:
        controller = win.controller
        wait_for(qtbot, lambda: not controller.counts_pending)
        applied: list[bool] = []  # whether more counts were still coming, at each update
        controller.countsChanged.connect(lambda _c: applied.append(controller.counts_pending))
        for _ in range(40):  # a burst of changes, the GUI thread too busy to take answers
            controller.refresh_sidebar()
        wait_for(qtbot, lambda: not controller.counts_pending)
        # the one on its way, then one more read after it: not one per ask (before: 27 of 40)
        assert 1 <= len(applied) <= 2, applied
        assert applied[-1] is False and all(applied[:-1])
        assert controller.counts["trash"] == 1 and controller.counts["all"] == 19


def test_the_sidebar_writes_only_the_athlete_counts_that_changed(qapp) -> None:  # type: ignore[no-untyped-def]
    from core.records import AthleteRecord
    from desktop_app.formatting import number_text
    from desktop_app.models.sidebar_model import SidebarModel

    model = SidebarModel()
    athletes = [AthleteRecord(i, f"Athlete {i:03d}", 300) for i in range(1, 201)]
    model.set_athletes(athletes)
    changed = list(athletes)
    changed[41] = AthleteRecord(42, "Athlete 042", 1299)
    profile = cProfile.Profile()
    profile.enable()
    model.set_athletes(changed)  # a batch of the trash took some of one athlete's files
    profile.disable()
    # one count written, not every athlete's (before: 200 formatted and written again)
    assert calls_to(pstats.Stats(profile), "setText") == 1
    assert (
        model.count_text("athlete:42") == number_text(1299)
        and model.count_text("athlete:41") == "300"
    )
    model.set_athletes([AthleteRecord(7, "New", 5), *athletes])  # rows rebuilt: all written
    assert model.count_text("athlete:7") == "5" and model.count_text("athlete:200") == "300"
