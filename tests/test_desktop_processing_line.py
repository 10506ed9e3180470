"""The details panel's processing line (a video's jobs and renditions) reads like the lines above
it: inside the Technical details box, aligned with its labels, clear of the scroll area's bottom
edge, in English and in Spanish, at the default window size and at a small one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QPoint, QRect  # noqa: E402
from PySide6.QtWidgets import QFormLayout, QGroupBox, QScrollArea, QWidget  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests import media  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402


@pytest.fixture(params=["en", "es"])
def window(request, qtbot, library: Library) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    install_translations(request.param)
    try:
        with shown_window(qtbot, library) as win:
            yield win
    finally:
        install_translations("en")


def _in(widget: QWidget, ancestor: QWidget) -> QRect:
    return QRect(widget.mapTo(ancestor, QPoint(0, 0)), widget.size())


def test_the_processing_line_sits_in_the_technical_box(
    qtbot, window: MainWindow, library: Library, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    clip = library.uploads.ingest(media.make_mp4(tmp_path / "clip.mp4", seconds=1), "video")
    window.controller.refresh()
    wait_for(qtbot, lambda: window.controller.grid.row_of(clip.id) >= 0)
    window.browser.reveal(clip.id)
    line = window.processing_line
    wait_for(qtbot, lambda: line.isVisible() and line.text().count("\n") >= 1)
    details = window.details
    box = details.technical["type"].parentWidget()
    assert isinstance(box, QGroupBox)
    (form,) = box.findChildren(QFormLayout)  # the figures' rows
    label = form.labelForField(details.technical["type"])
    last = form.labelForField(details.technical["id"])
    assert label is not None and last is not None
    scroll = details.stack.currentWidget()
    assert isinstance(scroll, QScrollArea)
    for size in ((1360, 860), (900, 600)):  # the default window, and a small one
        window.resize(*size)
        qtbot.wait(100)
        bar = scroll.verticalScrollBar()
        bar.setValue(bar.maximum())
        qtbot.wait(50)
        assert box.isAncestorOf(line), "a bare line under the box, out of line with the rest"
        place = _in(line, box)
        assert place.left() == _in(label, box).left()  # the labels' column
        assert place.top() > _in(last, box).bottom()  # under the last figure
        margin = box.layout().contentsMargins().bottom()
        assert margin > 0 and place.bottom() <= box.contentsRect().bottom() - margin
        # scrolled to the end, the whole line shows, not glued to (or cut by) the edge
        seen = _in(line, scroll.viewport())
        assert seen.top() >= 0 and seen.bottom() + margin < scroll.viewport().height()
