"""`mediadesk --language es`: the Settings window says why the window is in Spanish.

An outside tester started `mediadesk --language es`: the window was in Spanish, while Settings ▸
Interface language said "System language" and nothing said why, nor that the choice there applies
only when MediaDesk starts without --language. The field stays editable (a saved choice is the
one later starts without the flag use); a note names the flag, as for --data-dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from core.settings import Settings  # noqa: E402
from desktop_app.controllers.settings_controller import SettingsController  # noqa: E402
from desktop_app.i18n import (  # noqa: E402
    command_line_language,
    install_translations,
    set_command_line_language,
)
from desktop_app.views.settings_dialog import SettingsDialog  # noqa: E402

NOTE = {
    "en": "This window is in Spanish because MediaDesk was started with --language es. The "
    "language chosen here applies when MediaDesk starts without --language.",
    "es": "Esta ventana está en español porque MediaDesk se inició con --language es. El idioma "
    "elegido aquí se aplica cuando MediaDesk se inicia sin --language.",
}
SYSTEM = {"en": "System language", "es": "Idioma del sistema"}


@pytest.fixture(params=["en", "es"])
def language(request: pytest.FixtureRequest) -> Iterator[str]:
    """The window's language; `mediadesk --language es` is what the note explains in it."""
    install_translations(request.param)
    yield str(request.param)
    set_command_line_language(None)
    install_translations("en")


def _dialog(qtbot, settings: Settings) -> SettingsDialog:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(SettingsController(settings))
    qtbot.addWidget(dialog)
    return dialog


def test_the_language_flag_is_named_and_the_saved_choice_stays_editable(  # type: ignore[no-untyped-def]
    qtbot, settings: Settings, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEDIADESK_LANGUAGE", raising=False)
    set_command_line_language("es")
    dialog = _dialog(qtbot, settings)
    assert not dialog.env_note.isHidden()
    # (the tests' settings take their data folder as --data-dir does: that note comes first)
    assert dialog.env_note.text().split("\n")[-1] == NOTE[language]
    assert NOTE[language] in dialog.language.toolTip()
    # the saved choice (the system's language) is shown, and can still be changed and saved
    assert dialog.language.currentText() == SYSTEM[language]
    assert dialog.language.isEnabled()
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    assert dialog.values()["language"] == "en"


def test_without_the_flag_there_is_no_note(qtbot, settings: Settings, language: str) -> None:  # type: ignore[no-untyped-def]
    set_command_line_language(None)
    dialog = _dialog(qtbot, settings)
    assert "--language" not in dialog.env_note.text()
    assert dialog.language.toolTip() == ""


def test_the_flag_beside_a_language_the_environment_sets(  # type: ignore[no-untyped-def]
    qtbot, settings: Settings, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MEDIADESK_LANGUAGE greys the field out (it wins at every start); the flag beat it for this
    run, which the note says without promising the field anything."""
    monkeypatch.setenv("MEDIADESK_LANGUAGE", "en")
    set_command_line_language("es")
    dialog = _dialog(qtbot, settings)
    assert not dialog.language.isEnabled()
    lines = dialog.env_note.text().split("\n")
    assert "MEDIADESK_LANGUAGE" in lines[0]
    assert lines[-1] == NOTE[language].split(". ")[0] + "."


def test_only_a_language_shipped_is_kept() -> None:
    set_command_line_language("fr")
    assert command_line_language() == ""
    set_command_line_language("es")
    assert command_line_language() == "es"
    set_command_line_language(None)
    assert command_line_language() == ""


def test_mediadesk_language_reaches_the_window_for_its_run_only(  # type: ignore[no-untyped-def]
    qapp, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mediadesk --language es` as cli.main runs it, up to a start-up error (a secret others
    may write): the flag is known while the app runs, and forgotten once it has returned."""
    from PySide6.QtWidgets import QMessageBox

    from desktop_app import cli

    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    key = secrets / "r2_secret_access_key"
    key.write_text("x")
    key.chmod(0o666)
    monkeypatch.setenv("MEDIADESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MEDIADESK_CONFIG_FILE", raising=False)
    seen: list[str] = []

    def exec_(_box: QMessageBox) -> int:
        seen.append(command_line_language())
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    try:
        assert cli.main(["--language", "es"]) == 2
    finally:
        install_translations("en")
    assert seen == ["es"]
    assert command_line_language() == ""
