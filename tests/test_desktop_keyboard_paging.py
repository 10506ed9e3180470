"""Walking a library bigger than the grid's loaded pages with the keyboard: PageDown, Down on
the last row and End go on into the pages not loaded yet, as the mouse wheel does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402
from tests.test_desktop_models import add_rows  # noqa: E402

Key = Qt.Key
FILES = 300
# one file more than a multiple of 2 to 6: the last loaded row of tiles holds that one file
# alone, whatever the columns the window's width gives (the outside tester's 100 over 3)
PAGE = 61


@pytest.fixture
def window(qtbot, library: Library) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    add_rows(library, FILES)  # newest first: file-00299 … file-00000
    win = MainWindow(library, page_size=PAGE)
    qtbot.addWidget(win)
    win.resize(1000, 700)
    win.show()
    grid = win.controller.grid
    wait_for(qtbot, lambda: grid.total == FILES and grid.rowCount() > 0 and not grid.loading)
    win.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is win)
    yield win
    win.shutdown()


def _columns(win: MainWindow) -> int:
    view, grid = win.browser.grid, win.controller.grid
    top = view.visualRect(grid.index(0)).top()
    return sum(view.visualRect(grid.index(i)).top() == top for i in range(grid.rowCount()))


def _click_last_column(qtbot, win: MainWindow) -> int:  # type: ignore[no-untyped-def]
    """Clicks the first row's last tile, as the tester did: a column the last loaded row of
    tiles does not reach. Returns the number of columns."""
    view = win.browser.grid
    columns = _columns(win)
    assert 2 <= columns <= 6 and PAGE % columns == 1
    tile = view.visualRect(win.controller.grid.index(columns - 1)).center()
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=tile)
    wait_for(qtbot, lambda: view.currentIndex().row() == columns - 1 and view.hasFocus())
    return columns


def _current_row(win: MainWindow) -> int:
    return win.browser.grid.currentIndex().row()


def _selected_rows(win: MainWindow) -> list[int]:
    return sorted(i.row() for i in win.browser.grid.selectionModel().selectedIndexes())


def _press_until(qtbot, win: MainWindow, key: Key, done) -> None:  # type: ignore[no-untyped-def]
    """Presses `key` (waiting for any page it asked for) until `done()`, or fails after as
    many presses as there are files."""
    view = win.browser.grid
    for _ in range(FILES):
        if done():
            return
        qtbot.keyClick(view, key)
        wait_for(qtbot, lambda: not win.controller.grid.loading)
        QApplication.processEvents()
    assert done(), f"stuck at row {_current_row(win)} of {win.controller.grid.rowCount()} loaded"


def test_page_down_walks_past_the_loaded_pages_to_the_last_file(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """PageDown stopped on the last loaded row of tiles that reaches its column, with the last
    loaded file alone on the row below, off screen: Qt loads the next page only when the last
    loaded file shows or the scroll bar hits its end (the wheel's way), so none came."""
    grid = window.controller.grid
    _click_last_column(qtbot, window)
    assert grid.rowCount() == PAGE
    _press_until(qtbot, window, Key.Key_PageDown, lambda: _current_row(window) == FILES - 1)
    assert grid.rowCount() == FILES
    assert _selected_rows(window) == [FILES - 1]  # FILES fill the last row: its last column
    last = grid.record_at(FILES - 1)
    assert last is not None and last.original_filename == "file-00000.jpg"


def test_down_on_the_last_loaded_row_goes_on_into_the_next_page(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """Down with no loaded file below did nothing, and no page was asked."""
    grid, view = window.controller.grid, window.browser.grid
    columns = _click_last_column(qtbot, window)
    above = PAGE - 2  # the last column of the row above the last loaded file's, alone on its row
    view.setCurrentIndex(grid.index(above))
    view.scrollTo(grid.index(above))
    assert _selected_rows(window) == [above] and grid.rowCount() == PAGE
    qtbot.keyClick(view, Key.Key_Down)  # once: it goes on when the page comes
    wait_for(qtbot, lambda: _current_row(window) == above + columns)  # the file below it
    assert _selected_rows(window) == [above + columns]
    assert grid.rowCount() == 2 * PAGE


def test_end_goes_to_the_last_file_of_the_library(qtbot, window: MainWindow) -> None:  # type: ignore[no-untyped-def]
    _click_last_column(qtbot, window)
    qtbot.keyClick(window.browser.grid, Key.Key_End)
    wait_for(qtbot, lambda: _selected_rows(window) == [FILES - 1])
    assert window.controller.grid.rowCount() == FILES


def _page(win: MainWindow) -> int:
    """Files a PageDown moves over: the rows of tiles the grid's viewport holds, times columns."""
    view = win.browser.grid
    rows = view.viewport().height() // view.gridSize().height()
    assert rows >= 2  # else a page and a row are the same move, and the tests prove nothing
    return rows * _columns(win)


@pytest.fixture
def tall(qtbot, window: MainWindow) -> MainWindow:  # type: ignore[no-untyped-def]
    window.resize(1000, 900)
    wait_for(qtbot, lambda: window.browser.grid.viewport().height() >= 2 * 196 + 60)
    QApplication.processEvents()
    return window


def test_page_down_and_up_move_by_the_rows_in_sight(qtbot, tall: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """PageDown and PageUp moved one row of tiles, as Down and Up do: Qt's page step is the
    viewport less one tile, and a tile is nearly a grid cell."""
    view = tall.browser.grid
    columns = _click_last_column(qtbot, tall)
    page = _page(tall)
    qtbot.keyClick(view, Key.Key_PageDown)
    assert _current_row(tall) == columns - 1 + page  # the same column, a screen down
    assert _selected_rows(tall) == [columns - 1 + page]
    qtbot.keyClick(view, Key.Key_PageDown)
    assert _current_row(tall) == columns - 1 + 2 * page
    qtbot.keyClick(view, Key.Key_PageUp)
    assert _current_row(tall) == columns - 1 + page
    qtbot.keyClick(view, Key.Key_PageUp)
    qtbot.keyClick(view, Key.Key_PageUp)  # at the top: stays in its column on the first row
    assert _selected_rows(tall) == [columns - 1]


def test_shift_page_down_extends_the_selection_by_a_page(qtbot, tall: MainWindow) -> None:  # type: ignore[no-untyped-def]
    view = tall.browser.grid
    qtbot.mouseClick(
        view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=view.visualRect(tall.controller.grid.index(0)).center(),
    )
    wait_for(qtbot, lambda: _selected_rows(tall) == [0])
    page = _page(tall)
    qtbot.keyClick(view, Key.Key_PageDown, Qt.KeyboardModifier.ShiftModifier)
    assert _current_row(tall) == page
    assert _selected_rows(tall) == list(range(page + 1))
    qtbot.keyClick(view, Key.Key_PageUp, Qt.KeyboardModifier.ShiftModifier)
    assert _selected_rows(tall) == [0]


def test_page_down_into_rows_not_loaded_lands_a_whole_page_on(qtbot, tall: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """A page past the loaded rows waits for the next page of files and then moves a whole
    screen, not to the last loaded row of tiles."""
    grid, view = tall.controller.grid, tall.browser.grid
    columns = _click_last_column(qtbot, tall)
    page = _page(tall)
    start = (PAGE - 1) // columns * columns - columns  # the first column, the row above the last
    view.setCurrentIndex(grid.index(start))
    view.scrollTo(grid.index(start))
    assert grid.rowCount() == PAGE and start + page >= PAGE
    qtbot.keyClick(view, Key.Key_PageDown)  # once: it goes on when the page comes
    wait_for(qtbot, lambda: _current_row(tall) == start + page)
    assert _selected_rows(tall) == [start + page]
    assert grid.rowCount() == 2 * PAGE


def test_page_down_on_the_last_rows_goes_to_the_last_row(qtbot, tall: MainWindow) -> None:  # type: ignore[no-untyped-def]
    """With every file loaded, PageDown less than a page from the end lands on the last row of
    tiles, in its column; at the end it stays."""
    grid, view = tall.controller.grid, tall.browser.grid
    _press_until(
        qtbot,
        tall,
        Key.Key_End,
        lambda: grid.rowCount() == FILES and _current_row(tall) == FILES - 1,
    )
    columns = _columns(tall)
    above = FILES - 1 - columns  # the last column, the row above the last
    view.setCurrentIndex(grid.index(above))
    qtbot.keyClick(view, Key.Key_PageDown)
    assert _selected_rows(tall) == [FILES - 1]
    qtbot.keyClick(view, Key.Key_PageDown)  # at the end: stays
    assert _selected_rows(tall) == [FILES - 1]
