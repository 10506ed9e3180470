"""Desktop: the details panel restored from a layout saved in another language.

An outside tester saved the window in English with the details panel at its English narrowest
(300 px) and reopened it in Spanish at 1150 and 1024 px: the Spanish panel needs some 330 px,
the splitter gave it 300, and the Metadatos, Acciones and Detalles técnicos boxes ran past the
window's edge (their right frames, the margin and the panel's scroll bar cut off). The panel is
never narrower than its labels need; the grid gives up the width instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QPoint  # noqa: E402
from PySide6.QtWidgets import (  # noqa: E402
    QAbstractButton,
    QGroupBox,
    QLabel,
    QWidget,
)

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.details_panel import ElidedLabel  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from desktop_app.views.panes import least_width  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402


@pytest.fixture
def english(qapp: Any) -> Iterator[None]:
    install_translations("en")
    yield
    install_translations("en")


@pytest.fixture
def pictures(library: Library, tmp_path: Path) -> Library:
    from tests.media import make_jpeg

    for n in range(4):  # distinct pictures: a copy would be refused as a duplicate
        library.uploads.ingest(make_jpeg(tmp_path / f"shot_{n}.jpg", (320 + 16 * n, 240)), "image")
    return library


def _open(qtbot: Any, library: Library, state: Path, width: int) -> MainWindow:
    window = MainWindow(library, page_size=50, state_file=state)
    qtbot.addWidget(window)
    window.resize(width, 900)
    window.show()
    qtbot.waitExposed(window)
    wait_for(qtbot, lambda: window.controller.grid.rowCount() == 4)
    window.browser.select_row(0)  # the details of a file: the panel's widest content
    wait_for(qtbot, lambda: window.details.record is not None)
    qtbot.wait(50)  # laid out again, if the details asked for more room
    return window


def _right(widget: QWidget, window: QWidget) -> int:
    """The widget's last column of pixels, in the window's coordinates."""
    return widget.mapTo(window, QPoint(widget.width() - 1, 0)).x()


def _assert_whole(window: MainWindow) -> None:
    details = window.details
    scroll = details.details_scroll
    assert _right(details, window) <= window.width() - 1
    viewport = scroll.viewport()
    assert _right(viewport, window) <= window.width() - 1
    body = scroll.widget()
    layout = body.layout()
    assert layout is not None
    margin = layout.contentsMargins().right()
    assert margin > 0
    boxes = [box for box in details.findChildren(QGroupBox) if box.isVisible()]
    assert len(boxes) == 3
    for box in boxes:  # each frame whole, with the body's margin after it, inside the viewport
        assert _right(box, window) + margin <= _right(viewport, window), box.title()
    bar = scroll.verticalScrollBar()
    if body.height() > viewport.height():  # the bar is there, on screen, beside the boxes
        assert bar.isVisible()
        assert _right(bar, window) <= window.width() - 1
    # every label and button reads whole (values elide by design, wrapped labels wrap)
    for widget in details.findChildren(QWidget):
        if not widget.isVisible() or isinstance(widget, ElidedLabel):
            continue
        wraps = isinstance(widget, QLabel) and widget.wordWrap()
        if wraps:  # its longest word on a line
            assert widget.minimumSizeHint().width() <= widget.width(), widget.text()
        elif isinstance(widget, (QLabel, QAbstractButton)):
            assert widget.sizeHint().width() <= widget.width(), widget.text()
    assert details.width() >= least_width(details)


@pytest.mark.parametrize("width", [1024, 1150])
def test_a_layout_saved_in_english_shows_the_spanish_details_whole(
    qtbot: Any, pictures: Library, tmp_path: Path, english: None, width: int
) -> None:
    state = tmp_path / "state" / "window-state.ini"
    window = _open(qtbot, pictures, state, 1150)
    details, splitter = window.details, window.splitter
    narrowest = least_width(details)  # the English narrowest, as the tester left it
    sizes = splitter.sizes()
    splitter.setSizes([sizes[0], sizes[1] + sizes[2] - narrowest, narrowest])
    wait_for(qtbot, lambda: details.width() == narrowest)
    _assert_whole(window)
    window.close()  # saves the layout
    window.shutdown()
    assert state.is_file()

    install_translations("es")  # the next start, in Spanish
    again = _open(qtbot, pictures, state, width)
    assert again.details.editor.title() == "Metadatos"
    assert least_width(again.details) > narrowest  # Spanish needs more than English did
    _assert_whole(again)
    # the room came from the grid (and the sidebar down to its narrowest, as the grid's
    # columns come first): the three panes share the window's width, none past its edge
    assert again.sidebar.width() >= least_width(again.sidebar)
    assert sum(again.splitter.sizes()) + 2 * again.splitter.handleWidth() == width
    # nor does dragging its handle to the window's edge narrow it past what it needs
    again.splitter.moveSplitter(width, 2)
    qtbot.wait(50)
    _assert_whole(again)
    again.shutdown()


def test_a_layout_that_fits_is_restored_as_saved(
    qtbot: Any, pictures: Library, tmp_path: Path, english: None
) -> None:
    """No jump: a panel saved wider than the Spanish narrowest keeps its width."""
    state = tmp_path / "state" / "window-state.ini"
    window = _open(qtbot, pictures, state, 1360)
    details, splitter = window.details, window.splitter
    wide = 360
    sizes = splitter.sizes()
    splitter.setSizes([sizes[0], sizes[1] + sizes[2] - wide, wide])
    wait_for(qtbot, lambda: details.width() == wide)
    saved = splitter.sizes()
    window.close()
    window.shutdown()

    install_translations("es")
    again = _open(qtbot, pictures, state, 1360)
    assert least_width(again.details) < wide
    assert again.splitter.sizes() == saved
    _assert_whole(again)
    again.shutdown()
