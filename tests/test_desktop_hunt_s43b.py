"""Found by an outside tester driving the desktop app (session 43, second round); real
widgets, real catalog and media, no mocks of our own code."""

from __future__ import annotations

import os
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QApplication, QPushButton  # noqa: E402

from core.settings import Settings  # noqa: E402
from desktop_app.controllers.settings_controller import SettingsController  # noqa: E402
from desktop_app.views.storage_switch import MigrationProgress  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

LONG_NAME = "relay-" + "x" * 245 + ".jpg"  # 255 characters: the longest a file system takes


# -- 2. the storage move's window with a 255-character name -----------------------------------
def test_a_long_name_keeps_the_move_window_and_its_stop_button_on_screen(
    qtbot: Any, settings: Settings
) -> None:
    """The "Moving files" window grew to 1825 px on a 1600 px screen for a 255-character
    name, Stop off-screen; the name is now cut in the middle, whole in the tooltip."""
    controller = SettingsController(settings)
    progress = MigrationProgress(controller)
    qtbot.addWidget(progress)
    progress.show()
    qtbot.waitExposed(progress)
    width = progress.width()
    controller.migrationProgress.emit(1, 3, LONG_NAME)
    QApplication.processEvents()
    assert len(LONG_NAME) == 255
    assert progress.width() <= width, (progress.width(), width)
    assert progress.width() <= progress.screen().availableGeometry().width()
    stop = progress.findChild(QPushButton)
    assert stop is not None and stop.text() == "Stop"
    assert progress.rect().contains(stop.geometry())
    name_line = progress.labelText().splitlines()[1]
    assert "…" in name_line and name_line.startswith("relay-") and name_line.endswith(".jpg")
    assert progress.label.toolTip() == LONG_NAME
    controller.migrationProgress.emit(2, 3, "short.jpg")  # a short name stays whole
    assert progress.labelText().splitlines()[1] == "short.jpg"
