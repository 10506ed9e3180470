"""Desktop: status colours (success, error, warning) follow a live switch of the theme."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtGui import QColor, QPalette  # noqa: E402
from PySide6.QtWidgets import QApplication, QLabel  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers.settings_controller import SettingsController  # noqa: E402
from desktop_app.views.colors import status_color  # noqa: E402
from desktop_app.views.settings_dialog import SettingsDialog  # noqa: E402
from desktop_app.views.status_bar import MainStatusBar  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402


def _dark() -> QPalette:
    palette = QPalette()
    role = QPalette.ColorRole
    for name, colour in (
        (role.Window, "#2b2b2b"),
        (role.WindowText, "#eeeeee"),
        (role.Base, "#1e1e1e"),
        (role.Text, "#eeeeee"),
        (role.Button, "#3c3f41"),
        (role.ButtonText, "#eeeeee"),
    ):
        palette.setColor(name, QColor(colour))
    return palette


@pytest.fixture
def theme(qapp: Any) -> Iterator[QPalette]:
    """The application's palette as the test found it, put back after it."""
    light = QApplication.palette()
    assert light.color(QPalette.ColorRole.Window).lightnessF() >= 0.5
    yield light
    QApplication.setPalette(light)


def _text_colour(label: QLabel) -> str:
    return label.palette().color(label.foregroundRole()).name()


def test_status_colours_follow_a_live_theme_switch(
    qtbot: Any, library: Library, theme: QPalette
) -> None:
    """A theme switched to dark left the light theme's dark red, green and brown on the dark
    window (about 2:1) until the label's text was set again; and back, the reverse."""
    bar = MainStatusBar(library.settings)
    qtbot.addWidget(bar)
    dialog = SettingsDialog(SettingsController(library.settings))
    qtbot.addWidget(dialog)
    dialog._on_test(False, "no answer")
    bar.set_storage_warning(2, 1)
    bar.show()
    dialog.show()
    labels = {
        bar.storage_warning: "warning",
        dialog.restart_note: "warning",
        dialog.test_result: "error",
    }
    for label, tone in labels.items():
        assert _text_colour(label) == status_color(tone, theme).name()  # type: ignore[arg-type]
    dark = _dark()
    QApplication.setPalette(dark)
    for label, tone in labels.items():
        wanted = status_color(tone, dark).name()  # type: ignore[arg-type]
        assert wanted != status_color(tone, theme).name()  # type: ignore[arg-type]
        wait_for(qtbot, lambda: _text_colour(label) == wanted)  # noqa: B023 - waited here
    assert "font-weight: bold" in bar.storage_warning.styleSheet()  # kept with its colour
    QApplication.setPalette(theme)
    for label, tone in labels.items():
        wanted = status_color(tone, theme).name()  # type: ignore[arg-type]
        wait_for(qtbot, lambda: _text_colour(label) == wanted)  # noqa: B023 - waited here
    dialog._test()  # "Testing…" in the palette's own colour
    assert dialog.test_result.styleSheet() == ""
    QApplication.setPalette(dark)
    assert dialog.test_result.styleSheet() == ""
