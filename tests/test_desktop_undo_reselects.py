"""Ctrl+Z after moving several selected files to the trash: the files come back selected and in
sight. An outside tester saw them come back unselected, the grid's top row cut in half."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QItemSelectionModel, Qt  # noqa: E402

from core.library import Library  # noqa: E402
from tests.media import make_jpeg  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402


def test_undo_selects_the_restored_files_again_whole_on_screen(  # type: ignore[no-untyped-def]
    qtbot, library: Library, tmp_path: Path
) -> None:
    ids = [
        library.uploads.ingest(
            make_jpeg(tmp_path / f"heat_{n:02}.jpg", (32, 24), color=(n * 10, 90, 40)), "image"
        ).id
        for n in range(24)
    ]
    with shown_window(qtbot, library) as window:
        window.resize(1000, 600)
        model, grid = window.controller.grid, window.browser.grid
        wait_for(qtbot, lambda: model.rowCount() == len(ids))
        chosen = sorted(ids[3:6])  # near the end of the grid (newest first), scrolled down
        window.browser.select_row(model.row_of(chosen[0]))
        for file_id in chosen[1:]:
            index = model.index(model.row_of(file_id))
            grid.selectionModel().select(index, QItemSelectionModel.SelectionFlag.Select)
        assert sorted(window.browser.selected_ids()) == chosen
        window.commands.trash.trigger()
        wait_for(qtbot, lambda: window.commands.undo_trash.isEnabled())
        wait_for(qtbot, lambda: all(model.row_of(i) < 0 for i in chosen))
        window.browser.grid.setFocus(Qt.FocusReason.OtherFocusReason)
        window.commands.undo_trash.trigger()
        wait_for(qtbot, lambda: sorted(window.browser.selected_ids()) == chosen)
        qtbot.wait(100)  # the grid's own layout timer, which may scroll it
        rects = [grid.visualRect(model.index(model.row_of(i))) for i in chosen]
        top = min(rects, key=lambda r: r.top())
        assert grid.viewport().rect().contains(top), (top, grid.viewport().rect())
        assert all(r.top() >= 0 for r in rects), rects  # none cut at the top
        assert window.details.record is not None and window.details.record.id in chosen
