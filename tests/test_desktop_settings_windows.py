"""Settings windows and the shared SettingsController: only the window that pressed Save reacts
to the controller's answer, and one Settings window is open at a time.

Before, every Settings window ever opened stayed connected to the controller's `saved`,
`saveFailed` and `switchCounted`: a later save made the earlier windows ask about a storage
switch again with their stale counts, and one whose answer had been "Move my files" started
the move again on a plain Save of unchanged settings. Real SQLite catalog, local storage, moto's
S3 server, the real main window and dialogs."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QApplication  # noqa: E402

from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from core.settings import Settings  # noqa: E402
from desktop_app.views import storage_switch  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from desktop_app.views.settings_dialog import SettingsDialog  # noqa: E402
from desktop_app.views.storage_switch import MigrationProgress, StorageSwitchDialog  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402

# the same library of two local files and window as the switch's own tests
from tests.test_desktop_storage_switch import (  # noqa: E402
    TIMEOUT,
    _backends,
    files,  # noqa: F401
    lib,  # noqa: F401
    local_settings,  # noqa: F401
    window,  # noqa: F401
)


def _questions(monkeypatch: pytest.MonkeyPatch) -> list[StorageSwitchDialog]:
    """Every "Switch storage" question opened from now on."""
    opened: list[StorageSwitchDialog] = []
    real = StorageSwitchDialog.open

    def counted(self: StorageSwitchDialog) -> None:
        opened.append(self)
        real(self)

    monkeypatch.setattr(storage_switch.StorageSwitchDialog, "open", counted)
    return opened


def _starts(window: MainWindow) -> list[str]:
    """The moves the Settings windows start from now on (they still run)."""
    started: list[str] = []
    controller = window.settings_controller
    real = controller.start_migration

    def counted(target: str) -> None:
        started.append(target)
        real(target)

    controller.start_migration = counted  # type: ignore[method-assign]
    return started


def _open(window: MainWindow) -> SettingsDialog:
    window.open_settings()
    dialog = window.settings_dialog
    assert dialog.isVisible()
    return dialog


def _save(dialog: SettingsDialog) -> None:
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()


def _progress_windows() -> list[MigrationProgress]:
    return [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, MigrationProgress) and w.isVisible()
    ]


def test_a_later_plain_save_is_answered_by_its_own_window_only(
    qtbot: Any,
    window: MainWindow,
    lib: Library,
    local_settings: Settings,
    files: list[FileRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    questions = _questions(monkeypatch)
    starts = _starts(window)
    controller = window.settings_controller
    # the first Settings window switches to R2 and moves the files
    first = _open(window)
    first.r2_radio.setChecked(True)
    _save(first)
    wait_for(qtbot, lambda: len(questions) == 1, timeout=TIMEOUT)
    assert questions[0].move_files.isChecked()
    with qtbot.waitSignal(controller.migrationFinished, timeout=TIMEOUT) as done:
        questions[0].accept()
    assert done.args[:3] == [True, 2, 0]
    assert controller.destination() == ""  # no move under way names a place any more
    assert not first.isVisible() and starts == ["r2"]
    for shown in _progress_windows():
        shown.close()
    # later, the Settings again: a limit changed, nothing else; Save
    second = _open(window)
    assert second is not first
    second.expiry.setValue(second.expiry.value() + 60)
    reactions: list[Any] = []
    controller.saved.connect(lambda *args: reactions.append(args))
    with qtbot.waitSignal(controller.saved, timeout=TIMEOUT):
        _save(second)
    qtbot.wait(300)  # any other window's reaction (a question, a move) would show by now
    assert len(reactions) == 1
    assert len(questions) == 1, "a closed Settings window asked about the storage again"
    assert starts == ["r2"], "a plain Save started a storage move"
    assert not controller.migrating and not _progress_windows()
    assert not second.isVisible()  # saved and closed
    assert set(_backends(local_settings).values()) == {"r2"}


def test_a_closed_window_asks_nothing_when_another_one_switches(
    qtbot: Any,
    window: MainWindow,
    files: list[FileRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    questions = _questions(monkeypatch)
    starts = _starts(window)
    first = _open(window)
    first.r2_radio.setChecked(True)
    _save(first)
    wait_for(qtbot, lambda: len(questions) == 1, timeout=TIMEOUT)
    questions[0].reject()  # not now: nothing saved
    first.reject()  # and the Settings closed
    second = _open(window)
    second.r2_radio.setChecked(True)
    _save(second)
    wait_for(qtbot, lambda: len(questions) >= 2, timeout=TIMEOUT)
    qtbot.wait(300)
    assert len(questions) == 2, "one Save asked the storage question in several windows"
    assert questions[1].parent() is second
    questions[1].reject()
    assert not starts
    assert second.buttons.isEnabled()


def test_opening_the_settings_again_while_they_are_open_shows_the_same_window(
    qtbot: Any, window: MainWindow, files: list[FileRecord]
) -> None:
    first = _open(window)
    assert _open(window) is first
    first.reject()
    assert _open(window) is not first
