"""The end of a storage move waits for the moved files' old copies to be deleted
(SOURCE_KEPT_SECONDS): the progress window says so with a count and a countdown instead of
sitting at N of N, and Stop ends the wait at once, the deletions left queued."""

from __future__ import annotations

import time

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtWidgets import QApplication, QPushButton  # noqa: E402

from core import storage_migration  # noqa: E402
from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from core.settings import Settings  # noqa: E402
from desktop_app.views.main_window import MainWindow  # noqa: E402
from desktop_app.views.storage_switch import MigrationProgress  # noqa: E402
from tests.qt_helpers import wait_for  # noqa: E402

# the same library of two local files and window as the storage switch's own tests
from tests.test_desktop_storage_switch import (  # noqa: E402
    TIMEOUT,
    _switch_to_r2,
    files,  # noqa: F401
    lib,  # noqa: F401
    local_settings,  # noqa: F401
    window,  # noqa: F401
)


def test_the_wait_for_the_old_copies_is_shown_and_stop_ends_it(
    qtbot,  # type: ignore[no-untyped-def]
    window: MainWindow,
    lib: Library,
    local_settings: Settings,
    files: list[FileRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(storage_migration, "SOURCE_KEPT_SECONDS", 30.0)
    _switch_to_r2(qtbot, window).accept()

    def shown() -> list[MigrationProgress]:
        return [
            w
            for w in QApplication.topLevelWidgets()
            if isinstance(w, MigrationProgress) and w.isVisible()
        ]

    wait_for(qtbot, lambda: bool(shown()), timeout=TIMEOUT)
    progress = shown()[0]
    wait_for(qtbot, lambda: "Removing the old copies" in progress.labelText(), timeout=TIMEOUT)
    label = progress.labelText()
    assert label.startswith("Moved 2 of 2 file"), label  # "files" with the plural forms
    # what the numbers count (test_desktop_hunt_s44_spanish)
    assert "2 copies left; all removed in " in label and label.endswith(" s"), label
    seconds = int(label.rsplit(" in ", 1)[1].split(" ", 1)[0])
    assert 0 < seconds <= 30
    stop = next(b for b in progress.findChildren(QPushButton) if b.text() == "Stop")
    started = time.monotonic()
    with qtbot.waitSignal(window.settings_controller.migrationFinished, timeout=5000) as done:
        stop.click()
    assert time.monotonic() - started < 5  # not the 30 s wait
    assert done.args == [True, 2, 0, ""]  # every file moved
    for record in files:  # the old copies stay until their queued deletion comes due
        assert (local_settings.paths.objects_dir / record.storage_key).exists()
        assert record.storage_key in lib.deferred.pending_keys()
