"""Desktop: the window's layout on a small screen — the details panel hidden with F8 (View ▸
Details panel) for a wider grid, and the upload dock's first height."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.views.main_window import (  # noqa: E402
    DOCK_MAX_HEIGHT,
    DOCK_MIN_HEIGHT,
    MainWindow,
    first_dock_height,
)
from tests.qt_helpers import wait_for  # noqa: E402


def _columns(grid: Any) -> int:
    """The thumbnail columns the grid lays out, each whole inside its viewport."""
    model = grid.model()
    rects = [grid.visualRect(model.index(row, 0)) for row in range(model.rowCount())]
    inside = [r for r in rects if r.left() >= 0 and r.right() < grid.viewport().width()]
    return len({r.left() for r in inside})


@pytest.fixture
def pictures(library: Library, tmp_path: Path) -> Library:
    from tests.media import make_jpeg

    for n in range(8):  # distinct pictures: a copy would be refused as a duplicate
        library.uploads.ingest(make_jpeg(tmp_path / f"shot_{n}.jpg", (320 + 16 * n, 240)), "image")
    return library


def _open(qtbot: Any, library: Library, state: Path, size: tuple[int, int]) -> MainWindow:
    window = MainWindow(library, page_size=50, state_file=state)
    qtbot.addWidget(window)
    window.resize(*size)
    window.show()
    qtbot.waitExposed(window)
    wait_for(qtbot, lambda: window.controller.grid.rowCount() == 8)
    return window


@pytest.fixture
def state(tmp_path: Path) -> Path:
    return tmp_path / "state" / "window-state.ini"


def test_f8_hides_the_details_panel_for_more_columns_and_it_is_remembered(
    qtbot: Any, pictures: Library, state: Path
) -> None:
    window = _open(qtbot, pictures, state, (1024, 768))
    grid, details, action = window.browser.grid, window.details, window.commands.details_panel
    assert action in window.view_menu.actions() and action.isCheckable()  # type: ignore[attr-defined]
    assert action.shortcut().toString() == "F8"
    wait_for(qtbot, lambda: _columns(grid) >= 2)
    shown = _columns(grid)
    window.activateWindow()  # F8 is a shortcut of the window
    wait_for(qtbot, window.isActiveWindow)
    grid.setFocus()
    width = details.width()
    QTest.keyClick(window.browser.grid, Qt.Key.Key_F8)
    wait_for(qtbot, lambda: not details.isVisible() and _columns(grid) > shown)
    assert not action.isChecked()
    QTest.keyClick(window.browser.grid, Qt.Key.Key_F8)  # back, with the grid's columns
    wait_for(qtbot, lambda: details.isVisible() and _columns(grid) == shown)
    assert action.isChecked() and abs(details.width() - width) <= 2
    # at its own width on a wider window, kept while hidden however the window is resized
    window.resize(1360, 800)
    wait_for(qtbot, lambda: details.width() == 380)
    action.trigger()
    window.resize(1024, 768)
    wait_for(qtbot, lambda: window.width() == 1024)
    window.resize(1360, 800)
    wait_for(qtbot, lambda: window.width() == 1360)
    action.trigger()
    wait_for(qtbot, lambda: details.isVisible())
    assert details.width() == 380
    action.trigger()  # hidden when the window closes: hidden at the next start
    wait_for(qtbot, lambda: not details.isVisible())
    window.close()
    again = _open(qtbot, pictures, state, (1024, 768))
    assert not again.details.isVisible() and not again.commands.details_panel.isChecked()
    wait_for(qtbot, lambda: _columns(again.browser.grid) > shown)
    again.resize(1360, 800)
    wait_for(qtbot, lambda: again.width() == 1360)
    again.commands.details_panel.trigger()  # and it comes back at its width, not its narrowest
    wait_for(qtbot, lambda: again.details.isVisible())
    assert again.details.width() == 380
    again.shutdown()


def test_f2_shows_the_hidden_details_panel_to_rename(
    qtbot: Any, pictures: Library, state: Path
) -> None:
    window = _open(qtbot, pictures, state, (1360, 860))
    window.commands.details_panel.trigger()
    window.browser.select_row(0)
    wait_for(qtbot, lambda: window.details.record is not None)
    window.commands.rename.trigger()
    assert window.details.isVisible() and window.commands.details_panel.isChecked()
    window.shutdown()


def test_the_upload_dock_leaves_the_grid_its_rows_at_the_first_start_on_a_small_screen(
    qtbot: Any, pictures: Library, state: Path
) -> None:
    """At 768 px of screen a 260 px upload dock left the grid less than two rows."""
    window = _open(qtbot, pictures, state, (1024, 740))
    dock, grid = window.upload_dock, window.browser.grid
    first = dock.height()
    # two rows whole and the start of a third
    assert grid.viewport().height() >= 2 * grid.gridSize().height() + 30
    window.resizeDocks([dock], [320], Qt.Orientation.Vertical)  # the user's own height is kept
    wait_for(qtbot, lambda: dock.height() > first + 50)
    kept = dock.height()
    window.close()
    again = _open(qtbot, pictures, state, (1024, 740))
    assert abs(again.upload_dock.height() - kept) <= 4
    again.shutdown()


@pytest.mark.parametrize(
    ("window_height", "screen_height", "dock"),
    [
        (860, 1080, 215),  # the default size: a quarter
        (860, 768, 192),  # shown maximised on a 768 px screen: a quarter of that
        (1400, 1440, 350),
        (2000, 2160, DOCK_MAX_HEIGHT),  # the queue needs no more
        (560, None, DOCK_MIN_HEIGHT),  # its buttons and a few rows
    ],
)
def test_the_first_dock_height_is_a_quarter_of_the_window_within_bounds(
    window_height: int, screen_height: int | None, dock: int
) -> None:
    assert first_dock_height(window_height, screen_height) == dock


def _whole_tiles(grid: Any) -> tuple[int, int]:
    """The columns and rows of thumbnails whole inside the grid's viewport."""
    model, area = grid.model(), grid.viewport().rect()
    rects = [grid.visualRect(model.index(row, 0)) for row in range(model.rowCount())]
    whole = [r for r in rects if area.contains(r)]
    return len({r.left() for r in whole}), len({r.top() for r in whole})


def _bottom_docks(window: MainWindow) -> list[Any]:
    return [window.upload_dock, window.server_dock, window.storage_view, window.jobs_dock]


@pytest.mark.parametrize(
    "size",
    [
        (911, 499),  # 1366 × 768 at 150 % (QT_SCALE_FACTOR=1.5), maximised under a title bar
        (800, 581),  # 800 × 600
    ],
)
def test_the_first_start_on_a_small_screen_shows_two_rows_of_two_tiles(
    qtbot: Any, pictures: Library, state: Path, size: tuple[int, int]
) -> None:
    """At 1366 × 768 and 150 % the first start showed one tile: the upload dock at its 180 px
    floor and the details panel at its minimum width left the grid 407 × 202 px. There the
    details panel and the bottom docks start closed; what the user opens is kept."""
    window = _open(qtbot, pictures, state, size)
    grid = window.browser.grid
    wait_for(qtbot, lambda: min(_whole_tiles(grid)) >= 2)
    assert not window.commands.details_panel.isChecked() and not window.details.isVisible()
    assert not any(dock.isVisible() for dock in _bottom_docks(window))
    # a file added opens the queue (the grid then shorter, the user's choice)
    window.add_uploads([state.parent / "missing.jpg"])
    assert window.upload_dock.isVisible()
    window.close()
    again = _open(qtbot, pictures, state, size)  # the saved layout wins: the queue stays open
    assert again.upload_dock.isVisible() and not again.details.isVisible()
    again.shutdown()


def test_the_first_start_on_a_large_screen_keeps_every_panel(
    qtbot: Any, pictures: Library, state: Path
) -> None:
    """1360 × 860 (a 1920 × 1080 screen): the details panel and the upload queue are there at
    the first start, and they stay at a later start in a small window (the saved layout)."""
    window = _open(qtbot, pictures, state, (1360, 860))
    wait_for(qtbot, lambda: min(_whole_tiles(window.browser.grid)) >= 2)
    assert window.details.isVisible() and window.upload_dock.isVisible()
    assert not window.upload_dock.visibleRegion().isEmpty()  # in front of its tabs
    window.close()
    again = _open(qtbot, pictures, state, (911, 499))
    assert again.details.isVisible() and again.upload_dock.isVisible()
    again.shutdown()
