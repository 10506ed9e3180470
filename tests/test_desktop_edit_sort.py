"""Desktop: the sort box offers the last edit both ways (README: the grid sorts by "last edit"),
in English and Spanish, and a file edited under that order moves to its new place, still
selected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from tests import media  # noqa: E402
from tests.qt_helpers import TIMEOUT, shown_window, wait_for  # noqa: E402

LABELS = {
    "en": {"-updated_at": "Recent edits", "updated_at": "Oldest edits"},
    "es": {"-updated_at": "Edición: más reciente", "updated_at": "Edición: más antigua"},
}


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


def test_the_sort_box_offers_the_last_edit(qtbot: Any, library: Library, language: str) -> None:
    with shown_window(qtbot, library) as window:
        box = window.browser.sort
        offered = {box.itemData(i): box.itemText(i) for i in range(box.count())}
        for sort, label in LABELS[language].items():
            assert offered.get(sort) == label, (sort, offered)


def test_a_file_edited_under_the_last_edit_order_moves_there_still_selected(
    qtbot: Any, library: Library, tmp_path: Path
) -> None:
    ids = [
        library.uploads.ingest(
            media.make_jpeg(tmp_path / f"e{i}.jpg", size=(32, 24), color=(40 * i, 90, 200)),
            "image",
            original_filename=f"e{i}.jpg",
        ).id
        for i in range(4)
    ]
    with shown_window(qtbot, library) as window:
        grid, details = window.controller.grid, window.details
        box = window.browser.sort

        def names() -> list[str]:
            return [grid.record_at(r).original_filename for r in range(grid.rowCount())]

        def edit(file_id: int, text: str) -> None:
            window.browser.select_row(grid.row_of(file_id))
            wait_for(qtbot, lambda: details.record is not None and details.record.id == file_id)
            details.description.setPlainText(text)
            with qtbot.waitSignal(window.controller.saved, timeout=TIMEOUT):
                details.save_button.click()

        def selected() -> list[int]:
            return window.browser.selected_ids()

        box.setCurrentIndex(box.findData("-updated_at"))
        wait_for(
            qtbot, lambda: not grid.loading and names() == ["e3.jpg", "e2.jpg", "e1.jpg", "e0.jpg"]
        )
        edit(ids[1], "the final")  # the edit moves it to the top, selected
        wait_for(qtbot, lambda: names() == ["e1.jpg", "e3.jpg", "e2.jpg", "e0.jpg"])
        assert selected() == [ids[1]] and window.controller.current.id == ids[1]
        library.update_file(ids[0], {"description": "from elsewhere"})  # the HTTP API, a script
        wait_for(qtbot, lambda: names() == ["e0.jpg", "e1.jpg", "e3.jpg", "e2.jpg"])
        assert selected() == [ids[1]]

        box.setCurrentIndex(box.findData("updated_at"))  # least recently edited first
        wait_for(
            qtbot, lambda: not grid.loading and names() == ["e2.jpg", "e3.jpg", "e1.jpg", "e0.jpg"]
        )
        edit(ids[2], "seen again")  # to the end
        wait_for(qtbot, lambda: names() == ["e3.jpg", "e1.jpg", "e0.jpg", "e2.jpg"])
        assert selected() == [ids[2]]
        assert window.controller.sort == "updated_at"
