"""The Server panel's API tokens table at the documented 1024 px window width, in English and
Spanish: in Spanish the name was squeezed to 26 px ("tes…", the header "Nombre" cut) by the
Scope, Created and State columns sized to their longer words; then, held at ten characters,
it cut the scope "administración" short. Scope and state are shown whole, the name keeps its
header, and Created shows the day (the time in its tooltip)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


@pytest.fixture
def window(qtbot: Any, library: Library, language: str) -> Iterator[MainWindow]:
    library.tokens.create("tester", "admin")
    library.tokens.create("Cámara norte", "read")
    library.tokens.revoke(library.tokens.list()[1].id)
    win = MainWindow(library, page_size=50)
    qtbot.addWidget(win)
    win.resize(1024, 800)
    win.show()
    qtbot.waitExposed(win)
    win.server_dock.show()
    win.server_dock.raise_()
    yield win
    win.shutdown()


@pytest.mark.parametrize("width", [1024, 1600])
def test_the_token_name_keeps_its_header_and_scope_and_state_show_whole(
    qtbot: Any, window: MainWindow, language: str, width: int
) -> None:
    window.resize(width, 800)
    table = window.server_panel.table
    header = table.horizontalHeader()
    wait_for(qtbot, lambda: table.rowCount() == 2 and table.isVisible())
    wait_for(qtbot, lambda: window.width() == width)
    least = header.sectionSizeHint(0)  # the header "Name" whole, its margins too
    wait_for(qtbot, lambda: header.sectionSize(0) >= least)
    # every column inside the table, nothing behind a sideways scroll bar
    right = header.sectionViewportPosition(3) + header.sectionSize(3)
    assert right <= table.viewport().width()
    assert all(header.sectionSize(column) > 0 for column in range(4))
    # the name takes what the others leave: the table's whole width is used
    assert right >= table.viewport().width() - 1
    # whatever is cut short reads whole in its tooltip
    for row in range(2):
        for column in range(4):
            item = table.item(row, column)
            assert item.text() in item.toolTip(), (row, column, item.toolTip())
    for column in (1, 2, 3):  # scope, date and state whole
        need = max(table.sizeHintForColumn(column), header.sectionSizeHint(column))
        assert header.sectionSize(column) >= need, (column, header.sectionSize(column))


@pytest.mark.parametrize(("size", "scale"), [((800, 600), 1.0), ((1366, 768), 1.5)])
def test_the_day_a_token_was_created_shows_whole_at_any_font_size(
    qtbot: Any, library: Library, language: str, size: tuple[int, int], scale: float
) -> None:
    """An outside tester read "5/12/2…" under Created at 800 × 600 in Spanish and with fonts at
    150 % (1366 × 768, QT_FONT_DPI=144): the name was held at its header's width and the date
    took what was left. The scope, the date and the state are whole at any font size; the name
    gives way first (whole in its tooltip), and the table asks for room for its header."""
    from PySide6.QtGui import QFont
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    kept = QFont(app.font())
    bigger = QFont(kept)
    bigger.setPointSizeF(kept.pointSizeF() * scale)
    app.setFont(bigger)
    library.tokens.create("first start", "admin")
    win = MainWindow(library, page_size=50)
    qtbot.addWidget(win)
    try:
        win.resize(*size)
        win.show()
        qtbot.waitExposed(win)
        win.server_dock.show()
        win.server_dock.raise_()
        table = win.server_panel.table
        header = table.horizontalHeader()
        wait_for(qtbot, lambda: table.rowCount() == 1 and table.isVisible())
        qtbot.wait(50)  # laid out at the window's size
        for column in (1, 2, 3):
            item = table.item(0, column)
            assert item is not None
            text = item.text()
            need = max(table.sizeHintForColumn(column), header.sectionSizeHint(column))
            assert header.sectionSize(column) >= need, (text, header.sectionSize(column), need)
            assert header.sectionSize(column) >= table.fontMetrics().horizontalAdvance(text) + 8
        right = header.sectionViewportPosition(3) + header.sectionSize(3)
        assert right <= table.viewport().width()  # nothing behind a sideways scroll bar
        assert header.sectionSize(0) >= header.sectionSizeHint(0)  # the name's header whole
    finally:
        win.shutdown()
        app.setFont(kept)
