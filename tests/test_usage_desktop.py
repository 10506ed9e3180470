"""The desktop Storage view and the status bar's warning above MEDIADESK_STORAGE_WARN_BYTES."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from desktop_app.views.storage_view import StorageView  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.qt_helpers import wait_for

TIMEOUT = 20000


@pytest.fixture
def warned(data_dir: Path) -> Iterator[Library]:
    lib = Library.open(make_settings(data_dir, storage_warn_bytes=5_000, server_autostart=False))
    yield lib
    lib.close()


def test_storage_view_shows_types_athletes_store_and_history(
    qtbot: Any, library: Library, media_dir: Any
) -> None:
    library.uploads.ingest(media_dir.jpeg, "image", athlete_id=3)
    library.uploads.ingest(media_dir.mp4, "video")
    view = StorageView(library)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.usageChanged, timeout=TIMEOUT) as shown:
        view.refresh()
    report = shown.args[0]
    assert report["total"]["files"] == 2
    assert view.by_type.rowCount() == 2 and view.by_athlete.rowCount() == 2
    names = {view.by_athlete.item(r, 0).text() for r in range(2)}  # type: ignore[union-attr]
    assert names == {"Athlete 3", "No athlete"}
    assert "not been listed" in view.summary.text()
    assert view.history.rowCount() == 0
    with qtbot.waitSignal(view.usageChanged, timeout=TIMEOUT) as scanned:
        view.scan_button.click()
    store = scanned.args[0]["store"]
    assert store["objects"] >= 2 and store["drift_bytes"] == 0
    assert view.history.rowCount() == 1  # today's line, kept in the catalog
    assert view.used_bytes(0) == store["bytes"]
    view.shutdown()


def test_status_bar_warns_above_the_threshold(qtbot: Any, warned: Library, media_dir: Any) -> None:
    win = MainWindow(warned, page_size=50)
    qtbot.addWidget(win)
    win.show()
    try:
        wait_for(qtbot, lambda: not win.controller.grid.loading, timeout=TIMEOUT)
        assert not win.status.storage_warning.isVisible()
        warned.uploads.ingest(media_dir.jpeg, "image")  # 8 KiB, more than 5,000 bytes
        win.controller.refresh_sidebar()
        wait_for(qtbot, lambda: win.controller.counts.get("all") == 1, timeout=TIMEOUT)
        wait_for(qtbot, win.status.storage_warning.isVisible, timeout=TIMEOUT)
        assert "above" in win.status.storage_warning.text()
        assert win.storage_view.objectName() == "storage-dock"
    finally:
        win.shutdown()
