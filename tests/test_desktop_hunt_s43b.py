"""Found by an outside tester driving the desktop app (session 43, second round); real
widgets, real catalog and media, no mocks of our own code."""

from __future__ import annotations

import os
import shlex
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("PySide6.QtWidgets")

from PySide6.QtCore import QLoggingCategory, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication, QMessageBox, QPushButton  # noqa: E402

from core.filenames import disk_name  # noqa: E402
from core.library import Library  # noqa: E402
from core.records import FileRecord  # noqa: E402
from core.settings import Settings, save_settings  # noqa: E402
from desktop_app.controllers.settings_controller import SettingsController  # noqa: E402
from desktop_app.views.main_window import KEPT_KEY, MainWindow  # noqa: E402
from desktop_app.views.server_panel import curl_examples  # noqa: E402
from desktop_app.views.storage_switch import MigrationProgress  # noqa: E402
from tests import media  # noqa: E402
from tests.media_fixtures import MediaSet  # noqa: E402
from tests.qt_helpers import TIMEOUT, wait_for  # noqa: E402

# a library of two local files with the credentials of moto's S3 server kept, as the storage
# switch's own tests have it
from tests.test_desktop_storage_switch import (  # noqa: E402
    _switch_to_r2,
    files,  # noqa: F401
    lib,  # noqa: F401
    local_settings,  # noqa: F401
)
from tests.test_desktop_storage_switch import window as move_window  # noqa: E402, F401

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false;qt.multimedia.*=false")

LONG_NAME = "relay-" + "x" * 245 + ".jpg"  # 255 characters: the longest a file system takes


# -- 2. the storage move's window with a 255-character name -----------------------------------
def test_a_long_name_keeps_the_move_window_and_its_stop_button_on_screen(
    qtbot: Any, settings: Settings
) -> None:
    """The "Moving files" window grew to 1825 px on a 1600 px screen for a 255-character
    name, Stop off-screen; the name is now cut in the middle, whole in the tooltip."""
    controller = SettingsController(settings)
    progress = MigrationProgress(controller)
    qtbot.addWidget(progress)
    progress.show()
    qtbot.waitExposed(progress)
    width = progress.width()
    controller.migrationProgress.emit(1, 3, LONG_NAME)
    QApplication.processEvents()
    assert len(LONG_NAME) == 255
    assert progress.width() <= width, (progress.width(), width)
    assert progress.width() <= progress.screen().availableGeometry().width()
    stop = progress.findChild(QPushButton)
    assert stop is not None and stop.text() == "Stop"
    assert progress.rect().contains(stop.geometry())
    name_line = progress.labelText().splitlines()[1]
    assert "…" in name_line and name_line.startswith("relay-") and name_line.endswith(".jpg")
    assert progress.label.toolTip() == LONG_NAME
    controller.migrationProgress.emit(2, 3, "short.jpg")  # a short name stays whole
    assert progress.labelText().splitlines()[1] == "short.jpg"


# -- 3. frame steps in the video preview ------------------------------------------------------
FPS = 30
FRAME_US = 1_000_000 / FPS
WAIT = 15_000  # ms


@pytest.fixture
def stepping_player(qtbot: Any, tmp_path: Path) -> Iterator[tuple[Any, list[int]]]:
    """A paused 30 fps clip (made now by PyAV) in the real player, and the starts (µs) of
    the pictures its sink received."""
    pytest.importorskip("PySide6.QtMultimedia", reason="Qt Multimedia is not available")
    from desktop_app.preview.video_player import VideoPlayer

    QLoggingCategory.setFilterRules("qt.multimedia*=false\nqt.multimedia.*=false")
    clip = media.make_mp4(tmp_path / "steps.mp4", seconds=2, fps=FPS, audio=False)
    player = VideoPlayer(audio=False, frame_rate=FPS)
    qtbot.addWidget(player)
    player.resize(400, 300)
    player.show()
    shown: list[int] = []
    player.video_sink().videoFrameChanged.connect(
        lambda frame: shown.append(frame.startTime()) if frame.isValid() else None
    )
    player.load(str(clip))
    wait_for(qtbot, lambda: bool(shown) and player.player.duration() > 0, timeout=WAIT)
    yield player, shown
    player.release()


def _shows(qtbot: Any, player: Any, shown: list[int], since: int, frame: int) -> None:
    """The picture of `frame` arrives after `since`, and the position is inside that frame."""
    start = frame * FRAME_US
    wait_for(qtbot, lambda: any(abs(t - start) < FRAME_US / 2 for t in shown[since:]), timeout=WAIT)
    qtbot.wait(150)  # no later picture replaces it
    assert abs(shown[-1] - start) < FRAME_US / 2, (shown[since:], frame)
    position = player.player.position()
    assert start / 1000 < position < (frame + 1) * FRAME_US / 1000, (position, frame)
    assert player.frame_index() == frame


def test_frame_steps_move_exactly_one_frame_each(
    qtbot: Any, stepping_player: tuple[Any, list[int]]
) -> None:
    """Paused on frame 23 of a 30 fps clip, `.` sought to 800 ms, frame 24's exact start, and
    the player showed frame 23 again: `.` did not move, and `,` sometimes went back two. Now
    each step lands in the middle of the next (or previous) frame."""
    player, shown = stepping_player
    since = len(shown)
    player.player.setPosition(750)  # inside frame 22 (733.3-766.7 ms)
    wait_for(qtbot, lambda: any(abs(t - 22 * FRAME_US) < 1000 for t in shown[since:]))
    frame = 22
    for step, moves in [(player.step_forward, 1)] * 6 + [(player.step_backward, -1)] * 6:
        since = len(shown)
        step()
        frame += moves
        _shows(qtbot, player, shown, since, frame)
    # two quick `.`, the second before the first's picture came: two frames, not one
    since = len(shown)
    player.step_forward()
    player.step_forward()
    _shows(qtbot, player, shown, since, frame + 2)


# -- 4. a port saved while the server runs ----------------------------------------------------
@pytest.fixture
def window(qtbot: Any, library: Library) -> Iterator[MainWindow]:
    win = MainWindow(library)
    qtbot.addWidget(win)
    yield win
    win.shutdown()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_port_saved_while_the_server_runs_is_the_next_start_s(
    qtbot: Any, window: MainWindow
) -> None:
    """Settings says "Host and port apply the next time the server starts", but the Server
    panel kept the port that had run in its field, and Stop then Start used that one."""
    panel = window.server_panel
    panel.port.setValue(0)  # any free port
    with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT) as started:
        panel.toggle.click()
    assert started.args[0]
    saved = _free_port()
    with qtbot.waitSignal(window.settings_controller.saved, timeout=TIMEOUT):
        window.settings_controller.save({"server_port": saved})
    with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT) as stopped:
        panel.toggle.click()
    assert not stopped.args[0]
    assert panel.port.value() == saved
    with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT) as again:
        panel.toggle.click()
    running, url = again.args
    assert running and url.endswith(f":{saved}"), url
    with qtbot.waitSignal(window.server.stateChanged, timeout=TIMEOUT):
        panel.toggle.click()


# -- 5. the example download command of a long name -------------------------------------------
def test_the_download_example_names_a_file_the_disk_takes(
    library: Library, media_dir: MediaSet
) -> None:
    """`curl -o '<name>'` failed with "File name too long" for a name over 255 bytes (stored
    names are up to 255 characters); it now names the file as export writes it."""
    record = library.uploads.ingest(media_dir.jpeg, "image")
    long_name = "Carrera de relevos ñandú " + "é" * 200 + ".jpg"  # 230 characters, 429 bytes
    record = library.update_file(record.id, {"original_filename": long_name})
    assert record.original_filename == long_name
    text = curl_examples("http://127.0.0.1:8765", image=record, video=record)
    names = [
        words[words.index("-o") + 1]
        for words in map(shlex.split, text.splitlines())
        if "-o" in words and "thumbnail.webp" not in words
    ]
    assert names == [disk_name(long_name)] * 2  # the image's and the video's download
    assert len(names[0].encode()) <= 255 and names[0].endswith(".jpg")


# -- 6. quitting during a storage move ---------------------------------------------------------
def _answer_next_question(button: QMessageBox.StandardButton, seen: list[str]) -> None:
    """Clicks `button` of the next modal question box, keeping its words."""

    def poll() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(50, poll)
            return
        seen.append(box.text())
        box.button(button).click()

    QTimer.singleShot(50, poll)


def test_quitting_during_a_storage_move_asks_first(
    qtbot: Any, monkeypatch: pytest.MonkeyPatch, move_window: MainWindow
) -> None:
    """Ctrl+Q during a move asked nothing (the move stopped, the files left on the old storage
    until a Settings ▸ Save); it now asks as quitting during uploads does: No keeps the window
    and the move, Yes quits (the move stops after the current file, resumable)."""
    from core import storage_migration

    # the move's last phase, its old copies kept a while for other readers: a move running
    monkeypatch.setattr(storage_migration, "SOURCE_KEPT_SECONDS", 20.0)
    controller = move_window.settings_controller
    move_window.show()
    with qtbot.waitSignal(controller.migrationRemoving, timeout=TIMEOUT):
        _switch_to_r2(qtbot, move_window).accept()
    assert controller.migrating
    seen: list[str] = []
    _answer_next_question(QMessageBox.StandardButton.No, seen)
    move_window.close()
    assert len(seen) == 1 and "moved" in seen[0], seen
    # which storage: the bucket (before: "the new storage", unnamed)
    bucket = controller.settings.r2_bucket_name
    assert f"to the new storage (R2 bucket {bucket} at http" in seen[0], seen
    assert move_window.isVisible() and controller.migrating
    _answer_next_question(QMessageBox.StandardButton.Yes, seen)
    move_window.close()
    assert len(seen) == 2
    assert not move_window.isVisible()


@pytest.mark.parametrize("kept", [False, True])
def test_files_left_on_the_other_storage_are_said_at_start(
    qtbot: Any, local_settings: Settings, lib: Library, files: list[FileRecord], kept: bool
) -> None:
    """A move stopped by Quit left files on the old storage and the next start said nothing:
    they stayed there until some later Settings ▸ Save. The status bar now says how many, where,
    and how to finish; counted off the GUI thread (tests/test_desktop_threading.py). Not for
    files the user chose to keep reading where they are (Settings' "Keep reading old files")."""
    r2 = local_settings.replace(storage_backend="r2")
    save_settings(r2, r2.config_file)
    library = Library.open(r2)
    state = {KEPT_KEY: "local>r2"} if kept else {}
    window = MainWindow(library, page_size=50, saved_state=state)
    qtbot.addWidget(window)
    try:
        window.show()
        if kept:
            wait_for(qtbot, lambda: not window._disk_runner.busy)  # the count came back
            assert "storage migrate" not in window.status.currentMessage()
            return
        wait_for(qtbot, lambda: "storage migrate" in window.status.currentMessage())
        # "2 files" where an earlier test of the worker installed the English plurals
        said = window.status.currentMessage().replace("2 files ", "2 file(s) ")
        assert said == (
            "2 file(s) still on this computer, new files going to Cloudflare R2: "
            "Settings ▸ Save moves them (or: mediadesk storage migrate --to r2)"
        ), said
    finally:
        window.shutdown()
        library.close()
