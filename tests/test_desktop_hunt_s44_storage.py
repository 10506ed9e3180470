"""Found by an outside tester walking the desktop app in Spanish (session 44): the Storage
panel; real widgets, a real library on a real SQLite data folder, the real embedded server."""

from __future__ import annotations

import os
import threading
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


# -- 1. the Storage panel follows the listings the embedded server makes ---------------------------
def test_the_storage_panel_shows_the_listings_made_while_it_is_open(
    qtbot: Any, library: Library, media_dir: MediaSet
) -> None:
    """It said "The store has not been listed yet." after the server's start-up listing (the
    log had "Store scanned: … (drift …)"), and an older listing after a later one, hiding the
    drift until Refresh."""
    install_translations("en")
    library.uploads.ingest(media_dir.jpeg, "image")
    with shown_window(qtbot, library) as window:
        view = window.storage_view
        view.raise_()  # its tab shown: it loads
        wait_for(qtbot, lambda: view.report is not None)
        assert view.report is not None and view.report["store"]["bytes"] is None
        assert "not been listed yet" in view.summary.text()

        window.server.start(port=0)  # its schedule lists the store soon after it starts

        def listed() -> bool:
            return view.report is not None and view.report["store"]["bytes"] is not None

        wait_for(qtbot, listed)
        first = library.usage.last_scan
        assert first is not None and view.report["store"]["objects"] == first.objects
        assert "Store: " in view.summary.text() and "not been listed" not in view.summary.text()

        # a later listing (the schedule's next, in its own thread): shown without Refresh
        library.uploads.ingest(media_dir.png, "image")
        scanning = threading.Thread(target=library.usage.scan)
        scanning.start()
        scanning.join(30)
        second = library.usage.last_scan
        assert second is not None and second.objects > first.objects
        wait_for(qtbot, lambda: view.report["store"]["objects"] == second.objects)  # type: ignore[index]
        assert f"Store: {second.objects} objects" in view.summary.text()
        window.server.stop()
