"""Two desktops adding the same athlete name at once: the one that loses is told so (reason
athlete_exists, e603a2f) and gets the existing athlete of that name selected in the sidebar
(where uploads are filed); no athlete was chosen."""

from __future__ import annotations

from typing import Any

import pytest

from core.library import Library
from desktop_app.errors import ErrorMessage
from desktop_app.views import main_window as main_window_module
from tests.qt_helpers import shown_window, wait_for
from tests.test_catalog_disk_gone import english  # noqa: F401  (a fixture)

pytestmark = pytest.mark.timeout(120)


def test_the_loser_of_a_new_athlete_race_gets_the_existing_one_selected(
    qtbot: Any,
    library: Library,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    english: None,  # noqa: F811
) -> None:
    other = Library.open(settings)  # the other desktop, whose click came first
    try:
        with shown_window(qtbot, library) as window:
            shown: list[ErrorMessage | str] = []
            monkeypatch.setattr(window, "show_error", shown.append)
            monkeypatch.setattr(
                main_window_module, "ask_text", lambda *_args, **_kw: ("Marco Ruiz", True)
            )
            winner = other.create_athlete("Marco Ruiz")
            window.new_athlete()
            wait_for(qtbot, lambda: bool(shown))
            assert [str(m) for m in shown] == [
                "An athlete named “Marco Ruiz” already exists. Choose another name."
            ]
            wait_for(qtbot, lambda: window.controller.upload_athlete_id == winner.id)
            assert window.controller.filter.athlete_id == winner.id
            index = window.sidebar.currentIndex()
            assert index == window.controller.sidebar.index_of(f"athlete:{winner.id}")
    finally:
        other.close()
