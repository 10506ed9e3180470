"""Settings ▸ Storage: switching backend with files on the old one asks Move / Keep, and Move
runs the verified background migration with progress."""

from __future__ import annotations

import sqlite3
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QApplication, QProgressBar  # noqa: E402

from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from core.settings import Settings, save_settings  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from desktop_app.views.settings_dialog import SettingsDialog  # noqa: E402
from desktop_app.views.storage_switch import StorageSwitchDialog  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import wait_for

TIMEOUT = 30000


@pytest.fixture
def local_settings(s3_settings: Settings) -> Settings:
    settings = s3_settings.replace(storage_backend="local")
    save_settings(settings, settings.config_file)
    return settings


@pytest.fixture
def lib(local_settings: Settings) -> Iterator[Library]:
    library = Library.open(local_settings)
    yield library
    library.close()


@pytest.fixture
def files(lib: Library, media_dir: MediaSet) -> list[FileRecord]:
    return [lib.uploads.ingest(media_dir.jpeg, "image"), lib.uploads.ingest(media_dir.png, "image")]


@pytest.fixture
def window(qtbot, lib: Library, files) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    win = MainWindow(lib, page_size=50)
    qtbot.addWidget(win)
    yield win
    win.shutdown()


def _backends(settings: Settings) -> dict[int, str]:
    db = sqlite3.connect(settings.paths.database_file)
    try:
        return dict(db.execute("SELECT id, storage_backend FROM media_files").fetchall())
    finally:
        db.close()


def _switch_to_r2(qtbot, window: MainWindow) -> StorageSwitchDialog:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(window.settings_controller, window)
    qtbot.addWidget(dialog)
    assert dialog.local_radio.isChecked() and dialog.bucket.text()  # credentials were kept
    dialog.r2_radio.setChecked(True)
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    wait_for(qtbot, lambda: getattr(dialog, "switch_dialog", None) is not None, timeout=TIMEOUT)
    window._test_dialog = dialog  # type: ignore[attr-defined]
    return dialog.switch_dialog


def test_move_copies_verifies_and_switches_every_file(
    qtbot, window: MainWindow, lib: Library, local_settings: Settings, files: list[FileRecord]
) -> None:  # type: ignore[no-untyped-def]
    ask = _switch_to_r2(qtbot, window)
    assert "2 file" in ask.intro.text() and "Cloudflare R2" in ask.intro.text()
    assert ask.move_files.isChecked()  # the recommended answer is the default
    with qtbot.waitSignal(window.settings_controller.migrationFinished, timeout=TIMEOUT) as done:
        ask.accept()
    complete, moved, failed, error = done.args
    assert (complete, moved, failed, error) == (True, 2, 0, "")
    assert set(_backends(local_settings).values()) == {"r2"}
    saved = tomllib.loads(Path(local_settings.config_file).read_text(encoding="utf-8"))
    assert saved["storage_backend"] == "r2"
    assert "r2_secret_access_key" not in saved
    for record in files:  # readable right away, before any restart
        assert b"".join(lib.open_range(lib.get_file(record.id), 0, None))
        assert not (local_settings.paths.objects_dir / record.storage_key).exists()
    progress = [
        w for w in QApplication.topLevelWidgets() if w.objectName() == "storage-migration-progress"
    ]
    assert progress and "2" in progress[0].labelText()
    bar = progress[0].findChild(QProgressBar)
    assert bar is not None and bar.text() == "100 %"  # spaced as every percentage of the app


def test_keep_moves_nothing_and_old_files_stay_readable(
    qtbot, window: MainWindow, lib: Library, local_settings: Settings, files: list[FileRecord]
) -> None:  # type: ignore[no-untyped-def]
    ask = _switch_to_r2(qtbot, window)
    ask.keep_files.setChecked(True)
    with qtbot.waitSignal(window.settings_controller.saved, timeout=TIMEOUT):
        ask.accept()
    assert set(_backends(local_settings).values()) == {"local"}
    assert window.settings_controller.settings.backend_name == "r2"
    restarted = Library.open(window.settings_controller.settings)
    try:
        for record in files:
            assert b"".join(restarted.open_range(restarted.get_file(record.id), 0, None))
    finally:
        restarted.close()


def test_cancel_saves_nothing(qtbot, window: MainWindow, local_settings: Settings) -> None:  # type: ignore[no-untyped-def]
    before = Path(local_settings.config_file).read_text(encoding="utf-8")
    ask = _switch_to_r2(qtbot, window)
    ask.reject()
    qtbot.wait(200)
    assert window._test_dialog.buttons.isEnabled()  # type: ignore[attr-defined]
    assert Path(local_settings.config_file).read_text(encoding="utf-8") == before
    assert window.settings_controller.settings.backend_name == "local"
