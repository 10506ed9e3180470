"""After a catalog outage the grid kept saying it cannot list the files for up to a minute
while the live feed was back and the sidebar's counts had answered: each read waiting out the
outage (the grid's pages, the counts) waited on its own back-off, doubling to a minute, and
nothing else woke it. Now any sign the catalog answers (the feed connected again, another read
that answered) asks every waiting read at once (LibraryController.catalog_back). Meanwhile the
status bar's long outage line pushed the live indicator out: it now stays.

A real PostgreSQL catalog behind a proxy the test cuts (refused connections) and restores."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

pytest.importorskip("pytestqt")

from core.library import Library  # noqa: E402
from desktop_app.controllers import library_controller  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from tests.conftest import make_settings  # noqa: E402
from tests.faults import CuttableProxy  # noqa: E402
from tests.pg_server import fresh_database, postgres_url  # noqa: E402,F401
from tests.qt_helpers import shown_window, wait_for  # noqa: E402

pytestmark = pytest.mark.timeout(120)

# a back-off grown this long by the time the catalog is back (it doubles up to a minute)
GROWN_BACK_OFF = 30_000  # ms
# the grid lists the files well within it once the catalog is back
BACK_WITHIN = 10_000  # ms


def test_the_grid_is_listed_at_once_when_the_catalog_is_back(
    qtbot: Any,
    qapp: Any,
    postgres_url: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    install_translations("es")  # the long Spanish line is the one that pushed the indicator out
    first = library_controller.COUNTS_RETRY_FIRST
    monkeypatch.setattr(library_controller, "COUNTS_RETRY_FIRST", GROWN_BACK_OFF)
    database = fresh_database(postgres_url, "desktop_catalog_back")
    host_port = database.rsplit("@", 1)[1].split("/", 1)[0]
    proxy = CuttableProxy.in_front_of(f"http://{host_port}")
    through = database.replace(host_port, f"127.0.0.1:{proxy.port}")
    lib = Library.open(make_settings(tmp_path, database_url=f"{through}?connect_timeout=2"))
    for i in range(2):
        photo = tmp_path / f"back-{i}.jpg"
        Image.new("RGB", (32, 24), (i * 90, 120, 30)).save(photo, "JPEG")
        lib.uploads.ingest(photo, "image")
    cut = False
    try:
        with shown_window(qtbot, lib) as window:
            window.resize(1000, 700)
            c, status = window.controller, window.status
            wait_for(
                qtbot,
                lambda: (
                    c.grid.rowCount() == 2
                    and c.counts.get("all") == 2
                    and status.feed.text() == "● En directo"
                ),
            )
            proxy.cut()
            cut = True
            c.refresh_sidebar()
            c.grid.reload()  # a new search, a change elsewhere that reloads
            wait_for(qtbot, lambda: "se mostrarán solos" in status.currentMessage())
            wait_for(qtbot, lambda: "desconectado" in status.feed.text())
            assert c.grid.rowCount() == 0
            assert status.feed.isVisibleTo(status), "the live state pushed out by the outage"

            # the waits already started are the grown ones; a read that meets the catalog
            # still starting after the wake waits the first one again, as in use
            monkeypatch.setattr(library_controller, "COUNTS_RETRY_FIRST", first)
            proxy.restore()
            cut = False
            # nothing done by the user: the feed connecting again asks the grid at once
            wait_for(qtbot, lambda: c.grid.rowCount() == 2, timeout=BACK_WITHIN)
            wait_for(qtbot, lambda: "se mostrarán solos" not in status.currentMessage())
            assert status.feed.text() == "● En directo"
            wait_for(qtbot, lambda: c.counts.get("all") == 2, timeout=BACK_WITHIN)
    finally:
        if cut:
            proxy.restore()
        lib.close()
        proxy.close()
        install_translations("en")
