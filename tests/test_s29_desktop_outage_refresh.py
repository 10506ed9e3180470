"""F5 in a catalog outage keeps the files already listed (and what is selected and shown).

A refresh dropped the grid's rows at once and asked the first page again: in a catalog outage
the page did not come and the grid gave way to "The files cannot be listed", the selection
gone with the rows while the details panel still showed the file selected before (a file no
longer selected, as seen in a real window). Now the rows stay until the catalog answers; the
status bar's outage line says meanwhile that they are listed again by themselves.

Real SQLite catalog; the outage is core's own error for a catalog out of reach, raised by the
listing while `down` (tests/test_desktop_counts_outage.py's `_listing_goes_down`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from desktop_app.controllers import library_controller  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402
from tests.test_desktop_counts_outage import (  # noqa: E402, F401
    _boxes,
    _listing_goes_down,
    _photos,
    english,
)

pytestmark = pytest.mark.timeout(60)


def test_f5_in_an_outage_keeps_the_rows_the_selection_and_the_details(
    qtbot: Any,
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    english: None,
) -> None:
    monkeypatch.setattr(library_controller, "COUNTS_RETRY_FIRST", 150)
    _photos(library, tmp_path / "photos", 3)
    down, failed = _listing_goes_down(library, monkeypatch)
    with shown_window(qtbot, library) as window:
        c, browser = window.controller, window.browser
        wait_for(qtbot, lambda: c.grid.rowCount() == 3)
        browser.select_row(1)
        chosen = c.grid.record_at(1)
        assert chosen is not None
        wait_for(qtbot, lambda: c.current is not None and c.current.id == chosen.id)
        names = [c.grid.record_at(r).original_filename for r in range(3)]  # type: ignore[union-attr]

        down[0] = True
        window.commands.refresh.trigger()  # F5
        wait_for(qtbot, lambda: failed[0] >= 2)  # the first try, and one asked again
        assert "listed by themselves" in window.status.currentMessage()
        assert browser.stack.currentWidget() is browser.grid  # not "cannot be listed"
        assert [c.grid.record_at(r).original_filename for r in range(3)] == names  # type: ignore[union-attr]
        assert browser.selected_ids() == [chosen.id]
        assert c.current is not None and c.current.id == chosen.id
        assert browser.total.text() == "3 files"
        assert _boxes() == [] and window.last_error == ""

        resets: list[int] = []
        c.grid.modelReset.connect(lambda: resets.append(1))
        down[0] = False  # back: the rows are the catalog's again, the selection kept
        wait_for(qtbot, lambda: window.status.currentMessage() == "")
        wait_for(qtbot, lambda: resets and not c.grid.loading and c.grid.rowCount() == 3)
        wait_for(qtbot, lambda: browser.selected_ids() == [chosen.id])
        assert c.current is not None and c.current.id == chosen.id


def test_a_file_gone_meanwhile_is_not_left_in_the_details_after_f5(
    qtbot: Any,
    library: Library,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    english: None,
) -> None:
    """The file shown was trashed elsewhere while its change did not reach this window (its
    change feed out with the catalog): the refreshed page no longer has it, nothing is
    selected, and the details panel showed it still."""
    monkeypatch.setattr(library_controller, "COUNTS_RETRY_FIRST", 150)
    photos = _photos(library, tmp_path / "photos", 3)
    down, failed = _listing_goes_down(library, monkeypatch)
    other = Library.open(library.settings)
    try:
        with shown_window(qtbot, library) as window:
            c, browser = window.controller, window.browser
            wait_for(qtbot, lambda: c.grid.rowCount() == 3)
            row = c.grid.row_of(photos[0].id)
            browser.select_row(row)
            wait_for(qtbot, lambda: c.current is not None and c.current.id == photos[0].id)
            c.live.changedTogether.disconnect(c._on_events)  # its change never comes
            down[0] = True
            window.commands.refresh.trigger()  # F5
            wait_for(qtbot, lambda: failed[0] >= 1 and not c.grid.loading)
            other.trash(photos[0].id)
            down[0] = False
            wait_for(qtbot, lambda: c.grid.rowCount() == 2 and not c.grid.loading)
            wait_for(qtbot, lambda: c.current is None)  # a selected file or none
            assert browser.selected_ids() == []
    finally:
        other.close()
