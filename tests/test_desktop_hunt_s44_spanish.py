"""Found by an outside tester walking the desktop app in Spanish (session 44): what errors and
progress say; real widgets, a real library on a real SQLite data folder, the real embedded
server; no mocks of our code."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox  # noqa: E402

from core.library import Library  # noqa: E402
from core.settings import Settings  # noqa: E402
from desktop_app.controllers.settings_controller import SettingsController  # noqa: E402
from desktop_app.errors import listen_host_message  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from desktop_app.views.message_box import title_width  # noqa: E402
from desktop_app.views.storage_switch import MigrationProgress  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(params=["es", "en"])
def language(request: pytest.FixtureRequest, qapp: Any) -> Iterator[str]:
    install_translations(request.param)
    yield request.param
    install_translations("en")


@pytest.fixture
def spanish(qapp: Any) -> Iterator[str]:
    install_translations("es")
    yield "es"
    install_translations("en")


def _boxes() -> list[QMessageBox]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, QMessageBox) and w.isVisible()
    ]


# -- 2. a host name nobody has ---------------------------------------------------------------------
def _start_failed(qtbot: Any, window: MainWindow, host: str) -> str:
    panel = window.server_panel
    panel.host.setText(host)
    panel.port.setValue(0)
    panel.toggle.click()
    wait_for(qtbot, lambda: window.server.last_error is not None)
    for box in _boxes():  # the window's own warning
        box.close()
    return panel.state.text()


def test_a_host_name_no_computer_has_is_named_in_the_windows_language(
    qtbot: Any, library: Library, language: str
) -> None:
    """campo.invalid: "The server could not start. A file or network operation failed.", its
    reason ("Name or service not known") only in the English tooltip."""
    window = MainWindow(library)
    qtbot.addWidget(window)
    try:
        said = _start_failed(qtbot, window, "campo.invalid")
    finally:
        window.shutdown()
    if language == "es":
        assert said == (
            "El servidor no pudo arrancar. No se encuentra ningún ordenador llamado "
            "«campo.invalid». Revisa cómo está escrito o escribe una dirección IP como "
            "127.0.0.1 (solo este ordenador) o 0.0.0.0 (la red)."
        ), said
    else:
        assert said == (
            "The server could not start. No computer named “campo.invalid” can be found. "
            "Check how it is written, or enter an IP address such as 127.0.0.1 (this computer "
            "only) or 0.0.0.0 (the network)."
        ), said


def test_a_name_server_that_does_not_answer_is_said_so(spanish: str) -> None:
    """EAI_AGAIN (no network, a name server down) is not "no such name"."""
    again = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    message = listen_host_message(again, "campo.example")
    assert message is not None
    assert message.text.startswith(
        "No se pudo buscar el nombre «campo.example»: el servidor de nombres de la red no responde."
    ), message.text
    assert message.technical() == (
        "Detalle técnico (en inglés): Temporary failure in name resolution"
    )
    assert listen_host_message(OSError(98, "Address already in use"), "x") is None


# -- 3. an address typed shortened -----------------------------------------------------------------
def test_a_shortened_address_typed_in_the_panel_is_said_and_logged_without_a_traceback(
    qtbot: Any, library: Library, language: str, caplog: pytest.LogCaptureFixture
) -> None:
    """127.1: "A setting is not valid.", a tooltip naming `Setting MEDIADESK_HOST` (typed in the
    panel, never set) and a traceback in the log for a typing mistake."""
    window = MainWindow(library)
    qtbot.addWidget(window)
    caplog.set_level(logging.WARNING, logger="desktop_app.controllers.server_controller")
    try:
        said = _start_failed(qtbot, window, "127.1")
        tip = window.server_panel.state.toolTip()
    finally:
        window.shutdown()
    if language == "es":
        assert said == (
            "El servidor no pudo arrancar. «127.1» no es una dirección válida: es una dirección "
            "IP a la que le faltan números, que se leería como 127.0.0.1. Escríbela completa, "
            "como 127.0.0.1, o escribe un nombre de equipo."
        ), said
    else:
        assert said == (
            "The server could not start. “127.1” is not a valid address: it is an IP address "
            "with numbers left out, which would be read as 127.0.0.1. Write it in full, like "
            "127.0.0.1, or enter a host name."
        ), said
    assert "MEDIADESK_HOST" not in tip and "Setting" not in tip, tip
    [record] = [r for r in caplog.records if "embedded server" in r.getMessage()]
    assert record.exc_info is None
    assert record.getMessage().startswith("The embedded server cannot listen on 127.1:0: '127.1'")


def test_an_address_that_is_no_address_says_what_is_expected(
    qtbot: Any, library: Library, spanish: str
) -> None:
    window = MainWindow(library)
    qtbot.addWidget(window)
    try:
        numbers = _start_failed(qtbot, window, "999.1.1.1")
        window.server.last_error = None
        name = _start_failed(qtbot, window, "no..vale")
    finally:
        window.shutdown()
    assert numbers == (
        "El servidor no pudo arrancar. «999.1.1.1» no es una dirección válida: una dirección "
        "IP son cuatro números del 0 al 255, como 127.0.0.1. Escribe una así o un nombre de "
        "equipo."
    ), numbers
    assert name.startswith(
        "El servidor no pudo arrancar. «no..vale» no es una dirección válida: escribe una "
        "dirección IP como 127.0.0.1 o un nombre de equipo"
    ), name


# -- 6a. an empty file name's box ------------------------------------------------------------------
def test_an_empty_name_refused_has_a_title_and_a_labelled_detail(
    qtbot: Any, library: Library, media_dir: MediaSet, spanish: str
) -> None:
    """F2, the name cleared, Enter: a box titled only "MediaDesk" whose details showed core's
    "original_filename cannot be empty, …" bare, unlike every other technical detail."""
    record = library.uploads.ingest(media_dir.jpeg, "image")
    with shown_window(qtbot, library) as window:
        grid, details = window.controller.grid, window.details
        wait_for(qtbot, lambda: grid.rowCount() == 1)
        window.browser.select_row(grid.row_of(record.id))
        wait_for(qtbot, lambda: details.record is not None and details.record.id == record.id)
        window.activateWindow()
        window.commands.rename.trigger()  # F2
        wait_for(qtbot, details.filename.hasFocus)
        qtbot.keyClick(details.filename, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClick(details.filename, Qt.Key.Key_Backspace)
        assert details.filename.text() == ""
        qtbot.keyClick(details.filename, Qt.Key.Key_Return)
        wait_for(qtbot, lambda: bool(_boxes()))
        [box] = _boxes()
        title, text, detail = box.windowTitle(), box.text(), box.detailedText()
        # as wide as its title with the app's name: "No se guardaron l… bios — MediaDesk"
        assert box.width() >= title_width(title, box.font()), (box.width(), title)
        box.close()
    assert title == "Cambios no guardados", title
    assert text == "El nombre del archivo no puede estar vacío.", text
    assert detail == (
        "Detalle técnico (en inglés): original_filename cannot be empty, nor only dots, spaces "
        "or slashes"
    ), detail
    assert library.get_file(record.id).original_filename == record.original_filename


# -- 6b. a duplicate of no athlete's ---------------------------------------------------------------
def test_a_duplicate_without_an_athlete_is_not_said_to_be_an_athletes(
    qtbot: Any, library: Library, media_dir: MediaSet, language: str
) -> None:
    """The athlete set to "(none)" where a copy without an athlete exists: the refusal said
    "… for this athlete with this visibility …", though no athlete was chosen."""
    ana = library.create_athlete("Ana")
    nobodys = library.uploads.ingest(media_dir.png, "image")
    anas = library.uploads.ingest(media_dir.png, "image", athlete_id=ana.id)
    with shown_window(qtbot, library) as window:
        grid, details = window.controller.grid, window.details
        wait_for(qtbot, lambda: grid.rowCount() == 2)
        window.browser.select_row(grid.row_of(anas.id))
        wait_for(qtbot, lambda: details.record is not None and details.record.id == anas.id)
        details.athlete.setCurrentIndex(0)  # (none)
        assert details.athlete.currentData() is None
        assert details.dirty and details.request_save()
        wait_for(qtbot, lambda: bool(window.last_error))
        said = window.last_error
        for box in _boxes():
            box.close()
    name = nobodys.original_filename
    if language == "es":
        assert said == (
            "Otro archivo sin deportista ya contiene la misma foto o vídeo con esta "
            f"visibilidad, «{name}» (archivo {nobodys.id}): no se ha cambiado nada."
        ), said
    else:
        assert said == (
            "Another file without an athlete already holds the same photo or video with this "
            f"visibility, “{name}” (file {nobodys.id}): nothing was changed."
        ), said
    assert library.get_file(anas.id).athlete_id == ana.id


# -- 6c. what the numbers of the storage move's last phase count -----------------------------------
def test_the_old_copies_phase_says_what_its_numbers_count(
    qtbot: Any, settings: Settings, language: str
) -> None:
    """ "Eliminando las copias antiguas… (quedan 8, 60 s)": 8 what, 60 s until what?"""
    controller = SettingsController(settings)
    progress = MigrationProgress(controller)
    qtbot.addWidget(progress)
    controller.migrationProgress.emit(8, 8, "a.jpg")
    controller.migrationRemoving.emit(8, 60)
    many = progress.labelText().splitlines()[1]
    controller.migrationRemoving.emit(1, 5)
    one = progress.labelText().splitlines()[1]
    if language == "es":
        assert many == "Eliminando las copias antiguas… quedan 8 copias; se borrarán todas en 60 s"
        assert one == "Eliminando las copias antiguas… queda 1 copia; se borrará en 5 s"
    else:
        assert many == "Removing the old copies… 8 copies left; all removed in 60 s"
        assert one == "Removing the old copies… 1 copy left; removed in 5 s"
