"""Desktop: the sort box offers "Date taken" both ways, in English and Spanish, and the grid
follows it (photos shot in another order than they were uploaded)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from tests import media  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402

LABELS = {
    "en": {
        "-captured_at": "Shot: newest",
        "captured_at": "Shot: oldest",
    },
    "es": {
        "-captured_at": "Captura: más reciente",
        "captured_at": "Captura: más antigua",
    },
}


TIP = {"en": "By date taken: when each photo", "es": "Por fecha de captura: cuándo se tomó"}


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


def test_the_sort_box_offers_date_taken_and_the_grid_follows_it(
    qtbot: Any, library: Library, language: str, tmp_path: Path
) -> None:
    # uploaded in this order, shot in another
    for i, taken in enumerate(
        ("2026:03:29 10:00:01", "2026:03:29 10:00:02", "2026:03:29 10:00:00")
    ):
        library.uploads.ingest(
            media.make_jpeg(tmp_path / f"shot{i}.jpg", size=(64, 48), taken_at=taken),
            "image",
            original_filename=f"shot{i}.jpg",
        )
    with shown_window(qtbot, library) as window:
        box = window.browser.sort
        offered = {box.itemData(i): box.itemText(i) for i in range(box.count())}
        for sort, label in LABELS[language].items():
            assert offered.get(sort) == label, (sort, offered)
            tip = box.itemData(box.findData(sort), Qt.ItemDataRole.ToolTipRole)
            assert tip.startswith(TIP[language]), tip
        grid = window.controller.grid

        def names() -> list[str]:
            return [grid.record_at(r).original_filename for r in range(grid.rowCount())]

        wait_for(qtbot, lambda: grid.rowCount() == 3)
        assert names() == ["shot2.jpg", "shot1.jpg", "shot0.jpg"]  # newest upload first
        box.setCurrentIndex(box.findData("captured_at"))
        wait_for(
            qtbot,
            lambda: not grid.loading and names() == ["shot2.jpg", "shot0.jpg", "shot1.jpg"],
        )
        box.setCurrentIndex(box.findData("-captured_at"))
        wait_for(
            qtbot,
            lambda: not grid.loading and names() == ["shot1.jpg", "shot0.jpg", "shot2.jpg"],
        )
        assert window.controller.sort == "-captured_at"
