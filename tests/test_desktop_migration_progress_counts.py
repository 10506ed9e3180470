"""The storage move's progress window counts the files it moved, not the files it went through:
one not moved (damaged, changed meanwhile, the store out of reach) is said as such, in plural
forms and the interface language's number format.

Before, a move of 3 files with a damaged one said "Moved 3 of 3 files". Real SQLite catalog,
local storage, moto's S3 server, the real main window and dialogs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QCoreApplication, QLocale  # noqa: E402

from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from core.settings import Settings  # noqa: E402
from desktop_app import i18n  # noqa: E402
from desktop_app.controllers.settings_controller import MoveOutcome  # noqa: E402
from desktop_app.i18n import install_translations  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from desktop_app.views.storage_switch import MigrationProgress  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402

# the same library of two local files and window as the switch's own tests
from tests.test_desktop_storage_switch import (  # noqa: E402
    TIMEOUT,
    _backends,
    _switch_to_r2,
    files,  # noqa: F401
    lib,  # noqa: F401
    local_settings,  # noqa: F401
    window,  # noqa: F401
)
from tests.test_migration_damaged_source import _backend, _cut  # noqa: E402


@pytest.fixture
def english(qapp: Any) -> Iterator[None]:
    """English with its plural forms, as the app installs it; after the test, no translation
    again, as other tests of this process expect (their source texts' "file(s)")."""
    before = QLocale()
    install_translations("en")
    yield
    for translator, _catalogue in i18n._installed:
        QCoreApplication.removeTranslator(translator)
    i18n._installed.clear()
    QLocale.setDefault(before)


def test_a_file_not_moved_is_not_counted_as_moved(
    qtbot: Any,
    english: None,
    window: MainWindow,
    lib: Library,
    local_settings: Settings,
    files: list[FileRecord],
    media_dir: MediaSet,
) -> None:
    damaged = lib.uploads.ingest(media_dir.webp, "image")
    _cut(_backend(lib, "local"), damaged)  # a bad restore, behind the catalog's back
    controller = window.settings_controller
    labels: list[str] = []

    def last_label(outcome: MoveOutcome) -> None:  # before the report replaces the window
        labels.extend(
            w.labelText() for w in window.findChildren(MigrationProgress) if w.isVisible()
        )

    controller.migrationReported.connect(last_label)
    with qtbot.waitSignal(controller.migrationFinished, timeout=TIMEOUT) as done:
        _switch_to_r2(qtbot, window).accept()
    assert done.args[:3] == [False, 2, 1]
    assert sorted(_backends(local_settings).values()) == ["local", "r2", "r2"]
    assert len(labels) == 1
    assert labels[0].splitlines()[0] == "3 of 3 files done (1 not moved)", labels


def test_plural_forms_and_the_language_s_numbers(
    qtbot: Any, english: None, window: MainWindow
) -> None:
    controller = window.settings_controller
    progress = MigrationProgress(controller, window)
    controller.migrationProgress.emit(1, 1, "relay.jpg")
    assert progress.labelText() == "Moved 1 of 1 file\nrelay.jpg"
    install_translations("es")
    progress = MigrationProgress(controller, window)
    controller.migrationProgress.emit(12344, 23456, "salida.jpg")
    assert progress.labelText().startswith("Movidos 12.344 de 23.456 archivos\n")
    for done in (12345, 12346):  # neither of these two moved
        controller.migrationProgress.emit(done, 23456, "")
    assert progress.labelText().startswith("12.346 de 23.456 archivos procesados (2 sin mover)\n")
