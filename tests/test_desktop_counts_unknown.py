"""The status bar's counts before the catalog's have come (a slow or network disk, a big
library): no count at all, never "0 files · 0 images · 0 videos · 0 bytes" beside a grid of
thousands (an outside tester saw it for ~16 s at every start on a slowed data folder)."""

from __future__ import annotations

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402
from tests.test_catalog_disk_gone import english  # noqa: E402, F401  (a fixture)


def test_counts_are_blank_until_counted_then_whole(
    qtbot,  # type: ignore[no-untyped-def]
    library: Library,
    media_dir: MediaSet,
    english: None,  # noqa: F811
) -> None:
    library.uploads.ingest(media_dir.jpeg, "image")
    win = MainWindow(library, page_size=50)
    qtbot.addWidget(win)
    try:
        # the counts are asked off the window's thread: none can be back before it shows
        assert win.status.counts.text() == ""
        assert "0 files" not in win.status.counts.toolTip()
        win.show()
        wait_for(qtbot, lambda: win.status.counts.text().startswith("1 file · 1 image"))
    finally:
        win.shutdown()


def test_an_empty_library_still_says_0_files(
    qtbot,  # type: ignore[no-untyped-def]
    library: Library,
    english: None,  # noqa: F811
) -> None:
    win = MainWindow(library, page_size=50)
    qtbot.addWidget(win)
    try:
        win.show()
        wait_for(qtbot, lambda: win.status.counts.text().startswith("0 files · 0 images"))
    finally:
        win.shutdown()
