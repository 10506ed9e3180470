"""The empty grid's notice is for an empty view only: never shown while a full one loads.

A page said it had loaded before its rows were in, and the browser, which shows the notice on
that, showed "No files here yet" for a moment over every view with files (startup, the trash,
a search, a sort). Real SQLite catalog, the real window, offscreen.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QWidget  # noqa: E402

from core.library import Library  # noqa: E402
from core.records import Sort  # noqa: E402
from desktop_app.models.sidebar_model import SidebarFilter  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402
from tests.test_desktop_models import add_rows  # noqa: E402


def test_the_empty_notice_never_shows_while_a_view_with_files_loads(
    qtbot,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    add_rows(library, 30)
    add_rows(library, 3, deleted_at=datetime.now(UTC))
    win = MainWindow(library, page_size=10)
    qtbot.addWidget(win)
    browser = win.browser
    c, grid = win.controller, win.controller.grid
    shown: list[QWidget] = []  # each page the stack turns to, as it turns
    browser.stack.currentChanged.connect(lambda i: shown.append(browser.stack.widget(i)))
    try:
        win.show()  # its first page is on its way (a worker): watched from the start

        def loaded(rows: int) -> None:
            wait_for(qtbot, lambda: grid.loaded and not grid.loading and grid.rowCount() == rows)

        loaded(10)
        c.set_filter(SidebarFilter("trash"))
        loaded(3)
        c.set_filter(SidebarFilter("all"))
        loaded(10)
        c.set_search("file-0001")  # file-00010 … file-00019, and file-00001
        loaded(10)
        c.set_sort(Sort.NAME)
        loaded(10)
        c.set_search("")
        loaded(10)
        grid.fetchMore()
        loaded(20)
        assert browser.empty not in shown
        assert browser.stack.currentWidget() is browser.grid and not browser.empty.isVisible()
        # (the notice itself still comes for a view without files)
        c.set_search("no such file")
        wait_for(qtbot, browser.empty.isVisible)
        assert grid.rowCount() == 0
    finally:
        win.shutdown()


def test_the_empty_trash_says_so_while_counts_are_on_their_way(
    qtbot,
    library: Library,  # type: ignore[no-untyped-def]
) -> None:
    """The empty grid waited for the counts, which say why a view is empty (all its files in the
    trash), in the trash too, whose notice they do not change: while changes made elsewhere
    kept them coming (another desktop importing), the empty trash showed nothing at all."""
    add_rows(library, 3)
    win = MainWindow(library, page_size=10)
    qtbot.addWidget(win)
    browser = win.browser
    c, grid = win.controller, win.controller.grid
    c._sidebar_timer.setInterval(60_000)  # the counts of the changes below stay on their way
    try:
        win.show()
        wait_for(qtbot, lambda: grid.rowCount() == 3 and not c.counts_pending)
        file_id = grid.record_at(0).id  # type: ignore[union-attr]
        library.trash(file_id)  # elsewhere, as far as the window knows: heard on the feed
        library.restore(file_id)
        wait_for(qtbot, lambda: c.counts_pending)
        c.set_filter(SidebarFilter("trash"))
        wait_for(qtbot, lambda: grid.loaded and not grid.loading)
        wait_for(qtbot, lambda: browser.stack.currentWidget() is browser.empty)
        assert c.counts_pending
        assert browser.empty.label.text().startswith("The trash is empty.")
    finally:
        win.shutdown()
