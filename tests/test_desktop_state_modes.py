"""Desktop: window-state.ini is owner-only. It remembers the folders the user picks in the
import and export dialogs (often named after an athlete or a client); Qt wrote it 0644 in a
0755 folder when the window was saved before any settings were."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.modes import mode, umask  # noqa: E402


@pytest.fixture
def usual_umask() -> Iterator[None]:
    with umask(0o022):
        yield


@pytest.mark.skipif(os.name == "nt", reason="POSIX modes")
@pytest.mark.usefixtures("usual_umask")
def test_the_window_state_and_its_folder_are_owner_only(
    qtbot: Any,
    library: Library,
    tmp_path: Path,
) -> None:
    install_translations("en")
    state = tmp_path / "config" / "MediaDesk" / "window-state.ini"
    window = MainWindow(library, state_file=state)
    qtbot.addWidget(window)
    try:
        window.remember_folder("export", tmp_path / "Maria Lopez")
        assert mode(state) == 0o600
        assert mode(state.parent) == 0o700
        window.save_window_state()
        assert mode(state) == 0o600
        assert "Maria Lopez" in state.read_text()
    finally:
        window.shutdown()
