"""Settings the app could not start with, or could not apply, and keys that stopped working:
a data folder that cannot be used is refused at Save and, met at start-up, said in the user's
language naming where it is set; fields the environment sets are greyed out; Enter after F2
hands the keyboard back to the grid; Ctrl+Q quits from the preview window too."""

from __future__ import annotations

import os
import threading
import tomllib
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from core.errors import SettingsError  # noqa: E402
from core.library import Library  # noqa: E402
from core.paths import DataDirSource, DataPaths  # noqa: E402
from core.settings import Settings, load_settings  # noqa: E402
from desktop_app import app  # noqa: E402
from desktop_app.controllers.settings_controller import SettingsController  # noqa: E402
from desktop_app.errors import ErrorMessage, describe_error  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from desktop_app.views.settings_dialog import SettingsDialog  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402
from tests.test_desktop_keyboard import _focus_grid, _key, _rows, window  # noqa: E402, F401

TIMEOUT = 20000
Key = Qt.Key
PROC = Path("/proc/self").is_dir()


@pytest.fixture
def english(qapp):  # type: ignore[no-untyped-def]
    install_translations("en")
    yield
    install_translations("en")


def _dialog(qtbot, settings: Settings) -> SettingsDialog:  # type: ignore[no-untyped-def]
    dialog = SettingsDialog(SettingsController(settings))
    qtbot.addWidget(dialog)
    return dialog


def _unmakeable(tmp_path: Path) -> Path:
    """A folder no one can make: in /proc (root too), else under a file."""
    if PROC:
        return Path("/proc/mediadesk-nope/datos")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8")
    return photo / "datos"


# ---- 1. Save refuses a data folder that cannot be used ------------------------------------------
def test_save_refuses_a_data_folder_that_cannot_be_made(  # type: ignore[no-untyped-def]
    qtbot, english, settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings ▸ Data folder took /proc/nope/datos: "Settings saved. Restart…", data_dir in
    settings.toml, and the next start failed until the file was edited by hand. Save now makes
    the folder ready as the start would (DataPaths.ensure, in the worker) and refuses it."""
    checked_on: list[bool] = []
    ensure = DataPaths.ensure

    def spy(self: DataPaths) -> DataPaths:
        checked_on.append(threading.current_thread() is threading.main_thread())
        return ensure(self)

    monkeypatch.setattr(DataPaths, "ensure", spy)
    config = Path(settings.config_file)
    before = config.read_text() if config.exists() else None
    dialog = _dialog(qtbot, settings)
    bad = _unmakeable(tmp_path)
    failures: list[ErrorMessage] = []
    dialog.controller.saveFailed.connect(failures.append)
    shown: list[object] = []
    monkeypatch.setattr(
        "desktop_app.views.settings_dialog.open_warning", lambda *args: shown.append(args)
    )
    saved: list[object] = []
    dialog.controller.saved.connect(lambda *args: saved.append(args))
    dialog.data_dir.setText(str(bad))
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    wait_for(qtbot, lambda: bool(failures))
    assert not saved and dialog.result() != dialog.DialogCode.Accepted
    assert dialog.buttons.isEnabled() and shown
    assert (config.read_text() if config.exists() else None) == before
    assert checked_on == [False]  # on the worker, never the GUI thread
    text = failures[0].text
    assert text.startswith(f"The data folder {bad} cannot be used: ") and text.endswith(
        "Choose another folder."
    ), text
    assert "MEDIADESK_DATA_DIR" not in text and "settings file" not in text

    install_translations("es")
    spanish = _dialog(qtbot, settings)
    failures.clear()
    spanish.controller.saveFailed.connect(failures.append)
    spanish.data_dir.setText(str(bad))
    spanish.buttons.button(spanish.buttons.StandardButton.Save).click()
    wait_for(qtbot, lambda: bool(failures))
    assert failures[0].text.startswith(f"La carpeta de datos {bad} no se puede usar: ")
    assert failures[0].text.endswith("Elige otra carpeta."), failures[0].text


def test_save_makes_a_new_data_folder_and_writes_it(  # type: ignore[no-untyped-def]
    qtbot, english, settings: Settings, tmp_path: Path
) -> None:
    dialog = _dialog(qtbot, settings)
    folder = tmp_path / "new" / "datos"
    dialog.data_dir.setText(str(folder))
    with qtbot.waitSignal(dialog.controller.saved, timeout=TIMEOUT):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert (folder / "objects").is_dir()
    assert tomllib.loads(Path(settings.config_file).read_text())["data_dir"] == str(folder)


# ---- 2. the start-up error in the user's language, naming where the folder is set ------------
def _startup_text(exc: BaseException, monkeypatch: pytest.MonkeyPatch) -> str:
    texts: list[str] = []

    def exec_(box: QMessageBox) -> int:
        texts.append(box.informativeText())
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    app.show_startup_error("title", exc, "")
    return texts[0]


@pytest.mark.skipif(not PROC, reason="needs Linux's /proc: a folder even root cannot make")
def test_startup_error_for_a_data_folder_from_settings_toml_is_spanish_and_names_the_file(  # type: ignore[no-untyped-def]
    qapp, english, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Spanish dialog showed "The data folder … cannot be used: No such file or directory.
    Check --data-dir or MEDIADESK_DATA_DIR" for a folder settings.toml gave."""
    for name in ("MEDIADESK_DATA_DIR", "MEDIADESK_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "settings.toml"
    config.write_text('data_dir = "/proc/nope/datos"\n', encoding="utf-8")
    settings = load_settings(config_file=config)
    with pytest.raises(SettingsError) as caught:
        Library.open(settings)
    exc = caught.value
    assert str(exc).endswith(f"Check data_dir in {config}"), str(exc)  # core's English names it
    assert exc.details["source"] == "file" and exc.details["cause"] == "cannot_make"
    install_translations("es")
    text = _startup_text(exc, monkeypatch)
    assert text == (
        "La carpeta de datos /proc/nope/datos no se puede usar: no se puede crear "
        "/proc/nope/datos. Está indicada como data_dir en el archivo de ajustes "
        f"{config}: corrígela o borra esa línea."
    ), text


def test_startup_error_names_the_environment_or_the_flag(  # type: ignore[no-untyped-def]
    qapp, english, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8")
    monkeypatch.setenv("MEDIADESK_DATA_DIR", str(photo))
    monkeypatch.setenv("MEDIADESK_CONFIG_FILE", str(tmp_path / "settings.toml"))
    with pytest.raises(SettingsError) as from_env:
        load_settings()
    assert describe_error(from_env.value).text == (
        f"The data folder {photo} cannot be used: it is a file, not a folder. "
        "It is set by the environment variable MEDIADESK_DATA_DIR."
    )
    with pytest.raises(SettingsError) as from_flag:
        load_settings(data_dir=str(photo / "datos"))
    install_translations("es")
    assert _startup_text(from_flag.value, monkeypatch) == (
        f"La carpeta de datos {photo / 'datos'} no se puede usar: está dentro de {photo}, "
        "que es un archivo. Se indicó con --data-dir."
    )


# ---- 2b. `mediadesk --data-dir FOLDER`, the real command: the flag, not the environment -------
def _start_with(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> tuple[int, list[str]]:
    """desktop_app.cli.main as `mediadesk` runs it; the start-up dialog's text is kept."""
    from desktop_app import cli

    texts: list[str] = []

    def exec_(box: QMessageBox) -> int:
        texts.append(box.informativeText())
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    return cli.main(argv), texts


def test_startup_error_of_mediadesk_data_dir_names_the_flag(  # type: ignore[no-untyped-def]
    qapp, english, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """cli.main copied the flag into MEDIADESK_DATA_DIR: the dialog said "It is set by the
    environment variable MEDIADESK_DATA_DIR", a variable the user never set."""
    monkeypatch.delenv("MEDIADESK_DATA_DIR", raising=False)
    monkeypatch.setenv("MEDIADESK_CONFIG_FILE", str(tmp_path / "settings.toml"))
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(b"\xff\xd8")
    code, texts = _start_with(["--data-dir", str(photo)], monkeypatch)
    assert code == 2
    assert texts[0].startswith(
        f"The data folder {photo} cannot be used: it is a file, not a folder. "
        "It was given with --data-dir."
    ), texts
    assert "MEDIADESK_DATA_DIR" not in os.environ


def test_settings_pin_the_data_folder_of_mediadesk_data_dir_naming_the_flag(  # type: ignore[no-untyped-def]
    qtbot, english, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Started with --data-dir, Settings greyed the data folder out as "Set by
    MEDIADESK_DATA_DIR". It is pinned for this run (the flag wins at the next start too), and
    says so naming the flag, in English and Spanish; the other fields stay editable."""
    for name in ("MEDIADESK_DATA_DIR", "MEDIADESK_CONFIG_FILE", "MEDIADESK_LANGUAGE"):
        monkeypatch.delenv(name, raising=False)
    data = tmp_path / "datos"
    opened: list[Settings] = []

    def open_library(_qt_app, settings: Settings, _opener):  # type: ignore[no-untyped-def]
        opened.append(settings)
        raise RuntimeError("stop here: the window is not the point")

    monkeypatch.setattr(app, "open_library", open_library)
    code, _texts = _start_with(["--data-dir", str(data)], monkeypatch)
    assert code == 2 and "MEDIADESK_DATA_DIR" not in os.environ
    settings = opened[0]
    assert settings.data_dir == str(data)
    dialog = _dialog(qtbot, settings)
    assert not dialog.data_dir.isEnabled()
    assert dialog.data_dir.toolTip() == "Set by --data-dir"
    assert "MEDIADESK_DATA_DIR" not in dialog.env_note.text()
    assert "--data-dir" in dialog.env_note.text() and not dialog.env_note.isHidden()
    assert dialog.host.isEnabled() and dialog.language.isEnabled()
    values = dialog.controller.settings.to_toml_dict()
    assert "data_dir" not in dialog.controller.restart_needed({**values, "data_dir": "/x"})
    install_translations("es")
    spanish = _dialog(qtbot, settings)
    assert spanish.data_dir.toolTip() == "Fijado por --data-dir"
    assert "--data-dir" in spanish.env_note.text()
    assert "environment" not in spanish.env_note.text()


def test_a_secret_file_others_can_write_is_said_in_spanish_at_start(  # type: ignore[no-untyped-def]
    qapp, english, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A group/world-writable key in secrets/ blocks the start (core.secrets): the Spanish
    dialog said only "Un ajuste no es válido." with core's English sentence as the detail."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(mode=0o700)
    key = secrets / "r2_secret_access_key"
    key.write_text("x")
    key.chmod(0o666)
    monkeypatch.setenv("MEDIADESK_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("MEDIADESK_CONFIG_FILE", raising=False)
    code, texts = _start_with(["--language", "es"], monkeypatch)
    assert code == 2
    first = texts[0].split("\n")[0]
    assert first == (
        "El secreto «r2_secret_access_key» de la carpeta de secretos de la carpeta de datos "
        "puede ser modificado por otros usuarios, así que podría haber sido sustituido. "
        "Revísalo y luego restríngelo (chmod 600 para un archivo, 700 para la carpeta de "
        "secretos), o bórralo."
    ), texts
    assert str(key) in texts[0]  # the detail: where it is on this computer


# ---- 3. fields the environment sets ---------------------------------------------------------


def _not_from_the_flag(settings: Settings) -> Settings:
    """The `settings` fixture's folder is load_settings(data_dir=…)'s, as --data-dir gives it
    (pinned in Settings); these tests are about a start without the flag."""
    return settings.replace(data_dir_source=DataDirSource())


def test_fields_the_environment_sets_are_greyed_out_and_promise_no_restart(  # type: ignore[no-untyped-def]
    qtbot, english, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With MEDIADESK_LANGUAGE=es, choosing English said "restart to apply" and saved it, and
    after the restart the app was Spanish again (the environment wins); so for the port."""
    monkeypatch.setenv("MEDIADESK_LANGUAGE", "es")
    monkeypatch.setenv("MEDIADESK_PORT", "18249")
    settings = _not_from_the_flag(settings).replace(language="es", server_port=18249)
    dialog = _dialog(qtbot, settings)
    assert not dialog.language.isEnabled() and not dialog.port.isEnabled()
    assert dialog.language.toolTip() == "Set by MEDIADESK_LANGUAGE"
    assert dialog.port.toolTip() == "Set by MEDIADESK_PORT"
    assert dialog.host.isEnabled() and dialog.data_dir.isEnabled()
    assert "MEDIADESK_LANGUAGE" in dialog.env_note.text()
    assert "MEDIADESK_PORT" in dialog.env_note.text()
    dialog.language.setCurrentIndex(dialog.language.findData("en"))
    assert dialog.restart_note.text() == ""  # a restart would not apply it
    install_translations("es")
    spanish = _dialog(qtbot, settings)
    assert spanish.language.toolTip() == "Fijado por MEDIADESK_LANGUAGE"
    assert "MEDIADESK_PORT" in spanish.env_note.text()


def test_without_the_environment_every_field_can_be_changed(  # type: ignore[no-untyped-def]
    qtbot, english, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MEDIADESK_LANGUAGE", raising=False)
    monkeypatch.delenv("MEDIADESK_PORT", raising=False)
    dialog = _dialog(qtbot, _not_from_the_flag(settings))
    assert dialog.language.isEnabled() and dialog.port.isEnabled() and dialog.data_dir.isEnabled()
    assert dialog.env_note.text() == ""
    dialog.language.setCurrentIndex(dialog.language.findData("es"))
    assert "Restart" in dialog.restart_note.text()


# ---- 4. Enter after F2 goes back to the grid --------------------------------------------------
def _shown_id(window: MainWindow) -> int | None:  # noqa: F811
    record = window.details.record
    return record.id if record is not None else None


def test_enter_after_f2_saves_and_gives_the_arrows_back_to_the_grid(  # type: ignore[no-untyped-def]
    qtbot,
    window: MainWindow,  # noqa: F811
    library: Library,
) -> None:
    """F2, a name typed, Enter: the name was saved but the focus stayed in the name field, and
    the arrow keys moved its text cursor instead of the grid's selection (Esc went back)."""
    _rows(qtbot, window, 3)
    grid = _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    wait_for(qtbot, lambda: window.details.record is not None)
    first = window.details.record
    assert first is not None
    _key(qtbot, Key.Key_F2)
    wait_for(qtbot, window.details.filename.hasFocus)
    qtbot.keyClicks(window.details.filename, "renamed")
    _key(qtbot, Key.Key_Return)
    wait_for(qtbot, grid.hasFocus)
    wait_for(qtbot, lambda: library.get_file(first.id).original_filename.startswith("renamed"))
    _key(qtbot, Key.Key_Right)  # the grid's next file (all three are on one row)
    wait_for(qtbot, lambda: _shown_id(window) not in (None, first.id))


def test_enter_in_the_name_without_f2_keeps_the_focus_there(  # type: ignore[no-untyped-def]
    qtbot,
    window: MainWindow,  # noqa: F811
) -> None:
    _rows(qtbot, window, 2)
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    wait_for(qtbot, lambda: window.details.record is not None)
    name = window.details.filename
    name.setFocus()
    wait_for(qtbot, name.hasFocus)
    _key(qtbot, Key.Key_Return)
    qtbot.wait(200)
    assert name.hasFocus()


# ---- 5. Ctrl+Q from the preview ---------------------------------------------------------------
def test_ctrl_q_in_the_preview_triggers_the_main_windows_quit(  # type: ignore[no-untyped-def]
    qtbot,
    window: MainWindow,  # noqa: F811
) -> None:
    """The preview is a window of its own: the main window's Quit shortcut did not reach it."""
    quits: list[bool] = []
    window.commands.quit.triggered.disconnect(window.close)  # the fixture shuts it down
    window.commands.quit.triggered.connect(lambda *_: quits.append(True))
    _rows(qtbot, window, 1)
    _focus_grid(qtbot, window)
    _key(qtbot, Key.Key_Home)
    wait_for(qtbot, lambda: window.details.record is not None)
    _key(qtbot, Key.Key_Space)
    wait_for(qtbot, lambda: getattr(window, "preview_dialog", None) is not None)
    preview = window.preview_dialog
    preview.activateWindow()
    wait_for(qtbot, lambda: QApplication.activeWindow() is preview)
    _key(qtbot, Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
    wait_for(qtbot, lambda: quits == [True])
    preview.close()


def test_a_secret_file_of_another_user_names_it_and_the_fix(qapp, english) -> None:  # type: ignore[no-untyped-def]
    """The other refusal of core.secrets.check_private (owner not MediaDesk's user)."""
    exc = SettingsError(
        "Secret file /x/secrets/r2_link_key belongs to user id 7 …",
        reason="unsafe_permissions",
        details={"name": "r2_link_key", "owner": 7},
    )
    assert describe_error(exc).text.startswith(
        "The secret “r2_link_key” in the data folder's secrets folder belongs to another user"
    )
    install_translations("es")
    text = describe_error(exc).text
    assert text.startswith("El secreto «r2_link_key»") and "chown" in text and "chmod 600" in text
