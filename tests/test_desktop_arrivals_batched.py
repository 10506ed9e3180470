"""A bulk import's files reach the grid in few insertions, not one per file: each insertion
cost the view a layout and a repaint of every tile shown, and a thousand files arriving one
at a time (tests/test_desktop_soak.py) kept the window's thread busy for most of the import.
Counted, not timed: the row insertions and the totals the grid says, and the rows' order."""

from __future__ import annotations

import random
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.events import ChangeEvent  # noqa: E402
from core.library import Library  # noqa: E402
from core.records import FileQuery  # noqa: E402
from desktop_app.models.file_grid_model import FileGridListModel  # noqa: E402
from desktop_app.workers import TaskRunner  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402
from tests.test_desktop_models import add_rows  # noqa: E402

COUNT = 200


def names(model: FileGridListModel) -> list[str]:
    rows = (model.record_at(r) for r in range(model.rowCount()))
    return [r.original_filename for r in rows if r is not None]


def newest_first(numbers: range) -> list[str]:
    return [f"file-{i:05d}.jpg" for i in reversed(numbers)]


def test_files_arriving_one_delivery_each_go_in_together(qtbot: Any, library: Library) -> None:
    """Each file's event its own delivery of the live feed, as uploads ending one after the
    other bring them: the first shows at once, those that follow within the settling time go
    in together at its end, and every view's count follows."""
    with shown_window(qtbot, library, page_size=50) as win:
        model = win.controller.grid
        assert model.rowCount() == 0 and model.loaded
        insertions: list[tuple[int, int]] = []
        totals: list[int] = []
        deliveries: list[int] = []
        model.rowsInserted.connect(lambda _parent, first, last: insertions.append((first, last)))
        model.totalChanged.connect(totals.append)
        win.controller.live.changedTogether.connect(lambda events: deliveries.append(len(events)))
        for i in range(COUNT):  # one write each: one delivery each (the premise, checked)
            add_rows(library, range(i, i + 1))
        assert deliveries == [1] * COUNT, deliveries[:5]
        assert model.rowCount() == 1  # a single change shows at once
        wait_for(qtbot, lambda: model.rowCount() == COUNT)
        assert names(model) == newest_first(range(COUNT))
        assert model.total == COUNT
        # the first file, then the rest together: not a row, a layout and a total per file
        assert len(insertions) <= 3, f"{len(insertions)} insertions for {COUNT} files"
        assert sum(last - first + 1 for first, last in insertions) == COUNT
        assert len(totals) <= 3, totals
        wait_for(qtbot, lambda: str(COUNT) in win.browser.total.text())
        wait_for(qtbot, lambda: str(COUNT) in win.controller.sidebar.count_text("all"))


def test_files_arriving_together_are_one_insertion_in_order(qtbot: Any, library: Library) -> None:
    """Many files in one delivery (a worker faster than the window), in any order, among
    loaded rows: one insertion per run of new files between two loaded ones, one total, and
    the rows in the view's order."""
    add_rows(library, range(0, 20, 2))  # the even numbers loaded; the odd ones come in
    events: list[ChangeEvent] = []
    runner = TaskRunner(max_threads=2)
    model = FileGridListModel(library, runner, page_size=50)
    try:
        model.set_query(FileQuery(sort="original_filename"))
        wait_for(qtbot, lambda: model.loaded and not model.loading)
        assert model.rowCount() == 10
        unsubscribe = library.events.subscribe(events.append)
        try:
            add_rows(library, range(1, 20, 2))
            add_rows(library, range(100, 100 + COUNT))
        finally:
            unsubscribe()
        assert len(events) == 10 + COUNT
        random.Random(7).shuffle(events)
        insertions: list[tuple[int, int]] = []
        totals: list[int] = []
        model.rowsInserted.connect(lambda _parent, first, last: insertions.append((first, last)))
        model.totalChanged.connect(totals.append)
        model.apply_events(events)
        assert names(model) == sorted(f"file-{i:05d}.jpg" for i in [*range(20), *range(100, 300)])
        # one run after each of the ten loaded rows (the last with the 200 new ones after it)
        assert len(insertions) == 10, insertions
        assert totals == [20 + COUNT]
        assert model.total == 20 + COUNT
    finally:
        runner.shutdown()
