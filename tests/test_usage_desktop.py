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


def test_list_the_store_now_pressed_from_the_keyboard_keeps_the_focus(
    qtbot: Any, library: Library
) -> None:
    """List the store now (and Refresh) pressed with Space are disabled while they work: the
    focus went to the Type table and stayed there, and Space again selected a row in it."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    from tests.qt_helpers import shown_window

    with shown_window(qtbot, library) as window:
        window.resize(1366, 768)
        view = window.storage_view
        view.show()
        view.raise_()
        window.activateWindow()
        wait_for(qtbot, lambda: QApplication.activeWindow() is window)
        qtbot.wait(200)  # the window's own first focus (the sidebar) given
        for button in (view.scan_button, view.refresh_button):
            button.setFocus(Qt.FocusReason.TabFocusReason)
            wait_for(qtbot, button.hasFocus)
            with qtbot.waitSignal(view.usageChanged, timeout=TIMEOUT):
                QTest.keyClick(button, Qt.Key.Key_Space)
            wait_for(qtbot, button.isEnabled)
            assert button.hasFocus(), QApplication.focusWidget()


def test_history_days_are_in_the_locale_short_format_like_the_scan_time(
    qtbot: Any, library: Library, media_dir: Any
) -> None:
    """The Day column read "2026-12-02" beside a scan time in the locale's own format."""
    from PySide6.QtCore import QDate, QLocale, Qt

    previous = QLocale()
    spanish = QLocale(QLocale.Language.Spanish, QLocale.Country.Spain)
    QLocale.setDefault(spanish)
    try:
        library.uploads.ingest(media_dir.jpeg, "image")
        view = StorageView(library)
        qtbot.addWidget(view)
        with qtbot.waitSignal(view.usageChanged, timeout=TIMEOUT) as scanned:
            view.scan_button.click()
        iso = scanned.args[0]["history"][-1]["day"]
        day = QDate.fromString(iso, Qt.DateFormat.ISODate)
        shown = view.history.item(0, 0).text()  # type: ignore[union-attr]
        # Spanish order (d/M), the year whole: a sports archive spans decades
        assert shown == f"{day.day()}/{day.month()}/{day.year()}"
        view.shutdown()
    finally:
        QLocale.setDefault(previous)


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


def test_no_drift_is_shown_for_a_listing_older_than_the_files(
    qtbot: Any, library: Library, media_dir: Any
) -> None:
    """The server lists the store soon after it starts: of an empty library on a first run,
    before the import. Its drift (0) is not the drift of the library that has files since."""
    from desktop_app.i18n import install_translations

    def open_view() -> StorageView:
        view = StorageView(library)
        qtbot.addWidget(view)
        return view

    view = open_view()

    def shown(view: StorageView = view) -> str:
        with qtbot.waitSignal(view.usageChanged, timeout=TIMEOUT):
            view.refresh()
        return view.summary.text()

    text = shown()
    assert "not been listed" in text and "drift" not in text  # no listing, no figure
    with qtbot.waitSignal(view.usageChanged, timeout=TIMEOUT):  # shown by itself
        library.usage.scan()  # what the server's schedule runs, on the empty library
    library.uploads.ingest(media_dir.jpeg, "image")
    assert library.usage.catalog_changed_since_scan()
    text = shown()
    assert "Store: 0 objects" in text and not text.startswith("0 file")
    assert "drift from the catalog: not checked since the files changed" in text
    assert "List the store now" in text  # what to do about it
    install_translations("es")
    try:
        spanish = open_view()
        text = shown(spanish)
        spanish.shutdown()
        assert "diferencia con el catálogo: sin comprobar desde que cambiaron los archivos" in text
        assert "Recorrer el almacén ahora" in text
    finally:
        install_translations("en")
    with qtbot.waitSignal(view.usageChanged, timeout=TIMEOUT):
        view.scan_button.click()  # a listing of the library as it is: its drift is real
    assert "drift from the catalog: 0 bytes" in view.summary.text()
    library.trash(library.list_files().items[0].id)  # the drift counts trashed files too
    assert not library.usage.catalog_changed_since_scan()
    assert "drift from the catalog: 0 bytes" in shown()
    view.shutdown()
