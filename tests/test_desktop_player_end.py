"""The video player at the end of a clip and with clips under a second, on real media.

Found by an outside tester: every clip went black for 0.3-0.5 s at its end before its last
frame came back; played through, a 3 s clip read "0:02 / 0:03"; a 0.3 s clip read "0:00"
(grid badge, details and the player's total). And stepping with PageDown from a portrait clip
to a landscape one keeps the window the user has, the video fitted inside it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QLoggingCategory, QObject, Qt, QTimer, Slot
from PySide6.QtWidgets import QApplication

from desktop_app.formatting import duration_text
from desktop_app.preview.player_controls import format_time
from tests import media
from tests.media import make_record
from tests.qt_helpers import wait_for

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_LOGGING_RULES", "qt.multimedia*=false;qt.multimedia.*=false")
pytest.importorskip("PySide6.QtMultimedia", reason="Qt Multimedia is not available")

from PySide6.QtMultimedia import QMediaPlayer, QVideoFrame, QVideoSink  # noqa: E402

from desktop_app.preview import open_preview  # noqa: E402
from desktop_app.preview.video_player import VideoPlayer  # noqa: E402

WAIT = 15_000  # ms
FPS = 30
State = QMediaPlayer.PlaybackState
Status = QMediaPlayer.MediaStatus


@pytest.fixture(autouse=True)
def _quiet_multimedia(qapp: QApplication) -> None:
    QLoggingCategory.setFilterRules("qt.multimedia*=false\nqt.multimedia.*=false")


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("player_end")
    return {
        "three": media.make_mp4(d / "three.mp4", seconds=3, size=(320, 240), fps=FPS, audio=False),
        # for the black at the end: its last frame is as far from its keyframe (a keyframe a
        # second) as the 3 s clip's, so it is as slow to decode again, in a third of the play
        "one": media.make_mp4(d / "one.mp4", seconds=1, size=(320, 240), fps=FPS, audio=False),
        "short": media.make_mp4(d / "short.mp4", seconds=0.3, size=(320, 240), fps=FPS),
        "portrait": media.make_mp4(d / "portrait.mp4", seconds=1, size=(180, 320), fps=FPS),
        "landscape": media.make_mp4(d / "landscape.mp4", seconds=1, size=(320, 180), fps=FPS),
    }


@pytest.fixture
def player(qtbot: Any) -> Iterator[VideoPlayer]:
    widget = VideoPlayer(audio=False, frame_rate=FPS, autoplay=True)
    qtbot.addWidget(widget)
    widget.resize(480, 360)
    widget.show()
    yield widget
    widget.release()


class SinkWatch(QObject):
    """What the sink holds, as the screen would show it: after each frame handed to it (once
    the player's own slots ran) and every 5 ms in between."""

    def __init__(self, sink: QVideoSink) -> None:
        super().__init__()
        self.sink = sink
        self.shown: list[bool] = []  # whether a picture was there, from the first one on
        self.ended_at = -1  # index into `shown` where EndOfMedia came
        sink.videoFrameChanged.connect(self._look)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._look)
        self.timer.start(5)

    @Slot()
    @Slot(QVideoFrame)
    def _look(self, *_: object) -> None:
        valid = self.sink.videoFrame().isValid()
        if valid or self.shown:
            self.shown.append(valid)

    def on_status(self, status: QMediaPlayer.MediaStatus) -> None:
        if status == Status.EndOfMedia:
            self.ended_at = len(self.shown)


# consecutive 5-ms looks: under one frame at 50 fps
MAX_BLACK_LOOKS = 3


def _longest_run(indexes: list[int]) -> int:
    longest = run = 0
    for i, index in enumerate(indexes):
        run = run + 1 if i and index == indexes[i - 1] + 1 else 1
        longest = max(longest, run)
    return longest


def _play_to_the_end(qtbot: Any, player: VideoPlayer, clip: Path) -> SinkWatch:
    watch = SinkWatch(player.video_sink())
    player.player.mediaStatusChanged.connect(watch.on_status)
    player.load(str(clip))
    wait_for(qtbot, lambda: watch.ended_at >= 0, timeout=WAIT)
    # held: paused at its last frame, which the seek there has delivered again
    wait_for(qtbot, lambda: player.player.playbackState() == State.PausedState, timeout=WAIT)
    qtbot.wait(700)  # longer than the black lasted (0.3-0.5 s)
    watch.timer.stop()
    return watch


def test_a_clip_played_to_its_end_never_goes_black(
    qtbot: Any, player: VideoPlayer, clips: dict[str, Path]
) -> None:
    """At its end Qt hands the sink an empty frame; the picture was black until the last frame,
    decoded again from its keyframe, came back. The last frame is put back at once."""
    watch = _play_to_the_end(qtbot, player, clips["one"])
    assert watch.shown and watch.ended_at > 0
    blacks = [i for i, valid in enumerate(watch.shown) if not valid]
    # The empty frame may be handed over from Qt's render thread, and the player's slot that
    # puts the last frame back then runs queued on this one: on a loaded machine a 5-ms look
    # can fall between (seen once in a full run). What a person would see is a black of
    # several samples in a row (the bug: 60-100, 0.3-0.5 s); under a frame's time is not.
    assert _longest_run(blacks) <= MAX_BLACK_LOOKS, (
        f"black {len(blacks)} of {len(watch.shown)} times (end at {watch.ended_at}): {blacks}"
    )
    assert player.video_sink().videoFrame().isValid()
    picture = player.video_sink().videoFrame().toImage()
    corner = picture.pixelColor(5, 5)  # the clip's red marker, not black
    assert corner.red() > 180 and corner.green() < 90, corner.name()
    # The moment itself, without a race against the render thread: the empty frame Qt hands
    # the sink at the end leaves the last picture there (offscreen the seek's decode is quick,
    # so the looks above see that black only briefly when it is not put back)
    player.video_sink().setVideoFrame(QVideoFrame())
    assert player.video_sink().videoFrame().isValid(), "the empty end frame blanked the picture"


def test_a_clip_played_to_its_end_reads_its_whole_length(
    qtbot: Any, player: VideoPlayer, clips: dict[str, Path]
) -> None:
    """Held one frame before its end, a 3 s clip read "0:02 / 0:03"."""
    _play_to_the_end(qtbot, player, clips["three"])
    controls = player.controls
    assert controls.total_label.text() == "0:03"
    assert controls.elapsed_label.text() == "0:03"
    assert controls.seek_slider.value() == controls.seek_slider.maximum()
    # stepping back a frame from there shows that frame's time again
    player.step_backward()
    wait_for(qtbot, lambda: controls.elapsed_label.text() == "0:02", timeout=WAIT)
    assert controls.seek_slider.value() < controls.seek_slider.maximum()


def test_a_seek_past_the_end_holds_the_end(
    qtbot: Any, player: VideoPlayer, clips: dict[str, Path]
) -> None:
    """→ (5 s on) at the end of a 4 s clip, or from its middle, read "0:03 / 0:04": the seek
    went to a millisecond before the end and the time went back. Past the end is the end."""
    _play_to_the_end(qtbot, player, clips["one"])
    controls = player.controls
    assert controls.elapsed_label.text() == "0:01"
    player.seek_by(5000)
    qtbot.wait(300)  # the seek's frame and position come
    assert controls.elapsed_label.text() == "0:01"  # not "0:00", a millisecond before the end
    assert controls.seek_slider.value() == controls.seek_slider.maximum()
    player.seek_by(-500)
    wait_for(qtbot, lambda: controls.elapsed_label.text() == "0:00", timeout=WAIT)
    player.seek_by(5000)  # paused in the middle: to the end, held there
    wait_for(qtbot, lambda: controls.elapsed_label.text() == "0:01", timeout=WAIT)
    qtbot.wait(300)
    assert controls.elapsed_label.text() == "0:01"
    assert player.player.playbackState() == State.PausedState


def test_lengths_under_a_second_do_not_read_zero() -> None:
    """One rule for every length shown (grid badge, details, the player's total): to the nearest
    second, and anything longer than nothing at least 0:01."""
    assert duration_text(0.3) == "0:01"
    assert duration_text(0.001) == "0:01"
    assert duration_text(0) == "0:00"
    assert duration_text(None) == ""
    assert duration_text(2.4) == "0:02"
    assert duration_text(2.6) == "0:03"
    assert duration_text(3726) == "1:02:06"
    # a position counts whole seconds played, as players count
    assert format_time(300) == "0:00"
    assert format_time(61_500) == "1:01"


def test_a_short_clip_shows_its_length_in_the_player(
    qtbot: Any, player: VideoPlayer, clips: dict[str, Path]
) -> None:
    """A real 0.3 s clip: the total read "0:00"; played through, it reads 0:01 / 0:01."""
    _play_to_the_end(qtbot, player, clips["short"])
    assert 0 < player.player.duration() < 1000
    assert player.controls.total_label.text() == "0:01"
    assert player.controls.elapsed_label.text() == "0:01"


def test_stepping_to_a_landscape_clip_fits_it_in_the_window_the_user_has(
    qtbot: Any, clips: dict[str, Path]
) -> None:
    """PageDown from a portrait clip keeps the window where and as large as the user had it;
    the landscape video fills its width, its aspect kept (the bars above and below are the
    window's shape, not a video left at the first file's size)."""
    records = [
        make_record("video", "portrait.mp4", id=1, width=180, height=320, frame_rate=FPS),
        make_record("video", "landscape.mp4", id=2, width=320, height=180, frame_rate=FPS),
    ]
    sources = {1: clips["portrait"], 2: clips["landscape"]}
    opened: list[Any] = []

    def step(record: Any, delta: int) -> bool:
        target = next((r for r in records if r.id == record.id + delta), None)
        if target is None:
            return False
        opened.append(open_preview(None, target, str(sources[target.id]), step=step))
        return True

    first = open_preview(None, records[0], str(sources[1]), step=step)
    try:
        qtbot.waitExposed(first)
        first.resize(400, 700)  # the user's window, shaped for the portrait clip
        wait_for(qtbot, lambda: first.size().width() == 400)
        geometry = first.geometry()
        first.next_action.trigger()
        wait_for(qtbot, lambda: bool(opened), timeout=WAIT)
        second = opened[0]
        qtbot.waitExposed(second)
        assert second.geometry() == geometry
        player = second.viewer
        assert isinstance(player, VideoPlayer)
        video = player.video_widget()
        wait_for(qtbot, lambda: player.player.duration() > 0, timeout=WAIT)
        assert video.aspectRatioMode() == Qt.AspectRatioMode.KeepAspectRatio
        # the video area is the whole window above the control bar: a 320x180 picture fitted
        # in it is as wide as the window
        assert video.width() == second.width()
        assert video.height() >= second.height() - player.controls.height() - 8
    finally:
        for dialog in [first, *opened]:
            if shiboken6.isValid(dialog):  # the first closed itself on the step
                dialog.close()
