"""Closing a video preview never freezes the app; PageUp/PageDown step through the files.

The freeze (PySide6 6.11, Qt's FFmpeg backend): the GUI thread held the GIL inside
QMediaPlayer.stop() and waited for a Qt lock that one of the backend's threads held while it
waited for the GIL, in the Python wrapper of a new QAudioOutput (desktop_app/preview/
media_pool.py tells the whole story). Such a hang keeps the GIL, so no Python thread, not even
pytest-timeout's, can report it: the previews are opened and closed in a child process
(tests/preview_cycles_child.py) whose watchdog is faulthandler's C thread, and a freeze fails
the test with every thread's stack.

Before the fix, closing each preview as soon as its media had loaded froze within 3 to 33
previews (5 runs of 5); the `lockstep` interleaving froze 4 runs of 4 with a new player per
preview.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QLoggingCategory, Qt
from PySide6.QtWidgets import QApplication, QToolButton

from core.library import Library
from tests import media
from tests.media_fixtures import MediaSet
from tests.qt_helpers import TIMEOUT, shown_window, wait_for

os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false;qt.multimedia.*=false")
pytest.importorskip("PySide6.QtMultimedia", reason="Qt Multimedia is not available")

from PySide6.QtMultimedia import QMediaPlayer  # noqa: E402

from desktop_app.preview import media_pool  # noqa: E402
from desktop_app.preview.dialog import PreviewDialog  # noqa: E402
from desktop_app.preview.video_player import VideoPlayer  # noqa: E402
from tests.preview_cycles_child import record as video_record  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
State = QMediaPlayer.PlaybackState
Status = QMediaPlayer.MediaStatus


@pytest.fixture(autouse=True)
def _quiet_multimedia(qapp: QApplication) -> None:
    QLoggingCategory.setFilterRules("qt.multimedia*=false\nqt.multimedia.*=false")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("release")
    return {
        "short": media.make_mp4(d / "short.mp4", seconds=2, size=(320, 240), fps=24),
        "long": media.make_mp4(d / "long.mp4", seconds=12, size=(160, 120), fps=5, audio=False),
    }


# -- the freeze, in a child process -------------------------------------------------------------
def _child(*args: str, timeout: float = 100) -> dict[str, Any]:
    """Runs tests/preview_cycles_child.py; fails with the child's stacks when it froze."""
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "tests.preview_cycles_child", *args, "--watchdog", "10"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    lines = [line for line in done.stderr.splitlines() if "does not support" not in line]
    assert done.returncode == 0, (
        f"the GUI thread stopped ({' '.join(args)}); the child's last lines and stacks:\n"
        + "\n".join(lines[-60:])
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["seconds"] = time.monotonic() - started
    return result


@pytest.mark.timeout(120)
def test_the_testers_steps_never_freeze() -> None:
    """Open a 2-second MP4, close it with Escape while loading, once loaded, once playing,
    after the first frame, after a seek (Right), at a random moment, after 1.2 s; next file;
    48 times, with the audio output the app uses."""
    result = _child("cycles", "--cycles", "48")
    assert result["cycles"] == 48
    # Closing waits only for the backend to let go of the file: a few ms, never seconds.
    assert result["max_close_ms"] < 2000, result


@pytest.mark.timeout(120)
def test_closing_as_the_media_loads_never_freezes_with_new_players() -> None:
    """The likeliest moment (status just past LoadingMedia: the backend builds its decoders
    and renderers), and a new QMediaPlayer and QAudioOutput for every preview, so nothing is
    warm from a previous one."""
    result = _child("cycles", "--cycles", "30", "--moments", "loaded", "--fresh-players")
    assert result["cycles"] == 30


@pytest.mark.timeout(120)
def test_backend_threads_never_wait_for_the_gil() -> None:
    """The GUI thread keeps the GIL while the backend drops its renderers (stop()) and builds
    new ones (play()): a backend thread that needed the GIL there froze both."""
    result = _child("lockstep", "--cycles", "10", "--fresh-players")
    assert result["cycles"] == 10


# -- the player pool ------------------------------------------------------------------------------
def test_release_gives_the_player_back_unloaded_and_disconnected(
    qtbot: Any, clips: dict[str, Path]
) -> None:
    pool = media_pool.pool()
    first = VideoPlayer(audio=False)
    qtbot.addWidget(first)
    media_player = first.player
    first.load(str(clips["long"]))
    wait_for(qtbot, lambda: media_player.duration() > 11000)
    assert first.controls.total_label.text() == "0:12"
    idle = pool.idle(audio=False)
    first.release()
    first.release()  # twice: no harm
    assert first.is_released()
    assert shiboken6.isValid(media_player)  # not destroyed: given back
    assert media_player.source().isEmpty()
    assert media_player.mediaStatus() == Status.NoMedia
    assert media_player.videoOutput() is None
    assert pool.idle(audio=False) == idle + 1
    first.seek_by(1000)  # keys reaching a closed preview do nothing
    first.load(str(clips["short"]))
    assert media_player.source().isEmpty()

    second = VideoPlayer(audio=False)
    qtbot.addWidget(second)
    assert second.player is media_player  # reused, not made again
    second.load(str(clips["short"]))
    wait_for(qtbot, lambda: second.controls.total_label.text() == "0:02")
    assert first.controls.total_label.text() == "0:12"  # the old controls hear nothing
    first.deleteLater()  # its late "give the player back" must not take it from `second`
    wait_for(qtbot, lambda: not shiboken6.isValid(first))
    assert second.player.source().fileName() == "short.mp4"
    second.release()


def test_a_player_deleted_without_release_goes_back_too(qtbot: Any, clips: dict[str, Path]) -> None:
    pool = media_pool.pool()
    widget = VideoPlayer(audio=False)
    media_player = widget.player
    widget.load(str(clips["short"]))
    wait_for(qtbot, lambda: media_player.mediaStatus() != Status.LoadingMedia)
    idle = pool.idle(audio=False)
    widget.deleteLater()
    wait_for(qtbot, lambda: not shiboken6.isValid(widget))
    assert pool.idle(audio=False) == idle + 1
    assert media_player.source().isEmpty()


def test_the_audio_output_is_kept_and_settled(qtbot: Any) -> None:
    widget = VideoPlayer(audio=True)
    qtbot.addWidget(widget)
    output = widget.audio_output
    assert output is not None and widget.player.audioOutput() is output
    widget.release()
    again = VideoPlayer(audio=True)
    qtbot.addWidget(again)
    assert again.audio_output is output  # one audio output, not one per preview
    again.release()


def test_closing_the_dialog_while_loading_returns_at_once(
    qtbot: Any, clips: dict[str, Path]
) -> None:
    dialog = PreviewDialog(video_record(1, "short.mp4"), str(clips["short"]))
    qtbot.addWidget(dialog)
    dialog.show()
    assert isinstance(dialog.viewer, VideoPlayer)
    media_player = dialog.viewer.player
    assert media_player.mediaStatus() == Status.LoadingMedia
    started = time.monotonic()
    qtbot.keyClick(dialog.viewer, Qt.Key.Key_Escape)
    assert time.monotonic() - started < 2.0
    assert not dialog.isVisible()
    assert media_player.source().isEmpty()
    assert media_player.playbackState() == State.StoppedState


class _StallingHandler(BaseHTTPRequestHandler):
    """Answers nothing for 5 s: FFmpeg's loader thread sits in a blocking read."""

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        time.sleep(5)


@pytest.fixture
def stalling_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _StallingHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/clip.mp4"
    server.shutdown()
    server.server_close()


def test_closing_while_the_server_has_not_answered_returns_at_once(
    qtbot: Any, stalling_url: str
) -> None:
    dialog = PreviewDialog(video_record(1, "clip.mp4"), stalling_url)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.wait(300)
    media_player = dialog.viewer.player  # type: ignore[attr-defined]
    assert media_player.mediaStatus() == Status.LoadingMedia
    started = time.monotonic()
    dialog.close()
    assert time.monotonic() - started < 2.0  # the load is cancelled, not waited for
    assert media_player.source().isEmpty()


# -- keys inside the preview ----------------------------------------------------------------------
def _active(qtbot: Any, dialog: PreviewDialog) -> None:
    dialog.show()
    dialog.activateWindow()
    wait_for(qtbot, dialog.isActiveWindow)


def test_left_right_seek_and_page_keys_ask_for_other_files(
    qtbot: Any, clips: dict[str, Path]
) -> None:
    record = replace(video_record(1, "long.mp4"), frame_rate=5.0, width=160, height=120)
    dialog = PreviewDialog(record, str(clips["long"]), audio=False, autoplay=False)
    qtbot.addWidget(dialog)
    player = dialog.viewer
    assert isinstance(player, VideoPlayer)
    # Without anyone to answer them the two keys are off and their buttons hidden.
    assert not dialog.is_navigable()
    buttons = {b.defaultAction(): b for b in player.controls.findChildren(QToolButton)}
    assert buttons[dialog.next_action].isHidden()
    _active(qtbot, dialog)
    wait_for(qtbot, lambda: player.player.duration() > 11000)
    asked: list[int] = []
    dialog.stepRequested.connect(asked.append)
    qtbot.keyClick(player, Qt.Key.Key_PageDown)
    assert asked == []

    dialog.set_navigable(True)
    assert not buttons[dialog.next_action].isHidden()
    row: Any = player.controls.layout()
    assert row.itemAt(0).widget() is buttons[dialog.previous_action]  # at the two ends
    assert row.itemAt(row.count() - 1).widget() is buttons[dialog.next_action]
    assert buttons[dialog.next_action].toolTip() == "Next file (PgDown)"
    assert buttons[dialog.previous_action].toolTip() == "Previous file (PgUp)"
    qtbot.keyClick(player, Qt.Key.Key_Right)  # → seeks 5 s in the video
    wait_for(qtbot, lambda: abs(player.player.position() - 5000) < 400)
    qtbot.keyClick(player, Qt.Key.Key_Left)  # ← back again
    wait_for(qtbot, lambda: player.player.position() < 400)
    qtbot.keyClick(player, Qt.Key.Key_PageDown)
    qtbot.keyClick(player, Qt.Key.Key_PageUp)
    assert asked == [1, -1]
    assert player.player.position() < 400  # the page keys do not seek
    dialog.close()


def test_image_preview_shows_the_page_keys_in_its_toolbar(qtbot: Any, media_dir: MediaSet) -> None:
    record = replace(video_record(1, "photo.jpg"), file_type="image", width=640, height=480)
    dialog = PreviewDialog(record, str(media_dir.jpeg))
    qtbot.addWidget(dialog)
    dialog.set_navigable(True)
    toolbar_actions = dialog.viewer.findChildren(QToolButton)
    tips = {b.toolTip() for b in toolbar_actions}
    assert {"Previous file (PgUp)", "Next file (PgDown)"} <= tips
    _active(qtbot, dialog)
    asked: list[int] = []
    dialog.stepRequested.connect(asked.append)
    qtbot.keyClick(dialog.viewer, Qt.Key.Key_PageDown)
    assert asked == [1]
    dialog.close()


# -- stepping through the main window's grid ------------------------------------------------------
@pytest.fixture
def window(qtbot: Any, library: Library) -> Iterator[Any]:

    with shown_window(qtbot, library) as win:
        yield win


def test_page_down_and_up_preview_the_next_and_previous_file_of_the_grid(
    qtbot: Any, window: Any, library: Library, media_dir: MediaSet
) -> None:
    for path in (media_dir.jpeg, media_dir.png, media_dir.webp):
        library.uploads.ingest(path, "image")
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.rowCount() == 3)
    window.browser.select_row(1)
    with qtbot.waitSignal(window.controller.previewReady, timeout=TIMEOUT):
        window.commands.preview.trigger()
    first = window.preview_dialog
    assert first.record.id == grid.record_at(1).id and first.is_navigable()
    _active(qtbot, first)

    with qtbot.waitSignal(window.controller.previewReady, timeout=TIMEOUT) as shown:
        qtbot.keyClick(first.viewer, Qt.Key.Key_PageDown)
    assert shown.args[0].id == grid.record_at(2).id
    assert not shiboken6.isValid(first) or not first.isVisible()  # the one it came from closed
    assert window.browser.selected_ids() == [grid.record_at(2).id]
    second = window.preview_dialog
    assert second is not first and second.record.id == grid.record_at(2).id
    _active(qtbot, second)
    qtbot.keyClick(second.viewer, Qt.Key.Key_PageDown)  # the last file: stays
    assert second.isVisible() and window.preview_dialog is second

    with qtbot.waitSignal(window.controller.previewReady, timeout=TIMEOUT) as shown:
        qtbot.keyClick(second.viewer, Qt.Key.Key_PageUp)
    assert shown.args[0].id == grid.record_at(1).id
    assert window.browser.selected_ids() == [grid.record_at(1).id]
    window.preview_dialog.close()


def test_page_keys_keep_the_preview_window_where_and_as_large_as_it_was(
    qtbot: Any, window: Any, library: Library, tmp_path: Path
) -> None:
    """Pictures of other sizes one after the other: the window does not jump with each."""
    library.uploads.ingest(media.make_jpeg(tmp_path / "wide.jpg", size=(900, 400)), "image")
    library.uploads.ingest(media.make_png(tmp_path / "tall.png", size=(300, 700)), "image")
    grid = window.controller.grid
    wait_for(qtbot, lambda: grid.rowCount() == 2)
    window.browser.select_row(0)
    with qtbot.waitSignal(window.controller.previewReady, timeout=TIMEOUT):
        window.commands.preview.trigger()
    first = window.preview_dialog
    _active(qtbot, first)
    first.resize(first.width() + 37, first.height() + 23)  # the user's own size
    wait_for(qtbot, lambda: first.width() > 0)
    kept = first.geometry()
    with qtbot.waitSignal(window.controller.previewReady, timeout=TIMEOUT):
        qtbot.keyClick(first.viewer, Qt.Key.Key_PageDown)
    second = window.preview_dialog
    assert second is not first
    wait_for(qtbot, lambda: second.size() == kept.size())
    window.preview_dialog.close()
