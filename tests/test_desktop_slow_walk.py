"""Desktop: a dropped folder on a slow disk (a USB stick, a network share).

The walk used to read the whole drop before queueing a single row: on a share answering each
stat in ~100 ms, 1,000 photos showed nothing at all for minutes, Cancel all had nothing to
cancel, and closing the app in the meantime lost the drop. The slow disk here is a real
blocking system call: the walker thread's `os.scandir` of one subfolder waits until the test
lets it go (a FUSE mount with delays showed the same, see the commit; too heavy for the suite).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PIL import Image  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402

from core.library import Library  # noqa: E402
from desktop_app.controllers.upload_controller import UploadController  # noqa: E402
from desktop_app.models.upload_queue_model import UploadState  # noqa: E402
from desktop_app.upload_persistence import load_queue, queue_file  # noqa: E402
from tests.qt_helpers import shown_window, wait_for  # noqa: E402


def _photo(path: Path, shade: int) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (64, 48), (shade, 90, 200 - shade)).save(path, "JPEG")
    return path


@pytest.fixture
def share(tmp_path: Path) -> Path:
    """shoot/day_1 (two photos, a fast folder) and shoot/day_2 (one photo, the slow one)."""
    shoot = tmp_path / "shoot"
    _photo(shoot / "day_1" / "a.jpg", 10)
    _photo(shoot / "day_1" / "b.jpg", 60)
    _photo(shoot / "day_2" / "c.jpg", 120)
    return shoot


@pytest.fixture
def slow_day_2(share: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[threading.Event]:
    """Listing day_2 blocks (off the GUI thread only) until the returned event is set."""
    disk = threading.Event()
    real_scandir = os.scandir

    def scandir(path: Any = ".") -> Any:
        if Path(os.fsdecode(path)) == share / "day_2":
            assert threading.current_thread() is not threading.main_thread()
            disk.wait(10)
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    yield disk
    disk.set()  # a walk still waiting ends


def _states(controller: UploadController) -> dict[str, UploadState]:
    return {item.name: item.state for item in controller.model.items()}


def _started(qtbot: Any, library: Library) -> UploadController:
    controller = UploadController(library, max_parallel=1)
    wait_for(qtbot, lambda: not controller.busy)  # the saved queue was read back
    return controller


def test_files_are_queued_and_stored_while_the_rest_of_the_drop_is_read(
    qtbot: Any, library: Library, share: Path, slow_day_2: threading.Event
) -> None:
    controller = _started(qtbot, library)
    try:
        controller.add_paths([share])
        done = {"a.jpg": UploadState.DONE, "b.jpg": UploadState.DONE}
        wait_for(qtbot, lambda: _states(controller) == done)  # day_2 is still being listed
        assert controller.busy
        slow_day_2.set()
        wait_for(qtbot, lambda: _states(controller) == {**done, "c.jpg": UploadState.DONE})
        assert library.counts()["all"] == 3
    finally:
        controller.shutdown()


def test_cancel_all_stops_reading_the_drop(
    qtbot: Any, library: Library, share: Path, slow_day_2: threading.Event
) -> None:
    controller = _started(qtbot, library)
    try:
        controller.add_paths([share])
        wait_for(qtbot, lambda: controller.model.rowCount() == 2)
        controller.cancel_all()
        slow_day_2.set()
        wait_for(qtbot, lambda: not controller.busy)
        assert "c.jpg" not in _states(controller)  # read after the cancel: not queued
        saved = queue_file(library.paths.data_dir)
        wait_for(qtbot, lambda: all(row.state != "walk" for row in load_queue(saved)))
    finally:
        controller.shutdown()


def test_closing_in_the_middle_of_a_drop_reads_the_rest_at_the_next_start(
    qtbot: Any, library: Library, share: Path, slow_day_2: threading.Event
) -> None:
    first = _started(qtbot, library)
    first.add_paths([share])
    wait_for(qtbot, lambda: set(_states(first).values()) == {UploadState.DONE})
    wait_for(qtbot, lambda: first.model.rowCount() == 2)
    first.shutdown()  # day_2 still hangs: the walk is left behind, the drop kept
    assert [(row.state, row.path) for row in load_queue(queue_file(library.paths.data_dir))] == [
        ("walk", str(share))
    ]
    slow_day_2.set()
    second = _started(qtbot, library)
    try:
        # the files stored before the close are this drop's own: done, not "duplicate"
        wait_for(
            qtbot,
            lambda: (
                _states(second)
                == {"a.jpg": UploadState.DONE, "b.jpg": UploadState.DONE, "c.jpg": UploadState.DONE}
            ),
        )
        assert library.counts()["all"] == 3
        wait_for(qtbot, lambda: load_queue(queue_file(library.paths.data_dir)) == [])
    finally:
        second.shutdown()


def test_quit_hides_the_window_before_writing_its_state(
    qtbot: Any, library: Library, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The window state goes to the data folder: on a slow data disk (FUSE, 80 ms a call) the
    window stayed on screen for seconds after Quit, the question still painted over it."""
    visible_at_write: list[bool] = []
    sync = QSettings.sync

    def timed_sync(self: QSettings) -> None:
        visible_at_write.append(window.isVisible())
        sync(self)

    with shown_window(qtbot, library) as window:
        monkeypatch.setattr(QSettings, "sync", timed_sync)
        window.close()
        assert visible_at_write == [False]
        saved = QSettings(str(window.state_file), QSettings.Format.IniFormat)
        assert not saved.value("window/geometry").isEmpty()  # kept by the hidden window
