"""At the default window size a video's details (its processing lines last) show whole: no
scroll bar, the last line clear of the panel's bottom edge, in English and in Spanish. The
screenshots showed a scroll bar and "Renditions…" / "Versiones…" on the edge, cut in Spanish."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QPoint  # noqa: E402

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


def test_a_videos_details_fit_the_default_window(
    qtbot, window: MainWindow, library: Library, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    clip = library.uploads.ingest(media.make_mp4(tmp_path / "clip.mp4", seconds=1), "video")
    window.controller.refresh()
    wait_for(qtbot, lambda: window.controller.grid.row_of(clip.id) >= 0)
    window.browser.reveal(clip.id)
    line = window.processing_line
    wait_for(qtbot, lambda: line.isVisible() and line.text().count("\n") >= 1)
    assert (window.width(), window.height()) == (1360, 860)  # the first start's size
    assert window.upload_dock.isVisible()
    scroll = window.details.details_scroll
    viewport = scroll.viewport()
    wait_for(qtbot, lambda: scroll.verticalScrollBar().maximum() == 0, timeout=3000)
    bottom = line.mapTo(viewport, QPoint(0, line.height())).y()
    assert bottom + 6 <= viewport.height(), (bottom, viewport.height())


def test_the_trash_note_takes_two_lines(
    qtbot, window: MainWindow, library: Library, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """Its two dates each on a line of their own, at the default window size: in Spanish the
    one sentence wrapped to three lines and pushed the technical details below the fold."""
    photo = library.uploads.ingest(media.make_jpeg(tmp_path / "heat.jpg"), "image")
    library.trash(photo.id)
    # the widest dates: a two-digit day and month, an afternoon hour
    stamp = datetime(2026, 12, 30, 16, 30, tzinfo=UTC)
    trashed = replace(library.get_file(photo.id), deleted_at=stamp)
    details = window.details
    details.show_record(trashed)
    note = details.trash_note
    wait_for(qtbot, lambda: note.isVisible() and note.width() > 0)
    assert note.heightForWidth(note.width()) <= 2 * note.fontMetrics().lineSpacing() + 2
    assert "2026" in note.text() and "2027" in note.text()  # since when, and until when
