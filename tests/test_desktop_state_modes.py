"""Desktop: window-state.ini is owner-only. It remembers the folders the user picks in the
import and export dialogs (often named after an athlete or a client); Qt wrote it 0644 in a
0755 folder when the window was saved before any settings were."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402


@pytest.fixture
def usual_umask() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


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
        assert _mode(state) == 0o600
        assert _mode(state.parent) == 0o700
        window.save_window_state()
        assert _mode(state) == 0o600
        assert "Maria Lopez" in state.read_text()
    finally:
        window.shutdown()
