"""A storage move stopped part-way resumes from Settings: saving the same choice again offers to
move the files still on the old storage, and moving them puts every file on the new one.

Before, the stopped move had already saved R2 as the storage, so saving R2 again counted no
files to switch (the backend did not change): nothing was asked nor moved, while the README and
the stopped move's report say to save again or run the move again. Real SQLite catalog, local
storage, moto's S3 server, the real main window and dialogs."""

from __future__ import annotations

from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QApplication, QLabel  # noqa: E402

from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from core.settings import Settings  # noqa: E402
from core.storage_migration import StorageBackends  # noqa: E402
from desktop_app.views.main_window import KEPT_KEY, MainWindow, read_window_state  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402

# English with its plural forms ("1 file is", "2 files are"), as the app installs it
from tests.test_desktop_migration_progress_counts import english  # noqa: E402, F401

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


def _close_windows_of_the_move() -> None:
    for widget in QApplication.topLevelWidgets():
        if widget.objectName() in ("storage-migration-report", "storage-migration-progress"):
            widget.close()


def _stop_at_the_second(controller: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """Stop pressed while the second file moves: it finishes, the third is not started.
    Returns the real `_move_one`, to put back."""
    real, calls = StorageBackends._move_one, [0]

    def stopped_at_the_second(self: StorageBackends, *args: Any, **kwargs: Any) -> str:
        calls[0] += 1
        if calls[0] == 2:
            controller.cancel_migration()
        return real(self, *args, **kwargs)

    monkeypatch.setattr(StorageBackends, "_move_one", stopped_at_the_second)
    return real


def test_saving_the_same_storage_again_moves_the_files_a_stopped_move_left(
    qtbot: Any,
    english: None,
    window: MainWindow,
    lib: Library,
    local_settings: Settings,
    files: list[FileRecord],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    lib.uploads.ingest(media_dir.webp, "image")  # three files on this computer
    controller = window.settings_controller
    real = _stop_at_the_second(controller, monkeypatch)
    with qtbot.waitSignal(controller.migrationFinished, timeout=TIMEOUT) as done:
        _switch_to_r2(qtbot, window).accept()
    assert done.args[0] is False  # stopped
    assert sorted(_backends(local_settings).values()) == ["local", "r2", "r2"]
    assert controller.settings.backend_name == "r2"  # the choice was saved with the move
    monkeypatch.setattr(StorageBackends, "_move_one", real)
    _close_windows_of_the_move()

    # later: Settings, R2 still chosen, Save
    window.open_settings()
    dialog = window.settings_dialog
    assert dialog.r2_radio.isChecked()
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    wait_for(qtbot, lambda: getattr(dialog, "switch_dialog", None) is not None, timeout=TIMEOUT)
    ask = dialog.switch_dialog
    text = ask.intro.text()
    assert "1 file is still on this computer" in text, text
    assert "Cloudflare R2" in text, text
    assert ask.move_files.isChecked()  # moving them is the recommended answer
    with qtbot.waitSignal(controller.migrationFinished, timeout=TIMEOUT) as done:
        ask.accept()
    assert done.args[:3] == [True, 1, 0]
    assert set(_backends(local_settings).values()) == {"r2"}
    assert controller.settings.backend_name == "r2"
    _close_windows_of_the_move()

    # nothing left elsewhere: a plain Save asks nothing
    window.open_settings()
    again = window.settings_dialog
    assert again is not dialog
    with qtbot.waitSignal(controller.saved, timeout=TIMEOUT):
        again.buttons.button(again.buttons.StandardButton.Save).click()
    assert getattr(again, "switch_dialog", None) is None


def test_leaving_them_is_remembered_and_they_can_be_moved_later(
    qtbot: Any,
    english: None,
    window: MainWindow,
    local_settings: Settings,
    files: list[FileRecord],
) -> None:
    """ "Keep reading old files where they are" was asked again at every later Save: the choice
    is remembered for that switch (in the window-state file, so across restarts), and Settings
    ▸ Storage ▸ Move the old files… asks again."""
    controller = window.settings_controller
    ask = _switch_to_r2(qtbot, window)
    ask.keep_files.setChecked(True)  # new files on R2, the old ones read where they are
    hint = ask.findChildren(QLabel)[-1].text()
    assert "move them later with Settings ▸ Storage ▸ Move the old files…" in hint, hint
    with qtbot.waitSignal(controller.saved, timeout=TIMEOUT):
        ask.accept()
    assert controller.kept == ("local", "r2")
    wait_for(qtbot, lambda: read_window_state(window.state_file).get(KEPT_KEY) == "local>r2")
    # a plain Save asks nothing more, and saves
    window.open_settings()
    dialog = window.settings_dialog
    assert dialog.move_kept_button.isVisible()
    with qtbot.waitSignal(controller.saved, timeout=TIMEOUT):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert getattr(dialog, "switch_dialog", None) is None
    # Move the old files… asks again
    window.open_settings()
    dialog = window.settings_dialog
    dialog.move_kept_button.click()
    wait_for(qtbot, lambda: getattr(dialog, "switch_dialog", None) is not None, timeout=TIMEOUT)
    ask = dialog.switch_dialog
    assert "2 files are still on this computer" in ask.intro.text()
    ask.keep_files.setChecked(True)
    with qtbot.waitSignal(controller.saved, timeout=TIMEOUT):
        ask.accept()
    qtbot.wait(100)
    assert not controller.migrating
    assert set(_backends(local_settings).values()) == {"local"}
    assert controller.kept == ("local", "r2")


def test_a_file_no_move_takes_is_not_offered_again_and_again(
    qtbot: Any,
    english: None,
    window: MainWindow,
    lib: Library,
    local_settings: Settings,
    files: list[FileRecord],
) -> None:
    """A pending upload (signed, not sent yet) stays where it is: a move takes ready files only.
    Counted as left behind, every Save asked to move it, and the move moved nothing."""
    pending = lib.uploads.create_presigned_upload("later.jpg", "image", size=1000)
    controller = window.settings_controller
    with qtbot.waitSignal(controller.migrationFinished, timeout=TIMEOUT) as done:
        _switch_to_r2(qtbot, window).accept()
    assert done.args[:3] == [True, 2, 0]
    assert _backends(local_settings)[pending.file.id] == "local"
    _close_windows_of_the_move()
    window.open_settings()
    dialog = window.settings_dialog
    with qtbot.waitSignal(controller.saved, timeout=TIMEOUT):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    assert getattr(dialog, "switch_dialog", None) is None


def test_a_second_move_opens_one_report_not_one_per_earlier_move(
    qtbot: Any,
    english: None,
    window: MainWindow,
    lib: Library,
    local_settings: Settings,
    files: list[FileRecord],
    media_dir: MediaSet,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stopped move's progress window stayed connected to the controller: the next move's
    report (a file it could not move) opened twice, once per window."""
    lib.uploads.ingest(media_dir.webp, "image")  # three files on this computer
    controller = window.settings_controller
    real = _stop_at_the_second(controller, monkeypatch)
    with qtbot.waitSignal(controller.migrationFinished, timeout=TIMEOUT):
        _switch_to_r2(qtbot, window).accept()
    monkeypatch.setattr(StorageBackends, "_move_one", real)
    _close_windows_of_the_move()
    # the file left behind loses its bytes: the next move cannot move it and says so
    still_local = [i for i, b in _backends(local_settings).items() if b == "local"]
    assert len(still_local) == 1
    record = lib.get_file(still_local[0])
    local_settings.paths.objects_dir.joinpath(record.storage_key).unlink()

    window.open_settings()
    dialog = window.settings_dialog
    dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    wait_for(qtbot, lambda: getattr(dialog, "switch_dialog", None) is not None, timeout=TIMEOUT)
    with qtbot.waitSignal(controller.migrationFinished, timeout=TIMEOUT):
        dialog.switch_dialog.accept()
    qtbot.wait(200)
    reports = [
        w
        for w in QApplication.topLevelWidgets()
        if w.objectName() == "storage-migration-report" and w.isVisible()
    ]
    assert len(reports) == 1, reports
    _close_windows_of_the_move()


def _focused_after(qtbot: Any, dialog: Any, button: Any) -> Any:
    """Clicks `button` with the keyboard on it, answers Cancel to the storage question; the
    Settings window's keyboard widget then."""
    dialog.activateWindow()
    qtbot.waitExposed(dialog)
    button.setFocus()
    wait_for(qtbot, lambda: dialog.focusWidget() is button)
    dialog.switch_dialog = None
    button.click()
    wait_for(qtbot, lambda: dialog.switch_dialog is not None, timeout=TIMEOUT)
    dialog.switch_dialog.reject()
    qtbot.wait(50)
    return dialog.focusWidget()


def test_cancel_in_the_storage_question_gives_the_keyboard_back_to_its_button(
    qtbot: Any, english: None, window: MainWindow, files: list[FileRecord]
) -> None:
    """Save or Move the old files…, then Cancel in the question: the keyboard was left on
    Maximum file size (its text selected for typing over), where Qt put it when the button was
    disabled for the count, as 8a17b26 fixed for Test connection."""
    controller = window.settings_controller
    window.open_settings()
    dialog = window.settings_dialog
    dialog.r2_radio.setChecked(True)
    save = dialog.buttons.button(dialog.buttons.StandardButton.Save)
    assert _focused_after(qtbot, dialog, save) is save
    assert not dialog.max_size.lineEdit().hasSelectedText()
    save.click()  # keep them where they are: Move the old files… shows
    wait_for(qtbot, lambda: dialog.switch_dialog is not None, timeout=TIMEOUT)
    dialog.switch_dialog.keep_files.setChecked(True)
    with qtbot.waitSignal(controller.saved, timeout=TIMEOUT):
        dialog.switch_dialog.accept()
    window.open_settings()
    dialog = window.settings_dialog
    move = dialog.move_kept_button
    assert _focused_after(qtbot, dialog, move) is move
    assert not dialog.max_size.lineEdit().hasSelectedText()
    dialog.reject()


def test_move_the_old_files_with_none_left_says_so_and_goes(
    qtbot: Any,
    english: None,
    window: MainWindow,
    lib: Library,
    local_settings: Settings,
    files: list[FileRecord],
) -> None:
    """Move the old files… with nothing left on the old storage (deleted, or moved by another
    window) closed Settings saying only "Settings saved.": it says nothing needed moving and
    the choice to keep them is forgotten; Settings opened with none left offers it disabled."""
    controller = window.settings_controller
    window.show()  # (the status bar's room for the notice)
    ask = _switch_to_r2(qtbot, window)
    ask.keep_files.setChecked(True)
    with qtbot.waitSignal(controller.saved, timeout=TIMEOUT):
        ask.accept()
    with qtbot.waitSignal(controller.switchCounted, timeout=TIMEOUT) as counted:
        window.open_settings()  # the files still there are counted
    assert counted.args == ["local", "r2", 2]
    dialog = window.settings_dialog
    assert dialog.move_kept_button.isVisible() and dialog.move_kept_button.isEnabled()
    for record in files:  # gone from the old storage meanwhile
        lib.delete_permanently(record.id)
    with qtbot.waitSignal(controller.saved, timeout=TIMEOUT):
        dialog.move_kept_button.click()
    assert getattr(dialog, "switch_dialog", None) is None  # nothing asked
    wait_for(qtbot, lambda: "No files needed moving" in window.status.currentMessage())
    assert controller.kept is None
    window.open_settings()
    assert not window.settings_dialog.move_kept_button.isVisibleTo(window.settings_dialog)
    window.settings_dialog.reject()
    controller.remember_kept(("local", "r2"))  # (as if they went some other way)
    window.open_settings()
    move = window.settings_dialog.move_kept_button
    wait_for(qtbot, lambda: not move.isEnabled())
    assert controller.kept is None
    window.settings_dialog.reject()
