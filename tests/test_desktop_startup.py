"""Start-up: the library opens in a thread behind a splash while the GUI thread keeps running."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from core.errors import StorageUnavailable
from core.library import Library
from core.records import Sort
from core.settings import Settings
from desktop_app.app import open_library, open_with_window_state


def test_library_opens_off_the_gui_thread(qtbot, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    opened_in: list[threading.Thread] = []
    ticks: list[int] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    release = threading.Event()
    QTimer.singleShot(200, release.set)  # only the GUI thread's event loop can release it

    def slow_open(s: Settings) -> Library:
        opened_in.append(threading.current_thread())
        assert release.wait(10), "the GUI thread stopped processing events"
        return Library.open(s)

    library = open_library(app, settings, slow_open)
    timer.stop()
    assert opened_in and opened_in[0] is not threading.main_thread()
    assert len(ticks) >= 5  # timers kept firing while the library opened
    assert Path(library.paths.database_file).is_file()
    library.close()


def test_open_errors_reach_the_caller(qtbot, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    def broken(_: Settings) -> Library:
        raise StorageUnavailable("bucket missing")

    with pytest.raises(StorageUnavailable, match="bucket missing"):
        open_library(QApplication.instance(), settings, broken)


def test_the_window_layout_is_read_behind_the_splash(  # type: ignore[no-untyped-def]
    qtbot, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """window-state.ini (size, docks, panes, sort) was read on the GUI thread as the window
    was made: with the data folder on a NAS or a USB disk each start waited for it. The app
    reads it with the library, behind the splash, and the window takes it as it is."""
    from desktop_app.views import main_window
    from desktop_app.views.main_window import MainWindow, save_state, window_state_file

    sort = Sort.NAME.value
    save_state(window_state_file(settings), {"browser/sort": sort, "window/details": False})
    read_in: list[threading.Thread] = []
    read_window_state = main_window.read_window_state

    def read(state_file: Path) -> dict[str, object]:
        read_in.append(threading.current_thread())
        return read_window_state(state_file)

    monkeypatch.setattr(main_window, "read_window_state", read)
    library, saved = open_library(QApplication.instance(), settings, open_with_window_state)
    try:
        assert read_in and read_in[0] is not threading.main_thread()
        window = MainWindow(library, saved_state=saved)
        qtbot.addWidget(window)
        assert read_in[1:] == []  # nothing read again as the window is made
        assert window.controller.sort == sort
        assert not window.commands.details_panel.isChecked()
        window.shutdown()
    finally:
        library.close()


def test_without_a_display_the_app_says_so_in_one_line(tmp_path: Path) -> None:
    """`make run` over SSH or on a server: Qt aborted (exit 134, a core dump) after advice that
    did not apply ("xcb-cursor0 is needed", "Reinstalling the application may fix this
    problem"). Now one line that says what is missing and offers `mediadesk serve`."""
    hidden = ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["MEDIADESK_DATA_DIR"] = str(tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", "import sys; from desktop_app.cli import main; sys.exit(main([]))"],
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "mediadesk: no display to open the window on (neither DISPLAY nor WAYLAND_DISPLAY is "
        "set): start it from a desktop session, or run 'mediadesk serve' for the server "
        "without a window\n"
    )
