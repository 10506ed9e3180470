"""Settings dialog (connection test, save, restart notice), language choice, error messages."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QLocale  # noqa: E402

from core.errors import (  # noqa: E402
    Conflict,
    InvalidInput,
    MediaDeskError,
    StorageUnavailable,
    TooLarge,
    UnsupportedType,
    no_space,
)
from core.mediatypes import sniff_bytes  # noqa: E402
from core.settings import Settings  # noqa: E402
from desktop_app.controllers.settings_controller import SettingsController  # noqa: E402
from desktop_app.errors import describe_error, error_text  # noqa: E402
from desktop_app.i18n import choose_language, install_translations  # noqa: E402
from desktop_app.views.settings_dialog import SettingsDialog  # noqa: E402
from tests.media import make_jpeg  # noqa: E402

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


def test_the_keyboard_stays_on_test_connection(qtbot, dialog) -> None:  # type: ignore[no-untyped-def]
    """The button is disabled while the test runs: Qt gave the focus to the next field,
    Maximum file size, its text selected, and it stayed there after the answer."""
    from PySide6.QtWidgets import QApplication

    dialog.show()
    dialog.activateWindow()
    qtbot.waitExposed(dialog)
    dialog.test_button.setFocus()
    qtbot.waitUntil(lambda: QApplication.focusWidget() is dialog.test_button)
    with qtbot.waitSignal(dialog.controller.testFinished, timeout=TIMEOUT):
        dialog.test_button.click()
    qtbot.waitUntil(lambda: dialog.test_button.isEnabled())
    assert QApplication.focusWidget() is dialog.test_button, QApplication.focusWidget()
    assert not dialog.max_size.lineEdit().hasSelectedText()


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
    assert text.startswith("The endpoint cannot be reached.")  # not "the bucket is missing"
    assert "127.0.0.1:9" in text or "media" in text
    dialog.access_key.clear()  # partly configured: the settings themselves are refused
    with qtbot.waitSignal(dialog.controller.testFinished, timeout=TIMEOUT) as done:
        dialog.test_button.click()
    assert done.args[0] is False and "R2_ACCESS_KEY_ID" in done.args[1]


def test_the_r2_fields_keep_their_height_when_the_form_is_switched(qtbot, dialog) -> None:  # type: ignore[no-untyped-def]
    # Qt's minimum size leaves out the wrapped hint's extra line: switched to R2, the dialog
    # stayed short and its six fields overlapped, the Region field cut off at the bottom.
    from PySide6.QtWidgets import QDialogButtonBox

    dialog.show()
    qtbot.waitExposed(dialog)
    for _ in range(2):
        dialog.r2_radio.setChecked(True)
        qtbot.wait(50)
        fields = [dialog.endpoint, dialog.bucket, dialog.access_key]
        fields += [dialog.secret_key, dialog.public_domain, dialog.region]
        for upper, lower in zip(fields, fields[1:], strict=False):
            assert upper.geometry().bottom() < lower.geometry().top()
        assert dialog.r2_page.height() >= dialog.r2_page.minimumSizeHint().height()
        # On a short screen (1024×768; offscreen's is 800 px) the form scrolls: Save stays on it
        save = dialog.buttons.button(QDialogButtonBox.StandardButton.Save)
        bottom = save.mapToGlobal(save.rect().bottomLeft()).y()
        assert bottom <= dialog.screen().availableGeometry().bottom()
        dialog.resize(dialog.width(), 100)  # nor can the user squash it
        qtbot.wait(50)
        assert dialog.r2_page.height() >= dialog.r2_page.minimumSizeHint().height()
        dialog.local_radio.setChecked(True)
        qtbot.wait(50)


def test_a_long_test_result_is_cut_whole_lines_with_an_ellipsis(qtbot, dialog) -> None:  # type: ignore[no-untyped-def]
    # A cause with a URL ran to five lines in a four-line box: the fifth showed cut through.
    dialog.show()
    qtbot.waitExposed(dialog)
    label = dialog.test_result
    cause = 'Could not connect to the endpoint URL: "http://127.0.0.1:9/media?list-type=2" ' * 4
    dialog._on_test(False, "The endpoint cannot be reached.\nTechnical detail: " + cause)
    assert label.heightForWidth(label.width()) <= label.height()
    assert label.text().endswith("…")
    assert label.toolTip().endswith(cause)  # all of it, on demand
    dialog._on_test(True, "Connection works: local folder /tmp/x")
    assert label.text() == "✔ Connection works: local folder /tmp/x"


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


def test_save_writes_the_settings_file_and_says_when_to_restart(qtbot, dialog, settings) -> None:  # type: ignore[no-untyped-def]
    assert dialog.restart_note.text() == ""
    dialog.max_size.setValue(250)
    dialog.port.setValue(9123)
    dialog.autostart.setChecked(False)
    assert dialog.restart_note.text() == ""  # limits and server apply without a restart
    dialog.language.setCurrentIndex(dialog.language.findData("es"))
    assert "Restart" in dialog.restart_note.text()
    with qtbot.waitSignal(dialog.controller.saved, timeout=TIMEOUT):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert dialog.result() == dialog.DialogCode.Accepted
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


def test_errors_are_full_sentences_with_the_detail_kept(qapp) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UnsupportedType) as info:  # core's own error, with its details
        sniff_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32))
    wav = info.value
    message = describe_error(wav)
    assert message.text == (
        "This type of file (WAV) is not supported. This library accepts "
        "JPEG, PNG, WebP, GIF, MP4, AVI, MOV, WMV, WebM, MPEG-TS files."
    )
    # the types this library's ALLOWED_* settings accept, not every type MediaDesk knows
    with pytest.raises(UnsupportedType) as narrow:
        sniff_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32), ["image/jpeg", "video/mp4"])
    assert describe_error(narrow.value).text.endswith("This library accepts JPEG, MP4 files.")
    assert message.detail == wav.message and error_text(wav) == message.text  # detail on demand
    limit = TooLarge("larger than 104857600 bytes", details={"max_size": 100 * 1024 * 1024})
    assert describe_error(limit).text.startswith("The file is larger than the limit of 100 MiB.")
    down = StorageUnavailable("Cannot write 'a/b.jpg': No space left on device")
    assert error_text(down) == (  # the cause is the point: a second line, labelled as core's
        "The storage cannot be reached. Check the connection and the storage settings.\n"
        "Technical detail: Cannot write 'a/b.jpg': No space left on device"
    )
    denied = describe_error(PermissionError(13, "Permission denied", "/x"))
    assert denied.text == "MediaDesk is not allowed to use /x." and denied.detail
    assert error_text(RuntimeError("boom")).startswith("Something unexpected went wrong.")


def test_sentences_follow_the_reason_not_the_english_text(qapp, library, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # The same English words without a reason get the generic sentence: no text matching.
    words = Conflict("The file was changed by someone else; reload and try again")
    assert not describe_error(words).text.startswith("Someone else changed this file")
    record = library.uploads.ingest(make_jpeg(tmp_path / "a.jpg"), "image")
    with pytest.raises(Conflict) as stale:
        library.update_file(record.id, {"description": "x"}, expected_version=record.version + 5)
    assert describe_error(stale.value).text.startswith("Someone else changed this file")
    library.trash(record.id)
    with pytest.raises(Conflict) as twice:
        library.trash(record.id)
    assert describe_error(twice.value).text == "The file is already in the trash."
    with pytest.raises(InvalidInput) as empty:
        library.update_file(record.id, {"original_filename": "  "})
    assert describe_error(empty.value).text == "The file name cannot be empty."


def test_every_error_code_reads_in_spanish(qapp) -> None:  # type: ignore[no-untyped-def]
    codes, todo = [], list(MediaDeskError.__subclasses__())
    while todo:  # every error class, not only the direct ones (offset_mismatch, …)
        cls = todo.pop()
        codes.append(cls)
        todo.extend(cls.__subclasses__())

    def made(cls: type[MediaDeskError]) -> MediaDeskError:
        try:
            return cls("detail")
        except TypeError:  # StorageNotAsked and the like name what they carry
            return cls("detail", retry_after=1)  # type: ignore[call-arg]

    english = {cls.code: describe_error(made(cls)).text for cls in codes}
    install_translations("es")
    try:
        with pytest.raises(UnsupportedType) as info:
            sniff_bytes(b"just some text, not a photo")
        wav = info.value
        message = describe_error(wav)
        assert message.text.startswith("Este archivo no es una imagen ni un vídeo de un tipo que")
        assert message.detail == wav.message  # the English detail stays available
        limit = TooLarge("too large", details={"max_size": 250 * 1024 * 1024})
        assert describe_error(limit).text == (
            "El archivo supera el límite de 250 MiB. Puedes subir el límite en Ajustes ▸ Límites."
        )
        conflict = describe_error(Conflict("any words", reason="stale_version"))
        assert conflict.text.startswith("Otra persona cambió este archivo mientras lo editabas")
        for cls in codes:
            spanish = describe_error(made(cls)).text
            assert spanish and spanish != english[cls.code], cls.code
    finally:
        install_translations("en")


def test_a_refused_type_is_named_by_its_extension_in_both_languages(qapp) -> None:  # type: ignore[no-untyped-def]
    """A PDF was refused "Este tipo de archivo (Adobe Portable Document Format file) no es
    compatible": libmagic's English description inside the Spanish sentence."""
    with pytest.raises(UnsupportedType) as pdf:
        sniff_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n")
    assert pdf.value.details["found_extension"] == "pdf"
    assert pdf.value.details["found_mime"] == "application/pdf"
    assert "Adobe Portable Document Format" in pdf.value.message  # the English detail stays
    with pytest.raises(UnsupportedType) as heif:  # told from its ISO BMFF brand
        sniff_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(16))
    assert describe_error(pdf.value).text.startswith("This type of file (PDF) is not supported.")
    install_translations("es")
    try:
        assert describe_error(pdf.value).text.startswith(
            "Este tipo de archivo (PDF) no es compatible."
        )
        assert describe_error(heif.value).text.startswith(
            "Este tipo de archivo (HEIC) no es compatible."
        )
    finally:
        install_translations("en")


def test_a_missing_bucket_reads_as_a_set_up_fault_in_both_languages(qapp) -> None:  # type: ignore[no-untyped-def]
    """A stream, preview or upload on a bucket deleted or misnamed said "The storage cannot be
    reached. Check the connection", as for an outage."""
    from core.storage.s3 import bucket_missing

    missing = bucket_missing("media", "https://acct.r2.cloudflarestorage.com")
    assert error_text(missing) == (  # which bucket, at which endpoint: the second line
        "The storage bucket does not exist: it was deleted, or its name is wrong in the storage "
        "settings. Check the bucket name in Settings ▸ Storage.\n"
        "Technical detail: Bucket 'media' does not exist at https://acct.r2.cloudflarestorage.com"
    )
    unreachable = StorageUnavailable("no answer", reason="endpoint_unreachable")
    assert describe_error(unreachable).text.startswith("The storage cannot be reached.")
    install_translations("es")
    try:
        assert describe_error(missing).text == (
            "El bucket del almacenamiento no existe: se borró o su nombre está mal en los ajustes "
            "de almacenamiento. Revisa el nombre del bucket en Ajustes ▸ Almacenamiento."
        )
    finally:
        install_translations("en")


def test_a_second_storage_move_says_another_one_is_running(qapp, s3_settings) -> None:  # type: ignore[no-untyped-def]
    """A move refused because another one runs (core's reason migration_running) read "The
    file changed in the meantime", the generic conflict sentence."""
    from core.errors import Conflict
    from core.library import Library
    from core.storage_migration import _one_migration
    from tests.internals import db_of

    lib = Library.open(s3_settings.replace(storage_backend="local"))
    try:
        with _one_migration(db_of(lib)), pytest.raises(Conflict) as busy:
            lib.backends.migrate("r2")
    finally:
        lib.close()
    assert describe_error(busy.value).text.startswith(
        "Another move of this library's files to a new storage is running"
    )
    install_translations("es")
    try:
        assert describe_error(busy.value).text.startswith("Ya hay otro traslado")
    finally:
        install_translations("en")


def test_a_catalog_upgraded_under_the_window_says_to_start_the_newer_version(  # type: ignore[no-untyped-def]
    qapp, library
) -> None:
    """A newer MediaDesk migrated the catalog while this window ran: its writes are refused
    (core's catalog_upgraded), which read "Something went wrong" with the English detail."""
    from core.errors import CatalogUpgraded
    from tests.test_desktop_models import add_rows
    from tests.test_schema_guard import NEWER, _stamp

    add_rows(library, 1)
    (record,) = library.list_files().items
    _stamp(library.settings, NEWER)
    with pytest.raises(CatalogUpgraded) as refused:
        # a deletion of stored bytes looks at the revision first
        library.delete_permanently(record.id)
    assert describe_error(refused.value).text.startswith(
        "A newer version of MediaDesk upgraded this library"
    )
    install_translations("es")
    try:
        assert describe_error(refused.value).text.startswith(
            "Una versión más nueva de MediaDesk actualizó esta biblioteca"
        )
    finally:
        install_translations("en")


def test_a_catalog_on_a_full_disk_is_said_as_a_full_disk(qapp, caplog) -> None:  # type: ignore[no-untyped-def]
    """SQLite's "database or disk is full" (an import onto a full disk) showed "Something
    unexpected went wrong" on every row, with a traceback each in the console."""
    import sqlite3

    full = sqlite3.OperationalError("database or disk is full")
    wrapped = RuntimeError("while storing")
    wrapped.__cause__ = full
    for exc in (full, wrapped):
        message = describe_error(exc)
        assert message.text == describe_error(no_space()).text, message.text
    assert describe_error(full).detail == "database or disk is full"
    assert "Unexpected error" not in caplog.text


def test_the_connection_test_labels_core_english_detail(qapp, settings) -> None:  # type: ignore[no-untyped-def]
    """The connection test's second line is core's English message: unlabelled, a Spanish user
    read "Bucket 'media' does not exist at …" under a Spanish sentence as if untranslated."""
    from core.storage.s3 import bucket_missing

    controller = SettingsController(settings)
    missing = bucket_missing("media", "http://127.0.0.1:9")
    assert controller.test_failure_text(missing).splitlines() == [
        "The server answered, but the bucket does not exist. Check the bucket name.",
        "Technical detail: Bucket 'media' does not exist at http://127.0.0.1:9",
    ]
    install_translations("es")
    try:
        second = controller.test_failure_text(missing).splitlines()[1]
        assert second.startswith("Detalle técnico (en inglés): Bucket 'media'")
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


def test_the_restart_notices_name_only_what_changed(qtbot, dialog, library) -> None:  # type: ignore[no-untyped-def]
    """Only the storage changed, the note and the status bar still said "to apply the storage
    and language changes"."""
    from tests.qt_helpers import shown_window

    install_translations("en")
    dialog.r2_radio.setChecked(True)
    assert dialog.restart_note.text() == (
        "Restart MediaDesk after saving to apply the storage change."
    )
    dialog.local_radio.setChecked(True)
    dialog.language.setCurrentIndex(dialog.language.findData("es"))
    assert dialog.restart_note.text() == (
        "Restart MediaDesk after saving to apply the language change."
    )
    dialog.r2_radio.setChecked(True)
    assert "storage and language changes" in dialog.restart_note.text()
    with shown_window(qtbot, library) as window:
        controller = window.settings_controller
        for changes, said in (
            ({"storage_backend", "max_file_size"}, "to apply the storage change."),
            ({"language"}, "to apply the language change."),
            ({"r2_bucket_name", "language"}, "to apply the storage and language changes."),
            ({"max_file_size"}, "Settings saved."),
        ):
            controller.saved.emit(controller.settings, changes)
            assert window.status.currentMessage().endswith(said), window.status.currentMessage()


def _urls_cut(label) -> list[str]:  # type: ignore[no-untyped-def]
    """The URLs of a word-wrapped label that a line break falls inside (as Qt lays it out)."""
    import re

    from PySide6.QtGui import QTextLayout, QTextOption

    text = label.text().replace("\n", "\u2028")
    layout = QTextLayout(text, label.font())
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WordWrap)
    layout.setTextOption(option)
    layout.beginLayout()
    starts = []
    while (line := layout.createLine()).isValid():
        line.setLineWidth(label.contentsRect().width())
        starts.append(line.textStart())
    layout.endLayout()
    return [
        m.group()
        for m in re.finditer(r"\S+://\S+", text)
        if any(m.start() < s < m.end() for s in starts)
    ]


def test_the_test_result_never_breaks_a_url(qtbot, dialog) -> None:  # type: ignore[no-untyped-def]
    """'✔ La conexión funciona: bucket R2 club en http://' and '127.0.0.1:18681' on the next
    line: Qt breaks a line after a '/'. A URL goes whole to the next line, or is elided in
    its middle when it is longer than a line (the tooltip has it all)."""
    dialog.show()
    qtbot.waitExposed(dialog)
    label = dialog.test_result
    url = "http://127.0.0.1:18681"
    for n in range(1, 40):
        text = f"La conexión funciona: bucket R2 {'c' * n} en {url}"
        dialog._on_test(True, text)
        assert not _urls_cut(label), label.text()
        assert url in label.text() and label.toolTip() == text
    long_url = "https://" + "a" * 200 + ".r2.cloudflarestorage.com"
    dialog._on_test(True, f"Connection works: R2 bucket club at {long_url}")
    assert not _urls_cut(label), label.text()
    assert "…" in label.text() and label.toolTip().endswith(long_url)
    quoted = 'Could not connect to the endpoint URL: "http://127.0.0.1:9/media?list-type=2"'
    for n in range(1, 30):
        dialog._on_test(False, f"The endpoint {'e' * n} cannot be reached. {quoted}")
        assert not _urls_cut(label), label.text()
        assert '"http' in label.text()  # the opening quote goes with it
