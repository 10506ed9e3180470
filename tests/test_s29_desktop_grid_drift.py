"""Files imported while the user is scrolled down (newest first puts them at the top): the grid
does not slide under the user. Qt kept its scroll offset in pixels, so each new file pushed
the files on screen down a cell, the selected one off screen; at the very top new files still
show up where they land."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.events import ChangeEvent  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402
from tests.test_desktop_keyboard import _rows, window  # noqa: E402, F401


def _import_at_top(window: MainWindow, count: int) -> list[str]:
    """`count` files arriving one after the other, each the newest (an import's events)."""
    model = window.controller.grid
    names = []
    for n in range(count):
        newest = model.record_at(0)
        assert newest is not None
        name = f"new-{n:02d}.jpg"
        record = dataclasses.replace(
            newest,
            id=10_000 + n,
            original_filename=name,
            created_at=newest.created_at + timedelta(minutes=1),
        )
        model.apply_event(ChangeEvent("created", record.id, record.as_dict()))
        names.append(name)
    return names


def test_scrolled_down_the_selected_file_stays_in_place_while_files_arrive(
    qtbot,
    window: MainWindow,  # noqa: F811
) -> None:
    _rows(qtbot, window, 120)
    grid, model = window.browser.grid, window.controller.grid
    window.browser.select_row(40)
    grid.scrollTo(model.index(40))
    qtbot.wait(60)
    wait_for(qtbot, lambda: not model.loading)  # (the next page, if the scroll asked for it)
    assert grid.verticalScrollBar().value() > 0
    selected = model.record_at(40)
    assert selected is not None
    before = grid.visualRect(model.index(40))
    assert grid.viewport().rect().intersects(before)
    _import_at_top(window, 7)
    qtbot.wait(60)
    after = grid.visualRect(model.index(model.row_of(selected.id)))
    assert model.row_of(selected.id) == 47
    assert after.top() == before.top()  # same height on screen (a column over, at most)
    assert grid.currentIndex().row() == 47


def test_at_the_top_new_files_show_up_at_the_top(
    qtbot,
    window: MainWindow,  # noqa: F811
) -> None:
    _rows(qtbot, window, 120)
    grid, model = window.browser.grid, window.controller.grid
    qtbot.wait(60)
    assert grid.verticalScrollBar().value() == grid.verticalScrollBar().minimum()
    names = _import_at_top(window, 3)
    qtbot.wait(60)
    assert grid.verticalScrollBar().value() == grid.verticalScrollBar().minimum()
    top = grid.indexAt(grid.visualRect(model.index(0)).center())
    assert model.record_at(top.row()).original_filename == names[-1]
