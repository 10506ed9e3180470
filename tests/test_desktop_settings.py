"""Settings dialog (connection test, save, restart notice), language choice, error messages."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QLocale  # noqa: E402

from core.errors import TooLarge, UnsupportedType  # noqa: E402
from core.settings import Settings  # noqa: E402
from desktop_app.controllers.settings_controller import SettingsController  # noqa: E402
from desktop_app.errors import error_text  # noqa: E402
from desktop_app.i18n import choose_language, install_translations  # noqa: E402
from desktop_app.views.settings_dialog import SettingsDialog  # noqa: E402

TIMEOUT = 20000


@pytest.fixture
def dialog(qtbot, settings: Settings) -> SettingsDialog:  # type: ignore[no-untyped-def]
    widget = SettingsDialog(SettingsController(settings))
    qtbot.addWidget(widget)
    return widget


def test_test_connection_reports_success_for_the_local_folder(qtbot, dialog) -> None:  # type: ignore[no-untyped-def]
    assert dialog.local_radio.isChecked()
    with qtbot.waitSignal(dialog.controller.testFinished, timeout=TIMEOUT) as done:
        dialog.test_button.click()
    assert done.args[0] is True
    assert dialog.test_result.text().startswith("✔ Connection works: local folder")


def test_test_connection_reports_the_exact_r2_failure(qtbot, dialog) -> None:  # type: ignore[no-untyped-def]
    dialog.r2_radio.setChecked(True)
    dialog.endpoint.setText("http://127.0.0.1:9")
    dialog.bucket.setText("media")
    dialog.access_key.setText("key")
    dialog.secret_key.setText("secret")
    with qtbot.waitSignal(dialog.controller.testFinished, timeout=TIMEOUT) as done:
        dialog.test_button.click()
    ok, text = done.args
    assert not ok
    assert text.startswith("The storage cannot be reached: ")
    assert "127.0.0.1:9" in text or "media" in text
    dialog.access_key.clear()  # partly configured: the settings themselves are refused
    with qtbot.waitSignal(dialog.controller.testFinished, timeout=TIMEOUT) as done:
        dialog.test_button.click()
    assert done.args[0] is False and "R2_ACCESS_KEY_ID" in done.args[1]


def test_test_connection_succeeds_against_an_s3_server(qtbot, dialog, s3_bucket) -> None:  # type: ignore[no-untyped-def]
    dialog.r2_radio.setChecked(True)
    dialog.endpoint.setText(s3_bucket.endpoint_url)
    dialog.bucket.setText(s3_bucket.bucket)
    dialog.access_key.setText(s3_bucket.access_key_id)
    dialog.secret_key.setText(s3_bucket.secret_access_key)
    dialog.region.setText("us-east-1")
    with qtbot.waitSignal(dialog.controller.testFinished, timeout=TIMEOUT) as done:
        dialog.test_button.click()
    assert done.args[0] is True, done.args[1]
    assert s3_bucket.bucket in done.args[1]


def test_save_writes_the_settings_file_and_says_when_to_restart(dialog, settings) -> None:  # type: ignore[no-untyped-def]
    assert dialog.restart_note.text() == ""
    dialog.max_size.setValue(250)
    dialog.port.setValue(9123)
    dialog.autostart.setChecked(False)
    assert dialog.restart_note.text() == ""  # limits and server apply without a restart
    dialog.language.setCurrentIndex(dialog.language.findData("es"))
    assert "Restart" in dialog.restart_note.text()
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    saved = tomllib.loads(Path(settings.config_file).read_text())
    assert saved["max_file_size"] == 250 * 1024 * 1024
    assert saved["server_port"] == 9123 and saved["server_autostart"] is False
    assert saved["language"] == "es"
    assert dialog.controller.settings.language == "es"


def test_language_follows_the_setting_then_the_system() -> None:
    assert choose_language("es", QLocale("en_US")) == "es"
    assert choose_language("", QLocale("es_AR")) == "es"
    assert choose_language("", QLocale("de_DE")) == "en"
    assert choose_language(None, QLocale("en_GB")) == "en"


def test_errors_are_readable_and_translated(qapp) -> None:  # type: ignore[no-untyped-def]
    exc = UnsupportedType("Unsupported file type (WAVE audio)")
    assert (
        error_text(exc) == "This type of file is not supported: Unsupported file type (WAVE audio)"
    )
    assert error_text(PermissionError(13, "Permission denied", "/x")).startswith("Permission")
    install_translations("es")
    try:
        assert error_text(TooLarge("limit")) == "El archivo es demasiado grande: limit"
    finally:
        install_translations("en")


def test_an_invalid_setting_at_start_up_is_shown_not_raised(
    qapp,
    monkeypatch: pytest.MonkeyPatch,
    tmp_data: Path,  # type: ignore[no-untyped-def]
) -> None:
    from desktop_app import app

    shown: list[tuple[str, BaseException, str]] = []
    monkeypatch.setattr(app, "show_startup_error", lambda *args: shown.append(args))
    monkeypatch.setenv("MAX_FILE_SIZE", "a lot")
    assert app.run_gui() == 2
    title, exc, path = shown[0]
    assert "setting is not valid" in title and "MAX_FILE_SIZE" in error_text(exc)
    assert path.endswith("settings.toml")
