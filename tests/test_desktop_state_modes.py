"""Desktop: window-state.ini is owner-only. It remembers the folders the user picks in the
import and export dialogs (often named after an athlete or a client); Qt wrote it 0644 in a
0755 folder when the window was saved before any settings were."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.library import Library  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views import main_window  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from tests.modes import mode, umask  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402


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
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """And a folder picked in a dialog is saved by a worker, and the saved folders are read by
    one: the data folder may be on a slow disk, and the window stalled at the start, after each
    import and export and at each activation while the file was written or read."""
    on_gui_thread: list[bool] = []
    read_on_gui_thread: list[bool] = []
    save_state = main_window.save_state
    read_dialog_folders = main_window.read_dialog_folders

    def seen(*args: Any, **kwargs: Any) -> None:
        on_gui_thread.append(threading.current_thread() is threading.main_thread())
        save_state(*args, **kwargs)

    def read(state_file: Path) -> dict[str, str]:
        read_on_gui_thread.append(threading.current_thread() is threading.main_thread())
        return read_dialog_folders(state_file)

    monkeypatch.setattr(main_window, "save_state", seen)
    monkeypatch.setattr(main_window, "read_dialog_folders", read)
    install_translations("en")
    state = tmp_path / "config" / "MediaDesk" / "window-state.ini"
    window = MainWindow(library, state_file=state)
    qtbot.addWidget(window)
    try:
        window.remember_folder("export", tmp_path / "Maria Lopez")
        assert window.dialog_folder("export") == str(tmp_path / "Maria Lopez")  # at once
        wait_for(qtbot, lambda: state.is_file() and "Maria Lopez" in state.read_text())
        wait_for(qtbot, lambda: mode(state) == 0o600)  # made owner-only right after the write
        assert on_gui_thread == [False]
        assert mode(state.parent) == 0o700
        window.save_window_state()
        assert mode(state) == 0o600
        assert "Maria Lopez" in state.read_text()
        window.check_dialog_folders()  # as after a dialog, or when the window is activated
        wait_for(qtbot, lambda: len(read_on_gui_thread) >= 2)  # and the one at the start
        assert not any(read_on_gui_thread)
    finally:
        window.shutdown()


def test_a_state_folder_another_save_made_by_the_umask_is_closed_again(tmp_path: Path) -> None:
    """Two saves race (a worker's and the window's last): the other's sync() made the folder
    by the umask between this one's look and its mkdir, and it stayed 0755 (a CI-like run)."""
    state = tmp_path / "config" / "MediaDesk" / "window-state.ini"
    with umask(0o022):
        state.parent.mkdir(parents=True)  # as Qt's sync() makes it
    assert mode(state.parent) == 0o755
    main_window.save_state(state, {"dialogs/export": str(tmp_path)})
    assert mode(state.parent) == 0o700
    assert mode(state) == 0o600
