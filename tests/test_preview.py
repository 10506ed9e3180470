"""Preview dialog, image viewer and video player against real media (offscreen Qt)."""

from __future__ import annotations

import contextlib
import os
import re
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QLoggingCategory, QObject, QPoint, QPointF, Qt, Slot
from PySide6.QtGui import QColor, QImage, QWheelEvent
from PySide6.QtWidgets import QApplication, QLabel

import desktop_app.preview as preview
from desktop_app.preview.dialog import PreviewDialog
from desktop_app.preview.image_viewer import ImageViewer
from desktop_app.preview.player_controls import format_time
from tests import media
from tests.media import make_record

# read when pytest-qt creates the QApplication, which happens after collection
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false;qt.multimedia.*=false")

pytest.importorskip("PySide6.QtMultimedia", reason="Qt Multimedia is not available")

from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame, QVideoSink  # noqa: E402

from desktop_app.preview.video_player import VideoPlayer  # noqa: E402
from tests.qt_helpers import wait_for

WAIT = 10_000  # ms
FPS = 24
FRAME_US = 1_000_000 / FPS
State = QMediaPlayer.PlaybackState


# -- media and records --------------------------------------------------------------------------
@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("preview")
    return {
        "mp4": media.make_mp4(d / "clip.mp4", seconds=2, size=(320, 240), fps=FPS),
        "mp4_tail": _with_gap(media.make_mp4(d / "tail.mp4", fps=FPS, faststart=False)),
        "rotated": media.make_jpeg(d / "rotated.jpg", size=(640, 480), exif_orientation=6),
        "jpeg": media.make_jpeg(d / "photo.jpg", size=(640, 480)),
    }


def _with_gap(path: Path, gap: int = 8 * 1024 * 1024) -> Path:
    """Put a large `free` box before the trailing moov, so FFmpeg must seek there by Range."""
    data = path.read_bytes()
    offset = 0
    while offset < len(data):
        size = int.from_bytes(data[offset : offset + 4], "big")
        if data[offset + 4 : offset + 8] == b"moov":
            break
        offset += size
    assert offset < len(data), "no top-level moov box"
    free = (gap + 8).to_bytes(4, "big") + b"free" + bytes(gap)
    path.write_bytes(data[:offset] + free + data[offset:])
    return path


@pytest.fixture(autouse=True)
def _quiet_multimedia(qapp: QApplication) -> None:
    QLoggingCategory.setFilterRules("qt.multimedia*=false\nqt.multimedia.*=false")


# -- a tiny HTTP server with Range support ------------------------------------------------------
class _RangeHandler(BaseHTTPRequestHandler):
    files: dict[str, Path] = {}
    ranges: list[str] = []

    def log_message(self, *args: Any) -> None:  # keep test output clean
        pass

    def do_HEAD(self) -> None:  # noqa: N802
        self._serve(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._serve(body=True)

    def _serve(self, body: bool) -> None:
        path = self.files.get(self.path.split("?")[0])
        if path is None:
            self.send_error(404)
            return
        data = path.read_bytes()
        size, start, end, status = len(data), 0, len(data) - 1, 200
        header = self.headers.get("Range", "")
        match = re.fullmatch(r"bytes=(\d*)-(\d*)", header.strip())
        if match and (match[1] or match[2]):
            self.ranges.append(header)
            if match[1]:
                start = int(match[1])
                end = min(int(match[2]), size - 1) if match[2] else size - 1
            else:
                start = max(size - int(match[2]), 0)
            if start >= size or start > end:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            status = 206
        self.send_response(status)
        self.send_header("Content-Type", "video/mp4" if path.suffix == ".mp4" else "image/jpeg")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if body:
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(data[start : end + 1])


@pytest.fixture(scope="module")
def http_base(files: dict[str, Path]) -> Iterator[str]:
    _RangeHandler.files = {
        "/clip.mp4": files["mp4"],
        "/tail.mp4": files["mp4_tail"],
        "/rotated.jpg": files["rotated"],
    }
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


# -- video frames -------------------------------------------------------------------------------
class FrameProbe(QObject):
    """Records frames from a sink in the GUI thread (a QObject, so delivery is queued)."""

    def __init__(self, sink: QVideoSink) -> None:
        super().__init__()
        self.times: list[int] = []
        self.last: QVideoFrame | None = None
        sink.videoFrameChanged.connect(self._on_frame)

    @Slot(QVideoFrame)
    def _on_frame(self, frame: QVideoFrame) -> None:
        if frame.isValid():
            self.times.append(frame.startTime())
            self.last = QVideoFrame(frame)

    def wait(self, qtbot: Any, since: int, near_us: float | None = None) -> int:
        """Wait for a frame after index `since` (starting within one frame of `near_us`)."""

        def ok() -> bool:
            new = self.times[since:]
            if near_us is None:
                return bool(new)
            return any(abs(t - near_us) <= FRAME_US + 1000 for t in new)

        wait_for(qtbot, ok, timeout=WAIT)
        return self.times[-1]

    def image(self) -> QImage:
        assert self.last is not None
        return self.last.toImage()


def _is_red(c: QColor) -> bool:
    return c.red() > 180 and c.green() < 90 and c.blue() < 90


def _is_blue(c: QColor) -> bool:
    return c.blue() > 110 and c.red() < 80


@pytest.fixture
def player(qtbot: Any) -> Iterator[VideoPlayer]:
    widget = VideoPlayer(audio=False)
    qtbot.addWidget(widget)
    widget.resize(480, 360)
    widget.show()
    yield widget
    widget.release()


def _load_paused(qtbot: Any, player: VideoPlayer, source: str) -> FrameProbe:
    probe = FrameProbe(player.video_sink())
    player.load(source)
    probe.wait(qtbot, 0)
    wait_for(qtbot, lambda: player.player.duration() > 0, timeout=WAIT)
    return probe


# -- video player -------------------------------------------------------------------------------
def test_player_delivers_real_frames(qtbot: Any, player: VideoPlayer, files: dict) -> None:
    probe = _load_paused(qtbot, player, str(files["mp4"]))
    image = probe.image()
    assert (image.width(), image.height()) == (320, 240)
    assert _is_red(image.pixelColor(5, 5))  # the red marker in the top-left corner
    assert _is_blue(image.pixelColor(310, 230))  # the blue background
    assert player.player.playbackState() == State.PausedState
    assert 1900 <= player.player.duration() <= 2100
    assert player.controls.total_label.text() == "0:02"
    assert player.error_text() == ""


def test_seek_while_paused(qtbot: Any, player: VideoPlayer, files: dict) -> None:
    probe = _load_paused(qtbot, player, str(files["mp4"]))
    first = probe.image()
    since = len(probe.times)
    player.player.setPosition(1000)
    probe.wait(qtbot, since, near_us=1_000_000)
    wait_for(qtbot, lambda: abs(player.player.position() - 1000) <= 50, timeout=WAIT)
    assert player.player.playbackState() == State.PausedState
    assert probe.image() != first  # the yellow block has moved
    assert player.controls.seek_slider.value() == player.player.position()


def test_seeking_back_from_the_end_shows_the_frame_there(
    qtbot: Any, player: VideoPlayer, files: dict
) -> None:
    """Played to its end, ← went to 0:00 but the picture stayed black until play (Qt's
    player was stopped there). Now the frame at the new position shows, paused."""
    probe = _load_paused(qtbot, player, str(files["mp4"]))
    player.player.play()
    duration = player.player.duration()
    wait_for(qtbot, lambda: player.player.playbackState() == State.PausedState, timeout=WAIT)
    assert player.player.position() > duration - 200  # held at its last frame
    since = len(probe.times)
    player.seek_by(-5000)  # ← (the clip is 2 s long: back to 0:00)
    probe.wait(qtbot, since, near_us=0)
    assert player.video_sink().videoFrame().isValid()
    assert _is_red(probe.image().pixelColor(5, 5))  # the clip's picture, not black
    assert player.player.playbackState() == State.PausedState
    assert player.player.position() == 0


def test_a_video_played_to_its_end_holds_its_last_frame_and_plays_again_from_the_start(
    qtbot: Any, player: VideoPlayer, files: dict
) -> None:
    """Qt's player went black at the end; the last frame now stays, paused, and Space
    plays the clip again from its beginning (as VLC and QuickTime do)."""
    probe = _load_paused(qtbot, player, str(files["mp4"]))
    player.player.play()
    duration = player.player.duration()
    wait_for(qtbot, lambda: player.player.playbackState() == State.PausedState, timeout=WAIT)
    assert player.player.position() > duration - 200
    wait_for(qtbot, lambda: player.video_sink().videoFrame().isValid(), timeout=WAIT)
    assert _is_red(player.video_sink().videoFrame().toImage().pixelColor(5, 5))
    since = len(probe.times)
    player.toggle_play()
    probe.wait(qtbot, since, near_us=0)  # from the start, not the end
    assert player.player.playbackState() == State.PlayingState


def test_play_pause_toggles_state(qtbot: Any, player: VideoPlayer, files: dict) -> None:
    probe = _load_paused(qtbot, player, str(files["mp4"]))
    player.toggle_play()
    wait_for(qtbot, lambda: player.player.playbackState() == State.PlayingState, timeout=WAIT)
    probe.wait(qtbot, len(probe.times), near_us=300_000)  # frames keep coming
    player.toggle_play()
    wait_for(qtbot, lambda: player.player.playbackState() == State.PausedState, timeout=WAIT)
    assert player.player.position() > 0


def test_frame_step_moves_one_frame(qtbot: Any, player: VideoPlayer, files: dict) -> None:
    assert player.frame_rate() == 25.0  # no frame rate given: the default
    player = VideoPlayer(audio=False, frame_rate=FPS)
    qtbot.addWidget(player)
    player.show()
    probe = _load_paused(qtbot, player, str(files["mp4"]))
    since = len(probe.times)
    player.player.setPosition(1000)
    probe.wait(qtbot, since, near_us=1_000_000)

    since = len(probe.times)
    player.step_forward()
    start = probe.wait(qtbot, since, near_us=1_000_000 + FRAME_US)
    assert abs(start - (1_000_000 + FRAME_US)) < FRAME_US / 2
    assert abs(player.player.position() - 1062) <= 1  # the middle of frame 25 (1041.7-1083.3 ms)

    for expected in (1_000_000, 1_000_000 - FRAME_US):
        since = len(probe.times)
        player.step_backward()
        start = probe.wait(qtbot, since, near_us=expected)
        assert abs(start - expected) < FRAME_US / 2
    assert player.player.playbackState() == State.PausedState


def test_frame_step_pauses_playback(qtbot: Any, player: VideoPlayer, files: dict) -> None:
    _load_paused(qtbot, player, str(files["mp4"]))
    player.player.play()
    wait_for(qtbot, lambda: player.player.position() > 200, timeout=WAIT)
    player.step_forward()
    assert player.player.playbackState() == State.PausedState


def test_keyboard_shortcuts(qtbot: Any, player: VideoPlayer, files: dict) -> None:
    _load_paused(qtbot, player, str(files["mp4"]))
    player.activateWindow()
    player.setFocus()
    wait_for(qtbot, player.isActiveWindow, timeout=WAIT)
    qtbot.keyClick(player, Qt.Key.Key_Space)
    wait_for(qtbot, lambda: player.player.playbackState() == State.PlayingState, timeout=WAIT)
    qtbot.keyClick(player, Qt.Key.Key_K)
    wait_for(qtbot, lambda: player.player.playbackState() == State.PausedState, timeout=WAIT)
    qtbot.keyClick(player, Qt.Key.Key_M)
    assert player.is_muted()
    qtbot.keyClick(player, Qt.Key.Key_F)
    assert player.is_fullscreen()
    qtbot.keyClick(player, Qt.Key.Key_Escape)
    assert not player.is_fullscreen()


def test_mute_and_volume_without_audio_output(player: VideoPlayer) -> None:
    assert player.audio_output is None
    assert not player.is_muted()
    player.toggle_mute()
    assert player.is_muted()
    assert "Unmute" in player.controls.mute_button.toolTip()
    player.controls.volume_slider.setValue(30)
    assert player.volume() == 30
    player.toggle_mute()
    assert not player.is_muted()


def test_mute_with_audio_output(qtbot: Any) -> None:
    # No media is loaded: mute and volume belong to the QAudioOutput, so they are checked
    # without playback (closing a playing preview is tests/test_desktop_preview_release.py's:
    # QMediaPlayer.stop() holding the GIL once deadlocked with the FFmpeg backend's threads).
    widget = VideoPlayer(audio=True)
    qtbot.addWidget(widget)
    widget.show()
    try:
        assert widget.audio_output is not None and not widget.audio_output.isMuted()
        widget.toggle_mute()
        assert widget.audio_output.isMuted()
        widget.set_volume(0)
        assert widget.audio_output.volume() == 0
        widget.toggle_mute()
        assert not widget.audio_output.isMuted()
    finally:
        widget.release()


def test_fullscreen_toggle(player: VideoPlayer) -> None:
    player.toggle_fullscreen()
    assert player.is_fullscreen()
    player.toggle_fullscreen()
    assert not player.is_fullscreen()


def test_double_click_toggles_fullscreen(qtbot: Any, player: VideoPlayer) -> None:
    qtbot.mouseDClick(player.video_widget(), Qt.MouseButton.LeftButton)
    assert player.is_fullscreen()
    qtbot.mouseDClick(player.video_widget(), Qt.MouseButton.LeftButton)
    assert not player.is_fullscreen()


def test_missing_file_shows_error(qtbot: Any, player: VideoPlayer, tmp_path: Path) -> None:
    player.load(str(tmp_path / "missing.mp4"))
    wait_for(qtbot, lambda: player.error_text() != "", timeout=WAIT)


def test_plays_over_http_with_ranges(qtbot: Any, player: VideoPlayer, http_base: str) -> None:
    _RangeHandler.ranges.clear()
    probe = _load_paused(qtbot, player, f"{http_base}/tail.mp4")
    image = probe.image()
    assert (image.width(), image.height()) == (320, 240)
    since = len(probe.times)
    player.player.setPosition(1500)
    probe.wait(qtbot, since, near_us=1_500_000)
    since = len(probe.times)
    player.player.play()
    probe.wait(qtbot, since)
    starts = [int(r.split("=")[1].split("-")[0] or 0) for r in _RangeHandler.ranges]
    assert any(start > 0 for start in starts), _RangeHandler.ranges  # it jumped to the moov
    assert player.error_text() == ""


def test_format_time() -> None:
    assert format_time(0) == "0:00"
    assert format_time(61_500) == "1:01"
    assert format_time(3_726_000) == "1:02:06"


# -- image viewer -------------------------------------------------------------------------------
def _viewer(qtbot: Any, source: str) -> ImageViewer:
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    viewer.resize(500, 400)
    viewer.show()
    with qtbot.waitSignal(viewer.loaded, timeout=WAIT):
        viewer.load(source)
    return viewer


def test_image_exif_orientation_applied(qtbot: Any, files: dict) -> None:
    viewer = _viewer(qtbot, str(files["rotated"]))
    pixmap = viewer.pixmap()
    assert (pixmap.width(), pixmap.height()) == (480, 640)  # stored 640x480, orientation 6
    # orientation 6 = rotate 90° clockwise: the stored top-left red marker ends top-right
    assert _is_red(viewer.image().pixelColor(470, 5))
    assert viewer.message_text() == ""


def test_image_zoom_and_fit(qtbot: Any, files: dict) -> None:
    viewer = _viewer(qtbot, str(files["jpeg"]))
    assert viewer.is_fit()
    fit = viewer.scale_factor()
    assert 0 < fit < 1  # 640x480 shrunk into the area below the toolbar
    viewer.zoom_in()
    assert viewer.scale_factor() == pytest.approx(fit * 1.25)
    assert not viewer.is_fit()
    viewer.zoom_out()
    viewer.zoom_out()
    assert viewer.scale_factor() == pytest.approx(fit / 1.25)
    viewer.actual_size()
    assert viewer.scale_factor() == pytest.approx(1.0)
    viewer.fit_to_window()
    assert viewer.scale_factor() == pytest.approx(fit)
    viewer.resize(300, 240)
    wait_for(qtbot, lambda: viewer.scale_factor() < fit, timeout=WAIT)  # fit follows resizes


def test_image_ctrl_wheel_and_shortcuts(qtbot: Any, files: dict) -> None:
    viewer = _viewer(qtbot, str(files["jpeg"]))
    fit = viewer.scale_factor()
    viewport = viewer._view.viewport()
    wheel = QWheelEvent(
        QPointF(50, 50),
        QPointF(viewport.mapToGlobal(QPoint(50, 50))),
        QPoint(0, 0),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, wheel)
    assert viewer.scale_factor() == pytest.approx(fit * 1.25)
    viewer.activateWindow()
    viewer.setFocus()
    wait_for(qtbot, viewer.isActiveWindow, timeout=WAIT)
    qtbot.keyClick(viewer, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert viewer.scale_factor() == pytest.approx(1.0)
    qtbot.keyClick(viewer, Qt.Key.Key_F)
    assert viewer.scale_factor() == pytest.approx(fit)


def test_image_over_http(qtbot: Any, http_base: str) -> None:
    viewer = _viewer(qtbot, f"{http_base}/rotated.jpg")
    assert (viewer.pixmap().width(), viewer.pixmap().height()) == (480, 640)


def test_image_failure_is_shown(qtbot: Any, tmp_path: Path, http_base: str) -> None:
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not an image")
    viewer = ImageViewer()
    qtbot.addWidget(viewer)
    with qtbot.waitSignal(viewer.failed, timeout=WAIT):
        viewer.load(str(bad))
    assert "could not be opened" in viewer.message_text()
    with qtbot.waitSignal(viewer.failed, timeout=WAIT):
        viewer.load(f"{http_base}/nothing.jpg")
    assert "no longer exists" in viewer.message_text()  # a 404: the file is gone


# -- dialog -------------------------------------------------------------------------------------
def test_dialog_shows_image_viewer(qtbot: Any, files: dict) -> None:
    record = make_record("image", "Sprint start.jpg")
    dialog = preview.open_preview(None, record, str(files["rotated"]))
    assert isinstance(dialog, PreviewDialog)
    assert dialog.isVisible() and not dialog.isModal()
    assert dialog.windowTitle() == "Sprint start.jpg"
    assert isinstance(dialog.viewer, ImageViewer)
    assert dialog.width() >= 600 and dialog.height() >= 400
    viewer = dialog.viewer
    wait_for(qtbot, lambda: not viewer.pixmap().isNull(), timeout=WAIT)
    dialog.close()
    wait_for(qtbot, lambda: not shiboken6.isValid(dialog), timeout=WAIT)  # deleted on close
    assert not preview._open_dialogs


def test_dialog_plays_video_and_releases_on_close(qtbot: Any, files: dict) -> None:
    record = make_record("video", "Long jump.mp4", frame_rate=24.0)
    dialog = PreviewDialog(record, str(files["mp4"]), audio=False)
    qtbot.addWidget(dialog)
    dialog.show()
    assert isinstance(dialog.viewer, VideoPlayer)
    assert dialog.viewer.frame_rate() == 24.0
    assert dialog.message_text() == ""
    media_player = dialog.viewer.player
    wait_for(qtbot, lambda: media_player.playbackState() == State.PlayingState, timeout=WAIT)
    dialog.close()
    assert media_player.playbackState() == State.StoppedState
    assert media_player.source().isEmpty()


def test_dialog_escape_leaves_fullscreen_then_closes(qtbot: Any, files: dict) -> None:
    record = make_record("video", "clip.mp4")
    dialog = PreviewDialog(record, str(files["mp4"]), audio=False, autoplay=False)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    wait_for(qtbot, dialog.isActiveWindow, timeout=WAIT)
    qtbot.keyClick(dialog.viewer, Qt.Key.Key_F)
    assert dialog.isFullScreen()
    qtbot.keyClick(dialog.viewer, Qt.Key.Key_Escape)
    assert not dialog.isFullScreen() and dialog.isVisible()
    qtbot.keyClick(dialog.viewer, Qt.Key.Key_Escape)
    assert not dialog.isVisible()
    assert dialog.viewer.player.source().isEmpty()


def test_dialog_without_multimedia(qtbot: Any, files: dict, monkeypatch: Any) -> None:
    monkeypatch.setattr(preview, "multimedia_available", lambda: False)
    dialog = PreviewDialog(make_record("video", "clip.mp4"), str(files["mp4"]))
    qtbot.addWidget(dialog)
    assert isinstance(dialog.viewer, QLabel)
    assert dialog.message_text().startswith(
        "Video preview needs Qt Multimedia, which is not available: "
    )


def test_dialog_unknown_type(qtbot: Any, files: dict) -> None:
    dialog = PreviewDialog(make_record("document", "notes.pdf"), str(files["jpeg"]))
    qtbot.addWidget(dialog)
    assert dialog.message_text() != ""


def test_multimedia_probe() -> None:
    assert preview.multimedia_available() is True
    assert preview.multimedia_unavailable_reason() == ""


def test_multimedia_probe_reports_import_failure(qtbot: Any, monkeypatch: Any, files: dict) -> None:
    monkeypatch.setattr(preview, "_multimedia", None)
    monkeypatch.setitem(sys.modules, "PySide6.QtMultimediaWidgets", None)  # import fails
    assert preview.multimedia_available() is False
    reason = preview.multimedia_unavailable_reason()
    assert "QtMultimediaWidgets" in reason
    dialog = PreviewDialog(make_record("video", "clip.mp4"), str(files["mp4"]))
    qtbot.addWidget(dialog)
    assert dialog.message_text().endswith(reason)
