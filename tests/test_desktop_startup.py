"""Start-up: the library opens in a thread behind a splash while the GUI thread keeps running."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, QTimer
from PySide6.QtGui import QFontMetrics, QPalette
from PySide6.QtWidgets import QApplication

from core.errors import StorageUnavailable
from core.library import Library
from core.records import Sort
from core.settings import Settings
from desktop_app.app import open_library, open_with_window_state, splash_screen
from desktop_app.i18n import install_translations
from tests.media_fixtures import MediaSet


def test_library_opens_off_the_gui_thread(qtbot, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    opened_in: list[threading.Thread] = []
    ticks: list[int] = []
    timer = QTimer(interval=10)
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start()
    release = threading.Event()
    QTimer.singleShot(200, release.set)  # only the GUI thread's event loop can release it

    def slow_open(s: Settings, _upgrading: Callable[[], None]) -> Library:
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
    def broken(_: Settings, _upgrading: Callable[[], None]) -> Library:
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


def test_missing_r2_keys_open_the_window_with_a_bar_to_the_settings(  # type: ignore[no-untyped-def]
    qtbot, s3_settings: Settings, tmp_data: Path, media_dir: MediaSet
) -> None:
    """After `storage migrate --to r2` with the keys only in the environment, settings.toml
    says r2 and holds no keys: every start ended in "MediaDesk cannot start because a setting
    is not valid", and the keys could never be entered in Settings. Now the window opens on
    the catalog, files answer storage_unavailable, and a bar leads to Settings, where the keys
    entered are saved (the secret in the secret store) for the next start."""
    from core.settings import load_settings, save_settings
    from desktop_app.app import load_startup_settings
    from desktop_app.views.main_window import MainWindow

    on_r2 = s3_settings.replace(storage_backend="r2")
    with contextlib.closing(Library.open(on_r2)) as lib:
        record = lib.uploads.ingest(media_dir.jpeg, "image")
    r2_env = {
        "R2_ENDPOINT_URL": on_r2.r2_endpoint_url,
        "R2_BUCKET_NAME": on_r2.r2_bucket_name,
        "R2_ACCESS_KEY_ID": on_r2.r2_access_key_id,
        "R2_SECRET_ACCESS_KEY": on_r2.r2_secret_access_key,
    }
    save_settings(on_r2.replace(r2_region="auto"), on_r2.config_file, environ=r2_env)  # as migrate
    assert "r2_bucket_name" not in Path(on_r2.config_file).read_text()

    settings = load_startup_settings()
    assert settings.backend_name == "r2" and "R2_SECRET_ACCESS_KEY" in settings.storage_problem
    library, saved = open_library(QApplication.instance(), settings, open_with_window_state)
    try:
        window = MainWindow(library, saved_state=saved)
        qtbot.addWidget(window)
        window.show()
        qtbot.waitUntil(lambda: window.controller.grid.rowCount() == 1)  # browsable
        with pytest.raises(StorageUnavailable, match="R2_BUCKET_NAME"):
            library.open_object(record.storage_key, record)
        bar = window.storage_bar
        assert bar is not None and bar.isVisible()
        assert "R2_SECRET_ACCESS_KEY" in bar.label.text()
        bar.settings_button.click()
        dialog = window.settings_dialog
        qtbot.waitUntil(dialog.isVisible)
        assert dialog.r2_radio.isChecked() and dialog.focusWidget() is dialog.endpoint
        save = dialog.buttons.button(dialog.buttons.StandardButton.Save)
        with qtbot.waitSignal(window.settings_controller.saveFailed, timeout=20000):
            save.click()  # the form itself never saves R2 without its keys
        dialog.endpoint.setText(on_r2.r2_endpoint_url)
        dialog.bucket.setText(on_r2.r2_bucket_name)
        dialog.access_key.setText(on_r2.r2_access_key_id)
        dialog.secret_key.setText(on_r2.r2_secret_access_key)
        dialog.region.setText("us-east-1")
        with qtbot.waitSignal(window.settings_controller.saved, timeout=20000):
            save.click()
        assert "Restart MediaDesk" in bar.label.text()
        window.shutdown()
    finally:
        library.close()
    assert "r2_secret_access_key" not in Path(on_r2.config_file).read_text()
    again = load_settings()  # the next start: no R2_* in the environment, nothing missing
    assert again.storage_problem == "" and again.backend_name == "r2"
    with contextlib.closing(Library.open(again)) as lib:
        assert lib.open_object(record.storage_key, record).read_all()


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_splash_message_fits_the_splash(qtbot, language: str) -> None:  # type: ignore[no-untyped-def]
    """The 128 px logo alone left 118 px for "Opening the library…", which needs more in the
    default font: the message showed as "pening the library", on the logo's dark blue."""
    install_translations(language)
    try:
        splash = splash_screen(QCoreApplication.translate("Startup", "Opening the library…"))
        qtbot.addWidget(splash)
        message = splash.message()
        assert message.startswith("Abriendo" if language == "es" else "Opening"), message
        drawable = splash.pixmap().deviceIndependentSize().width() - 10  # Qt's 5 px margins
        needed = QFontMetrics(splash.font()).horizontalAdvance(message)
        assert needed <= drawable, (message, needed, drawable)
        # the message's row is the theme's window colour (its text colour contrasts), not the logo
        image = splash.pixmap().toImage()
        row = [image.pixelColor(x, image.height() - 3) for x in range(0, image.width(), 4)]
        window = splash.palette().color(QPalette.ColorRole.Window)
        assert all(c == window for c in row), {c.name() for c in row}
    finally:
        install_translations("en")
