"""The details panel's Athlete box with a long name: an outside tester saw "Maximiliano Alejandro
de los Santos Villaseñor Hernández-Cañizares" cut mid-letter, with no "…" and no tooltip, where
the sidebar ends the same name in "…". The box draws it shortened with "…" and its tooltip has
it whole; a name that fits has no tooltip."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt  # noqa: E402

from core.records import AthleteRecord  # noqa: E402
from desktop_app.views.details_panel import DetailsPanel  # noqa: E402

LONG = "Maximiliano Alejandro de los Santos Villaseñor Hernández-Cañizares"


def test_a_long_athlete_name_ends_in_an_ellipsis_with_the_name_in_the_tooltip(qtbot: Any) -> None:
    panel = DetailsPanel()
    qtbot.addWidget(panel)
    panel.set_athletes([AthleteRecord(id=1, name="Ana"), AthleteRecord(id=2, name=LONG)])
    panel.resize(320, 700)
    panel.stack.setCurrentIndex(1)  # the form, as for a file shown
    panel.show()
    qtbot.waitExposed(panel)
    combo = panel.athlete
    combo.setCurrentIndex(combo.findData(2))
    assert combo.fontMetrics().horizontalAdvance(LONG) > combo.width()  # it cannot fit
    assert combo.toolTip() == LONG
    shown = combo.shown_text()
    assert shown.endswith("…") and LONG.startswith(shown[:-1]) and len(shown) > 4
    # in the list too, whole in the item's tooltip
    assert combo.itemData(combo.findData(2), Qt.ItemDataRole.ToolTipRole) == LONG
    combo.grab()  # drawn as said (its paintEvent draws shown_text)
    # a name that fits is drawn whole, no tooltip needed
    combo.setCurrentIndex(combo.findData(1))
    assert combo.shown_text() == "Ana" and combo.toolTip() == ""
    # wide enough, the long name whole too
    panel.resize(combo.fontMetrics().horizontalAdvance(LONG) * 2, 700)
    qtbot.waitUntil(lambda: combo.fontMetrics().horizontalAdvance(LONG) < combo.width() - 60)
    combo.setCurrentIndex(combo.findData(2))
    assert combo.shown_text() == LONG and combo.toolTip() == ""
